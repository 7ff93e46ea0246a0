//! Option rules over an order's lines: each violation cites its rule.
//! Dates worked by hand in comments.

use ciel_catalog::item::{
    AvailabilityClass, CalendarDuration, CloudConnect, CloudVm, Colocation, ExternalBackup, Item,
    M365Backup, ManagedLevel, PraMachine,
};
use ciel_catalog::price::Price;
use ciel_catalog::rules::{
    OptionRules, OrderKind, OrderLine, SpecialConditions, ViolationKind, validate,
};
use ciel_terms::{MachineCriticality, SupportLevel};
use jiff::civil::{Date, date};
use proptest::prelude::*;

/// An order date, an immutability asked, and the (until, limit) dates of
/// the expected violation, if any.
type Case = (Date, &'static str, Option<(Date, Date)>);

fn rules() -> OptionRules {
    OptionRules::from_terms(ciel_terms::embedded())
}

fn line(item: Item) -> OrderLine {
    OrderLine { item, quantity: 1 }
}

fn dur(s: &str) -> CalendarDuration {
    CalendarDuration::parse(s).unwrap()
}

fn backup(immutability: Option<&str>, recycle_bin: Option<&str>) -> OrderLine {
    line(Item::ExternalBackup(ExternalBackup {
        storage_gb: 500,
        immutability: immutability.map(dur),
        recycle_bin: recycle_bin.map(dur),
    }))
}

/// (rule, field, kind) of each violation, or empty when valid.
fn check(
    lines: &[OrderLine],
    kind: OrderKind,
    on: Date,
) -> Vec<(&'static str, &'static str, ViolationKind)> {
    match validate(lines, kind, on, &rules()) {
        Ok(()) => vec![],
        Err(v) => v.into_iter().map(|v| (v.rule, v.field, v.kind)).collect(),
    }
}

#[test]
fn parameters_come_from_the_terms() {
    let r = rules();
    assert_eq!(r.immutability_max_months, 6);
    assert!(r.immutability_and_recycle_bin_exclusive);
    assert!(r.options_only_on_initial_order);
    assert_eq!(
        r.datacenters.iter().map(String::as_str).collect::<Vec<_>>(),
        ["DIJ", "MLB", "PA3", "TLS"]
    );
}

#[test]
fn immutability_at_most_six_months_from_the_order_date() {
    // Order of 31 August 2026: + 6 months = 28 February 2027 (clamped to the
    // end of February).
    // Order of 15 January 2026: + 6 months = 15 July 2026; 181 days by hand:
    // Jan 31 (+16), Feb 28 (+44), Mar 31 (+75), Apr 30 (+105), May 31 (+136),
    // Jun 30 (+166), Jul 15 (+181).
    // From 31 August 2026, 181 days: Sep 30 (+30), Oct 31 (+61), Nov 30 (+91),
    // Dec 31 (+122), Jan 31 (+153), Feb 28 (+181); 183 days: 2 March 2027.
    let cases: [Case; 10] = [
        (date(2026, 8, 31), "P6M", None),
        (
            date(2026, 8, 31),
            "P6M1D",
            Some((date(2027, 3, 1), date(2027, 2, 28))),
        ),
        (date(2026, 8, 31), "P181D", None),
        (
            date(2026, 8, 31),
            "P183D",
            Some((date(2027, 3, 2), date(2027, 2, 28))),
        ),
        (date(2026, 1, 15), "P6M", None),
        (date(2026, 1, 15), "P181D", None),
        (
            date(2026, 1, 15),
            "P182D",
            Some((date(2026, 7, 16), date(2026, 7, 15))),
        ),
        (
            date(2026, 1, 15),
            "P7M",
            Some((date(2026, 8, 15), date(2026, 7, 15))),
        ),
        // 26 weeks = 182 days: from 15 January that is 16 July, one day too many.
        (
            date(2026, 1, 15),
            "P26W",
            Some((date(2026, 7, 16), date(2026, 7, 15))),
        ),
        (date(2026, 1, 15), "P1M", None),
    ];
    for (on, d, expected) in cases {
        let got = check(&[backup(Some(d), None)], OrderKind::Initial, on);
        match expected {
            None => assert!(got.is_empty(), "{d} from {on}: {got:?}"),
            Some((until, limit)) => assert_eq!(
                got,
                vec![(
                    "R9.2",
                    "item.immutability",
                    ViolationKind::ImmutabilityTooLong {
                        max_months: 6,
                        until,
                        limit
                    }
                )],
                "{d} from {on}"
            ),
        }
    }
    assert_eq!(
        check(
            &[backup(Some("P0D"), None)],
            OrderKind::Initial,
            date(2026, 1, 15)
        ),
        vec![("R9.2", "item.immutability", ViolationKind::DurationZero)]
    );
}

#[test]
fn special_conditions_override_the_terms_for_one_order() {
    let terms = ciel_terms::embedded();
    let none = SpecialConditions::default();
    assert_eq!(OptionRules::for_order(terms, &none), rules());
    let special: SpecialConditions =
        serde_json::from_value(serde_json::json!({ "immutability_max_months": 3 })).unwrap();
    let r = OptionRules::for_order(terms, &special);
    assert_eq!(r.immutability_max_months, 3);
    let on = date(2026, 1, 15);
    assert!(validate(&[backup(Some("P3M"), None)], OrderKind::Initial, on, &r).is_ok());
    assert!(validate(&[backup(Some("P3M1D"), None)], OrderKind::Initial, on, &r).is_err());
    assert!(
        serde_json::from_value::<SpecialConditions>(serde_json::json!({ "penalty_cap": 2 }))
            .is_err(),
        "an unknown override is refused"
    );
}

#[test]
fn the_limit_is_a_parameter() {
    let mut r = rules();
    r.immutability_max_months = 3;
    let v = validate(
        &[backup(Some("P4M"), None)],
        OrderKind::Initial,
        date(2026, 1, 15),
        &r,
    )
    .unwrap_err();
    assert_eq!(v[0].rule, "R9.2");
    r.immutability_and_recycle_bin_exclusive = false;
    r.options_only_on_initial_order = false;
    assert!(
        validate(
            &[backup(Some("P3M"), Some("P30D"))],
            OrderKind::Amendment,
            date(2026, 1, 15),
            &r
        )
        .is_ok()
    );
}

#[test]
fn immutability_and_recycle_bin_are_exclusive_and_only_on_the_initial_order() {
    let on = date(2026, 3, 1);
    assert_eq!(
        check(&[backup(Some("P3M"), Some("P30D"))], OrderKind::Initial, on),
        vec![(
            "R9.4",
            "item.recycle_bin",
            ViolationKind::ImmutabilityWithRecycleBin
        )]
    );
    assert!(check(&[backup(None, Some("P30D"))], OrderKind::Initial, on).is_empty());
    assert_eq!(
        check(&[backup(None, Some("P30D"))], OrderKind::Amendment, on),
        vec![("R9.4", "item.recycle_bin", ViolationKind::OptionOnAmendment)]
    );
    assert_eq!(
        check(&[backup(Some("P1M"), None)], OrderKind::Amendment, on),
        vec![(
            "R9.4",
            "item.immutability",
            ViolationKind::OptionOnAmendment
        )]
    );
    // An amendment may resize a backup without options.
    assert!(check(&[backup(None, None)], OrderKind::Amendment, on).is_empty());
    assert_eq!(
        check(&[backup(None, Some("P0D"))], OrderKind::Initial, on),
        vec![("R9.3", "item.recycle_bin", ViolationKind::DurationZero)]
    );
}

#[test]
fn required_references_and_parameters() {
    let on = date(2026, 3, 1);
    let cc = |r: Option<&str>| {
        line(Item::CloudConnect(CloudConnect {
            vpn_mpls_contract_ref: r.map(Into::into),
        }))
    };
    for missing in [None, Some(""), Some("   ")] {
        assert_eq!(
            check(&[cc(missing)], OrderKind::Initial, on),
            vec![(
                "R12.1",
                "item.vpn_mpls_contract_ref",
                ViolationKind::CloudConnectWithoutVpnMpls
            )]
        );
    }
    assert!(check(&[cc(Some("VPN-2026-00042"))], OrderKind::Amendment, on).is_empty());

    let pra = |c| {
        line(Item::PraMachine(PraMachine {
            machine: "srv-erp-01".into(),
            criticality: c,
        }))
    };
    assert_eq!(
        check(&[pra(None)], OrderKind::Initial, on),
        vec![(
            "R10.1",
            "item.criticality",
            ViolationKind::PraWithoutCriticality
        )]
    );
    assert!(check(&[pra(Some(MachineCriticality::C2))], OrderKind::Initial, on).is_empty());

    let m365 = |s| {
        line(Item::M365Backup(M365Backup {
            provisioned_storage_gb: s,
        }))
    };
    for missing in [None, Some(0)] {
        assert_eq!(
            check(&[m365(missing)], OrderKind::Initial, on),
            vec![(
                "R9.7",
                "item.provisioned_storage_gb",
                ViolationKind::M365WithoutStorage
            )]
        );
    }
    assert!(check(&[m365(Some(1000))], OrderKind::Initial, on).is_empty());

    let coloc = |dc: &str| {
        line(Item::Colocation(Colocation {
            datacenter: dc.into(),
            emplacement: "Salle 1, baie A04".into(),
            rack_units: 42,
            power_kva: "4".parse().unwrap(),
            max_amperage_a: "16".parse().unwrap(),
            bandwidth_flat_mbps: 100,
            overage_price_per_mbps: Price::parse("2.00").unwrap(),
        }))
    };
    assert!(check(&[coloc("PA3")], OrderKind::Initial, on).is_empty());
    let mut no_power = coloc("MLB");
    if let Item::Colocation(c) = &mut no_power.item {
        c.power_kva = "0".parse().unwrap();
    }
    assert_eq!(
        check(&[no_power], OrderKind::Initial, on),
        vec![(
            "R11.5",
            "item.power_kva",
            ViolationKind::InvalidParameter {
                reason: "the subscribed power is above 0 kVA".into()
            }
        )]
    );
    assert_eq!(
        check(&[coloc("LYO")], OrderKind::Initial, on),
        vec![(
            "R11.1",
            "item.datacenter",
            ViolationKind::UnknownDatacenter {
                datacenter: "LYO".into(),
                known: vec!["DIJ".into(), "MLB".into(), "PA3".into(), "TLS".into()]
            }
        )]
    );
}

#[test]
fn every_violation_is_reported_with_its_line_and_rule() {
    let lines = vec![
        line(Item::Support {
            level: SupportLevel::Premium,
        }),
        OrderLine {
            item: Item::CloudVm(CloudVm {
                vcpu: 0,
                ram_gb: 8,
                storage_gb: 100,
                class: AvailabilityClass::MonoSite,
            }),
            quantity: 0,
        },
        backup(Some("P7M"), Some("P14D")),
        line(Item::ManagedServices {
            level: ManagedLevel::Standard,
        }),
        line(Item::Support {
            level: SupportLevel::Platinum,
        }),
        line(Item::HourBook { hours: 0 }),
    ];
    let v = validate(&lines, OrderKind::Initial, date(2026, 1, 15), &rules()).unwrap_err();
    let summary: Vec<(usize, &str, &str)> = v.iter().map(|v| (v.line, v.rule, v.field)).collect();
    assert_eq!(
        summary,
        [
            (1, "R1.3", "quantity"),
            (1, "R1.3", "item.vcpu"),
            (2, "R9.2", "item.immutability"),
            (2, "R9.4", "item.recycle_bin"),
            (4, "R1.3", "item.level"),
            (5, "R1.3", "item.hours"),
        ]
    );
    assert_eq!(v[1].clause, "CS 2.1");
    // 15 January + 7 months = 15 August; + 6 months = 15 July.
    assert_eq!(
        v[2].to_string(),
        "R9.2 (CS 3.6): lines[2].item.immutability: immutability is at most 6 months: from the order date it would last until 2026-08-15, after 2026-07-15"
    );
}

#[test]
fn durations_parse_in_calendar_units() {
    assert_eq!(dur("P6M"), CalendarDuration::new(6, 0));
    assert_eq!(dur("P1Y"), CalendarDuration::new(12, 0));
    assert_eq!(dur("P2W3D"), CalendarDuration::new(0, 17));
    assert_eq!(dur("p6m1d").to_string(), "P6M1D");
    assert_eq!(CalendarDuration::new(0, 0).to_string(), "P0D");
    assert!(CalendarDuration::parse("PT6H").is_err());
    assert!(CalendarDuration::parse("-P6M").is_err());
    // jiff's friendly format is accepted too (what a form would show).
    assert_eq!(dur("6 months"), CalendarDuration::new(6, 0));
    assert_eq!(dur("30 days"), CalendarDuration::new(0, 30));
    assert!(CalendarDuration::parse("6 mois").is_err());
    assert!(CalendarDuration::parse("").is_err());
}

proptest! {
    #[test]
    fn durations_round_trip(months in 0u32..1000, days in 0u32..1000) {
        let d = CalendarDuration::new(months, days);
        prop_assert_eq!(CalendarDuration::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn exactly_the_maximum_passes_and_one_more_day_fails(
        y in 2020i16..2100, m in 1i8..=12, day in 1i8..=28, max in 1u32..=24,
    ) {
        let on = date(y, m, day);
        let mut r = rules();
        r.immutability_max_months = max;
        let at_max = format!("P{max}M");
        let over = format!("P{max}M1D");
        prop_assert!(validate(&[backup(Some(&at_max), None)], OrderKind::Initial, on, &r).is_ok());
        prop_assert!(validate(&[backup(Some(&over), None)], OrderKind::Initial, on, &r).is_err());
    }
}
