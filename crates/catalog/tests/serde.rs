//! The wire forms the next session will store and accept: every type
//! deserialises through its checks, so a bad body is refused, not stored.

use ciel_catalog::item::Item;
use ciel_catalog::order::{OrderEvent, OrderParams, OrderState, apply};
use ciel_catalog::price::{Price, TieredPrice};
use ciel_catalog::rules::OrderLine;
use serde_json::json;

#[test]
fn order_lines_read_and_write_json() {
    let line: OrderLine = serde_json::from_value(json!({
        "item": { "kind": "external_backup", "storage_gb": 500, "immutability": "P6M" }
    }))
    .unwrap();
    assert_eq!(line.quantity, 1, "quantity defaults to one");
    let back: OrderLine = serde_json::from_value(serde_json::to_value(&line).unwrap()).unwrap();
    assert_eq!(back, line);
    assert_eq!(
        serde_json::to_value(&line).unwrap()["item"]["immutability"],
        json!("P6M")
    );

    let pra: Item = serde_json::from_value(json!({
        "kind": "pra_machine", "machine": "srv-erp", "criticality": "c1"
    }))
    .unwrap();
    assert_eq!(
        serde_json::from_value::<Item>(serde_json::to_value(&pra).unwrap()).unwrap(),
        pra
    );

    // Unknown fields and bad values are refused.
    for bad in [
        json!({ "kind": "cloud_vm", "vcpu": 2, "ram_gb": 4, "storage_gb": 50, "class": "mono_site", "gpu": 1 }),
        json!({ "kind": "cloud_vm", "vcpu": 2, "ram_gb": 4, "storage_gb": 50, "class": "tri_dc" }),
        json!({ "kind": "external_backup", "storage_gb": 5, "immutability": "PT6H" }),
        json!({ "kind": "support", "level": "gold" }),
        json!({ "kind": "teleportation" }),
    ] {
        assert!(
            serde_json::from_value::<Item>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn money_is_read_from_strings_never_from_floats() {
    let p: Price = serde_json::from_value(json!("12.50")).unwrap();
    assert_eq!(serde_json::to_value(p).unwrap(), json!("12.50"));
    assert!(serde_json::from_value::<Price>(json!("-1")).is_err());
    assert!(
        serde_json::from_value::<Price>(json!(12.5)).is_err(),
        "a float is refused"
    );

    let t: TieredPrice = serde_json::from_value(json!([
        { "up_to": "1000", "flat": "50" },
        { "unit_price": "0.06" }
    ]))
    .unwrap();
    assert_eq!(t.tiers().len(), 2);
    // A cliff is refused at the door: 100 × 1 = 100 > 100 × 0.9 = 90.
    assert!(
        serde_json::from_value::<TieredPrice>(json!([
            { "up_to": "100", "unit_price": "1" },
            { "unit_price": "0.9" }
        ]))
        .is_err()
    );
}

#[test]
fn price_books_are_checked_when_read_back() {
    use ciel_catalog::price::{PriceBook, PriceList};
    let list = |id: &str, from: &str| json!({ "id": id, "effective_from": from, "prices": { "support.premium": [{ "unit_price": "300" }] } });
    let book: PriceBook = serde_json::from_value(json!([
        list("2026-01", "2026-01-01"),
        list("2026-07", "2026-07-01")
    ]))
    .unwrap();
    assert_eq!(book.lists().len(), 2);
    let stored = serde_json::to_value(&book).unwrap();
    assert_eq!(serde_json::from_value::<PriceBook>(stored).unwrap(), book);
    for bad in [
        json!([]),
        json!([list("2026-07", "2026-07-01"), list("2026-01", "2026-01-01")]),
        json!([list("a", "2026-01-01"), list("a", "2026-07-01")]),
        json!([list(" ", "2026-01-01")]),
    ] {
        assert!(
            serde_json::from_value::<PriceBook>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    assert!(serde_json::from_value::<PriceList>(list("", "2026-01-01")).is_err());
}

#[test]
fn order_states_round_trip() {
    let p = OrderParams::from_terms(ciel_terms::embedded()).unwrap();
    let sent = apply(
        &OrderState::Draft,
        &OrderEvent::Send,
        "2026-11-26T09:00:00Z".parse().unwrap(),
        &p,
    )
    .unwrap();
    let v = serde_json::to_value(&sent).unwrap();
    assert_eq!(v["state"], json!("sent"));
    assert_eq!(v["deadline"], json!("2026-12-26T09:00:00Z"));
    assert_eq!(serde_json::from_value::<OrderState>(v).unwrap(), sent);
    let e: OrderEvent = serde_json::from_value(
        json!({ "event": "record_paper_signature", "signed_on": "2026-11-30" }),
    )
    .unwrap();
    assert_eq!(e.name(), "record_paper_signature");
}
