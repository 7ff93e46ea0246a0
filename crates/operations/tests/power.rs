//! Power of an emplacement (R11.5): alert levels at their edges and the
//! excess handed to billing.

mod common;

use ciel_operations::power::{Emplacement, ExcessBasis, PowerLevel, PowerReading};
use ciel_operations::{Operations, ProductParams};
use common::{ops, paris};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn emplacement() -> Emplacement {
    Emplacement {
        id: "rack-12".into(),
        subscribed_amps: d("10"),
        subscribed_kva: d("2"),
    }
}

fn amps(at: &str, a: &str) -> PowerReading {
    PowerReading {
        at: paris(at),
        amps: Some(d(a)),
        kva: None,
    }
}

fn kva(at: &str, k: &str) -> PowerReading {
    PowerReading {
        at: paris(at),
        amps: None,
        kva: Some(d(k)),
    }
}

#[test]
fn levels_at_their_edges() {
    // 10 A subscribed, near at 80 %: 7.99 normal, 8 near, 10 near (reaching
    // the maximum is not exceeding it), 10.01 above. Same for 2 kVA: 1.6 near,
    // 2.0001 above.
    let ops = ops();
    let e = emplacement();
    let table = [
        (amps("2026-05-01 00:00:00", "7.99"), PowerLevel::Normal),
        (amps("2026-05-01 00:00:00", "8"), PowerLevel::Near),
        (amps("2026-05-01 00:00:00", "10"), PowerLevel::Near),
        (amps("2026-05-01 00:00:00", "10.01"), PowerLevel::Above),
        (kva("2026-05-01 00:00:00", "1.59"), PowerLevel::Normal),
        (kva("2026-05-01 00:00:00", "1.6"), PowerLevel::Near),
        (kva("2026-05-01 00:00:00", "2.0001"), PowerLevel::Above),
    ];
    for (r, level) in table {
        assert_eq!(ops.power_level(&e, &r), level, "{r:?}");
    }
}

#[test]
fn energy_above_the_subscription_is_billed() {
    // 2 kVA subscribed. 00:00 2.5 kVA (0.5 over) holds 30 min = 0.25 kVAh;
    // 00:30 1.5 kVA (under) holds 15 min = 0; 00:45 3 kVA (1 over) holds
    // until the end of the period 01:00 = 0.25 kVAh. Total 0.5 kVAh; peak
    // excess 1 kVA.
    let ops = ops();
    let readings = [
        kva("2026-05-01 00:00:00", "2.5"),
        kva("2026-05-01 00:30:00", "1.5"),
        kva("2026-05-01 00:45:00", "3"),
        amps("2026-05-01 00:50:00", "9"),
    ];
    let a = ops
        .assess_power(&emplacement(), &readings, paris("2026-05-01 01:00:00"))
        .unwrap();
    assert_eq!(a.level, PowerLevel::Above);
    assert_eq!(a.excess.excess_kvah, d("0.5"));
    assert_eq!(a.excess.peak_excess_kva, d("1"));
    assert_eq!(a.excess.peak_excess_amps, d("0"));
    assert_eq!(a.excess.basis, ExcessBasis::Energy);
    assert_eq!(a.excess.quantity, d("0.5"));
    assert_eq!(a.reasons.denials(), vec!["power_above"]);
    assert_eq!(a.reasons.notes(), vec!["excess_billed=0.5"]);

    // The peak-power reading hands 1 kVA instead.
    let peak = Operations::new(
        ciel_terms::embedded(),
        ProductParams {
            power_excess_basis: ExcessBasis::PeakPower,
            ..ProductParams::default()
        },
    )
    .unwrap();
    let a = peak
        .assess_power(&emplacement(), &readings, paris("2026-05-01 01:00:00"))
        .unwrap();
    assert_eq!(a.excess.quantity, d("1"));
}

#[test]
fn near_only_bills_nothing_and_bad_inputs_are_refused() {
    let ops = ops();
    let a = ops
        .assess_power(
            &emplacement(),
            &[amps("2026-05-01 00:00:00", "9")],
            paris("2026-05-01 01:00:00"),
        )
        .unwrap();
    assert_eq!(a.level, PowerLevel::Near);
    assert_eq!(a.excess.quantity, Decimal::ZERO);
    assert!(a.reasons.notes().is_empty());
    assert!(
        ops.assess_power(
            &emplacement(),
            &[amps("2026-05-01 02:00:00", "9")],
            paris("2026-05-01 01:00:00")
        )
        .is_err()
    );
    let mut e = emplacement();
    e.subscribed_kva = Decimal::ZERO;
    assert!(
        ops.assess_power(&e, &[], paris("2026-05-01 01:00:00"))
            .is_err()
    );
}

/// The "near" share is the terms' `colocation.power_near_percent`: moved to
/// 90 in a terms version, 8.9 A of 10 A is normal and 9 A near; the
/// embedded 80 keeps 8 A near.
#[test]
fn the_near_share_comes_from_the_terms() {
    let mut terms = ciel_terms::embedded().clone();
    terms.colocation.power_near_percent.value = ciel_terms::Dec(d("90"));
    let o = Operations::for_terms(&terms).unwrap();
    let e = emplacement();
    let cases = [
        ("8.9", PowerLevel::Normal),
        ("9", PowerLevel::Near),
        ("10", PowerLevel::Near),
        ("10.01", PowerLevel::Above),
    ];
    for (a, want) in cases {
        assert_eq!(
            o.power_level(&e, &amps("2026-06-01 10:00", a)),
            want,
            "{a} A"
        );
    }
    let embedded = Operations::for_terms(ciel_terms::embedded()).unwrap();
    assert_eq!(embedded.product().power_near_percent, d("80"));
    assert_eq!(
        embedded.power_level(&e, &amps("2026-06-01 10:00", "8")),
        PowerLevel::Near
    );
    assert_eq!(
        embedded.power_level(&e, &amps("2026-06-01 10:00", "7.99")),
        PowerLevel::Normal
    );
    assert_eq!(ProductParams::from_terms(&terms).deadline_alert_days, 2);
}
