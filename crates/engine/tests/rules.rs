//! Boundary tables for every rule of the engine. Each expected value is worked
//! by hand in the comment beside it, from the rule as RULES.md writes it.

use ciel_engine::{
    Engine, Lang,
    availability::{Episode, EpisodeStatus, Window},
    caps::Candidate,
    contract::EarlyTerminationInput,
    recovery::{Activation, Machine},
    support::{ClockState, Pause, TicketInput},
};
use ciel_terms::{
    Criticality::*, EpisodeKind, ExclusionReason, Impact::*, MachineCriticality, Offer, Priority,
    SupportLevel,
};
use jiff::{Timestamp, civil::date};
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
fn ep(kind: EpisodeKind, a: &str, b: &str) -> Episode {
    Episode {
        id: a.to_string(),
        kind,
        start: ts(a),
        end: ts(b),
        impacts_service: true,
        source: "probe".into(),
        exclusion: None,
    }
}
fn conn(a: &str, b: &str) -> Episode {
    ep(EpisodeKind::ClusterConnectivity, a, b)
}

// ---------------------------------------------------------------- R5 ----

#[test]
fn month_minutes_in_paris() {
    let e = eng();
    // (year, month, M): 31 x 1440 = 44 640; March loses the DST hour (44 580),
    // October gains it (44 700); 30 x 1440 = 43 200; 28 x 1440 = 40 320;
    // 29 x 1440 = 41 760.
    for (y, m, minutes) in [
        (2026, 1, 44_640),
        (2026, 3, 44_580),
        (2026, 10, 44_700),
        (2026, 4, 43_200),
        (2026, 2, 40_320),
        (2024, 2, 41_760),
    ] {
        let r = e.availability(Offer::MonoDc, y, m, &[], &[]).unwrap().value;
        assert_eq!(r.month_minutes, minutes, "{y}-{m}");
        assert_eq!(r.unavailable_minutes, 0);
        assert_eq!(r.penalty_percent, Decimal::ZERO);
    }
}

#[test]
fn episode_qualification_table() {
    let e = eng();
    #[rustfmt::skip]
    let cases: &[(&str, Vec<Episode>, i64)] = &[
        // 239 s: below the 4 consecutive minutes, not counted.
        ("239 s", vec![conn("2026-04-14T10:00:00Z", "2026-04-14T10:03:59Z")], 0),
        // 240 s exactly: counts; slots 10:00-10:04 = 4 minutes.
        ("240 s", vec![conn("2026-04-14T10:00:00Z", "2026-04-14T10:04:00Z")], 4),
        // 240 s off the minute grid: slots [floor(10:00:30), ceil(10:04:30)) = 10:00-10:05 = 5.
        ("240 s misaligned", vec![conn("2026-04-14T10:00:30Z", "2026-04-14T10:04:30Z")], 5),
        // Crossing midnight: 23:58 -> 00:03 = 5 slots, all in April.
        ("midnight", vec![conn("2026-04-14T23:58:00+02:00", "2026-04-15T00:03:00+02:00")], 5),
        // Overlapping episodes of two kinds merge: [10:00, 10:10) U [10:05, 10:20) = 20.
        ("merge", vec![
            conn("2026-04-14T10:00:00Z", "2026-04-14T10:10:00Z"),
            ep(EpisodeKind::VmStorageAccess, "2026-04-14T10:05:00Z", "2026-04-14T10:20:00Z"),
        ], 20),
        // Touching episodes merge too: [10:00, 10:05) + [10:05, 10:10) = 10.
        ("touching", vec![
            conn("2026-04-14T10:00:00Z", "2026-04-14T10:05:00Z"),
            conn("2026-04-14T10:05:00Z", "2026-04-14T10:10:00Z"),
        ], 10),
        // Two 3-minute episodes do not qualify even if close together: each is < 240 s.
        ("two short", vec![
            conn("2026-04-14T10:00:00Z", "2026-04-14T10:03:00Z"),
            conn("2026-04-14T10:03:30Z", "2026-04-14T10:06:30Z"),
        ], 0),
    ];
    for (name, eps, u) in cases {
        let r = e
            .availability(Offer::MonoDc, 2026, 4, eps, &[])
            .unwrap()
            .value;
        assert_eq!(r.unavailable_minutes, *u, "{name}");
    }
    // vCenter loss without service impact does not count; with impact it does.
    let mut v = ep(
        EpisodeKind::Vcenter,
        "2026-04-14T10:00:00Z",
        "2026-04-14T10:10:00Z",
    );
    v.impacts_service = false;
    let r = e
        .availability(Offer::MonoDc, 2026, 4, std::slice::from_ref(&v), &[])
        .unwrap()
        .value;
    assert_eq!(
        (r.unavailable_minutes, r.episodes[0].status),
        (0, EpisodeStatus::NoServiceImpact)
    );
    v.impacts_service = true;
    assert_eq!(
        e.availability(Offer::MonoDc, 2026, 4, &[v], &[])
            .unwrap()
            .value
            .unavailable_minutes,
        10
    );
}

#[test]
fn episodes_across_month_end_and_dst() {
    let e = eng();
    // 23:57:30 -> 00:01:30 (+02:00) lasts 240 s: qualifies on its whole duration.
    // March gets slots 23:57, 23:58, 23:59 = 3; April gets 00:00, 00:01 = 2.
    let x = conn("2026-03-31T23:57:30+02:00", "2026-04-01T00:01:30+02:00");
    assert_eq!(
        e.availability(Offer::MonoDc, 2026, 3, std::slice::from_ref(&x), &[])
            .unwrap()
            .value
            .unavailable_minutes,
        3
    );
    assert_eq!(
        e.availability(Offer::MonoDc, 2026, 4, std::slice::from_ref(&x), &[])
            .unwrap()
            .value
            .unavailable_minutes,
        2
    );
    // 23:58 -> 00:01 lasts 180 s: counts in neither month.
    let y = conn("2026-03-31T23:58:00+02:00", "2026-04-01T00:01:00+02:00");
    assert_eq!(
        e.availability(Offer::MonoDc, 2026, 3, std::slice::from_ref(&y), &[])
            .unwrap()
            .value
            .unavailable_minutes,
        0
    );
    // DST start: 01:58+01:00 (00:58Z) -> 03:02+02:00 (01:02Z) is 4 real minutes.
    let z = conn("2026-03-29T01:58:00+01:00", "2026-03-29T03:02:00+02:00");
    let r = e
        .availability(Offer::MonoDc, 2026, 3, &[z], &[])
        .unwrap()
        .value;
    assert_eq!((r.month_minutes, r.unavailable_minutes), (44_580, 4));
    // DST end: 02:58+02:00 (00:58Z) -> 02:02+01:00 (01:02Z) is 4 real minutes.
    let w = conn("2026-10-25T02:58:00+02:00", "2026-10-25T02:02:00+01:00");
    let r = e
        .availability(Offer::MonoDc, 2026, 10, &[w], &[])
        .unwrap()
        .value;
    assert_eq!((r.month_minutes, r.unavailable_minutes), (44_700, 4));
}

#[test]
fn exclusions_table() {
    let e = eng();
    // Episode 01:50 -> 03:00 (70 min) and a maintenance window 02:00 -> 04:00.
    let x = conn("2026-04-14T01:50:00+02:00", "2026-04-14T03:00:00+02:00");
    let win = |start: &str, notified: Option<&str>| Window {
        id: "w1".into(),
        start: ts(start),
        end: ts("2026-04-14T04:00:00+02:00"),
        reason: ExclusionReason::NotifiedMaintenance,
        notified_at: notified.map(ts),
        source: "mail".into(),
    };
    #[rustfmt::skip]
    let cases = [
        // Notified exactly 7 days before (07 April 02:00): excluded; 60 of the 70 minutes go.
        ("on time", win("2026-04-14T02:00:00+02:00", Some("2026-04-07T02:00:00+02:00")), 10),
        // One second late: not excluded, all 70 minutes count (R4.6).
        ("late", win("2026-04-14T02:00:00+02:00", Some("2026-04-07T02:00:01+02:00")), 70),
        // Never notified: not excluded.
        ("none", win("2026-04-14T02:00:00+02:00", None), 70),
        // Window from 02:00:30 covers slot 02:00 only partly: slots from 02:01 are
        // removed, so 11 minutes remain (01:50-02:01).
        ("partial slot", win("2026-04-14T02:00:30+02:00", Some("2026-04-01T00:00:00+02:00")), 11),
    ];
    for (name, w, u) in cases {
        let r = e
            .availability(Offer::MonoDc, 2026, 4, std::slice::from_ref(&x), &[w])
            .unwrap()
            .value;
        assert_eq!(r.unavailable_minutes, u, "{name}");
    }
    // A PRA-test window is excluded whatever its notice.
    let t = Window {
        id: "t".into(),
        start: ts("2026-04-14T01:00:00+02:00"),
        end: ts("2026-04-14T05:00:00+02:00"),
        reason: ExclusionReason::PraTest,
        notified_at: None,
        source: String::new(),
    };
    assert_eq!(
        e.availability(Offer::MonoDc, 2026, 4, std::slice::from_ref(&x), &[t])
            .unwrap()
            .value
            .unavailable_minutes,
        0
    );
    // An episode caused by the client keeps its reason and does not count.
    let mut c = x.clone();
    c.exclusion = Some(ExclusionReason::ClientFault);
    let r = e
        .availability(Offer::MonoDc, 2026, 4, &[c], &[])
        .unwrap()
        .value;
    assert_eq!(r.unavailable_minutes, 0);
    assert_eq!(
        r.episodes[0].status,
        EpisodeStatus::Excluded(ExclusionReason::ClientFault)
    );
}

/// Rate tiers at their exact edges, through the public tier function, on
/// exact fractions (available / total).
#[test]
fn penalty_tier_edges() {
    let t = ciel_terms::embedded();
    let p9990 = &t.availability.penalty_classes["p9990"];
    let p9995 = &t.availability.penalty_classes["p9995"];
    let pen = |class, a: i64, n: i64| {
        ciel_engine::availability::penalty_tier(class, a, n).map(|t| t.penalty_percent.0)
    };
    #[rustfmt::skip]
    let cases: &[(i64, i64, Option<&str>, Option<&str>)] = &[
        // rate, offers at 99.90: none at >= 99.90; 5 % in [99.50, 99.90); 10 % in
        // [99.00, 99.50); 15 % in [95.00, 99.00); 20 % below. Offers at 99.95:
        // none at >= 99.95; 5 % in [99.90, 99.95); 10 % in [99.00, 99.90); 20 % in
        // [95.00, 99.00); 30 % below.
        (100_000, 100_000, None, None),           // 100 %
        (9_995, 10_000, None, None),              // 99.95 exactly
        (999_499, 1_000_000, None, Some("5")),    // 99.9499
        (999, 1_000, None, Some("5")),            // 99.90 exactly
        (998_999, 1_000_000, Some("5"), Some("10")), // 99.8999
        (995, 1_000, Some("5"), Some("10")),      // 99.50 exactly
        (994_999, 1_000_000, Some("10"), Some("10")), // 99.4999
        (99, 100, Some("10"), Some("10")),        // 99.00 exactly
        (98_999, 100_000, Some("15"), Some("20")), // 98.999
        (95, 100, Some("15"), Some("20")),        // 95.00 exactly
        (9_499, 10_000, Some("20"), Some("30")),  // 94.99
        (0, 100, Some("20"), Some("30")),         // 0 %
    ];
    for (a, n, e90, e95) in cases {
        assert_eq!(pen(p9990, *a, *n), e90.map(d), "p9990 {a}/{n}");
        assert_eq!(pen(p9995, *a, *n), e95.map(d), "p9995 {a}/{n}");
    }
}

#[test]
fn penalty_end_to_end_no_rounding_before_comparison() {
    let e = eng();
    // April 2026: M = 43 200. U = 216 gives exactly (43 200 − 216) / 43 200 =
    // 99.50 %: 5 % for Mono DC. U = 217 gives 99.49768 %, which would round to
    // 99.50 but is below it: 10 %.
    let mk = |minutes: i64| {
        let start = ts("2026-04-14T00:00:00Z");
        vec![Episode {
            end: start
                .checked_add(jiff::SignedDuration::from_mins(minutes))
                .unwrap(),
            ..conn("2026-04-14T00:00:00Z", "2026-04-14T00:05:00Z")
        }]
    };
    let r = e
        .availability(Offer::MonoDc, 2026, 4, &mk(216), &[])
        .unwrap();
    assert_eq!(
        (r.value.unavailable_minutes, r.value.penalty_percent),
        (216, d("5"))
    );
    assert_eq!(r.value.rate_display, "99.5000");
    let r = e
        .availability(Offer::MonoDc, 2026, 4, &mk(217), &[])
        .unwrap();
    assert_eq!(r.value.penalty_percent, d("10"));
    assert!(
        r.explanation
            .render(Lang::Fr)
            .contains("A2 II.A.1 (R5.5) — taux 99,4977 % dans [99,00 ; 99,50[ → pénalité 10 %"),
        "{}",
        r.explanation.render(Lang::Fr)
    );
    assert!(
        r.explanation
            .render(Lang::En)
            .contains("rate 99.4977 % in [99.00, 99.50) → penalty 10 %")
    );
    // Dual DC (99.95): U = 22 → 43 178 / 43 200 = 99.949 % → [99.90, 99.95) → 5 %.
    let r = e
        .availability(Offer::DualDc, 2026, 4, &mk(22), &[])
        .unwrap()
        .value;
    assert_eq!(r.penalty_percent, d("5"));
    // PRA: reported without penalty even at 0 %.
    let all_april = conn("2026-04-01T00:00:00+02:00", "2026-05-01T00:00:00+02:00");
    let r = e
        .availability(Offer::Pra, 2026, 4, &[all_april], &[])
        .unwrap()
        .value;
    assert_eq!(
        (r.rate_percent, r.penalty_percent),
        (Decimal::ZERO, Decimal::ZERO)
    );
}

#[test]
fn colocation_yearly() {
    let e = eng();
    // 2026 has 365 x 1440 = 525 600 minutes (the DST hours cancel out). PA3
    // guarantees 99.99 %: 52.56 minutes allowed; 52 met, 53 not.
    assert!(
        e.colocation_availability("PA3", 2026, 52)
            .unwrap()
            .value
            .met
    );
    assert!(
        !e.colocation_availability("PA3", 2026, 53)
            .unwrap()
            .value
            .met
    );
    assert_eq!(
        e.colocation_availability("MLB", 2026, 0)
            .unwrap()
            .value
            .year_minutes,
        525_600
    );
}

// ---------------------------------------------------------------- R6 ----

fn machine(c: MachineCriticality, requested: Timestamp, delay_min: Option<i64>) -> Machine {
    Machine {
        name: format!("vm-{delay_min:?}"),
        criticality: c,
        reachable_at: delay_min.map(|m| {
            requested
                .checked_add(jiff::SignedDuration::from_mins(m))
                .unwrap()
        }),
        recovery_point_at: Some(
            requested
                .checked_sub(jiff::SignedDuration::from_hours(1))
                .unwrap(),
        ),
        criticality_refused: false,
    }
}

#[test]
fn pra_rto_table() {
    use MachineCriticality::*;
    let e = eng();
    let req = ts("2026-04-10T10:00:00Z");
    let act = |ms: Vec<Machine>| Activation {
        id: "a1".into(),
        requested_at: req,
        test: false,
        machines: ms,
    };
    let fleet = |c, n: usize, late: &[i64], ok_delay: i64| {
        let mut v: Vec<Machine> = late.iter().map(|m| machine(c, req, Some(*m))).collect();
        while v.len() < n {
            v.push(machine(c, req, Some(ok_delay)));
        }
        v
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<Machine>, &str)> = vec![
        // C1, RTO 1 h. A delay of exactly 60 min is on time. 10 machines all on time.
        ("c1 on time", fleet(C1, 10, &[60], 30), "0"),
        // 1 late of 10: performance 90 % < 95 % but one late machine is allowed → met.
        ("c1 one late", fleet(C1, 10, &[90], 30), "0"),
        // 2 late of 10 (90 min, 5 h): 80 % and 2 > 1 → breached; longest 5 h in ]4, 8] → 25 %.
        ("c1 two late", fleet(C1, 10, &[90, 300], 30), "25"),
        // Longest exactly 4 h → ]1, 4] → 10 %.
        ("c1 4h", fleet(C1, 10, &[90, 240], 30), "10"),
        // Longest 12 h 01 → > 12 h → 100 %.
        ("c1 >12h", fleet(C1, 10, &[90, 721], 30), "100"),
        // A machine never restored counts beyond every tier → 100 %.
        ("c1 never", { let mut v = fleet(C1, 10, &[90], 30); v[9].reachable_at = None; v }, "100"),
        // 40 machines, 2 late: 95 % = minimum → met although 2 > 1.
        ("c1 95%", fleet(C1, 40, &[90, 100], 30), "0"),
        // C2, RTO 8 h, minimum 90 %. 20 machines, 2 late (9 h, 13 h): 90 % → met.
        ("c2 90%", fleet(C2, 20, &[540, 780], 60), "0"),
        // 3 late of 20 (9 h, 9 h, 17 h): 85 % → breached; longest 17 h > 16 h → 25 %.
        ("c2 breach", fleet(C2, 20, &[540, 540, 1020], 60), "25"),
        // 3 late, longest 12 h exactly → ]8, 12] → 5 %.
        ("c2 12h", fleet(C2, 20, &[540, 540, 720], 60), "5"),
        // C3 has no RTO: never a penalty.
        ("c3", fleet(C3, 5, &[5000, 6000], 60), "0"),
    ];
    for (name, ms, pct) in cases {
        let r = e.activation(&act(ms)).unwrap().value;
        assert_eq!(r.penalty_percent, d(pct), "{name}");
    }
    // One activation breaching C1 (25 %) and C2 (25 %... here 5 %): one event,
    // the largest kept.
    let mut ms = fleet(C1, 10, &[90, 300], 30);
    ms.extend(fleet(C2, 20, &[540, 540, 720], 60));
    assert_eq!(
        e.activation(&act(ms)).unwrap().value.penalty_percent,
        d("25")
    );
    // Refused criticality: the late machines are outside the SLA → met.
    let mut ms = fleet(C1, 10, &[90, 300], 30);
    ms[1].criticality_refused = true;
    assert_eq!(
        e.activation(&act(ms)).unwrap().value.penalty_percent,
        d("0")
    );
    // A PRA test gives nothing.
    let mut a = act(fleet(C1, 10, &[900, 900], 30));
    a.test = true;
    assert_eq!(e.activation(&a).unwrap().value.penalty_percent, d("0"));
}

// ---------------------------------------------------------------- R7 ----

#[test]
fn caps_and_combination() {
    let e = eng();
    let c = |event: &str, pct: &str| Candidate {
        event: event.into(),
        commitment: event.into(),
        rule: "R5.5".into(),
        percent: d(pct),
    };
    // 10 % of 1 000.00 = 100.00.
    let r = e
        .combine_and_cap(d("1000.00"), &[c("a", "10")], Decimal::ZERO)
        .unwrap()
        .value;
    assert_eq!(r.credit, d("100.00"));
    // Same event, 10 % and 25 %: one penalty, the larger: 250.00.
    let r = e
        .combine_and_cap(d("1000.00"), &[c("a", "10"), c("a", "25")], Decimal::ZERO)
        .unwrap()
        .value;
    assert_eq!((r.credit, r.events.len()), (d("250.00"), 1));
    // Two events, 30 % + 100 %: 1 300.00 capped at one monthly fee: 1 000.00.
    let r = e
        .combine_and_cap(d("1000.00"), &[c("a", "30"), c("b", "100")], Decimal::ZERO)
        .unwrap()
        .value;
    assert_eq!((r.credit, r.month_cap_applied), (d("1000.00"), true));
    // Year cap: 3 000.00 − 2 950.00 already credited leaves 50.00.
    let r = e
        .combine_and_cap(d("1000.00"), &[c("a", "10")], d("2950.00"))
        .unwrap()
        .value;
    assert_eq!((r.credit, r.year_cap_applied), (d("50.00"), true));
    // Year cap exhausted: nothing.
    let r = e
        .combine_and_cap(d("1000.00"), &[c("a", "10")], d("3000.00"))
        .unwrap()
        .value;
    assert_eq!(r.credit, d("0.00"));
    // Rounding once: 5 % of 33.33 = 1.6665 → 1.67 (half away from zero).
    let r = e
        .combine_and_cap(d("33.33"), &[c("a", "5")], Decimal::ZERO)
        .unwrap()
        .value;
    assert_eq!(r.credit, d("1.67"));
}

// ---------------------------------------------------------------- R4 ----

fn ticket(
    level: SupportLevel,
    c: ciel_terms::Criticality,
    i: ciel_terms::Impact,
    at: &str,
) -> TicketInput {
    TicketInput {
        level,
        criticality: c,
        impact: i,
        notified_at: ts(at),
        pauses: vec![],
        maintenance: vec![],
    }
}

#[test]
fn priority_matrix_and_no_p1() {
    let e = eng();
    use ciel_terms::{Criticality, Impact};
    // The matrix of CG 14.2, row by row.
    let expected = [
        (C1, [Priority::P1, Priority::P2, Priority::P3, Priority::P4]),
        (C2, [Priority::P2, Priority::P2, Priority::P3, Priority::P4]),
        (C3, [Priority::P3, Priority::P3, Priority::P3, Priority::P4]),
        (C4, [Priority::P4, Priority::P4, Priority::P4, Priority::P4]),
    ];
    for (c, row) in expected {
        for (i, p) in [I1, I2, I3, I4].into_iter().zip(row) {
            let r = e.priority(SupportLevel::Premium, c, i).value;
            assert_eq!(r.priority, p, "{c:?} {i:?}");
        }
    }
    // Standard has no P1: C1 × I1 is handled as P2 and says so.
    let r = e.priority(SupportLevel::Standard, Criticality::C1, Impact::I1);
    assert_eq!(
        (r.value.matrix, r.value.priority, r.value.downgraded_from_p1),
        (Priority::P1, Priority::P2, true)
    );
    assert!(r.explanation.render(Lang::Fr).contains("pas de ticket P1"));
}

#[test]
fn ticket_deadlines_table() {
    let e = eng();
    use SupportLevel::*;
    #[rustfmt::skip]
    let cases: &[(&str, TicketInput, Option<&str>, Option<&str>)] = &[
        // Issue example. Premium C1×I2 = P2: GTI 4 h, GTR 1 JO = 10 h, Mon-Sat 08-18.
        // Thu 7 May 17:30: 0.5 h Thursday; Fri 8 May is a holiday; Sat 9 May opens
        // 08:00: GTI 08:00 + 3.5 h = 11:30, GTR 08:00 + 9.5 h = 17:30.
        ("issue example", ticket(Premium, C1, I2, "2026-05-07T17:30:00+02:00"),
            Some("2026-05-09T11:30:00+02:00"), Some("2026-05-09T17:30:00+02:00")),
        // Standard C1×I1 → P2 (no P1): GTI 8 h, GTR 2 JO = 18 h, Mon-Fri 09-18.
        // Mon 2 March 10:00: GTI 10:00 + 8 h = 18:00 (closing time, kept). GTR: 8 h
        // Monday, 9 h Tuesday (17 h), Wednesday 09:00 + 1 h = 10:00.
        ("P1 under standard", ticket(Standard, C1, I1, "2026-03-02T10:00:00+01:00"),
            Some("2026-03-02T18:00:00+01:00"), Some("2026-03-04T10:00:00+01:00")),
        // Premium P1 runs 24/7: Sat 7 March 22:00 + 2 h = Sun 00:00; + 8 h = Sun 06:00.
        ("premium P1 24/7", ticket(Premium, C1, I1, "2026-03-07T22:00:00+01:00"),
            Some("2026-03-08T00:00:00+01:00"), Some("2026-03-08T06:00:00+01:00")),
        // Platinum P2: GTI 2 h, GTR 1 JO = 24 h on the 24/7 calendar, across the
        // October DST night: 24 Oct 12:00+02 (10:00Z) + 24 h = 25 Oct 10:00Z = 11:00+01.
        ("platinum DST", ticket(Platinum, C2, I1, "2026-10-24T12:00:00+02:00"),
            Some("2026-10-24T14:00:00+02:00"), Some("2026-10-25T11:00:00+01:00")),
        // Premium P3 on a Saturday: C3×I1 = P3, GTI 4 h, GTR 2 JO = 20 h.
        // Sat 7 March 09:00: GTI 13:00 Saturday. GTR: 9 h Saturday, Sunday closed,
        // Monday 10 h (19 h), Tuesday 08:00 + 1 h = 09:00.
        ("premium saturday", ticket(Premium, C3, I1, "2026-03-07T09:00:00+01:00"),
            Some("2026-03-07T13:00:00+01:00"), Some("2026-03-10T09:00:00+01:00")),
        // Standard on Whit Monday 25 May 2026 10:00, P2 (C2×I1): the clock starts
        // Tue 26 May 09:00; GTI + 8 h = 17:00; GTR 18 h = Wed 27 May 18:00.
        ("whit monday", ticket(Standard, C2, I1, "2026-05-25T10:00:00+02:00"),
            Some("2026-05-26T17:00:00+02:00"), Some("2026-05-27T18:00:00+02:00")),
        // P4: no commitment.
        ("P4", ticket(Platinum, C4, I1, "2026-03-02T10:00:00+01:00"), None, None),
    ];
    for (name, t, gti, gtr) in cases {
        let r = e.ticket_deadlines(t).unwrap().value;
        assert_eq!(r.gti.as_ref().map(|x| x.due_at), gti.map(ts), "{name} GTI");
        assert_eq!(r.gtr.as_ref().map(|x| x.due_at), gtr.map(ts), "{name} GTR");
    }
}

#[test]
fn ticket_pauses_and_maintenance() {
    let e = eng();
    // Standard P3 (C3×I1): GTI 8 h. Fri 6 March 17:00: 1 h Friday, Monday 9 March
    // 09:00 + 7 h = 16:00.
    let base = ticket(SupportLevel::Standard, C3, I1, "2026-03-06T17:00:00+01:00");
    assert_eq!(
        e.ticket_deadlines(&base).unwrap().value.gti.unwrap().due_at,
        ts("2026-03-09T16:00:00+01:00")
    );
    // A pause from Mon 07:00 (before opening) to 10:00 covers 1 business hour: 17:00.
    let mut t = base.clone();
    t.pauses.push(Pause {
        start: ts("2026-03-09T07:00:00+01:00"),
        end: ts("2026-03-09T10:00:00+01:00"),
        reason: None,
    });
    assert_eq!(
        e.ticket_deadlines(&t).unwrap().value.gti.unwrap().due_at,
        ts("2026-03-09T17:00:00+01:00")
    );
    // GTR 3 JO = 27 h: 1 h Friday, 9 h Monday (10), 9 h Tuesday (19), Wednesday
    // 11 March 09:00 + 8 h = 17:00.
    assert_eq!(
        e.ticket_deadlines(&base).unwrap().value.gtr.unwrap().due_at,
        ts("2026-03-11T17:00:00+01:00")
    );
    // Maintenance Mon 09:00-11:00 notified 8 days before is excluded from the
    // restoration count (CG 14.5): the GTR moves by 2 business hours, Wednesday
    // 17:00 + 1 h to closing, Thursday 12 March 09:00 + 1 h = 10:00. The GTI
    // (time to intervene) is not moved: Monday 16:00.
    let mut t = base.clone();
    let w = Window {
        id: "m".into(),
        start: ts("2026-03-09T09:00:00+01:00"),
        end: ts("2026-03-09T11:00:00+01:00"),
        reason: ExclusionReason::NotifiedMaintenance,
        notified_at: Some(ts("2026-03-01T09:00:00+01:00")),
        source: String::new(),
    };
    t.maintenance.push(w.clone());
    let r = e.ticket_deadlines(&t).unwrap().value;
    assert_eq!(r.gtr.unwrap().due_at, ts("2026-03-12T10:00:00+01:00"));
    assert_eq!(r.gti.unwrap().due_at, ts("2026-03-09T16:00:00+01:00"));
    // The same window notified 6 days before is not excluded: GTR Wednesday 17:00.
    let mut t = base.clone();
    t.maintenance.push(Window {
        notified_at: Some(ts("2026-03-03T09:00:00+01:00")),
        ..w
    });
    assert_eq!(
        e.ticket_deadlines(&t).unwrap().value.gtr.unwrap().due_at,
        ts("2026-03-11T17:00:00+01:00")
    );
    // Status at Mon 12:00: elapsed 1 h Friday + 3 h Monday = 4 h, 4 h left, running.
    let s = e
        .ticket_status(&base, ts("2026-03-09T12:00:00+01:00"), None, None)
        .unwrap()
        .value;
    let gti = s.gti.unwrap();
    assert_eq!(
        (gti.elapsed_seconds, gti.remaining_seconds, gti.state),
        (4 * 3600, 4 * 3600, ClockState::Running)
    );
    // Acknowledged at 16:00 exactly: met; at 16:01: breached.
    let s = e
        .ticket_status(
            &base,
            ts("2026-03-10T12:00:00+01:00"),
            Some(ts("2026-03-09T16:00:00+01:00")),
            None,
        )
        .unwrap()
        .value;
    assert_eq!(s.gti.unwrap().state, ClockState::Met);
    let s = e
        .ticket_status(
            &base,
            ts("2026-03-10T12:00:00+01:00"),
            Some(ts("2026-03-09T16:01:00+01:00")),
            None,
        )
        .unwrap()
        .value;
    assert_eq!(s.gti.unwrap().state, ClockState::Breached);
}

// ---------------------------------------------------------------- R3 ----

#[test]
fn early_termination_commitment_months() {
    let e = eng();
    let q = |start: &str, term: u32, last: &str, investment: bool| {
        e.early_termination(&EarlyTerminationInput {
            start: start.parse().unwrap(),
            term_months: term,
            last_day: last.parse().unwrap(),
            monthly_fee: d("1000.00"),
            investment,
            cancellation: false,
        })
        .unwrap()
        .value
    };
    // 36 months from 15 Jan 2025: last day of the term 14 Jan 2028.
    #[rustfmt::skip]
    let cases: &[(&str, u32, &str, bool, u32, &str, &str)] = &[
        // Last day 14 Jan 2026 < 15 Jan 2026 = start + 12 months: month 12 → 100 %.
        // Remaining 15 Jan 2026-14 Jan 2028: 17/31 + 23 months + 14/31 = 24 → 24 000.00.
        ("2025-01-15", 36, "2026-01-14", false, 12, "100", "24000.00"),
        // 15 Jan 2026: month 13 → 80 %. Remaining 16/31 + 23 + 14/31 = 23 + 30/31
        // = 23.9677419...; × 1 000 × 0.8 = 19 174.1935... → 19 174.19.
        ("2025-01-15", 36, "2026-01-15", false, 13, "80", "19174.19"),
        // 14 Jan 2027: month 24 → 80 %; remaining 17/31 + 11 + 14/31 = 12 → 9 600.00.
        ("2025-01-15", 36, "2027-01-14", false, 24, "80", "9600.00"),
        // 15 Jan 2027: month 25 → 60 %; 11 + 30/31 = 11.96774...; × 600 = 7 180.645... → 7 180.65.
        ("2025-01-15", 36, "2027-01-15", false, 25, "60", "7180.65"),
        // 48-month term (last day 14 Jan 2029). 14 Jan 2028: month 36 → 60 %; 12 months → 7 200.00.
        ("2025-01-15", 48, "2028-01-14", false, 36, "60", "7200.00"),
        // 15 Jan 2028: month 37 → 40 %; 11 + 30/31 → × 400 = 4 787.096... → 4 787.10.
        ("2025-01-15", 48, "2028-01-15", false, 37, "40", "4787.10"),
        // Dedicated investment in month 13: 100 % of 23 + 30/31 months → 23 967.74.
        ("2025-01-15", 36, "2026-01-15", true, 13, "100", "23967.74"),
        // Start on the 1st, 12 months, last day 30 June 2025: month 4; 8 full
        // months (July 2025-February 2026) → 8 000.00.
        ("2025-03-01", 12, "2025-06-30", false, 4, "100", "8000.00"),
        // Last day = last day of the term: nothing remains.
        ("2025-01-15", 36, "2028-01-14", false, 36, "60", "0.00"),
    ];
    for (start, term, last, inv, k, share, fee) in cases {
        let r = q(start, *term, last, *inv);
        assert_eq!(r.commitment_month, Some(*k), "{start} {last}");
        assert_eq!(r.share_percent, d(share), "{start} {last}");
        assert_eq!(r.fee, d(fee), "{start} {last}");
    }
    // Start 31 January: start + 1 month = 28 February 2025 (clamped), so 28 Feb
    // is in month 2 and 27 Feb in month 1.
    assert_eq!(
        ciel_engine::contract::commitment_month(date(2025, 1, 31), date(2025, 2, 27)).unwrap(),
        1
    );
    assert_eq!(
        ciel_engine::contract::commitment_month(date(2025, 1, 31), date(2025, 2, 28)).unwrap(),
        2
    );
}

#[test]
fn notice_end_table() {
    let e = eng();
    #[rustfmt::skip]
    let cases = [
        // Term ends 31 Dec 2026. Notice on 2 Oct: 2 Oct + 90 days = 31 Dec (29 days
        // to 31 Oct, 30 in November, 31 in December) <= 31 Dec: ends with the term.
        ("2026-10-02", Some("2026-12-31"), "2026-12-31", true),
        // One day later: 3 Oct + 90 = 1 Jan 2027 > 31 Dec: end of January 2027.
        ("2026-10-03", Some("2026-12-31"), "2027-01-31", false),
        // Indefinite duration: 15 Feb 2026 + 90 = 16 May 2026 → 31 May 2026.
        ("2026-02-15", None, "2026-05-31", false),
        // Expiry on the last day of a month: 2 Oct 2025 + 90 = 31 Dec 2025 → 31 Dec 2025.
        ("2025-10-02", None, "2025-12-31", false),
    ];
    for (n, term, last, at_term) in cases {
        let r = e
            .notice_end(n.parse().unwrap(), term.map(|t| t.parse().unwrap()))
            .unwrap()
            .value;
        assert_eq!(
            (r.last_day, r.at_term_end),
            (last.parse().unwrap(), at_term),
            "{n}"
        );
    }
}

// ---------------------------------------------------------------- R2 ----

#[test]
fn prorata_by_calendar_days() {
    let e = eng();
    #[rustfmt::skip]
    let cases = [
        // 28 days: 15-28 Feb 2026 = 14 days; 310 × 14/28 = 155.00.
        ("2026-02-15", "2026-02-28", "155.00"),
        // 29 days: 15-29 Feb 2024 = 15 days; 310 × 15/29 = 160.3448... → 160.34.
        ("2024-02-15", "2024-02-29", "160.34"),
        // 30 days: 11-30 April = 20 days; 310 × 20/30 = 206.666... → 206.67.
        ("2026-04-11", "2026-04-30", "206.67"),
        // 31 days: 17-31 March = 15 days; 310 × 15/31 = 150.00.
        ("2026-03-17", "2026-03-31", "150.00"),
        // Whole month: the fee.
        ("2026-03-01", "2026-03-31", "310.00"),
    ];
    for (a, b, amount) in cases {
        let r = e
            .prorata(d("310.00"), a.parse().unwrap(), b.parse().unwrap())
            .unwrap()
            .value;
        assert_eq!(r.amount, d(amount), "{a}..{b}");
    }
    assert!(
        e.prorata(d("310.00"), date(2026, 3, 17), date(2026, 4, 2))
            .is_err()
    );
}

#[test]
fn percentile_table() {
    use ciel_engine::percentile::percentile_drop_top;
    let five = d("5");
    let seq = |n: i64| (1..=n).map(Decimal::from).collect::<Vec<_>>();
    // 100 readings 1..100: drop floor(5) = 5 (100..96) → 95.
    assert_eq!(percentile_drop_top(&seq(100), five), Some((d("95"), 5)));
    // 19 readings: floor(0.95) = 0 dropped → the maximum, 19.
    assert_eq!(percentile_drop_top(&seq(19), five), Some((d("19"), 0)));
    // 20 readings: 1 dropped → 19.
    assert_eq!(percentile_drop_top(&seq(20), five), Some((d("19"), 1)));
    // A 30-day month of 5-minute readings: 8 640, floor(432) dropped → 8 640 − 432 = 8 208.
    assert_eq!(
        percentile_drop_top(&seq(8640), five),
        Some((d("8208"), 432))
    );
    assert_eq!(percentile_drop_top(&[], five), None);
    // Both directions: upload p95 95, download p95 = 120 (readings 26..125), flat
    // 100 → billed 120, overage 20.
    let down: Vec<Decimal> = (26..=125).map(Decimal::from).collect();
    let r = eng()
        .bandwidth_overage(&seq(100), &down, d("100"))
        .unwrap()
        .value;
    assert_eq!((r.billed_p95, r.overage), (d("120"), d("20")));
}

#[test]
fn percentile_boundaries_ties_and_the_flat_tier() {
    use ciel_engine::percentile::{Percentile, dropped_count, select_drop_top};
    let five = d("5");
    // floor(n × 5 %): 19 → 0, 20 → 1, 39 → 1, 40 → 2; a 31-day month of
    // 5-minute readings, 8 928 → floor(446.4) = 446; one reading keeps itself.
    for (n, dropped) in [
        (0, 0),
        (1, 0),
        (19, 0),
        (20, 1),
        (39, 1),
        (40, 2),
        (8928, 446),
    ] {
        assert_eq!(dropped_count(n, five), dropped, "n = {n}");
    }
    // Ties: the dropped readings are counted, not values. 20 readings, the
    // top two equal (30, 30): one dropped, the other 30 is billed.
    let mut r: Vec<u64> = (1..=18).chain([30, 30]).collect();
    assert_eq!(select_drop_top(&mut r, five), Some((30, 1)));
    // 20 readings all at the flat tier (100 Mbit/s in bits/s): p95 = 100
    // exactly, overage 0; one bit/s more on 19 of them → overage 0.000001.
    let unit = d("1000000");
    let mut at_flat = vec![100_000_000u64; 20];
    let up = Percentile::of_integers(&mut at_flat, five, unit);
    let down = Percentile::of_integers(&mut [], five, unit);
    let b = eng().bandwidth_bill(up, down, d("100")).unwrap().value;
    assert_eq!(
        (b.billed_p95, b.overage, b.download_p95),
        (d("100"), d("0"), None)
    );
    let mut above: Vec<u64> = vec![100_000_001; 19];
    above.push(100_000_000);
    let up = Percentile::of_integers(&mut above, five, unit);
    let b = eng().bandwidth_bill(up, down, d("100")).unwrap().value;
    assert_eq!(b.overage, d("0.000001"));
    // The higher direction is billed, whichever it is.
    let p = |v: &str| Percentile {
        readings: 1,
        dropped: 0,
        value: Some(d(v)),
    };
    let b = eng()
        .bandwidth_bill(p("80"), p("130"), d("100"))
        .unwrap()
        .value;
    assert_eq!((b.billed_p95, b.overage), (d("130"), d("30")));
    assert!(eng().bandwidth_bill(p("80"), p("-1"), d("100")).is_err());
}

#[test]
fn late_interest_table() {
    let e = eng();
    // 1 000.00 due 20 June 2025, paid 10 July 2025: 20 days late.
    // 21-30 June (10 d) at ECB on 1 Jan 2025 = 3.15 % (since 18 Dec 2024) + 10 = 13.15 %;
    // 1-10 July (10 d) at ECB on 1 July 2025 = 2.15 % (since 11 June 2025) + 10 = 12.15 %.
    // 1 000 × (13.15 × 10 + 12.15 × 10) / 36 500 = 25 300 / 36 500 = 6.9315... → 6.93;
    // plus 40.00 → 46.93.
    let r = e
        .late_interest(d("1000.00"), date(2025, 6, 20), date(2025, 7, 10))
        .unwrap();
    let v = &r.value;
    assert_eq!(v.days_late, 20);
    assert_eq!(v.segments.len(), 2);
    assert_eq!(
        (v.segments[0].days, v.segments[0].rate_percent),
        (10, d("13.15"))
    );
    assert_eq!(
        (v.segments[1].days, v.segments[1].rate_percent),
        (10, d("12.15"))
    );
    assert_eq!(
        (v.interest, v.indemnity, v.total),
        (d("6.93"), d("40.00"), d("46.93"))
    );
    assert_eq!(r.explanation.rules(), vec!["R2.6", "R2.12"]);
    // Paid on the due date: nothing.
    let v = e
        .late_interest(d("1000.00"), date(2025, 6, 20), date(2025, 6, 20))
        .unwrap()
        .value;
    assert_eq!((v.interest, v.indemnity), (d("0.00"), d("0")));
    // One day late, 2026 H1 (ECB on 1 Jan 2026 = 2.15 %): 36 500 × 12.15 % / 365 = 12.15.
    let v = e
        .late_interest(d("36500.00"), date(2026, 2, 1), date(2026, 2, 2))
        .unwrap()
        .value;
    assert_eq!(v.interest, d("12.15"));
    // Before the table starts: an explicit error, never a guess.
    assert!(
        e.late_interest(d("10"), date(2015, 6, 1), date(2015, 7, 1))
            .is_err()
    );
}

#[test]
fn ecb_table_extends_without_code() {
    use ciel_engine::interest::EcbTable;
    let mut t = EcbTable::embedded().clone();
    let extra = EcbTable::parse_csv("effective_date,rate_percent\n2026-06-17,2.40\n").unwrap();
    t.extend(&extra);
    assert_eq!(
        t.rate_on(date(2026, 7, 1)),
        Some((date(2026, 6, 17), d("2.40")))
    );
    assert!(EcbTable::parse_csv("2026-13-01,1").is_err());
}

// ---------------------------------------------------------------- R8 ----

#[test]
fn hour_book_table() {
    let e = eng();
    #[rustfmt::skip]
    let cases = [
        // Mon 2 March 17:50-18:20: 10 min business → 15; 20 min outside → 30 × 2 = 60; 75.
        ("2026-03-02T17:50:00+01:00", "2026-03-02T18:20:00+01:00", "75"),
        // Mon 10:00-10:15: 15 business minutes → 15.
        ("2026-03-02T10:00:00+01:00", "2026-03-02T10:15:00+01:00", "15"),
        // Mon 10:00-10:16: 16 min → 30.
        ("2026-03-02T10:00:00+01:00", "2026-03-02T10:16:00+01:00", "30"),
        // Saturday 10:00-10:05: 5 min outside → 15 × 2 = 30.
        ("2026-03-07T10:00:00+01:00", "2026-03-07T10:05:00+01:00", "30"),
        // Labour Day (Fri 1 May 2026) 10:00-11:00: 60 min outside → 120.
        ("2026-05-01T10:00:00+02:00", "2026-05-01T11:00:00+02:00", "120"),
    ];
    for (a, b, minutes) in cases {
        let r = e.hour_book_charge(ts(a), ts(b)).unwrap().value;
        assert_eq!(r.charged_minutes, d(minutes), "{a}");
    }
    assert!(e.hour_book_apply(d("60"), d("75"), false).is_err());
    let b = e.hour_book_apply(d("60"), d("75"), true).unwrap();
    assert_eq!((b.after_minutes, b.overrun_minutes), (d("0"), d("15")));
}

// ------------------------------------------------------------- R2.9-10 ----

#[test]
fn usage_overage_and_failover_days() {
    let e = eng();
    let day = |n: i8, v: &str| (date(2026, 4, n), d(v));
    let tiers = [d("1000"), d("2000"), d("5000")];
    // 5 days above 1 000 is not "more than 5 days": no adjustment.
    let five: Vec<_> = (1..=5)
        .map(|n| day(n, "1500"))
        .chain([day(20, "900")])
        .collect();
    let r = e.usage_overage(d("1000"), &five, &tiers).unwrap().value;
    assert_eq!((r.days_over, r.adjust, r.new_level), (5, false, None));
    // 6 days, peak 2 400: adjusted to the smallest tier covering it, 5 000.
    let six: Vec<_> = (1..=6)
        .map(|n| day(n, if n == 3 { "2400" } else { "1500" }))
        .collect();
    let r = e.usage_overage(d("1000"), &six, &tiers).unwrap().value;
    assert_eq!(
        (r.days_over, r.adjust, r.new_level),
        (6, true, Some(d("5000")))
    );
    // Failover Fri 10 April 23:30 -> Sun 12 April 00:00 (Paris): started days are
    // 10 and 11 April (the end instant, midnight, starts no day): 2.
    let f = e
        .failover_days(
            ts("2026-04-10T23:30:00+02:00"),
            ts("2026-04-12T00:00:00+02:00"),
        )
        .unwrap()
        .value;
    assert_eq!(f.days, 2);
    // Ten minutes across midnight: 2 started days.
    let f = e
        .failover_days(
            ts("2026-04-10T23:55:00+02:00"),
            ts("2026-04-11T00:05:00+02:00"),
        )
        .unwrap()
        .value;
    assert_eq!(f.days, 2);
    // Across the October DST night, 25 Oct 00:00 -> 26 Oct 00:00 (25 real hours): 1 day.
    let f = e
        .failover_days(
            ts("2026-10-25T00:00:00+02:00"),
            ts("2026-10-26T00:00:00+01:00"),
        )
        .unwrap()
        .value;
    assert_eq!(f.days, 1);
}

#[test]
fn cloud_inter_site_recovery_reported() {
    use ciel_engine::recovery::{CloudMachine, CloudRecoveryInput};
    let e = eng();
    let at = ts("2026-04-10T10:00:00Z");
    let m = |name: &str, restart_min: i64, data_age_min: i64| CloudMachine {
        name: name.into(),
        restarted_at: Some(
            at.checked_add(jiff::SignedDuration::from_mins(restart_min))
                .unwrap(),
        ),
        data_as_of: Some(
            at.checked_sub(jiff::SignedDuration::from_mins(data_age_min))
                .unwrap(),
        ),
    };
    // Dual DC: RTO 2 h, RPO 0. 20 VMs, one restarted at 2 h 01: performance 95 %
    // = minimum → met. Replicated data 0 min old: RPO met; one VM 1 min old: missed.
    let mut vms: Vec<CloudMachine> = (0..19).map(|k| m(&format!("vm{k}"), 60, 0)).collect();
    vms.push(m("late", 121, 1));
    let r = e
        .cloud_recovery(&CloudRecoveryInput {
            offer: Offer::DualDc,
            disaster_at: at,
            machines: vms.clone(),
        })
        .unwrap()
        .value;
    assert_eq!(
        (r.rto_hours, r.late, r.rto_met, r.rpo_missed),
        (Some(2), 1, true, 1)
    );
    assert_eq!(r.performance_percent, d("95"));
    // Two late of 20: 90 % < 95 % and 2 > 1 → missed.
    vms[0] = m("late2", 200, 0);
    let r = e
        .cloud_recovery(&CloudRecoveryInput {
            offer: Offer::DualDc,
            disaster_at: at,
            machines: vms,
        })
        .unwrap()
        .value;
    assert!(!r.rto_met);
    // Mono Site: no RTO commitment.
    let r = e
        .cloud_recovery(&CloudRecoveryInput {
            offer: Offer::MonoSite,
            disaster_at: at,
            machines: vec![m("a", 5000, 10)],
        })
        .unwrap()
        .value;
    assert_eq!((r.rto_hours, r.rto_met), (None, true));
}
