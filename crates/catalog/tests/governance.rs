//! R1.2 at each boundary, and its invariants.

use ciel_catalog::governance::*;
use ciel_engine::explain::Lang;
use jiff::civil::date;
use jiff::{Timestamp, civil::Date, tz::TimeZone};
use proptest::prelude::*;

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

/// An instant given as a Paris wall-clock time.
fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    date(y, m, d)
        .at(h, min, 0, 0)
        .to_zoned(paris())
        .unwrap()
        .timestamp()
}

fn v1() -> VersionKey {
    VersionKey::new("v1", date(2025, 1, 7))
}

/// v2, effective 1 March 2026, notified 1 February 2026 at 10:00: its
/// delay's last day is 3 March, it applies on 4 March at 00:00.
fn n2() -> Notice {
    Notice {
        version: VersionKey::new("v2", date(2026, 3, 1)),
        notified_at: at(2026, 2, 1, 10, 0),
        delay_days: 30,
    }
}

/// v3, effective 1 May 2026, notified 1 April 2026: applies on 2 May.
fn n3() -> Notice {
    Notice {
        version: VersionKey::new("v3", date(2026, 5, 1)),
        notified_at: at(2026, 4, 1, 9, 0),
        delay_days: 30,
    }
}

fn objection(v: &str, t: Timestamp) -> Objection {
    Objection {
        version: v.into(),
        received_at: t,
    }
}

fn gov(
    notices: &[Notice],
    objections: &[Objection],
    renewals: &[Date],
    now: Timestamp,
) -> Governance {
    let pinned = v1();
    governing(
        OrderTerms {
            pinned: &pinned,
            order_date: date(2026, 1, 10),
            notices,
            objections,
            renewals,
        },
        &paris(),
        now,
    )
}

#[test]
fn pinned_until_the_end_of_the_thirtieth_day() {
    let g = gov(&[n2()], &[], &[], at(2026, 3, 3, 23, 59));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::PinnedAtOrderDate)
    );
    assert_eq!(g.since, at(2026, 1, 10, 0, 0));
    assert_eq!(g.pending.len(), 1);
    assert_eq!(g.pending[0].applies_at, at(2026, 3, 4, 0, 0));
    assert_eq!(g.pending[0].objection_deadline, at(2026, 3, 4, 0, 0));
    let g = gov(&[n2()], &[], &[], at(2026, 3, 4, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v2", Reason::AppliedAfterNotice)
    );
    assert_eq!(g.since, at(2026, 3, 4, 0, 0));
    assert!(g.pending.is_empty());
    assert!(g.explain(Lang::Fr).contains("CG 2.4 (R1.2)"));
    assert!(g.explain(Lang::En).contains("without objection"));
}

#[test]
fn a_notice_is_not_known_before_it_is_sent() {
    let g = gov(&[n2()], &[], &[], at(2026, 2, 1, 9, 59));
    assert_eq!(g.version, "v1");
    assert!(g.pending.is_empty());
}

#[test]
fn never_before_the_effective_date() {
    let mut n = n2();
    n.version.effective_date = date(2026, 4, 1);
    assert_eq!(
        gov(&[n.clone()], &[], &[], at(2026, 3, 31, 23, 0)).version,
        "v1"
    );
    assert_eq!(gov(&[n], &[], &[], at(2026, 4, 1, 0, 0)).version, "v2");
}

#[test]
fn objection_on_day_30_holds_on_day_31_does_not() {
    let now = at(2026, 3, 10, 12, 0);
    let on_30 = [objection("v2", at(2026, 3, 3, 23, 59))];
    let g = gov(&[n2()], &on_30, &[], now);
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::ObjectionHold)
    );
    assert_eq!(g.hold_until, None);
    assert!(g.explain(Lang::En).contains("no renewal to come"));
    let on_31 = [objection("v2", at(2026, 3, 4, 0, 0))];
    let g = gov(&[n2()], &on_31, &[], now);
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v2", Reason::AppliedAfterNotice)
    );
    // An objection to another version does not hold this one.
    let other = [objection("v3", at(2026, 2, 2, 0, 0))];
    assert_eq!(gov(&[n2()], &other, &[], now).version, "v2");
}

#[test]
fn an_objection_holds_until_the_renewal_day_exactly() {
    let obj = [objection("v2", at(2026, 2, 15, 8, 0))];
    let renewals = [date(2026, 6, 1), date(2027, 1, 1)];
    let g = gov(&[n2()], &obj, &renewals, at(2026, 5, 31, 23, 59));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::ObjectionHold)
    );
    assert_eq!(g.hold_until, Some(date(2026, 6, 1)));
    let g = gov(&[n2()], &obj, &renewals, at(2026, 6, 1, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v2", Reason::AcceptedAtRenewal)
    );
    assert_eq!(g.since, at(2026, 6, 1, 0, 0));
    assert_eq!(g.hold_until, None);
}

#[test]
fn a_renewal_before_any_notice_changes_nothing() {
    let g = gov(&[n2()], &[], &[date(2026, 1, 20)], at(2026, 1, 25, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::PinnedAtOrderDate)
    );
}

#[test]
fn successive_versions_apply_in_turn() {
    let ns = [n2(), n3()];
    assert_eq!(gov(&ns, &[], &[], at(2026, 3, 4, 0, 0)).version, "v2");
    assert_eq!(gov(&ns, &[], &[], at(2026, 5, 1, 23, 59)).version, "v2");
    let g = gov(&ns, &[], &[], at(2026, 5, 2, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v3", Reason::AppliedAfterNotice)
    );
}

#[test]
fn a_version_published_during_a_hold_applies_on_its_own() {
    let ns = [n2(), n3()];
    let obj = [objection("v2", at(2026, 2, 2, 0, 0))];
    let renewals = [date(2026, 9, 1)];
    let g = gov(&ns, &obj, &renewals, at(2026, 4, 15, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::ObjectionHold)
    );
    assert_eq!(
        g.pending
            .iter()
            .map(|p| p.version.as_str())
            .collect::<Vec<_>>(),
        ["v3"]
    );
    let g = gov(&ns, &obj, &renewals, at(2026, 5, 2, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v3", Reason::AppliedAfterNotice)
    );
    assert_eq!(g.hold_until, None);
}

#[test]
fn objecting_to_both_waits_for_the_renewal_then_takes_the_latest_in_force() {
    let ns = [n2(), n3()];
    let obj = [
        objection("v2", at(2026, 2, 2, 0, 0)),
        objection("v3", at(2026, 4, 2, 0, 0)),
    ];
    let g = gov(&ns, &obj, &[date(2026, 9, 1)], at(2026, 8, 31, 12, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v1", Reason::ObjectionHold)
    );
    let g = gov(&ns, &obj, &[date(2026, 9, 1)], at(2026, 9, 1, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v3", Reason::AcceptedAtRenewal)
    );
}

#[test]
fn a_renewal_takes_only_a_version_already_effective() {
    // v3 is notified on 1 April but effective on 1 May: a renewal on 15
    // April accepts v2, the version then in force.
    let ns = [n2(), n3()];
    let obj = [objection("v2", at(2026, 2, 2, 0, 0))];
    let g = gov(&ns, &obj, &[date(2026, 4, 15)], at(2026, 4, 20, 0, 0));
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v2", Reason::AcceptedAtRenewal)
    );
    assert_eq!(
        gov(&ns, &obj, &[date(2026, 4, 15)], at(2026, 5, 2, 0, 0)).version,
        "v3"
    );
}

#[test]
fn a_renewal_during_the_delay_accepts_the_notified_version() {
    let g = gov(
        &[n2()],
        &[objection("v2", at(2026, 2, 3, 0, 0))],
        &[date(2026, 3, 2)],
        at(2026, 3, 2, 1, 0),
    );
    assert_eq!(
        (g.version.as_str(), g.reason),
        ("v2", Reason::AcceptedAtRenewal)
    );
    assert!(g.pending.is_empty());
}

#[test]
fn older_versions_are_ignored() {
    let old = Notice {
        version: VersionKey::new("v0", date(2024, 1, 1)),
        notified_at: at(2026, 2, 1, 0, 0),
        delay_days: 30,
    };
    assert_eq!(
        gov(&[old], &[], &[date(2026, 6, 1)], at(2027, 1, 1, 0, 0)).version,
        "v1"
    );
}

#[test]
fn days_are_paris_days_across_dst() {
    // Notified on 1 March 2026 at 00:30 Paris; day 30 is 31 March (DST
    // started on 29 March): it applies at 00:00 Paris on 1 April.
    let n = Notice {
        version: VersionKey::new("v2", date(2026, 3, 1)),
        notified_at: at(2026, 3, 1, 0, 30),
        delay_days: 30,
    };
    assert_eq!(n.applies_at(&paris()), at(2026, 4, 1, 0, 0));
    assert!(n.objection_in_time(&paris(), at(2026, 3, 31, 23, 59)));
    assert!(!n.objection_in_time(&paris(), at(2026, 4, 1, 0, 0)));
    assert!(!n.objection_in_time(&paris(), at(2026, 3, 1, 0, 29)));
}

fn arb_case() -> impl Strategy<Value = (Vec<Notice>, Vec<Objection>, Vec<Date>, Timestamp)> {
    let base = at(2026, 1, 10, 0, 0).as_second();
    let span = 400 * 86_400i64;
    let notices =
        prop::collection::vec((0..span, -60i32..300, 0u32..60), 0..5).prop_map(move |v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (t, eff, d))| Notice {
                    version: VersionKey::new(
                        format!("v{}", i + 2),
                        date(2026, 1, 10)
                            .checked_add(jiff::Span::new().days(eff))
                            .unwrap(),
                    ),
                    notified_at: Timestamp::from_second(base + t).unwrap(),
                    delay_days: d,
                })
                .collect::<Vec<_>>()
        });
    let objections = prop::collection::vec((2usize..7, 0..span), 0..6).prop_map(move |v| {
        v.into_iter()
            .map(|(i, t)| objection(&format!("v{i}"), Timestamp::from_second(base + t).unwrap()))
            .collect::<Vec<_>>()
    });
    let renewals = prop::collection::vec(0i32..500, 0..3).prop_map(|v| {
        v.into_iter()
            .map(|d| {
                date(2026, 1, 10)
                    .checked_add(jiff::Span::new().days(d))
                    .unwrap()
            })
            .collect::<Vec<_>>()
    });
    (notices, objections, renewals, 0..span + 86_400 * 100)
        .prop_map(move |(n, o, r, now)| (n, o, r, Timestamp::from_second(base + now).unwrap()))
}

proptest! {
    /// The governing version is the pinned one or one notified and
    /// effective by now, never older than the pinned one; without a newer
    /// version it is the pinned one.
    #[test]
    fn governs_only_published_versions_never_older((notices, objections, renewals, now) in arb_case()) {
        let g = gov(&notices, &objections, &renewals, now);
        let pinned = v1();
        if g.version != pinned.id {
            let n = notices.iter().find(|n| n.version.id == g.version).expect("a notified version");
            prop_assert!(n.notified_at <= now);
            prop_assert!(n.version > pinned);
            prop_assert!(n.version.effective_date <= now.to_zoned(paris()).date());
            prop_assert!(g.since <= now);
        }
        prop_assert!(g.pending.iter().all(|p| p.version != g.version));
        // Time only moves versions forward.
        let later = gov(&notices, &objections, &renewals, now + jiff::SignedDuration::from_hours(24 * 17));
        let key = |id: &str| notices.iter().find(|n| n.version.id == id).map(|n| n.version.clone()).unwrap_or_else(v1);
        prop_assert!(key(&later.version) >= key(&g.version));
    }
}
