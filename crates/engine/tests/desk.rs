//! The support desk rules of `ciel_engine::desk` at their boundaries: R4.5
//! billable tickets, staff alerts before GTI/GTR deadlines, R4.6 notices per
//! client, R4.4 interruption at closure. Each expected value is worked by
//! hand in the comment beside it; properties check the invariants.

use ciel_engine::{
    Engine, Lang,
    availability::Window,
    desk::{
        AlertState, ClassifiedTicket, ClientNotice, ClockKind, DEFAULT_ALERT_SHARE_PERCENT,
        NoticeStatus, PlannedWindow, TicketCause, TicketCause::*,
    },
    support::{Pause, TicketInput},
};
use ciel_terms::{Criticality, ExclusionReason, Impact, PauseReason, SupportLevel};
use jiff::Timestamp;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn eng() -> Engine {
    Engine::embedded().unwrap()
}
fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn tk(id: &str, at: &str, cause: Option<TicketCause>) -> ClassifiedTicket {
    ClassifiedTicket {
        id: id.into(),
        notified_at: ts(at),
        cause,
    }
}
fn pct75() -> Decimal {
    Decimal::from(DEFAULT_ALERT_SHARE_PERCENT)
}

// ---- R4.5 -------------------------------------------------------------------

/// N = Sunday 29 March 2026 10:00 CEST (08:00Z), the day DST starts in 2026.
/// 12 months earlier on the Paris wall clock: 29 March 2025 10:00, still CET
/// (DST started on 30 March in 2025), i.e. 09:00Z. A UTC or 365-day reading
/// would say 08:00Z: the 08:59:59Z row tells them apart.
#[test]
fn third_out_of_scope_ticket_at_the_12_month_boundary_across_dst() {
    let e = eng();
    let current = tk("T-3", "2026-03-29T08:00:00Z", Some(AbnormalUse));
    assert_eq!(
        e.billable_window_start(current.notified_at).unwrap(),
        ts("2025-03-29T09:00:00Z")
    );
    // (time of the oldest earlier ticket, counted?, rank, billable)
    let rows = [
        ("2025-03-29T08:59:59Z", false, 2, false), // 12 months + 1 s before N
        ("2025-03-29T09:00:00Z", true, 3, true),   // exactly 12 months: included
        ("2025-03-29T09:00:01Z", true, 3, true),   // 12 months − 1 s
    ];
    for (at, counted, rank, billable) in rows {
        let history = [
            tk("T-1", at, Some(ClientEquipment)),
            tk("T-2", "2025-11-10T14:00:00Z", Some(FraudulentUse)),
        ];
        let r = e.ticket_billable(&current, &history).unwrap();
        assert_eq!(r.value.rank, rank, "{at}");
        assert_eq!(r.value.billable, billable, "{at}");
        assert_eq!(r.value.counted.len(), 1 + usize::from(counted), "{at}");
        assert_eq!(r.value.older_than_window, u32::from(!counted), "{at}");
        assert_eq!(r.value.counted.last().unwrap().id, "T-2");
        assert_eq!(r.explanation.rules(), vec!["R4.5"]);
        if !counted {
            let en = r.explanation.render(Lang::En);
            assert!(en.contains("1 earlier out-of-scope ticket(s) in the window: T-2 (2025-11-10 15:00:00+01:00, fraudulent use); 1 older, not counted"), "{en}");
        }
    }
    let r = e
        .ticket_billable(
            &current,
            &[
                tk("T-1", "2025-03-29T09:00:00Z", Some(ClientEquipment)),
                tk("T-2", "2025-11-10T14:00:00Z", Some(FraudulentUse)),
            ],
        )
        .unwrap();
    let fr = r.explanation.render(Lang::Fr);
    assert!(fr.contains("CG 14.3 (R4.5) — fenêtre de 12 mois avant la notification complète du ticket T-3 : du 2025-03-29 10:00:00+01:00 au 2026-03-29 10:00:00+02:00 inclus"), "{fr}");
    assert!(fr.contains("2 ticket(s) hors périmètre antérieur(s) dans la fenêtre : T-1 (2025-03-29 10:00:00+01:00, équipement du client), T-2 (2025-11-10 15:00:00+01:00, utilisation frauduleuse)"), "{fr}");
    assert!(fr.contains("cause : utilisation anormale → 3e ticket hors périmètre en 12 mois ; facturable à partir du 3e → facturable"), "{fr}");
    let en = r.explanation.render(Lang::En);
    assert!(en.contains("cause: abnormal use → 3rd out-of-scope ticket in 12 months; billable from the 3rd → billable"), "{en}");
}

/// 29 February 2028 10:00 CET (09:00Z) − 12 months = 28 February 2027 10:00
/// CET (the 29th does not exist: clamped), 09:00Z.
#[test]
fn the_window_of_a_leap_day_ticket_starts_on_28_february() {
    let e = eng();
    let current = tk("T-9", "2028-02-29T09:00:00Z", Some(ClientEquipment));
    assert_eq!(
        e.billable_window_start(current.notified_at).unwrap(),
        ts("2027-02-28T09:00:00Z")
    );
    for (at, billable) in [
        ("2027-02-28T08:59:59Z", false),
        ("2027-02-28T09:00:00Z", true),
    ] {
        let history = [
            tk("T-1", at, Some(ClientEquipment)),
            tk("T-2", "2027-06-01T08:00:00Z", Some(ClientEquipment)),
        ];
        assert_eq!(
            e.ticket_billable(&current, &history)
                .unwrap()
                .value
                .billable,
            billable,
            "{at}"
        );
    }
}

/// N = Monday 30 March 2026 02:30 CEST (00:30Z). 12 months earlier the wall
/// clock reads 30 March 2025 02:30, a time skipped that night (02:00 CET →
/// 03:00 CEST): it moves forward by the gap, to 03:30 CEST = 01:30Z.
#[test]
fn a_window_start_in_the_dst_gap_moves_forward() {
    let e = eng();
    assert_eq!(
        e.billable_window_start(ts("2026-03-30T00:30:00Z")).unwrap(),
        ts("2025-03-30T01:30:00Z")
    );
}

#[test]
fn what_counts_and_what_does_not() {
    let e = eng();
    let n = "2026-06-15T10:00:00Z";
    let earlier = |k: usize, cause| -> Vec<ClassifiedTicket> {
        (0..k)
            .map(|i| {
                tk(
                    &format!("E-{i}"),
                    &format!("2026-0{}-01T10:00:00Z", i + 1),
                    cause,
                )
            })
            .collect()
    };
    // (case, current cause, history, rank, billable)
    type Row = (
        &'static str,
        Option<TicketCause>,
        Vec<ClassifiedTicket>,
        u32,
        bool,
    );
    let rows: Vec<Row> = vec![
        ("first", Some(ClientEquipment), vec![], 1, false),
        (
            "second",
            Some(ClientEquipment),
            earlier(1, Some(AbnormalUse)),
            2,
            false,
        ),
        (
            "third",
            Some(ClientEquipment),
            earlier(2, Some(AbnormalUse)),
            3,
            true,
        ),
        (
            "fourth",
            Some(FraudulentUse),
            earlier(3, Some(ClientEquipment)),
            4,
            true,
        ),
        // The ticket itself in scope: never billable, whatever came before.
        (
            "in scope",
            Some(ProviderScope),
            earlier(5, Some(AbnormalUse)),
            0,
            false,
        ),
        // Not classified yet: not billable for now.
        (
            "unclassified",
            None,
            earlier(5, Some(AbnormalUse)),
            0,
            false,
        ),
        // Earlier tickets in scope or unclassified do not count.
        (
            "earlier in scope",
            Some(ClientEquipment),
            earlier(4, Some(ProviderScope)),
            1,
            false,
        ),
        (
            "earlier unclassified",
            Some(ClientEquipment),
            earlier(4, None),
            1,
            false,
        ),
        // Later tickets and the ticket itself (same id) do not count.
        (
            "later and itself",
            Some(ClientEquipment),
            vec![
                tk("L-1", "2026-06-15T10:00:01Z", Some(ClientEquipment)),
                tk("L-2", "2026-09-01T10:00:00Z", Some(ClientEquipment)),
                tk("CUR", n, Some(ClientEquipment)),
            ],
            1,
            false,
        ),
    ];
    for (case, cause, history, rank, billable) in rows {
        let r = e
            .ticket_billable(&tk("CUR", n, cause), &history)
            .unwrap()
            .value;
        assert_eq!((r.rank, r.billable), (rank, billable), "{case}");
    }
}

/// Two tickets notified at the same instant, after one earlier out-of-scope
/// ticket: ordered by id, exactly one of them is the third.
#[test]
fn simultaneous_tickets_are_ordered_by_id() {
    let e = eng();
    let n = "2026-06-15T10:00:00Z";
    let all = [
        tk("T-0001", "2026-02-01T10:00:00Z", Some(AbnormalUse)),
        tk("T-0002", n, Some(AbnormalUse)),
        tk("T-0003", n, Some(AbnormalUse)),
    ];
    let a = e.ticket_billable(&all[1], &all).unwrap().value;
    let b = e.ticket_billable(&all[2], &all).unwrap().value;
    assert_eq!((a.rank, a.billable), (2, false));
    assert_eq!((b.rank, b.billable), (3, true));
}

// ---- alerts -----------------------------------------------------------------

/// Standard P2 (C2 × I2) notified Thursday 7 May 2026 15:00 CEST (13:00Z).
/// Friday 8 May is a holiday (Victoire 1945), then a weekend.
fn standard_p2() -> TicketInput {
    TicketInput {
        level: SupportLevel::Standard,
        criticality: Criticality::C2,
        impact: Impact::I2,
        notified_at: ts("2026-05-07T13:00:00Z"),
        pauses: vec![],
        maintenance: vec![],
    }
}

/// GTI 8 h: Thu 15-18 (3 h), Fri holiday, weekend, Mon 11 May 09:00 + 5 h →
/// due Mon 14:00 CEST (12:00Z). 75 % = 6 h: Thu 3 h + Mon 09:00-12:00 →
/// alert Mon 12:00 CEST (10:00Z).
/// GTR 2 JO = 18 h: Thu 3 h + Mon 9 h = 12 h, Tue 12 May 09:00 + 6 h → due Tue
/// 15:00 CEST (13:00Z). 75 % = 13.5 h: Thu 3 h + Mon 9 h + Tue 09:00-10:30 →
/// alert Tue 10:30 CEST (08:30Z).
#[test]
fn alerts_at_75_percent_on_standard_across_a_holiday_and_a_weekend() {
    let e = eng();
    let t = standard_p2();
    // (at, acknowledged, GTI state, GTR state)
    let rows = [
        (
            "2026-05-07T13:00:00Z",
            None,
            AlertState::Pending,
            AlertState::Pending,
        ),
        (
            "2026-05-11T09:59:59Z",
            None,
            AlertState::Pending,
            AlertState::Pending,
        ),
        (
            "2026-05-11T10:00:00Z",
            None,
            AlertState::Due,
            AlertState::Pending,
        ),
        (
            "2026-05-11T12:00:00Z",
            None,
            AlertState::Due,
            AlertState::Pending,
        ), // at the deadline
        (
            "2026-05-11T12:00:01Z",
            None,
            AlertState::Breached,
            AlertState::Pending,
        ),
        (
            "2026-05-12T08:29:59Z",
            Some("2026-05-11T11:00:00Z"),
            AlertState::Stopped,
            AlertState::Pending,
        ),
        (
            "2026-05-12T08:30:00Z",
            Some("2026-05-11T11:00:00Z"),
            AlertState::Stopped,
            AlertState::Due,
        ),
        (
            "2026-05-12T13:00:01Z",
            Some("2026-05-11T12:30:00Z"),
            AlertState::Stopped,
            AlertState::Breached,
        ),
    ];
    for (at, ack, gti_state, gtr_state) in rows {
        let r = e
            .deadline_alerts(&t, ts(at), ack.map(ts), None, pct75())
            .unwrap()
            .value;
        let [gti, gtr] = &r.alerts[..] else {
            panic!("two clocks expected")
        };
        assert_eq!(gti.clock, ClockKind::Gti);
        assert_eq!(
            (gti.business_seconds, gti.threshold_seconds),
            (8 * 3600, 6 * 3600)
        );
        assert_eq!(gti.alert_at, ts("2026-05-11T10:00:00Z"));
        assert_eq!(gti.due_at, ts("2026-05-11T12:00:00Z"));
        assert_eq!(
            (gtr.business_seconds, gtr.threshold_seconds),
            (18 * 3600, 13 * 3600 + 1800)
        );
        assert_eq!(gtr.alert_at, ts("2026-05-12T08:30:00Z"));
        assert_eq!(gtr.due_at, ts("2026-05-12T13:00:00Z"));
        assert_eq!((gti.state, gtr.state), (gti_state, gtr_state), "{at}");
    }
    // Elapsed at the GTI alert: Thu 3 h + Mon 3 h.
    let r = e
        .deadline_alerts(&t, ts("2026-05-11T10:00:00Z"), None, None, pct75())
        .unwrap();
    assert_eq!(r.value.alerts[0].elapsed_seconds, 6 * 3600);
    let fr = r.explanation.render(Lang::Fr);
    assert!(fr.contains("alerte interne GTI à 75 % du délai : 6 h ouvrées sur 8 h → 2026-05-11 12:00:00+02:00 (échéance 2026-05-11 14:00:00+02:00) ; écoulé 6 h → à envoyer maintenant"), "{fr}");
    assert!(
        fr.contains("Victoire 1945") || fr.contains("8 mai") || fr.contains("2026-05-08"),
        "{fr}"
    );
    let en = r.explanation.render(Lang::En);
    assert!(en.contains("internal GTR alert at 75 % of the allowed time: 13 h 30 min of business time out of 18 h → 2026-05-12 10:30:00+02:00 (due 2026-05-12 15:00:00+02:00); elapsed 6 h → pending"), "{en}");
}

/// Works Mon 11 May 09:00-11:00 CEST (07:00Z-09:00Z) notified on 20 April
/// (in time) stop the GTR, not the GTI (`maintenance.stops_gti = false`):
/// GTI alert and deadline unchanged (10:00Z, 12:00Z). GTR: Thu 3 h, Mon
/// 11:00-18:00 7 h = 10 h; 13.5 h → Tue 09:00 + 3.5 h = 12:30 CEST (10:30Z);
/// 18 h → Tue 09:00 + 8 h = 17:00 CEST (15:00Z). Restored before `at`: no alert.
#[test]
fn excluded_works_move_the_gtr_alert_only() {
    let e = eng();
    let mut t = standard_p2();
    t.maintenance.push(window(
        "MW-7",
        "2026-05-11T07:00:00Z",
        "2026-05-11T09:00:00Z",
        "2026-04-20T08:00:00Z",
    ));
    let r = e
        .deadline_alerts(
            &t,
            ts("2026-05-12T10:30:00Z"),
            Some(ts("2026-05-11T08:00:00Z")),
            None,
            pct75(),
        )
        .unwrap()
        .value;
    assert_eq!(
        (r.alerts[0].alert_at, r.alerts[0].due_at),
        (ts("2026-05-11T10:00:00Z"), ts("2026-05-11T12:00:00Z"))
    );
    assert_eq!(r.alerts[0].state, AlertState::Stopped);
    assert_eq!(
        (r.alerts[1].alert_at, r.alerts[1].due_at),
        (ts("2026-05-12T10:30:00Z"), ts("2026-05-12T15:00:00Z"))
    );
    assert_eq!(r.alerts[1].state, AlertState::Due);
    let r = e
        .deadline_alerts(
            &t,
            ts("2026-05-12T10:30:00Z"),
            None,
            Some(ts("2026-05-12T10:00:00Z")),
            pct75(),
        )
        .unwrap()
        .value;
    assert_eq!(r.alerts[1].state, AlertState::Stopped);
}

/// A site-access pause Mon 11 May 09:00-10:00 CEST moves both the alert and
/// the deadline by the hour of business time it covers: alert Mon 13:00 CEST
/// (11:00Z), GTI due 15:00 CEST (13:00Z). Other shares: 50 % of 8 h = 4 h →
/// Thu 3 h + Mon 1 h after the pause → 11:00 CEST (09:00Z); 33.33 % of 8 h =
/// 9 599.04 s, floored to 9 599 s = 2 h 39 min 59 s → Thu 15:00 + 2 h 39 min
/// 59 s = 17:39:59 CEST (15:39:59Z).
#[test]
fn alerts_move_with_pauses_and_shares_are_floored() {
    let e = eng();
    let mut t = standard_p2();
    t.pauses.push(Pause {
        start: ts("2026-05-11T07:00:00Z"),
        end: ts("2026-05-11T08:00:00Z"),
        reason: Some(PauseReason::SiteAccessRequest),
    });
    let at = ts("2026-05-07T13:00:00Z");
    let gti = |share: &str| {
        e.deadline_alerts(&t, at, None, None, d(share))
            .unwrap()
            .value
            .alerts[0]
            .clone()
    };
    assert_eq!(gti("75").alert_at, ts("2026-05-11T11:00:00Z"));
    assert_eq!(gti("75").due_at, ts("2026-05-11T13:00:00Z"));
    assert_eq!(gti("50").alert_at, ts("2026-05-11T09:00:00Z"));
    assert_eq!(gti("33.33").threshold_seconds, 9_599);
    assert_eq!(gti("33.33").alert_at, ts("2026-05-07T15:39:59Z"));
    assert_eq!(gti("100").alert_at, gti("100").due_at);
    for bad in ["0", "-5", "100.01"] {
        assert!(
            e.deadline_alerts(&t, at, None, None, d(bad)).is_err(),
            "{bad}"
        );
    }
}

/// Premium P1 (C1 × I1) runs 24/7: GTI 2 h, GTR 8 h from Saturday 9 May
/// 23:00 CEST (21:00Z). 75 %: GTI alert after 1 h 30 → 22:30Z (due 23:00Z);
/// GTR alert after 6 h → Sun 03:00Z (due 05:00Z). Asked at 22:45Z. P4 has no commitment, so no alert.
#[test]
fn p1_alerts_run_around_the_clock_and_p4_has_none() {
    let e = eng();
    let t = TicketInput {
        level: SupportLevel::Premium,
        criticality: Criticality::C1,
        impact: Impact::I1,
        notified_at: ts("2026-05-09T21:00:00Z"),
        pauses: vec![],
        maintenance: vec![],
    };
    let r = e
        .deadline_alerts(&t, ts("2026-05-09T22:45:00Z"), None, None, pct75())
        .unwrap()
        .value;
    assert_eq!(r.alerts[0].alert_at, ts("2026-05-09T22:30:00Z"));
    assert_eq!(r.alerts[0].state, AlertState::Due);
    assert_eq!(r.alerts[0].due_at, ts("2026-05-09T23:00:00Z"));
    assert_eq!(r.alerts[1].alert_at, ts("2026-05-10T03:00:00Z"));
    assert_eq!(r.alerts[1].due_at, ts("2026-05-10T05:00:00Z"));
    assert_eq!(r.alerts[1].state, AlertState::Pending);
    let p4 = TicketInput {
        impact: Impact::I4,
        ..t
    };
    assert!(
        e.deadline_alerts(&p4, ts("2026-05-10T00:00:00Z"), None, None, pct75())
            .unwrap()
            .value
            .alerts
            .is_empty()
    );
}

// ---- R4.6 -------------------------------------------------------------------

/// Works start Tuesday 31 March 2026 22:00 CEST (20:00Z). 7 days earlier on
/// the Paris wall clock: Tuesday 24 March 22:00, CET (DST started on 29
/// March), i.e. 21:00Z: the send-by instant. A notice 7 days minus 1 min
/// before (22:01 CET = 21:01Z) is late. A 168-hour reading would say 20:00Z
/// and call the 20:59Z notice late: it is in time.
#[test]
fn a_notice_7_days_minus_1_minute_before_is_late() {
    let e = eng();
    let w = PlannedWindow {
        id: "MW-42".into(),
        start: ts("2026-03-31T20:00:00Z"),
        end: ts("2026-04-01T00:00:00Z"),
        urgent_security_reason: None,
    };
    let clients = [
        (
            "acme",
            Some("2026-03-24T21:00:00Z"),
            NoticeStatus::InTime,
            true,
        ),
        (
            "bravo",
            Some("2026-03-24T21:01:00Z"),
            NoticeStatus::Late,
            false,
        ),
        (
            "charlie",
            Some("2026-03-24T20:59:00Z"),
            NoticeStatus::InTime,
            true,
        ),
        ("delta", None, NoticeStatus::NotSent, false),
    ];
    let notices: Vec<ClientNotice> = clients
        .iter()
        .map(|(c, n, _, _)| ClientNotice {
            client: (*c).into(),
            notified_at: n.map(ts),
        })
        .collect();
    let r = e.maintenance_notices(&w, &notices).unwrap();
    assert_eq!(r.value.send_by, ts("2026-03-24T21:00:00Z"));
    assert_eq!(r.value.send_by_local, "2026-03-24 22:00:00+01:00");
    assert_eq!(r.value.notice_days, 7);
    for ((c, _, status, excluded), out) in clients.iter().zip(&r.value.clients) {
        assert_eq!(out.client, *c);
        assert_eq!((out.status, out.excluded), (*status, *excluded), "{c}");
        // The window handed to availability and ticket clocks agrees.
        assert_eq!(out.window.reason, ExclusionReason::NotifiedMaintenance);
        assert_eq!(e.window_exclusion(&out.window).0, *excluded, "{c}");
    }
    let fr = r.explanation.render(Lang::Fr);
    assert!(fr.contains("CG 14.5 (R4.6) — travaux MW-42 débutant le 2026-03-31 22:00:00+02:00 : préavis d'au moins 7 jours → avis à envoyer au plus tard le 2026-03-24 22:00:00+01:00"), "{fr}");
    assert!(fr.contains("client bravo : avis tardif ; notifiés le 2026-03-24 22:01:00+01:00, moins de 7 jours avant le début : non exclus"), "{fr}");
    assert_eq!(e.maintenance_send_by(w.start).unwrap(), r.value.send_by);
}

/// Urgent security maintenance is excluded whatever the notice, with its
/// reason; the notice status is still reported. Without a reason, refused.
#[test]
fn urgent_security_maintenance_needs_its_reason() {
    let e = eng();
    let mut w = PlannedWindow {
        id: "MW-SEC".into(),
        start: ts("2026-07-01T20:00:00Z"),
        end: ts("2026-07-01T21:00:00Z"),
        urgent_security_reason: Some(" CVE-2026-1234 exploitée ".into()),
    };
    let clients = [
        ClientNotice {
            client: "acme".into(),
            notified_at: Some(ts("2026-07-01T18:00:00Z")),
        },
        ClientNotice {
            client: "bravo".into(),
            notified_at: None,
        },
    ];
    let r = e.maintenance_notices(&w, &clients).unwrap();
    assert_eq!(
        r.value.urgent_security_reason.as_deref(),
        Some("CVE-2026-1234 exploitée")
    );
    assert_eq!(r.value.clients[0].status, NoticeStatus::Late);
    assert_eq!(r.value.clients[1].status, NoticeStatus::NotSent);
    assert!(
        r.value
            .clients
            .iter()
            .all(|c| c.excluded && c.window.reason == ExclusionReason::UrgentSecurityMaintenance)
    );
    assert!(r.explanation.render(Lang::En).contains(
        "urgent security maintenance (CVE-2026-1234 exploitée): excluded from counting whatever the notice"
    ));
    w.urgent_security_reason = Some("  ".into());
    assert!(e.maintenance_notices(&w, &clients).is_err());
    w.urgent_security_reason = None;
    w.end = w.start;
    assert!(e.maintenance_notices(&w, &clients).is_err());
}

// ---- R4.4 -------------------------------------------------------------------

fn window(id: &str, a: &str, b: &str, notified: &str) -> Window {
    Window {
        id: id.into(),
        start: ts(a),
        end: ts(b),
        reason: ExclusionReason::NotifiedMaintenance,
        notified_at: Some(ts(notified)),
        source: String::new(),
    }
}

/// Notified Thu 7 May 2026 15:00 CEST (13:00Z), end notified Mon 11 May
/// 16:20 CEST (14:20Z): 4 days 1 h 20 min = 97 h 20 min = 350 400 s of wall
/// time (the holiday and the weekend count: this is the interruption, not a
/// business clock). A site-access pause Fri 10:00-14:00 CEST (4 h = 14 400 s)
/// and works Fri 13:00-15:00 CEST notified 20 April (in time) overlap by an
/// hour: the works add 14:00-15:00 only (3 600 s). Net 332 400 s = 92 h 20
/// min. Works notified on 5 May (late) are not excluded: net 336 000 s.
#[test]
fn the_interruption_told_at_closure_deducts_suspensions_and_excluded_works_once() {
    let e = eng();
    let mut t = standard_p2();
    t.pauses.push(Pause {
        start: ts("2026-05-08T08:00:00Z"),
        end: ts("2026-05-08T12:00:00Z"),
        reason: Some(PauseReason::SiteAccessRequest),
    });
    t.maintenance.push(window(
        "MW-1",
        "2026-05-08T11:00:00Z",
        "2026-05-08T13:00:00Z",
        "2026-04-20T08:00:00Z",
    ));
    let end = ts("2026-05-11T14:20:00Z");
    let r = e.interruption_duration(&t, end).unwrap();
    assert_eq!(r.value.gross_seconds, 350_400);
    assert_eq!(r.value.suspended_seconds, 14_400);
    assert_eq!(r.value.maintenance_seconds, 3_600);
    assert_eq!(r.value.net_seconds, 332_400);
    let fr = r.explanation.render(Lang::Fr);
    assert!(fr.contains("CG 14.4 (R4.4) — interruption du 2026-05-07 15:00:00+02:00 (notification complète) au 2026-05-11 16:20:00+02:00 (notification de fin) : 97 h 20 min − suspensions 4 h − travaux exclus 1 h = 92 h 20 min"), "{fr}");
    assert_eq!(r.explanation.rules(), vec!["R4.6", "R4.4"]);

    t.maintenance[0].notified_at = Some(ts("2026-05-05T08:00:00Z"));
    let r = e.interruption_duration(&t, end).unwrap().value;
    assert_eq!((r.maintenance_seconds, r.net_seconds), (0, 336_000));

    // A pause that began before the notification counts from it only; sub-second
    // parts are dropped (instants to the second).
    let mut t = standard_p2();
    t.pauses.push(Pause {
        start: ts("2026-05-07T12:00:00Z"),
        end: ts("2026-05-07T13:30:00Z"),
        reason: Some(PauseReason::IncompleteNotification),
    });
    let r = e
        .interruption_duration(&t, ts("2026-05-07T14:00:00.999Z"))
        .unwrap()
        .value;
    assert_eq!(
        (r.gross_seconds, r.suspended_seconds, r.net_seconds),
        (3_600, 1_800, 1_800)
    );
    // Closed at the notification: zero. Before it: refused.
    assert_eq!(
        e.interruption_duration(&t, t.notified_at)
            .unwrap()
            .value
            .net_seconds,
        0
    );
    assert!(
        e.interruption_duration(&t, ts("2026-05-07T12:59:59Z"))
            .is_err()
    );
}

// ---- purity -----------------------------------------------------------------

/// The engine's clock check lists its files by hand (lib.rs); this one covers
/// desk.rs the same way.
#[test]
fn desk_never_reads_the_clock() {
    let src = include_str!("../src/desk.rs");
    for n in [
        concat!("Timestamp::", "now"),
        concat!("System", "Time"),
        concat!("Zoned::", "now"),
        concat!("std::", "fs"),
        concat!("f6", "4"),
        concat!("f3", "2"),
    ] {
        assert!(!src.contains(n), "found {n} in desk.rs");
    }
}

// ---- properties ---------------------------------------------------------------

fn cause() -> impl Strategy<Value = Option<TicketCause>> {
    prop_oneof![
        Just(None),
        Just(Some(ProviderScope)),
        Just(Some(ClientEquipment)),
        Just(Some(AbnormalUse)),
        Just(Some(FraudulentUse)),
    ]
}

/// Instants from 2025 to 2028, whole seconds.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_735_689_600i64..1_830_297_600).prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn level() -> impl Strategy<Value = SupportLevel> {
    prop_oneof![
        Just(SupportLevel::Standard),
        Just(SupportLevel::Premium),
        Just(SupportLevel::Platinum),
    ]
}

fn ticket_input() -> impl Strategy<Value = TicketInput> {
    (
        level(),
        0usize..4,
        0usize..4,
        instant(),
        prop::collection::vec((0i64..400_000, 0i64..100_000), 0..3),
        prop::collection::vec((0i64..400_000, 1i64..30_000, 0i64..2_000_000), 0..2),
    )
        .prop_map(|(level, c, i, n, pauses, works)| {
            let at = |off: i64| Timestamp::from_second(n.as_second() + off).unwrap();
            TicketInput {
                level,
                criticality: [
                    Criticality::C1,
                    Criticality::C2,
                    Criticality::C3,
                    Criticality::C4,
                ][c],
                impact: [Impact::I1, Impact::I2, Impact::I3, Impact::I4][i],
                notified_at: n,
                pauses: pauses
                    .into_iter()
                    .map(|(s, len)| Pause {
                        start: at(s),
                        end: at(s + len),
                        reason: Some(PauseReason::ClientOrThirdPartyAction),
                    })
                    .collect(),
                maintenance: works
                    .into_iter()
                    .map(|(s, len, notice)| Window {
                        id: format!("MW-{s}"),
                        start: at(s),
                        end: at(s + len),
                        reason: ExclusionReason::NotifiedMaintenance,
                        notified_at: Some(at(s - notice)),
                        source: String::new(),
                    })
                    .collect(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Adding an earlier out-of-scope ticket never makes a ticket not
    /// billable, and never lowers its rank.
    #[test]
    fn an_earlier_out_of_scope_ticket_never_makes_a_ticket_not_billable(
        current_cause in cause(),
        n in instant(),
        history in prop::collection::vec((0i64..500_000_000, cause()), 0..8),
        extra_back in 1i64..500_000_000,
        extra_cause in prop_oneof![Just(ClientEquipment), Just(AbnormalUse), Just(FraudulentUse)],
    ) {
        let e = eng();
        let current = ClassifiedTicket { id: "CUR".into(), notified_at: n, cause: current_cause };
        let mut h: Vec<ClassifiedTicket> = history
            .iter()
            .enumerate()
            .map(|(i, (back, c))| ClassifiedTicket {
                id: format!("H-{i}"),
                notified_at: Timestamp::from_second(n.as_second() - back).unwrap(),
                cause: *c,
            })
            .collect();
        let before = e.ticket_billable(&current, &h).unwrap().value;
        h.push(ClassifiedTicket {
            id: "EXTRA".into(),
            notified_at: Timestamp::from_second(n.as_second() - extra_back).unwrap(),
            cause: Some(extra_cause),
        });
        let after = e.ticket_billable(&current, &h).unwrap().value;
        prop_assert!(after.rank >= before.rank);
        prop_assert!(!before.billable || after.billable);
        // Billable exactly when the rank reaches from_nth.
        prop_assert_eq!(after.billable, after.rank >= after.from_nth);
    }

    /// The alert is never after the deadline, and at 100 % it is the
    /// deadline (which keeps desk's pauses in step with support's).
    #[test]
    fn the_alert_is_never_after_the_deadline(
        t in ticket_input(),
        share in 1u32..=10_000,
        at_off in 0i64..1_000_000,
    ) {
        let e = eng();
        let share = Decimal::new(i64::from(share), 2); // 0.01 % to 100 %
        let at = Timestamp::from_second(t.notified_at.as_second() + at_off).unwrap();
        let r = e.deadline_alerts(&t, at, None, None, share).unwrap().value;
        for a in &r.alerts {
            prop_assert!(a.alert_at <= a.due_at, "{:?}", a);
            prop_assert!(a.threshold_seconds <= a.business_seconds);
            prop_assert!(a.alert_at >= t.notified_at);
        }
        let full = e.deadline_alerts(&t, at, None, None, Decimal::ONE_HUNDRED).unwrap().value;
        for a in &full.alerts {
            prop_assert_eq!(a.alert_at, a.due_at);
        }
    }

    /// The interruption told at closure is between zero and the gross time,
    /// and its parts add up.
    #[test]
    fn the_interruption_is_between_zero_and_the_gross_time(
        t in ticket_input(),
        len in 0i64..2_000_000,
    ) {
        let e = eng();
        let end = Timestamp::from_second(t.notified_at.as_second() + len).unwrap();
        let r = e.interruption_duration(&t, end).unwrap().value;
        prop_assert_eq!(r.gross_seconds, len);
        prop_assert!(r.net_seconds >= 0 && r.net_seconds <= r.gross_seconds);
        prop_assert_eq!(r.gross_seconds - r.suspended_seconds - r.maintenance_seconds, r.net_seconds);
    }

    /// A notice is in time exactly when `window_exclusion` excludes the
    /// window: the send-by instant is the one availability uses.
    #[test]
    fn send_by_agrees_with_window_exclusion(start in instant(), before in -86_400i64..2_000_000) {
        let e = eng();
        let n = Timestamp::from_second(start.as_second() - before).unwrap();
        let w = PlannedWindow { id: "W".into(), start, end: Timestamp::from_second(start.as_second() + 3600).unwrap(), urgent_security_reason: None };
        let r = e.maintenance_notices(&w, &[ClientNotice { client: "c".into(), notified_at: Some(n) }]).unwrap().value;
        let c = &r.clients[0];
        prop_assert_eq!(c.status == NoticeStatus::InTime, n <= r.send_by);
        prop_assert_eq!(c.excluded, c.status == NoticeStatus::InTime);
    }
}

// ---- R4.6 changed windows -----------------------------------------------------

/// Works notified on Fri 1 May 2026 08:00Z for Wed 20 May 20:00Z-22:00Z,
/// "Coupure"; the change is sent on Mon 18 May 08:00Z (2 days ahead).
/// `within_keeps_first` (the embedded terms): a change inside the notified
/// span with the same impact keeps 1 May (so the window stays excluded,
/// send-by being 13 May 20:00Z); one minute outside either end, another
/// impact, or no earlier notice, counts from 18 May (late). `new_notice`
/// always counts from 18 May.
#[test]
fn a_changed_window_keeps_its_notice_only_inside_the_notified_span() {
    use ciel_engine::desk::NoticedWindow;
    let w = |a: &str, b: &str, impact: &str| NoticedWindow {
        start: ts(a),
        end: ts(b),
        impact: impact.into(),
    };
    let before = w("2026-05-20T20:00:00Z", "2026-05-20T22:00:00Z", "Coupure");
    let first = Some(ts("2026-05-01T08:00:00Z"));
    let sent = ts("2026-05-18T08:00:00Z");
    let rows = [
        // (after, previous, kept, counts from)
        (
            w("2026-05-20T20:30:00Z", "2026-05-20T21:30:00Z", "Coupure"),
            first,
            true,
            "2026-05-01T08:00:00Z",
        ),
        (
            w("2026-05-20T20:00:00Z", "2026-05-20T22:00:00Z", " Coupure "),
            first,
            true,
            "2026-05-01T08:00:00Z",
        ),
        (
            w("2026-05-20T19:59:00Z", "2026-05-20T22:00:00Z", "Coupure"),
            first,
            false,
            "2026-05-18T08:00:00Z",
        ),
        (
            w("2026-05-20T20:00:00Z", "2026-05-20T22:01:00Z", "Coupure"),
            first,
            false,
            "2026-05-18T08:00:00Z",
        ),
        (
            w(
                "2026-05-20T20:30:00Z",
                "2026-05-20T21:30:00Z",
                "Coupure totale",
            ),
            first,
            false,
            "2026-05-18T08:00:00Z",
        ),
        (
            w("2026-05-20T20:30:00Z", "2026-05-20T21:30:00Z", "Coupure"),
            None,
            false,
            "2026-05-18T08:00:00Z",
        ),
    ];
    let e = eng();
    for (after, prev, kept, from) in &rows {
        let out = e.changed_notice(&before, after, *prev, sent);
        assert_eq!(
            (out.value.kept, out.value.counts_from),
            (*kept, ts(from)),
            "{after:?}"
        );
        assert!(out.explanation.steps.iter().all(|s| s.rule == "R4.6"));
    }
    let mut terms = ciel_terms::embedded().clone();
    terms.maintenance.changed_window_notice = ciel_terms::ChangedWindowNotice::NewNotice;
    let strict = Engine::new(&terms).unwrap();
    let out = strict.changed_notice(&before, &rows[0].0, first, sent);
    assert_eq!((out.value.kept, out.value.counts_from), (false, sent));
}
