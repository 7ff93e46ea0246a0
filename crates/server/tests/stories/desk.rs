//! The support desk's back office (issue 5, items 1-5), through HTTP: a
//! maintenance window on a ticket's service moves its GTR (not its GTI) and
//! moves it again when the window is changed or cancelled; a changed window
//! keeps its notice only inside the notified span, re-notifies its clients
//! and bumps the feed's SEQUENCE, a cancelled one shows STATUS:CANCELLED;
//! the queue is sorted by the nearest deadline (breached first) and
//! paginated; the episode forms record, close, correct and exclude with
//! errors at the field; bad input writes nothing.
//!
//! The clock starts on Thursday 7 May 2026 at 17:30 Paris (15:30Z); Friday
//! 8 May is a public holiday. Standard support: Mon-Fri 09:00-18:00.

use crate::maintenance::{a_service, feed, push};
use crate::support::*;
use crate::tickets::complete_notification;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};

fn gtr_due(t: &Value) -> String {
    t["ticket"]["clocks"]["gtr"]["due_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn gti_due(t: &Value) -> String {
    t["ticket"]["clocks"]["gti"]["due_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn maintenance_windows_move_ticket_clocks_and_changes_are_notified(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (org, svc) = a_service(&staff, &admin_a).await;

    // A C2 ticket now (Standard P2 with the provisional I1): GTI 8 h = Thu
    // 17:30-18:00 + Mon 09:00-16:30 (Mon 11 May 14:30Z); GTR 2 JO = 18 h =
    // Thu 0.5 h + Mon 9 h + Tue 09:00-17:30 (Tue 12 May 15:30Z).
    let (status, t) = post(
        &admin_a,
        &format!("/api/v1/organizations/{org}/tickets"),
        Some(complete_notification(&svc, "C2")),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let id = t["ticket"]["id"].as_str().unwrap().to_owned();
    assert_eq!(gti_due(&t), "2026-05-11T14:30:00Z", "{t}");
    assert_eq!(gtr_due(&t), "2026-05-12T15:30:00Z", "{t}");

    // Urgent security works on the service, Mon 11 May 10:00-12:00 Paris:
    // excluded whatever the notice (R4.6), they stop the GTR for their 2 h
    // of business time: Tue 17:30 + 2 h = Tue 18:00 + Wed 09:00-10:30
    // (Wed 13 May 08:30Z). The GTI does not move (maintenance.stops_gti).
    let (status, w) = post(
        &staff,
        "/api/v1/maintenance-windows",
        Some(
            json!({"title": "Correctif OpenSSH", "start": "2026-05-11T08:00:00Z",
            "expected_minutes": 120, "impact": "Redémarrage", "reason": "Faille",
            "contact": "noc@bytel-cloud.example", "services": [svc],
            "urgent_security_reason": "CVE-2026-4242"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{w}");
    let urgent = w["id"].as_str().unwrap().to_owned();
    assert_eq!(w["sequence"], 0);
    let (_, t) = staff.get_json(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(gtr_due(&t), "2026-05-13T08:30:00Z", "{t}");
    assert_eq!(gti_due(&t), "2026-05-11T14:30:00Z", "{t}");
    let why = t["ticket"]["clocks"]["explanation_en"].as_str().unwrap();
    assert!(why.contains("R4.6") && why.contains(&urgent), "{why}");

    // Moved to 14:00-17:00 Paris (3 h): Tue 17:30 + 3 h = Wed 11:30 Paris.
    let (status, w) = staff
        .api(
            Method::PATCH,
            &format!("/api/v1/maintenance-windows/{urgent}"),
            Some(json!({"sequence": 0, "start": "2026-05-11T12:00:00Z", "expected_minutes": 180})),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["sequence"], 1);
    let (_, t) = staff.get_json(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(gtr_due(&t), "2026-05-13T09:30:00Z", "{t}");
    mail_with(&app, ADMIN_A, "Voici ce qui vaut").await;

    // Cancelled from the back office's form: the GTR is back where it was.
    let r = staff
        .form(
            &format!("/back-office/maintenance/{urgent}/cancel"),
            &[("sequence", "1"), ("reason", "Correctif reporté")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let page = staff
        .get("/back-office/maintenance")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Correctif reporté"), "{page}");
    let (_, t) = staff.get_json(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(gtr_due(&t), "2026-05-12T15:30:00Z", "{t}");
    mail_with(&app, ADMIN_A, "(Correctif report").await;

    // R4.6 for a changed window (maintenance.changed_window_notice =
    // within_keeps_first). Planned now for Wed 20 May 20:00-22:00 Paris:
    // notified 13 days ahead, in time.
    let (_, w) = post(
        &staff,
        "/api/v1/maintenance-windows",
        Some(
            json!({"title": "Migration stockage", "start": "2026-05-20T18:00:00Z",
            "expected_minutes": 120, "impact": "Coupure de 10 minutes", "reason": "Baies",
            "contact": "noc@bytel-cloud.example", "services": [svc]}),
        ),
    )
    .await;
    let w2 = w["id"].as_str().unwrap().to_owned();
    assert_eq!(w["notices"][0]["status"], "in_time", "{w}");
    app.advance(SignedDuration::from_hours(1));
    // Narrowed inside the notified span, same impact: the first notice
    // (15:30Z) still counts; the clients are told anyway (16:30Z).
    let (status, w) = staff
        .api(
            Method::PATCH,
            &format!("/api/v1/maintenance-windows/{w2}"),
            Some(json!({"sequence": 0, "start": "2026-05-20T18:30:00Z", "expected_minutes": 60})),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    let n = &w["notices"][0];
    assert_eq!(
        (n["status"].as_str(), n["excluded"].as_bool()),
        (Some("in_time"), Some(true)),
        "{w}"
    );
    assert_eq!(n["notified_at"], "2026-05-07T15:30:00Z");
    assert_eq!(n["last_sent_at"], "2026-05-07T16:30:00Z");
    // Moved to Wed 13 May 20:00 Paris: counted from this notice (7 May
    // 18:30 Paris), less than 7 days ahead: late, not excluded.
    let (status, w) = staff
        .api(
            Method::PATCH,
            &format!("/api/v1/maintenance-windows/{w2}"),
            Some(json!({"sequence": 1, "start": "2026-05-13T18:00:00Z"})),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    let n = &w["notices"][0];
    assert_eq!(
        (n["status"].as_str(), n["excluded"].as_bool()),
        (Some("late"), Some(false)),
        "{w}"
    );
    assert_eq!(n["notified_at"], "2026-05-07T16:30:00Z");
    assert!(
        n["outcome"]["change"]["explanation"]["steps"][0]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("moved"),
        "{w}"
    );
    let changed = mail_with(&app, ADMIN_A, "13/05/2026").await;
    assert!(changed.contains("ne sont pas exclus"), "{changed}");
    // A stale revision, an empty change, a cancellation without a reason:
    // refused, nothing written.
    for (body, code, field) in [
        (json!({"sequence": 1, "impact": "Aucun"}), 409, "sequence"),
        (json!({"sequence": 2}), 422, "start"),
        (
            json!({"sequence": 2, "expected_minutes": 0}),
            422,
            "expected_minutes",
        ),
    ] {
        let (status, p) = staff
            .api(
                Method::PATCH,
                &format!("/api/v1/maintenance-windows/{w2}"),
                Some(body),
            )
            .await;
        assert_eq!((status, p["field"].as_str()), (code, Some(field)), "{p}");
    }
    let (status, p) = post(
        &staff,
        &format!("/api/v1/maintenance-windows/{w2}/cancel"),
        Some(json!({"sequence": 2, "reason": " "})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let feed_a = feed(&app, &admin_a, &org).await;
    let event = feed_a
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&w2))
        .unwrap();
    assert!(
        event.contains("SEQUENCE:2") && event.contains("STATUS:CONFIRMED"),
        "{event}"
    );
    // Clients change nothing: another organisation's window is not found.
    let (status, _) = admin_a
        .api(
            Method::PATCH,
            &format!("/api/v1/maintenance-windows/{w2}"),
            Some(json!({"sequence": 2, "impact": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, w) = post(
        &staff,
        &format!("/api/v1/maintenance-windows/{w2}/cancel"),
        Some(json!({"sequence": 2, "reason": "Baies livrées en retard"})),
    )
    .await;
    assert_eq!((status, w["sequence"].as_i64()), (200, Some(3)), "{w}");
    assert!(w["cancelled_at"].is_string(), "{w}");
    let feed_a = feed(&app, &admin_a, &org).await;
    let event = feed_a
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&w2))
        .unwrap();
    assert!(
        event.contains("SEQUENCE:3") && event.contains("STATUS:CANCELLED"),
        "{event}"
    );
    let (status, p) = staff
        .api(
            Method::PATCH,
            &format!("/api/v1/maintenance-windows/{w2}"),
            Some(json!({"sequence": 3, "impact": "x"})),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition")),
        "{p}"
    );
    mail_with(&app, ADMIN_A, "en retard)").await;
    app.stop().await;
}

/// Staff open a ticket from a call at `at` (back-dated).
async fn call(staff: &Session, org: &str, body: Value, at: &str) -> String {
    let r = staff
        .client
        .post(staff.url(&format!("/api/v1/organizations/{org}/tickets")))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", at)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["ticket"]["reference"].as_str().unwrap().to_owned()
}

fn refs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reference"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn the_queue_puts_the_nearest_deadline_first_one_page_at_a_time(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (org, svc) = a_service(&staff, &admin_a).await;
    // Standard P2 (C2, provisional I1): GTI 8 h of Mon-Fri 09:00-18:00.
    // Opened Wed 6 May 09:00 Paris: due Wed 18:00, breached by now.
    let breached = call(
        &staff,
        &org,
        complete_notification(&svc, "C2"),
        "2026-05-06T07:00:00Z",
    )
    .await;
    // Opened today 10:00 Paris: due today 18:00, 30 min left.
    let soon = call(
        &staff,
        &org,
        complete_notification(&svc, "C2"),
        "2026-05-07T08:00:00Z",
    )
    .await;
    // Opened now: due Mon 11 May 16:30 Paris.
    let later = call(
        &staff,
        &org,
        complete_notification(&svc, "C2"),
        "2026-05-07T15:30:00Z",
    )
    .await;
    // Incomplete (no contact): suspended, its 8 h all left.
    let mut incomplete = complete_notification(&svc, "C2");
    incomplete["contact"] = json!("");
    let suspended = call(&staff, &org, incomplete, "2026-05-07T15:30:00Z").await;
    // C4 = P4: no commitment.
    let p4 = call(
        &staff,
        &org,
        complete_notification(&svc, "C4"),
        "2026-05-07T15:00:00Z",
    )
    .await;

    let (status, l) = staff.get_json("/api/v1/tickets?per_page=2").await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(
        (l["total"].as_i64(), l["page"].as_i64()),
        (Some(5), Some(1))
    );
    assert_eq!(refs(&l), [breached.clone(), soon.clone()]);
    assert_eq!(l["items"][0]["clocks"]["gti"]["state"], "breached", "{l}");
    let (_, l) = staff.get_json("/api/v1/tickets?per_page=2&page=2").await;
    assert_eq!(refs(&l), [later.clone(), suspended.clone()]);
    let (_, l) = staff.get_json("/api/v1/tickets?per_page=2&page=3").await;
    assert_eq!(refs(&l), std::slice::from_ref(&p4));
    let (_, l) = staff.get_json("/api/v1/tickets?priority=P4").await;
    assert_eq!((refs(&l), l["total"].as_i64()), (vec![p4.clone()], Some(1)));
    // The soon-due ticket acknowledged: its GTR now decides (2 JO = Thu
    // 10:00-18:00 + Mon 9 h + Tue 09:00-10:00 Paris), after the later
    // ticket's GTI (Mon 16:30 Paris), which moves up.
    let (_, l) = staff
        .get_json("/api/v1/tickets?state=open&per_page=10")
        .await;
    let id_of = |r: &str| {
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["reference"] == r)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let soon_id = id_of(&soon);
    let (status, _) = post(
        &staff,
        &format!("/api/v1/tickets/{soon_id}/acknowledge"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, l) = staff.get_json("/api/v1/tickets?per_page=3").await;
    assert_eq!(refs(&l), [breached.clone(), later.clone(), soon.clone()]);
    // Bad paging: refused at the field.
    for (q, field) in [
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("page=0", "page"),
    ] {
        let (status, p) = staff.get_json(&format!("/api/v1/tickets?{q}")).await;
        assert_eq!((status, p["field"].as_str()), (422, Some(field)), "{p}");
    }
    // The back office's page: 50 a page, the breached one first and marked.
    let page = staff
        .get("/back-office/tickets")
        .await
        .text()
        .await
        .unwrap();
    let first = page.find(&breached).unwrap();
    assert!(first < page.find(&later).unwrap(), "{page}");
    assert!(page.contains("Page 1 / 1"), "{page}");
    // A client sees its own queue the same way.
    let (_, l) = admin_a
        .get_json(&format!("/api/v1/organizations/{org}/tickets?per_page=1"))
        .await;
    assert_eq!((refs(&l), l["total"].as_i64()), (vec![breached], Some(5)));
    app.stop().await;
}

pub async fn episode_forms_and_bad_input_write_nothing(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (org_a, svc_a) = a_service(&staff, &admin_a).await;
    let (org_b, svc_b) = a_service(&staff, &admin_b).await;

    // Clusters and assignments from the back office.
    let r = staff
        .form(
            "/back-office/clusters",
            &[("id", "par1-c02"), ("label", "Paris 1, cluster 2")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = staff
        .form(
            "/back-office/clusters",
            &[("id", "par1 c02!"), ("label", "x")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("1 to 64 letters"),
        "the error is at the id field: {page}"
    );
    let r = staff
        .form(
            "/back-office/service-clusters",
            &[("service_id", &svc_a), ("cluster_id", "par1-c02")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = staff
        .form(
            "/back-office/service-clusters",
            &[("service_id", &svc_a), ("cluster_id", "nope")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);

    // Recording: an episode ending before it starts is refused at its end
    // field, nothing written; then a good one (Paris times).
    let page = staff
        .get("/back-office/episodes")
        .await
        .text()
        .await
        .unwrap();
    let key = hidden(&page, "key");
    let r = staff
        .form(
            "/back-office/episodes",
            &[
                ("key", &key),
                ("kind", "vcenter"),
                ("target", "par1-c02"),
                ("start", "2026-05-07T10:00"),
                ("end", "2026-05-07T09:00"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    let err = page.find("R5.2: an episode ends after it starts").unwrap();
    assert!(
        err > page.find("id=\"r-end\"").unwrap(),
        "next to the end field"
    );
    let (_, l) = staff.get_json("/api/v1/episodes?cluster_id=par1-c02").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 0, "{l}");
    let r = staff
        .form(
            "/back-office/episodes",
            &[
                ("key", &key),
                ("kind", "vcenter"),
                ("target", "par1-c02"),
                ("start", "2026-05-07T10:00"),
                ("end", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // Submitted twice (same key): one episode.
    staff
        .form(
            "/back-office/episodes",
            &[
                ("key", &key),
                ("kind", "vcenter"),
                ("target", "par1-c02"),
                ("start", "2026-05-07T10:00"),
                ("end", ""),
            ],
        )
        .await;
    let (_, l) = staff
        .get_json("/api/v1/episodes?cluster_id=par1-c02&open=true")
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");
    let e1 = l["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(l["items"][0]["start"], "2026-05-07T08:00:00Z");
    let page = staff
        .get("/back-office/episodes?open=1&kind=vcenter")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&e1), "{page}");

    // Closing before it started: refused at the end field; then closed.
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/close"),
            &[("end", "2026-05-07T09:59")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/close"),
            &[("end", "2026-05-07T10:30")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // A second one after it, then a correction of the first that would
    // overlap it (double count, R5.2): refused, nothing written.
    let (status, e2) = push(
        &staff,
        "/api/v1/episodes",
        "desk-2",
        json!({"kind": "vcenter", "cluster_id": "par1-c02",
            "start": "2026-05-07T09:00:00Z", "end": "2026-05-07T09:20:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{e2}");
    let (_, before) = staff.get_json("/api/v1/episodes?cluster_id=par1-c02").await;
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/correct"),
            &[
                ("version", "1"),
                ("kind", "vcenter"),
                ("start", "2026-05-07T10:00"),
                ("end", "2026-05-07T11:10"),
                ("ticket_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("R5.2 (A2 I.A)"), "{page}");
    // A correction made on a stale version: refused (409).
    let (status, p) = post(
        &staff,
        &format!("/api/v1/episodes/{e1}/correct"),
        Some(json!({"version": 0, "end": "2026-05-07T08:40:00Z"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (409, Some("version")), "{p}");
    let (_, after) = staff.get_json("/api/v1/episodes?cluster_id=par1-c02").await;
    assert_eq!(before, after, "refused corrections wrote nothing");
    // Linked to a ticket (one of B's, so A's ticket count below stays 0),
    // on the current version.
    let (status, t) = post(
        &admin_b,
        &format!("/api/v1/organizations/{org_b}/tickets"),
        Some(complete_notification(&svc_b, "C3")),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["ticket"]["reference"], "T-2026-000001", "{t}");
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/correct"),
            &[
                ("version", "1"),
                ("kind", "vcenter"),
                ("start", "2026-05-07T10:00"),
                ("end", "2026-05-07T10:40"),
                ("ticket_id", "T-2026-000001"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let page = staff
        .get(&format!("/back-office/episodes/{e1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("T-2026-000001"), "{page}");
    // Exclusion: the reason is a select of the terms' R5.3 reasons; none
    // chosen is refused at the field.
    let page = staff
        .get(&format!("/back-office/episodes/{e1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"force_majeure\"")
            && !page.contains("value=\"notified_maintenance\""),
        "{page}"
    );
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/exclude"),
            &[("reason", ""), ("note", "x")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = staff
        .form(
            &format!("/back-office/episodes/{e1}/exclude"),
            &[("reason", "third_party"), ("note", "Panne de l'opérateur")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, e) = staff
        .get_json("/api/v1/episodes?cluster_id=par1-c02&kind=vcenter")
        .await;
    assert_eq!(e["items"][0]["id"], e1.as_str(), "{e}");
    assert_eq!(e["items"][0]["exclusion"], "third_party", "{e}");
    assert_eq!(e["items"][0]["ticket_id"], "T-2026-000001", "{e}");

    // Tickets: on another client's service, a pause without a reason,
    // closing an unacknowledged ticket: refused, nothing written.
    let tickets = format!("/api/v1/organizations/{org_a}/tickets");
    let (status, p) = post(
        &admin_a,
        &tickets,
        Some(complete_notification(&svc_b, "C2")),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("service_ids")),
        "{p}"
    );
    let (_, l) = admin_a.get_json(&tickets).await;
    assert_eq!(l["total"], 0, "{l}");
    let (_, t) = post(
        &admin_a,
        &tickets,
        Some(complete_notification(&svc_a, "C2")),
    )
    .await;
    let id = t["ticket"]["id"].as_str().unwrap().to_owned();
    let (_, before) = staff.get_json(&format!("/api/v1/tickets/{id}")).await;
    let (status, p) = post(
        &staff,
        &format!("/api/v1/tickets/{id}/pause"),
        Some(json!({"request_ref": "courriel"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    let (status, p) = post(&staff, &format!("/api/v1/tickets/{id}/close"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("R4.4"), "{p}");
    let (_, after) = staff.get_json(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(before["events"], after["events"]);
    assert_eq!(before["ticket"]["state"], after["ticket"]["state"]);
    // The episode pages are the back office's: a client gets the 404 page.
    assert_eq!(
        admin_a
            .get(&format!("/back-office/episodes/{e1}"))
            .await
            .status()
            .as_u16(),
        404
    );
    app.stop().await;
}
