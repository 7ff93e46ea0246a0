//! Decommissioning (R11.6): the timeline and the job's due steps at the
//! 7-day and 30-day edges.

mod common;

use ciel_operations::decommission::{
    BillingResumesFrom, DecommissionError, DecommissionState, DecommissionStep, PhotoProof,
};
use ciel_operations::{Operations, ProductParams};
use common::{ops, paris, secs};
use jiff::civil::date;

fn steps_due(ops: &Operations, s: &DecommissionState, at: &str) -> Vec<DecommissionStep> {
    ops.due_decommission_steps(s, paris(at))
        .into_iter()
        .map(|d| d.step)
        .collect()
}

fn proof(at: &str) -> Option<PhotoProof> {
    Some(PhotoProof {
        taken_at: paris(at) - secs(60),
        uploaded_at: paris(at),
    })
}

#[test]
fn proof_on_the_effective_day_closes_everything() {
    // E = 31 March 2026. Proof uploaded 31 March 23:59:59: in time; no step
    // is ever due.
    let ops = ops();
    let mut s = DecommissionState::new(date(2026, 3, 31));
    s.proof = proof("2026-03-31 23:59:59");
    let t = ops.decommission_timeline(&s);
    assert_eq!(t.removal_deadline, paris("2026-04-01 00:00:00"));
    assert!(t.proof_in_time && !t.regularised && t.billing_resumed.is_none());
    assert!(steps_due(&ops, &s, "2026-06-01 00:00:00").is_empty());
}

#[test]
fn non_compliance_notice_at_the_start_of_the_next_day() {
    let ops = ops();
    let s = DecommissionState::new(date(2026, 3, 31));
    assert!(steps_due(&ops, &s, "2026-03-31 23:59:59").is_empty());
    assert_eq!(
        steps_due(&ops, &s, "2026-04-01 00:00:00"),
        vec![DecommissionStep::NonComplianceNotice]
    );
}

#[test]
fn seven_day_regularisation_edges() {
    // E = 31 March; day 7 = 7 April; the window ends 8 April 00:00 Paris.
    // Proof uploaded 7 April 23:59:59: regularised, billing never resumes.
    // Proof uploaded 8 April 00:00: too late, billing resumed from 8 April
    // 00:00 until the proof.
    let ops = ops();
    let mut s = DecommissionState::new(date(2026, 3, 31));
    let end = paris("2026-04-08 00:00:00");
    assert_eq!(ops.decommission_timeline(&s).regularisation_ends, end);
    assert_eq!(
        steps_due(&ops, &s, "2026-04-07 23:59:59"),
        vec![DecommissionStep::NonComplianceNotice]
    );
    assert_eq!(
        steps_due(&ops, &s, "2026-04-08 00:00:00"),
        vec![
            DecommissionStep::NonComplianceNotice,
            DecommissionStep::ResumeBilling
        ]
    );

    s.proof = proof("2026-04-07 23:59:59");
    let t = ops.decommission_timeline(&s);
    assert!(t.regularised && t.billing_resumed.is_none());

    s.proof = proof("2026-04-08 00:00:00");
    let t = ops.decommission_timeline(&s);
    assert!(!t.regularised);
    assert_eq!(t.billing_resumed, Some((end, Some(end))));
}

#[test]
fn billing_can_resume_from_the_effective_date() {
    let ops = Operations::new(
        ciel_terms::embedded(),
        ProductParams {
            billing_resumes_from: BillingResumesFrom::EffectiveDate,
            ..ProductParams::default()
        },
    )
    .unwrap();
    let s = DecommissionState::new(date(2026, 3, 31));
    assert_eq!(
        ops.decommission_timeline(&s).billing_resumed,
        Some((paris("2026-03-31 00:00:00"), None))
    );
}

#[test]
fn thirty_days_after_the_formal_notice() {
    // Formal notice received 10 April 11:00; day 30 = 10 May; destruction
    // allowed from 11 May 00:00 Paris.
    let ops = ops();
    let mut s = DecommissionState::new(date(2026, 3, 31));
    s.formal_notice_received_at = Some(paris("2026-04-10 11:00:00"));
    assert_eq!(
        ops.decommission_timeline(&s).destruction_allowed_from,
        Some(paris("2026-05-11 00:00:00"))
    );
    assert!(
        !steps_due(&ops, &s, "2026-05-10 23:59:59").contains(&DecommissionStep::DestructionAllowed)
    );
    assert!(
        steps_due(&ops, &s, "2026-05-11 00:00:00").contains(&DecommissionStep::DestructionAllowed)
    );
    // A proof on day 30 stops it.
    s.proof = proof("2026-05-10 23:59:59");
    assert!(steps_due(&ops, &s, "2026-05-11 00:00:00").is_empty());
}

#[test]
fn across_the_spring_clock_change() {
    // E = 28 March 2026: the deadline is 29 March 00:00 (+01:00), the window
    // ends 5 April 00:00 (+02:00): seven calendar days, one of 23 hours.
    let ops = ops();
    let s = DecommissionState::new(date(2026, 3, 28));
    let t = ops.decommission_timeline(&s);
    assert_eq!(t.removal_deadline.to_string(), "2026-03-28T23:00:00Z");
    assert_eq!(t.regularisation_ends.to_string(), "2026-04-04T22:00:00Z");
}

#[test]
fn steps_apply_once_dated_at_their_due_instant() {
    let ops = ops();
    let mut s = DecommissionState::new(date(2026, 3, 31));
    let now = paris("2026-04-20 09:00:00");
    let at = ops
        .apply_decommission_step(&mut s, DecommissionStep::NonComplianceNotice, now)
        .unwrap();
    assert_eq!(at, paris("2026-04-01 00:00:00"));
    assert_eq!(
        ops.apply_decommission_step(&mut s, DecommissionStep::NonComplianceNotice, now),
        Err(DecommissionError::AlreadyApplied(
            DecommissionStep::NonComplianceNotice
        ))
    );
    assert_eq!(
        ops.apply_decommission_step(&mut s, DecommissionStep::DestructionAllowed, now),
        Err(DecommissionError::NotDue(
            DecommissionStep::DestructionAllowed
        ))
    );
    assert_eq!(
        steps_due(&ops, &s, "2026-04-20 09:00:00"),
        vec![DecommissionStep::ResumeBilling]
    );
    let due = ops.due_decommission_steps(&s, now);
    assert_eq!(due[0].reasons.notes(), vec!["billing_resumed"]);
    let fr = due[0].reasons.reasons.render(ciel_operations::Lang::Fr);
    assert!(fr.contains("(R11.6)"), "{fr}");
}

#[test]
fn an_early_formal_notice_does_not_shorten_the_window() {
    // Formal notice received on the effective day itself (31 March): 30 days
    // would end 1 May 00:00, later than the window (8 April 00:00): 1 May.
    // Received before the effective date (1 March): 30 days end 1 April
    // 00:00, but destruction waits for the window's end, 8 April 00:00.
    let ops = ops();
    let mut s = DecommissionState::new(date(2026, 3, 31));
    s.formal_notice_received_at = Some(paris("2026-03-31 09:00:00"));
    assert_eq!(
        ops.decommission_timeline(&s).destruction_allowed_from,
        Some(paris("2026-05-01 00:00:00"))
    );
    s.formal_notice_received_at = Some(paris("2026-03-01 09:00:00"));
    assert_eq!(
        ops.decommission_timeline(&s).destruction_allowed_from,
        Some(paris("2026-04-08 00:00:00"))
    );
}
