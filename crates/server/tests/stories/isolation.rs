//! Tenant isolation: a client user of organisation A, given organisation
//! B's identifiers, gets 404 everywhere and never B's data. The API routes
//! are enumerated from the OpenAPI document built from the code, so a new
//! route cannot be forgotten here.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

struct Other {
    org: String,
    user: String,
    token: String,
    order: String,
    service: String,
    book: String,
    ticket: String,
    episode: String,
    statement: String,
    datacenter_episode: String,
    activation: String,
    designation: String,
    window: String,
    invoice: String,
    payment: String,
    dispute: String,
    run: String,
    colo: crate::colocation_ops::OtherColo,
    secrets: Vec<String>,
}

/// An invoice of B and a billing run, written through the store.
async fn invoice_and_run(app: &TestApp, org: &str) -> (String, String) {
    let st = app.state();
    let mut tx = st.store().begin().await.unwrap();
    let actor = ciel_store::Actor::system("isolation", app.now());
    let inv = ciel_store::invoices::create(
        &mut tx,
        &actor,
        &ciel_domain::Id::from_raw(org.to_owned()),
        "F2026-B00001",
        "2026-05-01T08:00:00Z".parse().unwrap(),
        "2026-05-31T08:00:00Z".parse().unwrap(),
        "98.76",
    )
    .await
    .unwrap();
    let run = ciel_store::billing_runs::create(&mut tx, &actor, "2026-04")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (inv.id.to_string(), run.id.to_string())
}

/// A statement of B's service with a proposed credit, written through the
/// store (B has no cloud service for the job to compute).
async fn statement_of(app: &TestApp, org: &str, service: &str) -> String {
    use ciel_store::statements::{self, Figures, Filter};
    let st = app.state();
    let mut tx = st.store().begin().await.unwrap();
    let f = Figures {
        org_id: ciel_domain::Id::from_raw(org.to_owned()),
        service_id: service.to_owned(),
        month: "2026-04".into(),
        terms_version: ciel_terms::embedded().version.id.clone(),
        offer: "mono_site".into(),
        monthly_fee: "100".into(),
        month_minutes: 43_200,
        unavailable_minutes: 60,
        rate: "99.8611".into(),
        guaranteed_rate: "99.90".into(),
        penalty_tier: None,
        penalty_percent: "5".into(),
        raw_penalty: "5.00".into(),
        caps_applied: "[]".into(),
        pra_penalties: "[]".into(),
        combination_rule: "R7.3".into(),
        credit: "5.00".into(),
        statement_json: "{}".into(),
        evidence_json: "{}".into(),
        explanation_json: "{\"steps\":[]}".into(),
        correctable_until: app.now(),
        review: "proposed".into(),
    };
    statements::upsert_many(&mut tx, &ciel_store::Actor::system("test", app.now()), &[f])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let filter = Filter {
        service_id: Some(service.to_owned()),
        ..Filter::default()
    };
    statements::list(st.store().db(), &ciel_store::Scope::Staff, &filter, None, 1)
        .await
        .unwrap()
        .items[0]
        .id
        .to_string()
}

/// Organisation B's identifiers, read by B's own Administrator.
async fn other_org(app: &TestApp) -> Other {
    let b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (_, me) = b.get_json("/api/v1/me").await;
    let org = me["org_id"].as_str().unwrap().to_owned();
    let (_, users) = b
        .get_json(&format!("/api/v1/organizations/{org}/users"))
        .await;
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] != me["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, tok) = b
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "b-monitoring"})),
        )
        .await;
    let mut secrets = vec![
        org.clone(),
        user.clone(),
        "transports-garonne".into(),
        "Transports Garonne".into(),
    ];
    let token = tok["token"]["id"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    // An order of B, sent: staff draft it at the demo tariff.
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let (status, order) = staff
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/orders"),
            Some(json!({"lines": [{"item": {"kind": "support", "level": "standard"}}]})),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();
    let (status, _) = staff
        .api(Method::POST, &format!("/api/v1/orders/{order}/send"), None)
        .await;
    assert_eq!(status, 200);
    secrets.push(order.clone());
    // A service of B: a second order, accepted by B and validated.
    let (_, second) = staff
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/orders"),
            Some(json!({"lines": [{"item": {"kind": "support", "level": "standard"}}]})),
        )
        .await;
    let second = second["id"].as_str().unwrap().to_owned();
    staff
        .api(Method::POST, &format!("/api/v1/orders/{second}/send"), None)
        .await;
    let (status, _) = b
        .api(
            Method::POST,
            &format!("/api/v1/orders/{second}/accept"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = staff
        .api(
            Method::POST,
            &format!("/api/v1/orders/{second}/validate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = b
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let service = list["items"][0]["id"].as_str().unwrap().to_owned();
    secrets.push(service.clone());
    // An hour book of B, bought on a second order.
    crate::hour_books::sell_hour_book(&staff, &b, 3).await;
    let (_, books) = b
        .get_json(&format!("/api/v1/organizations/{org}/hour-books"))
        .await;
    let book = books["items"][0]["id"].as_str().unwrap().to_owned();
    secrets.push(book.clone());
    // A ticket of B on its service.
    let (status, t) = b
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/tickets"),
            Some(json!({"service_ids": [service], "criticality": "C3", "description": "B"})),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    let ticket = t["ticket"]["id"].as_str().unwrap().to_owned();
    secrets.push(ticket.clone());
    secrets.push(t["ticket"]["reference"].as_str().unwrap().to_owned());
    // An episode on B's service, pushed by monitoring (staff).
    let r = staff
        .client
        .post(app.url("/api/v1/episodes"))
        .header("x-csrf-token", &staff.csrf)
        .header("idempotency-key", "isolation-1")
        .json(&json!({"kind": "vcenter", "service_id": service, "start": "2026-05-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let episode = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(episode.clone());
    let statement = statement_of(app, &org, &service).await;
    secrets.push(statement.clone());
    // A datacenter episode (provider data: no organisation reads it).
    let r = staff
        .client
        .post(app.url("/api/v1/datacenter-episodes"))
        .header("x-csrf-token", &staff.csrf)
        .header("idempotency-key", "isolation-dc-1")
        .json(&json!({"datacenter": "PA3", "kind": "power", "start": "2026-05-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let datacenter_episode = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(datacenter_episode.clone());
    // A PRA failover of B, triggered by B's Administrator.
    let (pra_order, _) = crate::pra::protected_machines(&staff, &b, &org, &[("b-db", "c1")]).await;
    // B's Administrator is designated for failovers (R10.2).
    let designation = crate::pra::designate(&b, &org, ADMIN_B, &["trigger_failover"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, a) = post(
        &b,
        &format!("/api/v1/orders/{pra_order}/pra-activations"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let activation = a["id"].as_str().unwrap().to_owned();
    secrets.push(activation.clone());
    // A maintenance window on B's service (staff).
    let (status, w) = staff
        .api(
            Method::POST,
            "/api/v1/maintenance-windows",
            Some(json!({"title": "Travaux B", "start": "2030-01-01T00:00:00Z", "expected_minutes": 60,
                "impact": "x", "reason": "x", "contact": "x", "services": [service]})),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    let window = w["id"].as_str().unwrap().to_owned();
    secrets.push(window.clone());
    let (invoice, run) = invoice_and_run(app, &org).await;
    secrets.push(invoice.clone());
    secrets.push("F2026-B00001".into());
    // An invoice of B (written as the billing run would), a payment staff
    // recorded on it and B's dispute of it.
    let disputed = {
        let st = app.state();
        let mut tx = st.store().begin().await.unwrap();
        let inv = ciel_store::invoices::create(
            &mut tx,
            &ciel_store::Actor::system("test", app.now()),
            &ciel_domain::Id::from_raw(org.clone()),
            "F2026-B-000001",
            app.now(),
            app.now(),
            "100.00",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        inv.id.to_string()
    };
    secrets.push(disputed.clone());
    let (status, pay) = staff
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/payments"),
            Some(json!({"amount": "40.00", "method": "transfer", "reference": "VIR-B"})),
        )
        .await;
    assert_eq!(status, 201, "{pay}");
    let payment = pay["payment"]["id"].as_str().unwrap().to_owned();
    secrets.push(payment.clone());
    let (status, d) = b
        .api(
            Method::POST,
            &format!("/api/v1/invoices/{disputed}/disputes"),
            Some(json!({"reason": "B conteste"})),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    let dispute = d["id"].as_str().unwrap().to_owned();
    secrets.push(dispute.clone());
    let colo = crate::colocation_ops::other_colo(app, &staff, &b, &org, &service).await;
    secrets.extend(colo.ids());
    Other {
        colo,
        org,
        user,
        token,
        order,
        service,
        book,
        ticket,
        episode,
        statement,
        datacenter_episode,
        activation,
        designation,
        window,
        invoice,
        payment,
        dispute,
        run,
        secrets,
    }
}

/// A valid body for each writing route, so the call reaches the handler.
fn example_body(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("post", "/api/v1/organizations") => {
            Some(json!({"name": "N", "administrator": {"name": "A", "email": "a.b@n.example"}}))
        }
        ("post", "/api/v1/organizations/{org_id}/users") => {
            Some(json!({"name": "Intrus", "email": "intrus.x@atelier-numerique.example"}))
        }
        ("patch", "/api/v1/users/{user_id}") => Some(json!({"name": "Renamed"})),
        ("put", "/api/v1/organizations/{org_id}/billing-profile") => Some(json!({
            "billing_email": "compta.x@atelier-numerique.example",
            "address": {"street_name": "rue X", "post_code": "69002", "town": "Lyon", "country": "FR"},
            "vat_regime": {"kind": "standard"}
        })),
        ("post", "/api/v1/staff") => {
            Some(json!({"name": "S", "email": "s.t@n.example", "role": "support"}))
        }
        ("post", "/api/v1/tokens") => Some(json!({"name": "t"})),
        ("post", "/api/v1/password-reset") => Some(json!({"email": "nobody.x@n.example"})),
        ("post", "/api/v1/price-lists") => Some(json!({
            "name": "Intrus", "effective_from": "2030-01-01",
            "prices": {"support.standard": [{"unit_price": "1"}]}
        })),
        ("post", "/api/v1/organizations/{org_id}/orders") => {
            Some(json!({"lines": [{"item": {"kind": "support", "level": "standard"}}]}))
        }
        ("post", "/api/v1/orders/{order_id}/paper-signature") => {
            Some(json!({"signed_on": "2026-05-07"}))
        }
        ("post", "/api/v1/orders/{order_id}/refuse") => Some(json!({"reason": "intrusion"})),
        ("post", "/api/v1/hour-books/{book_id}/interventions") => Some(json!({
            "start": "2026-05-07T08:00:00Z", "end": "2026-05-07T09:00:00Z", "description": "intrusion"
        })),
        ("post", "/api/v1/hour-books/{book_id}/overrun-authorisations") => Some(json!({
            "given_by": "intrus", "reference": "none", "max_minutes": 600
        })),
        ("post", "/api/v1/organizations/{org_id}/tickets") => Some(json!({
            "service_ids": ["svc_x"], "criticality": "C1", "description": "intrusion"
        })),
        ("post", "/api/v1/tickets/{ticket_id}/notification") => {
            Some(json!({"description": "intrusion"}))
        }
        ("post", "/api/v1/tickets/{ticket_id}/impact") => Some(json!({"impact": "I1"})),
        ("post", "/api/v1/tickets/{ticket_id}/pause") => {
            Some(json!({"reason": "site_access_request", "request_ref": "intrusion"}))
        }
        ("post", "/api/v1/tickets/{ticket_id}/messages") => Some(json!({"body": "intrusion"})),
        ("post", "/api/v1/tickets/{ticket_id}/cause") => Some(json!({"cause": "abnormal_use"})),
        ("post", "/api/v1/tickets/{ticket_id}/acknowledge")
        | ("post", "/api/v1/tickets/{ticket_id}/resume")
        | ("post", "/api/v1/tickets/{ticket_id}/restore")
        | ("post", "/api/v1/tickets/{ticket_id}/close") => None,
        ("post", "/api/v1/orders/{order_id}/decline") => Some(json!({"reason": "intrusion"})),
        ("post", "/api/v1/services/{service_id}/provision") => Some(json!({})),
        ("put", "/api/v1/services/{service_id}/backup-plan") => Some(json!({
            "frequency": "daily", "backup_type": "full", "retention_days": 30,
            "scopes": ["files"], "veeam_licence": "from_provider"
        })),
        ("post", "/api/v1/services/{service_id}/restore-requests") => {
            Some(json!({"what": "intrusion", "deleted_at": "2026-05-01T00:00:00Z"}))
        }
        ("post", "/api/v1/restore-requests/{request_id}/answer") => {
            Some(json!({"state": "restored"}))
        }
        ("post", "/api/v1/services/{service_id}/regularisations") => {
            Some(json!({"reason": "intrusion"}))
        }
        ("post", "/api/v1/organizations/{org_id}/pra-designations") => {
            Some(json!({"user_id": "usr_x", "actions": ["trigger_failover"]}))
        }
        ("post", "/api/v1/services/{service_id}/pra-recommendation") => {
            Some(json!({"criticality": "c1"}))
        }
        ("post", "/api/v1/orders/{order_id}/pra-tests") => {
            Some(json!({"kind": "simple", "starts_at": "2026-06-01T08:00:00Z"}))
        }
        ("post", "/api/v1/services/{service_id}/contest")
        | ("post", "/api/v1/services/{service_id}/resolve-contest")
        | ("post", "/api/v1/services/{service_id}/reopen") => Some(json!({"text": "intrusion"})),
        ("post", "/api/v1/services/{service_id}/notice") => {
            Some(json!({"by": "client", "received_on": "2026-05-07"}))
        }
        ("post", "/api/v1/services/{service_id}/terminate-early")
        | ("post", "/api/v1/services/{service_id}/terminate-for-cause") => {
            Some(json!({"last_day": "2026-06-30"}))
        }
        ("post", "/api/v1/services/{service_id}/suspend") => Some(json!({"reason": "hacking"})),
        ("post", "/api/v1/services/{service_id}/traffic") => {
            Some(json!({"month": "2026-05-01", "bytes": 1}))
        }
        ("post", "/api/v1/services/{service_id}/product-return") => {
            Some(json!({"product": "x", "outcome": "lost"}))
        }
        ("post", "/api/v1/episodes") => Some(json!({
            "kind": "vcenter", "cluster_id": "par1-c01", "start": "2026-05-01T00:00:00Z"
        })),
        ("post", "/api/v1/episodes/bulk") => Some(json!({"episodes": []})),
        ("post", "/api/v1/episodes/alertmanager") => Some(json!({"alerts": []})),
        ("post", "/api/v1/episodes/{episode_id}/close") => {
            Some(json!({"end": "2026-05-01T01:00:00Z"}))
        }
        ("post", "/api/v1/episodes/{episode_id}/correct") => {
            Some(json!({"end": "2026-05-01T02:00:00Z"}))
        }
        ("post", "/api/v1/episodes/{episode_id}/exclude") => {
            Some(json!({"reason": "force_majeure", "note": "intrusion"}))
        }
        ("post", "/api/v1/billing/runs") => Some(json!({"period": "2026-04"})),
        ("post", "/api/v1/invoices/{invoice_id}/credit-notes") => {
            Some(json!({"reason": "intrusion"}))
        }
        ("post", "/api/v1/sla/statements/run") => Some(json!({"month": "2026-04"})),
        ("post", "/api/v1/sla/statements/{statement_id}/review") => {
            Some(json!({"decision": "approve"}))
        }
        ("post", "/api/v1/datacenter-episodes") => Some(json!({
            "datacenter": "PA3", "kind": "network", "start": "2026-05-01T00:00:00Z"
        })),
        ("post", "/api/v1/datacenter-episodes/bulk") => Some(json!({"episodes": []})),
        ("post", "/api/v1/datacenter-episodes/{datacenter_episode_id}/correct") => {
            Some(json!({"end": "2026-05-02T00:00:00Z"}))
        }
        ("post", "/api/v1/datacenter-episodes/{datacenter_episode_id}/exclude") => {
            Some(json!({"reason": "force_majeure", "note": "intrusion"}))
        }
        ("post", "/api/v1/usage/bandwidth")
        | ("post", "/api/v1/usage/power")
        | ("post", "/api/v1/usage/storage")
        | ("post", "/api/v1/usage/traffic") => Some(json!({"readings": []})),
        ("post", "/api/v1/usage/close") => Some(json!({"month": "2026-04"})),
        ("post", "/api/v1/backup/results") => Some(json!({"results": []})),
        ("post", "/api/v1/pra/replication") => Some(json!({"statuses": []})),
        ("post", "/api/v1/clusters") => Some(json!({"id": "intrus", "label": "intrus"})),
        ("put", "/api/v1/services/{service_id}/cluster") => Some(json!({"cluster_id": null})),
        ("post", "/api/v1/maintenance-windows") => Some(json!({
            "title": "intrus", "start": "2030-01-01T00:00:00Z", "expected_minutes": 60,
            "impact": "x", "reason": "x", "contact": "x", "services": ["svc_x"]
        })),
        ("post", "/api/v1/orders/{order_id}/pra-activations") => Some(json!({})),
        ("post", "/api/v1/pra-activations/{activation_id}/restorations") => Some(json!({
            "service_id": "svc_x", "reachable_at": "2026-05-07T15:00:00Z"
        })),
        ("post", "/api/v1/pra-activations/{activation_id}/close") => Some(json!({})),
        ("patch", "/api/v1/maintenance-windows/{window_id}") => {
            Some(json!({"sequence": 0, "impact": "intrus"}))
        }
        ("post", "/api/v1/maintenance-windows/{window_id}/cancel") => {
            Some(json!({"sequence": 0, "reason": "intrus"}))
        }
        ("post", "/api/v1/organizations/{org_id}/payments") => Some(json!({
            "amount": "1.00", "method": "transfer", "reference": "intrus"
        })),
        ("post", "/api/v1/payments/import") => Some(json!({
            "file_name": "intrus.csv",
            "content": "type,org_id,amount,date,method,reference,excess,reason_code\n"
        })),
        ("post", "/api/v1/payments/{payment_id}/rejection") => Some(json!({"reason_code": "AM04"})),
        ("post", "/api/v1/organizations/{org_id}/refunds") => {
            Some(json!({"amount": "1.00", "reference": "intrus"}))
        }
        ("post", "/api/v1/sepa-batches") => Some(json!({"collection_date": "2030-01-01"})),
        ("post", "/api/v1/invoices/{invoice_id}/sanction") => Some(json!({"sanction": "suspend"})),
        ("post", "/api/v1/invoices/{invoice_id}/disputes") => Some(json!({"reason": "intrus"})),
        ("post", "/api/v1/disputes/{dispute_id}/answer") => {
            Some(json!({"decision": "accepted", "answer": "intrus"}))
        }
        ("post", "/api/v1/dunning/run") => None,
        ("post", "/api/v1/backup/regularisations/pass") => None,
        ("post", p)
            if p.contains("colocation")
                || p.contains("remote-hands")
                || p.contains("decommissioning") =>
        {
            crate::colocation_ops::example_body(p)
        }
        ("post", "/api/v1/terms/versions") => Some(json!({"toml": ciel_terms::EMBEDDED_TOML})),
        ("post", "/api/v1/orders/{order_id}/terms-objections") => {
            Some(json!({"version": "cgv-csp-v1.0-20250107"}))
        }
        ("post", "/api/v1/users/{user_id}/invitation")
        | ("post", "/api/v1/orders/{order_id}/send")
        | ("post", "/api/v1/orders/{order_id}/accept")
        | ("post", "/api/v1/orders/{order_id}/validate")
        | ("post", "/api/v1/services/{service_id}/first-use")
        | ("post", "/api/v1/services/{service_id}/reversibility")
        | ("post", "/api/v1/services/pass")
        | ("post", "/api/v1/sla/statements/{statement_id}/recompute")
        | ("post", "/api/v1/organizations/{org_id}/calendar-feed")
        | ("post", "/api/v1/usage/import")
        | ("post", "/api/v1/pra-designations/{designation_id}/revoke")
        | ("post", "/api/v1/services/{service_id}/pra-refusal")
        | ("post", "/api/v1/regularisations/{regularisation_id}/signature")
        | ("delete", "/api/v1/tokens/{token_id}") => None,
        // Calculators read no stored data: any body shows they leak nothing.
        ("post", p) if p.starts_with("/api/v1/calc/") => Some(json!({})),
        _ => panic!("no example body for {method} {path}: add one to isolation.rs"),
    }
}

pub async fn no_api_route_leaks_another_organisation(b: Backend) {
    let app = TestApp::start(b).await;
    let other = other_org(&app).await;
    let a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "the OpenAPI document lists the routes");
    let mut checked = 0;
    for (template, ops) in paths {
        for method in ["get", "post", "patch", "put", "delete"] {
            if ops.get(method).is_none() {
                continue;
            }
            let path = template
                .replace("{org_id}", &other.org)
                .replace("{user_id}", &other.user)
                .replace("{token_id}", &other.token)
                .replace("{order_id}", &other.order)
                .replace("{service_id}", &other.service)
                .replace("{book_id}", &other.book)
                .replace("{ticket_id}", &other.ticket)
                .replace("{episode_id}", &other.episode)
                .replace("{statement_id}", &other.statement)
                .replace("{datacenter_episode_id}", &other.datacenter_episode)
                // A has no colocation: no datacenter's figure is A's.
                .replace("{datacenter}", "PA3")
                .replace("{activation_id}", &other.activation)
                .replace("{window_id}", &other.window)
                .replace("{invoice_id}", &other.invoice)
                .replace("{payment_id}", &other.payment)
                .replace("{dispute_id}", &other.dispute)
                // Batches are the provider's files: no client reads one.
                .replace("{batch_id}", "sdd_00000000000000000000000000")
                .replace("{run_id}", &other.run)
                .replace("{person_id}", &other.colo.person)
                .replace("{request_id}", &other.colo.request)
                .replace("{badge_id}", &other.colo.badge)
                .replace("{deadline_id}", &other.colo.deadline)
                .replace("{remote_hands_id}", &other.colo.remote_hands)
                .replace("{designation_id}", &other.designation)
                // B has no backup: identifiers that exist nowhere must be
                // as not found as B's would be ({request_id} is already B's
                // colocation request, not found in a restore route too).
                .replace("{regularisation_id}", "reg_00000000000000000000000000");
            assert!(
                !path.contains('{'),
                "unknown path parameter in {template}: teach isolation.rs its value"
            );
            let body = if method == "get" {
                None
            } else {
                example_body(method, template)
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, value) = a.api(m, &path, body).await;
            let text = value.to_string();
            for s in &other.secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "{method} {template} leaked {s}: {text}"
                );
            }
            assert!(status < 500, "{method} {template}: {status}");
            if template.contains('{') {
                assert_eq!(
                    status, 404,
                    "{method} {template} with B's identifiers: {text}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} operations checked");
    // B's data is untouched: its user was not renamed, its token still works.
    let b_admin = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (_, user) = b_admin
        .get_json(&format!("/api/v1/users/{}", other.user))
        .await;
    assert_ne!(user["name"], "Renamed");
    // B's order is still waiting for B's acceptance.
    let (_, order) = b_admin
        .get_json(&format!("/api/v1/orders/{}", other.order))
        .await;
    assert_eq!(order["state"], "sent");
    // B's service is still awaiting provisioning.
    let (_, service) = b_admin
        .get_json(&format!("/api/v1/services/{}", other.service))
        .await;
    assert_eq!(service["status"], "ordered", "{service}");
    let (_, tokens) = b_admin.get_json("/api/v1/tokens").await;
    assert!(
        tokens["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked_at"].is_null())
    );
    app.stop().await;
}

pub async fn no_page_leaks_another_organisation(b: Backend) {
    let app = TestApp::start(b).await;
    let other = other_org(&app).await;
    let a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = &other.user;
    let gets = [
        format!("/espace-client/users/{user}"),
        format!("/back-office/organizations/{}", other.org),
        format!("/back-office/users/{user}"),
        "/back-office".to_owned(),
        "/back-office/staff".to_owned(),
        "/back-office/audit".to_owned(),
        "/back-office/messages".to_owned(),
        "/back-office/maintenance".to_owned(),
        "/back-office/episodes".to_owned(),
        format!("/espace-client/sla/statements/{}", other.statement),
        format!("/back-office/sla/statements/{}", other.statement),
        "/back-office/sla".to_owned(),
        format!("/espace-client/orders/{}", other.order),
        format!("/back-office/orders/{}", other.order),
        format!("/back-office/organizations/{}/orders", other.org),
        format!("/espace-client/services/{}", other.service),
        format!("/back-office/services/{}", other.service),
        format!("/back-office/organizations/{}/services", other.org),
        format!("/espace-client/hour-books/{}", other.book),
        format!("/back-office/hour-books/{}", other.book),
        format!("/back-office/organizations/{}/hour-books", other.org),
        "/back-office/terms".to_owned(),
        format!("/back-office/organizations/{}/orders/new", other.org),
        "/back-office/price-lists".to_owned(),
        format!("/espace-client/tickets/{}", other.ticket),
        format!("/back-office/tickets/{}", other.ticket),
        "/back-office/tickets".to_owned(),
        format!("/espace-client/services/{}/sla", other.service),
        format!("/back-office/services/{}/sla", other.service),
        "/back-office/colocation".to_owned(),
        "/back-office/colocation/PA3".to_owned(),
        format!("/espace-client/pra-activations/{}", other.activation),
        format!("/back-office/pra-activations/{}", other.activation),
        format!("/back-office/organizations/{}/pra-activations", other.org),
        format!("/espace-client/factures/{}/contestation", other.invoice),
        format!("/back-office/organizations/{}/paiements", other.org),
        "/back-office/paiements".to_owned(),
        format!("/espace-client/factures/{}", other.invoice),
        format!("/espace-client/factures/{}/pdf", other.invoice),
        format!("/back-office/invoices/{}", other.invoice),
        format!("/back-office/invoices/{}/pdf", other.invoice),
        format!("/back-office/billing/runs/{}", other.run),
        "/back-office/billing".to_owned(),
        format!("/espace-client/usage/{}", other.service),
        format!("/back-office/usage/{}", other.service),
        "/back-office/usage/import".to_owned(),
    ];
    for path in &gets {
        let r = a.get(path).await;
        assert_eq!(r.status(), 404, "GET {path}");
        let text = r.text().await.unwrap();
        // The page may repeat the requested path (the language form returns
        // to it); it must show nothing else of B.
        for s in other.secrets.iter().filter(|s| !path.contains(s.as_str())) {
            assert!(!text.contains(s.as_str()), "GET {path} leaked {s}");
        }
    }
    let posts = [
        (
            format!("/espace-client/users/{user}"),
            vec![("name", "Renamed")],
        ),
        (format!("/espace-client/users/{user}/invitation"), vec![]),
        (
            format!("/back-office/organizations/{}/users", other.org),
            vec![("name", "X"), ("email", "x.y@z.example")],
        ),
        (format!("/account/tokens/{}/revoke", other.token), vec![]),
        (
            "/back-office/usage/import".to_owned(),
            vec![("kind", "traffic"), ("csv", "service_id,at,bytes\n")],
        ),
        (
            format!("/espace-client/orders/{}/accept", other.order),
            vec![],
        ),
        (
            format!("/espace-client/orders/{}/decline", other.order),
            vec![],
        ),
        (
            format!("/back-office/orders/{}/validate", other.order),
            vec![],
        ),
        (
            format!("/espace-client/services/{}/contest", other.service),
            vec![("text", "intrusion")],
        ),
        (
            format!("/back-office/services/{}/provision", other.service),
            vec![],
        ),
        (
            format!("/back-office/hour-books/{}/interventions", other.book),
            vec![
                ("start", "2026-05-07T10:00"),
                ("end", "2026-05-07T11:00"),
                ("description", "intrusion"),
            ],
        ),
        (
            format!("/espace-client/orders/{}/object", other.order),
            vec![("version", "cgv-csp-v1.0-20250107")],
        ),
        (
            format!("/back-office/orders/{}/object", other.order),
            vec![("version", "cgv-csp-v1.0-20250107")],
        ),
        ("/back-office/terms".to_owned(), vec![("toml", "[version]")]),
        (
            format!("/espace-client/tickets/{}/messages", other.ticket),
            vec![("body", "intrusion")],
        ),
        (
            format!("/back-office/tickets/{}/close", other.ticket),
            vec![],
        ),
        (
            format!("/back-office/pra-activations/{}/close", other.activation),
            vec![],
        ),
        (
            format!("/back-office/pra/activations/{}/close", other.activation),
            vec![],
        ),
        (
            format!(
                "/espace-client/pra/designations/{}/revoke",
                other.designation
            ),
            vec![],
        ),
        (
            format!("/espace-client/sauvegardes/{}/plan", other.service),
            vec![
                ("frequency", "daily"),
                ("backup_type", "full"),
                ("retention_days", "30"),
                ("scope_files", "1"),
            ],
        ),
        (
            format!("/back-office/organizations/{}/pra-activations", other.org),
            vec![("order_id", other.order.as_str()), ("requester", "x")],
        ),
        (
            format!("/back-office/organizations/{}/orders", other.org),
            vec![("l0_kind", "support"), ("l0_level", "standard")],
        ),
        (
            format!("/espace-client/factures/{}/contestation", other.invoice),
            vec![("reason", "intrusion")],
        ),
        (
            format!("/back-office/organizations/{}/paiements/record", other.org),
            vec![("amount", "1"), ("method", "transfer"), ("reference", "x")],
        ),
        (
            format!("/back-office/paiements/{}/rejet", other.payment),
            vec![("reason_code", "AM04")],
        ),
        (
            format!("/back-office/factures/{}/sanction", other.invoice),
            vec![("sanction", "suspend")],
        ),
        (
            format!("/back-office/litiges/{}/reponse", other.dispute),
            vec![("decision", "accepted"), ("answer", "x")],
        ),
        (
            format!("/back-office/invoices/{}/credit-notes", other.invoice),
            vec![("reason", "intrusion")],
        ),
        (
            "/back-office/billing/runs".to_owned(),
            vec![("period", "2026-04")],
        ),
        (
            "/back-office/price-lists".to_owned(),
            vec![
                ("name", "Intrus"),
                ("effective_from", "2030-01-01"),
                ("prices", "support.standard 1"),
            ],
        ),
    ];
    for (path, fields) in &posts {
        let r = a.form(path, fields).await;
        assert_eq!(r.status(), 404, "POST {path}");
    }
    // Pages that list things show A's only.
    for path in [
        "/espace-client",
        "/espace-client/users",
        "/espace-client/audit",
        "/espace-client/orders",
        "/espace-client/services",
        "/espace-client/messages",
        "/espace-client/hour-books",
        "/espace-client/solde",
        "/espace-client/tickets",
        "/espace-client/colocation",
        "/espace-client/pra-activations",
        "/espace-client/pra",
        "/espace-client/colocation/operations",
        "/espace-client/sauvegardes",
        "/espace-client/factures",
        "/account",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        let text = r.text().await.unwrap();
        for s in &other.secrets {
            assert!(!text.contains(s.as_str()), "GET {path} leaked {s}");
        }
    }
    // Staff see both.
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let page = staff
        .get(&format!("/back-office/organizations/{}", other.org))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Transports Garonne"));
    app.stop().await;
}
