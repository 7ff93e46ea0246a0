//! Invariants of payment allocation (issue 6 item 5): whatever the open
//! invoices and the amount, nothing is lost or created, no invoice gets more
//! than what remains on it, and the excess exists only once every invoice
//! considered is settled.

use ciel_engine::receivables::{Outstanding, allocate};
use jiff::Timestamp;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn open(cents: &[(i64, i64)]) -> Vec<Outstanding> {
    cents
        .iter()
        .enumerate()
        .map(|(i, (due_day, c))| Outstanding {
            id: format!("inv{i}"),
            number: format!("F{i:04}"),
            due_at: Timestamp::from_second(1_780_000_000 + due_day * 86_400).unwrap(),
            remaining: Decimal::new(*c, 2),
        })
        .collect()
}

proptest! {
    #[test]
    fn allocation_keeps_every_cent(
        invoices in prop::collection::vec((0i64..60, 1i64..500_000), 0..12),
        amount in 1i64..3_000_000,
    ) {
        let open = open(&invoices);
        let amount = Decimal::new(amount, 2);
        let a = allocate(amount, &open, &[]).unwrap();
        let allocated: Decimal = a.lines.iter().map(|(_, x)| *x).sum();
        prop_assert_eq!(allocated + a.excess, amount);
        prop_assert!(a.excess >= Decimal::ZERO);
        for (id, x) in &a.lines {
            let o = open.iter().find(|o| &o.id == id).unwrap();
            prop_assert!(*x > Decimal::ZERO && *x <= o.remaining);
        }
        let due: Decimal = open.iter().map(|o| o.remaining).sum();
        if a.excess > Decimal::ZERO {
            prop_assert_eq!(allocated, due);
        }
        // Oldest due first: every invoice settled in part or in full is due
        // no later than any invoice left untouched.
        let touched: Vec<&Outstanding> = open.iter().filter(|o| a.lines.iter().any(|(id, _)| id == &o.id)).collect();
        for o in open.iter().filter(|o| !touched.iter().any(|t| t.id == o.id)) {
            for t in &touched {
                prop_assert!((t.due_at, &t.number) <= (o.due_at, &o.number));
            }
        }
    }
}
