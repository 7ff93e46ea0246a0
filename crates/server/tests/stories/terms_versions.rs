//! Terms versions over running orders (issue 4, items 6 and 9; R1.2, CG
//! 2.4), through HTTP: publication and its notice to the clients with
//! running orders, the application 30 days later driven by the clock and the
//! `terms.apply` job, an objection holding the old version until the
//! order's renewal, a late objection refused, and the order saying why.

use crate::orders::{first_price_list, validated_order};
use crate::support::*;
use ciel_catalog::service::{ServiceEvent, ServiceParams, ServiceState, apply};
use ciel_store::{Actor, Scope, services, terms_versions};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const V2: &str = "cgv-csp-v2.0-20260601";

/// The embedded document as a new version: new id, effective 1 June 2026,
/// orders to accept within 20 days instead of 30.
pub fn v2_toml() -> String {
    let embedded = ciel_terms::embedded();
    ciel_terms::EMBEDDED_TOML
        .replacen(
            &format!("id = \"{}\"", embedded.version.id),
            &format!("id = \"{V2}\""),
            1,
        )
        .replacen(
            &format!("effective_date = \"{}\"", embedded.version.effective_date),
            "effective_date = \"2026-06-01\"",
            1,
        )
        .replacen(
            "order_acceptance_days = { value = 30",
            "order_acceptance_days = { value = 20",
            1,
        )
}

/// The service of the order's first line (created at validation),
/// provisioned now with a commitment of `months` instead of the line's, so
/// the order has a renewal day soon (a fixture written through the store).
async fn provision(app: &TestApp, order: &Value, months: u32) {
    let state = app.state();
    let now = app.now();
    let params = ServiceParams::from_terms(ciel_terms::embedded()).unwrap();
    let provisioned = apply(
        &ServiceState::ordered(months).unwrap(),
        &ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: vec![],
        },
        now,
        &params,
    )
    .unwrap();
    let ServiceState::Provisioned(s) = &provisioned else {
        panic!("provisioned")
    };
    let actor = Actor::system("story", now);
    let mut tx = state.store().begin().await.unwrap();
    let line = order["lines"][0]["id"].as_str().unwrap();
    let row = services::of_order(&mut *tx, &Scope::Staff, order["id"].as_str().unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.order_line_id == line)
        .expect("validation created the line's service");
    services::apply_step(
        &mut tx,
        &actor,
        &row,
        services::Step {
            from_version: row.version,
            state: "provisioned",
            state_json: serde_json::to_string(&provisioned).unwrap(),
            start_date: Some(s.start().to_string()),
            term_last_day: Some(s.term_last_day.to_string()),
            next_due_at: None,
            action: "service.provision",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Waits (bounded) until the job recorded an application for the order.
async fn applied(app: &TestApp, order: &str) -> Vec<terms_versions::ApplicationRow> {
    for _ in 0..250 {
        let rows = terms_versions::applications_of(app.state().store().db(), &Scope::Staff, order)
            .await
            .unwrap();
        if !rows.is_empty() {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no terms application recorded for {order} within 5 s");
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub async fn a_new_version_applies_after_30_days_unless_objected(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let support = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user_a = app.login(USER_A, DEMO_PASSWORD).await;
    // The OpenAPI document describes the routes and the order's new part.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/v1/terms/versions", "get"),
        ("/api/v1/terms/versions", "post"),
        ("/api/v1/orders/{order_id}/terms-objections", "post"),
    ] {
        assert_eq!(doc["paths"][path][method]["tags"][0], "terms", "{path}");
    }
    for schema in [
        "GoverningTermsView",
        "PendingVersionView",
        "PublishTermsRequest",
        "ObjectionView",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    first_price_list(&staff).await;
    let o1 = validated_order(&staff, &admin_a).await;
    let o2 = validated_order(&staff, &admin_a).await;
    let (id1, id2) = (o1["id"].as_str().unwrap(), o2["id"].as_str().unwrap());
    // o2's service is provisioned on 7 May for 3 months: it renews on 7 August.
    provision(&app, &o2, 3).await;

    // Only staff administrators publish; a bad document names its TOML path.
    let (status, _) = support
        .api(
            Method::POST,
            "/api/v1/terms/versions",
            Some(json!({"toml": v2_toml()})),
        )
        .await;
    assert_eq!(status, 403);
    let bad = v2_toml().replacen(
        "order_acceptance_days = { value = 20",
        "order_acceptance_days = { value = \"x\"",
        1,
    );
    let (status, p) = staff
        .api(
            Method::POST,
            "/api/v1/terms/versions",
            Some(json!({"toml": bad})),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("invalid_terms")),
        "{p}"
    );
    assert_eq!(p["field"], "contract.order_acceptance_days.value", "{p}");
    let (status, p) = staff
        .api(
            Method::POST,
            "/api/v1/terms/versions",
            Some(json!({"toml": ciel_terms::EMBEDDED_TOML})),
        )
        .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (409, Some("version.id")),
        "{p}"
    );

    // Published on 7 May at 17:30 Paris: the 30th day is 6 June, it applies
    // to running orders on 7 June at 00:00 Paris.
    let (status, v) = staff
        .api(
            Method::POST,
            "/api/v1/terms/versions",
            Some(json!({"toml": v2_toml()})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["version"]["id"], V2);
    assert_eq!(
        v["version"]["applies_to_running_from"],
        "2026-06-06T22:00:00Z"
    );
    assert_eq!(v["notices"], 1, "only organisation A has running orders");
    assert!(
        v["changes"].as_array().unwrap().iter().any(|c| c
            .as_str()
            .unwrap()
            .starts_with("contract.order_acceptance_days.value: 30 -> 20")),
        "{v}"
    );
    let mail = mail_with(&app, ADMIN_A, V2).await;
    assert!(mail.contains("07/06/2026"), "{mail}");
    assert!(mail.contains("2.4"), "{mail}");
    assert!(mail.contains("order_acceptance_days"), "{mail}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        app.sink
            .to(ADMIN_B)
            .iter()
            .all(|m| !crate::smtp::decode_qp(&m.data).contains(V2)),
        "no running order, no notice"
    );
    let (_, list) = admin_a.get_json("/api/v1/terms/versions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list["items"][0]["embedded"], true);

    // The order says which version governs it and what is coming.
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id1}")).await;
    let g = &o["governing_terms"];
    assert_eq!(g["version"], "cgv-csp-v1.0-20250107", "{o}");
    assert_eq!(g["reason"], "pinned_at_order_date");
    assert_eq!(g["pending"][0]["version"], V2);
    assert_eq!(
        g["pending"][0]["objection_deadline"],
        "2026-06-06T22:00:00Z"
    );
    assert!(
        g["explanation_fr"]
            .as_str()
            .unwrap()
            .contains("CG 2.4 (R1.2)"),
        "{g}"
    );

    // The portal shows it too, with the objection form for the
    // Administrator; the back office lists the versions.
    let page = admin_a
        .get(&format!("/espace-client/orders/{id1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("cgv-csp-v1.0-20250107") && page.contains(V2),
        "{page}"
    );
    assert!(
        page.contains(&format!("/espace-client/orders/{id1}/object")),
        "{page}"
    );
    let page = staff.get("/back-office/terms").await.text().await.unwrap();
    assert!(page.contains(V2), "{page}");
    let r = staff
        .form("/back-office/terms", &[("toml", "[version]")])
        .await;
    assert_eq!(r.status(), 422);

    // The client's Administrator objects for o2; a plain user cannot.
    let path2 = format!("/api/v1/orders/{id2}/terms-objections");
    let (status, _) = user_a
        .api(Method::POST, &path2, Some(json!({"version": V2})))
        .await;
    assert_eq!(status, 403);
    let (status, p) = admin_a
        .api(Method::POST, &path2, Some(json!({"version": "nope"})))
        .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("version")), "{p}");
    app.advance(SignedDuration::from_hours(1));
    let (status, obj) = admin_a
        .api(Method::POST, &path2, Some(json!({"version": V2})))
        .await;
    assert_eq!(status, 201, "{obj}");
    assert_eq!(obj["received_at"], "2026-05-07T16:30:00Z");
    let (status, p) = admin_a
        .api(Method::POST, &path2, Some(json!({"version": V2})))
        .await;
    assert_eq!((status, p["code"].as_str()), (409, Some("conflict")), "{p}");

    // Still day 30 (6 June 23:59 Paris): nothing applies yet.
    app.clock.set(at("2026-06-06T21:59:00Z"));
    // (sessions expire while the clock moves: log in again)
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id1}")).await;
    assert_eq!(o["governing_terms"]["version"], "cgv-csp-v1.0-20250107");
    assert!(
        terms_versions::applications_of(app.state().store().db(), &Scope::Staff, id1)
            .await
            .unwrap()
            .is_empty()
    );
    // 7 June 00:00 Paris: the job applies v2 to o1, not to o2.
    app.clock.set(at("2026-06-06T22:00:00Z"));
    let rows = applied(&app, id1).await;
    assert_eq!(
        (rows[0].version_id.as_str(), rows[0].reason.as_str()),
        (V2, "applied_after_notice")
    );
    assert_eq!(rows[0].applied_at, at("2026-06-06T22:00:00Z"));
    assert_eq!(
        ciel_server::terms_versions::run_apply(app.state())
            .await
            .unwrap(),
        0,
        "the job runs twice, records once"
    );
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id1}")).await;
    let g = &o["governing_terms"];
    assert_eq!(
        (g["version"].as_str(), g["reason"].as_str()),
        (Some(V2), Some("applied_after_notice")),
        "{g}"
    );
    assert!(
        g["explanation_en"]
            .as_str()
            .unwrap()
            .contains("without objection"),
        "{g}"
    );
    // o1's services now follow v2's parameters; o2's stay on v1.
    let terms_of_services = |order: &str| {
        let order = order.to_owned();
        let state = app.state().clone();
        async move {
            services::of_order(state.store().db(), &Scope::Staff, &order)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.terms_version)
                .collect::<Vec<_>>()
        }
    };
    let v1 = terms_of_services(id1).await;
    assert!(!v1.is_empty() && v1.iter().all(|v| v == V2), "{v1:?}");
    let v2 = terms_of_services(id2).await;
    assert!(
        !v2.is_empty() && v2.iter().all(|v| v == "cgv-csp-v1.0-20250107"),
        "{v2:?}"
    );
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id2}")).await;
    let g = &o["governing_terms"];
    assert_eq!(g["version"], "cgv-csp-v1.0-20250107", "{g}");
    assert_eq!(g["reason"], "objection_hold");
    assert_eq!(g["hold_until"], "2026-08-07");
    assert!(
        g["explanation_en"]
            .as_str()
            .unwrap()
            .contains("objection received on 2026-05-07"),
        "{g}"
    );
    assert!(
        terms_versions::applications_of(app.state().store().db(), &Scope::Staff, id2)
            .await
            .unwrap()
            .is_empty()
    );

    // An objection after the delay is refused, naming R1.2, also when staff
    // date the letter's receipt on day 31; a receipt before the notice is
    // invalid.
    let path1 = format!("/api/v1/orders/{id1}/terms-objections");
    let (status, p) = admin_a
        .api(Method::POST, &path1, Some(json!({"version": V2})))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("R1.2"), "{p}");
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    for (received, status) in [
        ("2026-06-07T00:00:00+02:00", 409),
        ("2026-05-01T10:00:00+02:00", 422),
    ] {
        let r = staff
            .client
            .post(staff.url(&path1))
            .header("x-csrf-token", &staff.csrf)
            .header("ciel-occurred-at", received)
            .json(&json!({"version": V2}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{received}");
    }

    // 7 August 00:00 Paris: o2 renews and accepts the version then in force.
    app.clock.set(at("2026-08-06T22:00:00Z"));
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let rows = applied(&app, id2).await;
    assert_eq!(
        (rows[0].version_id.as_str(), rows[0].reason.as_str()),
        (V2, "accepted_at_renewal")
    );
    let (_, o) = admin_a.get_json(&format!("/api/v1/orders/{id2}")).await;
    let g = &o["governing_terms"];
    assert_eq!(
        (g["version"].as_str(), g["reason"].as_str()),
        (Some(V2), Some("accepted_at_renewal")),
        "{g}"
    );
    assert!(
        g["explanation_fr"]
            .as_str()
            .unwrap()
            .contains("renouvellement le 2026-08-07"),
        "{g}"
    );

    // A new order is pinned to v2 from its effective date.
    let o3 = validated_order(&staff, &admin_a).await;
    assert_eq!(o3["terms_version"], V2);
    app.stop().await;
}
