//! The service lifecycle (R1.6-R1.7, R2.5, R3.1-R3.6, R12.2). Every expected
//! date and amount is worked by hand in a comment from the rule as written
//! in RULES.md; times are Europe/Paris (UTC+1 in winter, UTC+2 from the last
//! Sunday of March to the last Sunday of October).

use ciel_catalog::service::{
    AcceptanceStatus, AcceptedBy, Party, Product, ReturnOutcome, ServiceError, ServiceEvent,
    ServiceParams, ServiceState, Status, SuspensionReason, TerminationKind, apply, due_steps,
    notice_last_day, quote_early_termination, run_due,
};
use jiff::{SignedDuration, Timestamp, ToSpan, civil::Date, civil::date};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn params() -> ServiceParams {
    ServiceParams::from_terms(ciel_terms::embedded()).unwrap()
}

/// An instant given in Paris wall-clock time.
fn paris(y: i16, m: i8, d: i8, h: i8, min: i8, s: i8) -> Timestamp {
    date(y, m, d)
        .at(h, min, s, 0)
        .in_tz("Europe/Paris")
        .unwrap()
        .timestamp()
}

fn noon(d: Date) -> Timestamp {
    paris(d.year(), d.month(), d.day(), 12, 0, 0)
}

fn sec(t: Timestamp, s: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(s)).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn step(state: &ServiceState, e: ServiceEvent, now: Timestamp) -> ServiceState {
    apply(state, &e, now, &params()).unwrap_or_else(|err| panic!("{}: {err}", e.name()))
}

fn try_step(
    state: &ServiceState,
    e: ServiceEvent,
    now: Timestamp,
) -> Result<ServiceState, ServiceError> {
    apply(state, &e, now, &params())
}

fn provision() -> ServiceEvent {
    ServiceEvent::Provision {
        planned_on: None,
        client_delay: false,
        products: vec![],
    }
}

/// Provisioned on 1 March 2026 at 10:00 Paris with `months` of commitment.
fn provisioned(months: u32) -> ServiceState {
    step(
        &ServiceState::ordered(months).unwrap(),
        provision(),
        paris(2026, 3, 1, 10, 0, 0),
    )
}

/// As [`provisioned`], used (so accepted, R1.7) an hour later.
fn used(months: u32) -> ServiceState {
    step(
        &provisioned(months),
        ServiceEvent::RecordFirstUse,
        paris(2026, 3, 1, 11, 0, 0),
    )
}

fn with_products(months: u32, ids: &[&str]) -> ServiceState {
    step(
        &ServiceState::ordered(months).unwrap(),
        ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: ids
                .iter()
                .map(|id| Product::new(*id, dec("1200.00")))
                .collect(),
        },
        paris(2026, 3, 1, 10, 0, 0),
    )
}

fn svc(s: &ServiceState) -> &ciel_catalog::service::Service {
    s.service().unwrap()
}

// ---- parameters --------------------------------------------------------------

#[test]
fn parameters_come_from_the_terms_or_documented_defaults() {
    let p = params();
    assert_eq!(p.contest_days, 5); // contract.provisioning_contest_days
    assert!(p.client_delay_provisions_at_planned_date); // billing.client_delay...
    assert_eq!(p.non_payment_notice_days, 15); // late_payment.formal_notice_days
    assert_eq!(p.secure_infrastructure_days, 15); // termination.secure_infrastructure_days
    assert!(p.billing_continues_during_suspension);
    assert_eq!(p.fair_use_monthly_bytes, 5_000_000_000_000);
    assert_eq!(p.fair_use_throttle_mbit_per_s, 10);
    assert_eq!(p.product_return_months, 1);
    assert_eq!(p.product_return_indemnity, dec("700.00"));
    // Not in the terms: defaults of this crate.
    assert!(p.fair_use_threshold_inclusive);
    assert_eq!(p.cause_termination_share_percent, dec("100"));
    assert_eq!(p.reversibility_days_after_end, 30);
}

// ---- provisioning (R1.6, R2.5) -------------------------------------------------

#[test]
fn provisioning_sets_start_term_and_contest_window() {
    let s = provisioned(12);
    let v = svc(&s);
    // Made available on 1 March 2026: commitment month 1 starts that day;
    // 12 months → start + 12 months = 1 March 2027, last day 28 February 2027.
    assert_eq!(v.start(), date(2026, 3, 1));
    assert_eq!(v.term_last_day, date(2027, 2, 28));
    // Renewal at the first instant of 1 March 2027 Paris (winter, UTC+1).
    assert_eq!(v.renewal_at, "2027-02-28T23:00:00Z".parse().unwrap());
    // 5 days from 1 March, the day itself not counted: 2-6 March; the window
    // closes at the start of 7 March Paris = 6 March 23:00Z.
    assert_eq!(
        v.contest_window_end,
        "2026-03-06T23:00:00Z".parse().unwrap()
    );
    assert_eq!(v.acceptance, AcceptanceStatus::Pending);
    assert_eq!(s.status(paris(2026, 3, 2, 0, 0, 0)), Status::InContest);
}

#[test]
fn start_day_under_r2_5() {
    let available = paris(2026, 4, 2, 10, 0, 0);
    // (planned, client delay, expected start) — worked from R2.5: a client
    // delay moves the start back to the planned day; without it the start
    // is the day made available (R1.6, delays give no damages); a planned
    // day still ahead changes nothing.
    let table = [
        (Some(date(2026, 3, 20)), true, date(2026, 3, 20)),
        (Some(date(2026, 3, 20)), false, date(2026, 4, 2)),
        (None, false, date(2026, 4, 2)),
        (Some(date(2026, 4, 15)), true, date(2026, 4, 2)),
        (Some(date(2026, 4, 2)), true, date(2026, 4, 2)),
    ];
    for (planned, client_delay, start) in table {
        let s = step(
            &ServiceState::ordered(12).unwrap(),
            ServiceEvent::Provision {
                planned_on: planned,
                client_delay,
                products: vec![],
            },
            available,
        );
        let v = svc(&s);
        assert_eq!(v.start(), start, "{planned:?} {client_delay}");
        assert_eq!(v.term_last_day, start + 12.months() - 1.day());
        // The contest window runs from the day made available, always:
        // 2 April + 5 days → closes at the start of 8 April Paris (UTC+2).
        assert_eq!(
            v.contest_window_end,
            "2026-04-07T22:00:00Z".parse().unwrap()
        );
    }
    // 20 March + 12 months = 20 March 2027, so the term's last day is 19 March.
    let s = step(
        &ServiceState::ordered(12).unwrap(),
        ServiceEvent::Provision {
            planned_on: Some(date(2026, 3, 20)),
            client_delay: true,
            products: vec![],
        },
        available,
    );
    assert_eq!(svc(&s).term_last_day, date(2027, 3, 19));
    // A client delay without a planned day cannot be computed.
    assert_eq!(
        try_step(
            &ServiceState::ordered(12).unwrap(),
            ServiceEvent::Provision {
                planned_on: None,
                client_delay: true,
                products: vec![]
            },
            available
        ),
        Err(ServiceError::PlannedDayMissing)
    );
}

#[test]
fn term_last_day_at_month_ends_and_february() {
    // (start, months, last day of the term) = start + months (clamped to the
    // month's end) - 1 day, the engine's R3.1 decision.
    let table = [
        // 31 Jan + 1 month = 28 Feb 2026 (clamped) → 27 Feb.
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        // 31 Jan 2026 + 12 = 31 Jan 2027 → 30 Jan 2027.
        (date(2026, 1, 31), 12, date(2027, 1, 30)),
        // 31 Jan 2026 + 13 = 28 Feb 2027 → 27 Feb 2027.
        (date(2026, 1, 31), 13, date(2027, 2, 27)),
        // 29 Feb 2028 + 12 = 28 Feb 2029 → 27 Feb 2029.
        (date(2028, 2, 29), 12, date(2029, 2, 27)),
        // 1 Feb 2028 + 1 = 1 Mar 2028 → 29 Feb 2028 (leap year).
        (date(2028, 2, 1), 1, date(2028, 2, 29)),
        // 1 Mar 2026 + 36 = 1 Mar 2029 → 28 Feb 2029.
        (date(2026, 3, 1), 36, date(2029, 2, 28)),
    ];
    for (start, months, last) in table {
        let s = step(
            &ServiceState::ordered(months).unwrap(),
            provision(),
            noon(start),
        );
        assert_eq!(svc(&s).term_last_day, last, "{start} + {months}");
    }
}

#[test]
fn impossible_provisionings() {
    assert_eq!(ServiceState::ordered(0), Err(ServiceError::NoCommitment));
    let s = provisioned(12);
    // Provisioning twice.
    let again = try_step(&s, provision(), paris(2026, 3, 2, 10, 0, 0));
    assert_eq!(
        again,
        Err(ServiceError::AlreadyProvisioned {
            start: date(2026, 3, 1)
        })
    );
    assert_eq!(again.unwrap_err().rule(), "R1.6");
    // Two products with one identifier.
    let twice = try_step(
        &ServiceState::ordered(12).unwrap(),
        ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: vec![
                Product::new("fw-1", dec("1")),
                Product::new("fw-1", dec("2")),
            ],
        },
        paris(2026, 3, 1, 10, 0, 0),
    );
    assert_eq!(
        twice,
        Err(ServiceError::DuplicateProduct { id: "fw-1".into() })
    );
}

#[test]
fn nothing_but_provisioning_before_provisioning() {
    let ordered = ServiceState::ordered(12).unwrap();
    let now = paris(2026, 3, 1, 10, 0, 0);
    for e in [
        ServiceEvent::GiveNotice {
            by: Party::Client,
            received_on: date(2026, 3, 1),
        },
        ServiceEvent::TerminateEarly {
            last_day: date(2026, 4, 30),
            monthly_fee: dec("100"),
            investment: false,
            quoted_fee: None,
        },
        ServiceEvent::Suspend {
            reason: SuspensionReason::Hacking,
        },
        ServiceEvent::End,
        ServiceEvent::Contest { text: "x".into() },
    ] {
        let err = try_step(&ordered, e.clone(), now).unwrap_err();
        assert_eq!(err, ServiceError::NotProvisioned { event: e.name() });
        assert_eq!(err.rule(), "R1.6");
    }
    assert_eq!(ordered.due_steps(now), vec![]);
    assert_eq!(ordered.status(now), Status::Ordered);
}

// ---- contest window (R1.7) ----------------------------------------------------

#[test]
fn contest_on_day_5_and_day_6() {
    let s = provisioned(12);
    // Day 5 after 1 March is 6 March: its last second (23:59:59 Paris) is in
    // time; day 6 (7 March, from 00:00 Paris) is too late.
    let day5_last = paris(2026, 3, 6, 23, 59, 59);
    let day6_first = paris(2026, 3, 7, 0, 0, 0);
    let contested = step(
        &s,
        ServiceEvent::Contest {
            text: "  VM delivered with 4 vCPU instead of 8  ".into(),
        },
        day5_last,
    );
    assert_eq!(
        svc(&contested).acceptance,
        AcceptanceStatus::Contested {
            at: day5_last,
            text: "VM delivered with 4 vCPU instead of 8".into()
        }
    );
    assert_eq!(contested.status(day6_first), Status::InContest);
    let late = try_step(&s, ServiceEvent::Contest { text: "x".into() }, day6_first);
    assert_eq!(
        late,
        Err(ServiceError::ContestAfterWindow {
            window_end: day6_first,
            at: day6_first
        })
    );
    assert_eq!(late.unwrap_err().rule(), "R1.7");
    // Still too late once the job has recorded the end of the window.
    let ended = step(&s, ServiceEvent::EndContestWindow, sec(day6_first, 3600));
    assert_eq!(
        try_step(
            &ended,
            ServiceEvent::Contest { text: "x".into() },
            day6_first
        ),
        Err(ServiceError::ContestAfterWindow {
            window_end: day6_first,
            at: day6_first
        })
    );
    // A contest must be written.
    assert_eq!(
        try_step(&s, ServiceEvent::Contest { text: " ".into() }, day5_last),
        Err(ServiceError::ContestTextMissing)
    );
    // A second contest is refused; staff resolve the first one.
    assert_eq!(
        try_step(
            &contested,
            ServiceEvent::Contest { text: "y".into() },
            day6_first
        ),
        Err(ServiceError::AlreadyContested { at: day5_last })
    );
    let resolved = step(
        &contested,
        ServiceEvent::ResolveContest {
            resolution: "vCPU fixed".into(),
        },
        paris(2026, 3, 9, 11, 0, 0),
    );
    assert!(matches!(
        svc(&resolved).acceptance,
        AcceptanceStatus::Accepted {
            by: AcceptedBy::ContestResolved { .. },
            ..
        }
    ));
    assert_eq!(
        try_step(
            &s,
            ServiceEvent::ResolveContest {
                resolution: "x".into()
            },
            day5_last
        ),
        Err(ServiceError::NotContested)
    );
    // A contested service never gets the window step.
    assert_eq!(contested.due_steps(sec(day6_first, 86_400)), vec![]);
}

#[test]
fn delays_across_month_ends_year_ends_and_clock_changes() {
    let p = params();
    // (event, days, expected end) — the day of the event does not count,
    // the delay expires at the end of its last day, Europe/Paris.
    let table = [
        // Contest, 5 days from Sat 28 Feb 2026: 1-5 March; closes 6 March
        // 00:00 Paris (UTC+1) = 5 March 23:00Z.
        (paris(2026, 2, 28, 16, 0, 0), 5, "2026-03-05T23:00:00Z"),
        // Contest from 27 March 2026, across the change to summer time on
        // 29 March: 28 March-1 April; closes 2 April 00:00 Paris (UTC+2).
        (paris(2026, 3, 27, 23, 30, 0), 5, "2026-04-01T22:00:00Z"),
        // Contest from 29 Dec 2026: 30, 31 Dec, 1, 2, 3 Jan; closes 4 Jan
        // 2027 00:00 Paris.
        (paris(2026, 12, 29, 0, 0, 0), 5, "2027-01-03T23:00:00Z"),
        // Security, 15 days from 20 Oct 2026 (summer), across the change
        // to winter time on 25 Oct: 21 Oct-4 Nov; deadline 5 Nov 00:00
        // Paris (UTC+1) = 4 Nov 23:00Z.
        (paris(2026, 10, 20, 9, 0, 0), 15, "2026-11-04T23:00:00Z"),
        // Security from 14 Feb 2028 (leap year): 15 Feb-29 Feb; deadline
        // 1 March 2028 00:00 Paris.
        (paris(2028, 2, 14, 12, 0, 0), 15, "2028-02-29T23:00:00Z"),
        // An event at 00:30 Paris, which is still the previous day in UTC:
        // the Paris day counts (1 June 2026), so 2-6 June; closes 7 June
        // 00:00 Paris.
        (
            "2026-05-31T22:30:00Z".parse().unwrap(),
            5,
            "2026-06-06T22:00:00Z",
        ),
    ];
    for (from, days, end) in table {
        let end: Timestamp = end.parse().unwrap();
        assert_eq!(p.delay_end(from, days), end, "{from} + {days}");
        if days == 5 {
            let s = step(&ServiceState::ordered(12).unwrap(), provision(), from);
            assert_eq!(svc(&s).contest_window_end, end);
            assert!(svc(&s).contest_open_at(sec(end, -1)));
            assert!(!svc(&s).contest_open_at(end));
        } else {
            let s = step(&ServiceState::ordered(12).unwrap(), provision(), from);
            let sus = step(
                &s,
                ServiceEvent::Suspend {
                    reason: SuspensionReason::SecurityDanger,
                },
                from,
            );
            assert_eq!(svc(&sus).suspension.as_ref().unwrap().deadline, Some(end));
        }
    }
}

#[test]
fn end_of_window_and_first_use() {
    let s = provisioned(12);
    let end = paris(2026, 3, 7, 0, 0, 0);
    assert_eq!(s.due_steps(sec(end, -1)), vec![]);
    assert_eq!(s.due_steps(end), vec![ServiceEvent::EndContestWindow]);
    assert_eq!(
        try_step(&s, ServiceEvent::EndContestWindow, sec(end, -1)),
        Err(ServiceError::NotYetDue {
            rule: "R1.7",
            step: "end_contest_window",
            due_at: end,
            now: sec(end, -1)
        })
    );
    // The job runs two days late: acceptance still dates from the window end.
    let accepted = step(&s, ServiceEvent::EndContestWindow, sec(end, 2 * 86_400));
    assert_eq!(
        svc(&accepted).acceptance,
        AcceptanceStatus::Accepted {
            at: end,
            by: AcceptedBy::WindowEnded
        }
    );
    assert_eq!(
        try_step(
            &accepted,
            ServiceEvent::EndContestWindow,
            sec(end, 3 * 86_400)
        ),
        Err(ServiceError::AlreadyApplied {
            rule: "R1.7",
            step: "end_contest_window"
        })
    );
    // First use inside the window accepts at once; a second use is a no-op.
    let used_at = paris(2026, 3, 3, 9, 30, 0);
    let used = step(&s, ServiceEvent::RecordFirstUse, used_at);
    assert_eq!(
        svc(&used).acceptance,
        AcceptanceStatus::Accepted {
            at: used_at,
            by: AcceptedBy::FirstUse
        }
    );
    assert_eq!(used.due_steps(end), vec![]);
    assert_eq!(
        step(&used, ServiceEvent::RecordFirstUse, sec(used_at, 60)),
        used
    );
    // A contest after first use is refused: accepted without reserve.
    assert_eq!(
        try_step(
            &used,
            ServiceEvent::Contest { text: "x".into() },
            sec(used_at, 60)
        ),
        Err(ServiceError::AlreadyAccepted { at: used_at })
    );
    // Usage reported after the window (job not run yet) dates the
    // acceptance from the window end, as the job would.
    let late_use = step(&s, ServiceEvent::RecordFirstUse, sec(end, 10));
    assert_eq!(svc(&late_use).acceptance, svc(&accepted).acceptance);
}

// ---- fixed term, renewal, notices (R3.2) ---------------------------------------

#[test]
fn renewal_exactly_at_the_end_of_the_term() {
    let s = provisioned(12);
    // Term last day 28 Feb 2027; the indefinite term starts 1 March 2027
    // 00:00 Paris.
    let renewal = paris(2027, 3, 1, 0, 0, 0);
    assert!(!s.due_steps(sec(renewal, -1)).contains(&ServiceEvent::Renew));
    assert!(s.due_steps(renewal).contains(&ServiceEvent::Renew));
    assert_eq!(s.status(sec(renewal, -1)), Status::FixedTerm);
    assert_eq!(s.status(renewal), Status::Indefinite);
    assert_eq!(
        try_step(&s, ServiceEvent::Renew, sec(renewal, -1)).unwrap_err(),
        ServiceError::NotYetDue {
            rule: "R3.2",
            step: "renew",
            due_at: renewal,
            now: sec(renewal, -1)
        }
    );
    let renewed = step(&s, ServiceEvent::Renew, renewal);
    assert_eq!(svc(&renewed).renewed_on, Some(date(2027, 3, 1)));
    assert_eq!(
        try_step(&renewed, ServiceEvent::Renew, sec(renewal, 86_400)),
        Err(ServiceError::AlreadyApplied {
            rule: "R3.2",
            step: "renew"
        })
    );
}

#[test]
fn notice_on_the_last_possible_day_and_one_day_later() {
    let s = provisioned(12);
    let p = params();
    // Term last day 28 Feb 2027. 30 Nov 2026 + 90 days: +31 → 31 Dec,
    // +31 → 31 Jan, +28 → 28 Feb = 90 days exactly → ends with the term.
    // 1 Dec 2026 + 90 = 1 Mar 2027 > 28 Feb → the order renews and ends on
    // the last day of March 2027.
    // (received, expires, last day, at term end, renews)
    let table = [
        (
            date(2026, 11, 30),
            date(2027, 2, 28),
            date(2027, 2, 28),
            true,
            false,
        ),
        (
            date(2026, 12, 1),
            date(2027, 3, 1),
            date(2027, 3, 31),
            false,
            true,
        ),
        // Early in the term: still the term's end (no renewal).
        (
            date(2026, 3, 1),
            date(2026, 5, 30),
            date(2027, 2, 28),
            true,
            false,
        ),
        // After renewal: 15 May 2027 + 90 = 13 Aug 2027 → 31 Aug 2027.
        (
            date(2027, 5, 15),
            date(2027, 8, 13),
            date(2027, 8, 31),
            false,
            true,
        ),
        // Into a leap February: 15 Nov 2027 + 90 = 13 Feb 2028 → 29 Feb 2028.
        (
            date(2027, 11, 15),
            date(2028, 2, 13),
            date(2028, 2, 29),
            false,
            true,
        ),
        // Expiring on a month's last day: 2 Oct 2027 + 90 = 31 Dec 2027.
        (
            date(2027, 10, 2),
            date(2027, 12, 31),
            date(2027, 12, 31),
            false,
            true,
        ),
    ];
    for (received, expires, last, at_term_end, renews) in table {
        for by in [Party::Client, Party::Provider] {
            let now = sec(noon(received), 2 * 86_400); // recorded two days later
            let t = step(
                &s,
                ServiceEvent::GiveNotice {
                    by,
                    received_on: received,
                },
                now,
            );
            let term = svc(&t).termination.clone().unwrap();
            assert_eq!(term.last_day, last, "{received}");
            assert_eq!(
                term.kind,
                TerminationKind::Notice {
                    by,
                    received_on: received,
                    expires_on: expires,
                    at_term_end
                }
            );
            assert_eq!(term.ends_at, p.end_of(last));
            assert_eq!(term.fee, None);
            // The renewal step is due at the term's end only if the notice
            // ends the service after it.
            let at_renewal = paris(2027, 3, 1, 0, 0, 0);
            assert_eq!(
                t.due_steps(at_renewal).contains(&ServiceEvent::Renew)
                    || svc(&t).renewed_on.is_some(),
                renews,
                "{received}"
            );
        }
    }
}

#[test]
fn notice_errors() {
    let s = provisioned(12);
    let now = paris(2026, 6, 1, 10, 0, 0);
    // Before the start (1 March 2026).
    let before = try_step(
        &s,
        ServiceEvent::GiveNotice {
            by: Party::Client,
            received_on: date(2026, 2, 28),
        },
        now,
    );
    assert_eq!(
        before,
        Err(ServiceError::NoticeBeforeStart {
            received_on: date(2026, 2, 28),
            start: date(2026, 3, 1)
        })
    );
    assert_eq!(before.unwrap_err().rule(), "R3.2");
    // Received tomorrow.
    assert_eq!(
        try_step(
            &s,
            ServiceEvent::GiveNotice {
                by: Party::Client,
                received_on: date(2026, 6, 2)
            },
            now
        ),
        Err(ServiceError::NoticeInFuture {
            received_on: date(2026, 6, 2),
            today: date(2026, 6, 1)
        })
    );
    // One termination at a time: the first recorded governs.
    let t = step(
        &s,
        ServiceEvent::GiveNotice {
            by: Party::Client,
            received_on: date(2026, 6, 1),
        },
        now,
    );
    assert_eq!(
        try_step(
            &t,
            ServiceEvent::GiveNotice {
                by: Party::Provider,
                received_on: date(2026, 6, 1)
            },
            now
        ),
        Err(ServiceError::AlreadyTerminating {
            last_day: date(2027, 2, 28)
        })
    );
    // An event dated before the previous one.
    assert_eq!(
        try_step(&t, ServiceEvent::RecordFirstUse, sec(now, -1)),
        Err(ServiceError::BeforePrevious {
            now: sec(now, -1),
            previous: now
        })
    );
}

#[test]
fn a_letter_recorded_after_the_term_undoes_the_renewal() {
    let s = used(12);
    // Received on 30 Nov 2026 (N + 90 = 28 Feb 2027, the term's last day),
    // recorded on 5 March 2027, after the job renewed on 1 March: the
    // service ended on 28 Feb, it never renewed.
    let renewed = run_due(&s, paris(2027, 3, 1, 0, 0, 0), &params())
        .unwrap()
        .0;
    assert_eq!(svc(&renewed).renewed_on, Some(date(2027, 3, 1)));
    let now = paris(2027, 3, 5, 10, 0, 0);
    let notice = ServiceEvent::GiveNotice {
        by: Party::Client,
        received_on: date(2026, 11, 30),
    };
    let t = step(&renewed, notice.clone(), now);
    assert_eq!(svc(&t).renewed_on, None);
    assert_eq!(
        svc(&t).termination.as_ref().unwrap().last_day,
        date(2027, 2, 28)
    );
    assert_eq!(t.due_steps(now), vec![ServiceEvent::End]);
    // The same as if the job had not run before the letter was recorded.
    let lazy = step(&s, notice, now);
    assert_eq!(
        run_due(&t, now, &params()).unwrap().0,
        run_due(&lazy, now, &params()).unwrap().0
    );
}

#[test]
fn end_of_service_and_after() {
    let s = used(12);
    let t = step(
        &s,
        ServiceEvent::GiveNotice {
            by: Party::Client,
            received_on: date(2026, 11, 30),
        },
        paris(2026, 11, 30, 15, 0, 0),
    );
    // Last day 28 Feb 2027: ended from 1 March 2027 00:00 Paris, no renewal.
    let end = paris(2027, 3, 1, 0, 0, 0);
    assert_eq!(t.due_steps(sec(end, -1)), vec![]);
    assert_eq!(t.due_steps(end), vec![ServiceEvent::End]);
    assert_eq!(t.status(sec(end, -1)), Status::Terminating);
    assert_eq!(t.status(end), Status::Ended);
    // Staff acting after the end, before the job ran: refused.
    assert_eq!(
        try_step(
            &t,
            ServiceEvent::Suspend {
                reason: SuspensionReason::LegalDemand
            },
            end
        ),
        Err(ServiceError::Ended {
            last_day: date(2027, 2, 28)
        })
    );
    let ended = step(&t, ServiceEvent::End, sec(end, 5 * 86_400));
    assert_eq!(svc(&ended).ended_on, Some(date(2027, 2, 28)));
    assert_eq!(svc(&ended).renewed_on, None);
    assert_eq!(
        try_step(&ended, ServiceEvent::End, sec(end, 6 * 86_400)),
        Err(ServiceError::AlreadyApplied {
            rule: "R3.2",
            step: "end"
        })
    );
    // Billing (R2.4) runs to the last day, not beyond.
    let p = params();
    let v = svc(&ended);
    assert!(v.billable_on(date(2026, 3, 1), &p));
    assert!(!v.billable_on(date(2026, 2, 28), &p));
    assert!(v.billable_on(date(2027, 2, 28), &p));
    assert!(!v.billable_on(date(2027, 3, 1), &p));
}

// ---- early termination (R3.1) ---------------------------------------------------

#[test]
fn early_termination_fee_at_the_tier_boundaries() {
    // Start 1 March 2026, 48 months: last day of the term 28 Feb 2030;
    // monthly fee 100.00. Commitment month k = [1 Mar 2026 + (k-1) months,
    // + k months). Remaining = from the day after the last day of service
    // to 28 Feb 2030, by calendar-day fractions.
    let s = provisioned(48);
    // (last day, k, share %, fee)
    let table = [
        // k=12 (1 Feb-28 Feb 2027): remaining 1 Mar 2027-28 Feb 2030 = 36
        // months → 3600.00 x 100 % = 3600.00.
        (date(2027, 2, 28), 12, "100", "3600.00"),
        // k=13: remaining 2-31 Mar 2027 (30/31) + 35 months
        // = 35.967742 x 100 x 80 % = 2877.419... → 2877.42.
        (date(2027, 3, 1), 13, "80", "2877.42"),
        // k=24 (1-29 Feb 2028): 24 months left → 2400 x 80 % = 1920.00.
        (date(2028, 2, 29), 24, "80", "1920.00"),
        // k=25: 30/31 + 23 = 23.967742 x 60 = 1438.0645 → 1438.06.
        (date(2028, 3, 1), 25, "60", "1438.06"),
        // k=36 (1-28 Feb 2029): 12 months left → 1200 x 60 % = 720.00.
        (date(2029, 2, 28), 36, "60", "720.00"),
        // k=37: 30/31 + 11 = 11.967742 x 40 = 478.7097 → 478.71.
        (date(2029, 3, 1), 37, "40", "478.71"),
        // Fixed-term month 1, last day 31 March 2026: 47 months left
        // → 4700.00 at 100 %.
        (date(2026, 3, 31), 1, "100", "4700.00"),
    ];
    let p = params();
    for (last_day, k, share, fee) in table {
        let q = quote_early_termination(svc(&s), last_day, dec("100.00"), false, &p)
            .unwrap()
            .value;
        assert_eq!(q.commitment_month, Some(k), "{last_day}");
        assert_eq!(q.share_percent, dec(share), "{last_day}");
        assert_eq!(q.fee, dec(fee), "{last_day}");
        // Confirmed on the last day itself: the same figure goes to billing.
        let t = step(
            &s,
            ServiceEvent::TerminateEarly {
                last_day,
                monthly_fee: dec("100.00"),
                investment: false,
                quoted_fee: None,
            },
            noon(last_day),
        );
        let term = svc(&t).termination.clone().unwrap();
        assert_eq!(term.kind, TerminationKind::Early);
        let f = term.fee.unwrap();
        assert_eq!(
            (f.rule.as_str(), f.amount, f.commitment_month),
            ("R3.1", dec(fee), Some(k))
        );
    }
    // Dedicated hardware: 100 % whatever the month (k=37 → 1196.77:
    // 11.967742 x 100 = 1196.774 → 1196.77).
    let q = quote_early_termination(svc(&s), date(2029, 3, 1), dec("100.00"), true, &p)
        .unwrap()
        .value;
    assert_eq!(q.fee, dec("1196.77"));
}

#[test]
fn early_termination_errors() {
    let s = provisioned(12);
    let p = params();
    let now = paris(2026, 6, 10, 10, 0, 0);
    let early = |last_day| ServiceEvent::TerminateEarly {
        last_day,
        monthly_fee: dec("100"),
        investment: false,
        quoted_fee: None,
    };
    // On or after the term's last day (28 Feb 2027) it is a notice, not an
    // early termination.
    let e = try_step(&s, early(date(2027, 2, 28)), now).unwrap_err();
    assert_eq!(
        e,
        ServiceError::NotInFixedTerm {
            last_day: date(2027, 2, 28),
            term_last_day: date(2027, 2, 28)
        }
    );
    assert_eq!(e.rule(), "R3.1");
    assert!(try_step(&s, early(date(2027, 2, 27)), now).is_ok());
    // A last day in the past.
    assert_eq!(
        try_step(&s, early(date(2026, 6, 9)), now),
        Err(ServiceError::LastDayInPast {
            last_day: date(2026, 6, 9),
            today: date(2026, 6, 10)
        })
    );
    assert_eq!(
        quote_early_termination(svc(&s), date(2026, 2, 28), dec("100"), false, &p).unwrap_err(),
        ServiceError::LastDayBeforeStart {
            last_day: date(2026, 2, 28),
            start: date(2026, 3, 1)
        }
    );
    // After the term ended (renewed or not yet by the job): a notice.
    let renewed = step(&s, ServiceEvent::Renew, paris(2027, 3, 1, 0, 0, 0));
    assert!(matches!(
        try_step(
            &renewed,
            early(date(2027, 6, 30)),
            paris(2027, 3, 2, 0, 0, 0)
        ),
        Err(ServiceError::NotInFixedTerm { .. })
    ));
    // The client confirms the quote it was shown: 30 Sep 2026 is in
    // commitment month 7; remaining October 2026-February 2027 = 5 months
    // x 100 x 100 % = 500.00.
    let confirm = |quoted: &str| ServiceEvent::TerminateEarly {
        last_day: date(2026, 9, 30),
        monthly_fee: dec("100"),
        investment: false,
        quoted_fee: Some(dec(quoted)),
    };
    assert!(try_step(&s, confirm("500.00"), now).is_ok());
    let e = try_step(&s, confirm("450.00"), now).unwrap_err();
    assert_eq!(
        e,
        ServiceError::QuoteChanged {
            quoted: dec("450.00"),
            fee: dec("500.00")
        }
    );
    assert_eq!(e.rule(), "R3.1");
    // A negative fee is refused by the engine's checks.
    assert!(matches!(
        try_step(
            &s,
            ServiceEvent::TerminateEarly {
                last_day: date(2026, 9, 30),
                monthly_fee: dec("-1"),
                investment: false,
                quoted_fee: None,
            },
            now
        ),
        Err(ServiceError::Arithmetic { rule: "R3.1", .. })
    ));
}

// ---- suspension (R3.4) -------------------------------------------------------------

#[test]
fn suspension_reasons_and_reopening() {
    let s = provisioned(12);
    let p = params();
    // Illicit use, hacking, legal demand: at once.
    for reason in [
        SuspensionReason::IllicitUse,
        SuspensionReason::Hacking,
        SuspensionReason::LegalDemand,
    ] {
        let at = paris(2026, 5, 4, 3, 0, 0);
        let sus = step(
            &s,
            ServiceEvent::Suspend {
                reason: reason.clone(),
            },
            at,
        );
        assert_eq!(sus.status(at), Status::Suspended);
        assert_eq!(
            try_step(
                &sus,
                ServiceEvent::Suspend {
                    reason: reason.clone()
                },
                at
            ),
            Err(ServiceError::AlreadySuspended {
                reason: reason.name(),
                since: at
            })
        );
        let re = step(
            &sus,
            ServiceEvent::Reopen {
                note: "authority lifted its demand".into(),
            },
            sec(at, 3600),
        );
        assert_eq!(re.status(sec(at, 3600)), Status::FixedTerm);
        // Billing continues during the suspension (R3.4).
        assert!(svc(&re).billable_on(date(2026, 5, 4), &p));
    }
    // Reopening a service that is not suspended.
    let e = try_step(
        &s,
        ServiceEvent::Reopen {
            note: "paid".into(),
        },
        paris(2026, 5, 4, 3, 0, 0),
    )
    .unwrap_err();
    assert_eq!(e, ServiceError::NotSuspended);
    assert_eq!(e.rule(), "R3.4");
}

#[test]
fn non_payment_needs_the_client_informed_first() {
    let s = provisioned(12);
    // Informed on 1 April 2026 at 10:00 Paris: 15 days (R2.6) = 2-16 April;
    // suspension possible from 17 April 00:00 Paris = 16 April 22:00Z.
    let informed_at = paris(2026, 4, 1, 10, 0, 0);
    let from = paris(2026, 4, 17, 0, 0, 0);
    let reason = SuspensionReason::NonPayment { informed_at };
    assert_eq!(
        try_step(
            &s,
            ServiceEvent::Suspend {
                reason: reason.clone()
            },
            sec(from, -1)
        ),
        Err(ServiceError::NonPaymentTooEarly {
            informed_at,
            allowed_from: from,
            days: 15
        })
    );
    let sus = step(&s, ServiceEvent::Suspend { reason }, from);
    let paid = step(
        &sus,
        ServiceEvent::Reopen {
            note: "payment received".into(),
        },
        paris(2026, 4, 20, 9, 0, 0),
    );
    let v = svc(&paid);
    assert_eq!(
        v.suspension.as_ref().unwrap().reopened_at,
        Some(paris(2026, 4, 20, 9, 0, 0))
    );
    // A second suspension keeps the first in the history.
    let again = step(
        &paid,
        ServiceEvent::Suspend {
            reason: SuspensionReason::Hacking,
        },
        paris(2026, 5, 1, 9, 0, 0),
    );
    assert_eq!(svc(&again).past_suspensions.len(), 1);
}

#[test]
fn security_deadline_at_15_days() {
    let s = used(12);
    // Suspended and emailed on 10 April 2026 at 10:00 Paris (UTC+2): the
    // client has 11-25 April; the deadline is 26 April 00:00 Paris =
    // 25 April 22:00Z.
    let at = paris(2026, 4, 10, 10, 0, 0);
    let deadline = paris(2026, 4, 26, 0, 0, 0);
    assert_eq!(deadline, "2026-04-25T22:00:00Z".parse().unwrap());
    let sus = step(
        &s,
        ServiceEvent::Suspend {
            reason: SuspensionReason::SecurityDanger,
        },
        at,
    );
    assert_eq!(
        svc(&sus).suspension.as_ref().unwrap().deadline,
        Some(deadline)
    );
    assert_eq!(sus.due_steps(sec(deadline, -1)), vec![]);
    assert_eq!(
        sus.due_steps(deadline),
        vec![ServiceEvent::SecurityDeadline]
    );
    let cause = ServiceEvent::TerminateForCause {
        last_day: date(2026, 4, 30),
        monthly_fee: dec("100.00"),
    };
    assert_eq!(
        try_step(&sus, cause.clone(), sec(deadline, -1)),
        Err(ServiceError::SecurityDelayRunning { deadline })
    );
    // Secured in time: the deadline never becomes due.
    let secured = step(
        &sus,
        ServiceEvent::Reopen {
            note: "patched".into(),
        },
        sec(deadline, -1),
    );
    assert_eq!(secured.due_steps(sec(deadline, 86_400)), vec![]);
    assert_eq!(
        try_step(&secured, cause.clone(), deadline),
        Err(ServiceError::NoSecurityCause)
    );
    // Not secured: the step opens termination at the client's cost.
    let passed = step(&sus, ServiceEvent::SecurityDeadline, sec(deadline, 7200));
    assert!(svc(&passed).suspension.as_ref().unwrap().deadline_passed);
    assert_eq!(
        try_step(&passed, ServiceEvent::SecurityDeadline, sec(deadline, 9000)),
        Err(ServiceError::AlreadyApplied {
            rule: "R3.4",
            step: "security_deadline"
        })
    );
    // Termination on 30 April 2026 (commitment month 2): remaining 1 May
    // 2026-28 Feb 2027 = 10 months x 100.00 x 100 % (default share) = 1000.00.
    let t = step(&passed, cause, sec(deadline, 86_400));
    let term = svc(&t).termination.clone().unwrap();
    assert_eq!(term.kind, TerminationKind::SecurityNotRemedied);
    let fee = term.fee.unwrap();
    assert_eq!((fee.rule.as_str(), fee.amount), ("R3.4", dec("1000.00")));
    // Billing continued all along.
    assert!(svc(&t).billable_on(date(2026, 4, 20), &params()));
    // Other suspensions do not open a termination for cause.
    let hack = step(
        &s,
        ServiceEvent::Suspend {
            reason: SuspensionReason::Hacking,
        },
        at,
    );
    assert_eq!(
        try_step(
            &hack,
            ServiceEvent::TerminateForCause {
                last_day: date(2026, 6, 30),
                monthly_fee: dec("1")
            },
            paris(2026, 6, 1, 0, 0, 0)
        ),
        Err(ServiceError::NoSecurityCause)
    );
}

// ---- fair use (R3.5) ------------------------------------------------------------------

#[test]
fn fair_use_flag_at_5_tb() {
    let s = provisioned(12);
    let now = paris(2026, 5, 1, 2, 0, 0);
    // CG 9.2 "atteignant 5 téraoctets": a month reaching 5 x 10^12 bytes.
    let table = [
        (4_999_999_999_999u64, false),
        (5_000_000_000_000, true),
        (5_000_000_000_001, true),
        (0, false),
    ];
    for (bytes, exceeded) in table {
        let r = step(
            &s,
            ServiceEvent::RecordMonthlyTraffic {
                month: date(2026, 4, 15),
                bytes,
            },
            now,
        );
        let m = svc(&r).fair_use_of(date(2026, 4, 1)).unwrap();
        assert_eq!(
            (m.month, m.bytes, m.exceeded),
            (date(2026, 4, 1), bytes, exceeded)
        );
        assert_eq!(m.limit_mbit_per_s, exceeded.then_some(10));
    }
    // The strict reading of RULES.md ("above") is one parameter away.
    let mut strict = params();
    strict.fair_use_threshold_inclusive = false;
    assert!(!strict.fair_use_exceeded(5_000_000_000_000));
    assert!(strict.fair_use_exceeded(5_000_000_000_001));
    // A later reading of the month replaces the earlier one.
    let a = step(
        &s,
        ServiceEvent::RecordMonthlyTraffic {
            month: date(2026, 4, 1),
            bytes: 1,
        },
        now,
    );
    let b = step(
        &a,
        ServiceEvent::RecordMonthlyTraffic {
            month: date(2026, 4, 30),
            bytes: 6_000_000_000_000,
        },
        now,
    );
    assert_eq!(svc(&b).fair_use.len(), 1);
    assert!(svc(&b).fair_use[0].exceeded);
    // A month before the start (1 March 2026).
    assert_eq!(
        try_step(
            &s,
            ServiceEvent::RecordMonthlyTraffic {
                month: date(2026, 2, 28),
                bytes: 1
            },
            now
        ),
        Err(ServiceError::MonthBeforeStart {
            month: date(2026, 2, 1),
            start: date(2026, 3, 1)
        })
    );
    // A month that has not begun.
    assert_eq!(
        try_step(
            &s,
            ServiceEvent::RecordMonthlyTraffic {
                month: date(2026, 6, 1),
                bytes: 1
            },
            now
        ),
        Err(ServiceError::FutureMonth {
            month: date(2026, 6, 1),
            today: date(2026, 5, 1)
        })
    );
}

// ---- products (R3.6) and reversibility (R12.2) -------------------------------------------

/// A 12-month service from 1 March 2026 with two products, terminated early
/// with 31 January 2027 as its last day (k = 11, remaining February 2027
/// = 28/28 month → 100.00 at 100 %).
fn terminated_31_jan() -> ServiceState {
    let s = with_products(12, &["router", "firewall"]);
    let t = step(
        &s,
        ServiceEvent::TerminateEarly {
            last_day: date(2027, 1, 31),
            monthly_fee: dec("100.00"),
            investment: false,
            quoted_fee: None,
        },
        paris(2027, 1, 5, 10, 0, 0),
    );
    assert_eq!(
        svc(&t)
            .termination
            .as_ref()
            .unwrap()
            .fee
            .as_ref()
            .unwrap()
            .amount,
        dec("100.00")
    );
    t
}

#[test]
fn product_return_within_one_month() {
    let t = terminated_31_jan();
    let term = svc(&t).termination.clone().unwrap();
    // 31 Jan 2027 + 1 month = 28 Feb 2027 (clamped); late from 1 March
    // 00:00 Paris.
    assert_eq!(term.products_due_by, date(2027, 2, 28));
    let deadline = paris(2027, 3, 1, 0, 0, 0);
    assert_eq!(term.products_deadline_at, deadline);
    // (router returned on, firewall outcome, late, indemnity, total owed)
    let table = [
        // Both back on the last day: nothing owed.
        (
            date(2027, 2, 28),
            Some(ReturnOutcome::Returned {
                on: date(2027, 2, 28),
            }),
            vec![],
            "0",
            "0",
        ),
        // Firewall back one day late: 700.00.
        (
            date(2027, 2, 28),
            Some(ReturnOutcome::Returned {
                on: date(2027, 3, 1),
            }),
            vec!["firewall"],
            "700.00",
            "700.00",
        ),
        // Firewall never back: 700.00.
        (date(2027, 2, 1), None, vec!["firewall"], "700.00", "700.00"),
        // Firewall lost: its value at the order date (1200.00) on top of
        // the indemnity, "sans préjudice" (CG 10).
        (
            date(2027, 2, 1),
            Some(ReturnOutcome::Lost),
            vec!["firewall"],
            "700.00",
            "1900.00",
        ),
    ];
    for (router_on, firewall, late, indemnity, owed) in table {
        let now = sec(deadline, 3 * 86_400);
        let mut s = step(
            &t,
            ServiceEvent::RecordProductReturn {
                product: "router".into(),
                outcome: ReturnOutcome::Returned { on: router_on },
            },
            now,
        );
        if let Some(o) = firewall {
            s = step(
                &s,
                ServiceEvent::RecordProductReturn {
                    product: "firewall".into(),
                    outcome: o,
                },
                now,
            );
        }
        assert!(
            !s.due_steps(sec(deadline, -1))
                .contains(&ServiceEvent::ProductReturnDeadline)
        );
        assert!(
            s.due_steps(deadline)
                .contains(&ServiceEvent::ProductReturnDeadline)
        );
        let checked = step(&s, ServiceEvent::ProductReturnDeadline, now);
        let c = svc(&checked).product_check.clone().unwrap();
        assert_eq!(
            c.late,
            late.iter().map(|x| x.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(c.indemnity, dec(indemnity));
        assert_eq!(svc(&checked).product_charges(), dec(owed));
        // Billing's view: the termination fee (100.00), then the product
        // charges, each once under its key; their sum is the fee + owed.
        let charges = svc(&checked).one_off_charges();
        assert_eq!(charges[0].key, "termination_fee");
        assert_eq!(charges[0].amount, dec("100.00"));
        let total: Decimal = charges.iter().map(|c| c.amount).sum();
        assert_eq!(total, dec("100.00") + dec(owed));
        let mut keys: Vec<_> = charges.iter().map(|c| c.key.clone()).collect();
        keys.dedup();
        assert_eq!(keys.len(), charges.len());
        assert_eq!(
            try_step(&checked, ServiceEvent::ProductReturnDeadline, now),
            Err(ServiceError::AlreadyApplied {
                rule: "R3.6",
                step: "product_return_deadline"
            })
        );
    }
    // Leap year: 31 Jan 2028 + 1 month = 29 Feb 2028.
    let s = with_products(24, &["router"]);
    let t = step(
        &s,
        ServiceEvent::TerminateEarly {
            last_day: date(2028, 1, 31),
            monthly_fee: dec("1"),
            investment: false,
            quoted_fee: None,
        },
        paris(2028, 1, 2, 10, 0, 0),
    );
    assert_eq!(
        svc(&t).termination.as_ref().unwrap().products_due_by,
        date(2028, 2, 29)
    );
}

#[test]
fn a_return_entered_after_the_check_revises_it() {
    let t = terminated_31_jan();
    // The check runs on 1 March 2027 with both products missing: 700.00.
    let checked = run_due(&t, paris(2027, 3, 1, 0, 0, 0), &params())
        .unwrap()
        .0;
    assert_eq!(
        svc(&checked).product_check.as_ref().unwrap().indemnity,
        dec("700.00")
    );
    // Receipts entered on 3 March: router back on 28 Feb (in time),
    // firewall on 2 March (late): still 700.00, only the firewall late.
    let now = paris(2027, 3, 3, 10, 0, 0);
    let back = |s: &ServiceState, id: &str, on| {
        step(
            s,
            ServiceEvent::RecordProductReturn {
                product: id.into(),
                outcome: ReturnOutcome::Returned { on },
            },
            now,
        )
    };
    let r = back(&checked, "router", date(2027, 2, 28));
    let c = svc(&r).product_check.clone().unwrap();
    assert_eq!(c.late, vec!["firewall".to_string()]);
    assert_eq!(c.indemnity, dec("700.00"));
    let f = back(&r, "firewall", date(2027, 3, 2));
    assert_eq!(svc(&f).product_charges(), dec("700.00"));
    // Both back by 28 Feb: nothing owed after all.
    let ok = back(&r, "firewall", date(2027, 2, 27));
    let c = svc(&ok).product_check.clone().unwrap();
    assert_eq!((c.late.len(), c.indemnity), (0, Decimal::ZERO));
}

#[test]
fn product_return_errors() {
    let s = with_products(12, &["router"]);
    let now = paris(2026, 6, 1, 10, 0, 0);
    let ret = |id: &str| ServiceEvent::RecordProductReturn {
        product: id.into(),
        outcome: ReturnOutcome::Returned {
            on: date(2026, 6, 1),
        },
    };
    assert_eq!(
        try_step(&s, ret("router"), now),
        Err(ServiceError::NoTerminationForReturn)
    );
    let t = terminated_31_jan();
    let now = paris(2027, 2, 3, 10, 0, 0);
    assert_eq!(
        try_step(&t, ret("switch"), now),
        Err(ServiceError::UnknownProduct {
            id: "switch".into()
        })
    );
    let r = step(&t, ret("router"), now);
    assert_eq!(
        try_step(&r, ret("router"), now),
        Err(ServiceError::ProductAlreadyRecorded {
            id: "router".into()
        })
    );
    assert_eq!(
        try_step(
            &t,
            ServiceEvent::RecordProductReturn {
                product: "router".into(),
                outcome: ReturnOutcome::Returned {
                    on: date(2027, 2, 4)
                }
            },
            now
        ),
        Err(ServiceError::ReturnInFuture {
            on: date(2027, 2, 4),
            today: date(2027, 2, 3)
        })
    );
    // A service without products has no product deadline.
    let plain = step(
        &provisioned(12),
        ServiceEvent::GiveNotice {
            by: Party::Client,
            received_on: date(2026, 3, 2),
        },
        paris(2026, 3, 2, 10, 0, 0),
    );
    assert!(
        !plain
            .due_steps(paris(2030, 1, 1, 0, 0, 0))
            .contains(&ServiceEvent::ProductReturnDeadline)
    );
}

#[test]
fn reversibility_at_the_end() {
    let s = provisioned(12);
    let e = try_step(
        &s,
        ServiceEvent::RequestReversibility,
        paris(2026, 6, 1, 0, 0, 0),
    )
    .unwrap_err();
    assert_eq!(e, ServiceError::NoTerminationForReversibility);
    assert_eq!(e.rule(), "R12.2");
    let t = terminated_31_jan();
    // Open until 30 days after the last day (31 Jan 2027): 2 March 2027
    // included, closed from 3 March 00:00 Paris.
    let until = paris(2027, 3, 3, 0, 0, 0);
    assert_eq!(
        svc(&t).termination.as_ref().unwrap().reversibility_until,
        until
    );
    let asked = step(&t, ServiceEvent::RequestReversibility, sec(until, -1));
    assert_eq!(svc(&asked).reversibility_requested_at, Some(sec(until, -1)));
    assert_eq!(
        try_step(&asked, ServiceEvent::RequestReversibility, sec(until, -1)),
        Err(ServiceError::ReversibilityAlreadyRequested { at: sec(until, -1) })
    );
    assert_eq!(
        try_step(&t, ServiceEvent::RequestReversibility, until),
        Err(ServiceError::ReversibilityClosed { until })
    );
}

#[test]
fn next_deadline_and_notices() {
    let s = provisioned(12);
    // Pending: the window end (7 March 2026 00:00 Paris) comes first.
    assert_eq!(s.next_due_at(), Some(paris(2026, 3, 7, 0, 0, 0)));
    // Accepted: the renewal (1 March 2027 00:00 Paris).
    let a = step(&s, ServiceEvent::RecordFirstUse, paris(2026, 3, 2, 0, 0, 0));
    assert_eq!(a.next_due_at(), Some(paris(2027, 3, 1, 0, 0, 0)));
    // Ended with no products: nothing left to do.
    let t = step(
        &a,
        ServiceEvent::TerminateEarly {
            last_day: date(2026, 3, 31),
            monthly_fee: dec("10"),
            investment: false,
            quoted_fee: None,
        },
        paris(2026, 3, 2, 0, 0, 0),
    );
    assert_eq!(t.next_due_at(), Some(paris(2026, 4, 1, 0, 0, 0)));
    let ended = run_due(&t, paris(2026, 4, 1, 0, 0, 0), &params())
        .unwrap()
        .0;
    assert_eq!(ended.next_due_at(), None);
    assert_eq!(ServiceState::ordered(1).unwrap().next_due_at(), None);
    // R13 notices.
    use ciel_catalog::service::ServiceNotice as N;
    let table = [
        (provision(), Some(N::Provisioned)),
        (
            ServiceEvent::Suspend {
                reason: SuspensionReason::Hacking,
            },
            Some(N::Suspended),
        ),
        (ServiceEvent::Reopen { note: "x".into() }, Some(N::Reopened)),
        (
            ServiceEvent::GiveNotice {
                by: Party::Provider,
                received_on: date(2026, 3, 2),
            },
            Some(N::TerminationConfirmed),
        ),
        (ServiceEvent::Renew, None),
        (ServiceEvent::RecordFirstUse, None),
    ];
    for (e, n) in table {
        assert_eq!(e.notice(), n, "{}", e.name());
    }
}

#[test]
fn states_and_events_round_trip_as_json() {
    let t = terminated_31_jan();
    let t = step(
        &t,
        ServiceEvent::Suspend {
            reason: SuspensionReason::NonPayment {
                informed_at: paris(2026, 12, 1, 10, 0, 0),
            },
        },
        paris(2027, 1, 10, 10, 0, 0),
    );
    let json = serde_json::to_string(&t).unwrap();
    let back: ServiceState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    let e = ServiceEvent::TerminateEarly {
        last_day: date(2027, 1, 31),
        monthly_fee: dec("99.99"),
        investment: true,
        quoted_fee: None,
    };
    let back: ServiceEvent = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}

// ---- properties ------------------------------------------------------------------------

proptest! {
    /// R3.2: a notice never ends the service before its receipt + 90 days,
    /// never before the end of the fixed term, always on the term's last
    /// day or a month's last day, in the month where the notice expires
    /// when it does not end with the term; and a later notice never ends
    /// the service earlier.
    #[test]
    fn notice_invariants(
        start_offset in 0i64..1500,
        months in 1u32..61,
        received_offset in 0i64..2500,
    ) {
        let start = date(2025, 1, 1) + start_offset.days();
        let s = step(&ServiceState::ordered(months).unwrap(), provision(), noon(start));
        let v = svc(&s);
        let p = params();
        let received = start + received_offset.days();
        let end = notice_last_day(v, received, &p).unwrap().value;
        let expires = received + 90.days();
        prop_assert_eq!(end.expires, expires);
        prop_assert!(end.last_day >= expires);
        prop_assert!(end.last_day >= v.term_last_day);
        if end.last_day == v.term_last_day && expires <= v.term_last_day {
            prop_assert!(end.at_term_end);
        } else {
            prop_assert!(!end.at_term_end);
            prop_assert_eq!(end.last_day, end.last_day.last_of_month());
            prop_assert_eq!(end.last_day.first_of_month(), expires.first_of_month());
        }
        let next = notice_last_day(v, received + 1.day(), &p).unwrap().value;
        prop_assert!(next.last_day >= end.last_day);
    }

    /// The steps due at one instant give the same state in any order, none
    /// is due again afterwards, none applies twice, and running the pass
    /// every day gives the same state as running it once at the end.
    #[test]
    fn due_steps_converge_and_never_apply_twice(
        months in 1u32..25,
        contest in 0u8..3,
        termination in 0u8..3,
        notice_offset in 0i64..500,
        security in proptest::bool::ANY,
        returned in proptest::bool::ANY,
        later in 0i64..900,
        order_seed in proptest::collection::vec(0usize..100, 6),
    ) {
        let p = params();
        let t0 = paris(2026, 1, 31, 10, 0, 0);
        let mut s = step(
            &ServiceState::ordered(months).unwrap(),
            ServiceEvent::Provision {
                planned_on: None,
                client_delay: false,
                products: vec![Product::new("router", dec("500"))],
            },
            t0,
        );
        let mut now = t0;
        match contest {
            0 => s = step(&s, ServiceEvent::Contest { text: "broken".into() }, sec(t0, 86_400)),
            1 => s = step(&s, ServiceEvent::RecordFirstUse, sec(t0, 3_600)),
            _ => {}
        }
        now = sec(now, 86_400);
        if security {
            now = sec(now, 86_400);
            s = step(&s, ServiceEvent::Suspend { reason: SuspensionReason::SecurityDanger }, now);
        }
        let received = params().day_of(t0) + notice_offset.days();
        let at = noon(received).max(now);
        let ev = match termination {
            0 => Some(ServiceEvent::GiveNotice { by: Party::Client, received_on: params().day_of(at) }),
            1 => Some(ServiceEvent::TerminateEarly {
                last_day: params().day_of(at) + 20.days(),
                monthly_fee: dec("100"),
                investment: false,
                quoted_fee: None,
            }),
            _ => None,
        };
        if let Some(ev) = ev
            && let Ok(next) = apply(&s, &ev, at, &p)
        {
            s = next;
            now = at;
            if returned {
                let end = svc(&s).termination.as_ref().unwrap().last_day;
                let on = end + 3.days();
                if let Ok(next) = apply(
                    &s,
                    &ServiceEvent::RecordProductReturn {
                        product: "router".into(),
                        outcome: ReturnOutcome::Returned { on },
                    },
                    noon(on),
                    &p,
                ) {
                    s = next;
                    now = noon(on);
                }
            }
        }
        let end = sec(now, later * 86_400);

        // One pass at `end`, in the natural order.
        let (once, steps) = run_due(&s, end, &p).unwrap();
        prop_assert_eq!(due_steps(&once, end), vec![]);
        for st in &steps {
            prop_assert!(apply(&once, st, end, &p).is_err(), "{} applied twice", st.name());
        }
        // Any other order gives the same state.
        let mut order = steps.clone();
        for (i, k) in order_seed.iter().enumerate() {
            if order.len() > 1 {
                let n = order.len();
                order.swap(i % n, k % n);
            }
        }
        let mut shuffled = s.clone();
        for st in &order {
            shuffled = apply(&shuffled, st, end, &p).unwrap();
        }
        prop_assert_eq!(&shuffled, &once);
        // A daily pass from `now` to `end` reaches the same state.
        let mut daily = s.clone();
        let mut t = now;
        loop {
            t = sec(t, 86_400).min(end);
            daily = run_due(&daily, t, &p).unwrap().0;
            if t >= end {
                break;
            }
        }
        prop_assert_eq!(&daily, &once);
        // The next deadline is exact: nothing due just before it.
        match s.next_due_at() {
            Some(next) => {
                prop_assert!(due_steps(&s, sec(next, -1)).is_empty());
                prop_assert!(!due_steps(&s, next).is_empty());
            }
            None => prop_assert!(due_steps(&s, sec(end, 3_650 * 86_400)).is_empty()),
        }
        if let Some(next) = once.next_due_at() {
            prop_assert!(next > end);
        }
        // A second pass changes nothing.
        let (again, steps2) = run_due(&once, end, &p).unwrap();
        prop_assert!(steps2.is_empty());
        prop_assert_eq!(again, once);
    }
}

/// One staff or client event of a generated history: its kind, the hours
/// since the previous event, and a free parameter.
fn history_event(kind: u8, param: u16, now: Timestamp, p: &ServiceParams) -> ServiceEvent {
    let today = p.day_of(now);
    let days = i64::from(param % 400);
    match kind {
        0 => ServiceEvent::Contest {
            text: "not as ordered".into(),
        },
        1 => ServiceEvent::RecordFirstUse,
        2 => ServiceEvent::GiveNotice {
            by: if param.is_multiple_of(2) {
                Party::Client
            } else {
                Party::Provider
            },
            received_on: today - (days % 200).days(),
        },
        3 => ServiceEvent::TerminateEarly {
            last_day: today + days.days(),
            monthly_fee: Decimal::from(param),
            investment: param.is_multiple_of(3),
            quoted_fee: None,
        },
        4 => ServiceEvent::Suspend {
            reason: match param % 3 {
                0 => SuspensionReason::SecurityDanger,
                1 => SuspensionReason::Hacking,
                _ => SuspensionReason::NonPayment {
                    informed_at: sec(now, -(days % 40) * 86_400),
                },
            },
        },
        5 => ServiceEvent::Reopen {
            note: "settled".into(),
        },
        6 => ServiceEvent::TerminateForCause {
            last_day: today + (days % 60).days(),
            monthly_fee: Decimal::from(param),
        },
        7 => ServiceEvent::RecordProductReturn {
            product: "router".into(),
            outcome: if param.is_multiple_of(4) {
                ReturnOutcome::Lost
            } else {
                ReturnOutcome::Returned {
                    on: today - (days % 45).days(),
                }
            },
        },
        8 => ServiceEvent::RequestReversibility,
        _ => ServiceEvent::RecordMonthlyTraffic {
            month: today,
            bytes: u64::from(param) * 20_000_000_000,
        },
    }
}

proptest! {
    /// Facts follow dates, not the job: a history of staff and client
    /// events gives the same answers (accepted or refused, with the same
    /// error) and the same final state whether the job pass ran before each
    /// event or never until the end.
    #[test]
    fn the_job_schedule_never_changes_the_outcome(
        months in 1u32..25,
        history in proptest::collection::vec((0u8..10, 1u32..2_000, 0u16..1_000), 1..14),
        tail_days in 0i64..800,
    ) {
        let p = params();
        let t0 = paris(2026, 1, 31, 10, 0, 0);
        let start = step(
            &ServiceState::ordered(months).unwrap(),
            ServiceEvent::Provision {
                planned_on: None,
                client_delay: false,
                products: vec![Product::new("router", dec("500"))],
            },
            t0,
        );
        let mut lazy = start.clone();
        let mut eager = start;
        let mut now = t0;
        for (kind, gap_hours, param) in history {
            now = sec(now, i64::from(gap_hours) * 3_600);
            let ev = history_event(kind, param, now, &p);
            eager = run_due(&eager, now, &p).unwrap().0;
            let a = apply(&lazy, &ev, now, &p);
            let b = apply(&eager, &ev, now, &p);
            prop_assert_eq!(a.as_ref().err(), b.as_ref().err(), "{}", ev.name());
            for st in [&lazy, &eager] {
                if let Some(next) = st.next_due_at() {
                    prop_assert!(due_steps(st, sec(next, -1)).is_empty());
                    prop_assert!(!due_steps(st, next).is_empty());
                }
            }
            if let (Ok(a), Ok(b)) = (a, b) {
                lazy = a;
                eager = b;
            }
        }
        let end = sec(now, tail_days * 86_400);
        let lazy = run_due(&lazy, end, &p).unwrap().0;
        let eager = run_due(&eager, end, &p).unwrap().0;
        prop_assert_eq!(lazy, eager);
    }
}

/// R3.3: a service suspended for non-payment (its formal notice 15 days
/// old) may be terminated for cause at once; the fee cites R3.3.
#[test]
fn termination_for_non_payment_after_suspension() {
    let s = used(12);
    let informed = paris(2026, 4, 10, 10, 0, 0);
    let at = paris(2026, 4, 26, 0, 0, 0);
    let sus = step(
        &s,
        ServiceEvent::Suspend {
            reason: SuspensionReason::NonPayment {
                informed_at: informed,
            },
        },
        at,
    );
    let t = step(
        &sus,
        ServiceEvent::TerminateForCause {
            last_day: date(2026, 4, 30),
            monthly_fee: dec("100.00"),
        },
        at,
    );
    let term = svc(&t).termination.clone().unwrap();
    assert_eq!(term.kind, TerminationKind::NonPaymentNotRemedied);
    let fee = term.fee.unwrap();
    assert_eq!((fee.rule.as_str(), fee.amount), ("R3.3", dec("1000.00")));
}
