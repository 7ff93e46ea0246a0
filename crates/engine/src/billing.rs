//! The monthly invoice of one client (R2.4, R2.12), as a pure function of its
//! services, the amounts handed to billing and the terms: what the billing
//! run (issue 6) writes, line by line, each line with its explanation.
//!
//! R2.4's decision: the invoice issued on the `invoice_day` of month M holds
//! (a) the recurring fees of M, in advance; (b) the pro-rata of services
//! whose billing started during M-1, from their start day to the end of M-1
//! by calendar days; (c) their setup fees; (d)-(f) every amount handed to
//! billing for a fact before the issue date (usage, early-termination fees,
//! billable tickets, hour-book overruns, SLA credits as negative amounts,
//! late interest). Readings where the contract is silent:
//! - a service whose last day falls in M is billed, in advance, from the 1st
//!   to that day only (pro-rata), never beyond its end;
//! - a service whose billing starts in M itself is not billed on M's invoice:
//!   its pro-rata and its first full month come on M+1's;
//! - a setup fee not billed yet is billed on the first invoice after the
//!   billing start, even if that start is older than M-1 (a catch-up).
//!
//! VAT is computed per rate on the sum of the lines at that rate, rounded
//! once (R2.12, EN 16931 BR-CO-17).

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::explain::{Lang, eur, num};
use crate::{Engine, EngineError, Explained, Explanation, Step, invalid};

/// A subscribed service as billing sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BilledService {
    pub id: String,
    pub label: String,
    /// Monthly fee excluding VAT.
    pub monthly_fee: Decimal,
    pub vat_percent: Decimal,
    /// First day billed: provisioning, or the planned day when the client
    /// delayed it (R2.5); None while not provisioned.
    pub billing_start: Option<Date>,
    /// Last day of service, once known (notice, termination).
    pub last_day: Option<Date>,
    /// One-time setup fee excluding VAT (zero when none).
    pub setup_fee: Decimal,
    /// The setup fee is already on an earlier invoice.
    pub setup_billed: bool,
}

/// An amount handed to billing (`charges`): a usage, a fee, a credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCharge {
    pub id: String,
    pub label: String,
    /// Excluding VAT, rounded to the cent; negative for a credit (R7.5).
    pub amount: Decimal,
    pub vat_percent: Decimal,
    /// The rule that produced it (e.g. `R3.1`).
    pub rule: String,
    /// The day of the fact; only facts before the issue date are billed.
    pub occurred_on: Date,
}

/// What an invoice line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A full month in advance.
    Recurring,
    /// Part of a month, by calendar days.
    ProRata,
    Setup,
    /// An amount handed to billing.
    Charge,
}

/// One line of the invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedLine {
    pub kind: LineKind,
    /// The service or the charge it comes from.
    pub source_id: String,
    pub label: String,
    /// The days billed, for recurring and pro-rata lines.
    pub period: Option<(Date, Date)>,
    /// Days for a pro-rata, 1 otherwise.
    pub quantity: Decimal,
    /// Price of one unit (the monthly fee divided by the month's days for a
    /// pro-rata, kept exact).
    pub unit_price: Decimal,
    /// The line's amount, rounded once to the cent (R2.12).
    pub amount: Decimal,
    pub vat_percent: Decimal,
    pub rule: String,
    pub explanation: Explanation,
}

/// VAT of one rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatBreakdown {
    pub vat_percent: Decimal,
    /// Sum of the lines at this rate.
    pub base: Decimal,
    /// `base × rate`, rounded once (R2.12).
    pub vat: Decimal,
}

/// A client's monthly invoice, before it is numbered and issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoicePlan {
    pub issue_date: Date,
    pub lines: Vec<PlannedLine>,
    /// By increasing rate.
    pub vat: Vec<VatBreakdown>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

impl InvoicePlan {
    /// Nothing to bill this month.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

fn last_of_month(d: Date) -> Date {
    d.last_of_month()
}

impl Engine {
    /// The invoice of month `year-month` for one client (R2.4).
    pub fn monthly_invoice(
        &self,
        year: i16,
        month: i8,
        services: &[BilledService],
        charges: &[PendingCharge],
    ) -> Result<Explained<InvoicePlan>, EngineError> {
        let b = &self.terms.billing;
        let first = Date::new(year, month, 1).map_err(|e| invalid(e.to_string()))?;
        let issue_date = Date::new(year, month, b.invoice_day.value as i8)
            .map_err(|e| invalid(format!("invoice day: {e}")))?;
        let prev_first = first
            .checked_sub(1.month())
            .map_err(|e| invalid(e.to_string()))?;
        let prev_last = last_of_month(prev_first);
        let this_last = last_of_month(first);
        let mut lines = Vec::new();
        let cycle = &b.invoice_day;
        for s in services {
            let Some(start) = s.billing_start else {
                continue;
            };
            if let Some(last) = s.last_day
                && last < start
            {
                return Err(invalid(format!(
                    "service {}: last day {last} before billing start {start}",
                    s.id
                )));
            }
            // (b) the pro-rata of M-1 for a start during M-1.
            if start >= prev_first && start <= prev_last {
                let to = s.last_day.map_or(prev_last, |l| l.min(prev_last));
                lines.push(self.prorata_line(s, start, to)?);
            }
            // (a) month M in advance, up to the last day if it falls in M.
            if start < first && s.last_day.is_none_or(|l| l >= first) {
                match s.last_day {
                    Some(l) if l < this_last => lines.push(self.prorata_line(s, first, l)?),
                    _ => {
                        let amount = self.round_money(s.monthly_fee);
                        let mut ex = Explanation::default();
                        ex.push(
                            Step::new(&cycle.rule, &cycle.clause)
                                .input("service", &s.id)
                                .input("month", format!("{year}-{month:02}"))
                                .outcome(format!("amount={amount}"))
                                .text(
                                    format!(
                                        "abonnement de {year}-{month:02} facturé à échoir : {}",
                                        eur(amount, Lang::Fr)
                                    ),
                                    format!(
                                        "subscription for {year}-{month:02} billed in advance: {}",
                                        eur(amount, Lang::En)
                                    ),
                                ),
                        );
                        lines.push(PlannedLine {
                            kind: LineKind::Recurring,
                            source_id: s.id.clone(),
                            label: s.label.clone(),
                            period: Some((first, this_last)),
                            quantity: Decimal::ONE,
                            unit_price: s.monthly_fee,
                            amount,
                            vat_percent: s.vat_percent,
                            rule: cycle.rule.clone(),
                            explanation: ex,
                        });
                    }
                }
            }
            // (c) the setup fee, once, after the billing start.
            if start < first && !s.setup_billed && !s.setup_fee.is_zero() {
                let amount = self.round_money(s.setup_fee);
                let mut ex = Explanation::default();
                ex.push(
                    Step::new(&cycle.rule, &cycle.clause)
                        .input("service", &s.id)
                        .input("billing_start", start)
                        .outcome(format!("setup={amount}"))
                        .text(
                            format!(
                                "frais de mise en service, facturés à la mise en service du {start} : {}",
                                eur(amount, Lang::Fr)
                            ),
                            format!(
                                "setup fee, billed at provisioning on {start}: {}",
                                eur(amount, Lang::En)
                            ),
                        ),
                );
                lines.push(PlannedLine {
                    kind: LineKind::Setup,
                    source_id: s.id.clone(),
                    label: s.label.clone(),
                    period: None,
                    quantity: Decimal::ONE,
                    unit_price: s.setup_fee,
                    amount,
                    vat_percent: s.vat_percent,
                    rule: cycle.rule.clone(),
                    explanation: ex,
                });
            }
        }
        // (d)-(f) amounts handed to billing for facts before the issue date.
        for c in charges.iter().filter(|c| c.occurred_on < issue_date) {
            let mut ex = Explanation::default();
            ex.push(
                Step::new(&c.rule, &cycle.clause)
                    .input("charge", &c.id)
                    .input("occurred_on", c.occurred_on)
                    .outcome(format!("amount={}", c.amount))
                    .text(
                        format!(
                            "{} ({}, le {}) : {}",
                            c.label,
                            c.rule,
                            c.occurred_on,
                            eur(c.amount, Lang::Fr)
                        ),
                        format!(
                            "{} ({}, on {}): {}",
                            c.label,
                            c.rule,
                            c.occurred_on,
                            eur(c.amount, Lang::En)
                        ),
                    ),
            );
            lines.push(PlannedLine {
                kind: LineKind::Charge,
                source_id: c.id.clone(),
                label: c.label.clone(),
                period: None,
                quantity: Decimal::ONE,
                unit_price: c.amount,
                amount: self.round_money(c.amount),
                vat_percent: c.vat_percent,
                rule: c.rule.clone(),
                explanation: ex,
            });
        }
        let vat = self.vat_per_rate(lines.iter().map(|l| (l.vat_percent, l.amount)));
        let r = &b.rounding;
        let mut explanation = Explanation::default();
        for v in &vat {
            let (rate, base, tax) = (v.vat_percent, v.base, v.vat);
            explanation.push(
                Step::new(&r.rule, &r.clause)
                    .input("vat_percent", rate)
                    .input("base", base)
                    .outcome(format!("vat={tax}"))
                    .text(
                        format!(
                            "TVA à {} % sur la somme des lignes à ce taux, {} : {}",
                            num(rate, Lang::Fr),
                            eur(base, Lang::Fr),
                            eur(tax, Lang::Fr)
                        ),
                        format!(
                            "VAT at {} % on the sum of the lines at that rate, {}: {}",
                            num(rate, Lang::En),
                            eur(base, Lang::En),
                            eur(tax, Lang::En)
                        ),
                    ),
            );
        }
        let total_excl_vat: Decimal = lines.iter().map(|l| l.amount).sum();
        let total_vat: Decimal = vat.iter().map(|v| v.vat).sum();
        Ok(Explained {
            value: InvoicePlan {
                issue_date,
                lines,
                vat,
                total_excl_vat,
                total_vat,
                total_incl_vat: total_excl_vat + total_vat,
            },
            explanation,
        })
    }

    /// VAT per rate on the sum of the lines at that rate, rounded once
    /// (R2.12, EN 16931 BR-CO-17), by increasing rate; `lines` are
    /// `(vat_percent, amount excluding VAT)`. The one place ciel computes
    /// VAT: the monthly invoice, credit notes and the accounting export.
    pub fn vat_per_rate(
        &self,
        lines: impl IntoIterator<Item = (Decimal, Decimal)>,
    ) -> Vec<VatBreakdown> {
        let mut bases: BTreeMap<Decimal, Decimal> = BTreeMap::new();
        for (rate, amount) in lines {
            *bases.entry(rate.normalize()).or_default() += amount;
        }
        bases
            .into_iter()
            .map(|(rate, base)| VatBreakdown {
                vat_percent: rate,
                base,
                vat: self.round_money(base * rate / Decimal::ONE_HUNDRED),
            })
            .collect()
    }

    fn prorata_line(
        &self,
        s: &BilledService,
        from: Date,
        to: Date,
    ) -> Result<PlannedLine, EngineError> {
        let Explained { value, explanation } = self.prorata(s.monthly_fee, from, to)?;
        Ok(PlannedLine {
            kind: LineKind::ProRata,
            source_id: s.id.clone(),
            label: s.label.clone(),
            period: Some((from, to)),
            quantity: Decimal::from(value.days),
            unit_price: s.monthly_fee / Decimal::from(value.days_in_month),
            amount: value.amount,
            vat_percent: s.vat_percent,
            rule: self.terms.billing.prorata_basis.rule.clone(),
            explanation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// An exact decimal from its literal, as written.
    macro_rules! dec {
        ($x:expr) => {
            stringify!($x).replace(' ', "").parse::<Decimal>().unwrap()
        };
    }

    fn engine() -> Engine {
        Engine::embedded().unwrap()
    }

    fn svc(id: &str, fee: Decimal, start: Option<Date>, last: Option<Date>) -> BilledService {
        BilledService {
            id: id.into(),
            label: id.into(),
            monthly_fee: fee,
            vat_percent: dec!(20),
            billing_start: start,
            last_day: last,
            setup_fee: Decimal::ZERO,
            setup_billed: true,
        }
    }

    fn charge(id: &str, amount: Decimal, on: Date) -> PendingCharge {
        PendingCharge {
            id: id.into(),
            label: id.into(),
            amount,
            vat_percent: dec!(20),
            rule: "R7.5".into(),
            occurred_on: on,
        }
    }

    /// (kind, source, amount) of each line, in order.
    fn summary(p: &InvoicePlan) -> Vec<(LineKind, &str, Decimal)> {
        p.lines
            .iter()
            .map(|l| (l.kind, l.source_id.as_str(), l.amount))
            .collect()
    }

    #[test]
    fn the_june_invoice_follows_the_r2_4_cycle() {
        use LineKind::*;
        let mut a = svc("a", dec!(300), Some(date(2026, 5, 20)), None);
        a.setup_fee = dec!(150);
        a.setup_billed = false;
        let services = [
            // Started 20 May: 12/31 of May, June in advance, the setup fee.
            a,
            // Starts in June itself: nothing before July's invoice.
            svc("b", dec!(100), Some(date(2026, 6, 10)), None),
            // Ends 15 June: 15/30 of June only.
            svc(
                "c",
                dec!(90),
                Some(date(2026, 1, 1)),
                Some(date(2026, 6, 15)),
            ),
            // Ended 31 May: nothing.
            svc(
                "d",
                dec!(50),
                Some(date(2026, 1, 1)),
                Some(date(2026, 5, 31)),
            ),
            // Not provisioned.
            svc("e", dec!(70), None, None),
            // Started and ended in May: 10 to 19 May, 10/31 of 62.
            svc(
                "f",
                dec!(62),
                Some(date(2026, 5, 10)),
                Some(date(2026, 5, 19)),
            ),
            // Ends on 30 June, the month's last day: the whole month.
            svc(
                "g",
                dec!(40),
                Some(date(2026, 2, 1)),
                Some(date(2026, 6, 30)),
            ),
        ];
        let charges = [
            charge("credit", dec!(-120), date(2026, 5, 31)),
            // A fact of the issue day itself waits for July.
            charge("later", dec!(10), date(2026, 6, 1)),
        ];
        let p = engine()
            .monthly_invoice(2026, 6, &services, &charges)
            .unwrap()
            .value;
        assert_eq!(p.issue_date, date(2026, 6, 1));
        assert_eq!(
            summary(&p),
            vec![
                // 300 × 12 / 31 = 116.129... -> 116.13
                (ProRata, "a", dec!(116.13)),
                (Recurring, "a", dec!(300.00)),
                (Setup, "a", dec!(150.00)),
                // 90 × 15 / 30
                (ProRata, "c", dec!(45.00)),
                // 62 × 10 / 31
                (ProRata, "f", dec!(20.00)),
                (Recurring, "g", dec!(40.00)),
                (Charge, "credit", dec!(-120)),
            ]
        );
        // 116.13 + 300 + 150 + 45 + 20 + 40 - 120 = 551.13; VAT 20 % = 110.226 -> 110.23.
        assert_eq!(p.total_excl_vat, dec!(551.13));
        assert_eq!(p.vat.len(), 1);
        assert_eq!(p.total_vat, dec!(110.23));
        assert_eq!(p.total_incl_vat, dec!(661.36));
        assert_eq!(
            p.lines[0].period,
            Some((date(2026, 5, 20), date(2026, 5, 31)))
        );
        assert_eq!(p.lines[0].quantity, dec!(12));
    }

    #[test]
    fn vat_is_per_rate_on_the_sum_of_its_lines() {
        // Three lines of 0.05 at 5.5 %: per line 0.00275 -> 0.00 each, on the
        // sum 0.15 × 5.5 % = 0.00825 -> 0.01 (R2.12).
        let mut services: Vec<BilledService> = (0..3)
            .map(|i| {
                let mut s = svc(&format!("s{i}"), dec!(0.05), Some(date(2026, 1, 1)), None);
                s.vat_percent = dec!(5.5);
                s
            })
            .collect();
        services.push(svc("t", dec!(10), Some(date(2026, 1, 1)), None));
        let p = engine()
            .monthly_invoice(2026, 6, &services, &[])
            .unwrap()
            .value;
        assert_eq!(
            p.vat,
            vec![
                VatBreakdown {
                    vat_percent: dec!(5.5),
                    base: dec!(0.15),
                    vat: dec!(0.01)
                },
                VatBreakdown {
                    vat_percent: dec!(20),
                    base: dec!(10.00),
                    vat: dec!(2.00)
                },
            ]
        );
        assert_eq!(p.total_incl_vat, dec!(12.16));
    }

    #[test]
    fn january_takes_december_of_the_previous_year_and_a_leap_february() {
        let p = engine()
            .monthly_invoice(
                2028,
                3,
                &[svc("a", dec!(290), Some(date(2028, 2, 15)), None)],
                &[],
            )
            .unwrap()
            .value;
        // 15 to 29 February 2028 (leap year): 290 × 15 / 29 = 150.00.
        assert_eq!(p.lines[0].amount, dec!(150.00));
        let p = engine()
            .monthly_invoice(
                2027,
                1,
                &[svc("a", dec!(310), Some(date(2026, 12, 31)), None)],
                &[],
            )
            .unwrap()
            .value;
        // 31 December alone: 310 × 1 / 31 = 10.00, then January in advance.
        assert_eq!(summary(&p)[0].2, dec!(10.00));
        assert_eq!(summary(&p)[1].2, dec!(310.00));
    }

    #[test]
    fn an_inconsistent_service_is_refused() {
        let bad = svc(
            "x",
            dec!(10),
            Some(date(2026, 5, 2)),
            Some(date(2026, 5, 1)),
        );
        assert!(engine().monthly_invoice(2026, 6, &[bad], &[]).is_err());
        assert!(engine().monthly_invoice(2026, 13, &[], &[]).is_err());
    }

    proptest! {
        /// Whatever the services, the totals add up, each rate's VAT is its
        /// rounded base, and no service is billed before its start or
        /// after its last day.
        #[test]
        fn totals_add_up_and_periods_stay_inside_the_service(
            specs in proptest::collection::vec(
                (0i64..100_000, 0i32..500, proptest::option::of(0i32..200), prop::sample::select(vec![dec!(20), dec!(10), dec!(5.5), dec!(0)])),
                0..20,
            )
        ) {
            let base = date(2025, 6, 1);
            let services: Vec<BilledService> = specs
                .iter()
                .enumerate()
                .map(|(i, (cents, start, len, vat))| {
                    let start = base.checked_add((*start).days()).unwrap();
                    let mut s = svc(
                        &format!("s{i}"),
                        Decimal::new(*cents, 2),
                        Some(start),
                        len.map(|l| start.checked_add(l.days()).unwrap()),
                    );
                    s.vat_percent = *vat;
                    s
                })
                .collect();
            let e = engine();
            let p = e.monthly_invoice(2026, 3, &services, &[]).unwrap().value;
            let sum: Decimal = p.lines.iter().map(|l| l.amount).sum();
            prop_assert_eq!(sum, p.total_excl_vat);
            for v in &p.vat {
                prop_assert_eq!(v.vat, e.round_money(v.base * v.vat_percent / Decimal::ONE_HUNDRED));
            }
            prop_assert_eq!(p.total_incl_vat, p.total_excl_vat + p.vat.iter().map(|v| v.vat).sum::<Decimal>());
            for l in &p.lines {
                let s = services.iter().find(|s| s.id == l.source_id).unwrap();
                let (from, to) = l.period.unwrap();
                prop_assert!(from >= s.billing_start.unwrap());
                prop_assert!(s.last_day.is_none_or(|d| to <= d));
                prop_assert!(l.amount <= e.round_money(s.monthly_fee));
            }
        }
    }
}
