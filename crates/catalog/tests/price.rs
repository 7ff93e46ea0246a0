//! Price lists: tiers (R2.3), price-change notice (R2.2), tariff of a date
//! (R1.5, R2.4) and quotes. Expected values are worked by hand in comments.

use std::collections::BTreeMap;

use ciel_catalog::item::{AvailabilityClass, CloudVm, ExternalBackup, Item};
use ciel_catalog::price::{
    NoticeRule, Price, PriceBook, PriceError, PriceList, Sku, Tier, TieredPrice,
};
use jiff::{Timestamp, civil::date, tz::TimeZone};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn tier(up_to: Option<&str>, unit: &str, flat: &str) -> Tier {
    Tier {
        up_to: up_to.map(d),
        unit_price: p(unit),
        flat: p(flat),
    }
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Backup storage: a 50 EUR package up to 1 TB, then 0.06 EUR/GB for the
/// whole quantity up to 5 TB, then 20 EUR + 0.058 EUR/GB.
/// Edges: at 1 000 GB the second tier would bill 60 >= 50; at 5 000 GB the
/// third would bill 20 + 290 = 310 >= 300: no cliff.
fn storage_tiers() -> TieredPrice {
    TieredPrice::new(vec![
        tier(Some("1000"), "0", "50.00"),
        tier(Some("5000"), "0.06", "0"),
        tier(None, "0.058", "20.00"),
    ])
    .unwrap()
}

#[test]
fn tier_edges_bill_the_whole_quantity_at_the_tier_reached() {
    let t = storage_tiers();
    // (quantity, tier, amount worked by hand)
    let cases = [
        ("0", 0, "50.00"),
        ("1", 0, "50.00"),
        ("1000", 0, "50.00"),      // the bound is inclusive
        ("1000.01", 1, "60.0006"), // 0.06 × 1000.01
        ("1001", 1, "60.06"),
        ("5000", 1, "300.00"),    // 0.06 × 5000
        ("5000.5", 2, "310.029"), // 20 + 0.058 × 5000.5 = 20 + 290.029
        ("10000", 2, "600.00"),   // 20 + 580
    ];
    for (q, tier, amount) in cases {
        let priced = t.price(d(q)).unwrap();
        assert_eq!(priced.tier, tier, "tier of {q}");
        assert_eq!(priced.amount, d(amount), "amount of {q}");
        assert_eq!(priced.quantity, d(q));
    }
    assert_eq!(t.price(d("-1")), Err(PriceError::NegativeQuantity(d("-1"))));
}

#[test]
fn tier_tables_are_checked() {
    let cases: Vec<(Vec<Tier>, PriceError)> = vec![
        (vec![], PriceError::NoTier),
        (
            vec![tier(Some("10"), "1", "0")],
            PriceError::BoundedLastTier,
        ),
        (
            vec![tier(None, "1", "0"), tier(None, "1", "0")],
            PriceError::UnboundedTier { index: 0 },
        ),
        (
            vec![tier(Some("0"), "1", "0"), tier(None, "1", "0")],
            PriceError::TierBound { index: 0 },
        ),
        (
            vec![
                tier(Some("10"), "1", "0"),
                tier(Some("10"), "1", "0"),
                tier(None, "1", "0"),
            ],
            PriceError::TierOrder {
                index: 1,
                previous: d("10"),
                up_to: d("10"),
            },
        ),
        // A volume discount cliff: 100 units cost 100.00 in the first tier
        // but 0.90 × 100 = 90.00 in the second.
        (
            vec![tier(Some("100"), "1.00", "0"), tier(None, "0.90", "0")],
            PriceError::TierCliff {
                index: 1,
                edge: d("100"),
                lower: d("100.00"),
                higher: d("90.00"),
            },
        ),
    ];
    for (tiers, err) in cases {
        assert_eq!(TieredPrice::new(tiers.clone()), Err(err), "{tiers:?}");
    }
    // Same price at the edge is fine: 0.90 × 100 + 10 = 100.
    assert!(
        TieredPrice::new(vec![
            tier(Some("100"), "1.00", "0"),
            tier(None, "0.90", "10")
        ])
        .is_ok()
    );
}

#[test]
fn prices_and_skus_parse_strictly() {
    assert_eq!(p("12.50").get(), d("12.5"));
    assert_eq!(Price::from_cents(1250), p("12.50"));
    assert_eq!(Price::parse("-0.01"), Err(PriceError::Negative(d("-0.01"))));
    assert!(matches!(
        Price::parse("abc"),
        Err(PriceError::NotDecimal(_))
    ));
    assert!(matches!(
        Price::parse("1e3"),
        Err(PriceError::NotDecimal(_))
    ));
    assert!(Sku::parse("cloud_vm.thd_multi_site.vcpu").is_ok());
    for bad in [
        "",
        "Cloud",
        "a..b",
        ".a",
        "a.",
        "a-b",
        "a b",
        &"a".repeat(65),
    ] {
        assert!(Sku::parse(bad).is_err(), "{bad:?}");
    }
}

fn paris_rule() -> NoticeRule {
    NoticeRule {
        days: 30,
        tz: TimeZone::get("Europe/Paris").unwrap(),
    }
}

#[test]
fn notice_rule_comes_from_the_terms() {
    let r = NoticeRule::from_terms(ciel_terms::embedded()).unwrap();
    assert_eq!(r, paris_rule());
}

#[test]
fn price_change_notified_29_30_31_days_ahead() {
    let rule = paris_rule();
    let effective = date(2027, 3, 1);
    // (notice instant in UTC, Paris wall clock, accepted?, earliest date)
    // By hand (2027 is not a leap year): Jan 30 + 30 days = Mar 1 (Jan 31 is
    // +1, Feb 28 is +29, Mar 1 is +30). Paris is UTC+1 in winter.
    let cases = [
        // 31 days ahead (Jan 29, 10:00): + 30 days = Feb 28 10:00 → Mar 1.
        ("2027-01-29T09:00:00Z", true, date(2027, 3, 1)),
        // Exactly 30 days before the start of Mar 1 (Jan 30, 00:00 Paris).
        ("2027-01-29T23:00:00Z", true, date(2027, 3, 1)),
        // One second later: 30 days later is Mar 1 00:00:01, past its start.
        ("2027-01-29T23:00:01Z", false, date(2027, 3, 2)),
        // 30 days by the calendar but 09:00: only 29 days 15 hours ahead.
        ("2027-01-30T08:00:00Z", false, date(2027, 3, 2)),
        // 29 days ahead (Jan 31, 00:00 Paris): + 30 days = Mar 2 00:00.
        ("2027-01-30T23:00:00Z", false, date(2027, 3, 2)),
    ];
    for (at, ok, earliest) in cases {
        let at = ts(at);
        assert_eq!(
            rule.earliest_effective_date(at),
            earliest,
            "earliest for {at}"
        );
        let r = rule.check(at, effective);
        assert_eq!(r.is_ok(), ok, "notice at {at}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.earliest, earliest);
            assert!(e.to_string().starts_with("R2.2 (CG 3.1.1)"), "{e}");
        }
    }
}

#[test]
fn notice_days_are_calendar_days_across_summer_time() {
    // Summer time starts on 28 March 2027. A notice at 23:30 Paris on 1 March
    // (22:30Z) + 30 calendar days = 31 March 23:30 Paris: before the start of
    // 1 April, so 1 April is allowed. Counting 30 × 24 h instead would land on
    // 31 March 22:30Z = 1 April 00:30 Paris and refuse it.
    let rule = paris_rule();
    assert!(
        rule.check(ts("2027-03-01T22:30:00Z"), date(2027, 4, 1))
            .is_ok()
    );
    // 00:30 Paris on 2 March + 30 days = 1 April 00:30: 2 April at the earliest.
    assert_eq!(
        rule.earliest_effective_date(ts("2027-03-01T23:30:00Z")),
        date(2027, 4, 2)
    );
}

fn list(id: &str, from: jiff::civil::Date, prices: &[(&str, &str)]) -> PriceList {
    let prices: BTreeMap<Sku, TieredPrice> = prices
        .iter()
        .map(|(s, price)| (sku(s), TieredPrice::per_unit(p(price))))
        .collect();
    PriceList::new(id, from, prices).unwrap()
}

#[test]
fn price_book_publishes_with_notice_and_answers_the_tariff_of_a_day() {
    let rule = paris_rule();
    let v1 = list("2026-01", date(2026, 1, 1), &[("support.premium", "300")]);
    let mut book = PriceBook::new(v1);

    // A change without its notice instant is refused.
    let v2 = list("2026-07", date(2026, 7, 1), &[("support.premium", "320")]);
    assert!(matches!(
        book.publish(v2.clone(), None, &rule),
        Err(PriceError::NoticeMissing { .. })
    ));
    // Notified 1 June 00:00:01 Paris (summer, UTC+2): late by one second.
    assert!(matches!(
        book.publish(v2.clone(), Some(ts("2026-05-31T22:00:01Z")), &rule),
        Err(PriceError::NoticeTooLate(_))
    ));
    // Notified 1 June 00:00 Paris: + 30 days = 1 July 00:00 (June has 30 days).
    book.publish(v2, Some(ts("2026-05-31T22:00:00Z")), &rule)
        .unwrap();

    // Adding a SKU changes no existing price: no notice needed.
    let v3 = list(
        "2026-08",
        date(2026, 8, 1),
        &[("support.premium", "320"), ("support.platinum", "900")],
    );
    book.publish(v3, None, &rule).unwrap();

    // History is append-only.
    let old = list(
        "2026-06bis",
        date(2026, 6, 15),
        &[("support.premium", "320")],
    );
    assert!(matches!(
        book.publish(old, None, &rule),
        Err(PriceError::NotAfterLatest { .. })
    ));
    let dup = list("2026-07", date(2026, 9, 1), &[("support.premium", "320")]);
    assert!(matches!(
        book.publish(dup, None, &rule),
        Err(PriceError::DuplicateList { .. })
    ));

    let id_on = |y, m, day| book.in_force_on(date(y, m, day)).map(PriceList::id);
    assert_eq!(id_on(2025, 12, 31), None);
    assert_eq!(id_on(2026, 1, 1), Some("2026-01"));
    assert_eq!(id_on(2026, 6, 30), Some("2026-01"));
    assert_eq!(id_on(2026, 7, 1), Some("2026-07"));
    assert_eq!(id_on(2026, 8, 1), Some("2026-08"));

    // R1.5: the day of receipt is the Paris day. 30 June 23:59 Paris = 21:59Z.
    let tz = TimeZone::get("Europe/Paris").unwrap();
    let on = |at: &str| book.for_written_request(ts(at), &tz).map(PriceList::id);
    assert_eq!(on("2026-06-30T21:59:59Z"), Some("2026-01"));
    // 22:30Z on 30 June is 00:30 on 1 July in Paris: the new tariff.
    assert_eq!(on("2026-06-30T22:30:00Z"), Some("2026-07"));
}

#[test]
fn quotes_sum_recurring_and_one_time_charges() {
    let mut prices: BTreeMap<Sku, TieredPrice> = [
        ("cloud_vm.thd_multi_site.vcpu", "15.00"),
        ("cloud_vm.thd_multi_site.ram_gb", "4.00"),
        ("cloud_vm.thd_multi_site.storage_gb", "0.10"),
        ("cloud_vm.setup", "50.00"),
        ("backup.immutability_gb", "0.01"),
        ("backup.setup", "0"),
    ]
    .iter()
    .map(|(s, price)| (sku(s), TieredPrice::per_unit(p(price))))
    .collect();
    prices.insert(sku("backup.storage_gb"), storage_tiers());
    let list = PriceList::new("2026-01", date(2026, 1, 1), prices).unwrap();

    let vm = Item::CloudVm(CloudVm {
        vcpu: 4,
        ram_gb: 16,
        storage_gb: 200,
        class: AvailabilityClass::ThdMultiSite,
    });
    // One VM: 4 × 15 + 16 × 4 + 200 × 0.10 = 60 + 64 + 20 = 144 a month;
    // two VMs: 288 a month and 2 × 50 = 100 of setup fees.
    let q = list.quote(&vm, 2).unwrap();
    assert_eq!(q.monthly, d("288"));
    assert_eq!(q.one_time, d("100"));
    assert_eq!(q.charges.len(), 4);
    assert_eq!(q.price_list, "2026-01");

    // Backup of 1 500 GB with immutability: storage in tier 1,
    // 0.06 × 1500 = 90, plus 0.01 × 1500 = 15: 105 a month.
    let backup = Item::ExternalBackup(ExternalBackup {
        storage_gb: 1500,
        immutability: Some(ciel_catalog::CalendarDuration::new(6, 0)),
        recycle_bin: None,
    });
    let q = list.quote(&backup, 1).unwrap();
    assert_eq!(q.monthly, d("105"));
    assert_eq!(q.charges[0].priced.tier, 1);
    assert_eq!(q.one_time, d("0"));

    // A SKU the list does not price is an error, never a free charge.
    let dc = Item::CloudVm(CloudVm {
        vcpu: 1,
        ram_gb: 1,
        storage_gb: 1,
        class: AvailabilityClass::DualDc,
    });
    assert_eq!(
        list.quote(&dc, 1),
        Err(PriceError::Missing {
            list: "2026-01".into(),
            sku: sku("cloud_vm.dual_dc.vcpu")
        })
    );
}

fn tiers_strategy() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((1u32..1000, 0u32..5000, 0u32..5000), 1..5).prop_map(|raw| {
        let mut bound = 0u32;
        let n = raw.len();
        raw.into_iter()
            .enumerate()
            .map(|(i, (step, unit_milli, flat_cents))| {
                bound += step;
                Tier {
                    up_to: (i + 1 < n).then(|| Decimal::from(bound)),
                    unit_price: Price::new(Decimal::new(i64::from(unit_milli), 3)).unwrap(),
                    flat: Price::from_cents(u64::from(flat_cents)),
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn accepted_tiers_never_bill_less_for_more(
        tiers in tiers_strategy(),
        a in 0u32..6000,
        b in 0u32..6000,
        frac in 0u32..100,
    ) {
        if let Ok(t) = TieredPrice::new(tiers) {
            let (lo, hi) = (a.min(b), a.max(b));
            let lo = Decimal::from(lo) + Decimal::new(i64::from(frac), 2);
            let hi = Decimal::from(hi) + Decimal::new(99, 2);
            prop_assert!(t.price(lo).unwrap().amount <= t.price(hi).unwrap().amount);
        }
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = Price::parse(&s);
        let _ = Sku::parse(&s);
        let _ = ciel_catalog::CalendarDuration::parse(&s);
    }

    #[test]
    fn the_earliest_effective_date_is_the_exact_boundary(secs in 1_700_000_000i64..1_900_000_000) {
        let rule = paris_rule();
        let at = Timestamp::from_second(secs).unwrap();
        let earliest = rule.earliest_effective_date(at);
        prop_assert!(rule.check(at, earliest).is_ok());
        prop_assert!(rule.check(at, earliest.yesterday().unwrap()).is_err());
    }

    #[test]
    fn skus_round_trip(s in "[a-z0-9_]{1,10}(\\.[a-z0-9_]{1,10}){0,3}") {
        let k = Sku::parse(&s).unwrap();
        prop_assert_eq!(Sku::parse(&k.to_string()).unwrap(), k);
    }
}
