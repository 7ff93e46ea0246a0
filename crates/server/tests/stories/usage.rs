//! Usage readings become charges once (issue 6, item 2; R2.8, R2.9, R3.5,
//! R11.5), through HTTP: bulk and CSV ingestion, a bad CSV line refusing
//! the whole file, the month close run twice, the R2.9 warning mail and the
//! fair-use flag. Figures are worked by hand in the comments.

use crate::maintenance::push;
use crate::support::*;
use jiff::SignedDuration;
use serde_json::{Value, json};

/// 2026-05-07T00:00Z moved by `k` 5-minute slots.
fn slot(k: i64) -> String {
    let t: jiff::Timestamp = "2026-05-07T00:00:00Z".parse().unwrap();
    t.checked_add(SignedDuration::from_mins(5 * k))
        .unwrap()
        .to_string()
}

async fn csv(s: &Session, kind: &str, text: &str) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(&format!("/api/v1/usage/import?kind={kind}")))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "text/csv")
        .body(text.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn usage_of(s: &Session, svc: &str) -> (u16, Value) {
    s.get_json(&format!("/api/v1/services/{svc}/usage?month=2026-05"))
        .await
}

/// The ids of the provisioned services of a new order of `org`.
pub async fn provisioned(staff: &Session, admin: &Session, org: &str, lines: Value) -> Vec<String> {
    let (status, o) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({ "lines": lines })),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    let order = o["id"].as_str().unwrap().to_owned();
    send_accept_validate(staff, admin, &order).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/services?limit=200"))
        .await;
    let mut out = Vec::new();
    for s in list["items"].as_array().unwrap() {
        if s["order_id"] != order.as_str() {
            continue;
        }
        let id = s["id"].as_str().unwrap().to_owned();
        let (status, v) = post(
            staff,
            &format!("/api/v1/services/{id}/provision"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        out.push((s["kind"].as_str().unwrap().to_owned(), id));
    }
    out.sort();
    out.into_iter().map(|(_, id)| id).collect()
}

pub async fn readings_become_charges_once(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    // Sorted by kind: backup, then colocation.
    let ids = provisioned(
        &staff,
        &admin,
        &org,
        json!([
            {"item": {"kind": "colocation", "datacenter": "PA3", "emplacement": "salle 2, baie 14",
              "rack_units": 4, "power_kva": "2", "max_amperage_a": "16", "bandwidth_flat_mbps": 100,
              "overage_price_per_mbps": "3.50"}, "commitment_months": 12},
            {"item": {"kind": "external_backup", "storage_gb": 500}, "commitment_months": 12}
        ]),
    )
    .await;
    let (backup, colo) = (ids[0].clone(), ids[1].clone());

    // Bulk bandwidth: 100 readings of port eth0; in = 2k Mbit/s at slot k
    // (k = 1..100), out = 50 Mbit/s.
    let readings: Vec<Value> = (1..=100)
        .map(|k| {
            json!({"service_id": colo, "port": "eth0", "at": slot(k),
                   "in_bps": 2_000_000 * k, "out_bps": 50_000_000})
        })
        .collect();
    let body = json!({ "readings": readings });
    let (status, r) = push(&staff, "/api/v1/usage/bandwidth", "bw-1", body.clone()).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["received"].as_u64(), r["written"].as_u64()),
        (Some(100), Some(100))
    );
    // A replay answers the first answer; the same key with another body: 409.
    let (status, again) = push(&staff, "/api/v1/usage/bandwidth", "bw-1", body).await;
    assert_eq!((status, &again), (201, &r));
    let (status, p) = push(
        &staff,
        "/api/v1/usage/bandwidth",
        "bw-1",
        json!({"readings": []}),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    // A client does not push readings; a reading of a service that is not
    // colocation names its index.
    let (status, _) = push(
        &admin,
        "/api/v1/usage/bandwidth",
        "bw-2",
        json!({"readings": []}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, p) = push(
        &staff,
        "/api/v1/usage/bandwidth",
        "bw-3",
        json!({"readings": [
            {"service_id": colo, "port": "eth0", "at": slot(120), "in_bps": 1, "out_bps": 1},
            {"service_id": backup, "port": "eth0", "at": slot(121), "in_bps": 1, "out_bps": 1}
        ]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("readings[1].service_id")),
        "{p}"
    );

    // CSV: a bad 4th line refuses the whole file, nothing written.
    let header = "service_id,port,at,in_bps,out_bps\n";
    let bad = format!(
        "{header}{colo},eth0,{},1000000,1000000\n{colo},eth0,{},1000000,1000000\n{colo},eth0,{},lots,1\n",
        slot(101),
        slot(102),
        slot(103)
    );
    let (status, p) = csv(&staff, "bandwidth", &bad).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("lines[4].in_bps")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("line 4:"), "{p}");
    let (_, u) = usage_of(&admin, &colo).await;
    assert_eq!(u["ports"][0]["readings"], 100, "{u}");
    // The file fixed: two new readings at 1 Mbit/s, one replayed (slot 100).
    let good = format!(
        "{header}{colo},eth0,{},1000000,1000000\n{colo},eth0,{},1000000,1000000\n{colo},eth0,{},200000000,50000000\n",
        slot(101),
        slot(102),
        slot(100)
    );
    let (status, r) = csv(&staff, "bandwidth", &good).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["written"].as_u64(), r["already_known"].as_u64()),
        (Some(2), Some(1))
    );

    // R2.8 by hand: n = 102, floor(102 × 5 %) = 5 dropped (200, 198, 196,
    // 194, 192); the highest remaining in = 190 Mbit/s, out = 50; billed 190,
    // flat 100 → 90 Mbit/s × 3.50 = 315.00 EUR.
    let (status, u) = usage_of(&admin, &colo).await;
    assert_eq!(status, 200, "{u}");
    let port = &u["ports"][0];
    assert_eq!(
        (
            port["readings"].as_u64(),
            port["download_p95_mbps"].as_str(),
            port["upload_p95_mbps"].as_str(),
            port["overage_mbps"].as_str(),
            port["amount"].as_str()
        ),
        (
            Some(102),
            Some("190"),
            Some("50"),
            Some("90"),
            Some("315.00")
        ),
        "{port}"
    );
    // Another organisation does not see it.
    assert_eq!(usage_of(&other, &colo).await.0, 404);

    // Power (R11.5): 3 kVA from 00:00 to 10:00, then 1.5 kVA: 10 kVAh above
    // the 2 kVA subscribed; 190 EUR per kVA a month ÷ 744 h in May →
    // 10 × 190 / 744 = 2.5537… → 2.55 EUR.
    let (status, r) = push(
        &staff,
        "/api/v1/usage/power",
        "pw-1",
        json!({"readings": [
            {"service_id": colo, "at": "2026-05-07T00:00:00Z", "kva": "3", "amps": "14"},
            {"service_id": colo, "at": "2026-05-07T10:00:00Z", "kva": "1.5"}
        ]}),
    )
    .await;
    assert_eq!((status, r["written"].as_u64()), (201, Some(2)), "{r}");

    // Storage (R2.9): above the 500 GB on 6 Paris days (1-6 May), peak
    // 742.5 GB: more than 5 days → warning and the smallest tier covering
    // the peak; the demo tariff has one unbounded tier, so 743 GB × 0.05
    // = 37.15 EUR a month from 1 June.
    let storage: Vec<Value> = (1..=6)
        .map(|d| {
            let gb = if d == 6 {
                "742.5".to_owned()
            } else {
                format!("{}", 500 + d * 10)
            };
            json!({"service_id": backup, "at": format!("2026-05-0{d}T10:00:00Z"), "gb": gb})
        })
        .collect();
    let (status, r) = push(
        &staff,
        "/api/v1/usage/storage",
        "st-1",
        json!({"readings": storage}),
    )
    .await;
    assert_eq!((status, r["written"].as_u64()), (201, Some(6)), "{r}");

    // Traffic (R3.5): 5.5 TB exchanged in May.
    let (status, r) = csv(
        &staff,
        "traffic",
        &format!(
            "service_id,at,bytes\n{colo},2026-05-02T00:00:00Z,3000000000000\n{colo},2026-05-03T00:00:00Z,2500000000000\n"
        ),
    )
    .await;
    assert_eq!((status, r["written"].as_u64()), (201, Some(2)), "{r}");

    // Closing May before it ends is refused.
    let (status, p) = post(
        &staff,
        "/api/v1/usage/close",
        Some(json!({"month": "2026-05"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("month_not_over")),
        "{p}"
    );
    // Clients do not close months.
    assert_eq!(
        post(
            &admin,
            "/api/v1/usage/close",
            Some(json!({"month": "2026-05"}))
        )
        .await
        .0,
        403
    );

    // 1 June, 00:30 Paris: the month is over. Staff close it twice (the
    // job of the 1st may run too): the charges exist once.
    let june: jiff::Timestamp = "2026-05-31T22:30:00Z".parse().unwrap();
    app.advance(SignedDuration::from_secs(
        june.as_second() - app.now().as_second(),
    ));
    // Sessions do not last 25 days: log in again.
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    for _ in 0..2 {
        let (status, r) = post(
            &staff,
            "/api/v1/usage/close",
            Some(json!({"month": "2026-05"})),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(
            (
                r["bandwidth_charges"].as_u64(),
                r["power_charges"].as_u64(),
                r["amount"].as_str()
            ),
            (Some(1), Some(1), Some("317.55")),
            "{r}"
        );
    }
    let (_, d) = admin.get_json(&format!("/api/v1/services/{colo}")).await;
    let usage: Vec<&Value> = d["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] != "R3.1")
        .collect();
    let mut got: Vec<(String, String, String)> = usage
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
                c["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "bandwidth:2026-05:eth0".into(),
                "R2.8".into(),
                "315.00".into()
            ),
            ("power:2026-05".into(), "R11.5".into(), "2.55".into()),
        ],
        "{d}"
    );

    // R2.9: the warning mail, and the new fee on the service from June.
    let mail = mail_with(&app, ADMIN_A, "R2.9").await;
    assert!(mail.contains("743 Go") && mail.contains("37.15"), "{mail}");
    let (_, s) = admin.get_json(&format!("/api/v1/services/{backup}")).await;
    assert_eq!(s["monthly_fee"], "37.15", "{s}");
    let (_, u) = usage_of(&admin, &backup).await;
    assert_eq!(
        (
            u["adjustments"][0]["days_over"].as_i64(),
            u["adjustments"][0]["effective_from"].as_str()
        ),
        (Some(6), Some("2026-06-01")),
        "{u}"
    );

    // R3.5: the service is flagged, staff are told, nothing charged.
    let (_, u) = usage_of(&admin, &colo).await;
    assert_eq!(
        (
            u["traffic"]["bytes"].as_u64(),
            u["traffic"]["exceeded"].as_bool()
        ),
        (Some(5_500_000_000_000), Some(true)),
        "{u}"
    );
    let mail = mail_with(&app, STAFF_ADMIN, "5.5").await;
    assert!(mail.contains("R3.5"), "{mail}");

    // Pages: the client's usage page draws the month's traffic with the
    // p95 line; another organisation gets 404; staff import from the back
    // office, a bad line shown with its number and nothing written.
    let page = admin
        .get(&format!("/espace-client/usage/{colo}?month=2026-05"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("role=\"img\""),
        "{html}"
    );
    assert!(
        html.contains("315.00 EUR") && html.contains("95e centile 190 Mbit/s"),
        "{html}"
    );
    // No inline script (the CSP forbids them).
    assert!(!html.contains("<script>"));
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    assert_eq!(
        other
            .get(&format!("/espace-client/usage/{colo}"))
            .await
            .status(),
        404
    );
    let page = staff
        .get(&format!("/back-office/usage/{backup}?month=2026-05"))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("742.5"));
    let r = staff
        .form(
            "/back-office/usage/import",
            &[
                ("kind", "traffic"),
                (
                    "csv",
                    &format!("service_id,at,bytes\n{colo},2026-05-20T00:00:00Z,-5\n"),
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("line 2"));
    let r = staff
        .form(
            "/back-office/usage/import",
            &[
                ("kind", "traffic"),
                (
                    "csv",
                    &format!("service_id,at,bytes\n{colo},2026-05-20T00:00:00Z,5\n"),
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.stop().await;
}
