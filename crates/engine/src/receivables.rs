//! Receivables (issue 6 items 5-7): how a payment settles invoices, what a
//! client owes, and the contest window of an invoice (R2.7).
//!
//! Allocation settles the invoices the payer names, in its order, else the
//! oldest due first (then by number): the oldest debt is the one that runs
//! interest longest (R2.6). What goes beyond the invoices is the excess; the
//! caller refuses it unless the payer chose what to do with it.

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::explain::{Lang, eur};
use crate::{Engine, Explained, Explanation, Step};

/// An invoice with what remains to pay on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outstanding {
    pub id: String,
    pub number: String,
    pub due_at: Timestamp,
    /// Total minus what payments already settled; positive.
    pub remaining: Decimal,
}

/// What a payment settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// (invoice id, amount), in the order settled.
    pub lines: Vec<(String, Decimal)>,
    /// The part of the payment beyond the invoices settled.
    pub excess: Decimal,
}

/// Why a payment cannot be allocated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the amount must be positive, in cents")]
    Amount,
    #[error("invoice {0} is not an unpaid invoice of this client")]
    UnknownInvoice(String),
}

/// Settles `outstanding` with `amount`: the invoices of `chosen` in its
/// order when given, else all of them oldest due first.
pub fn allocate(
    amount: Decimal,
    outstanding: &[Outstanding],
    chosen: &[String],
) -> Result<Allocation, AllocationError> {
    if amount <= Decimal::ZERO || amount.round_dp(2) != amount {
        return Err(AllocationError::Amount);
    }
    let order: Vec<&Outstanding> = if chosen.is_empty() {
        let mut all: Vec<&Outstanding> = outstanding.iter().collect();
        all.sort_by(|a, b| (a.due_at, &a.number).cmp(&(b.due_at, &b.number)));
        all
    } else {
        chosen
            .iter()
            .map(|id| {
                outstanding
                    .iter()
                    .find(|o| &o.id == id)
                    .ok_or_else(|| AllocationError::UnknownInvoice(id.clone()))
            })
            .collect::<Result<_, _>>()?
    };
    let mut left = amount;
    let mut lines = Vec::new();
    for o in order {
        if left <= Decimal::ZERO {
            break;
        }
        let part = left.min(o.remaining);
        if part > Decimal::ZERO && !lines.iter().any(|(id, _)| id == &o.id) {
            lines.push((o.id.clone(), part));
            left -= part;
        }
    }
    Ok(Allocation {
        lines,
        excess: left,
    })
}

/// The sums a client's balance is made of, each positive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceInput {
    pub invoices: Decimal,
    pub credit_notes: Decimal,
    /// Payments not rejected.
    pub payments: Decimal,
    pub refunds: Decimal,
}

/// What a client owes: positive when it owes, negative when the provider
/// holds a credit in its favour (R7.5).
pub fn balance(i: &BalanceInput) -> Explained<Decimal> {
    let b = i.invoices - i.credit_notes - i.payments + i.refunds;
    let mut ex = Explanation::default();
    ex.push(
        Step::new("R7.5", "A2 II.C")
            .input("invoices", i.invoices)
            .input("credit_notes", i.credit_notes)
            .input("payments", i.payments)
            .input("refunds", i.refunds)
            .outcome(format!("balance={b}"))
            .text(
                format!(
                    "factures {} − avoirs {} − paiements {} + remboursements {} = {}",
                    eur(i.invoices, Lang::Fr),
                    eur(i.credit_notes, Lang::Fr),
                    eur(i.payments, Lang::Fr),
                    eur(i.refunds, Lang::Fr),
                    eur(b, Lang::Fr)
                ),
                format!(
                    "invoices {} − credit notes {} − payments {} + refunds {} = {}",
                    eur(i.invoices, Lang::En),
                    eur(i.credit_notes, Lang::En),
                    eur(i.payments, Lang::En),
                    eur(i.refunds, Lang::En),
                    eur(b, Lang::En)
                ),
            ),
    );
    Explained {
        value: b,
        explanation: ex,
    }
}

/// An invoice contested too late (R2.7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "R2.7 (CG 3.6): an invoice is contested within {days} days of its date ({issued}); the last day was {last_day}"
)]
pub struct ContestTooLate {
    pub issued: Date,
    pub last_day: Date,
    pub days: u32,
}

impl Engine {
    /// The day an instant falls on in the contract's zone (Europe/Paris).
    pub fn local_day(&self, at: Timestamp) -> Date {
        at.to_zoned(self.month_tz.clone()).date()
    }

    /// Whether an invoice issued at `issued_at` may be contested at `at`:
    /// on any day up to its date + `billing.invoice_contest_days`, days
    /// counted in Europe/Paris (R2.7). Returns the last day.
    pub fn invoice_contest_window(
        &self,
        issued_at: Timestamp,
        at: Timestamp,
    ) -> Result<Explained<Date>, ContestTooLate> {
        let p = &self.terms.billing.invoice_contest_days;
        let issued = self.local_day(issued_at);
        let last_day = issued
            .checked_add(jiff::Span::new().days(i64::from(p.value)))
            .unwrap_or(Date::MAX);
        let today = self.local_day(at);
        if today > last_day {
            return Err(ContestTooLate {
                issued,
                last_day,
                days: p.value,
            });
        }
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&p.rule, &p.clause)
                .input("invoice_date", issued)
                .input("today", today)
                .outcome(format!("last_day={last_day}"))
                .text(
                    format!("facture du {issued} : contestation possible jusqu'au {last_day} inclus ({} jours)", p.value),
                    format!("invoice dated {issued}: may be contested until {last_day} included ({} days)", p.value),
                ),
        );
        Ok(Explained {
            value: last_day,
            explanation: ex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn inv(id: &str, due: &str, remaining: &str) -> Outstanding {
        Outstanding {
            id: id.into(),
            number: format!("F-{id}"),
            due_at: due.parse().unwrap(),
            remaining: d(remaining),
        }
    }
    fn lines(a: &Allocation) -> Vec<(&str, String)> {
        a.lines
            .iter()
            .map(|(i, x)| (i.as_str(), x.to_string()))
            .collect()
    }

    /// Oldest due first; a partial payment stops inside the second invoice.
    #[test]
    fn allocation_order_partial_and_excess() {
        let open = [
            inv("b", "2026-06-15T22:00:00Z", "200.00"),
            inv("a", "2026-05-15T22:00:00Z", "120.00"),
            inv("c", "2026-07-15T22:00:00Z", "50.00"),
        ];
        type Case = (
            &'static str,
            &'static [&'static str],
            Vec<(&'static str, &'static str)>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            ("100.00", &[], vec![("a", "100.00")], "0"),
            ("120.00", &[], vec![("a", "120.00")], "0"),
            ("150.00", &[], vec![("a", "120.00"), ("b", "30.00")], "0"),
            (
                "370.00",
                &[],
                vec![("a", "120.00"), ("b", "200.00"), ("c", "50.00")],
                "0",
            ),
            (
                "370.01",
                &[],
                vec![("a", "120.00"), ("b", "200.00"), ("c", "50.00")],
                "0.01",
            ),
            (
                "60.00",
                &["c", "a"],
                vec![("c", "50.00"), ("a", "10.00")],
                "0",
            ),
            ("80.00", &["c"], vec![("c", "50.00")], "30.00"),
        ];
        for (amount, chosen, want, excess) in cases {
            let chosen: Vec<String> = chosen.iter().map(|s| s.to_string()).collect();
            let a = allocate(d(amount), &open, &chosen).unwrap();
            let want: Vec<(&str, String)> = want.iter().map(|(i, x)| (*i, x.to_string())).collect();
            assert_eq!(lines(&a), want, "{amount} {chosen:?}");
            assert_eq!(a.excess, d(excess), "{amount} {chosen:?}");
        }
        assert_eq!(allocate(d("0"), &open, &[]), Err(AllocationError::Amount));
        assert_eq!(
            allocate(d("1.005"), &open, &[]),
            Err(AllocationError::Amount)
        );
        assert_eq!(
            allocate(d("1"), &open, &["zz".into()]),
            Err(AllocationError::UnknownInvoice("zz".into()))
        );
        // Nothing due: everything is excess.
        assert_eq!(allocate(d("5"), &[], &[]).unwrap().excess, d("5"));
    }

    #[test]
    fn balance_signs() {
        let cases = [
            ("1000", "0", "0", "0", "1000"),
            ("1000", "100", "900", "0", "0"),
            ("1000", "100", "1000", "0", "-100"),
            ("1000", "100", "1000", "100", "0"),
        ];
        for (i, c, p, r, want) in cases {
            let b = balance(&BalanceInput {
                invoices: d(i),
                credit_notes: d(c),
                payments: d(p),
                refunds: d(r),
            });
            assert_eq!(b.value, d(want));
            assert_eq!(b.explanation.rules(), vec!["R7.5"]);
        }
    }

    /// Issued on 1 June 2026 at 00:00 Paris (31 May 22:00 UTC): day 30 is
    /// 1 July, contest allowed until 1 July 23:59:59 Paris (21:59:59 UTC).
    #[test]
    fn contest_window_is_30_days_in_paris() {
        let e = Engine::new(ciel_terms::embedded()).unwrap();
        let issued: Timestamp = "2026-05-31T22:00:00Z".parse().unwrap();
        let ok = e
            .invoice_contest_window(issued, "2026-07-01T21:59:59Z".parse().unwrap())
            .unwrap();
        assert_eq!(ok.value, jiff::civil::date(2026, 7, 1));
        assert_eq!(ok.explanation.rules(), vec!["R2.7"]);
        let late = e
            .invoice_contest_window(issued, "2026-07-01T22:00:00Z".parse().unwrap())
            .unwrap_err();
        assert_eq!(late.last_day, jiff::civil::date(2026, 7, 1));
        assert!(late.to_string().starts_with("R2.7"));
    }

    /// R2.6 across a half-year boundary, through the engine: 1 000 EUR due
    /// 20 June 2026, paid 10 July 2026: 10 days (21-30 June) at the rate of
    /// 1 January and 10 days (1-10 July) at the rate of 1 July.
    #[test]
    fn interest_across_a_half_year() {
        let e = Engine::new(ciel_terms::embedded()).unwrap();
        let r = e
            .late_interest(
                d("1000"),
                jiff::civil::date(2026, 6, 20),
                jiff::civil::date(2026, 7, 10),
            )
            .unwrap()
            .value;
        assert_eq!(r.days_late, 20);
        assert_eq!(r.segments.len(), 2);
        assert_eq!((r.segments[0].days, r.segments[1].days), (10, 10));
        // 1 000 × 12.15 % × 20 / 365 = 6.657534... (2.15 % on 1 January
        // and on 1 July 2026, + 10 points).
        assert_eq!(r.interest, d("6.66"));
        assert_eq!(r.indemnity, d("40"));
    }
}
