//! Payments, SEPA batches, dunning and disputes (issue 6 items 5-7),
//! through HTTP: an invoice overdue gets its formal notice by email (R2.6),
//! enters the sanction queue 15 days later, staff suspend the client's
//! service (R3.4), the payment hands over the late interest and the 40 EUR
//! indemnity once; the SEPA batch validates against the pain.008 XSD; a
//! rejected direct debit emails 8 days to regularise (R3.3); disputes
//! within / after 30 days (R2.7); bad input writes nothing.

use crate::support::*;
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

/// Issues an invoice directly (the billing run is another part's).
async fn invoice(
    app: &TestApp,
    org: &str,
    number: &str,
    issued: &str,
    due: &str,
    total: &str,
) -> String {
    let st = app.state();
    let actor = ciel_store::Actor::system("test", app.now());
    let mut tx = st.store().begin().await.unwrap();
    let inv = ciel_store::invoices::create(
        &mut tx,
        &actor,
        &ciel_domain::Id::from_raw(org.to_owned()),
        number,
        issued.parse().unwrap(),
        due.parse().unwrap(),
        total,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    inv.id.to_string()
}

fn profile(reference: &str) -> Value {
    json!({
        "siret": "81234567600017",
        "billing_email": "compta@atelier-numerique.example",
        "address": {"street_name": "rue de la République", "building_number": "12", "post_code": "69002", "town": "Lyon", "country": "FR"},
        "vat_regime": {"kind": "standard"},
        "sepa_mandate": {"reference": reference, "iban": "FR7630006000011234567890189", "bic": "BNPAFRPP", "signed_on": "2026-04-30"}
    })
}

/// Validates a pain.008 file with the `sepaxml` XSD, as the documents
/// crate's validators do.
fn validate_pain008(xml: &str) {
    if std::env::var("CIEL_SKIP_PY_VALIDATORS").is_ok_and(|v| v == "1") {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: pain.008 validation skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.xml");
    std::fs::write(&path, xml).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../documents/tests/validate/validate.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg("pain008")
        .arg(&path)
        .output()
        .expect("python3 runs (pip install sepaxml==2.7.0, or CIEL_SKIP_PY_VALIDATORS=1)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "pain.008 XSD: {report}\n{xml}");
}

async fn count(s: &Session, path: &str) -> usize {
    let (status, v) = s.get_json(path).await;
    assert_eq!(status, 200, "{path}: {v}");
    v["items"].as_array().unwrap().len()
}

/// The charges handed to billing for an invoice: (key, amount, rule).
async fn charges(app: &TestApp, invoice: &str) -> Vec<(String, String, String)> {
    ciel_store::charges::of_source(
        app.state().store().db(),
        &ciel_store::Scope::Staff,
        "invoice",
        invoice,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|c| (c.charge_key, c.amount, c.rule))
    .collect()
}

/// Staff, A's Administrator, A's user Paul (who does not see invoices)
/// and B's Administrator, logged in.
struct Who {
    staff: Session,
    admin: Session,
    paul: Session,
    admin_b: Session,
}

async fn sessions(app: &TestApp) -> Who {
    Who {
        staff: app.login(STAFF_SUPPORT, DEMO_PASSWORD).await,
        admin: app.login(ADMIN_A, DEMO_PASSWORD).await,
        paul: app.login(USER_A, DEMO_PASSWORD).await,
        admin_b: app.login(ADMIN_B, DEMO_PASSWORD).await,
    }
}

/// Staff record a payment of `org` under an Idempotency-Key.
async fn pay(app: &TestApp, staff: &Session, org: &str, key: &str, body: Value) -> (u16, Value) {
    let r = staff
        .client
        .post(app.url(&format!("/api/v1/organizations/{org}/payments")))
        .header("x-csrf-token", &staff.csrf)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json::<Value>().await.unwrap())
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub async fn late_invoices_are_followed_up(b: Backend) {
    let app = TestApp::start(b).await;
    let mut w = sessions(&app).await;
    let org = org_of(&w.admin).await;
    let org_b = org_of(&w.admin_b).await;
    let (status, p) = w
        .staff
        .api(
            Method::PUT,
            &format!("/api/v1/organizations/{org}/billing-profile"),
            Some(profile("RUM-ATELIER-0001")),
        )
        .await;
    assert_eq!(status, 200, "{p}");

    // A running service of A, to suspend later.
    let (status, o) = post(
        &w.staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [{"item": {"kind": "support", "level": "standard"}, "commitment_months": 12}]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    send_accept_validate(&w.staff, &w.admin, o["id"].as_str().unwrap()).await;
    let (_, list) = w
        .admin
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let service = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, s) = post(
        &w.staff,
        &format!("/api/v1/services/{service}/provision"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{s}");

    // Invoices of A: F1 dated 1 May, due 15 May (Paris); F2 due 20 May;
    // F3 and F4 for the dispute window, due at the end of the year.
    let f1 = invoice(
        &app,
        &org,
        "F2026-000001",
        "2026-04-30T22:00:00Z",
        "2026-05-15T10:00:00Z",
        "1200.00",
    )
    .await;
    let f2 = invoice(
        &app,
        &org,
        "F2026-000002",
        "2026-04-30T22:00:00Z",
        "2026-05-20T10:00:00Z",
        "600.00",
    )
    .await;
    let f3 = invoice(
        &app,
        &org,
        "F2026-000003",
        "2026-04-05T22:00:00Z",
        "2026-12-31T10:00:00Z",
        "10.00",
    )
    .await;
    let f4 = invoice(
        &app,
        &org,
        "F2026-000004",
        "2026-04-06T22:00:00Z",
        "2026-12-31T10:00:00Z",
        "20.00",
    )
    .await;

    // ---- SEPA batch (R2.7): F1 first collection of the mandate (FRST).
    let (status, batch) = post(
        &w.staff,
        "/api/v1/sepa-batches",
        Some(json!({"collection_date": "2026-05-15"})),
    )
    .await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["items"][0]["invoice_id"], f1.as_str());
    assert_eq!(batch["items"][0]["sequence_type"], "FRST");
    assert_eq!(batch["items"].as_array().unwrap().len(), 1);
    let id = batch["batch"]["id"].as_str().unwrap();
    let r = w.staff.get(&format!("/api/v1/sepa-batches/{id}/xml")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = r.text().await.unwrap();
    for fragment in [
        "<MndtId>RUM-ATELIER-0001</MndtId>",
        "<DtOfSgntr>2026-04-30</DtOfSgntr>",
        "<SeqTp>FRST</SeqTp>",
        "<Id>FR12ZZZ123456</Id>",
        "<InstdAmt Ccy=\"EUR\">1200.00</InstdAmt>",
        "<StrtNm>rue de la Republique</StrtNm>",
        "<ReqdColltnDt>2026-05-15</ReqdColltnDt>",
    ] {
        assert!(xml.contains(fragment), "missing {fragment} in\n{xml}");
    }
    validate_pain008(&xml);
    // F2 on its day: the mandate was collected before, RCUR.
    let (status, second) = post(
        &w.staff,
        "/api/v1/sepa-batches",
        Some(json!({"collection_date": "2026-05-20"})),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["items"][0]["invoice_id"], f2.as_str());
    assert_eq!(second["items"][0]["sequence_type"], "RCUR");
    let id2 = second["batch"]["id"].as_str().unwrap();
    let xml2 = w
        .staff
        .get(&format!("/api/v1/sepa-batches/{id2}/xml"))
        .await
        .text()
        .await
        .unwrap();
    assert!(xml2.contains("<SeqTp>RCUR</SeqTp>"));
    validate_pain008(&xml2);
    // Nothing else due that day: refused on its field.
    let (status, p) = post(
        &w.staff,
        "/api/v1/sepa-batches",
        Some(json!({"collection_date": "2026-05-21"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("collection_date")),
        "{p}"
    );
    // B's mandate lost its signature date (older data): the batch is
    // refused naming the client and the field, nothing written.
    let mut bp = profile("RUM-GARONNE-0001");
    bp["siret"] = json!(null);
    let (status, p) = w
        .staff
        .api(
            Method::PUT,
            &format!("/api/v1/organizations/{org_b}/billing-profile"),
            Some(bp),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    sqlx::query("UPDATE client_profiles SET mandate_signed_on = NULL WHERE org_id = $1")
        .bind(org_b.as_str())
        .execute(app.state().store().writer())
        .await
        .unwrap();
    invoice(
        &app,
        &org_b,
        "F2026-000005",
        "2026-04-30T22:00:00Z",
        "2026-05-22T10:00:00Z",
        "300.00",
    )
    .await;
    let (status, p) = post(
        &w.staff,
        "/api/v1/sepa-batches",
        Some(json!({"collection_date": "2026-05-22"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("mandate_signed_on")),
        "{p}"
    );
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("Transports Garonne") && detail.contains("RUM-GARONNE-0001"),
        "{p}"
    );
    assert_eq!(
        count(&w.staff, "/api/v1/sepa-batches").await,
        2,
        "nothing written"
    );
    // Batches are the provider's: a client neither lists nor reads them.
    assert_eq!(w.admin.get_json("/api/v1/sepa-batches").await.0, 403);
    assert_eq!(
        w.admin
            .get_json(&format!("/api/v1/sepa-batches/{id}"))
            .await
            .0,
        404
    );

    // ---- Disputes (R2.7): 30 days from the invoice's date, in Paris.
    // Today is 7 May: F4, dated 7 April (Paris), is on its 30th day; F3,
    // dated 6 April, is one day late.
    let (status, d) = post(
        &w.admin,
        &format!("/api/v1/invoices/{f4}/disputes"),
        Some(json!({"reason": "Ligne en double"})),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    let (status, p) = post(
        &w.admin,
        &format!("/api/v1/invoices/{f3}/disputes"),
        Some(json!({"reason": "Trop tard"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("invoice_id")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R2.7"), "{p}");
    // Paul does not see invoices; B cannot name A's invoice.
    let (status, _) = post(
        &w.paul,
        &format!("/api/v1/invoices/{f4}/disputes"),
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &w.admin_b,
        &format!("/api/v1/invoices/{f4}/disputes"),
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        count(&w.admin, &format!("/api/v1/organizations/{org}/disputes")).await,
        1
    );
    assert_eq!(count(&w.staff, "/api/v1/disputes").await, 1);
    let dispute = d["id"].as_str().unwrap();
    let (status, a) = post(&w.staff, &format!("/api/v1/disputes/{dispute}/answer"),
        Some(json!({"decision": "rejected", "answer": "La ligne correspond à deux services distincts."}))).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["state"], "rejected");
    let m = mail_with(&app, ADMIN_A, "F2026-000004").await;
    assert!(
        m.contains("rejet") && m.contains("deux services distincts"),
        "{m}"
    );
    let (status, _) = post(
        &w.staff,
        &format!("/api/v1/disputes/{dispute}/answer"),
        Some(json!({"decision": "accepted", "answer": "x"})),
    )
    .await;
    assert_eq!(status, 409, "answered once");
    assert_eq!(count(&w.staff, "/api/v1/disputes").await, 0);

    // ---- Dunning (R2.6): the day after F1's due date, the formal notice.
    app.clock.set(t("2026-05-15T21:59:00Z"));
    // Sessions expire across days: log in again.
    w = sessions(&app).await;
    let (status, r) = post(&w.staff, "/api/v1/dunning/run", None).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        count(&w.staff, "/api/v1/dunning").await,
        0,
        "due day not over"
    );
    app.clock.set(t("2026-05-15T22:30:00Z"));
    // Sessions expire across days: log in again.
    w = sessions(&app).await;
    post(&w.staff, "/api/v1/dunning/run", None).await;
    let notice = mail_with(&app, ADMIN_A, "Mise en demeure").await;
    assert!(
        notice.contains("F2026-000001")
            && notice.contains("15/05/2026")
            && notice.contains("40 EUR"),
        "{notice}"
    );
    let (_, all) = w.staff.get_json("/api/v1/dunning").await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{all}");
    assert_eq!(items[0]["invoice"]["id"], f1.as_str());
    // Run again: still one notice (one row per invoice).
    post(&w.staff, "/api/v1/dunning/run", None).await;
    assert_eq!(count(&w.staff, "/api/v1/dunning").await, 1);
    // The disputed invoices stay due, the dunning is not affected either.
    // 15 days: the notice was on 16 May (Paris), the queue opens on 1 June.
    app.clock.set(t("2026-05-31T21:59:59Z"));
    // Sessions expire across days: log in again.
    w = sessions(&app).await;
    assert_eq!(count(&w.staff, "/api/v1/dunning/queue").await, 0);
    let (status, p) = post(
        &w.staff,
        &format!("/api/v1/invoices/{f1}/sanction"),
        Some(json!({"sanction": "suspend"})),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R2.6"), "{p}");
    app.clock.set(t("2026-05-31T22:00:00Z"));
    // Sessions expire across days: log in again.
    w = sessions(&app).await;
    let (_, q) = w.staff.get_json("/api/v1/dunning/queue").await;
    let queued: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice"]["id"].as_str().unwrap())
        .collect();
    assert!(queued.contains(&f1.as_str()), "{q}");
    // A client cannot choose a sanction; a guarantee needs its text.
    let (status, _) = post(
        &w.admin,
        &format!("/api/v1/invoices/{f1}/sanction"),
        Some(json!({"sanction": "suspend"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, p) = post(
        &w.staff,
        &format!("/api/v1/invoices/{f1}/sanction"),
        Some(json!({"sanction": "guarantee"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("note")));
    let (status, s) = post(
        &w.staff,
        &format!("/api/v1/invoices/{f1}/sanction"),
        Some(json!({"sanction": "suspend"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["services"][0]["result"], "suspended", "{s}");
    let (_, svc) = w
        .admin
        .get_json(&format!("/api/v1/services/{service}"))
        .await;
    assert_eq!(svc["status"], "suspended", "{svc}");
    mail_with(&app, ADMIN_A, "suspendu").await;
    let (status, _) = post(
        &w.staff,
        &format!("/api/v1/invoices/{f1}/sanction"),
        Some(json!({"sanction": "terminate"})),
    )
    .await;
    assert_eq!(status, 409, "one sanction");

    // ---- Payment: F1 paid on 2 June, 18 days late; interest + indemnity.
    app.clock.set(t("2026-06-02T08:00:00Z"));
    // Sessions expire across days: log in again.
    w = sessions(&app).await;
    // More than what is due without a choice: refused, nothing written.
    let (status, p) = pay(
        &app,
        &w.staff,
        &org,
        "too-much",
        json!({"amount": "99999.00", "method": "transfer", "reference": "VIR-X"}),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("excess")), "{p}");
    assert_eq!(
        count(&w.staff, &format!("/api/v1/organizations/{org}/payments")).await,
        0
    );
    let body = json!({"amount": "1200.00", "received_on": "2026-06-02", "method": "transfer",
        "reference": "VIR-F1", "invoices": [f1]});
    let (status, first) = pay(&app, &w.staff, &org, "pay-f1", body.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["paid_invoices"], json!([f1]));
    // R3.4 reopens on payment, but F2 is still past due: still suspended.
    let (_, svc) = w
        .admin
        .get_json(&format!("/api/v1/services/{service}"))
        .await;
    assert_eq!(svc["status"], "suspended", "{svc}");
    assert_eq!(
        first["charges"],
        json!(["late_interest", "recovery_indemnity"])
    );
    // A retry with the same key answers the first answer, writes nothing.
    let (status, again) = pay(&app, &w.staff, &org, "pay-f1", body.clone()).await;
    assert_eq!(
        (status, &again["payment"]["id"]),
        (201, &first["payment"]["id"])
    );
    let mut other = body.clone();
    other["amount"] = json!("1.00");
    assert_eq!(pay(&app, &w.staff, &org, "pay-f1", other).await.0, 409);
    assert_eq!(
        count(&w.staff, &format!("/api/v1/organizations/{org}/payments")).await,
        1
    );
    // 1 200 x 12.15 % x 18 / 365 = 7.19 (R2.6, R2.12) and 40 EUR.
    let want = vec![
        (
            "late_interest".to_owned(),
            "7.19".to_owned(),
            "R2.6".to_owned(),
        ),
        (
            "recovery_indemnity".to_owned(),
            "40.00".to_owned(),
            "R2.6".to_owned(),
        ),
    ];
    assert_eq!(charges(&app, &f1).await, want);
    let (_, bal) = w
        .admin
        .get_json(&format!("/api/v1/organizations/{org}/balance"))
        .await;
    // 1200 + 600 + 10 + 20 invoiced, 1200 paid.
    assert_eq!(bal["balance"], "630.00", "{bal}");
    assert_eq!(bal["outstanding"].as_array().unwrap().len(), 3, "{bal}");
    assert_eq!(
        w.paul
            .get_json(&format!("/api/v1/organizations/{org}/balance"))
            .await
            .0,
        403
    );
    assert_eq!(
        w.admin_b
            .get_json(&format!("/api/v1/organizations/{org}/balance"))
            .await
            .0,
        404
    );

    // ---- Rejection (R3.3): F1 unpaid again, 8 days to regularise.
    let payment = first["payment"]["id"].as_str().unwrap();
    let (status, r) = post(
        &w.staff,
        &format!("/api/v1/payments/{payment}/rejection"),
        Some(json!({"reason_code": "AM04", "rejected_on": "2026-06-02"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["allocations_removed"][0]["invoice_id"], f1.as_str());
    let m = mail_with(&app, ADMIN_A, "AM04").await;
    assert!(
        m.contains("8 jours") && m.contains("F2026-000001") && m.contains("AM04"),
        "{m}"
    );
    let (_, bal) = w
        .admin
        .get_json(&format!("/api/v1/organizations/{org}/balance"))
        .await;
    assert_eq!(bal["balance"], "1830.00", "{bal}");
    let (status, _) = post(
        &w.staff,
        &format!("/api/v1/payments/{payment}/rejection"),
        Some(json!({"reason_code": "AM04"})),
    )
    .await;
    assert_eq!(status, 409, "rejected once");

    // ---- Import: a bad line refuses the whole file, nothing written.
    let header = "type,org_id,amount,date,method,reference,excess,reason_code";
    let bad = format!(
        "{header}\npayment,{org},1200.00,2026-06-02,transfer,VIR-F1B,,\npayment,{org},12,2026-06-02,cheque,VIR-Y,,\n"
    );
    let (status, p) = post(
        &w.staff,
        "/api/v1/payments/import",
        Some(json!({"file_name": "releve.csv", "content": bad})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("content")), "{p}");
    assert!(
        p["detail"].as_str().unwrap().starts_with("line 3: method"),
        "{p}"
    );
    let excess = format!(
        "{header}\npayment,{org},1200.00,2026-06-02,transfer,VIR-F1B,,\npayment,{org},5000.00,2026-06-02,transfer,VIR-Z,,\n"
    );
    let (status, p) = post(
        &w.staff,
        "/api/v1/payments/import",
        Some(json!({"file_name": "releve.csv", "content": excess})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("content")), "{p}");
    assert!(
        p["detail"].as_str().unwrap().starts_with("line 3: excess"),
        "{p}"
    );
    assert_eq!(
        count(&w.staff, &format!("/api/v1/organizations/{org}/payments")).await,
        1
    );
    // The good file: F1 (oldest due) paid again; the charges stay once.
    let good = format!("{header}\npayment,{org},1200.00,2026-06-02,transfer,VIR-F1B,,\n");
    let (status, r) = post(
        &w.staff,
        "/api/v1/payments/import",
        Some(json!({"file_name": "releve.csv", "content": good})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["payments"][0]["paid_invoices"], json!([f1]));
    assert_eq!(r["payments"][0]["charges"], json!([]));
    assert_eq!(charges(&app, &f1).await, want, "handed over once");
    // Paying the rest with the excess kept as credit: the balance turns in
    // the client's favour, but a service runs, so no refund (R7.5).
    let (status, p) = pay(&app, &w.staff, &org, "pay-rest", json!({"amount": "700.00", "method": "transfer", "reference": "VIR-R", "excess": "keep_as_credit"})).await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["excess"], "70.00");
    let (_, bal) = w
        .admin
        .get_json(&format!("/api/v1/organizations/{org}/balance"))
        .await;
    assert_eq!(
        (bal["balance"].as_str(), bal["services_running"].as_bool()),
        (Some("-70.00"), Some(true)),
        "{bal}"
    );
    // Nothing is past due any more: the service suspended for non-payment
    // is open again (R3.4, "access reopens on payment").
    let (_, svc) = w
        .admin
        .get_json(&format!("/api/v1/services/{service}"))
        .await;
    assert_eq!(svc["status"], "fixed_term", "{svc}");
    let (status, p) = post(
        &w.staff,
        &format!("/api/v1/organizations/{org}/refunds"),
        Some(json!({"amount": "70.00", "reference": "VIR-REMB"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("amount")), "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R7.5"), "{p}");
    assert_eq!(
        count(&w.admin, &format!("/api/v1/organizations/{org}/refunds")).await,
        0
    );

    // ---- Pages: the client's balance and contest form, the back office.
    let r = w.admin.get("/espace-client/solde").await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Solde et paiements") && page.contains("VIR-R"),
        "{page}"
    );
    assert_eq!(
        w.paul.get("/espace-client/solde").await.status().as_u16(),
        404
    );
    let r = w
        .admin
        .get(&format!("/espace-client/factures/{f4}/contestation"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = w
        .admin
        .form(
            &format!("/espace-client/factures/{f3}/contestation"),
            &[("reason", "x")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("R2.7"));
    let r = w.staff.get("/back-office/paiements").await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("CIEL-DD-20260515-01") && page.contains("F2026-000002"),
        "{page}"
    );
    let r = w
        .staff
        .get(&format!("/back-office/organizations/{org}/paiements"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = w
        .staff
        .form(
            "/back-office/paiements/import",
            &[("file_name", "x.csv"), ("content", "nope")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("line 1"));

    // ---- Terminate (R3.3): a paid invoice has no sanction; a new unpaid
    // one, past its notice by 15 days, ends the suspended service.
    let f2_sanction = post(
        &w.staff,
        &format!("/api/v1/invoices/{f2}/sanction"),
        Some(json!({"sanction": "accelerate"})),
    )
    .await;
    assert_eq!(f2_sanction.0, 409, "{}", f2_sanction.1);
    let f6 = invoice(
        &app,
        &org,
        "F2026-000006",
        "2026-05-31T22:00:00Z",
        "2026-06-03T10:00:00Z",
        "150.00",
    )
    .await;
    app.clock.set(t("2026-06-03T22:30:00Z"));
    w = sessions(&app).await;
    post(&w.staff, "/api/v1/dunning/run", None).await;
    mail_with(&app, ADMIN_A, "F2026-000006").await;
    app.clock.set(t("2026-06-19T22:00:00Z"));
    w = sessions(&app).await;
    let (status, s) = post(
        &w.staff,
        &format!("/api/v1/invoices/{f6}/sanction"),
        Some(json!({"sanction": "terminate"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["services"][0]["result"], "terminated", "{s}");
    let (_, svc) = w
        .admin
        .get_json(&format!("/api/v1/services/{service}"))
        .await;
    // Still suspended, its last day of service today (20 June, Paris).
    assert_eq!(
        (svc["status"].as_str(), svc["last_day"].as_str()),
        (Some("suspended"), Some("2026-06-20")),
        "{svc}"
    );
    app.stop().await;
}
