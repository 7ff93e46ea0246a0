//! Datacenter access (R11.1-R11.2): the reception desk's answers at every
//! boundary.

mod common;

use ciel_operations::access::{
    AccessFacts, AccessRequest, Badge, BadgeEvent, BadgeEventKind, BadgeState, CompanionNotice,
    PlanStatus, PreventionPlan, RequestStatus,
};
use common::{ops, paris, secs};
use jiff::Timestamp;

fn badge(id: &str, person: &str, site: &str, events: &[(&str, BadgeEventKind)]) -> Badge {
    Badge {
        id: id.into(),
        person: person.into(),
        site: site.into(),
        events: events
            .iter()
            .map(|(at, kind)| BadgeEvent {
                at: paris(at),
                kind: *kind,
            })
            .collect(),
    }
}

fn issued() -> BadgeEventKind {
    BadgeEventKind::Issued { valid_until: None }
}

/// A client with Alice declared, a badge at Toulouse and PA3, and a
/// prevention plan at Toulouse signed 10 March 2025 10:00 Paris.
fn facts() -> AccessFacts {
    AccessFacts {
        client: "org_acme".into(),
        declared_people: vec!["alice".into(), "bob".into()],
        requests: vec![],
        badges: vec![
            badge(
                "b-tls",
                "alice",
                "TLS",
                &[("2025-01-01 00:00:00", issued())],
            ),
            badge(
                "b-pa3",
                "alice",
                "PA3",
                &[("2025-01-01 00:00:00", issued())],
            ),
        ],
        companion_notices: vec![],
        prevention_plans: vec![PreventionPlan {
            site: "TLS".into(),
            signed_at: paris("2025-03-10 10:00:00"),
        }],
    }
}

#[test]
fn prevention_plan_four_year_boundary() {
    // Signed 2025-03-10 10:00 Paris (+01:00); + 4 years at the same wall-clock
    // time = 2029-03-10 10:00 Paris (+01:00, before the DST change of 25 March).
    // Valid on [signed, expiry): minus 1 s valid, exactly and plus 1 s expired.
    let ops = ops();
    let f = facts();
    let expiry = paris("2029-03-10 10:00:00");
    assert_eq!(
        ops.prevention_plan_expiry(paris("2025-03-10 10:00:00")),
        expiry
    );
    let cases: [(Timestamp, bool, &[&str]); 3] = [
        (expiry - secs(1), true, &[]),
        (expiry, false, &["prevention_plan_expired"]),
        (expiry + secs(1), false, &["prevention_plan_expired"]),
    ];
    for (at, allowed, denials) in cases {
        let d = ops.check_access("alice", "TLS", at, &f).unwrap();
        assert_eq!(d.allowed, allowed, "at {at}: {:?}", d.reasons);
        assert_eq!(d.denials(), denials.to_vec(), "at {at}");
        assert_eq!(d.notes(), vec!["official_id_check"]);
    }
}

#[test]
fn prevention_plan_validity_keeps_the_wall_clock_across_dst() {
    // Four years from a leap day lands on a leap day (2032 is leap):
    // 2028-02-29 15:00 + 4 y = 2032-02-29 15:00. Summer time (+02:00):
    // 2025-07-01 09:00 + 4 y = 2029-07-01 09:00, same wall-clock time.
    let ops = ops();
    assert_eq!(
        ops.prevention_plan_expiry(paris("2028-02-29 15:00:00")),
        paris("2032-02-29 15:00:00")
    );
    assert_eq!(
        ops.prevention_plan_expiry(paris("2025-07-01 09:00:00")),
        paris("2029-07-01 09:00:00")
    );
}

#[test]
fn first_intervention_needs_the_plan_signed_on_site() {
    // Dijon: badge active but no plan ever signed → refused until the desk
    // signs it with the preventer; once signed (at 09:10), allowed at 09:11.
    let ops = ops();
    let mut f = facts();
    f.badges.push(badge(
        "b-dij",
        "alice",
        "DIJ",
        &[("2026-01-01 00:00:00", issued())],
    ));
    let at = paris("2026-02-02 09:11:00");
    let d = ops.check_access("alice", "DIJ", at, &f).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.denials(), vec!["prevention_plan_to_sign"]);
    f.prevention_plans.push(PreventionPlan {
        site: "DIJ".into(),
        signed_at: paris("2026-02-02 09:10:00"),
    });
    assert!(ops.check_access("alice", "DIJ", at, &f).unwrap().allowed);
}

#[test]
fn pa3_needs_a_badge_but_no_prevention_plan() {
    let ops = ops();
    let f = facts();
    let d = ops
        .check_access("alice", "PA3", paris("2026-05-01 03:00:00"), &f)
        .unwrap();
    assert!(d.allowed, "{:?}", d.reasons);
    assert!(
        !d.reasons
            .steps
            .iter()
            .any(|s| s.outcome.contains("prevention_plan"))
    );
    // Bob is declared but has no badge.
    let d = ops
        .check_access("bob", "PA3", paris("2026-05-01 03:00:00"), &f)
        .unwrap();
    assert_eq!(d.denials(), vec!["no_badge"]);
}

#[test]
fn badge_suspended_then_reactivated_then_revoked() {
    // Issued 1 Jan, suspended 1 Feb 08:00, reactivated 10 Feb 08:00, revoked
    // 1 Mar 00:00, "reactivated" 2 Mar (ignored: a revocation is final).
    let b = badge(
        "b1",
        "alice",
        "PA3",
        &[
            ("2026-01-01 00:00:00", issued()),
            ("2026-02-01 08:00:00", BadgeEventKind::Suspended),
            ("2026-02-10 08:00:00", BadgeEventKind::Reactivated),
            ("2026-03-01 00:00:00", BadgeEventKind::Revoked),
            ("2026-03-02 00:00:00", BadgeEventKind::Reactivated),
        ],
    );
    let ops = ops();
    let mut f = facts();
    f.badges = vec![b.clone()];
    let table = [
        (
            "2025-12-31 23:59:59",
            BadgeState::NotIssued,
            Some("no_badge"),
        ),
        ("2026-01-15 12:00:00", BadgeState::Active, None),
        ("2026-02-01 07:59:59", BadgeState::Active, None),
        (
            "2026-02-01 08:00:00",
            BadgeState::Suspended,
            Some("badge_suspended"),
        ),
        (
            "2026-02-10 07:59:59",
            BadgeState::Suspended,
            Some("badge_suspended"),
        ),
        ("2026-02-10 08:00:00", BadgeState::Active, None),
        ("2026-02-28 23:59:59", BadgeState::Active, None),
        (
            "2026-03-01 00:00:00",
            BadgeState::Revoked,
            Some("badge_revoked"),
        ),
        (
            "2026-03-05 00:00:00",
            BadgeState::Revoked,
            Some("badge_revoked"),
        ),
    ];
    for (at, state, denial) in table {
        assert_eq!(b.state_at(paris(at)), state, "{at}");
        let d = ops.check_access("alice", "PA3", paris(at), &f).unwrap();
        assert_eq!(d.denials(), denial.into_iter().collect::<Vec<_>>(), "{at}");
    }
}

#[test]
fn badge_with_end_of_validity_expires_exactly_then() {
    let until = paris("2026-06-30 18:00:00");
    let b = badge(
        "b2",
        "alice",
        "PA3",
        &[(
            "2026-01-01 00:00:00",
            BadgeEventKind::Issued {
                valid_until: Some(until),
            },
        )],
    );
    assert_eq!(b.state_at(until - secs(1)), BadgeState::Active);
    assert_eq!(b.state_at(until), BadgeState::Expired);
}

fn mlb_request(status: RequestStatus) -> AccessRequest {
    AccessRequest {
        id: "req-1".into(),
        site: "MLB".into(),
        window_start: paris("2026-03-02 09:00:00"),
        window_end: paris("2026-03-02 12:00:00"),
        people: vec!["alice".into()],
        companions: vec!["carol (integrator)".into()],
        purpose: "disk swap".into(),
        status,
    }
}

#[test]
fn mlb_temporary_window_edges() {
    // Approved request for 09:00-12:00 on 2 March; plan signed 2025 at MLB.
    let ops = ops();
    let mut f = facts();
    f.requests = vec![mlb_request(RequestStatus::Approved)];
    f.prevention_plans.push(PreventionPlan {
        site: "MLB".into(),
        signed_at: paris("2025-06-01 10:00:00"),
    });
    let table = [
        ("2026-03-02 08:59:59", Some("outside_request_window")),
        ("2026-03-02 09:00:00", None),
        ("2026-03-02 11:59:59", None),
        ("2026-03-02 12:00:00", Some("outside_request_window")),
    ];
    for (at, denial) in table {
        let d = ops.check_access("alice", "MLB", paris(at), &f).unwrap();
        assert_eq!(d.denials(), denial.into_iter().collect::<Vec<_>>(), "{at}");
    }
    // The announced companion enters in the window, an unknown person never.
    let at = paris("2026-03-02 10:00:00");
    let d = ops
        .check_access("carol (integrator)", "MLB", at, &f)
        .unwrap();
    assert!(d.allowed, "{:?}", d.reasons);
    let d = ops.check_access("mallory", "MLB", at, &f).unwrap();
    assert_eq!(d.denials(), vec!["person_not_declared"]);
    // A badge does not open MLB: bob is declared, has no request.
    let d = ops.check_access("bob", "MLB", at, &f).unwrap();
    assert_eq!(d.denials(), vec!["no_approved_request"]);
}

#[test]
fn mlb_pending_request_is_not_enough() {
    let ops = ops();
    let mut f = facts();
    f.requests = vec![mlb_request(RequestStatus::Pending)];
    f.prevention_plans.push(PreventionPlan {
        site: "MLB".into(),
        signed_at: paris("2025-06-01 10:00:00"),
    });
    let d = ops
        .check_access("alice", "MLB", paris("2026-03-02 10:00:00"), &f)
        .unwrap();
    assert_eq!(d.denials(), vec!["request_not_approved"]);
}

#[test]
fn both_refusals_are_listed_together() {
    // No request and no plan at MLB: the desk sees both reasons.
    let ops = ops();
    let d = ops
        .check_access("alice", "MLB", paris("2026-03-02 10:00:00"), &facts())
        .unwrap();
    assert_eq!(
        d.denials(),
        vec!["no_approved_request", "prevention_plan_to_sign"]
    );
    let fr = d.reasons.render(ciel_operations::Lang::Fr);
    assert!(fr.contains("CS 2.3.3 (R11.2)"), "{fr}");
    assert!(fr.contains("pièce d'identité officielle"), "{fr}");
}

#[test]
fn companion_at_a_badge_site_must_be_announced_beforehand() {
    let ops = ops();
    let mut f = facts();
    let notice = CompanionNotice {
        site: "TLS".into(),
        companion: "dave".into(),
        host: "alice".into(),
        window_start: paris("2026-04-01 14:00:00"),
        window_end: paris("2026-04-01 18:00:00"),
        notified_at: paris("2026-03-31 09:00:00"),
    };
    f.companion_notices = vec![notice.clone()];
    let at = paris("2026-04-01 15:00:00");
    assert!(ops.check_access("dave", "TLS", at, &f).unwrap().allowed);
    // Announced only once the visit had begun: not "beforehand".
    f.companion_notices = vec![CompanionNotice {
        notified_at: paris("2026-04-01 14:30:00"),
        ..notice
    }];
    let d = ops.check_access("dave", "TLS", at, &f).unwrap();
    assert_eq!(d.denials(), vec!["person_not_declared"]);
}

#[test]
fn bad_input_badge_at_mlb_request_at_pa3_undeclared_person() {
    let ops = ops();
    let f = facts();
    let d = ops.check_badge_issue("alice", "MLB", &f).unwrap();
    assert_eq!(d.denials(), vec!["badge_not_offered_at_site"]);
    assert!(ops.check_badge_issue("alice", "TLS", &f).unwrap().allowed);
    let d = ops.check_badge_issue("mallory", "TLS", &f).unwrap();
    assert_eq!(d.denials(), vec!["person_not_declared"]);

    let mut r = mlb_request(RequestStatus::Pending);
    assert!(ops.check_access_request(&r, &f).unwrap().allowed);
    r.people.push("mallory".into());
    assert_eq!(
        ops.check_access_request(&r, &f).unwrap().denials(),
        vec!["person_not_declared"]
    );
    r.people.pop();
    r.site = "PA3".into();
    assert_eq!(
        ops.check_access_request(&r, &f).unwrap().denials(),
        vec!["temporary_access_not_offered_at_site"]
    );
    r.site = "MLB".into();
    r.window_end = r.window_start;
    assert_eq!(
        ops.check_access_request(&r, &f).unwrap().denials(),
        vec!["empty_window"]
    );
    assert!(
        ops.check_access("alice", "XYZ", r.window_start, &f)
            .is_err()
    );
}

#[test]
fn prevention_plan_reminder_is_due_60_days_before_expiry() {
    // Expiry 2029-03-10 10:00 Paris; 60 days before: 10 Mar → 10 Feb is 28
    // days (2029 is not leap), → 10 Jan 59 days, → 9 Jan 60 days:
    // 2029-01-09 10:00 Paris.
    let ops = ops();
    let plans = facts().prevention_plans;
    let reminder = paris("2029-01-09 10:00:00");
    assert_eq!(
        ops.prevention_plan_reminder_at(paris("2025-03-10 10:00:00")),
        reminder
    );
    assert!(
        ops.prevention_plan_reminders_due(&plans, reminder - secs(1))
            .is_empty()
    );
    assert_eq!(ops.prevention_plan_reminders_due(&plans, reminder).len(), 1);
    // Expired plans are no longer reminded (access is refused instead).
    assert!(
        ops.prevention_plan_reminders_due(&plans, paris("2029-03-10 10:00:00"))
            .is_empty()
    );
    // A renewal replaces the plan: no reminder for the old one.
    let mut renewed = plans.clone();
    renewed.push(PreventionPlan {
        site: "TLS".into(),
        signed_at: paris("2029-01-05 10:00:00"),
    });
    assert!(
        ops.prevention_plan_reminders_due(&renewed, reminder)
            .is_empty()
    );
    assert!(matches!(
        ops.prevention_plan_status(&renewed, "TLS", reminder),
        PlanStatus::Valid { .. }
    ));
}

#[test]
fn the_four_datacenters_and_their_policies() {
    use ciel_terms::DatacenterAccess::{PermanentNominativeBadge, TemporaryOnly};
    let ops = ops();
    let got: Vec<(String, ciel_terms::DatacenterAccess, bool, String)> = ops
        .datacenters()
        .into_iter()
        .map(|d| {
            (
                d.code,
                d.access,
                d.prevention_plan_required,
                d.availability_percent.unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("DIJ", PermanentNominativeBadge, true, "99.90"),
        ("MLB", TemporaryOnly, true, "99.90"),
        ("PA3", PermanentNominativeBadge, false, "99.99"),
        ("TLS", PermanentNominativeBadge, true, "99.90"),
    ];
    assert_eq!(got.len(), 4);
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1, g.2, g.3.as_str()), w);
    }
}

#[test]
fn the_desk_screen_reads_well_in_both_languages() {
    // Alice at Toulouse one second after her plan expired: the badge line,
    // the plan line with its dates, the ID reminder.
    let ops = ops();
    let d = ops
        .check_access("alice", "TLS", paris("2029-03-10 10:00:01"), &facts())
        .unwrap();
    let fr = d.reasons.render(ciel_operations::Lang::Fr);
    let en = d.reasons.render(ciel_operations::Lang::En);
    assert_eq!(
        fr,
        " 1. CS 2.3.3 (R11.1) — badge nominatif b-tls actif\n \
         2. CS 2.3.3 (R11.2) — plan de prévention signé le 2025-03-10 10:00:00 +01:00 expiré le 2029-03-10 10:00:00 +01:00 (4 ans) : à renouveler\n \
         3. CS 2.3.3 (R11.1) — contrôle de sécurité : présentation d'une pièce d'identité officielle en cours de validité\n"
    );
    assert!(en.contains("prevention plan signed on 2025-03-10 10:00:00 +01:00 expired on 2029-03-10 10:00:00 +01:00 (4 years): to be renewed"), "{en}");
}
