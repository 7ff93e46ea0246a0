//! Prepaid hour book (Carnet de Temps Horaire, R8.2, CS 5.3).
//!
//! Time is counted in 15-minute steps, each intervention rounded up;
//! interventions outside business hours count double. Decision: business
//! hours are those of the terms' hour-book calendar (Mon-Fri 09:00-18:00
//! outside public holidays); an intervention is split into its business and
//! non-business parts, each part is rounded up to 15 minutes, then the
//! non-business part is multiplied by 2. A book never goes negative without an
//! explicit overrun authorisation.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, hms, num},
    invalid,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCharge {
    pub business_seconds: i64,
    pub non_business_seconds: i64,
    pub business_minutes_rounded: i64,
    pub non_business_minutes_rounded: i64,
    /// Minutes taken from the book.
    pub charged_minutes: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookBalance {
    pub before_minutes: Decimal,
    pub charged_minutes: Decimal,
    pub after_minutes: Decimal,
    /// Minutes beyond the book, billed at the hourly rate (authorised overrun).
    pub overrun_minutes: Decimal,
}

fn round_up(secs: i64, step_secs: i64) -> i64 {
    if secs <= 0 {
        0
    } else {
        (secs + step_secs - 1) / step_secs * step_secs
    }
}

impl Engine {
    /// Minutes an intervention takes from the hour book.
    pub fn hour_book_charge(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Explained<HourCharge>, EngineError> {
        if end < start {
            return Err(invalid("intervention ends before it starts"));
        }
        let hb = &self.terms.hour_book;
        let cal = self.calendar(&hb.business_calendar)?;
        let total = end.duration_since(start).as_secs();
        let business = cal.business_between(start, end).as_secs();
        let non_business = total - business;
        let step = i64::from(hb.step_minutes) * 60;
        let b = round_up(business, step) / 60;
        let nb = round_up(non_business, step) / 60;
        let charged = Decimal::from(b) + Decimal::from(nb) * hb.non_business_multiplier.0;
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&hb.rule, &hb.clause)
                .input("start", start)
                .input("end", end)
                .input("calendar", &hb.business_calendar)
                .outcome(format!("business={business}s non_business={non_business}s"))
                .text(
                    format!(
                        "intervention de {} : {} en heures ouvrées, {} hors heures ouvrées",
                        hms(total),
                        hms(business),
                        hms(non_business)
                    ),
                    format!(
                        "intervention of {}: {} in business hours, {} outside",
                        hms(total),
                        hms(business),
                        hms(non_business)
                    ),
                ),
        );
        ex.push(
            Step::new(&hb.rule, &hb.clause)
                .input("step_minutes", hb.step_minutes)
                .input("multiplier", hb.non_business_multiplier)
                .outcome(format!("charged_minutes={charged}"))
                .text(
                    format!("arrondi par tranche de {} min : {b} min ouvrées + {nb} min non ouvrées × {} = {} min décomptées", hb.step_minutes, num(hb.non_business_multiplier.0, Lang::Fr), num(charged, Lang::Fr)),
                    format!("rounded up to {}-minute steps: {b} business min + {nb} non-business min × {} = {} min charged", hb.step_minutes, num(hb.non_business_multiplier.0, Lang::En), num(charged, Lang::En)),
                ),
        );
        Ok(Explained {
            value: HourCharge {
                business_seconds: business,
                non_business_seconds: non_business,
                business_minutes_rounded: b,
                non_business_minutes_rounded: nb,
                charged_minutes: charged,
            },
            explanation: ex,
        })
    }

    /// Apply a charge to a book balance; refused when it would go negative
    /// without an overrun authorisation.
    pub fn hour_book_apply(
        &self,
        balance_minutes: Decimal,
        charged_minutes: Decimal,
        overrun_authorised: bool,
    ) -> Result<BookBalance, EngineError> {
        let after = balance_minutes - charged_minutes;
        if after < Decimal::ZERO
            && !overrun_authorised
            && self.terms.hour_book.overrun_requires_authorisation
        {
            return Err(invalid(format!(
                "the hour book has {balance_minutes} min left, {charged_minutes} min needed: an overrun authorisation is required ({})",
                self.terms.hour_book.rule
            )));
        }
        let overrun = if after < Decimal::ZERO {
            -after
        } else {
            Decimal::ZERO
        };
        Ok(BookBalance {
            before_minutes: balance_minutes,
            charged_minutes,
            after_minutes: after.max(Decimal::ZERO),
            overrun_minutes: overrun,
        })
    }
}
