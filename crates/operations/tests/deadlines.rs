//! The 7-day deadlines of R11.4: day 7 in time, day 8 late, for each kind.

mod common;

use ciel_operations::deadlines::{Deadline, DeadlineKind, DeadlineState, Owner};
use common::{ops, paris, secs};

const KINDS: [DeadlineKind; 3] = [
    DeadlineKind::ChangeAnswer,
    DeadlineKind::Inventory,
    DeadlineKind::DamageRepair,
];

fn deadline(kind: DeadlineKind, opened: &str, done: Option<&str>) -> Deadline {
    Deadline {
        id: "d1".into(),
        kind,
        opened_at: paris(opened),
        done_at: done.map(paris),
    }
}

#[test]
fn day_seven_in_time_day_eight_late() {
    // Opened Sunday 1 March 2026 15:00 Paris (day 0). Day 7 = 8 March, the
    // delay ends at 9 March 00:00 Paris. Done on 8 March 23:59:59 → in time;
    // done on 9 March 00:00 → late. Same for the three kinds (7 days each in
    // the terms).
    let ops = ops();
    for kind in KINDS {
        let end = paris("2026-03-09 00:00:00");
        assert_eq!(ops.deadline_end(kind, paris("2026-03-01 15:00:00")), end);
        let table = [
            (Some("2026-03-08 23:59:59"), DeadlineState::MetInTime),
            (Some("2026-03-09 00:00:00"), DeadlineState::MetLate),
            (None, DeadlineState::Breached),
        ];
        for (done, state) in table {
            let d = deadline(kind, "2026-03-01 15:00:00", done);
            let s = ops.deadline_status(&d, paris("2026-03-10 12:00:00"));
            assert_eq!(s.state, state, "{kind:?} {done:?}");
            assert_eq!(
                s.repair_at_client_cost,
                kind == DeadlineKind::DamageRepair && state != DeadlineState::MetInTime,
                "{kind:?} {done:?}"
            );
        }
    }
}

#[test]
fn open_deadline_running_alert_breached() {
    // Alert 2 days (product default) before the end 9 March 00:00: 7 March
    // 00:00. Running until 6 March 23:59:59, alert due until 8 March
    // 23:59:59, breached from 9 March 00:00.
    let ops = ops();
    let d = deadline(DeadlineKind::ChangeAnswer, "2026-03-01 15:00:00", None);
    let table = [
        ("2026-03-06 23:59:59", DeadlineState::Running),
        ("2026-03-07 00:00:00", DeadlineState::AlertDue),
        ("2026-03-08 23:59:59", DeadlineState::AlertDue),
        ("2026-03-09 00:00:00", DeadlineState::Breached),
    ];
    for (at, state) in table {
        assert_eq!(ops.deadline_status(&d, paris(at)).state, state, "{at}");
    }
    assert_eq!(
        ops.deadline_alerts_due(std::slice::from_ref(&d), paris("2026-03-07 00:00:00"))
            .len(),
        1
    );
    assert_eq!(
        ops.breached_deadlines(std::slice::from_ref(&d), paris("2026-03-09 00:00:00"))
            .len(),
        1
    );
    assert!(
        ops.breached_deadlines(
            std::slice::from_ref(&d),
            paris("2026-03-09 00:00:00") - secs(1)
        )
        .is_empty()
    );
}

#[test]
fn a_later_answer_is_not_seen_before_it_happens() {
    // Answered on day 9: at day 8 the deadline is breached, the answer
    // recorded for later does not change the past.
    let ops = ops();
    let d = deadline(
        DeadlineKind::Inventory,
        "2026-03-01 15:00:00",
        Some("2026-03-10 10:00:00"),
    );
    assert_eq!(
        ops.deadline_status(&d, paris("2026-03-09 10:00:00")).state,
        DeadlineState::Breached
    );
    assert_eq!(
        ops.deadline_status(&d, paris("2026-03-10 10:00:00")).state,
        DeadlineState::MetLate
    );
}

#[test]
fn across_the_spring_clock_change() {
    // Opened 25 March 2026 10:00 (+01:00); day 7 = 1 April; ends 2 April
    // 00:00 (+02:00). The 23-hour day of 29 March counts as one day.
    let ops = ops();
    let end = ops.deadline_end(DeadlineKind::DamageRepair, paris("2026-03-25 10:00:00"));
    assert_eq!(end, paris("2026-04-02 00:00:00"));
    assert_eq!(end.to_string(), "2026-04-01T22:00:00Z");
}

#[test]
fn owners_and_reasons() {
    let ops = ops();
    assert_eq!(DeadlineKind::ChangeAnswer.owner(), Owner::Provider);
    assert_eq!(DeadlineKind::DamageRepair.owner(), Owner::Client);
    let d = deadline(DeadlineKind::DamageRepair, "2026-03-01 15:00:00", None);
    let s = ops.deadline_status(&d, paris("2026-03-09 00:00:00"));
    assert_eq!(s.reasons.denials(), vec!["breached"]);
    assert_eq!(s.reasons.notes(), vec!["repair_at_client_cost"]);
    let en = s.reasons.reasons.render(ciel_operations::Lang::En);
    assert!(en.contains("CS 2.3.3 (R11.4)"), "{en}");
    assert!(en.contains("last day 2026-03-08"), "{en}");
}
