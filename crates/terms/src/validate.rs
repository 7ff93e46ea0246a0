//! Semantic validation of a parsed terms document.
//!
//! Parsing already rejects unknown keys, wrong types and negative durations
//! (durations are unsigned integers). Here we check what types cannot say:
//! tiers that overlap or leave a gap, a priority matrix or target table with
//! holes, references to calendars or penalty classes that do not exist,
//! percentages outside 0-100, and provenance (`clause`, `rule`) on every
//! section. Every error carries the dotted path of the key at fault.

use ciel_calendar::{CalendarSpec, ServiceCalendar, load_tz};
use rust_decimal::Decimal;

use crate::{TermsError, model::*};

struct V {
    errs: Vec<TermsError>,
}

impl V {
    fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.errs.push(TermsError {
            path: path.into(),
            message: msg.into(),
        });
    }
    fn percent(&mut self, path: impl Into<String>, d: Decimal) {
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            self.err(path, format!("{d} is not a percentage between 0 and 100"));
        }
    }
}

/// Check a parsed document; all problems are returned, not just the first.
pub fn validate(t: &Terms) -> Result<(), Vec<TermsError>> {
    let mut v = V { errs: Vec::new() };
    provenance(&mut v, t);
    version(&mut v, t);
    billing(&mut v, t);
    termination(&mut v, t);
    support(&mut v, t);
    availability(&mut v, t);
    recovery(&mut v, t);
    limits(&mut v, t);
    if v.errs.is_empty() {
        Ok(())
    } else {
        Err(v.errs)
    }
}

/// Every table carrying `clause` must have a non-empty clause and a rule id
/// of the form R<n>[.<n>...]: a figure without provenance cannot be explained.
fn provenance(v: &mut V, t: &Terms) {
    let value = match serde_json::to_value(t) {
        Ok(x) => x,
        Err(e) => return v.err("", format!("cannot inspect document: {e}")),
    };
    fn walk(v: &mut V, path: &str, x: &serde_json::Value) {
        match x {
            serde_json::Value::Object(m) => {
                if let Some(c) = m.get("clause") {
                    if c.as_str().is_none_or(|s| s.trim().is_empty()) {
                        v.err(
                            format!("{path}.clause"),
                            "clause must name the contract clause, e.g. \"CG 9.3\"",
                        );
                    }
                    match m.get("rule").and_then(|r| r.as_str()) {
                        Some(r) if is_rule_id(r) => {}
                        Some(r) => v.err(
                            format!("{path}.rule"),
                            format!("{r:?} is not a rule id like \"R5.5\""),
                        ),
                        None => v.err(format!("{path}.rule"), "missing rule id"),
                    }
                }
                for (k, x) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, x);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), x);
                }
            }
            _ => {}
        }
    }
    walk(v, "", &value);
}

fn is_rule_id(r: &str) -> bool {
    let Some(rest) = r.strip_prefix('R') else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn version(v: &mut V, t: &Terms) {
    let id = &t.version.id;
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        v.err(
            "version.id",
            "id must be non-empty ASCII letters, digits, '-', '.', '_'",
        );
    }
    if load_tz(&t.version.timezone).is_err() {
        v.err(
            "version.timezone",
            format!("unknown time zone {:?}", t.version.timezone),
        );
    }
    if load_tz(&t.availability.month_zone.value).is_err() {
        v.err("availability.month_zone.value", "unknown time zone");
    }
}

fn billing(v: &mut V, t: &Terms) {
    let b = &t.billing;
    v.percent(
        "billing.default_vat_percent.value",
        b.default_vat_percent.value.0,
    );
    if !(1..=28).contains(&b.invoice_day.value) {
        v.err(
            "billing.invoice_day.value",
            "invoice day must be 1-28 (it must exist in every month)",
        );
    }
    if !(1..=60).contains(&b.payment_due_days.value) {
        v.err(
            "billing.payment_due_days.value",
            "payment term must be 1-60 days (Code de commerce L441-10 caps it at 60 days)",
        );
    }
    if b.rounding.scale > 10 {
        v.err(
            "billing.rounding.scale",
            "scale above 10 decimal places is not a currency rounding",
        );
    }
    let p = b.bandwidth_percentile.dropped_top_percent.0;
    if p < Decimal::ZERO || p >= Decimal::ONE_HUNDRED {
        v.err(
            "billing.bandwidth_percentile.dropped_top_percent",
            "must be in [0, 100)",
        );
    }
    if b.bandwidth_percentile.reading_interval_minutes == 0 {
        v.err(
            "billing.bandwidth_percentile.reading_interval_minutes",
            "must be positive",
        );
    }
    let lp = &t.late_payment;
    if ![360, 365, 366].contains(&lp.day_count_basis) {
        v.err("late_payment.day_count_basis", "must be 360, 365 or 366");
    }
    if lp.margin_points.0 < Decimal::ZERO {
        v.err("late_payment.margin_points", "must not be negative");
    }
    if lp.recovery_indemnity_eur.0 < Decimal::ZERO {
        v.err(
            "late_payment.recovery_indemnity_eur",
            "must not be negative",
        );
    }
}

fn termination(v: &mut V, t: &Terms) {
    let e = &t.termination.early;
    let base = "termination.early.tiers";
    if e.tiers.is_empty() {
        v.err(base, "at least one tier is needed");
    }
    let mut expected_from = 1u32;
    for (i, tier) in e.tiers.iter().enumerate() {
        let p = format!("{base}[{i}]");
        if tier.from_month != expected_from {
            let why = if tier.from_month > expected_from {
                "leaves a gap"
            } else {
                "overlaps the previous tier"
            };
            v.err(
                format!("{p}.from_month"),
                format!(
                    "tier starts at month {} but {} (expected {expected_from})",
                    tier.from_month, why
                ),
            );
        }
        v.percent(format!("{p}.share_percent"), tier.share_percent.0);
        match tier.to_month {
            Some(to) if to < tier.from_month => {
                v.err(format!("{p}.to_month"), "to_month is before from_month")
            }
            Some(to) => expected_from = to + 1,
            None if i + 1 != e.tiers.len() => v.err(
                format!("{p}.to_month"),
                "only the last tier may be open-ended",
            ),
            None => {}
        }
    }
    if e.tiers.last().is_some_and(|t| t.to_month.is_some()) {
        v.err(
            format!("{base}[{}].to_month", e.tiers.len() - 1),
            "the last tier must be open-ended",
        );
    }
    v.percent(
        "termination.early.investment_share_percent",
        e.investment_share_percent.0,
    );
    v.percent(
        "termination.early.cancellation_share_percent",
        e.cancellation_share_percent.0,
    );
    v.percent(
        "termination.liability_cap_percent_of_paid.value",
        t.termination.liability_cap_percent_of_paid.value.0,
    );
}

fn support(v: &mut V, t: &Terms) {
    let s = &t.support;
    let mut built = std::collections::BTreeMap::new();
    for (name, entry) in &s.calendars {
        match ServiceCalendar::from_spec(&entry.calendar) {
            Ok(c) => {
                built.insert(name.clone(), c);
            }
            Err(e) => v.err(format!("support.calendars.{name}.calendar"), e.to_string()),
        }
    }
    for level in SupportLevel::ALL {
        let p = format!("support.levels.{level}");
        let Some(l) = s.levels.get(&level) else {
            v.err(p, "missing support level");
            continue;
        };
        match built.get(&l.calendar) {
            None if !s.calendars.contains_key(&l.calendar) => v.err(
                format!("{p}.calendar"),
                format!("no calendar named {:?}", l.calendar),
            ),
            None => {}
            Some(cal) => {
                let full = cal.full_day().as_secs();
                if i64::from(l.jo_hours) * 3600 != full {
                    v.err(
                        format!("{p}.jo_hours"),
                        format!(
                            "a JO is one full opening day of the calendar ({} h), not {} h",
                            full / 3600,
                            l.jo_hours
                        ),
                    );
                }
            }
        }
    }
    if !s.calendars.contains_key(&s.p1_calendar.value) {
        v.err(
            "support.p1_calendar.value",
            format!("no calendar named {:?}", s.p1_calendar.value),
        );
    }
    for c in [
        Criticality::C1,
        Criticality::C2,
        Criticality::C3,
        Criticality::C4,
    ] {
        if !s.priority_matrix.rows.contains_key(&c) {
            v.err(format!("support.priority_matrix.rows.{c}"), "missing row");
        }
    }
    if s.no_p1.handled_as == Priority::P1 {
        v.err(
            "support.no_p1.handled_as",
            "a level without P1 cannot handle tickets as P1",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, e) in s.targets.entries.iter().enumerate() {
        let p = format!("support.targets.entries[{i}]");
        if !seen.insert((e.level, e.priority)) {
            v.err(
                p.clone(),
                format!("duplicate target for {} {}", e.level, e.priority),
            );
        }
        if e.gtr_hours.is_some() && e.gtr_jo.is_some() {
            v.err(p.clone(), "give GTR in hours or in JO, not both");
        }
        if s.no_p1.levels.contains(&e.level)
            && e.priority == Priority::P1
            && (e.gti_hours.is_some() || e.gtr_hours.is_some() || e.gtr_jo.is_some())
        {
            v.err(
                p.clone(),
                format!(
                    "{} has no P1 tickets (support.no_p1) but a P1 target is set",
                    e.level
                ),
            );
        }
        if e.gti_hours == Some(0) || e.gtr_hours == Some(0) || e.gtr_jo == Some(0) {
            v.err(p, "a zero-length target is not a commitment");
        }
    }
    for level in SupportLevel::ALL {
        for pr in [Priority::P1, Priority::P2, Priority::P3, Priority::P4] {
            if !seen.contains(&(level, pr)) {
                v.err(
                    "support.targets.entries",
                    format!("missing entry for {level} {pr} (write it without targets if none)"),
                );
            }
        }
    }
    if s.billable_tickets.price_eur.value.0 < Decimal::ZERO {
        v.err("support.billable_tickets.price_eur", "must not be negative");
    }
    if s.billable_tickets.from_nth == 0 {
        v.err("support.billable_tickets.from_nth", "must be at least 1");
    }
    let hb = &t.hour_book;
    if !s.calendars.contains_key(&hb.business_calendar) {
        v.err(
            "hour_book.business_calendar",
            format!("no calendar named {:?}", hb.business_calendar),
        );
    }
    if hb.step_minutes == 0 || 60 % hb.step_minutes != 0 {
        v.err("hour_book.step_minutes", "must divide an hour (1-60)");
    }
    if hb.non_business_multiplier.0 < Decimal::ONE {
        v.err("hour_book.non_business_multiplier", "must be at least 1");
    }
    if matches!(
        s.calendars.get(&s.p1_calendar.value).map(|c| &c.calendar),
        Some(CalendarSpec::Weekly { .. })
    ) {
        // Allowed, but the contract says P1 runs 24/7: make the reading explicit.
        if s.p1_calendar.note.is_none() {
            v.err(
                "support.p1_calendar.note",
                "a P1 calendar that is not 24/7 needs a note explaining why",
            );
        }
    }
}

fn availability(v: &mut V, t: &Terms) {
    let a = &t.availability;
    let q = &a.qualification;
    if q.min_episode_seconds == 0 {
        v.err(
            "availability.qualification.min_episode_seconds",
            "must be positive",
        );
    }
    if q.slot_seconds == 0 || 3600 % q.slot_seconds != 0 {
        v.err(
            "availability.qualification.slot_seconds",
            "must divide an hour",
        );
    }
    if q.kinds.is_empty() {
        v.err(
            "availability.qualification.kinds",
            "at least one kind of episode",
        );
    }
    for (i, k) in q.require_service_impact.iter().enumerate() {
        if !q.kinds.contains(k) {
            v.err(
                format!("availability.qualification.require_service_impact[{i}]"),
                "not one of the kinds",
            );
        }
    }
    for offer in Offer::ALL {
        let p = format!("availability.offers.{}", offer_key(offer));
        let Some(o) = a.offers.get(&offer) else {
            v.err(p, "missing offer");
            continue;
        };
        let g = o.guaranteed_percent.0;
        if g <= Decimal::ZERO || g > Decimal::ONE_HUNDRED {
            v.err(format!("{p}.guaranteed_percent"), "must be in (0, 100]");
        }
        if let Some(c) = &o.penalty_class {
            match a.penalty_classes.get(c) {
                None => v.err(
                    format!("{p}.penalty_class"),
                    format!("no penalty class {c:?}"),
                ),
                Some(pc) if pc.guaranteed_percent != o.guaranteed_percent => v.err(
                    format!("{p}.penalty_class"),
                    format!(
                        "class {c:?} is for {} % but the offer guarantees {} %",
                        pc.guaranteed_percent, g
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    for (name, pc) in &a.penalty_classes {
        let base = format!("availability.penalty_classes.{name}");
        if pc.tiers.is_empty() {
            v.err(format!("{base}.tiers"), "at least one tier");
            continue;
        }
        let mut expected_upper = pc.guaranteed_percent.0;
        let mut prev_penalty = Decimal::ZERO;
        for (i, tier) in pc.tiers.iter().enumerate() {
            let p = format!("{base}.tiers[{i}]");
            if tier.upper.0 != expected_upper {
                let why = if tier.upper.0 < expected_upper {
                    "leaves a gap"
                } else {
                    "overlaps"
                };
                v.err(
                    format!("{p}.upper"),
                    format!("upper bound {} {why}: expected {expected_upper} (the previous lower bound)", tier.upper),
                );
            }
            v.percent(format!("{p}.penalty_percent"), tier.penalty_percent.0);
            if tier.penalty_percent.0 < prev_penalty {
                v.err(
                    format!("{p}.penalty_percent"),
                    "a lower rate cannot give a smaller penalty",
                );
            }
            prev_penalty = tier.penalty_percent.0;
            match tier.lower {
                Some(l) if l.0 >= tier.upper.0 => v.err(
                    format!("{p}.lower"),
                    format!("lower bound {l} is not below upper bound {}", tier.upper),
                ),
                Some(l) if l.0 < Decimal::ZERO => v.err(format!("{p}.lower"), "negative rate"),
                Some(l) => expected_upper = l.0,
                None if i + 1 != pc.tiers.len() => v.err(
                    format!("{p}.lower"),
                    "only the last tier may be open-ended (down to 0 %)",
                ),
                None => {}
            }
        }
        if pc.tiers.last().is_some_and(|t| t.lower.is_some()) {
            v.err(
                format!("{base}.tiers[{}].lower", pc.tiers.len() - 1),
                "the last tier must have no lower bound, or rates below it would have no penalty",
            );
        }
    }
    for (dc, rate) in &a.colocation.datacenters {
        v.percent(format!("availability.colocation.datacenters.{dc}"), rate.0);
    }
    let near = t.colocation.power_near_percent.value.0;
    if near <= Decimal::ZERO || near > Decimal::ONE_HUNDRED {
        v.err(
            "colocation.power_near_percent",
            format!("{near} is not a share in ]0, 100]"),
        );
    }
}

fn recovery(v: &mut V, t: &Terms) {
    let r = &t.recovery;
    v.percent(
        "recovery.cloud.min_performance_percent",
        r.cloud.min_performance_percent.0,
    );
    for c in [
        MachineCriticality::C1,
        MachineCriticality::C2,
        MachineCriticality::C3,
    ] {
        let p = format!("recovery.pra.criticalities.{}", crit_key(c));
        let Some(o) = r.pra.criticalities.get(&c) else {
            v.err(p, "missing criticality");
            continue;
        };
        if let Some(x) = o.rto_min_performance_percent {
            v.percent(format!("{p}.rto_min_performance_percent"), x.0);
        }
        if let Some(x) = o.rpo_min_performance_percent {
            v.percent(format!("{p}.rpo_min_performance_percent"), x.0);
        }
        if o.rto_hours.is_some() != o.rto_min_performance_percent.is_some() {
            v.err(
                p,
                "an RTO target needs its minimum performance, and the reverse",
            );
        }
    }
    for (c, tiers) in &r.pra_penalties.criticalities {
        let base = format!("recovery.pra_penalties.criticalities.{}", crit_key(*c));
        let Some(rto) = r.pra.criticalities.get(c).and_then(|o| o.rto_hours) else {
            v.err(base, "penalties for a criticality without an RTO target");
            continue;
        };
        if tiers.is_empty() {
            v.err(base, "at least one tier");
            continue;
        }
        let mut expected_above = rto;
        let mut prev = Decimal::ZERO;
        for (i, tier) in tiers.iter().enumerate() {
            let p = format!("{base}[{i}]");
            if tier.above_hours != expected_above {
                let why = if tier.above_hours > expected_above {
                    "leaves a gap"
                } else {
                    "overlaps"
                };
                v.err(
                    format!("{p}.above_hours"),
                    format!("{why}: expected {expected_above} h"),
                );
            }
            v.percent(format!("{p}.penalty_percent"), tier.penalty_percent.0);
            if tier.penalty_percent.0 < prev {
                v.err(
                    format!("{p}.penalty_percent"),
                    "a longer delay cannot give a smaller penalty",
                );
            }
            prev = tier.penalty_percent.0;
            match tier.up_to_hours {
                Some(u) if u <= tier.above_hours => {
                    v.err(format!("{p}.up_to_hours"), "must be above above_hours")
                }
                Some(u) => expected_above = u,
                None if i + 1 != tiers.len() => v.err(
                    format!("{p}.up_to_hours"),
                    "only the last tier may be open-ended",
                ),
                None => {}
            }
        }
        if tiers.last().is_some_and(|t| t.up_to_hours.is_some()) {
            v.err(
                format!("{base}[{}].up_to_hours", tiers.len() - 1),
                "the last tier must be open-ended",
            );
        }
    }
}

fn limits(v: &mut V, t: &Terms) {
    let c = &t.penalties.caps;
    if c.per_month_monthly_fees.0 <= Decimal::ZERO {
        v.err("penalties.caps.per_month_monthly_fees", "must be positive");
    }
    if c.per_year_monthly_fees.0 < c.per_month_monthly_fees.0 {
        v.err(
            "penalties.caps.per_year_monthly_fees",
            "the yearly cap cannot be below the monthly cap",
        );
    }
    if t.backup.immutability_max_months.value == 0 {
        v.err("backup.immutability_max_months.value", "must be positive");
    }
}

pub(crate) fn offer_key(o: Offer) -> &'static str {
    match o {
        Offer::MonoSite => "mono_site",
        Offer::HdMultiSite => "hd_multi_site",
        Offer::ThdMultiSite => "thd_multi_site",
        Offer::MonoDc => "mono_dc",
        Offer::DualDc => "dual_dc",
        Offer::Pra => "pra",
    }
}

fn crit_key(c: MachineCriticality) -> &'static str {
    match c {
        MachineCriticality::C1 => "c1",
        MachineCriticality::C2 => "c2",
        MachineCriticality::C3 => "c3",
    }
}
