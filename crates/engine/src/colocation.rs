//! Yearly availability of a colocation datacenter from its recorded episodes
//! of network, power and ambient temperature loss (R5.6, A2 I.A.2).
//!
//! Rate = (Y − U) / Y × 100, Y the minutes of the Paris calendar year
//! (525 600, or 527 040 in a leap year: the two DST changes cancel out).
//! Each episode touches the minute slots [floor(start), ceil(end)) of the
//! year; episodes are merged, so overlapping ones never count a minute
//! twice. The text gives no minimum duration (unlike R5.2 for the cloud):
//! every recorded minute counts. Excluded episodes (an R5.3 reason) count
//! for nothing and keep their reason. Whether the three kinds make one figure
//! or three is the terms parameter `availability.colocation.measure`.

use ciel_terms::{ColocationKind, ColocationMeasure, ExclusionReason};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::availability::{
    ColocationAvailability, floor_s, merge, month_bounds, reason_en, reason_fr, touched_slots,
};
use crate::explain::{Lang, num_dp};
use crate::{Engine, EngineError, Explained, Step, invalid};

/// One episode recorded in a datacenter; an open one is passed ending at the
/// instant of the computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatacenterEpisode {
    #[serde(default)]
    pub id: String,
    pub kind: ColocationKind,
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion: Option<ExclusionReason>,
}

/// What happened to one episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum DatacenterEpisodeStatus {
    Counted,
    Excluded(ExclusionReason),
    OutsideYear,
    EmptyOrReversed,
}

/// The figure of one kind (network, power or temperature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindFigure {
    pub kind: ColocationKind,
    pub unavailable_minutes: i64,
    pub rate_percent: Decimal,
    pub met: bool,
}

/// The yearly figures of one datacenter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColocationYear {
    pub datacenter: String,
    pub year: i16,
    pub year_minutes: i64,
    pub measure: ColocationMeasure,
    /// Minutes in which any of the three kinds was lost (merged).
    pub unavailable_minutes: i64,
    /// The figure the commitment is judged on: the combined rate, or under
    /// `per_kind` the lowest of the three.
    pub rate_percent: Decimal,
    pub guaranteed_percent: Decimal,
    pub met: bool,
    pub per_kind: Vec<KindFigure>,
    pub episodes: Vec<DatacenterEpisodeStatus>,
}

impl Engine {
    /// Yearly availability of `datacenter` in the Paris calendar `year` from
    /// its episodes (R5.6), with the explanation; reported, no penalty.
    pub fn colocation_year(
        &self,
        datacenter: &str,
        year: i16,
        episodes: &[DatacenterEpisode],
    ) -> Result<Explained<ColocationYear>, EngineError> {
        let c = &self.terms.availability.colocation;
        let (ys, _) = month_bounds(&self.month_tz, year, 1)?;
        let next = year
            .checked_add(1)
            .ok_or_else(|| invalid("year out of range"))?;
        let (ye, _) = month_bounds(&self.month_tz, next, 1)?;
        let (ys, ye) = (floor_s(ys), floor_s(ye));
        let mut statuses = Vec::with_capacity(episodes.len());
        let mut by_kind: [Vec<(i64, i64)>; 3] = Default::default();
        let mut all = Vec::with_capacity(episodes.len());
        let mut excluded = 0usize;
        for e in episodes {
            let status = if e.end <= e.start {
                DatacenterEpisodeStatus::EmptyOrReversed
            } else if let Some(r) = e.exclusion {
                excluded += 1;
                DatacenterEpisodeStatus::Excluded(r)
            } else {
                let (a, b) = touched_slots(e.start, e.end, 60, ys, ye);
                if a < b {
                    by_kind[kind_index(e.kind)].push((a, b));
                    all.push((a, b));
                    DatacenterEpisodeStatus::Counted
                } else {
                    DatacenterEpisodeStatus::OutsideYear
                }
            };
            statuses.push(status);
        }
        let counted = statuses
            .iter()
            .filter(|s| **s == DatacenterEpisodeStatus::Counted)
            .count();
        merge(&mut all);
        let minutes = |v: &[(i64, i64)]| v.iter().map(|(a, b)| b - a).sum::<i64>() / 60;
        let u = minutes(&all);
        let combined = self.colocation_availability(datacenter, year, u)?;
        let mut ex = crate::Explanation::default();
        ex.push(
            Step::new(&c.rule, &c.clause)
                .input("datacenter", datacenter)
                .input("episodes", episodes.len())
                .outcome(format!("counted={counted} excluded={excluded} U={u}"))
                .text(
                    format!(
                        "{} épisode(s) : {counted} compté(s), {excluded} exclu(s) ; les minutes [plancher(début), plafond(fin)[ de l'année civile (Europe/Paris) sont fusionnées, sans double compte : U = {u} minute(s) où le réseau, l'électricité ou la température a fait défaut",
                        episodes.len()
                    ),
                    format!(
                        "{} episode(s): {counted} counted, {excluded} excluded; the minutes [floor(start), ceil(end)) of the calendar year (Europe/Paris) are merged, never counted twice: U = {u} minute(s) in which network, power or temperature failed",
                        episodes.len()
                    ),
                ),
        );
        for (e, s) in episodes.iter().zip(&statuses) {
            if let DatacenterEpisodeStatus::Excluded(r) = s {
                ex.push(
                    Step::new(
                        &self.terms.availability.exclusion_reasons.rule,
                        &self.terms.availability.exclusion_reasons.clause,
                    )
                    .input("episode", &e.id)
                    .outcome("excluded")
                    .text(
                        format!("épisode {} exclu : {}", e.id, reason_fr(*r)),
                        format!("episode {} excluded: {}", e.id, reason_en(*r)),
                    ),
                );
            }
        }
        let mut per_kind = Vec::with_capacity(3);
        for kind in ColocationKind::ALL {
            let mut v = std::mem::take(&mut by_kind[kind_index(kind)]);
            merge(&mut v);
            let figure = self.colocation_availability(datacenter, year, minutes(&v))?;
            per_kind.push(KindFigure {
                kind,
                unavailable_minutes: minutes(&v),
                rate_percent: figure.value.rate_percent,
                met: figure.value.met,
            });
            if c.measure.value == ColocationMeasure::PerKind {
                ex.extend(figure.explanation);
            }
        }
        let g = combined.value.guaranteed_percent;
        let (rate, met) = match c.measure.value {
            ColocationMeasure::Combined => {
                ex.extend(combined.explanation);
                (combined.value.rate_percent, combined.value.met)
            }
            ColocationMeasure::PerKind => (
                per_kind
                    .iter()
                    .map(|k| k.rate_percent)
                    .min()
                    .unwrap_or(Decimal::ONE_HUNDRED),
                per_kind.iter().all(|k| k.met),
            ),
        };
        let ColocationAvailability { year_minutes, .. } = combined.value;
        let (fr, en) = match c.measure.value {
            ColocationMeasure::Combined => (
                "un seul taux : une minute est indisponible dès que le réseau, l'électricité ou la température fait défaut",
                "one figure: a minute is unavailable as soon as network, power or temperature fails",
            ),
            ColocationMeasure::PerKind => (
                "trois taux, chacun tenu au taux garanti ; le plus bas est retenu",
                "three figures, each held to the guaranteed rate; the lowest is shown",
            ),
        };
        ex.push(
            Step::new(&c.measure.rule, &c.measure.clause)
                .input("measure", format!("{:?}", c.measure.value))
                .outcome(format!("met={met}"))
                .text(
                    format!(
                        "{fr} : {} % pour {} % garantis, {} (sans pénalité)",
                        num_dp(rate, 4, Lang::Fr),
                        num_dp(g, 2, Lang::Fr),
                        if met { "respecté" } else { "non respecté" }
                    ),
                    format!(
                        "{en}: {} % for {} % guaranteed, {} (no penalty)",
                        num_dp(rate, 4, Lang::En),
                        num_dp(g, 2, Lang::En),
                        if met { "met" } else { "missed" }
                    ),
                ),
        );
        Ok(Explained {
            value: ColocationYear {
                datacenter: datacenter.to_owned(),
                year,
                year_minutes,
                measure: c.measure.value,
                unavailable_minutes: u,
                rate_percent: rate,
                guaranteed_percent: g,
                met,
                per_kind,
                episodes: statuses,
            },
            explanation: ex,
        })
    }
}

fn kind_index(k: ColocationKind) -> usize {
    match k {
        ColocationKind::Network => 0,
        ColocationKind::Power => 1,
        ColocationKind::Temperature => 2,
    }
}
