//! Monthly availability of a cloud service (R5, Annexe 2 I.A and II.A).
//!
//! Rate = (M − U) / M × 100, where M is the number of minutes of the calendar
//! month in Europe/Paris (44 580 in March, 44 700 in October) and U the
//! unavailable minutes. An episode of loss (connectivity, VM storage, vCenter
//! or NSX Manager; the last two only when they impact the service) qualifies
//! when its whole duration is at least 240 s, even when it crosses a month
//! boundary. Qualifying episodes are merged; U counts the minute slots of the
//! month they touch, [floor(start), ceil(end)), less the slots that an
//! excluded window covers entirely (properly notified maintenance, PRA tests,
//! force majeure... R5.3). Excluded episodes keep their reason.
//!
//! The rate is never rounded before comparison: "lower <= rate < upper" is
//! evaluated as (M − U) × 100 >= lower × M on exact integers and decimals.
//!
//! Cost: O(n log n) in the number of episodes (one sort, one sweep).

use ciel_terms::{EpisodeKind, ExclusionReason, Offer, PenaltyClass, RateTier};
use jiff::{Timestamp, ToSpan};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, num, num_dp},
    invalid,
};

/// One episode of loss reported by monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    #[serde(default)]
    pub id: String,
    pub kind: EpisodeKind,
    pub start: Timestamp,
    pub end: Timestamp,
    /// For vCenter and NSX Manager: whether it impacted the service.
    #[serde(default = "yes")]
    pub impacts_service: bool,
    /// Where the episode comes from (probe, ticket...), kept on the statement.
    #[serde(default)]
    pub source: String,
    /// Set when the cause is excluded by R5.3 (client fault, force majeure...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion: Option<ExclusionReason>,
}

fn yes() -> bool {
    true
}

/// A window excluded from counting, with the evidence of its notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(default)]
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub reason: ExclusionReason,
    /// Send time of the notice email (maintenance, R4.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<Timestamp>,
    #[serde(default)]
    pub source: String,
}

/// What happened to one episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum EpisodeStatus {
    Counted,
    TooShort,
    NoServiceImpact,
    KindNotCounted,
    Excluded(ExclusionReason),
    /// Qualifying, but every minute of it lies in an excluded window.
    WithinExcludedWindow,
    OutsideMonth,
    EmptyOrReversed,
}

impl EpisodeStatus {
    /// What happened to the episode, in words.
    pub fn label(self, lang: Lang) -> String {
        match (self, lang) {
            (EpisodeStatus::Counted, Lang::Fr) => "compté".into(),
            (EpisodeStatus::Counted, Lang::En) => "counted".into(),
            (EpisodeStatus::TooShort, Lang::Fr) => "moins de 4 minutes consécutives".into(),
            (EpisodeStatus::TooShort, Lang::En) => "shorter than 4 consecutive minutes".into(),
            (EpisodeStatus::NoServiceImpact, Lang::Fr) => "sans impact sur le service".into(),
            (EpisodeStatus::NoServiceImpact, Lang::En) => "no impact on the service".into(),
            (EpisodeStatus::KindNotCounted, Lang::Fr) => "type d'épisode non retenu".into(),
            (EpisodeStatus::KindNotCounted, Lang::En) => "kind not counted".into(),
            (EpisodeStatus::Excluded(r), Lang::Fr) => format!("exclu : {}", reason_fr(r)),
            (EpisodeStatus::Excluded(r), Lang::En) => format!("excluded: {}", reason_en(r)),
            (EpisodeStatus::WithinExcludedWindow, Lang::Fr) => {
                "entièrement dans une fenêtre exclue".into()
            }
            (EpisodeStatus::WithinExcludedWindow, Lang::En) => {
                "entirely within an excluded window".into()
            }
            (EpisodeStatus::OutsideMonth, Lang::Fr) => "hors du mois".into(),
            (EpisodeStatus::OutsideMonth, Lang::En) => "outside the month".into(),
            (EpisodeStatus::EmptyOrReversed, Lang::Fr) => "fin avant le début".into(),
            (EpisodeStatus::EmptyOrReversed, Lang::En) => "ends before it starts".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeOutcome {
    pub index: u32,
    #[serde(flatten)]
    pub status: EpisodeStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowOutcome {
    pub index: u32,
    pub excluded: bool,
    pub reason: ExclusionReason,
}

/// The tier a rate fell in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierHit {
    pub lower: Option<Decimal>,
    pub upper: Decimal,
    pub penalty_percent: Decimal,
}

/// Availability of one service-month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityResult {
    pub month: String,
    pub offer: Offer,
    pub month_minutes: i64,
    /// Unavailable time counted, in minutes (slots of 60 s).
    pub unavailable_minutes: i64,
    /// Minutes of qualifying downtime removed because an excluded window covered them.
    pub excluded_minutes: i64,
    /// Exact rate (28 significant digits); compare with the tiers, not this.
    pub rate_percent: Decimal,
    /// Rate shown with 4 decimals.
    pub rate_display: String,
    pub guaranteed_percent: Decimal,
    pub met: bool,
    pub penalty_class: Option<String>,
    pub tier: Option<TierHit>,
    pub penalty_percent: Decimal,
    pub episodes: Vec<EpisodeOutcome>,
    pub windows: Vec<WindowOutcome>,
}

/// Instants bounding a calendar month in a zone, and its length in seconds.
pub fn month_bounds(
    tz: &jiff::tz::TimeZone,
    year: i16,
    month: i8,
) -> Result<(Timestamp, Timestamp), EngineError> {
    let first = jiff::civil::Date::new(year, month, 1)
        .map_err(|e| invalid(format!("month {year}-{month}: {e}")))?;
    let next = first
        .checked_add(1.month())
        .map_err(|e| invalid(e.to_string()))?;
    let a = tz
        .to_timestamp(first.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|e| invalid(e.to_string()))?;
    let b = tz
        .to_timestamp(next.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|e| invalid(e.to_string()))?;
    Ok((a, b))
}

pub(crate) fn floor_s(t: Timestamp) -> i64 {
    t.as_nanosecond().div_euclid(1_000_000_000) as i64
}
pub(crate) fn ceil_s(t: Timestamp) -> i64 {
    let n = t.as_nanosecond();
    (n.div_euclid(1_000_000_000) + i128::from(n.rem_euclid(1_000_000_000) != 0)) as i64
}

/// An instant as local wall-clock time with its offset: "2026-04-22 02:00:00+02:00".
pub(crate) fn local(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S%:z")
        .to_string()
}

pub(crate) fn ceil_to(x: i64, slot: i64) -> i64 {
    (x + slot - 1).div_euclid(slot) * slot
}

/// The slots an episode touches, [floor(start), ceil(end)), within [ms, me)
/// (seconds; empty when `a >= b`).
pub(crate) fn touched_slots(
    start: Timestamp,
    end: Timestamp,
    slot: i64,
    ms: i64,
    me: i64,
) -> (i64, i64) {
    let a = floor_s(start).div_euclid(slot) * slot;
    (a.max(ms), ceil_to(ceil_s(end), slot).min(me))
}

/// The slots a window covers entirely, [ceil(start), floor(end)), within [ms, me).
pub(crate) fn covered_slots(
    start: Timestamp,
    end: Timestamp,
    slot: i64,
    ms: i64,
    me: i64,
) -> (i64, i64) {
    let a = ceil_to(ceil_s(start), slot);
    let b = floor_s(end).div_euclid(slot) * slot;
    (a.max(ms), b.min(me))
}

/// Sort and merge half-open intervals (touching ones merge too).
pub(crate) fn merge(v: &mut Vec<(i64, i64)>) {
    v.sort_unstable();
    let mut w = 0usize;
    for r in 0..v.len() {
        let (a, b) = v[r];
        if w > 0 && a <= v[w - 1].1 {
            if b > v[w - 1].1 {
                v[w - 1].1 = b;
            }
        } else {
            v[w] = (a, b);
            w += 1;
        }
    }
    v.truncate(w);
}

/// Total length of the intersection of two sorted, merged interval lists.
pub(crate) fn overlap(a: &[(i64, i64)], b: &[(i64, i64)]) -> i64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s < e {
            total += e - s;
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    total
}

/// Whether `rate = num/den × 100` satisfies lower <= rate (exactly).
fn rate_at_least(avail: i64, total: i64, bound: Decimal) -> bool {
    Decimal::from(avail) * Decimal::ONE_HUNDRED >= bound * Decimal::from(total)
}

/// The penalty tier of an exact rate `available / total × 100` in a class:
/// `lower <= rate < upper`, compared by cross-multiplication (never rounded);
/// `None` when the rate reaches the guaranteed rate.
pub fn penalty_tier(class: &PenaltyClass, available: i64, total: i64) -> Option<&RateTier> {
    if total <= 0 || rate_at_least(available, total, class.guaranteed_percent.0) {
        return None;
    }
    class.tiers.iter().find(|tr| {
        let above_lower = tr
            .lower
            .is_none_or(|l| rate_at_least(available, total, l.0));
        let below_upper = !rate_at_least(available, total, tr.upper.0);
        above_lower && below_upper
    })
}

/// An R5.3 reason in words (the statement's and the back office's label).
pub fn exclusion_label(r: ExclusionReason, lang: crate::explain::Lang) -> &'static str {
    match lang {
        crate::explain::Lang::Fr => reason_fr(r),
        crate::explain::Lang::En => reason_en(r),
    }
}

pub(crate) fn reason_fr(r: ExclusionReason) -> &'static str {
    use ExclusionReason::*;
    match r {
        NotifiedMaintenance => "travaux programmés notifiés",
        UrgentSecurityMaintenance => "maintenance urgente de sécurité",
        PraTest => "test de PRA",
        ClientChange => "modification demandée par le client",
        ClientFault => "manquement ou fait du client",
        ClientApplication => "applicatifs du client",
        ForceMajeure => "force majeure",
        ThirdParty => "tiers (hors fournisseurs)",
        NotProviderElement => "élément non installé ou exploité par le prestataire",
        RegulatoryChange => "prescription réglementaire",
    }
}

pub(crate) fn reason_en(r: ExclusionReason) -> &'static str {
    use ExclusionReason::*;
    match r {
        NotifiedMaintenance => "notified scheduled works",
        UrgentSecurityMaintenance => "urgent security maintenance",
        PraTest => "PRA test",
        ClientChange => "change requested by the client",
        ClientFault => "client's fault or breach",
        ClientApplication => "client's applications",
        ForceMajeure => "force majeure",
        ThirdParty => "third party (not a supplier)",
        NotProviderElement => "element not installed or run by the provider",
        RegulatoryChange => "regulatory requirement",
    }
}

impl Engine {
    /// Whether a window is excluded from counting, with the reason in French
    /// and English. Maintenance counts as excluded only when notified at
    /// least `maintenance.notice_days` calendar days before its start (R4.6).
    pub fn window_exclusion(&self, w: &Window) -> (bool, String, String) {
        let t = &self.terms;
        match w.reason {
            ExclusionReason::NotifiedMaintenance => {
                let days = t.maintenance.notice_days;
                let latest = w
                    .start
                    .to_zoned(self.month_tz.clone())
                    .checked_sub(i64::from(days).days())
                    .map(|z| z.timestamp());
                match (w.notified_at, latest) {
                    (Some(n), Ok(latest)) if n <= latest => (
                        true,
                        format!(
                            "notifiés le {}, au moins {days} jours avant le début : exclus",
                            local(n, &self.month_tz)
                        ),
                        format!(
                            "notified on {}, at least {days} days before the start: excluded",
                            local(n, &self.month_tz)
                        ),
                    ),
                    (Some(n), _) => (
                        false,
                        format!(
                            "notifiés le {}, moins de {days} jours avant le début : non exclus",
                            local(n, &self.month_tz)
                        ),
                        format!(
                            "notified on {}, less than {days} days before the start: not excluded",
                            local(n, &self.month_tz)
                        ),
                    ),
                    (None, _) => (
                        false,
                        "sans notification : non exclus".to_string(),
                        "never notified: not excluded".to_string(),
                    ),
                }
            }
            ExclusionReason::UrgentSecurityMaintenance => {
                let ex = t.maintenance.urgent_security_excluded;
                (
                    ex,
                    format!(
                        "maintenance urgente de sécurité : {}",
                        if ex { "exclue" } else { "non exclue" }
                    ),
                    format!(
                        "urgent security maintenance: {}",
                        if ex { "excluded" } else { "not excluded" }
                    ),
                )
            }
            r => {
                let ex = t.availability.exclusion_reasons.value.contains(&r);
                (
                    ex,
                    format!(
                        "{} : {}",
                        reason_fr(r),
                        if ex { "exclu" } else { "non exclu" }
                    ),
                    format!(
                        "{}: {}",
                        reason_en(r),
                        if ex { "excluded" } else { "not excluded" }
                    ),
                )
            }
        }
    }

    /// Availability and penalty tier of one service-month (R5.1-R5.5).
    pub fn availability(
        &self,
        offer: Offer,
        year: i16,
        month: i8,
        episodes: &[Episode],
        windows: &[Window],
    ) -> Result<Explained<AvailabilityResult>, EngineError> {
        let t = &self.terms;
        let q = &t.availability.qualification;
        let sla = t
            .availability
            .offers
            .get(&offer)
            .ok_or_else(|| EngineError::Terms(format!("no offer {offer:?}")))?;
        let (ms, me) = month_bounds(&self.month_tz, year, month)?;
        let (ms, me) = (floor_s(ms), floor_s(me));
        let total_secs = me - ms;
        let month_minutes = total_secs / 60;
        let slot = i64::from(q.slot_seconds.max(1));
        let min_len = i128::from(q.min_episode_seconds) * 1_000_000_000;
        let mut ex = Explanation::default();
        let label = format!("{year:04}-{month:02}");
        ex.push(
            Step::new(
                &t.availability.month_zone.rule,
                &t.availability.month_zone.clause,
            )
            .input("month", &label)
            .input("zone", &t.availability.month_zone.value)
            .outcome(format!("M={month_minutes}"))
            .text(
                format!(
                    "mois {label} en {} : M = {month_minutes} minutes",
                    t.availability.month_zone.value
                ),
                format!(
                    "month {label} in {}: M = {month_minutes} minutes",
                    t.availability.month_zone.value
                ),
            ),
        );

        let mut outcomes = Vec::with_capacity(episodes.len());
        let mut iv: Vec<(i64, i64)> = Vec::with_capacity(episodes.len());
        let mut spans: Vec<(u32, i64, i64)> = Vec::with_capacity(episodes.len());
        let (mut counted, mut short, mut no_impact, mut excluded_n, mut outside, mut other) =
            (0, 0, 0, 0, 0, 0);
        let mut excluded_by_reason: std::collections::BTreeMap<ExclusionReason, u32> =
            Default::default();
        for (i, e) in episodes.iter().enumerate() {
            let len = e.end.as_nanosecond() - e.start.as_nanosecond();
            let status = if len <= 0 {
                other += 1;
                EpisodeStatus::EmptyOrReversed
            } else if !q.kinds.contains(&e.kind) {
                other += 1;
                EpisodeStatus::KindNotCounted
            } else if q.require_service_impact.contains(&e.kind) && !e.impacts_service {
                no_impact += 1;
                EpisodeStatus::NoServiceImpact
            } else if len < min_len {
                short += 1;
                EpisodeStatus::TooShort
            } else if let Some(r) = e.exclusion {
                excluded_n += 1;
                *excluded_by_reason.entry(r).or_default() += 1;
                EpisodeStatus::Excluded(r)
            } else {
                let (a, b) = touched_slots(e.start, e.end, slot, ms, me);
                if a < b {
                    iv.push((a, b));
                    spans.push((i as u32, a, b));
                    counted += 1;
                    EpisodeStatus::Counted
                } else {
                    outside += 1;
                    EpisodeStatus::OutsideMonth
                }
            };
            outcomes.push(EpisodeOutcome {
                index: i as u32,
                status,
            });
        }
        merge(&mut iv);
        let downtime_secs: i64 = iv.iter().map(|(a, b)| b - a).sum();
        ex.push(
            Step::new(&q.rule, &q.clause)
                .input("episodes", episodes.len())
                .input("min_seconds", q.min_episode_seconds)
                .outcome(format!("counted={counted} merged={} minutes={}", iv.len(), downtime_secs / 60))
                .text(
                    format!(
                        "{} épisode(s) : {counted} retenu(s) (≥ {} s), {short} trop court(s), {no_impact} sans impact sur le service, {excluded_n} exclu(s), {outside} hors du mois, {other} autre(s) ; fusionnés en {} intervalle(s) couvrant {} minute(s) [plancher(début), plafond(fin)[",
                        episodes.len(), q.min_episode_seconds, iv.len(), downtime_secs / 60
                    ),
                    format!(
                        "{} episode(s): {counted} qualifying (≥ {} s), {short} too short, {no_impact} without service impact, {excluded_n} excluded, {outside} outside the month, {other} other; merged into {} interval(s) covering {} minute(s) [floor(start), ceil(end))",
                        episodes.len(), q.min_episode_seconds, iv.len(), downtime_secs / 60
                    ),
                ),
        );
        let ex_reasons = &t.availability.exclusion_reasons;
        for (r, n) in &excluded_by_reason {
            ex.push(
                Step::new(&ex_reasons.rule, &ex_reasons.clause)
                    .input("reason", reason_en(*r))
                    .input("episodes", n)
                    .outcome(format!("excluded_episodes={n}"))
                    .text(
                        format!("{n} épisode(s) exclu(s) : {}", reason_fr(*r)),
                        format!("{n} episode(s) excluded: {}", reason_en(*r)),
                    ),
            );
        }

        let mut wv: Vec<(i64, i64)> = Vec::with_capacity(windows.len());
        let mut wouts = Vec::with_capacity(windows.len());
        for (i, w) in windows.iter().enumerate() {
            let (excluded, fr, en) = self.window_exclusion(w);
            let (rule, clause) = match w.reason {
                ExclusionReason::NotifiedMaintenance
                | ExclusionReason::UrgentSecurityMaintenance => {
                    (t.maintenance.rule.as_str(), t.maintenance.clause.as_str())
                }
                _ => (ex_reasons.rule.as_str(), ex_reasons.clause.as_str()),
            };
            let name = if w.id.is_empty() {
                format!("#{i}")
            } else {
                w.id.clone()
            };
            let (ls, le) = (local(w.start, &self.month_tz), local(w.end, &self.month_tz));
            ex.push(
                Step::new(rule, clause)
                    .input("window", &name)
                    .input("start", w.start)
                    .input("end", w.end)
                    .outcome(format!("excluded={excluded}"))
                    .text(
                        format!("fenêtre {name} ({ls} → {le}) : {fr}"),
                        format!("window {name} ({ls} → {le}): {en}"),
                    ),
            );
            if excluded {
                let (a, b) = covered_slots(w.start, w.end, slot, ms, me);
                if a < b {
                    wv.push((a, b));
                }
            }
            wouts.push(WindowOutcome {
                index: i as u32,
                excluded,
                reason: w.reason,
            });
        }
        merge(&mut wv);
        if !wv.is_empty() {
            // R5.3: an episode whose every minute an excluded window covers is
            // shown as excluded with the window, not as counted.
            for (i, a, b) in &spans {
                let k = wv.partition_point(|w| w.1 < *b);
                if k < wv.len() && wv[k].0 <= *a && *b <= wv[k].1 {
                    outcomes[*i as usize].status = EpisodeStatus::WithinExcludedWindow;
                }
            }
        }
        let excluded_secs = overlap(&iv, &wv);
        let u_secs = downtime_secs - excluded_secs;
        let unavailable_minutes = u_secs / 60;
        if !windows.is_empty() {
            ex.push(
                Step::new(&q.rule, &q.clause)
                    .input("excluded_minutes", excluded_secs / 60)
                    .outcome(format!("U={unavailable_minutes}"))
                    .text(
                        format!("{} minute(s) couvertes entièrement par des fenêtres exclues retirées → U = {unavailable_minutes}", excluded_secs / 60),
                        format!("{} minute(s) entirely covered by excluded windows removed → U = {unavailable_minutes}", excluded_secs / 60),
                    ),
            );
        }
        let avail = total_secs - u_secs;
        let rate = if total_secs > 0 {
            Decimal::from(avail) * Decimal::ONE_HUNDRED / Decimal::from(total_secs)
        } else {
            Decimal::ONE_HUNDRED
        };
        let rate_fr = num_dp(rate, 4, Lang::Fr);
        let rate_en = num_dp(rate, 4, Lang::En);
        ex.push(
            Step::new(&t.availability.month_zone.rule, "A2 I.A.1")
                .input("M", month_minutes)
                .input("U", unavailable_minutes)
                .outcome(format!("rate={rate_en}"))
                .text(
                    format!("taux = (M − U) / M × 100 = ({month_minutes} − {unavailable_minutes}) / {month_minutes} × 100 = {rate_fr} %"),
                    format!("rate = (M − U) / M × 100 = ({month_minutes} − {unavailable_minutes}) / {month_minutes} × 100 = {rate_en} %"),
                ),
        );
        let g = sla.guaranteed_percent.0;
        let met = rate_at_least(avail, total_secs, g);
        ex.push(
            Step::new(&sla.rule, &sla.clause)
                .input("offer", format!("{offer:?}"))
                .input("guaranteed", g)
                .outcome(format!("met={met}"))
                .text(
                    format!(
                        "taux garanti {} % : {}",
                        num_dp(g, 2, Lang::Fr),
                        if met { "respecté" } else { "non respecté" }
                    ),
                    format!(
                        "guaranteed rate {} %: {}",
                        num_dp(g, 2, Lang::En),
                        if met { "met" } else { "missed" }
                    ),
                ),
        );
        let mut tier = None;
        let mut penalty = Decimal::ZERO;
        match sla
            .penalty_class
            .as_ref()
            .and_then(|c| t.availability.penalty_classes.get(c).map(|p| (c, p)))
        {
            None => ex.push(
                Step::new("R5.5", "A2 II.A")
                    .input("offer", format!("{offer:?}"))
                    .outcome("penalty_percent=0")
                    .text(
                        "offre sans barème de pénalité de disponibilité : taux rapporté seulement",
                        "offer without an availability penalty table: rate reported only",
                    ),
            ),
            Some((_, class)) if !met => {
                if let Some(tr) = penalty_tier(class, avail, total_secs) {
                    penalty = tr.penalty_percent.0;
                    let lower_fr = tr
                        .lower
                        .map_or("0".to_string(), |l| num_dp(l.0, 2, Lang::Fr));
                    let lower_en = tr
                        .lower
                        .map_or("0".to_string(), |l| num_dp(l.0, 2, Lang::En));
                    ex.push(
                        Step::new(&class.rule, &class.clause)
                            .input("rate", &rate_en)
                            .input("tier", format!("[{lower_en}, {})", tr.upper))
                            .outcome(format!("penalty_percent={}", penalty))
                            .text(
                                format!(
                                    "taux {rate_fr} % dans [{lower_fr} ; {}[ → pénalité {} %",
                                    num_dp(tr.upper.0, 2, Lang::Fr),
                                    num(penalty, Lang::Fr)
                                ),
                                format!(
                                    "rate {rate_en} % in [{lower_en}, {}) → penalty {} %",
                                    num_dp(tr.upper.0, 2, Lang::En),
                                    num(penalty, Lang::En)
                                ),
                            ),
                    );
                    tier = Some(TierHit {
                        lower: tr.lower.map(|l| l.0),
                        upper: tr.upper.0,
                        penalty_percent: penalty,
                    });
                }
            }
            Some((_, class)) => ex.push(
                Step::new(&class.rule, &class.clause)
                    .input("rate", &rate_en)
                    .outcome("penalty_percent=0")
                    .text(
                        format!(
                            "taux {rate_fr} % ≥ {} % → aucune pénalité",
                            num_dp(g, 2, Lang::Fr)
                        ),
                        format!(
                            "rate {rate_en} % ≥ {} % → no penalty",
                            num_dp(g, 2, Lang::En)
                        ),
                    ),
            ),
        }
        Ok(Explained {
            value: AvailabilityResult {
                month: label,
                offer,
                month_minutes,
                unavailable_minutes,
                excluded_minutes: excluded_secs / 60,
                rate_percent: rate,
                rate_display: rate_en,
                guaranteed_percent: g,
                met,
                penalty_class: sla.penalty_class.clone(),
                tier,
                penalty_percent: penalty,
                episodes: outcomes,
                windows: wouts,
            },
            explanation: ex,
        })
    }

    /// Yearly availability of a colocation datacenter (R5.6), reported only.
    pub fn colocation_availability(
        &self,
        datacenter: &str,
        year: i16,
        unavailable_minutes: i64,
    ) -> Result<Explained<ColocationAvailability>, EngineError> {
        let c = &self.terms.availability.colocation;
        let g = c
            .datacenters
            .get(datacenter)
            .ok_or_else(|| invalid(format!("unknown datacenter {datacenter:?}")))?
            .0;
        let (a, _) = month_bounds(&self.month_tz, year, 1)?;
        let (b, _) = month_bounds(&self.month_tz, year + 1, 1)?;
        let total = (floor_s(b) - floor_s(a)) / 60;
        if unavailable_minutes < 0 || unavailable_minutes > total {
            return Err(invalid("unavailable minutes out of the year"));
        }
        let rate = Decimal::from(total - unavailable_minutes) * Decimal::ONE_HUNDRED
            / Decimal::from(total);
        let met = Decimal::from(total - unavailable_minutes) * Decimal::ONE_HUNDRED
            >= g * Decimal::from(total);
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&c.rule, &c.clause)
                .input("datacenter", datacenter)
                .input("year", year)
                .input("U", unavailable_minutes)
                .outcome(format!("rate={} met={met}", num_dp(rate, 4, Lang::En)))
                .text(
                    format!("{datacenter} {year} : ({total} − {unavailable_minutes}) / {total} × 100 = {} % (garanti {} %, sans pénalité)", num_dp(rate, 4, Lang::Fr), num(g, Lang::Fr)),
                    format!("{datacenter} {year}: ({total} − {unavailable_minutes}) / {total} × 100 = {} % (guaranteed {} %, no penalty)", num_dp(rate, 4, Lang::En), num(g, Lang::En)),
                ),
        );
        Ok(Explained {
            value: ColocationAvailability {
                datacenter: datacenter.to_string(),
                year,
                year_minutes: total,
                rate_percent: rate,
                guaranteed_percent: g,
                met,
            },
            explanation: ex,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColocationAvailability {
    pub datacenter: String,
    pub year: i16,
    pub year_minutes: i64,
    pub rate_percent: Decimal,
    pub guaranteed_percent: Decimal,
    pub met: bool,
}
