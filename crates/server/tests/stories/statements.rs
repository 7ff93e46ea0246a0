//! Monthly SLA statements (issue 5, item 6; R5-R7), through HTTP: the job
//! of 1 June computes May for the cloud services; one hour down on the
//! cluster (44 640 minutes in May: 44 580 / 44 640 = 99.866 % < 99.90)
//! proposes a 5 % credit for each VM on it, and a PRA failover restored late
//! a 10 % RTO credit for each PRA machine (R6.4); a correction of the
//! episode recomputes the open statements; approval is refused while an
//! invoice already due is unpaid (R7.5), then approved once the invoice is
//! paid: one negative charge, a mail to the client; a rejection needs its
//! reason; the evidence download recomputes to the same figures; a re-run
//! changes nothing; another organisation sees nothing.

use crate::support::*;
use ciel_store::{Actor, Scope, invoices};
use jiff::SignedDuration;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Two Mono Site VMs of the organisation of `admin`, provisioned.
async fn two_vms(staff: &Session, admin: &Session) -> (String, Vec<String>) {
    let org = org_of(admin).await;
    let vm = json!({"item": {"kind": "cloud_vm", "vcpu": 2, "ram_gb": 4, "storage_gb": 50, "class": "mono_site"}, "commitment_months": 12});
    let (status, o) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [vm.clone(), vm]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    send_accept_validate(staff, admin, o["id"].as_str().unwrap()).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let mut ids = Vec::new();
    for s in list["items"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap().to_owned();
        let (status, v) = post(
            staff,
            &format!("/api/v1/services/{id}/provision"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        ids.push(id);
    }
    ids.sort();
    (org, ids)
}

async fn push(s: &Session, key: &str, body: Value) -> String {
    let r = s
        .client
        .post(s.url("/api/v1/episodes"))
        .header("x-csrf-token", &s.csrf)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits (bounded) until the statement job wrote `n` statements.
async fn statements(s: &Session, n: usize) -> Vec<Value> {
    for _ in 0..250 {
        let (_, l) = s.get_json("/api/v1/sla/statements?month=2026-05").await;
        if let Some(items) = l["items"].as_array()
            && items.len() >= n
        {
            return items.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the statement job did not write {n} statements within 5 s");
}

async fn charges(app: &TestApp, id: &str) -> Vec<ciel_store::charges::Charge> {
    ciel_store::charges::of_source(app.state().store().db(), &Scope::Staff, "sla_statement", id)
        .await
        .unwrap()
}

fn d(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

pub async fn monthly_statements_are_reviewed_and_credited_once(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let root = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (org_a, vms) = two_vms(&staff, &admin_a).await;

    // Both VMs on one cluster; one hour down on it on 20 May (Paris).
    let (status, c) = post(
        &staff,
        "/api/v1/clusters",
        Some(json!({"id": "par1-c02", "label": "Paris 1, cluster 2"})),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    for v in &vms {
        let (status, r) = staff
            .api(
                Method::PUT,
                &format!("/api/v1/services/{v}/cluster"),
                Some(json!({"cluster_id": "par1-c02"})),
            )
            .await;
        assert_eq!(status, 200, "{r}");
    }
    let episode = push(
        &staff,
        "probe-may",
        json!({"kind": "cluster_connectivity", "cluster_id": "par1-c02",
               "start": "2026-05-20T08:00:00Z", "end": "2026-05-20T09:00:00Z"}),
    )
    .await;

    // Two PRA machines (C1) of A, failed over now (7 May 15:30 UTC) and both
    // reachable again 150 minutes later: two late of two, beyond the R6.3
    // allowance of one; 1 h < d <= 4 h gives 10 % of each machine's fee (R6.4).
    let (pra_order, machines) =
        crate::pra::protected_machines(&staff, &admin_a, &org_a, &[("db1", "c1"), ("db2", "c1")])
            .await;
    // Jeanne is designated for failovers (R10.2).
    crate::pra::designate(&admin_a, &org_a, ADMIN_A, &["trigger_failover"]).await;
    let (status, a) = post(
        &admin_a,
        &format!("/api/v1/orders/{pra_order}/pra-activations"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let activation = a["id"].as_str().unwrap().to_owned();
    let reachable = app.now() + SignedDuration::from_mins(150);
    app.advance(SignedDuration::from_hours(3));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    for (_, m) in &machines {
        let (status, r) = post(
            &staff,
            &format!("/api/v1/pra-activations/{activation}/restorations"),
            Some(json!({"service_id": m, "reachable_at": reachable.to_string()})),
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }

    // A month that has not ended cannot be run.
    let (status, p) = post(
        &root,
        "/api/v1/sla/statements/run",
        Some(json!({"month": "2026-05"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("month")), "{p}");

    // An invoice of A, due on 25 May, unpaid.
    let inv = {
        let st = app.state();
        let mut tx = st.store().begin().await.unwrap();
        let actor = Actor::system("billing", app.now());
        let inv = invoices::create(
            &mut tx,
            &actor,
            &ciel_domain::Id::from_raw(org_a.clone()),
            "F-2026-000042",
            "2026-05-10T08:00:00Z".parse().unwrap(),
            "2026-05-25T08:00:00Z".parse().unwrap(),
            "120.00",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        inv
    };

    // 1 June 00:00 Paris: the job computes May.
    let first_june: jiff::Timestamp = "2026-05-31T22:00:00Z".parse().unwrap();
    app.advance(app.now().duration_until(first_june) + SignedDuration::from_secs(1));
    // Sessions do not last 25 days: log in again.
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let root = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let all = statements(&admin_a, 4).await;
    assert_eq!(all.len(), 4);
    for pra in all.iter().filter(|s| s["offer"] == "pra") {
        // PRA availability carries no penalty (R5.5); the RTO one does (R6.4).
        assert_eq!(pra["penalty_percent"], "0");
        assert_eq!(pra["pra_penalties"], json!(["10"]), "{pra}");
        assert_eq!(
            d(&pra["credit"]),
            (d(&pra["monthly_fee"]) * Decimal::new(10, 2)).round_dp(2)
        );
    }
    let items: Vec<Value> = all
        .iter()
        .filter(|s| s["offer"] == "mono_site")
        .cloned()
        .collect();
    assert_eq!(items.len(), 2);
    for st in &items {
        assert_eq!(st["month_minutes"], 44_640);
        assert_eq!(st["unavailable_minutes"], 60);
        assert_eq!(st["rate"], "99.8656");
        assert_eq!(st["penalty_percent"], "5");
        assert_eq!(st["review"], "proposed");
        assert_eq!(st["state"], "open");
        // 5 % of the monthly fee, to the cent (R5.5, R2.12).
        let expected = (d(&st["monthly_fee"]) * Decimal::new(5, 2)).round_dp(2);
        assert_eq!(d(&st["credit"]), expected, "{st}");
        assert!(expected > Decimal::ZERO);
    }
    let first = items[0]["id"].as_str().unwrap().to_owned();
    let second = items[1]["id"].as_str().unwrap().to_owned();

    // The detail explains each step with its rule and clause, FR/EN.
    let (status, det) = admin_a
        .get_json(&format!("/api/v1/sla/statements/{first}"))
        .await;
    assert_eq!(status, 200, "{det}");
    let rules: Vec<&str> = det["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"R5.1") && rules.contains(&"R5.5"),
        "{rules:?}"
    );
    assert!(
        det["explanation"][0]["fr"]
            .as_str()
            .unwrap()
            .contains("mois")
    );

    // The evidence download recomputes to the same figures.
    let r = admin_a
        .get(&format!("/api/v1/sla/statements/{first}/evidence"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let json = r.text().await.unwrap();
    let v = ciel_engine::evidence::verify(&app.state().terms(), &json).unwrap();
    assert!(v.value.claims_match, "{:?}", v.value.checks);
    assert_eq!(v.value.checks.len(), 3);
    assert_eq!(v.value.availability.unavailable_minutes, 60);
    assert_eq!(v.value.credit, d(&items[0]["credit"]));

    // Another organisation sees nothing.
    let (_, l) = admin_b.get_json("/api/v1/sla/statements").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 0, "{l}");
    for path in ["", "/evidence"] {
        let (status, _) = admin_b
            .get_json(&format!("/api/v1/sla/statements/{first}{path}"))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = post(
        &admin_a,
        &format!("/api/v1/sla/statements/{first}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 403);
    // Support staff do not review credits.
    let (status, _) = post(
        &staff,
        &format!("/api/v1/sla/statements/{first}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 403);

    // A correction of May's episode recomputes the open statements: the
    // loss lasted 90 minutes (44 550 / 44 640 = 99.798 %, still 5 %).
    let (status, e) = post(
        &staff,
        &format!("/api/v1/episodes/{episode}/correct"),
        Some(json!({"end": "2026-05-20T09:30:00Z"})),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (_, det) = admin_a
        .get_json(&format!("/api/v1/sla/statements/{first}"))
        .await;
    assert_eq!(
        (
            det["unavailable_minutes"].as_i64(),
            det["rate"].as_str(),
            det["credit"].as_str()
        ),
        (Some(90), Some("99.7984"), items[0]["credit"].as_str()),
        "{det}"
    );

    // R7.5: the unpaid invoice due on 25 May blocks the credit.
    let (status, p) = post(
        &root,
        &format!("/api/v1/sla/statements/{first}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("rule_violated")),
        "{p}"
    );
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("R7.5") && detail.contains("F-2026-000042"),
        "{p}"
    );
    assert!(charges(&app, &first).await.is_empty());

    // Paid: approved, one negative charge citing R7.5, the client told.
    {
        let st = app.state();
        let mut tx = st.store().begin().await.unwrap();
        let actor = Actor::system("billing", app.now());
        invoices::mark_paid(&mut tx, &actor, inv.id.as_str(), app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let (status, a) = post(
        &root,
        &format!("/api/v1/sla/statements/{first}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(
        (a["review"].as_str(), a["state"].as_str()),
        (Some("approved"), Some("frozen"))
    );
    let (status, p) = post(
        &root,
        &format!("/api/v1/sla/statements/{first}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    let ch = charges(&app, &first).await;
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].rule, "R7.5");
    assert_eq!(
        ch[0].amount.parse::<Decimal>().unwrap(),
        -d(&items[0]["credit"])
    );
    assert_eq!(a["charge_id"].as_str(), Some(ch[0].id.as_str()));
    let mail = mail_with(&app, ADMIN_A, "R7.5").await;
    assert!(
        mail.contains("2026-05") && mail.contains(items[0]["credit"].as_str().unwrap()),
        "{mail}"
    );

    // The portal: the client's list and statement page with the
    // explanation and the download link; the back office's queue, where a
    // rejection without reason is refused next to its form.
    let page = admin_a
        .get("/espace-client/sla")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/espace-client/sla/statements/{first}")),
        "{page}"
    );
    let page = admin_a
        .get(&format!("/espace-client/sla/statements/{first}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("R5.5")
            && page.contains("A2 ")
            && page.contains(&format!("/api/v1/sla/statements/{first}/evidence")),
        "{page}"
    );
    let r = admin_b
        .get(&format!("/espace-client/sla/statements/{first}"))
        .await;
    assert_eq!(r.status().as_u16(), 404);
    let queue = root.get("/back-office/sla").await.text().await.unwrap();
    assert!(
        queue.contains(&format!("/back-office/sla/statements/{second}/review"))
            && !queue.contains(&format!("/back-office/sla/statements/{first}/review")),
        "{queue}"
    );
    let r = root
        .form(
            &format!("/back-office/sla/statements/{second}/review"),
            &[("decision", "reject"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"err-{second}\"")) && page.contains("R7.5"),
        "{page}"
    );

    // A rejection needs its reason.
    let (status, p) = post(
        &root,
        &format!("/api/v1/sla/statements/{second}/review"),
        Some(json!({"decision": "reject", "reason": " "})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let (status, r) = post(
        &root,
        &format!("/api/v1/sla/statements/{second}/review"),
        Some(json!({"decision": "reject", "reason": "Incident causé par le client (ticket T-1)"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["review"], "rejected");
    assert!(charges(&app, &second).await.is_empty());

    // Re-running the month changes nothing; reviewed statements are not
    // recomputed.
    let (status, rep) = post(
        &root,
        "/api/v1/sla/statements/run",
        Some(json!({"month": "2026-05"})),
    )
    .await;
    assert_eq!(status, 200, "{rep}");
    assert_eq!(
        (rep["services"].as_u64(), rep["written"].as_u64()),
        (Some(4), Some(0)),
        "{rep}"
    );
    let (status, _) = post(
        &root,
        &format!("/api/v1/sla/statements/{first}/recompute"),
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(charges(&app, &first).await.len(), 1);
    app.stop().await;
}
