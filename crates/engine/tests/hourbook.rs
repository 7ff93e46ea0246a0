//! The hour book (R8.2-R8.3, CS 5.3) at its boundaries: 15-minute steps,
//! the business/non-business split (holidays, DST), the balance reaching
//! exactly zero, overruns with and without authorisation, month-end lapses
//! without managed services; and its invariants for any input.

use ciel_engine::Engine;
use ciel_engine::hourledger::{
    Authorisation, EntryKind, Intervention, InterventionKind, LedgerError, LedgerInput,
    ManagedPeriod, Purchase,
};
use jiff::Timestamp;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn eng() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::embedded().unwrap())
}
fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn purchase(at: &str, minutes: &str) -> Purchase {
    Purchase {
        id: format!("p{at}"),
        at: ts(at),
        minutes: d(minutes),
    }
}
fn work(id: &str, a: &str, b: &str) -> Intervention {
    Intervention {
        id: id.into(),
        start: ts(a),
        end: ts(b),
        kind: InterventionKind::Normal,
    }
}
fn auth(id: &str, at: &str, max: &str) -> Authorisation {
    Authorisation {
        id: id.into(),
        given_at: ts(at),
        max_minutes: d(max),
    }
}

#[test]
fn charge_table() {
    #[rustfmt::skip]
    let cases = [
        // 15-minute steps: 1 s, 15 min, 15 min 1 s.
        ("2026-03-02T10:00:00+01:00", "2026-03-02T10:00:01+01:00", "15"),
        ("2026-03-02T10:00:00+01:00", "2026-03-02T10:15:00+01:00", "15"),
        ("2026-03-02T10:00:00+01:00", "2026-03-02T10:15:01+01:00", "30"),
        // Across the opening: 10 min before 09:00 (15 × 2) + 10 min after (15).
        ("2026-03-02T08:50:00+01:00", "2026-03-02T09:10:00+01:00", "45"),
        // Exactly the opening hours of a Monday: 9 h = 540 business minutes.
        ("2026-03-02T09:00:00+01:00", "2026-03-02T18:00:00+01:00", "540"),
        // Wed 13 May 17:00 → Thu 14 May 2026 (Ascension) 10:00: 60 business
        // minutes + 16 h outside (the holiday counts as outside) × 2.
        ("2026-05-13T17:00:00+02:00", "2026-05-14T10:00:00+02:00", "1980"),
        // Spring DST (29 March 2026): 23:00 → 04:00 wall clock is 4 h → 480.
        ("2026-03-28T23:00:00+01:00", "2026-03-29T04:00:00+02:00", "480"),
        // Autumn DST (25 October 2026): 01:30 CEST → 03:30 CET is 3 h → 360.
        ("2026-10-25T01:30:00+02:00", "2026-10-25T03:30:00+01:00", "360"),
    ];
    for (a, b, minutes) in cases {
        let r = eng().hour_book_charge(ts(a), ts(b)).unwrap();
        assert_eq!(r.value.charged_minutes, d(minutes), "{a} → {b}");
        assert!(r.explanation.rules().contains(&"R8.2"));
    }
}

#[test]
fn recording_checks() {
    let e = eng();
    let bought = ts("2026-03-01T00:00:00Z");
    let now = ts("2026-03-10T12:00:00Z");
    let ok = e.hour_book_check_intervention(
        ts("2026-03-09T10:00:00Z"),
        ts("2026-03-09T11:00:00Z"),
        now,
        bought,
    );
    assert_eq!(ok, Ok(()));
    for (a, b, field) in [
        ("2026-03-09T11:00:00Z", "2026-03-09T10:00:00Z", "end"),
        ("2026-03-09T11:00:00Z", "2026-03-09T11:00:00Z", "end"),
        ("2026-03-10T11:00:00Z", "2026-03-10T12:00:01Z", "end"),
        ("2026-02-28T23:00:00Z", "2026-03-01T01:00:00Z", "start"),
    ] {
        let r = e
            .hour_book_check_intervention(ts(a), ts(b), now, bought)
            .unwrap_err();
        assert_eq!(r.field, field, "{a} → {b}");
        assert!(r.message.starts_with("R8.2 (CS 5.3)"), "{}", r.message);
    }
}

fn ledger_input(interventions: Vec<Intervention>, auths: Vec<Authorisation>) -> LedgerInput {
    LedgerInput {
        purchases: vec![purchase("2026-03-02T08:00:00Z", "60")],
        interventions,
        authorisations: auths,
        managed: vec![ManagedPeriod {
            from: ts("2026-01-01T00:00:00Z"),
            until: None,
        }],
        at: ts("2026-06-01T00:00:00Z"),
    }
}

#[test]
fn balance_reaches_exactly_zero_without_authorisation() {
    let l = eng()
        .hour_book_ledger(&ledger_input(
            vec![work(
                "i1",
                "2026-03-03T10:00:00+01:00",
                "2026-03-03T11:00:00+01:00",
            )],
            vec![],
        ))
        .unwrap();
    assert_eq!(l.balance_minutes, Decimal::ZERO);
    assert_eq!(l.overrun_minutes, Decimal::ZERO);
    assert_eq!(l.charged_minutes, d("60"));
}

#[test]
fn overrun_needs_a_written_authorisation_given_in_time() {
    let e = eng();
    let two = || {
        vec![
            work(
                "i1",
                "2026-03-03T10:00:00+01:00",
                "2026-03-03T11:00:00+01:00",
            ),
            work(
                "i2",
                "2026-03-04T10:00:00+01:00",
                "2026-03-04T10:01:00+01:00",
            ),
        ]
    };
    // None, too small, or given after the work: refused, naming R8.2.
    for auths in [
        vec![],
        vec![auth("a1", "2026-03-04T09:00:00+01:00", "10")],
        vec![auth("a1", "2026-03-04T10:02:00+01:00", "60")],
    ] {
        let err = e.hour_book_ledger(&ledger_input(two(), auths)).unwrap_err();
        let LedgerError::OverrunNotAuthorised {
            intervention,
            needed,
            rule,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(
            (intervention.as_str(), *needed, rule.as_str()),
            ("i2", d("15"), "R8.2")
        );
        assert!(err.to_string().starts_with("R8.2 (CS 5.3)"));
    }
    // Given during the work (before its end), covering it: billed, balance 0.
    let l = e
        .hour_book_ledger(&ledger_input(
            two(),
            vec![
                auth("a1", "2026-03-04T10:00:30+01:00", "10"),
                auth("a2", "2026-03-01T10:00:00+01:00", "10"),
            ],
        ))
        .unwrap();
    assert_eq!((l.balance_minutes, l.overrun_minutes), (d("0"), d("15")));
    let EntryKind::Intervention {
        authorisations,
        overrun_minutes,
        ..
    } = &l.intervention("i2").unwrap().kind
    else {
        panic!()
    };
    // The older authorisation is used first.
    assert_eq!(
        authorisations,
        &vec![("a2".to_string(), d("10")), ("a1".to_string(), d("5"))]
    );
    assert_eq!(*overrun_minutes, d("15"));
    let amount = e.hour_book_overrun_amount(d("15"), d("90"));
    assert_eq!(amount.value, d("22.50"));
    assert_eq!(
        e.hour_book_overrun_amount(d("10"), d("100")).value,
        d("16.67")
    );
}

#[test]
fn restoration_is_taken_from_the_book_citing_r8_3() {
    let mut i = work(
        "r",
        "2026-03-03T10:00:00+01:00",
        "2026-03-03T10:30:00+01:00",
    );
    i.kind = InterventionKind::ServerRestoration;
    let l = eng()
        .hour_book_ledger(&ledger_input(vec![i], vec![]))
        .unwrap();
    assert_eq!(l.balance_minutes, d("30"));
    let rules = l.intervention("r").unwrap().explanation.rules();
    assert_eq!(rules, vec!["R8.3", "R8.2"]);
}

#[test]
fn hours_lapse_at_a_month_end_without_managed_services() {
    let e = eng();
    let base = |managed: Vec<ManagedPeriod>, at: &str| LedgerInput {
        purchases: vec![purchase("2026-03-10T08:00:00Z", "120")],
        interventions: vec![work(
            "i1",
            "2026-03-11T10:00:00+01:00",
            "2026-03-11T10:30:00+01:00",
        )],
        authorisations: vec![],
        managed,
        at: ts(at),
    };
    // Read before the month end: nothing lapsed yet.
    let l = e
        .hour_book_ledger(&base(vec![], "2026-03-31T21:59:59Z"))
        .unwrap();
    assert_eq!(l.balance_minutes, d("90"));
    // 1 April 00:00 Paris is 2026-03-31T22:00Z: the 90 minutes lapse.
    let l = e
        .hour_book_ledger(&base(vec![], "2026-03-31T22:00:00Z"))
        .unwrap();
    assert_eq!((l.balance_minutes, l.lapsed_minutes), (d("0"), d("90")));
    assert!(matches!(l.entries.last().unwrap().kind, EntryKind::Lapse));
    // A managed-services order in force at the month change: carried over.
    let running = ManagedPeriod {
        from: ts("2026-01-01T00:00:00Z"),
        until: None,
    };
    let l = e
        .hour_book_ledger(&base(vec![running], "2027-01-01T00:00:00Z"))
        .unwrap();
    assert_eq!((l.balance_minutes, l.lapsed_minutes), (d("90"), d("0")));
    // Ended exactly at the month change (exclusive end): lapsed then.
    let ended = ManagedPeriod {
        from: ts("2026-01-01T00:00:00Z"),
        until: Some(ts("2026-04-30T22:00:00Z")),
    };
    let l = e
        .hour_book_ledger(&base(vec![ended], "2026-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(l.lapsed_minutes, d("90"));
    assert_eq!(l.entries.last().unwrap().at, ts("2026-04-30T22:00:00Z"));
}

proptest! {
    /// balance = purchased − (charged − overrun) − lapsed, never negative;
    /// without an authorisation there is no overrun (or the ledger refuses).
    #[test]
    fn balance_is_purchases_minus_charges(
        buys in prop::collection::vec((0i64..90 * 86_400, 1i64..40), 1..4),
        works in prop::collection::vec((0i64..90 * 86_400, 1i64..6 * 3600), 0..8),
        auths in prop::collection::vec((0i64..90 * 86_400, 0i64..600), 0..3),
        managed in any::<bool>(),
    ) {
        let t0 = ts("2026-01-15T00:00:00Z").as_second();
        let at = |s: i64| Timestamp::from_second(t0 + s).unwrap();
        let input = LedgerInput {
            purchases: buys.iter().enumerate().map(|(n, (s, h))| Purchase {
                id: format!("p{n}"), at: at(*s), minutes: Decimal::from(h * 60),
            }).collect(),
            interventions: works.iter().enumerate().map(|(n, (s, len))| Intervention {
                id: format!("i{n}"), start: at(*s), end: at(s + len), kind: InterventionKind::Normal,
            }).collect(),
            authorisations: auths.iter().enumerate().map(|(n, (s, m))| Authorisation {
                id: format!("a{n}"), given_at: at(*s), max_minutes: Decimal::from(*m),
            }).collect(),
            managed: if managed {
                vec![ManagedPeriod { from: at(0), until: None }]
            } else {
                vec![]
            },
            at: at(120 * 86_400),
        };
        match eng().hour_book_ledger(&input) {
            Ok(l) => {
                prop_assert!(l.balance_minutes >= Decimal::ZERO);
                prop_assert_eq!(
                    l.balance_minutes,
                    l.purchased_minutes - (l.charged_minutes - l.overrun_minutes) - l.lapsed_minutes
                );
                let authorised: Decimal = input.authorisations.iter().map(|a| a.max_minutes).sum();
                prop_assert!(l.overrun_minutes <= authorised);
                if managed {
                    prop_assert_eq!(l.lapsed_minutes, Decimal::ZERO);
                }
                for e in &l.entries {
                    prop_assert!(e.balance_after >= Decimal::ZERO);
                }
            }
            Err(LedgerError::OverrunNotAuthorised { balance, needed, authorised, .. }) => {
                prop_assert!(needed - balance > authorised);
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}
