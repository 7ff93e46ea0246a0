//! The monthly billing run (issue 6; R2.4, R2.7, R2.11, R2.12, R7.5),
//! through HTTP. A Mono Site VM (2 vCPU, 4 GB, 50 GB: 2 x 18 + 4 x 6 +
//! 50 x 0.10 = 65 EUR a month, setup 150 EUR) is provisioned on 7 May 2026;
//! a billable ticket (45 EUR, R4.5) and an SLA credit (-12.34 EUR, R7.5)
//! are handed to billing in May, another charge on 1 June itself. The run
//! of June (invoice dated 1 June) bills, by hand:
//! - pro-rata 7-31 May: 65 x 25 / 31 = 52.419... -> 52.42 (R2.4 (b));
//! - June in advance: 65.00; the setup fee: 150.00;
//! - the ticket 45.00 and the credit -12.34 (referencing its statement);
//! - total 300.08 excl. VAT, VAT 20 % on the sum: 60.016 -> 60.02 (R2.12),
//!   360.10 to pay, due 30 days later (1 July, R2.7).
//!
//! The charge of 1 June waits for July. A future month is refused; a
//! re-run writes nothing new; the client without a profile fails with its
//! reason and succeeds once the profile is fixed and the run started again;
//! the e-mail carries the PDF, which is Factur-X; a credit note references
//! its invoice and leaves it unchanged; another organisation sees nothing.

use crate::support::*;
use ciel_store::charges::{self, NewCharge};
use ciel_store::{Actor, Scope};
use reqwest::Method;
use serde_json::{Value, json};

fn profile(siret: &str, email: &str, reference: &str) -> Value {
    json!({
        "siret": siret,
        "billing_email": email,
        "address": {"street_name": "rue de la République", "building_number": "12", "post_code": "69002", "town": "Lyon", "country": "FR"},
        "vat_regime": {"kind": "standard"},
        "sepa_mandate": {"reference": reference, "iban": "FR7630006000011234567890189", "bic": "BNPAFRPP", "signed_on": "2026-04-30"}
    })
}

async fn hand(
    app: &TestApp,
    org: &str,
    kind: &'static str,
    key: &str,
    rule: &str,
    amount: &str,
    at: &str,
) {
    let st = app.state();
    let mut tx = st.store().begin().await.unwrap();
    let actor = Actor::system("story", app.now());
    let new = charges::hand_over(
        &mut tx,
        &actor,
        NewCharge {
            org_id: ciel_domain::Id::from_raw(org.to_owned()),
            source_kind: kind,
            source_id: format!("{kind}_{key}"),
            charge_key: key.into(),
            rule: rule.into(),
            label: format!("{kind} {key}"),
            amount: amount.into(),
            explanation_json: "{\"steps\":[]}".into(),
            occurred_at: at.parse().unwrap(),
        },
    )
    .await
    .unwrap();
    assert!(new);
    tx.commit().await.unwrap();
}

/// Waits (bounded) until the run is done.
async fn done(s: &Session, id: &str) -> Value {
    for _ in 0..500 {
        let (status, r) = s.get_json(&format!("/api/v1/billing/runs/{id}")).await;
        assert_eq!(status, 200, "{r}");
        if r["run"]["state"] == "done" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the billing run did not finish within 10 s");
}

async fn invoices_of(s: &Session, org: &str) -> Vec<Value> {
    let (status, l) = s
        .get_json(&format!("/api/v1/invoices?org_id={org}&kind=invoice"))
        .await;
    assert_eq!(status, 200, "{l}");
    l["items"].as_array().unwrap().clone()
}

/// Runs the independent Factur-X checks on a PDF produced by the run when
/// the Python packages are there (`CIEL_PYTHON`, default python3).
fn validate_with_python(pdf: &[u8], xml: &str, expects: &[&str]) {
    let python = std::env::var("CIEL_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import facturx, saxonche"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "factur-x/saxonche not installed for {python}: Factur-X validation of the run's PDF skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("invoice.pdf");
    let xml_path = dir.path().join("invoice.xml");
    std::fs::write(&pdf_path, pdf).unwrap();
    std::fs::write(&xml_path, xml).unwrap();
    let scripts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../documents/tests/validate");
    let mut c = std::process::Command::new(&python);
    c.arg(scripts.join("facturx_pdf.py"))
        .arg(&pdf_path)
        .arg(&xml_path);
    for e in expects {
        c.arg("--expect").arg(e);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "facturx_pdf.py: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(&python)
        .arg(scripts.join("validate.py"))
        .arg("facturx")
        .arg(&xml_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "validate.py (EN 16931 + BR-FR schematrons): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn a_month_is_billed_once_with_its_pdf(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    let org_b = org_of(&admin_b).await;
    let (status, p) = staff
        .api(
            Method::PUT,
            &format!("/api/v1/organizations/{org_a}/billing-profile"),
            Some(profile(
                "81234567600017",
                "compta@atelier-numerique.example",
                "RUM-ATELIER-0001",
            )),
        )
        .await;
    assert_eq!(status, 200, "{p}");

    // One VM, provisioned today (7 May 2026).
    let vm = json!({"item": {"kind": "cloud_vm", "vcpu": 2, "ram_gb": 4, "storage_gb": 50, "class": "mono_site"}, "commitment_months": 12});
    let (status, o) = post(
        &staff,
        &format!("/api/v1/organizations/{org_a}/orders"),
        Some(json!({"lines": [vm]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    send_accept_validate(&staff, &admin_a, o["id"].as_str().unwrap()).await;
    let (_, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org_a}/services"))
        .await;
    let svc = list["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["items"][0]["monthly_fee"], "65", "{list}");
    let (status, v) = post(
        &staff,
        &format!("/api/v1/services/{svc}/provision"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    // Charges of May, one of 1 June (Paris), one of B (no profile yet).
    hand(
        &app,
        &org_a,
        "ticket",
        "t1",
        "R4.5",
        "45.00",
        "2026-05-20T10:00:00Z",
    )
    .await;
    hand(
        &app,
        &org_a,
        "sla_statement",
        "credit",
        "R7.5",
        "-12.34",
        "2026-05-31T10:00:00Z",
    )
    .await;
    hand(
        &app,
        &org_a,
        "ticket",
        "t2",
        "R4.5",
        "10.00",
        "2026-05-31T22:30:00Z",
    )
    .await;
    hand(
        &app,
        &org_b,
        "ticket",
        "b1",
        "R4.5",
        "30.00",
        "2026-05-25T10:00:00Z",
    )
    .await;

    // 1 June 2026, 10:00 Paris.
    let at: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
    app.advance(app.now().duration_until(at));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let billing = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;

    // July's invoice is dated 1 July: refused; support staff may not run.
    let (status, p) = post(
        &billing,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-07"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("period_in_future"), Some("period")),
        "{p}"
    );
    let (status, _) = post(
        &staff,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-06"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &admin_a,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-06"})),
    )
    .await;
    assert_eq!(status, 403);

    let (status, r) = post(
        &billing,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-06"})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let run_id = r["id"].as_str().unwrap().to_owned();
    let r = done(&billing, &run_id).await;
    assert_eq!(r["run"]["invoices"], 1, "{r}");
    assert_eq!(r["run"]["failed"], 1, "{r}");
    assert_eq!(r["failed_items"][0]["org_id"], org_b.as_str());
    assert!(
        r["failed_items"][0]["error"]
            .as_str()
            .unwrap()
            .contains("billing profile"),
        "{r}"
    );
    assert_eq!(r["run"]["amount"], "360.10", "{r}");

    // The invoice, line by line.
    let list = invoices_of(&admin_a, &org_a).await;
    assert_eq!(list.len(), 1);
    let inv = &list[0];
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    let number = inv["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("F2026-00000"), "{inv}");
    assert_eq!(
        (&inv["issue_date"], &inv["due_date"], &inv["period"]),
        (
            &json!("2026-06-01"),
            &json!("2026-07-01"),
            &json!("2026-06")
        )
    );
    assert_eq!(
        (&inv["total_excl_vat"], &inv["total_vat"], &inv["total"]),
        (&json!("300.08"), &json!("60.02"), &json!("360.10")),
        "{inv}"
    );
    let (status, detail) = admin_a
        .get_json(&format!("/api/v1/invoices/{inv_id}"))
        .await;
    assert_eq!(status, 200, "{detail}");
    let lines: Vec<(String, String, String)> = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["amount"].as_str().unwrap().to_owned(),
                l["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |k: &str, a: &str, r: &str| (k.to_owned(), a.to_owned(), r.to_owned());
    assert_eq!(
        lines,
        vec![
            expect("pro_rata", "52.42", "R2.4"),
            expect("recurring", "65.00", "R2.4"),
            expect("setup", "150.00", "R2.4"),
            expect("charge", "45.00", "R4.5"),
            expect("charge", "-12.34", "R7.5"),
        ],
        "{detail}"
    );
    let prorata = &detail["lines"][0];
    assert_eq!(
        (
            &prorata["period_start"],
            &prorata["period_end"],
            &prorata["quantity"]
        ),
        (&json!("2026-05-07"), &json!("2026-05-31"), &json!("25"))
    );
    assert!(!prorata["explanation"].as_array().unwrap().is_empty());
    let credit = &detail["lines"][4];
    assert!(
        credit["label"]
            .as_str()
            .unwrap()
            .contains("sla_statement_credit"),
        "{credit}"
    );
    assert!(
        detail["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["vat_percent"] == "20")
    );
    // The charge of 1 June waits for July.
    let pending = charges::pending(app.state().store().db(), &Scope::Staff, &org_a)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].charge_key, "t2");

    // A re-run writes nothing new.
    let (status, again) = post(
        &billing,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-06"})),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], run_id.as_str());
    assert_eq!(invoices_of(&billing, &org_a).await.len(), 1);

    // The e-mail to the billing address, with the PDF.
    let mail = mail_with(&app, "compta@atelier-numerique.example", &number).await;
    assert!(mail.contains("application/pdf"), "{mail}");
    assert!(mail.contains(&format!("{number}.pdf")), "{mail}");
    assert!(mail.contains("360.10"), "{mail}");

    // The PDF download is Factur-X.
    let resp = admin_a.get(&format!("/api/v1/invoices/{inv_id}/pdf")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let pdf = resp.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.windows(12).any(|w| w == b"factur-x.xml"));
    // The e-mail carries this very file (attached by reference to the
    // stored document): its first base64 line is that of the PDF's first
    // 57 bytes.
    {
        use base64::Engine as _;
        let head = base64::engine::general_purpose::STANDARD.encode(&pdf[..57]);
        assert!(
            mail.contains(&head),
            "the mail's attachment is not the invoice PDF"
        );
    }
    let xml = ciel_store::invoices::xml(app.state().store().db(), &inv_id)
        .await
        .unwrap();
    assert!(xml.contains(&number) && xml.contains("360.10"), "{xml}");
    validate_with_python(&pdf, &xml, &[&number, "Net à payer 360,10 €", "52,42 €"]);

    // The pages: the back office's run and documents, the client's list,
    // detail (lines and why) and PDF.
    for path in [
        "/back-office/billing".to_owned(),
        format!("/back-office/billing/runs/{run_id}"),
        format!("/back-office/invoices/{inv_id}"),
    ] {
        let r = billing.get(&path).await;
        assert_eq!(r.status().as_u16(), 200, "GET {path}");
        assert!(r.text().await.unwrap().contains(&number), "GET {path}");
    }
    let page = admin_a
        .get("/espace-client/factures")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&number) && page.contains("360.10"), "{page}");
    let page = admin_a
        .get(&format!("/espace-client/factures/{inv_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("52.42") && page.contains("R7.5"), "{page}");
    let r = admin_a
        .get(&format!("/espace-client/factures/{inv_id}/pdf"))
        .await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        admin_a.get("/back-office/billing").await.status().as_u16(),
        404
    );

    // Another organisation sees nothing of it.
    assert_eq!(
        admin_b
            .get_json(&format!("/api/v1/invoices/{inv_id}"))
            .await
            .0,
        404
    );
    assert_eq!(
        admin_b
            .get(&format!("/api/v1/invoices/{inv_id}/pdf"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert!(invoices_of(&admin_b, &org_a).await.is_empty());

    // B's profile fixed, the run started again: B is invoiced (30 + 6 VAT).
    let (status, p) = staff
        .api(
            Method::PUT,
            &format!("/api/v1/organizations/{org_b}/billing-profile"),
            Some(profile(
                "52345678800018",
                "compta@transports-garonne.example",
                "RUM-GARONNE-0001",
            )),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let (status, again) = post(
        &billing,
        "/api/v1/billing/runs",
        Some(json!({"period": "2026-06"})),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    let r = done(&billing, &run_id).await;
    assert_eq!(
        (r["run"]["invoices"].as_i64(), r["run"]["failed"].as_i64()),
        (Some(2), Some(0)),
        "{r}"
    );
    let b_list = invoices_of(&admin_b, &org_b).await;
    assert_eq!(b_list.len(), 1);
    assert_eq!(b_list[0]["total"], "36.00");

    // A credit note for the ticket line: it references the invoice, takes
    // the next number, and leaves the invoice unchanged (R2.11).
    let path = format!("/api/v1/invoices/{inv_id}/credit-notes");
    let (status, p) = post(&admin_a, &path, Some(json!({"reason": "x", "lines": [4]}))).await;
    assert_eq!(status, 403, "{p}");
    let (status, p) = post(
        &billing,
        &path,
        Some(json!({"reason": "x", "amount": "999"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("amount")), "{p}");
    let (status, p) = post(&billing, &path, Some(json!({"reason": " ", "lines": [4]}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let (status, cn) = post(
        &billing,
        &path,
        Some(json!({"reason": "Ticket facturé à tort", "lines": [4]})),
    )
    .await;
    assert_eq!(status, 201, "{cn}");
    assert_eq!(cn["kind"], "credit_note");
    assert_eq!(cn["corrects_invoice_id"], inv_id.as_str());
    assert_eq!(
        (&cn["total_excl_vat"], &cn["total"]),
        (&json!("45.00"), &json!("54.00"))
    );
    assert_ne!(cn["number"], number.as_str());
    let (_, after) = admin_a
        .get_json(&format!("/api/v1/invoices/{inv_id}"))
        .await;
    assert_eq!(after, detail, "the invoice is unchanged");
    // What it credits is no longer owed on the invoice: 360.10 - 54.00.
    let (status, bal) = billing
        .get_json(&format!("/api/v1/organizations/{org_a}/balance"))
        .await;
    assert_eq!(status, 200, "{bal}");
    let still_due = bal["outstanding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["invoice_id"] == inv_id.as_str())
        .expect("partly credited, still due");
    assert_eq!(still_due["remaining"], json!("306.10"), "{bal}");
    let cn_id = cn["id"].as_str().unwrap();
    let cn_pdf = admin_a.get(&format!("/api/v1/invoices/{cn_id}/pdf")).await;
    assert_eq!(cn_pdf.status().as_u16(), 200);
    let cn_xml = ciel_store::invoices::xml(app.state().store().db(), cn_id)
        .await
        .unwrap();
    assert!(
        cn_xml.contains("<ram:TypeCode>381</ram:TypeCode>"),
        "{cn_xml}"
    );
    assert!(
        cn_xml.contains(&number),
        "the credit note references its invoice"
    );
    mail_with(
        &app,
        "compta@atelier-numerique.example",
        cn["number"].as_str().unwrap(),
    )
    .await;
    // The numbers make one sequence without gap: 1, 2, 3.
    let (_, all) = billing.get_json("/api/v1/invoices").await;
    let mut numbers: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        vec!["F2026-000001", "F2026-000002", "F2026-000003"]
    );

    // The FEC of the year (item 8): 18 tab-separated columns, every entry
    // balanced, and the receivables moved by exactly the documents' totals:
    // debited by the invoices, credited by the credit note.
    let fec_path = "/api/v1/accounting/fec?from=2026-01-01&to=2026-12-31";
    let (status, p) = admin_a.get_json(fec_path).await;
    assert_eq!(status, 403, "{p}");
    let (status, p) = billing
        .get_json("/api/v1/accounting/fec?from=2026-13-01&to=2026-12-31")
        .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("from")), "{p}");
    let res = billing.get(fec_path).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("732829320FEC20261231.txt")
    );
    let fec = res.text().await.unwrap();
    let rows: Vec<Vec<&str>> = fec
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows[0][0], "JournalCode");
    assert!(rows.iter().all(|r| r.len() == 18), "{fec}");
    let cents = |s: &str| -> i64 { s.replace(',', "").parse().unwrap() };
    let mut per_entry: std::collections::BTreeMap<&str, i64> = Default::default();
    let (mut receivable_debit, mut receivable_credit) = (0, 0);
    for r in &rows[1..] {
        *per_entry.entry(r[2]).or_default() += cents(r[11]) - cents(r[12]);
        if r[4] == "411000" {
            receivable_debit += cents(r[11]);
            receivable_credit += cents(r[12]);
        }
    }
    assert!(per_entry.values().all(|v| *v == 0), "{fec}");
    let (mut invoiced, mut credited) = (0, 0);
    for d in all["items"].as_array().unwrap() {
        let total = cents(&d["total"].as_str().unwrap().replace('.', ","));
        match d["kind"].as_str().unwrap() {
            "credit_note" => credited += total,
            _ => invoiced += total,
        }
    }
    assert_eq!((receivable_debit, receivable_credit), (invoiced, credited));
    app.stop().await;
}

/// The counter alone (R2.11), on the store: 8 issuers take 15 numbers each
/// in their own transactions, concurrently (PostgreSQL: several
/// connections and the counter's row lock; SQLite: its single writer);
/// every third transaction rolls back. The committed numbers are exactly
/// 1..=80: no gap, no duplicate.
pub async fn invoice_numbers_have_no_gap_under_concurrent_issuers(b: Backend) {
    let app = TestApp::start(b).await;
    let store = app.state().store().clone();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut kept = Vec::new();
            for i in 0..15 {
                let mut tx = store.begin().await.unwrap();
                let n = ciel_store::invoices::take_number(&mut tx, "story")
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                if (w * 15 + i) % 3 == 2 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    kept.push(n);
                }
            }
            kept
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (1..=80).collect::<Vec<i64>>());
    assert_eq!(
        ciel_store::invoices::peek_number(store.db(), "story")
            .await
            .unwrap(),
        81
    );
    app.stop().await;
}
