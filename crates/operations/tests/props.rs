//! Invariants over random inputs: a later reading never lowers an alert, a
//! due step never applies twice and the job's schedule does not change the
//! outcome, a revoked badge stays revoked, deadline states only move forward.

mod common;

use ciel_operations::access::{Badge, BadgeEvent, BadgeEventKind, BadgeState};
use ciel_operations::deadlines::{Deadline, DeadlineKind, DeadlineState};
use ciel_operations::decommission::{DecommissionError, DecommissionState, PhotoProof};
use ciel_operations::power::{Emplacement, PowerReading};
use common::ops;
use jiff::{SignedDuration, Timestamp, civil::Date};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// 2026-01-01T00:00:00Z plus `s` seconds.
fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_767_225_600 + s).unwrap()
}

fn reading() -> impl Strategy<Value = (u32, Option<u32>, Option<u32>)> {
    // Gap in seconds, amps and kVA in hundredths.
    (
        1u32..7200,
        proptest::option::of(0u32..2000),
        proptest::option::of(0u32..500),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_later_reading_never_lowers_the_alert(rs in proptest::collection::vec(reading(), 1..30)) {
        let ops = ops();
        let e = Emplacement { id: "e".into(), subscribed_amps: Decimal::from(10), subscribed_kva: Decimal::from(2) };
        let mut at = 0i64;
        let readings: Vec<PowerReading> = rs.iter().map(|(gap, a, k)| {
            at += i64::from(*gap);
            PowerReading {
                at: t(at),
                amps: a.map(|a| Decimal::new(i64::from(a), 2)),
                kva: k.map(|k| Decimal::new(i64::from(k), 2)),
            }
        }).collect();
        let end = t(at + 3600);
        let mut previous = None;
        let mut previous_kvah = Decimal::ZERO;
        for n in 1..=readings.len() {
            let a = ops.assess_power(&e, &readings[..n], end).unwrap();
            if let Some(p) = previous {
                prop_assert!(a.level >= p, "level dropped from {p:?} to {:?}", a.level);
            }
            prop_assert!(a.excess.excess_kvah >= Decimal::ZERO);
            // The peak excess handed to billing never shrinks either.
            prop_assert!(a.excess.peak_excess_kva >= previous_kvah);
            previous = Some(a.level);
            previous_kvah = a.excess.peak_excess_kva;
        }
    }

    #[test]
    fn due_steps_never_apply_twice_and_the_schedule_does_not_matter(
        day in 0i64..700,
        proof_after_h in proptest::option::of(-48i64..1200),
        notice_after_h in proptest::option::of(0i64..1200),
        runs in proptest::collection::vec(0i64..2400, 1..12),
    ) {
        let ops = ops();
        let e = Date::new(2026, 1, 1).unwrap().checked_add(jiff::Span::new().days(day)).unwrap();
        let start = ops.start_of(e);
        let mut s = DecommissionState::new(e);
        s.proof = proof_after_h.map(|h| {
            let at = start + SignedDuration::from_hours(h);
            PhotoProof { taken_at: at, uploaded_at: at }
        });
        s.formal_notice_received_at = notice_after_h.map(|h| start + SignedDuration::from_hours(h));
        let mut runs: Vec<Timestamp> = runs.iter().map(|h| start + SignedDuration::from_hours(*h)).collect();
        runs.sort_unstable();
        let last = *runs.last().unwrap();

        // The job runs at each instant and applies whatever is due.
        let mut by_job = s.clone();
        for now in &runs {
            for d in ops.due_decommission_steps(&by_job, *now) {
                ops.apply_decommission_step(&mut by_job, d.step, *now).unwrap();
                prop_assert_eq!(
                    ops.apply_decommission_step(&mut by_job, d.step, *now),
                    Err(DecommissionError::AlreadyApplied(d.step))
                );
            }
            prop_assert!(ops.due_decommission_steps(&by_job, *now).is_empty());
        }
        // One run at the last instant gives the same steps, with the same dates,
        // unless the proof arrived in between (it cancels what had not
        // happened yet, so the frequent job can only have applied more).
        let mut once = s.clone();
        for d in ops.due_decommission_steps(&once, last) {
            ops.apply_decommission_step(&mut once, d.step, last).unwrap();
        }
        for (step, at) in &once.applied {
            prop_assert_eq!(by_job.applied.get(step), Some(at));
        }
        if s.proof.is_none() {
            prop_assert_eq!(&once.applied, &by_job.applied);
        }
    }

    #[test]
    fn a_revoked_badge_stays_revoked(
        events in proptest::collection::vec((0i64..10_000, 0u8..4), 1..12),
        probe in 0i64..20_000,
    ) {
        let b = Badge {
            id: "b".into(),
            person: "p".into(),
            site: "PA3".into(),
            events: events.iter().map(|(s, k)| BadgeEvent {
                at: t(*s),
                kind: match k {
                    0 => BadgeEventKind::Issued { valid_until: None },
                    1 => BadgeEventKind::Suspended,
                    2 => BadgeEventKind::Reactivated,
                    _ => BadgeEventKind::Revoked,
                },
            }).collect(),
        };
        if b.state_at(t(probe)) == BadgeState::Revoked {
            prop_assert_eq!(b.state_at(t(probe + 1)), BadgeState::Revoked);
            prop_assert_eq!(b.state_at(t(probe + 100_000)), BadgeState::Revoked);
        }
    }

    #[test]
    fn open_deadline_states_only_move_forward(
        opened in 0i64..40_000_000,
        probes in proptest::collection::vec(0i64..2_000_000, 2..10),
        kind in 0u8..3,
    ) {
        let ops = ops();
        let kind = [DeadlineKind::ChangeAnswer, DeadlineKind::Inventory, DeadlineKind::DamageRepair][usize::from(kind)];
        let d = Deadline { id: "d".into(), kind, opened_at: t(opened), done_at: None };
        let rank = |s: DeadlineState| match s {
            DeadlineState::Running => 0,
            DeadlineState::AlertDue => 1,
            _ => 2,
        };
        let mut probes = probes;
        probes.sort_unstable();
        let mut prev = 0;
        for p in probes {
            let r = rank(ops.deadline_status(&d, t(opened + p)).state);
            prop_assert!(r >= prev);
            prev = r;
        }
        // 7 calendar days never end before 7 x 23 h nor after 8 x 25 h.
        let end = ops.deadline_end(kind, t(opened));
        let len = end.duration_since(t(opened));
        prop_assert!(len > SignedDuration::from_hours(7 * 23));
        prop_assert!(len <= SignedDuration::from_hours(8 * 25));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn an_approved_request_opens_exactly_its_window(
        start in 0i64..30_000_000,
        len in 1i64..86_400,
        probe in -100_000i64..200_000,
    ) {
        use ciel_operations::access::{AccessFacts, AccessRequest, PreventionPlan, RequestStatus};
        let ops = ops();
        let facts = AccessFacts {
            client: "c".into(),
            declared_people: vec!["p".into()],
            requests: vec![AccessRequest {
                id: "r".into(),
                site: "MLB".into(),
                window_start: t(start),
                window_end: t(start + len),
                people: vec!["p".into()],
                companions: vec![],
                purpose: String::new(),
                status: RequestStatus::Approved,
            }],
            prevention_plans: vec![PreventionPlan { site: "MLB".into(), signed_at: t(-1) }],
            ..AccessFacts::default()
        };
        let at = t(start + probe);
        let d = ops.check_access("p", "MLB", at, &facts).unwrap();
        prop_assert_eq!(d.allowed, probe >= 0 && probe < len);
        prop_assert_eq!(d.notes(), vec!["official_id_check"]);
    }

    #[test]
    fn more_storage_used_never_lowers_the_alert(a in 0u64..2_000_000, b in 0u64..2_000_000) {
        let ops = ops();
        let (lo, hi) = (a.min(b), a.max(b));
        let p = Decimal::from(1_000_000);
        let l = ops.storage_alert(Decimal::from(lo), p).unwrap().value.level;
        let h = ops.storage_alert(Decimal::from(hi), p).unwrap().value.level;
        prop_assert!(h >= l);
    }
}
