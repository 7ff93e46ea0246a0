//! Combination and caps of penalties (R7.2-R7.4, Annexe 2 II.C).
//!
//! * One event breaching several commitments of the same service gives one
//!   penalty: the most favourable to the client, i.e. the largest (R7.3).
//! * Per service, the credits of one calendar month never exceed one monthly
//!   fee and those of one calendar year never exceed three (R7.2): the month's
//!   credit is min(sum, month cap, year cap − credits already given that year).
//! * Exclusions (R7.4) are applied upstream: excluded episodes and test
//!   activations never produce a candidate.
//!
//! The credit is computed exactly and rounded once, to the cent (R2.12).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, eur, num},
    invalid,
};

/// A penalty candidate: a share of the monthly fee, attached to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Candidates sharing an event are one event (R7.3).
    pub event: String,
    /// Which commitment: "availability", "pra_rto:<activation>"...
    pub commitment: String,
    pub rule: String,
    pub percent: Decimal,
}

/// The penalty kept for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPenalty {
    pub event: String,
    pub commitment: String,
    pub percent: Decimal,
    pub amount: Decimal,
    /// Other commitments of the same event, not added (R7.3).
    pub discarded: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapResult {
    pub monthly_fee: Decimal,
    pub events: Vec<EventPenalty>,
    /// Sum of the events' amounts, exact.
    pub gross: Decimal,
    pub month_cap: Decimal,
    pub year_cap: Decimal,
    pub already_credited_this_year: Decimal,
    /// Exact credit after caps.
    pub capped: Decimal,
    /// Credit rounded to the cent (the credit line).
    pub credit: Decimal,
    pub month_cap_applied: bool,
    pub year_cap_applied: bool,
}

/// A commitment id ("availability", "pra_rto:<activation>") in words.
fn commitment_label(c: &str, lang: Lang) -> String {
    match (c.split_once(':'), lang) {
        (None, Lang::Fr) if c == "availability" => "disponibilité".into(),
        (Some(("pra_rto", a)), Lang::Fr) => format!("RTO du PRA (activation {a})"),
        (Some(("pra_rto", a)), Lang::En) => format!("PRA RTO (activation {a})"),
        _ => c.to_string(),
    }
}

impl Engine {
    /// Combine candidates per event and apply the monthly and yearly caps.
    pub fn combine_and_cap(
        &self,
        monthly_fee: Decimal,
        candidates: &[Candidate],
        already_credited_this_year: Decimal,
    ) -> Result<Explained<CapResult>, EngineError> {
        if monthly_fee < Decimal::ZERO {
            return Err(invalid("monthly fee must not be negative"));
        }
        if already_credited_this_year < Decimal::ZERO {
            return Err(invalid("credits already given must not be negative"));
        }
        let p = &self.terms.penalties;
        let mut ex = Explanation::default();
        let mut events: Vec<EventPenalty> = Vec::new();
        for c in candidates.iter().filter(|c| c.percent > Decimal::ZERO) {
            match events.iter_mut().find(|e| e.event == c.event) {
                Some(e) if c.percent > e.percent => {
                    e.discarded
                        .push(std::mem::replace(&mut e.commitment, c.commitment.clone()));
                    e.percent = c.percent;
                }
                Some(e) => e.discarded.push(c.commitment.clone()),
                None => events.push(EventPenalty {
                    event: c.event.clone(),
                    commitment: c.commitment.clone(),
                    percent: c.percent,
                    amount: Decimal::ZERO,
                    discarded: vec![],
                }),
            }
        }
        let mut gross = Decimal::ZERO;
        for e in &mut events {
            e.amount = monthly_fee * e.percent / Decimal::ONE_HUNDRED;
            gross += e.amount;
            let combo = &p.one_penalty_per_event;
            let (fr_extra, en_extra) = if e.discarded.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(
                        " (non cumulée avec : {} ; la plus favorable au client est retenue)",
                        e.discarded.join(", ")
                    ),
                    format!(
                        " (not added to: {}; the most favourable to the client is kept)",
                        e.discarded.join(", ")
                    ),
                )
            };
            ex.push(
                Step::new(&combo.rule, &combo.clause)
                    .input("event", &e.event)
                    .input("percent", e.percent)
                    .input("monthly_fee", monthly_fee)
                    .outcome(format!("amount={}", e.amount))
                    .text(
                        format!(
                            "événement {} : {} {} % × {} = {}{fr_extra}",
                            e.event,
                            commitment_label(&e.commitment, Lang::Fr),
                            num(e.percent, Lang::Fr),
                            eur(monthly_fee, Lang::Fr),
                            eur(e.amount, Lang::Fr)
                        ),
                        format!(
                            "event {}: {} {} % × {} = {}{en_extra}",
                            e.event,
                            commitment_label(&e.commitment, Lang::En),
                            num(e.percent, Lang::En),
                            eur(monthly_fee, Lang::En),
                            eur(e.amount, Lang::En)
                        ),
                    ),
            );
        }
        let caps = &p.caps;
        let month_cap = monthly_fee * caps.per_month_monthly_fees.0;
        let year_cap = monthly_fee * caps.per_year_monthly_fees.0;
        let year_left = (year_cap - already_credited_this_year).max(Decimal::ZERO);
        let after_month = gross.min(month_cap);
        let capped = after_month.min(year_left);
        let month_cap_applied = gross > month_cap;
        let year_cap_applied = after_month > year_left;
        if !events.is_empty() {
            ex.push(
                Step::new(&caps.rule, &caps.clause)
                    .input("gross", gross)
                    .input("month_cap", month_cap)
                    .input("year_cap", year_cap)
                    .input("already_credited_this_year", already_credited_this_year)
                    .outcome(format!("capped={capped}"))
                    .text(
                        format!(
                            "plafonds : {} par mois ({} mensualité), {} par an ({} mensualités) dont {} déjà accordés → min({}, {}, {}) = {}",
                            eur(month_cap, Lang::Fr), num(caps.per_month_monthly_fees.0, Lang::Fr), eur(year_cap, Lang::Fr), num(caps.per_year_monthly_fees.0, Lang::Fr),
                            eur(already_credited_this_year, Lang::Fr), eur(gross, Lang::Fr), eur(month_cap, Lang::Fr), eur(year_left, Lang::Fr), eur(capped, Lang::Fr)
                        ),
                        format!(
                            "caps: {} a month ({} monthly fee), {} a year ({} monthly fees) of which {} already credited → min({}, {}, {}) = {}",
                            eur(month_cap, Lang::En), num(caps.per_month_monthly_fees.0, Lang::En), eur(year_cap, Lang::En), num(caps.per_year_monthly_fees.0, Lang::En),
                            eur(already_credited_this_year, Lang::En), eur(gross, Lang::En), eur(month_cap, Lang::En), eur(year_left, Lang::En), eur(capped, Lang::En)
                        ),
                    ),
            );
        }
        let credit = self.round_money(capped);
        let r = &self.terms.billing.rounding;
        ex.push(
            Step::new(&r.rule, &r.clause)
                .input("exact", capped)
                .outcome(format!("credit={credit}"))
                .text(
                    format!(
                        "avoir arrondi au centime le plus proche (moitié arrondie en s'éloignant de zéro) : {}",
                        eur(credit, Lang::Fr)
                    ),
                    format!(
                        "credit rounded to the cent (half away from zero): {}",
                        eur(credit, Lang::En)
                    ),
                ),
        );
        Ok(Explained {
            value: CapResult {
                monthly_fee,
                events,
                gross,
                month_cap,
                year_cap,
                already_credited_this_year,
                capped,
                credit,
                month_cap_applied,
                year_cap_applied,
            },
            explanation: ex,
        })
    }
}
