//! Price lists and orders (issue 4, items 2-4), through HTTP: the option
//! rules, the order's life from draft to validation, the lapse driven by the
//! clock and the job queue, the price-change notice (R2.2), the tariff of an
//! option added to a running order (R1.5) and tenant isolation.

use crate::support::*;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// The demo tariff (in force since 1 January: the demo loads it) with the
/// backup storage at `storage` a GB; every other price unchanged, so only
/// that price can need a notice (R2.2).
pub fn prices(storage: &str) -> Value {
    let mut p = ciel_server::bootstrap::demo_prices();
    p["backup.storage_gb"] = json!([{"unit_price": storage}]);
    p
}

/// Publishes this year's price list, in force from the start day: the demo
/// tariff's prices again (backup 0.05 EUR/GB, Premium support 300 EUR), so
/// no price changes and no notice is due.
pub(crate) async fn first_price_list(staff: &Session) {
    let (status, body) = staff
        .api(
            Method::POST,
            "/api/v1/price-lists",
            Some(json!({"name": "Tarif 2026", "effective_from": "2026-05-07", "prices": prices("0.05")})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["notices"], 0, "a first list changes no price");
}

fn backup(gb: u32, immutability: Option<&str>) -> Value {
    let mut item = json!({"kind": "external_backup", "storage_gb": gb});
    if let Some(d) = immutability {
        item["immutability"] = json!(d);
    }
    json!({"item": item, "quantity": 1, "commitment_months": 12})
}

async fn draft(staff: &Session, org: &str, body: Value) -> (u16, Value) {
    staff
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/orders"),
            Some(body),
        )
        .await
}

async fn draft_ok(staff: &Session, org: &str) -> String {
    let (status, o) = draft(
        staff,
        org,
        json!({"lines": [
            {"item": {"kind": "support", "level": "premium"}},
            backup(500, Some("P6M"))
        ]}),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    o["id"].as_str().unwrap().to_owned()
}

/// An order of organisation A drafted, sent, accepted and validated now;
/// its view with its lines.
pub(crate) async fn validated_order(staff: &Session, admin_a: &Session) -> Value {
    let org = org_of(admin_a).await;
    let id = draft_ok(staff, &org).await;
    send_accept_validate(staff, admin_a, &id).await;
    let (status, o) = admin_a.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(
        (status, o["state"].as_str()),
        (200, Some("validated")),
        "{o}"
    );
    o
}

pub async fn an_order_goes_from_draft_to_validation(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    first_price_list(&staff).await;
    // A model the tariff does not price cannot be ordered.
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"lines": [{"item": {"kind": "dedicated_server", "model": "z9_unknown"}}]}),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("price_missing"), Some("lines[0].item"))
    );

    // Option rules (R9.2, R9.4, R12.1): refused with the rule and the field.
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"lines": [
            {"item": {"kind": "support", "level": "premium"}},
            backup(100, None),
            backup(500, Some("P7M"))
        ]}),
    )
    .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["code"], "option_rule_violated");
    assert_eq!(p["field"], "lines[2].item.immutability");
    assert!(p["detail"].as_str().unwrap().contains("R9.2"), "{p}");
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"lines": [{"item": {"kind": "external_backup", "storage_gb": 10, "immutability": "P1M", "recycle_bin": "P1M"}}]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("lines[0].item.recycle_bin"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R9.4"), "{p}");
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"lines": [{"item": {"kind": "cloud_connect"}}]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("lines[0].item.vpn_mpls_contract_ref"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R12.1"), "{p}");
    // A malformed item names its path; unknown fields are refused.
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"lines": [{"item": {"kind": "external_backup", "storage_gb": "lots"}}]}),
    )
    .await;
    // (Items are tagged by `kind`: the path stops at the item.)
    assert_eq!((status, p["field"].as_str()), (422, Some("lines[0].item")));
    assert!(p["detail"].as_str().unwrap().contains("lots"), "{p}");
    let (status, p) = draft(&staff, &org_a, json!({"lines": [], "colour": "blue"})).await;
    assert_eq!((status, p["code"].as_str()), (422, Some("unknown_field")));
    // Only staff draft orders.
    let (status, _) = draft(&admin_a, &org_a, json!({"lines": [backup(10, None)]})).await;
    assert_eq!(status, 403);
    // Special conditions override the terms for this order (R1.1).
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"special_conditions": {"immutability_max_months": 9}, "lines": [backup(10, Some("P7M"))]}),
    )
    .await;
    assert_eq!(status, 201, "{p}");

    // A valid order, priced from the list, pinned to the terms version.
    let (status, o) = draft(
        &staff,
        &org_a,
        json!({"lines": [
            {"item": {"kind": "support", "level": "premium"}, "commitment_months": 36},
            backup(500, Some("P6M"))
        ]}),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(o["state"], "draft");
    assert_eq!(o["terms_version"], "cgv-csp-v1.0-20250107");
    // 500 GB x (0.05 + 0.02) = 35 EUR a month; setup 100 EUR.
    assert_eq!(o["lines"][1]["unit_price"], "35");
    assert_eq!(o["lines"][1]["setup_fee"], "100");
    assert_eq!(o["monthly_total"], "335");
    // Accepting a draft is refused with the rule, and nothing is written.
    let (status, p) = post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R1.3"), "{p}");

    // Sent: the deadline is 30 days later, same Paris time (R1.3).
    let (status, o) = post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["state"], "sent");
    assert_eq!(o["acceptance_deadline"], "2026-06-06T15:30:00Z");
    let mail = mail_with(&app, ADMIN_A, &id).await;
    assert!(mail.contains("06/06/2026"), "{mail}");
    assert!(
        mail.contains(&format!("/espace-client/orders/{id}")),
        "{mail}"
    );
    // The order itself is attached as a PDF ("%PDF-" is "JVBERi0" in base64).
    assert!(mail.contains("application/pdf"), "{mail}");
    assert!(mail.contains(&format!("{id}.pdf")), "{mail}");
    assert!(mail.contains("JVBERi0"), "{mail}");
    // Sending twice is refused.
    let (status, _) = post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    assert_eq!(status, 409);
    // Staff cannot validate before the client accepted (R1.4).
    let (status, p) = post(&staff, &format!("/api/v1/orders/{id}/validate"), None).await;
    assert_eq!(status, 409);
    assert!(p["detail"].as_str().unwrap().contains("R1.4"), "{p}");
    // A plain user of the client cannot accept; its Administrator can.
    let user_a = app.login(USER_A, DEMO_PASSWORD).await;
    let (status, _) = post(&user_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(status, 403);
    app.advance(SignedDuration::from_hours(1));
    let (status, o) = post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["state_detail"]["acceptance"]["by"], "online");
    // The staff member who sent it is told, with the link to validate it.
    let told = mail_with(&app, STAFF_SUPPORT, &format!("/back-office/orders/{id}")).await;
    assert!(told.contains("Jeanne Martin"), "{told}");
    let (status, p) = post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    // Validated once; validating twice names R1.4.
    let (status, o) = post(&staff, &format!("/api/v1/orders/{id}/validate"), None).await;
    assert_eq!((status, o["state"].as_str()), (200, Some("validated")));
    let (status, p) = post(&staff, &format!("/api/v1/orders/{id}/validate"), None).await;
    assert_eq!(status, 409);
    assert!(p["detail"].as_str().unwrap().contains("R1.4"), "{p}");
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["state"], "validated");
    // The client's list shows it; the audit kept every step.
    let (_, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org_a}/orders?limit=1"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_string());
    let (_, audit) = staff.get_json("/api/v1/audit?limit=200").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "order.draft",
        "order.send",
        "order.accept_online",
        "order.validate",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }

    // A paper signature, then a refusal with its reason (R1.4).
    let id2 = draft_ok(&staff, &org_a).await;
    post(&staff, &format!("/api/v1/orders/{id2}/send"), None).await;
    let (status, p) = post(
        &staff,
        &format!("/api/v1/orders/{id2}/paper-signature"),
        Some(json!({"signed_on": "2026-05-01"})),
    )
    .await;
    assert_eq!(status, 409, "signed before sending: {p}");
    let (status, o) = post(
        &staff,
        &format!("/api/v1/orders/{id2}/paper-signature"),
        Some(json!({"signed_on": "2026-05-07"})),
    )
    .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["state_detail"]["acceptance"]["by"], "paper");
    let (status, p) = post(
        &staff,
        &format!("/api/v1/orders/{id2}/refuse"),
        Some(json!({"reason": "  "})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")));
    let (status, o) = post(
        &staff,
        &format!("/api/v1/orders/{id2}/refuse"),
        Some(json!({"reason": "no rack space left in PA3"})),
    )
    .await;
    assert_eq!((status, o["state"].as_str()), (200, Some("refused")));
    assert_eq!(o["state_detail"]["reason"], "no rack space left in PA3");
    app.stop().await;
}

pub async fn an_unaccepted_order_lapses_and_both_sides_are_told(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    first_price_list(&staff).await;
    let id = draft_ok(&staff, &org_a).await;
    let (status, _) = post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    assert_eq!(status, 200);
    mail_with(&app, ADMIN_A, &id).await;
    // Another order, which the client declines before its deadline.
    let declined = draft_ok(&staff, &org_a).await;
    post(&staff, &format!("/api/v1/orders/{declined}/send"), None).await;
    let user_a = app.login(USER_A, DEMO_PASSWORD).await;
    let (status, _) = post(
        &user_a,
        &format!("/api/v1/orders/{declined}/decline"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 403, "only an Administrator declines");
    let (status, o) = post(
        &admin_a,
        &format!("/api/v1/orders/{declined}/decline"),
        Some(json!({"reason": "budget reporté"})),
    )
    .await;
    assert_eq!(
        (status, o["state"].as_str()),
        (200, Some("declined")),
        "{o}"
    );
    assert_eq!(o["state_detail"]["reason"], "budget reporté");
    let (status, p) = post(&admin_a, &format!("/api/v1/orders/{declined}/accept"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    // One minute before the deadline nothing happens.
    app.advance(SignedDuration::from_hours(30 * 24) - SignedDuration::from_mins(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // (Sessions expired meanwhile.)
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    assert_eq!(
        admin_a.get_json(&format!("/api/v1/orders/{id}")).await.1["state"],
        "sent"
    );
    // At the deadline the job lapses it and tells the client and the sender.
    app.advance(SignedDuration::from_mins(2));
    let client_mail = mail_with(&app, ADMIN_A, "caduc").await;
    assert!(client_mail.contains(&id), "{client_mail}");
    let staff_mail = mail_with(&app, STAFF_SUPPORT, &id).await;
    assert!(staff_mail.contains("caduc"), "{staff_mail}");
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["state"], "lapsed");
    // The declined order stays declined: its lapse job did nothing.
    let (_, d) = admin_a
        .get_json(&format!("/api/v1/orders/{declined}"))
        .await;
    assert_eq!(d["state"], "declined");
    assert!(
        !ciel_server::orders::run_lapse(app.state(), &declined)
            .await
            .unwrap()
    );
    // The lapse is dated at the deadline, not when the job ran.
    assert_eq!(o["state_detail"]["deadline"], "2026-06-06T15:30:00Z");
    // Accepting a lapsed order is refused, naming the rule.
    let (status, p) = post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R1.3"), "{p}");
    // Running the job again does nothing.
    let before = app.sink.mails.lock().unwrap().len();
    assert!(
        !ciel_server::orders::run_lapse(app.state(), &id)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.sink.mails.lock().unwrap().len(), before);
    app.stop().await;
}

pub async fn staff_back_date_a_paper_signature_received_before_the_deadline(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    first_price_list(&staff).await;
    // A shorter acceptance period for this order only (R1.1): 2 days.
    let (status, o) = draft(
        &staff,
        &org_a,
        json!({"special_conditions": {"order_acceptance_days": 2}, "lines": [backup(10, None)]}),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    let id = o["id"].as_str().unwrap().to_owned();
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"special_conditions": {"order_acceptance_days": 0}, "lines": [backup(10, None)]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("special_conditions.order_acceptance_days"))
    );
    let (_, o) = post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    assert_eq!(o["acceptance_deadline"], "2026-05-09T15:30:00Z");
    // The signed paper arrived on 8 May at 10:00 Paris; staff record it on
    // the 9th at 16:00 Paris (the deadline is 17:30), giving the receipt
    // time: the acceptance is dated at the receipt.
    app.advance(SignedDuration::from_hours(47) - SignedDuration::from_mins(30));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let r = staff
        .client
        .post(staff.url(&format!("/api/v1/orders/{id}/paper-signature")))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", "2026-05-08T10:00:00+02:00")
        .json(&json!({"signed_on": "2026-05-07"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["state_detail"]["acceptance"]["by"], "paper");
    assert_eq!(
        o["state_detail"]["acceptance"]["received_at"],
        "2026-05-08T08:00:00Z"
    );
    // Past the deadline, the lapse job leaves the accepted order alone.
    app.advance(SignedDuration::from_hours(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, o) = staff.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["state"], "accepted");
    // Without the receipt time, a signature recorded now is too late.
    let (_, o) = draft(
        &staff,
        &org_a,
        json!({"special_conditions": {"order_acceptance_days": 1}, "lines": [backup(10, None)]}),
    )
    .await;
    let id2 = o["id"].as_str().unwrap().to_owned();
    let (_, sent2) = post(&staff, &format!("/api/v1/orders/{id2}/send"), None).await;
    let deadline2: jiff::Timestamp = sent2["acceptance_deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.advance(SignedDuration::from_hours(25));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let (status, p) = post(
        &staff,
        &format!("/api/v1/orders/{id2}/paper-signature"),
        Some(json!({"signed_on": "2026-05-09"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    // The lapse job has run; then the post room finds the signed order,
    // received an hour before the deadline: staff record its receipt time and
    // the lapse is undone (R1.3: the client accepted in time).
    let mut state = Value::Null;
    for _ in 0..250 {
        state = staff.get_json(&format!("/api/v1/orders/{id2}")).await.1["state"].clone();
        if state == "lapsed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state, "lapsed");
    let received = (deadline2 - SignedDuration::from_hours(1)).to_string();
    let r = staff
        .client
        .post(staff.url(&format!("/api/v1/orders/{id2}/paper-signature")))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", received.as_str())
        .json(&json!({"signed_on": "2026-05-09"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["state"], "accepted", "{o}");
    assert_eq!(o["state_detail"]["acceptance"]["received_at"], received);
    app.stop().await;
}

pub async fn price_changes_are_notified_and_options_take_the_request_day_tariff(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    first_price_list(&staff).await;
    // Clients only read price lists.
    let (status, _) = post(
        &admin_a,
        "/api/v1/price-lists",
        Some(json!({"name": "x", "effective_from": "2027-01-01", "prices": prices("0")})),
    )
    .await;
    assert_eq!(status, 403);
    // Notified now (7 May 17:30 Paris): 6 June is less than 30 days away (R2.2).
    let (status, p) = post(
        &staff,
        "/api/v1/price-lists",
        Some(
            json!({"name": "Tarif juin", "effective_from": "2026-06-06", "prices": prices("0.06")}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["code"], "notice_too_late");
    assert_eq!(p["field"], "effective_from");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("R2.2") && detail.contains("2026-06-07"),
        "{detail}"
    );
    let (_, lists) = staff.get_json("/api/v1/price-lists").await;
    assert_eq!(
        lists["items"].as_array().unwrap().len(),
        2,
        "nothing written: the demo tariff and this year's list only"
    );
    // 7 June is allowed: every client Administrator gets the notice.
    let (status, p) = post(
        &staff,
        "/api/v1/price-lists",
        Some(
            json!({"name": "Tarif juin", "effective_from": "2026-06-07", "prices": prices("0.06")}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["changed"], json!(["backup.storage_gb"]));
    assert!(p["notices"].as_u64().unwrap() >= 2, "{p}");
    assert!(p["price_list"]["notified_at"].is_string());
    for admin in [ADMIN_A, ADMIN_B] {
        let m = mail_with(&app, admin, "backup.storage_gb").await;
        assert!(m.contains("07/06/2026"), "{m}");
    }

    // A running order of A.
    let id = draft_ok(&staff, &org_a).await;
    post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    let (status, _) = post(&staff, &format!("/api/v1/orders/{id}/validate"), None).await;
    assert_eq!(status, 200);
    // On 10 June, options whose written requests were received on 5 and on
    // 8 June: the tariff of the request's day (R1.5), not of the order's.
    app.advance(SignedDuration::from_hours(34 * 24));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    for (received, price) in [("2026-06-05T10:00:00Z", "5"), ("2026-06-08T10:00:00Z", "6")] {
        let (status, o) = draft(
            &staff,
            &org_a,
            json!({"kind": "amendment", "amends": id, "written_request_received_at": received,
                   "lines": [backup(100, None)]}),
        )
        .await;
        assert_eq!(status, 201, "{o}");
        assert_eq!(o["lines"][0]["unit_price"], price, "request of {received}");
        assert_eq!(o["order_date"], "2026-06-10");
    }
    // An amendment cannot carry immutability (R9.4), nor lack its request date.
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"kind": "amendment", "amends": id, "written_request_received_at": "2026-06-08T10:00:00Z",
               "lines": [backup(100, Some("P1M"))]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("lines[0].item.immutability"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R9.4"), "{p}");
    let (status, p) = draft(
        &staff,
        &org_a,
        json!({"kind": "amendment", "amends": id, "lines": [backup(100, None)]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("written_request_received_at"))
    );
    app.stop().await;
}

pub async fn orders_of_another_organisation_are_not_found(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org_b = org_of(&admin_b).await;
    first_price_list(&staff).await;
    let id = draft_ok(&staff, &org_b).await;
    post(&staff, &format!("/api/v1/orders/{id}/send"), None).await;
    assert_eq!(
        admin_a.get_json(&format!("/api/v1/orders/{id}")).await.0,
        404
    );
    assert_eq!(
        admin_a
            .get_json(&format!("/api/v1/organizations/{org_b}/orders"))
            .await
            .0,
        404
    );
    let (status, _) = post(&admin_a, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!(status, 404);
    // B's order is untouched and B can accept it.
    let (status, o) = post(&admin_b, &format!("/api/v1/orders/{id}/accept"), None).await;
    assert_eq!((status, o["state"].as_str()), (200, Some("accepted")));
    app.stop().await;
}

pub async fn the_portal_shows_orders_and_runs_their_steps(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    first_price_list(&staff).await;
    let id = draft_ok(&staff, &org_a).await;
    // The back office lists the client's orders and sends the draft.
    let page = staff
        .get(&format!("/back-office/organizations/{org_a}/orders"))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&id));
    let r = staff
        .form(&format!("/back-office/orders/{id}/send"), &[])
        .await;
    assert_eq!(r.status(), 303);
    // The client sees it with its deadline and accepts it.
    let page = admin_a.get("/espace-client/orders").await;
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(
        text.contains(&id) && text.contains("06/06/2026 17:30"),
        "{text}"
    );
    let page = admin_a
        .get(&format!("/espace-client/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/espace-client/orders/{id}/accept")));
    let r = admin_a
        .form(&format!("/espace-client/orders/{id}/accept"), &[])
        .await;
    assert_eq!(r.status(), 303);
    // Accepting twice shows the rule next to the page, with a 409.
    let r = admin_a
        .form(&format!("/espace-client/orders/{id}/accept"), &[])
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("R1.3"));
    // Staff refuse without a reason: 422 on the page; then validate.
    let r = staff
        .form(
            &format!("/back-office/orders/{id}/refuse"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = staff
        .form(&format!("/back-office/orders/{id}/validate"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let page = staff
        .get(&format!("/back-office/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Validé") || page.contains("Validated"),
        "{page}"
    );
    // The client declines another order from its page.
    let other = draft_ok(&staff, &org_a).await;
    staff
        .form(&format!("/back-office/orders/{other}/send"), &[])
        .await;
    let r = admin_a
        .form(
            &format!("/espace-client/orders/{other}/decline"),
            &[("reason", "trop cher")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = admin_a
        .get(&format!("/espace-client/orders/{other}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("trop cher"), "{page}");
    // A form without its CSRF token is refused.
    let r = admin_a
        .client
        .post(admin_a.url(&format!("/espace-client/orders/{id}/accept")))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}
