//! PRA (R10, R2.10): designated users, test notices at 14/15 and 29/30
//! days, activation days across the clock changes.

mod common;

use ciel_operations::pra::{Designation, PraAction, TestKind};
use common::{ops, paris, secs};

#[test]
fn only_designated_users_trigger_a_failover() {
    let ops = ops();
    let designations = vec![
        Designation {
            user: "alice".into(),
            actions: vec![PraAction::TriggerFailover, PraAction::ChangePolicies],
            from: paris("2026-01-01 00:00:00"),
            revoked_at: Some(paris("2026-06-01 00:00:00")),
        },
        Designation {
            user: "bob".into(),
            actions: vec![PraAction::ChangePolicies],
            from: paris("2026-01-01 00:00:00"),
            revoked_at: None,
        },
    ];
    let check = |u: &str, a, at: &str| ops.check_pra_action(u, a, paris(at), &designations);
    assert!(check("alice", PraAction::TriggerFailover, "2026-05-31 23:59:59").allowed);
    assert_eq!(
        check("alice", PraAction::TriggerFailover, "2026-06-01 00:00:00").denials(),
        vec!["designation_revoked"]
    );
    assert_eq!(
        check("bob", PraAction::TriggerFailover, "2026-03-01 00:00:00").denials(),
        vec!["not_designated"]
    );
    assert!(check("bob", PraAction::ChangePolicies, "2026-03-01 00:00:00").allowed);
    assert_eq!(
        check("eve", PraAction::TriggerFailover, "2026-03-01 00:00:00").denials(),
        vec!["not_designated"]
    );
    assert_eq!(
        check("alice", PraAction::TriggerFailover, "2025-12-31 23:59:59").denials(),
        vec!["not_designated"]
    );
}

#[test]
fn simple_test_notice_14_and_15_days() {
    // Notice 1 June 2026 18:00; test 15 June 08:00 = 14 calendar days:
    // billed (accepted). Test 16 June 08:00 = 15 days: not billed, even
    // though fewer than 15 x 24 h separate the instants.
    let ops = ops();
    let n = paris("2026-06-01 18:00:00");
    let a = ops
        .assess_pra_test(TestKind::Simple, n, paris("2026-06-15 08:00:00"), false)
        .unwrap();
    assert_eq!(
        (a.notice_days, a.notice_in_time, a.billed),
        (14, false, true)
    );
    assert!(a.decision.allowed);
    assert_eq!(a.decision.notes(), vec!["notice_late", "billed"]);
    let a = ops
        .assess_pra_test(TestKind::Simple, n, paris("2026-06-16 08:00:00"), false)
        .unwrap();
    assert_eq!(
        (a.notice_days, a.notice_in_time, a.billed),
        (15, true, false)
    );
}

#[test]
fn full_test_notice_29_and_30_days_and_its_order() {
    // Notice 1 June; test 30 June = 29 days (late, flagged), 1 July = 30
    // days. Always billed as an activation; refused without its own order.
    let ops = ops();
    let n = paris("2026-06-01 10:00:00");
    let a = ops
        .assess_pra_test(TestKind::Full, n, paris("2026-06-30 10:00:00"), true)
        .unwrap();
    assert_eq!(
        (a.notice_days, a.notice_in_time, a.billed),
        (29, false, true)
    );
    assert!(a.decision.allowed);
    assert!(a.decision.notes().contains(&"resources_not_reserved"));
    let a = ops
        .assess_pra_test(TestKind::Full, n, paris("2026-07-01 10:00:00"), true)
        .unwrap();
    assert_eq!(
        (a.notice_days, a.notice_in_time, a.billed),
        (30, true, true)
    );
    assert_eq!(a.decision.notes(), vec!["billed_as_activation"]);
    let a = ops
        .assess_pra_test(TestKind::Full, n, paris("2026-07-01 10:00:00"), false)
        .unwrap();
    assert_eq!(a.decision.denials(), vec!["own_order_missing"]);
    assert!(
        ops.assess_pra_test(TestKind::Simple, n, n - secs(1), false)
            .is_err()
    );
}

#[test]
fn activation_days_across_the_dst_nights() {
    // 23:30 to 00:30 Paris spans two calendar days, whatever the night:
    // spring (28-29 March 2026, the change is at 02:00, after the end) and
    // autumn (24-25 October 2026). One hour, two started days.
    let ops = ops();
    for (start, end) in [
        ("2026-03-28 23:30:00", "2026-03-29 00:30:00"),
        ("2026-10-24 23:30:00", "2026-10-25 00:30:00"),
    ] {
        let x = ops.activation_days(paris(start), paris(end)).unwrap();
        assert_eq!(x.value.days, 2, "{start}");
        assert_eq!(paris(end).duration_since(paris(start)), secs(3600));
    }
    // Across the change itself: 29 March 01:30 to 03:30 is one hour, one day.
    let x = ops
        .activation_days(paris("2026-03-29 01:30:00"), paris("2026-03-29 03:30:00"))
        .unwrap();
    assert_eq!(x.value.days, 1);
    // Ending exactly at midnight does not start a new day.
    let x = ops
        .activation_days(paris("2026-03-28 10:00:00"), paris("2026-03-29 00:00:00"))
        .unwrap();
    assert_eq!(x.value.days, 1);
    assert!(
        ops.activation_days(paris("2026-03-28 10:00:00"), paris("2026-03-28 10:00:00"))
            .is_err()
    );
}
