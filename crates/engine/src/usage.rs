//! Usage above the subscription (R2.9) and PRA failover days (R2.10).
//!
//! * Backup and PRA usage above what the order subscribes on more than 5 days
//!   of a month: the client is warned at month end and the fees are adjusted
//!   from the next month, to the smallest tier covering the month's peak.
//! * During a PRA activation the resources are billed in arrears for the whole
//!   failover, by days: each started calendar day in Europe/Paris counts.

use jiff::{Timestamp, civil::Date};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, num},
    invalid,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverageOutcome {
    pub subscribed: Decimal,
    pub days_over: u32,
    pub peak: Decimal,
    /// Warn the client and adjust the fees from next month.
    pub adjust: bool,
    /// The new level: the smallest tier covering the peak (None when no
    /// adjustment, or when the peak exceeds every tier: a new order is needed).
    pub new_level: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverDays {
    pub first_day: Date,
    pub last_day: Date,
    pub days: i32,
}

impl Engine {
    /// R2.9: given each day's peak usage of a month, whether the fees are
    /// adjusted and to which tier (`tiers` are the orderable levels).
    pub fn usage_overage(
        &self,
        subscribed: Decimal,
        daily_peaks: &[(Date, Decimal)],
        tiers: &[Decimal],
    ) -> Result<Explained<OverageOutcome>, EngineError> {
        let u = &self.terms.billing.usage_overage;
        let mut days: Vec<Date> = daily_peaks
            .iter()
            .filter(|(_, v)| *v > subscribed)
            .map(|(d, _)| *d)
            .collect();
        days.sort_unstable();
        days.dedup();
        let days_over = u32::try_from(days.len()).map_err(|_| invalid("too many days"))?;
        let peak = daily_peaks
            .iter()
            .map(|(_, v)| *v)
            .max()
            .unwrap_or_default();
        let adjust = days_over > u.more_than_days;
        let mut sorted = tiers.to_vec();
        sorted.sort_unstable();
        let new_level = if adjust {
            sorted.into_iter().find(|t| *t >= peak)
        } else {
            None
        };
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&u.rule, &u.clause)
                .input("subscribed", subscribed)
                .input("days_over", days_over)
                .input("peak", peak)
                .outcome(format!("adjust={adjust}"))
                .text(
                    format!(
                        "{days_over} jour(s) au-delà de l'usage souscrit ({}) ; seuil : plus de {} jours → {}",
                        num(subscribed, Lang::Fr),
                        u.more_than_days,
                        match (adjust, new_level) {
                            (false, _) => "pas d'ajustement".to_string(),
                            (true, Some(l)) => format!("avertissement en fin de mois et frais ajustés dès le mois suivant au palier {} (plus petit couvrant le pic {})", num(l, Lang::Fr), num(peak, Lang::Fr)),
                            (true, None) => format!("avertissement ; le pic {} dépasse tous les paliers : nouveau bon de commande", num(peak, Lang::Fr)),
                        }
                    ),
                    format!(
                        "{days_over} day(s) above the subscribed usage ({}); threshold: more than {} days → {}",
                        num(subscribed, Lang::En),
                        u.more_than_days,
                        match (adjust, new_level) {
                            (false, _) => "no adjustment".to_string(),
                            (true, Some(l)) => format!("warning at month end and fees adjusted from next month to tier {} (smallest covering the peak {})", num(l, Lang::En), num(peak, Lang::En)),
                            (true, None) => format!("warning; the peak {} exceeds every tier: a new order is needed", num(peak, Lang::En)),
                        }
                    ),
                ),
        );
        Ok(Explained {
            value: OverageOutcome {
                subscribed,
                days_over,
                peak,
                adjust,
                new_level,
            },
            explanation: ex,
        })
    }

    /// R2.10: billable days of a PRA failover from `start` to `end` (each
    /// started calendar day in the terms' zone counts).
    pub fn failover_days(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Explained<FailoverDays>, EngineError> {
        if end <= start {
            return Err(invalid("the failover must end after it starts"));
        }
        let tz = self.month_zone().clone();
        let first = start.to_zoned(tz.clone()).date();
        // The day containing the last instant of the failover (end excluded).
        let last_instant = end
            .checked_sub(jiff::SignedDuration::from_nanos(1))
            .map_err(|e| invalid(e.to_string()))?;
        let last = last_instant.to_zoned(tz).date();
        let span = first.until(last).map_err(|e| invalid(e.to_string()))?;
        let days = span.get_days() + 1;
        let p = &self.terms.billing.pra_usage_unit;
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&p.rule, &p.clause)
                .input("start", start)
                .input("end", end)
                .outcome(format!("days={days}"))
                .text(
                    format!(
                        "bascule du {first} au {last} : {days} jour(s) calendaire(s) entamé(s)"
                    ),
                    format!("failover from {first} to {last}: {days} started calendar day(s)"),
                ),
        );
        Ok(Explained {
            value: FailoverDays {
                first_day: first,
                last_day: last,
                days,
            },
            explanation: ex,
        })
    }
}
