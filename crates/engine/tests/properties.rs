//! Invariants that must hold for any input, and the evidence round trip.

use ciel_engine::{
    Engine, Lang,
    availability::Episode,
    caps::Candidate,
    evidence::{Evidence, verify},
    percentile::percentile_drop_top,
    support::{Pause, TicketInput},
};
use ciel_terms::{Criticality, EpisodeKind, Impact, Offer, Registry, SupportLevel};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn eng() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::embedded().unwrap())
}

const APRIL: i64 = 1_775_001_600; // 2026-04-01T00:00:00Z (the month starts 2 h earlier in Paris)

fn episode() -> impl Strategy<Value = Episode> {
    (
        -7200i64..31 * 86_400,
        1i64..20_000,
        0usize..4,
        any::<bool>(),
    )
        .prop_map(|(off, len, k, impact)| Episode {
            id: String::new(),
            kind: [
                EpisodeKind::ClusterConnectivity,
                EpisodeKind::VmStorageAccess,
                EpisodeKind::Vcenter,
                EpisodeKind::NsxManager,
            ][k],
            start: Timestamp::from_second(APRIL + off).unwrap(),
            end: Timestamp::from_second(APRIL + off + len).unwrap(),
            impacts_service: impact,
            source: String::new(),
            exclusion: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// More downtime never lowers a penalty (nor the unavailable minutes).
    #[test]
    fn more_downtime_never_lowers_a_penalty(
        eps in proptest::collection::vec(episode(), 0..30),
        extra in episode(),
        offer in 0usize..6,
    ) {
        let offer = Offer::ALL[offer];
        let a = eng().availability(offer, 2026, 4, &eps, &[]).unwrap().value;
        let mut more = eps.clone();
        more.push(extra);
        let b = eng().availability(offer, 2026, 4, &more, &[]).unwrap().value;
        prop_assert!(b.unavailable_minutes >= a.unavailable_minutes);
        prop_assert!(b.penalty_percent >= a.penalty_percent);
        prop_assert!(b.rate_percent <= a.rate_percent);
    }

    /// Caps are never exceeded, whatever the candidates.
    #[test]
    fn caps_are_never_exceeded(
        fee_cents in 0i64..10_000_000,
        cands in proptest::collection::vec((0u8..4, 0u32..=100), 0..8),
        already_cents in 0i64..40_000_000,
    ) {
        let fee = Decimal::new(fee_cents, 2);
        let already = Decimal::new(already_cents, 2);
        let cs: Vec<Candidate> = cands.iter().map(|(e, p)| Candidate {
            event: format!("e{e}"), commitment: "x".into(), rule: "R5.5".into(), percent: Decimal::from(*p),
        }).collect();
        let r = eng().combine_and_cap(fee, &cs, already).unwrap().value;
        prop_assert!(r.credit <= fee, "month cap");
        prop_assert!(r.credit <= (fee * Decimal::from(3) - already).max(Decimal::ZERO), "year cap");
        prop_assert!(r.credit >= Decimal::ZERO);
    }

    /// R2.8 by selection equals R2.8 by definition: sort decreasing, drop
    /// floor(n × 5 %), keep the highest remaining.
    #[test]
    fn percentile_by_selection_is_the_sorted_definition(
        mut readings in proptest::collection::vec(0u64..2_000, 1..3_000),
        pct in 0u32..30,
    ) {
        let pct = Decimal::from(pct);
        let mut sorted = readings.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let drop = (readings.len() * usize::try_from(u32::try_from(pct.mantissa()).unwrap()).unwrap()) / 100;
        let expected = sorted[drop.min(readings.len() - 1)];
        let got = ciel_engine::percentile::select_drop_top(&mut readings, pct);
        prop_assert_eq!(got, Some((expected, drop.min(sorted.len() - 1))));
    }

    /// The percentile of constant readings is that constant.
    #[test]
    fn percentile_of_constant_readings(v in 0i64..10_000_000_000, n in 1usize..10_000) {
        let c = Decimal::new(v, 3);
        let readings = vec![c; n];
        prop_assert_eq!(percentile_drop_top(&readings, Decimal::from(5)).map(|x| x.0), Some(c));
    }

    /// A pause never moves a ticket deadline earlier, and a deadline is never
    /// before notification + target.
    #[test]
    fn ticket_pause_never_earlier(
        start in 1_767_225_600i64..1_830_297_600,
        level in 0usize..3, c in 0usize..4, i in 0usize..4,
        p_off in -10_000i64..400_000, p_len in 0i64..200_000,
    ) {
        let notified = Timestamp::from_second(start).unwrap();
        let t = TicketInput {
            level: SupportLevel::ALL[level],
            criticality: [Criticality::C1, Criticality::C2, Criticality::C3, Criticality::C4][c],
            impact: [Impact::I1, Impact::I2, Impact::I3, Impact::I4][i],
            notified_at: notified,
            pauses: vec![],
            maintenance: vec![],
        };
        let a = eng().ticket_deadlines(&t).unwrap().value;
        let mut tp = t.clone();
        let ps = notified.checked_add(SignedDuration::from_secs(p_off)).unwrap();
        tp.pauses.push(Pause { start: ps, end: ps.checked_add(SignedDuration::from_secs(p_len)).unwrap(), reason: None });
        let b = eng().ticket_deadlines(&tp).unwrap().value;
        for (x, y) in [(&a.gti, &b.gti), (&a.gtr, &b.gtr)] {
            if let (Some(x), Some(y)) = (x, y) {
                prop_assert!(y.due_at >= x.due_at);
                prop_assert!(x.due_at >= notified.checked_add(SignedDuration::from_secs(x.business_seconds)).unwrap());
            }
        }
    }
}

#[test]
fn evidence_example_verifies() {
    let json = include_str!("../../../docs/evidence-example.json");
    let r = verify(&Registry::with_embedded(), json).unwrap();
    let s = &r.value;
    // Worked by hand in docs/EVIDENCE.md: U = 220, 10 %, 120.00.
    assert_eq!(s.availability.month_minutes, 43_200);
    assert_eq!(s.availability.unavailable_minutes, 220);
    assert_eq!(s.availability.penalty_percent, Decimal::from(10));
    assert_eq!(s.credit, Decimal::new(12000, 2));
    assert!(s.claims_match, "{:?}", s.checks);
    assert_eq!(
        s.not_counted.len(),
        4,
        "ep-3 short, ep-4 no impact, ep-5 excluded window... {:?}",
        s.not_counted
    );
    let fr = r.explanation.render(Lang::Fr);
    assert!(
        fr.contains("taux 99,4907 % dans [99,00 ; 99,50[ → pénalité 10 %"),
        "{fr}"
    );
    // A tampered claim is reported.
    let tampered = json.replace("\"credit\": \"120.00\"", "\"credit\": \"60.00\"");
    let r = verify(&Registry::with_embedded(), &tampered).unwrap();
    assert!(!r.value.claims_match);
}

#[test]
fn evidence_schema_matches_the_types() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/evidence.schema.json")).unwrap();
    let example: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/evidence-example.json")).unwrap();
    // Every top-level property of the example is declared by the schema, and the
    // required ones are present; the Rust type accepts the example (deny_unknown_fields).
    let props = schema["properties"].as_object().unwrap();
    for k in example.as_object().unwrap().keys() {
        assert!(props.contains_key(k), "schema lacks {k}");
    }
    for r in schema["required"].as_array().unwrap() {
        assert!(example.get(r.as_str().unwrap()).is_some());
    }
    let e: Evidence = serde_json::from_value(example).unwrap();
    // The serialised type has no property the schema does not know.
    let back = serde_json::to_value(&e).unwrap();
    for k in back.as_object().unwrap().keys() {
        assert!(props.contains_key(k), "schema lacks {k}");
    }
    // Floats are refused for money.
    let bad = include_str!("../../../docs/evidence-example.json").replace("\"1200.00\"", "1200.0");
    assert!(serde_json::from_str::<Evidence>(&bad).is_err());
}

/// docs/evidence-example-pra.json, by hand: C1 (RTO 1 h, minimum 95 %): delays
/// 30 min, 45 min, 2 h 30, 5 h 10 → 2 late of 4, 50 % and 2 > 1 → breached;
/// longest 5 h 10 in ]4 h, 8 h] → 25 %. C2 (RTO 8 h, minimum 90 %): 7 h and 9 h
/// → 1 late, allowed → met. 25 % of 2 000.00 = 500.00; the year cap is
/// 3 × 2 000.00 = 6 000.00 of which 5 800.00 already credited: 200.00.
#[test]
fn pra_evidence_example_verifies() {
    let json = include_str!("../../../docs/evidence-example-pra.json");
    let r = verify(&Registry::with_embedded(), json).unwrap().value;
    assert_eq!(r.activations[0].penalty_percent, Decimal::from(25));
    assert_eq!(r.caps.gross, Decimal::new(50000, 2));
    assert!(r.caps.year_cap_applied);
    assert_eq!(r.credit, Decimal::new(20000, 2));
    assert!(r.claims_match);
    assert_eq!(r.availability.penalty_percent, Decimal::ZERO);
}
