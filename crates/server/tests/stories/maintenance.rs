//! Maintenance windows and unavailability episodes (issue 5, items 3 and 4;
//! R4.6, R5.2-R5.3), through HTTP: a window notified 3 days ahead is
//! flagged not excluded and mailed to the affected client only; urgent
//! security maintenance with its reason is excluded; each client's private
//! iCalendar feed lists its own windows only; episodes pushed one at a time
//! and in bulk replay idempotently and refuse a conflicting replay; a
//! cluster episode reaches the services on the cluster; an Alertmanager
//! alert firing then resolved gives one closed episode; bad input is a
//! problem+json and writes nothing; another organisation's identifiers 404.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A validated order of one external backup for the organisation of
/// `admin`: returns (org, service).
pub(crate) async fn a_service(staff: &Session, admin: &Session) -> (String, String) {
    let org = org_of(admin).await;
    let (status, o) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [{"item": {"kind": "external_backup", "storage_gb": 100}, "commitment_months": 12}]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    let id = o["id"].as_str().unwrap();
    send_accept_validate(staff, admin, id).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let svc = list["items"][0]["id"].as_str().unwrap().to_owned();
    (org, svc)
}

/// A JSON POST with an `Idempotency-Key`.
pub(crate) async fn push(s: &Session, path: &str, key: &str, body: Value) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(path))
        .header("x-csrf-token", &s.csrf)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn window(title: &str, start: &str, targets: Value) -> Value {
    let mut w = json!({
        "title": title, "start": start, "expected_minutes": 120,
        "impact": "Coupure de 10 minutes", "reason": "Mise à jour", "contact": "support@bytel-cloud.example"
    });
    for (k, v) in targets.as_object().unwrap() {
        w[k] = v.clone();
    }
    w
}

pub(crate) async fn feed(app: &TestApp, admin: &Session, org: &str) -> String {
    let (status, f) = post(
        admin,
        &format!("/api/v1/organizations/{org}/calendar-feed"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{f}");
    let url = f["url"].as_str().unwrap();
    let path = &url[url.find("/calendar/").unwrap()..];
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"),
        "{:?}",
        r.headers()
    );
    // Unfold RFC 5545 lines before searching.
    r.text().await.unwrap().replace("\r\n ", "")
}

pub async fn maintenance_notices_feeds_and_episodes(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (org_a, svc_a) = a_service(&staff, &admin_a).await;
    let (org_b, svc_b) = a_service(&staff, &admin_b).await;

    // A cluster, and A's service on it.
    let (status, c) = post(
        &staff,
        "/api/v1/clusters",
        Some(json!({"id": "par1-c01", "label": "Paris 1, cluster 1"})),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    let (status, v) = staff
        .api(
            Method::PUT,
            &format!("/api/v1/services/{svc_a}/cluster"),
            Some(json!({"cluster_id": "par1-c01"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    // Three days ahead, on the cluster: A only, flagged not excluded (R4.6).
    let (status, w) = post(
        &staff,
        "/api/v1/maintenance-windows",
        Some(window(
            "Noyau vSphere",
            "2026-05-10T20:00:00Z",
            json!({"clusters": ["par1-c01"]}),
        )),
    )
    .await;
    assert_eq!(status, 201, "{w}");
    let notices = w["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{w}");
    assert_eq!(notices[0]["org_id"], org_a.as_str());
    assert_eq!(notices[0]["status"], "late");
    assert_eq!(notices[0]["excluded"], false);
    assert_eq!(notices[0]["flagged_not_excluded"], true);
    assert_eq!(notices[0]["services"], json!([svc_a]));
    let mail = mail_with(&app, ADMIN_A, "Noyau vSphere").await;
    assert!(mail.contains("ne sont pas exclus"), "{mail}");

    // Urgent security maintenance needs its reason; with it, excluded.
    let mut urgent = window(
        "Faille SSH",
        "2026-05-08T20:00:00Z",
        json!({"services": [svc_b]}),
    );
    urgent["urgent_security_reason"] = json!(" ");
    let (status, p) = post(&staff, "/api/v1/maintenance-windows", Some(urgent.clone())).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("urgent_security_reason")),
        "{p}"
    );
    urgent["urgent_security_reason"] = json!("CVE-2026-0001");
    let (status, w) = post(&staff, "/api/v1/maintenance-windows", Some(urgent)).await;
    assert_eq!(status, 201, "{w}");
    assert_eq!(w["notices"][0]["org_id"], org_b.as_str());
    assert_eq!(w["notices"][0]["excluded"], true);
    mail_with(&app, ADMIN_B, "CVE-2026-0001").await;
    // A heard of its window only.
    assert!(
        app.sink
            .to(ADMIN_B)
            .iter()
            .all(|m| !crate::smtp::decode_qp(&m.data).contains("Noyau vSphere"))
    );
    assert!(
        app.sink
            .to(ADMIN_A)
            .iter()
            .all(|m| !crate::smtp::decode_qp(&m.data).contains("Faille SSH"))
    );
    // Ten days ahead: in time, excluded.
    let (_, w) = post(
        &staff,
        "/api/v1/maintenance-windows",
        Some(window(
            "Stockage",
            "2026-05-17T20:00:00Z",
            json!({"services": [svc_a]}),
        )),
    )
    .await;
    assert_eq!(w["notices"][0]["status"], "in_time", "{w}");
    assert_eq!(w["notices"][0]["excluded"], true);
    // Clients may not plan; unknown services are named.
    let (status, _) = post(
        &admin_a,
        "/api/v1/maintenance-windows",
        Some(window(
            "X",
            "2026-05-17T20:00:00Z",
            json!({"services": [svc_a]}),
        )),
    )
    .await;
    assert_eq!(status, 403);
    let (status, p) = post(
        &staff,
        "/api/v1/maintenance-windows",
        Some(window(
            "X",
            "2026-05-17T20:00:00Z",
            json!({"services": ["svc_nope"]}),
        )),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("services[0]")),
        "{p}"
    );

    // Each client's feed and page list its own windows only.
    let feed_a = feed(&app, &admin_a, &org_a).await;
    assert!(
        feed_a.contains("BEGIN:VCALENDAR")
            && feed_a.contains("Noyau vSphere")
            && feed_a.contains("Stockage"),
        "{feed_a}"
    );
    assert!(!feed_a.contains("Faille SSH"), "{feed_a}");
    let feed_b = feed(&app, &admin_b, &org_b).await;
    assert!(
        feed_b.contains("Faille SSH") && !feed_b.contains("Noyau"),
        "{feed_b}"
    );
    assert_eq!(
        reqwest::get(app.url("/calendar/nope.ics"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let (_, list) = admin_a.get_json("/api/v1/maintenance-windows").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (status, _) = admin_a
        .get_json(&format!(
            "/api/v1/organizations/{org_b}/maintenance-windows"
        ))
        .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &admin_a,
        &format!("/api/v1/organizations/{org_b}/calendar-feed"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // One episode, replayed, then the same key with another body.
    let one = json!({"kind": "cluster_connectivity", "cluster_id": "par1-c01", "start": "2026-05-07T10:00:00Z"});
    let (status, e) = push(&staff, "/api/v1/episodes", "probe-1", one.clone()).await;
    assert_eq!(status, 201, "{e}");
    assert_eq!(e["open"], true);
    let (status, again) = push(&staff, "/api/v1/episodes", "probe-1", one.clone()).await;
    assert_eq!((status, &again["id"]), (201, &e["id"]));
    let mut other = one.clone();
    other["kind"] = json!("vcenter");
    let (status, p) = push(&staff, "/api/v1/episodes", "probe-1", other).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (409, Some("Idempotency-Key")),
        "{p}"
    );
    let (status, _) = push(&admin_a, "/api/v1/episodes", "probe-x", one.clone()).await;
    assert_eq!(status, 403);
    // An episode ending before it starts: 422, nothing written.
    let mut reversed = one.clone();
    reversed["end"] = json!("2026-05-07T09:00:00Z");
    let (status, p) = push(&staff, "/api/v1/episodes", "probe-2", reversed).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("end")), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("R5.2"), "{p}");

    // The cluster episode reaches A's service.
    let (_, l) = staff
        .get_json(&format!(
            "/api/v1/episodes?service_id={svc_a}&month=2026-05"
        ))
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");
    assert!(
        l["exclusion_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("force_majeure")),
        "{l}"
    );
    // Closing it; closing again is refused.
    let id = e["id"].as_str().unwrap();
    let (status, c) = post(
        &staff,
        &format!("/api/v1/episodes/{id}/close"),
        Some(json!({"end": "2026-05-07T10:20:00Z"})),
    )
    .await;
    assert_eq!((status, c["open"].as_bool()), (200, Some(false)), "{c}");
    let (status, _) = post(
        &staff,
        &format!("/api/v1/episodes/{id}/close"),
        Some(json!({"end": "2026-05-07T10:30:00Z"})),
    )
    .await;
    assert_eq!(status, 409);

    // Bulk: 100 episodes on B's service, one hour apart, replayed.
    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({"kind": "vm_storage_access", "service_id": svc_b,
            "start": format!("2026-05-0{}T{:02}:00:00Z", 1 + i / 24, i % 24),
            "end": format!("2026-05-0{}T{:02}:10:00Z", 1 + i / 24, i % 24)})
        })
        .collect();
    let bulk = json!({"episodes": items});
    let (status, r) = push(&staff, "/api/v1/episodes/bulk", "batch-1", bulk.clone()).await;
    assert_eq!((status, r["created"].as_u64()), (201, Some(100)), "{r}");
    let (status, again) = push(&staff, "/api/v1/episodes/bulk", "batch-1", bulk.clone()).await;
    assert_eq!((status, &again), (201, &r));
    let mut changed = bulk.clone();
    changed["episodes"][3]["kind"] = json!("vcenter");
    let (status, _) = push(&staff, "/api/v1/episodes/bulk", "batch-1", changed).await;
    assert_eq!(status, 409);
    let mut bad = bulk.clone();
    bad["episodes"][7]["end"] = json!("2026-04-01T00:00:00Z");
    let (status, p) = push(&staff, "/api/v1/episodes/bulk", "batch-2", bad).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("episodes[7].end")),
        "{p}"
    );
    // An episode links to a ticket that exists, named by id or reference.
    let mut unknown = bulk.clone();
    unknown["episodes"][9]["ticket_id"] = json!("T-1999-000001");
    let (status, p) = push(&staff, "/api/v1/episodes/bulk", "batch-3", unknown).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("episodes[9].ticket_id")),
        "{p}"
    );
    let (_, l) = staff
        .get_json(&format!("/api/v1/episodes?service_id={svc_b}&limit=1000"))
        .await;
    assert_eq!(
        l["items"].as_array().unwrap().len(),
        100,
        "batch-2 and batch-3 wrote nothing"
    );

    // The largest bulk (10 000, over 1 MiB of JSON) goes through; one more is refused.
    let many: Vec<Value> = (0..10_001)
        .map(|i| {
            json!({"kind": "cluster_connectivity", "service_id": svc_a,
            "start": format!("2026-04-01T00:{:02}:{:02}Z", i / 3600 % 60, i % 60),
            "end": "2026-04-30T00:00:00Z", "source": "zabbix", "key": format!("z{i}")})
        })
        .collect();
    let (status, p) = push(
        &staff,
        "/api/v1/episodes/bulk",
        "batch-big",
        json!({"episodes": many}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("episodes")),
        "{p}"
    );
    let (status, r10) = push(
        &staff,
        "/api/v1/episodes/bulk",
        "batch-big",
        json!({"episodes": &many[..10_000]}),
    )
    .await;
    assert_eq!(
        (status, r10["created"].as_u64()),
        (201, Some(10_000)),
        "{status}"
    );

    // A correction that would overlap the next episode would count its minutes twice.
    let first = r["ids"][0].as_str().unwrap();
    let (status, p) = post(
        &staff,
        &format!("/api/v1/episodes/{first}/correct"),
        Some(json!({"end": "2026-05-01T01:05:00Z"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("double_count")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("R5.2"), "{p}");
    // A link to a ticket that does not exist is refused, nothing written.
    let (status, p) = post(
        &staff,
        &format!("/api/v1/episodes/{first}/correct"),
        Some(json!({"end": "2026-05-01T00:30:00Z", "ticket_id": "TCK-1"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("ticket_id")),
        "{p}"
    );
    let (status, c) = post(
        &staff,
        &format!("/api/v1/episodes/{first}/correct"),
        Some(json!({"end": "2026-05-01T00:30:00Z"})),
    )
    .await;
    assert_eq!((status, c["ticket_id"].as_str()), (200, None), "{c}");
    // Exclusion needs an R5.3 reason.
    let (status, p) = post(
        &staff,
        &format!("/api/v1/episodes/{first}/exclude"),
        Some(json!({"reason": "bad_luck", "note": "?"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let (status, x) = post(
        &staff,
        &format!("/api/v1/episodes/{first}/exclude"),
        Some(json!({"reason": "force_majeure", "note": "Inondation du site"})),
    )
    .await;
    assert_eq!(
        (status, x["exclusion"].as_str()),
        (200, Some("force_majeure")),
        "{x}"
    );
    // Another organisation's identifiers: not found.
    let (status, _) = post(
        &admin_a,
        &format!("/api/v1/episodes/{first}/close"),
        Some(json!({"end": "2026-05-07T10:30:00Z"})),
    )
    .await;
    assert_eq!(status, 404);

    // Alertmanager: firing, firing again, resolved: one closed episode.
    let alert = |status: &str, ends: &str| {
        json!({
            "version": "4", "status": status, "receiver": "ciel", "groupKey": "{}:{}",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": [{"status": status, "labels": {"alertname": "VCenterDown", "ciel_kind": "vcenter", "cluster": "par1-c01"},
                "annotations": {}, "startsAt": "2026-05-07T12:00:00Z", "endsAt": ends,
                "generatorURL": "http://prom", "fingerprint": "a1b2c3"}]
        })
    };
    let am = "/api/v1/episodes/alertmanager";
    let (status, r) = post(&staff, am, Some(alert("firing", "0001-01-01T00:00:00Z"))).await;
    assert_eq!((status, r["opened"].as_u64()), (200, Some(1)), "{r}");
    let (_, r) = post(&staff, am, Some(alert("firing", "0001-01-01T00:00:00Z"))).await;
    assert_eq!(r["unchanged"], 1, "{r}");
    let (_, r) = post(&staff, am, Some(alert("resolved", "2026-05-07T12:09:00Z"))).await;
    assert_eq!(r["closed"], 1, "{r}");
    let (_, l) = staff
        .get_json("/api/v1/episodes?cluster_id=par1-c01&kind=vcenter")
        .await;
    let items = l["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{l}");
    assert_eq!(items[0]["end"], "2026-05-07T12:09:00Z");
    assert_eq!(items[0]["source"], "alertmanager");

    // The portal: staff plan from the back office; the client's page lists
    // its windows and shows a new feed URL once; the episode log filters.
    let page = staff
        .get("/back-office/maintenance")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Noyau vSphere") && page.contains("Faille SSH"),
        "{page}"
    );
    let r = staff
        .form(
            "/back-office/maintenance",
            &[
                ("title", "Firmware baies"),
                ("start", "2026-05-09T22:00"),
                ("minutes", "60"),
                ("impact", "Aucun"),
                ("reason", "Firmware"),
                ("contact", "NOC"),
                ("services", &svc_b),
                ("clusters", ""),
                ("urgent", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Firmware baies"));
    mail_with(&app, ADMIN_B, "Firmware baies").await;
    let r = staff
        .form(
            "/back-office/maintenance",
            &[
                ("title", "Sans contact"),
                ("start", "2026-05-09T22:00"),
                ("minutes", "60"),
                ("impact", "Aucun"),
                ("reason", "Firmware"),
                ("contact", ""),
                ("services", &svc_b),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = admin_b
        .get("/espace-client/maintenance")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Firmware baies") && page.contains("Faille SSH") && !page.contains("Noyau"),
        "{page}"
    );
    let page = admin_b
        .form("/espace-client/maintenance/feed", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/calendar/") && page.contains(".ics"),
        "{page}"
    );
    let page = staff
        .get("/back-office/episodes?month=2026-05&cluster_id=par1-c01")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("alertmanager") && !page.contains(first),
        "{page}"
    );
    let (status, _) = (
        admin_a.get("/back-office/episodes").await.status().as_u16(),
        (),
    );
    assert_ne!(status, 200);
    app.stop().await;
}
