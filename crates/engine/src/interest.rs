//! Late-payment interest and recovery indemnity (R2.6, CG 3.5).
//!
//! Interest runs from the day after the due date to the payment date at the
//! ECB main refinancing rate + 10 points, simple interest, actual/365. Reading
//! of Code de commerce L441-10: the ECB rate of each half-year is the one in
//! force on 1 January (January-June) or 1 July (July-December), and a delay
//! spanning half-years is computed per half-year. A fixed 40 EUR indemnity is
//! due per invoice paid late.
//!
//! The ECB table ships as data (`terms/data/ecb-mro-rates.csv`, embedded) and
//! can be extended by a file of the same format without code.

use std::sync::OnceLock;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, eur, num},
    invalid,
};

/// The embedded table, as shipped.
pub const EMBEDDED_ECB_CSV: &str = include_str!("../../../terms/data/ecb-mro-rates.csv");

/// ECB main refinancing rates with their effective dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EcbTable {
    /// Sorted by date, one rate per date.
    pub rates: Vec<(Date, Decimal)>,
}

impl EcbTable {
    /// Parse `effective_date,rate_percent` lines; `#` comments and the header
    /// line are skipped. Errors name the line.
    pub fn parse_csv(text: &str) -> Result<Self, EngineError> {
        let mut t = EcbTable::default();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("effective_date") {
                continue;
            }
            let (d, r) = line
                .split_once(',')
                .ok_or_else(|| invalid(format!("ECB table line {}: expected date,rate", no + 1)))?;
            let d: Date = d
                .trim()
                .parse()
                .map_err(|e| invalid(format!("ECB table line {}: date: {e}", no + 1)))?;
            let r = Decimal::from_str_exact(r.trim())
                .map_err(|e| invalid(format!("ECB table line {}: rate: {e}", no + 1)))?;
            t.insert(d, r);
        }
        Ok(t)
    }

    /// The embedded table.
    pub fn embedded() -> &'static EcbTable {
        static CELL: OnceLock<EcbTable> = OnceLock::new();
        CELL.get_or_init(|| EcbTable::parse_csv(EMBEDDED_ECB_CSV).unwrap_or_default())
    }

    fn insert(&mut self, d: Date, r: Decimal) {
        match self.rates.binary_search_by_key(&d, |x| x.0) {
            Ok(i) => self.rates[i].1 = r,
            Err(i) => self.rates.insert(i, (d, r)),
        }
    }

    /// Add (or override) rates from another table.
    pub fn extend(&mut self, other: &EcbTable) {
        for (d, r) in &other.rates {
            self.insert(*d, *r);
        }
    }

    /// The rate in force on a date: the latest effective on or before it.
    pub fn rate_on(&self, d: Date) -> Option<(Date, Decimal)> {
        let i = self.rates.partition_point(|x| x.0 <= d);
        if i == 0 {
            None
        } else {
            Some(self.rates[i - 1])
        }
    }
}

/// One half-year slice of a delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestSegment {
    /// First and last day of interest in this half-year (inclusive).
    pub from: Date,
    pub to: Date,
    pub days: i32,
    pub reference_date: Date,
    pub ecb_rate_percent: Decimal,
    pub ecb_effective_date: Date,
    pub rate_percent: Decimal,
    pub interest_exact: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateInterest {
    pub amount: Decimal,
    pub due: Date,
    pub paid: Date,
    pub days_late: i32,
    pub segments: Vec<InterestSegment>,
    pub interest_exact: Decimal,
    /// Interest rounded to the cent (one invoice line).
    pub interest: Decimal,
    pub indemnity: Decimal,
    pub total: Decimal,
}

fn days(a: Date, b: Date) -> i32 {
    use ciel_calendar::holidays::days_from_civil as f;
    f(i32::from(b.year()), b.month() as u8, b.day() as u8)
        - f(i32::from(a.year()), a.month() as u8, a.day() as u8)
}

impl Engine {
    /// Late interest on `amount` due on `due` and paid on `paid`, plus the
    /// recovery indemnity when paid late (R2.6).
    pub fn late_interest(
        &self,
        amount: Decimal,
        due: Date,
        paid: Date,
    ) -> Result<Explained<LateInterest>, EngineError> {
        let lp = &self.terms.late_payment;
        if amount < Decimal::ZERO {
            return Err(invalid("amount must not be negative"));
        }
        let days_late = days(due, paid).max(0);
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&lp.rule, &lp.clause)
                .input("due", due)
                .input("paid", paid)
                .outcome(format!("days_late={days_late}"))
                .text(
                    format!("échéance {due}, paiement {paid} : {days_late} jour(s) de retard (intérêts du lendemain de l'échéance au paiement)"),
                    format!("due {due}, paid {paid}: {days_late} day(s) late (interest from the day after the due date to payment)"),
                ),
        );
        let mut segments = Vec::new();
        let mut total = Decimal::ZERO;
        if days_late > 0 {
            let mut d = due.tomorrow().map_err(|e| invalid(e.to_string()))?;
            while d <= paid {
                let h2 = d.month() >= 7;
                let reference = jiff::civil::date(d.year(), if h2 { 7 } else { 1 }, 1);
                let half_end =
                    jiff::civil::date(d.year(), if h2 { 12 } else { 6 }, if h2 { 31 } else { 30 });
                let to = half_end.min(paid);
                let n = days(d, to) + 1;
                let (eff, ecb) = self
                    .ecb
                    .rate_on(reference)
                    .ok_or(EngineError::MissingEcbRate(reference))?;
                let rate = ecb + lp.margin_points.0;
                let interest = amount * rate * Decimal::from(n)
                    / Decimal::from(100 * i64::from(lp.day_count_basis));
                ex.push(
                    Step::new(&lp.rule, &lp.clause)
                        .input("from", d)
                        .input("to", to)
                        .input("ecb_rate", ecb)
                        .outcome(format!("interest={}", interest.round_dp(6)))
                        .text(
                            format!(
                                "du {d} au {to} ({n} j) : taux BCE en vigueur le {reference} = {} % (depuis le {eff}) + {} points = {} % ; {} × {} % × {n}/{} = {}",
                                num(ecb, Lang::Fr), num(lp.margin_points.0, Lang::Fr), num(rate, Lang::Fr), eur(amount, Lang::Fr), num(rate, Lang::Fr), lp.day_count_basis, num(interest.round_dp(6), Lang::Fr)
                            ),
                            format!(
                                "{d} to {to} ({n} d): ECB rate in force on {reference} = {} % (since {eff}) + {} points = {} %; {} × {} % × {n}/{} = {}",
                                num(ecb, Lang::En), num(lp.margin_points.0, Lang::En), num(rate, Lang::En), eur(amount, Lang::En), num(rate, Lang::En), lp.day_count_basis, num(interest.round_dp(6), Lang::En)
                            ),
                        ),
                );
                total += interest;
                segments.push(InterestSegment {
                    from: d,
                    to,
                    days: n,
                    reference_date: reference,
                    ecb_rate_percent: ecb,
                    ecb_effective_date: eff,
                    rate_percent: rate,
                    interest_exact: interest,
                });
                d = to.tomorrow().map_err(|e| invalid(e.to_string()))?;
            }
        }
        let interest = self.round_money(total);
        let indemnity = if days_late > 0 {
            lp.recovery_indemnity_eur.0
        } else {
            Decimal::ZERO
        };
        let rounding = &self.terms.billing.rounding;
        ex.push(
            Step::new(&rounding.rule, &rounding.clause)
                .input("interest_exact", total)
                .outcome(format!("interest={interest} indemnity={indemnity}"))
                .text(
                    format!("intérêts arrondis au centime : {} ; indemnité forfaitaire de recouvrement : {}", eur(interest, Lang::Fr), eur(indemnity, Lang::Fr)),
                    format!("interest rounded to the cent: {}; fixed recovery indemnity: {}", eur(interest, Lang::En), eur(indemnity, Lang::En)),
                ),
        );
        Ok(Explained {
            value: LateInterest {
                amount,
                due,
                paid,
                days_late,
                segments,
                interest_exact: total,
                interest,
                indemnity,
                total: interest + indemnity,
            },
            explanation: ex,
        })
    }
}
