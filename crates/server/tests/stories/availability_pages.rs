//! Colocation availability (issue 5, item 7; R5.6) and the per-service SLA
//! page (item 8), through HTTP. Expected figures are worked by hand in the
//! comments.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn push_dc(s: &Session, path: &str, key: &str, body: Value) -> (u16, Value) {
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

async fn dc_count(s: &Session) -> usize {
    let (status, l) = s.get_json("/api/v1/datacenter-episodes").await;
    assert_eq!(status, 200, "{l}");
    l["items"].as_array().unwrap().len()
}

pub async fn colocation_episodes_merge_into_the_yearly_figure(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let one = "/api/v1/datacenter-episodes";
    let bulk = "/api/v1/datacenter-episodes/bulk";

    // PA3 network down 10:00 → 10:30 UTC on 1 February.
    let net = json!({"datacenter": "PA3", "kind": "network",
        "start": "2026-02-01T10:00:00Z", "end": "2026-02-01T10:30:00Z", "source": "probe"});
    let (status, first) = push_dc(&staff, one, "dc-1", net.clone()).await;
    assert_eq!(status, 201, "{first}");
    // A replay answers the first answer; another body under the key is refused.
    let (status, again) = push_dc(&staff, one, "dc-1", net).await;
    assert_eq!((status, &again["id"]), (201, &first["id"]), "{again}");
    let (status, p) = push_dc(
        &staff,
        one,
        "dc-1",
        json!({"datacenter": "PA3", "kind": "power", "start": "2026-02-01T10:00:00Z"}),
    )
    .await;
    assert_eq!((status, p["code"].as_str()), (409, Some("conflict")), "{p}");
    assert_eq!(dc_count(&staff).await, 1);

    // Bad input writes nothing: an end before the start, an unknown datacenter.
    let (status, p) = push_dc(
        &staff,
        bulk,
        "dc-bad",
        json!({"episodes": [
            {"datacenter": "MLB", "kind": "power", "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"},
            {"datacenter": "MLB", "kind": "power", "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T09:00:00Z"}]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("episodes[1].end")),
        "{p}"
    );
    let (status, p) = push_dc(
        &staff,
        one,
        "dc-bad-2",
        json!({"datacenter": "XYZ", "kind": "power", "start": "2026-03-01T10:00:00Z"}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("datacenter")),
        "{p}"
    );
    assert_eq!(dc_count(&staff).await, 1);
    // Clients do not push.
    let (status, _) = push_dc(
        &admin_a,
        one,
        "dc-client",
        json!({"datacenter": "PA3",
        "kind": "power", "start": "2026-03-01T10:00:00Z"}),
    )
    .await;
    assert_eq!(status, 403);

    // Bulk: PA3 power 10:15 → 10:45 (overlaps the network loss by 15 min),
    // PA3 temperature 12:00 → 12:20 on 10 March, MLB network one hour.
    let (status, r) = push_dc(
        &staff,
        bulk,
        "dc-bulk",
        json!({"episodes": [
            {"datacenter": "PA3", "kind": "power", "start": "2026-02-01T10:15:00Z", "end": "2026-02-01T10:45:00Z"},
            {"datacenter": "PA3", "kind": "temperature", "start": "2026-03-10T12:00:00Z", "end": "2026-03-10T12:20:00Z"},
            {"datacenter": "MLB", "kind": "network", "start": "2026-04-01T00:00:00Z", "end": "2026-04-01T01:00:00Z"}]}),
    )
    .await;
    assert_eq!((status, &r["created"]), (201, &json!(3)), "{r}");
    let temperature = r["ids"][1].as_str().unwrap().to_owned();

    // PA3 2026: merged 10:00 → 10:45 = 45 min, plus 20 = U 65 of
    // 365 × 1 440 = 525 600; (525 600 − 65) / 525 600 = 99.98763 % < 99.99
    // (52.56 minutes allowed): missed. Per kind 30 / 30 / 20.
    let (status, y) = staff
        .get_json("/api/v1/datacenters/PA3/availability?year=2026")
        .await;
    assert_eq!(status, 200, "{y}");
    assert_eq!(y["year_minutes"], 525_600);
    assert_eq!(y["unavailable_minutes"], 65);
    assert_eq!(y["rate_display"], "99.9876");
    assert_eq!(y["guaranteed_percent"], "99.99");
    assert_eq!(y["met"], false);
    assert_eq!(y["measure"], "combined");
    let kinds: Vec<i64> = y["per_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["unavailable_minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(kinds, vec![30, 30, 20]);
    let steps = y["explanation"]["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["rule"] == "R5.6" && s["clause"] == "A2 I.A.2"),
        "{y}"
    );

    // The temperature loss was force majeure: excluded (audited), U = 45,
    // (525 600 − 45) / 525 600 = 99.99144 %: met.
    let (status, e) = post(
        &staff,
        &format!("/api/v1/datacenter-episodes/{temperature}/exclude"),
        Some(json!({"reason": "force_majeure", "note": "canicule, arrêté préfectoral"})),
    )
    .await;
    assert_eq!(
        (status, &e["exclusion"]),
        (200, &json!("force_majeure")),
        "{e}"
    );
    let (status, p) = post(
        &staff,
        &format!("/api/v1/datacenter-episodes/{temperature}/exclude"),
        Some(json!({"reason": "notified_maintenance", "note": "x"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let (_, y) = staff
        .get_json("/api/v1/datacenters/PA3/availability?year=2026")
        .await;
    assert_eq!(
        (y["unavailable_minutes"].as_i64(), y["met"].as_bool()),
        (Some(45), Some(true))
    );
    assert_eq!(y["rate_display"], "99.9914");

    // An open episode counts up to now (7 May 15:30 UTC): DIJ power since
    // 10:00 = 330 min; closed at 11:00 by a correction: 60.
    let (status, open) = push_dc(
        &staff,
        one,
        "dc-open",
        json!({"datacenter": "DIJ", "kind": "power", "start": "2026-05-07T10:00:00Z"}),
    )
    .await;
    assert_eq!((status, &open["open"]), (201, &json!(true)), "{open}");
    let (_, y) = staff.get_json("/api/v1/datacenters/DIJ/availability").await;
    assert_eq!(
        (y["year"].as_i64(), y["unavailable_minutes"].as_i64()),
        (Some(2026), Some(330))
    );
    let (status, c) = post(
        &staff,
        &format!(
            "/api/v1/datacenter-episodes/{}/correct",
            open["id"].as_str().unwrap()
        ),
        Some(json!({"end": "2026-05-07T11:00:00Z"})),
    )
    .await;
    assert_eq!((status, &c["open"]), (200, &json!(false)), "{c}");
    let (_, y) = staff.get_json("/api/v1/datacenters/DIJ/availability").await;
    assert_eq!(y["unavailable_minutes"], 60);
    let (status, p) = post(
        &staff,
        &format!(
            "/api/v1/datacenter-episodes/{}/correct",
            open["id"].as_str().unwrap()
        ),
        Some(json!({"end": "2026-05-07T09:00:00Z"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("end")), "{p}");

    // Corrections and exclusions are in the audit log.
    let root = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let (_, audit) = root.get_json("/api/v1/audit?limit=200").await;
    let text = audit.to_string();
    for action in [
        "datacenter_episode.push",
        "datacenter_episode.bulk",
        "datacenter_episode.exclude",
        "datacenter_episode.correct",
    ] {
        assert!(text.contains(action), "{action} not audited");
    }

    // A client sees the figure of a datacenter it has colocation in, only.
    let org_a = org_of(&admin_a).await;
    let (status, none) = admin_a
        .get_json(&format!(
            "/api/v1/organizations/{org_a}/colocation-availability?year=2026"
        ))
        .await;
    assert_eq!(
        (status, none["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{none}"
    );
    assert_eq!(
        admin_a
            .get_json("/api/v1/datacenters/PA3/availability")
            .await
            .0,
        404
    );
    let colo = json!({"item": {"kind": "colocation", "datacenter": "PA3", "emplacement": "salle 2, baie 14",
        "rack_units": 4, "power_kva": "2", "max_amperage_a": "16", "bandwidth_flat_mbps": 100,
        "overage_price_per_mbps": "3.50"}, "commitment_months": 12});
    let (status, o) = post(
        &staff,
        &format!("/api/v1/organizations/{org_a}/orders"),
        Some(json!({"lines": [colo]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    send_accept_validate(&staff, &admin_a, o["id"].as_str().unwrap()).await;
    let (status, mine) = admin_a
        .get_json(&format!(
            "/api/v1/organizations/{org_a}/colocation-availability?year=2026"
        ))
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["items"][0]["datacenter"], "PA3");
    assert_eq!(mine["items"][0]["unavailable_minutes"], 45);
    assert_eq!(
        admin_a
            .get_json("/api/v1/datacenters/PA3/availability")
            .await
            .0,
        200
    );
    assert_eq!(
        admin_a
            .get_json("/api/v1/datacenters/MLB/availability")
            .await
            .0,
        404
    );
    // B reads neither A's list nor PA3.
    assert_eq!(
        admin_b
            .get_json(&format!(
                "/api/v1/organizations/{org_a}/colocation-availability"
            ))
            .await
            .0,
        404
    );
    assert_eq!(
        admin_b
            .get_json("/api/v1/datacenters/PA3/availability")
            .await
            .0,
        404
    );

    // Pages: the client's datacenters, the back office per datacenter.
    let page = admin_a.get("/espace-client/colocation?year=2026").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("PA3") && html.contains("99,9914"), "{html}");
    assert!(!html.contains("MLB"));
    let page = staff.get("/back-office/colocation/PA3?year=2026").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("A2 I.A.2") && html.contains("force_majeure"),
        "{html}"
    );
    let page = staff.get("/back-office/colocation?year=2026").await;
    let html = page.text().await.unwrap();
    for dc in ["MLB", "PA3", "TLS", "DIJ"] {
        assert!(html.contains(dc), "{dc}");
    }
    assert_eq!(admin_a.get("/back-office/colocation").await.status(), 404);
    app.stop().await;
}

pub async fn the_sla_page_draws_the_month_and_the_year(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin_a).await;
    // One Mono Site VM (99.90 %), provisioned now (7 May 2026 17:30 Paris).
    let vm = json!({"item": {"kind": "cloud_vm", "vcpu": 2, "ram_gb": 4, "storage_gb": 50,
        "class": "mono_site"}, "commitment_months": 12});
    let (status, o) = post(
        &staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [vm]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    send_accept_validate(&staff, &admin_a, o["id"].as_str().unwrap()).await;
    let (_, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, v) = post(
        &staff,
        &format!("/api/v1/services/{id}/provision"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = post(
        &staff,
        "/api/v1/clusters",
        Some(json!({"id": "par1-c09", "label": "Paris 1, cluster 9"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = staff
        .api(
            Method::PUT,
            &format!("/api/v1/services/{id}/cluster"),
            Some(json!({"cluster_id": "par1-c09"})),
        )
        .await;
    assert_eq!(status, 200);
    // 6 May 23:50 → 7 May 00:20 Paris (10 + 20 min), 7 May 12:00 → 12:30
    // Paris (30 min). U = 60 of 31 × 1 440 = 44 640:
    // 44 580 / 44 640 = 99.8656 % < 99.90 → [99.50, 99.90) → 5 %.
    for (key, start, end) in [
        ("p1", "2026-05-06T21:50:00Z", "2026-05-06T22:20:00Z"),
        ("p2", "2026-05-07T10:00:00Z", "2026-05-07T10:30:00Z"),
    ] {
        let (status, e) = push_dc(
            &staff,
            "/api/v1/episodes",
            key,
            json!({"kind": "cluster_connectivity", "cluster_id": "par1-c09", "start": start, "end": end}),
        )
        .await;
        assert_eq!(status, 201, "{e}");
    }
    let (status, s) = admin_a
        .get_json(&format!("/api/v1/services/{id}/sla?month=2026-05"))
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["unavailable_minutes"], 60);
    assert_eq!(s["rate_display"], "99.8656");
    assert_eq!(s["penalty_percent"], "5");
    assert_eq!(s["from_statement"], false);
    let days = s["days"].as_array().unwrap();
    assert_eq!(days.len(), 31);
    let by_day: Vec<i64> = days
        .iter()
        .map(|d| d["unavailable_minutes"].as_i64().unwrap())
        .collect();
    assert_eq!((by_day[5], by_day[6]), (10, 50));
    assert_eq!(by_day.iter().sum::<i64>(), 60, "the days make the month");
    // Days still to come have no rate.
    assert!(days[6]["rate_percent"].is_string() && days[7]["rate_percent"].is_null());
    let history = s["history"].as_array().unwrap();
    assert_eq!(history.len(), 12);
    assert_eq!(history[0]["month"], "2025-06");
    assert!(
        history[10]["rate_percent"].is_null(),
        "April: before provisioning"
    );
    assert!(history[11]["rate_percent"].is_string());

    // The page: two accessible SVG charts, a bar per day so far (1-7 May),
    // the day's exact figure in its title: (1 440 − 10) / 1 440 = 99.3056 %.
    let r = admin_a
        .get(&format!("/espace-client/services/{id}/sla?month=2026-05"))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("<svg ").count(), 2, "{html}");
    assert_eq!(html.matches("role=\"img\"").count(), 2);
    let daily = &html[html.find("id=\"sla-daily\"").unwrap()..];
    let daily = &daily[..daily.find("</svg>").unwrap()];
    assert_eq!(daily.matches("<rect ").count(), 7, "{daily}");
    assert!(
        daily.contains("<title>2026-05-06 : 99,3056 % (10 min / 1440)</title>"),
        "{daily}"
    );
    assert!(
        daily.contains(">31</text>"),
        "every day of the month is labelled"
    );
    let yearly = &html[html.find("id=\"sla-history\"").unwrap()..];
    assert_eq!(yearly.matches("<circle ").count(), 1);
    assert!(yearly.contains(">2025-06</text>") && yearly.contains(">2026-05</text>"));
    assert!(
        html.contains("99,8656 %") && html.contains("A2 II.A.1"),
        "{html}"
    );
    // In English, with the English explanation.
    let r = admin_a
        .client
        .post(admin_a.url("/lang"))
        .form(&[
            ("_csrf", admin_a.csrf.as_str()),
            ("lang", "en"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let html = admin_a
        .get(&format!("/espace-client/services/{id}/sla?month=2026-05"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Daily availability") && html.contains("99.8656 %"),
        "{html}"
    );

    // Staff see it in the back office; bad months are refused.
    assert_eq!(
        staff
            .get(&format!("/back-office/services/{id}/sla"))
            .await
            .status(),
        200
    );
    let (status, p) = admin_a
        .get_json(&format!("/api/v1/services/{id}/sla?month=2026-13"))
        .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("month")), "{p}");
    let (status, p) = admin_a
        .get_json(&format!("/api/v1/services/{id}/sla?month=2026-06"))
        .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("month")), "{p}");
    // Another organisation gets 404, on the page and in the API.
    assert_eq!(
        admin_b
            .get(&format!("/espace-client/services/{id}/sla"))
            .await
            .status(),
        404
    );
    assert_eq!(
        admin_b
            .get_json(&format!("/api/v1/services/{id}/sla"))
            .await
            .0,
        404
    );

    // 1 June 00:00 Paris: the statement job writes May; the page then reads
    // the stored statement, with the same figures, 31 days of bars.
    let first_june: jiff::Timestamp = "2026-05-31T22:00:00Z".parse().unwrap();
    app.advance(app.now().duration_until(first_june) + jiff::SignedDuration::from_secs(1));
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let mut stored = Value::Null;
    for _ in 0..250 {
        let (_, s) = admin_a
            .get_json(&format!("/api/v1/services/{id}/sla?month=2026-05"))
            .await;
        if s["from_statement"] == true {
            stored = s;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        stored["from_statement"], true,
        "no stored statement within 5 s"
    );
    assert_eq!(stored["unavailable_minutes"], 60);
    assert_eq!(stored["rate_display"], "99.8656");
    assert!(stored["days"][30]["rate_percent"].is_string());
    let html = admin_a
        .get(&format!("/espace-client/services/{id}/sla?month=2026-05"))
        .await
        .text()
        .await
        .unwrap();
    let daily = &html[html.find("id=\"sla-daily\"").unwrap()..];
    let daily = &daily[..daily.find("</svg>").unwrap()];
    assert_eq!(daily.matches("<rect ").count(), 31);
    app.stop().await;
}
