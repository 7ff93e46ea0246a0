//! The order state machine (R1.3-R1.4). Deadlines worked by hand in comments.

use ciel_catalog::order::{
    Acceptance, OrderEvent, OrderParams, OrderState, TransitionError, apply,
};
use jiff::{Timestamp, civil::date, tz::TimeZone};
use proptest::prelude::*;

fn params() -> OrderParams {
    OrderParams::from_terms(ciel_terms::embedded()).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn sec(t: Timestamp, s: i64) -> Timestamp {
    t.checked_add(jiff::SignedDuration::from_secs(s)).unwrap()
}

/// Sent on 26 November 2026 at 10:00 Paris (09:00Z, winter time all along):
/// + 30 days = 26 December 2026 at 10:00 Paris = 09:00Z.
const SENT: &str = "2026-11-26T09:00:00Z";
const DEADLINE: &str = "2026-12-26T09:00:00Z";

fn sent() -> OrderState {
    apply(&OrderState::Draft, &OrderEvent::Send, ts(SENT), &params()).unwrap()
}

fn accepted() -> OrderState {
    apply(
        &sent(),
        &OrderEvent::AcceptOnline,
        ts("2026-11-27T14:00:00Z"),
        &params(),
    )
    .unwrap()
}

#[test]
fn parameters_come_from_the_terms() {
    let p = params();
    assert_eq!(p.acceptance_days, 30);
    assert_eq!(p.tz, TimeZone::get("Europe/Paris").unwrap());
}

#[test]
fn sending_sets_the_deadline_in_calendar_days() {
    assert_eq!(
        sent(),
        OrderState::Sent {
            sent_at: ts(SENT),
            deadline: ts(DEADLINE)
        }
    );
    // Across the change to summer time (28 March 2027): sent 10 March at
    // 10:00 Paris (09:00Z) → 9 April at 10:00 Paris, now UTC+2 = 08:00Z.
    assert_eq!(
        params().deadline(ts("2027-03-10T09:00:00Z")),
        ts("2027-04-09T08:00:00Z")
    );
    // An order's special conditions may set another period (R1.1): 15 days
    // from 26 November 10:00 Paris = 11 December 10:00 Paris.
    let special = ciel_catalog::SpecialConditions {
        order_acceptance_days: Some(15),
        ..Default::default()
    };
    let p = OrderParams::for_order(ciel_terms::embedded(), &special).unwrap();
    assert_eq!(p.acceptance_days, 15);
    assert_eq!(p.deadline(ts(SENT)), ts("2026-12-11T09:00:00Z"));
}

#[test]
fn acceptance_before_at_and_after_the_deadline() {
    let p = params();
    let deadline = ts(DEADLINE);
    // One second before: accepted.
    let ok = apply(&sent(), &OrderEvent::AcceptOnline, sec(deadline, -1), &p).unwrap();
    assert_eq!(
        ok,
        OrderState::Accepted {
            sent_at: ts(SENT),
            deadline,
            acceptance: Acceptance::Online {
                at: sec(deadline, -1)
            },
        }
    );
    // Exactly at the deadline: too late, the order lapses at that instant.
    for at in [deadline, sec(deadline, 1)] {
        assert_eq!(
            apply(&sent(), &OrderEvent::AcceptOnline, at, &p),
            Err(TransitionError::DeadlinePassed { deadline, at })
        );
    }
}

#[test]
fn the_lapse_is_a_time_driven_step_dated_at_the_deadline() {
    let p = params();
    let deadline = ts(DEADLINE);
    let s = sent();
    assert_eq!(s.due_step(sec(deadline, -1)), None);
    assert_eq!(s.due_step(deadline), Some(OrderEvent::Lapse));
    assert_eq!(
        apply(&s, &OrderEvent::Lapse, sec(deadline, -1), &p),
        Err(TransitionError::NotYetDue {
            deadline,
            now: sec(deadline, -1)
        })
    );
    // The job runs three days late: the lapse still dates from the deadline.
    let lapsed = apply(&s, &OrderEvent::Lapse, sec(deadline, 3 * 86_400), &p).unwrap();
    assert_eq!(
        lapsed,
        OrderState::Lapsed {
            sent_at: ts(SENT),
            deadline
        }
    );
    assert_eq!(
        lapsed.due_step(sec(deadline, 4 * 86_400)),
        None,
        "nothing more is due"
    );
    // Accepting a lapsed order is refused, online or on paper.
    let late = sec(deadline, 3 * 86_400);
    assert_eq!(
        apply(&lapsed, &OrderEvent::AcceptOnline, late, &p),
        Err(TransitionError::Lapsed { deadline })
    );
    assert_eq!(
        apply(
            &lapsed,
            &OrderEvent::RecordPaperSignature {
                signed_on: date(2026, 12, 20)
            },
            late,
            &p
        ),
        Err(TransitionError::Lapsed { deadline })
    );
    assert_eq!(
        apply(&lapsed, &OrderEvent::Validate, late, &p),
        Err(TransitionError::NotAccepted)
    );
    // An accepted order has nothing due.
    assert_eq!(accepted().due_step(sec(deadline, 1)), None);
}

#[test]
fn a_signature_received_before_the_deadline_undoes_a_lapse() {
    let p = params();
    let deadline = ts(DEADLINE);
    let lapsed = apply(&sent(), &OrderEvent::Lapse, sec(deadline, 86_400), &p).unwrap();
    let paper = OrderEvent::RecordPaperSignature {
        signed_on: date(2026, 12, 20),
    };
    // Received one second before the deadline, entered after the lapse ran:
    // accepted, dated at the receipt (R1.3).
    let received = sec(deadline, -1);
    assert_eq!(
        apply(&lapsed, &paper, received, &p),
        Ok(OrderState::Accepted {
            sent_at: ts(SENT),
            deadline,
            acceptance: Acceptance::Paper {
                signed_on: date(2026, 12, 20),
                received_at: received,
            },
        })
    );
    // Received at the deadline: too late, the lapse stands.
    assert_eq!(
        apply(&lapsed, &paper, deadline, &p),
        Err(TransitionError::Lapsed { deadline })
    );
    // The paper's own checks still apply (signed after its receipt).
    let signed_later = OrderEvent::RecordPaperSignature {
        signed_on: date(2026, 12, 27),
    };
    assert!(matches!(
        apply(&lapsed, &signed_later, received, &p),
        Err(TransitionError::SignedAfterReceipt { .. })
    ));
}

#[test]
fn paper_signatures_carry_their_date() {
    let p = params();
    let received = ts("2026-12-02T10:00:00Z");
    let rec = |signed_on| {
        apply(
            &sent(),
            &OrderEvent::RecordPaperSignature { signed_on },
            received,
            &p,
        )
    };
    // Signed the day it was sent (26 November, Paris), received 2 December.
    assert_eq!(
        rec(date(2026, 11, 26)).unwrap(),
        OrderState::Accepted {
            sent_at: ts(SENT),
            deadline: ts(DEADLINE),
            acceptance: Acceptance::Paper {
                signed_on: date(2026, 11, 26),
                received_at: received
            },
        }
    );
    assert_eq!(rec(date(2026, 12, 2)).unwrap().name(), "accepted");
    assert_eq!(
        rec(date(2026, 11, 25)),
        Err(TransitionError::SignedBeforeSending {
            signed_on: date(2026, 11, 25),
            sent_on: date(2026, 11, 26)
        })
    );
    assert_eq!(
        rec(date(2026, 12, 3)),
        Err(TransitionError::SignedAfterReceipt {
            signed_on: date(2026, 12, 3),
            received_on: date(2026, 12, 2)
        })
    );
    // Received at the deadline, even if signed well before: too late.
    let deadline = ts(DEADLINE);
    assert_eq!(
        apply(
            &sent(),
            &OrderEvent::RecordPaperSignature {
                signed_on: date(2026, 12, 1)
            },
            deadline,
            &p
        ),
        Err(TransitionError::DeadlinePassed {
            deadline,
            at: deadline
        })
    );
}

#[test]
fn staff_validate_or_refuse_once() {
    let p = params();
    let t = ts("2026-11-30T08:00:00Z");
    let validated = apply(&accepted(), &OrderEvent::Validate, t, &p).unwrap();
    assert!(matches!(validated, OrderState::Validated { validated_at, .. } if validated_at == t));
    assert_eq!(validated.deadline(), Some(ts(DEADLINE)));
    let later = sec(t, 60);
    assert_eq!(
        apply(&validated, &OrderEvent::Validate, later, &p),
        Err(TransitionError::AlreadyValidated)
    );
    assert_eq!(
        apply(
            &validated,
            &OrderEvent::Refuse { reason: "x".into() },
            later,
            &p
        ),
        Err(TransitionError::AlreadyValidated)
    );

    assert_eq!(
        apply(
            &accepted(),
            &OrderEvent::Refuse {
                reason: "  ".into()
            },
            t,
            &p
        ),
        Err(TransitionError::ReasonMissing)
    );
    let refused = apply(
        &accepted(),
        &OrderEvent::Refuse {
            reason: " Capacité indisponible à PA3 ".into(),
        },
        t,
        &p,
    )
    .unwrap();
    assert!(
        matches!(&refused, OrderState::Refused { reason, .. } if reason == "Capacité indisponible à PA3")
    );
    assert_eq!(
        apply(&refused, &OrderEvent::Validate, later, &p),
        Err(TransitionError::AlreadyRefused)
    );
}

#[test]
fn wrong_transitions_are_refused_with_their_rule() {
    let p = params();
    let t = ts("2026-11-28T08:00:00Z");
    let cases: Vec<(OrderState, OrderEvent, TransitionError, &str)> = vec![
        (
            OrderState::Draft,
            OrderEvent::AcceptOnline,
            TransitionError::NotAllowed {
                state: "draft",
                event: "accept_online",
            },
            "R1.3",
        ),
        (
            OrderState::Draft,
            OrderEvent::Validate,
            TransitionError::NotAllowed {
                state: "draft",
                event: "validate",
            },
            "R1.3",
        ),
        (
            OrderState::Draft,
            OrderEvent::Lapse,
            TransitionError::NotAllowed {
                state: "draft",
                event: "lapse",
            },
            "R1.3",
        ),
        (
            sent(),
            OrderEvent::Send,
            TransitionError::NotAllowed {
                state: "sent",
                event: "send",
            },
            "R1.3",
        ),
        (
            sent(),
            OrderEvent::Validate,
            TransitionError::NotAccepted,
            "R1.4",
        ),
        (
            sent(),
            OrderEvent::Refuse { reason: "r".into() },
            TransitionError::NotAccepted,
            "R1.4",
        ),
        (
            accepted(),
            OrderEvent::AcceptOnline,
            TransitionError::AlreadyAccepted,
            "R1.3",
        ),
        (
            accepted(),
            OrderEvent::Send,
            TransitionError::NotAllowed {
                state: "accepted",
                event: "send",
            },
            "R1.3",
        ),
        (
            accepted(),
            OrderEvent::Lapse,
            TransitionError::NotAllowed {
                state: "accepted",
                event: "lapse",
            },
            "R1.3",
        ),
    ];
    for (state, event, err, rule) in cases {
        let got = apply(&state, &event, t, &p);
        assert_eq!(got, Err(err.clone()), "{state} + {}", event.name());
        assert_eq!(err.rule(), rule);
        assert!(err.to_string().starts_with(rule), "{err}");
    }
    // Events never go back in time: validating before the acceptance.
    let before = ts("2026-11-27T13:59:59Z");
    assert_eq!(
        apply(&accepted(), &OrderEvent::Validate, before, &p),
        Err(TransitionError::BeforePrevious {
            now: before,
            previous: ts("2026-11-27T14:00:00Z")
        })
    );
}

#[test]
fn the_client_may_decline_before_the_deadline_and_nothing_follows() {
    let p = params();
    let at = ts("2026-11-28T10:00:00Z");
    let declined = apply(
        &sent(),
        &OrderEvent::Decline {
            reason: Some("  budget  ".into()),
        },
        at,
        &p,
    )
    .unwrap();
    assert_eq!(
        declined,
        OrderState::Declined {
            sent_at: ts(SENT),
            deadline: ts(DEADLINE),
            declined_at: at,
            reason: Some("budget".into()),
        }
    );
    assert_eq!(declined.name(), "declined");
    // The lapse job finds nothing to do; acceptance and validation are refused.
    assert_eq!(declined.due_step(ts("2027-01-01T00:00:00Z")), None);
    let later = ts("2026-11-29T10:00:00Z");
    assert_eq!(
        apply(&declined, &OrderEvent::AcceptOnline, later, &p)
            .unwrap_err()
            .rule(),
        "R1.3"
    );
    assert_eq!(
        apply(&declined, &OrderEvent::Validate, later, &p),
        Err(TransitionError::NotAccepted)
    );
    // At the deadline it is too late to decline: the order lapses.
    assert!(matches!(
        apply(
            &sent(),
            &OrderEvent::Decline { reason: None },
            ts(DEADLINE),
            &p
        ),
        Err(TransitionError::DeadlinePassed { .. })
    ));
    // An accepted order cannot be declined any more.
    assert_eq!(
        apply(
            &accepted(),
            &OrderEvent::Decline { reason: None },
            later,
            &p
        ),
        Err(TransitionError::AlreadyAccepted)
    );
}

fn event_strategy() -> impl Strategy<Value = OrderEvent> {
    prop_oneof![
        Just(OrderEvent::Send),
        Just(OrderEvent::AcceptOnline),
        (0i16..60).prop_map(|d| OrderEvent::RecordPaperSignature {
            signed_on: date(2026, 11, 20)
                .checked_add(jiff::Span::new().days(d))
                .unwrap()
        }),
        Just(OrderEvent::Lapse),
        Just(OrderEvent::Validate),
        "[a-z ]{0,5}".prop_map(|reason| OrderEvent::Refuse { reason }),
    ]
}

proptest! {
    /// Whatever happens, in time order: terminal states never change, an
    /// accepted order was accepted strictly before its deadline, and the
    /// deadline never moves once set.
    #[test]
    fn invariants_hold_over_any_event_sequence(
        steps in prop::collection::vec((event_strategy(), 0i64..(40 * 86_400)), 0..12)
    ) {
        let p = params();
        let mut state = OrderState::Draft;
        let mut now = ts(SENT);
        let mut deadline = None;
        for (event, gap) in steps {
            now = sec(now, gap);
            let terminal = matches!(
                state,
                OrderState::Lapsed { .. } | OrderState::Validated { .. } | OrderState::Refused { .. }
            );
            match apply(&state, &event, now, &p) {
                Ok(next) => {
                    prop_assert!(!terminal, "{} changed by {}", state, event.name());
                    if let (Some(d), Some(n)) = (deadline, next.deadline()) {
                        prop_assert_eq!(d, n);
                    }
                    if let OrderState::Accepted { acceptance, deadline: d, .. } = &next {
                        prop_assert!(acceptance.at() < *d);
                    }
                    deadline = next.deadline();
                    state = next;
                }
                Err(e) => prop_assert!(["R1.3", "R1.4"].contains(&e.rule())),
            }
        }
    }
}
