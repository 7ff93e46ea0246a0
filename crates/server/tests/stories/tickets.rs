//! Support desk tickets (issue 5, items 1-2; R4.2-R4.5), through HTTP: a
//! Premium client opens a C2 ticket, staff set I2 and the deadlines follow
//! the matrix and the Premium calendar (8 May is a holiday); staff are
//! alerted at 75 % of the GTI; a pause without reason and a closure before
//! acknowledgement are refused naming R4.4 and write nothing; a pause moves
//! the GTR; an incomplete notification suspends the clock; the closure
//! mail gives the interruption's duration; the third out-of-scope ticket is
//! billable and handed to billing once; another organisation gets 404.

use crate::support::*;
use ciel_store::{Scope, charges};
use jiff::SignedDuration;
use serde_json::{Value, json};

/// Staff sell `item` to the organisation of `admin` (sent, accepted, validated).
pub(crate) async fn sell(staff: &Session, admin: &Session, item: Value) -> String {
    let org = org_of(admin).await;
    let (status, order) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [{"item": item}]})),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    for (who, step) in [(staff, "send"), (admin, "accept"), (staff, "validate")] {
        let (status, v) = post(who, &format!("/api/v1/orders/{id}/{step}"), None).await;
        assert_eq!(status, 200, "{step}: {v}");
    }
    org
}

pub(crate) fn complete_notification(service: &str, criticality: &str) -> Value {
    json!({
        "service_ids": [service], "criticality": criticality,
        "caller": "Jeanne Martin", "caller_authorisation": "DSI, administratrice du compte",
        "sites": "Lyon", "service_type": "Support", "description": "Les VM ne répondent plus",
        "consequences": "Production arrêtée", "contact": "jeanne.martin@atelier-numerique.example"
    })
}

pub async fn tickets_follow_the_matrix_the_calendar_and_r4(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = sell(
        &staff,
        &admin_a,
        json!({"kind": "support", "level": "premium"}),
    )
    .await;
    let (_, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let service = list["items"][0]["id"].as_str().unwrap().to_owned();
    let tickets = format!("/api/v1/organizations/{org}/tickets");

    // Thu 7 May 2026, 17:30 Paris: the client opens a C2 ticket.
    let (status, t) = post(
        &admin_a,
        &tickets,
        Some(complete_notification(&service, "C2")),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let t1 = t["ticket"]["id"].as_str().unwrap().to_owned();
    let r1 = t["ticket"]["reference"].as_str().unwrap().to_owned();
    assert_eq!(r1, "T-2026-000001");
    assert_eq!(t["ticket"]["support_level"], "premium");
    assert_eq!(t["ticket"]["channel"], "client_space");
    assert_eq!(t["ticket"]["notification_complete"], true);
    assert_eq!(t["ticket"]["clocks"]["impact_provisional"], true);
    let url = |id: &str, step: &str| format!("/api/v1/tickets/{id}/{step}");

    // Staff set I2: C2 x I2 = P2; Premium P2 = GTI 4 h, GTR 1 JO (10 h), on
    // Mon-Sat 08:00-18:00 without holidays: 30 min on Thursday, Friday 8 May
    // is a holiday, the rest on Saturday.
    let (status, t) = post(&staff, &url(&t1, "impact"), Some(json!({"impact": "I2"}))).await;
    assert_eq!(status, 200, "{t}");
    let c = &t["ticket"]["clocks"];
    assert_eq!(
        (c["priority"].as_str(), c["matrix_priority"].as_str()),
        (Some("P2"), Some("P2"))
    );
    assert_eq!(c["downgraded_from_p1"], false);
    assert_eq!(c["gti"]["target"], "4 h");
    assert_eq!(c["gti"]["due_at"], "2026-05-09T09:30:00Z", "{c}");
    assert_eq!(c["gtr"]["due_at"], "2026-05-09T15:30:00Z", "{c}");
    assert_eq!(c["gti"]["state"], "running");

    // Bad input: a pause without a reason, closing before acknowledgement,
    // a client setting the impact; nothing written.
    let (status, p) = post(
        &staff,
        &url(&t1, "pause"),
        Some(json!({"request_ref": "mail"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reason")), "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R4.4"), "{p}");
    let (status, p) = post(&staff, &url(&t1, "close"), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R4.4"), "{p}");
    let (status, _) = post(&admin_a, &url(&t1, "impact"), Some(json!({"impact": "I4"}))).await;
    assert_eq!(status, 403);
    let (_, d) = admin_a.get_json(&format!("/api/v1/tickets/{t1}")).await;
    assert_eq!(d["events"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d["ticket"]["state"], "open");

    // The conversation.
    let (status, d) = post(
        &admin_a,
        &url(&t1, "messages"),
        Some(json!({"body": "Des nouvelles ?"})),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let (status, d) = post(
        &staff,
        &url(&t1, "messages"),
        Some(json!({"body": "Nous regardons."})),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let sides: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| e["side"].as_str().unwrap())
        .collect();
    assert_eq!(sides, ["client", "staff"]);

    // Sat 9 May, 10:31 Paris: 3 h 01 of the GTI's 4 h (75 % at 10:30): the
    // support staff are alerted once.
    app.advance(SignedDuration::from_mins(41 * 60 + 1));
    let alert = mail_with(&app, STAFF_SUPPORT, &r1).await;
    assert!(alert.contains("GTI"), "{alert}");
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;

    // Acknowledged in time; a pause for site access (1 h) moves the GTR.
    let (status, t) = post(&staff, &url(&t1, "acknowledge"), None).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["ticket"]["clocks"]["gti"]["state"], "met");
    let (status, t) = post(
        &staff,
        &url(&t1, "pause"),
        Some(json!({"reason": "site_access_request", "request_ref": "e-mail du 9 mai 10:31"})),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["ticket"]["state"], "paused");
    assert_eq!(t["ticket"]["clocks"]["suspended"], true);
    app.advance(SignedDuration::from_hours(1));
    let (status, t) = post(&staff, &url(&t1, "resume"), None).await;
    assert_eq!(status, 200, "{t}");
    // 3 h 01 elapsed, 6 h 59 left from 11:31: 6 h 29 on Saturday, 30 min on Monday.
    assert_eq!(
        t["ticket"]["clocks"]["gtr"]["due_at"], "2026-05-11T06:30:00Z",
        "{t}"
    );

    // An incomplete notification (no contact, no consequences) is flagged
    // and its clocks stay at zero until completed.
    let mut body = complete_notification(&service, "C3");
    body["contact"] = json!("");
    body.as_object_mut().unwrap().remove("consequences");
    let (status, t) = post(&admin_a, &tickets, Some(body)).await;
    assert_eq!(status, 201, "{t}");
    let t2 = t["ticket"]["id"].as_str().unwrap().to_owned();
    assert_eq!(t["ticket"]["notification_complete"], false);
    assert_eq!(t["ticket"]["missing"], json!(["consequences", "contact"]));
    app.advance(SignedDuration::from_mins(30));
    let (_, t) = admin_a.get_json(&format!("/api/v1/tickets/{t2}")).await;
    assert_eq!(t["ticket"]["clocks"]["suspended"], true);
    assert_eq!(t["ticket"]["clocks"]["gti"]["elapsed_seconds"], 0, "{t}");
    let (status, t) = post(
        &admin_a,
        &url(&t2, "notification"),
        Some(
            json!({"contact": "paul.durand@atelier-numerique.example", "consequences": "Lenteurs"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["ticket"]["notification_complete"], true);
    app.advance(SignedDuration::from_mins(10));
    let (_, t) = admin_a.get_json(&format!("/api/v1/tickets/{t2}")).await;
    assert_eq!(t["ticket"]["clocks"]["gti"]["elapsed_seconds"], 600, "{t}");
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;

    // R4.5: the first two out-of-scope tickets are not billable, the third is.
    let (status, t) = post(
        &staff,
        &url(&t1, "cause"),
        Some(json!({"cause": "client_equipment"})),
    )
    .await;
    assert_eq!(
        (status, &t["ticket"]["billable"]),
        (200, &json!(false)),
        "{t}"
    );
    let (status, t) = post(
        &staff,
        &url(&t2, "cause"),
        Some(json!({"cause": "abnormal_use"})),
    )
    .await;
    assert_eq!(
        (status, &t["ticket"]["billable"]),
        (200, &json!(false)),
        "{t}"
    );
    let (status, t) = post(
        &admin_a,
        &tickets,
        Some(complete_notification(&service, "C4")),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let t3 = t["ticket"]["id"].as_str().unwrap().to_owned();
    let r3 = t["ticket"]["reference"].as_str().unwrap().to_owned();
    let (status, t) = post(
        &staff,
        &url(&t3, "cause"),
        Some(json!({"cause": "fraudulent_use"})),
    )
    .await;
    assert_eq!(
        (status, &t["ticket"]["billable"]),
        (200, &json!(true)),
        "{t}"
    );
    let (status, _) = post(
        &staff,
        &url(&t3, "cause"),
        Some(json!({"cause": "abnormal_use"})),
    )
    .await;
    assert_eq!(status, 409);
    let db = app.state().store().db();
    let billed = charges::of_source(db, &Scope::Staff, "ticket", &t3)
        .await
        .unwrap();
    assert_eq!(billed.len(), 1, "{billed:?}");
    assert_eq!(
        (billed[0].amount.as_str(), billed[0].rule.as_str()),
        ("150.00", "R4.5")
    );
    let told = mail_with(&app, ADMIN_A, &r3).await;
    assert!(told.contains("150.00"), "{told}");
    assert!(
        charges::of_source(db, &Scope::Staff, "ticket", &t1)
            .await
            .unwrap()
            .is_empty()
    );

    // Restoration, then closure: the end-of-interruption mail gives its
    // duration, from Thu 17:30 to Sat 12:11 Paris, less the 1 h pause.
    let (status, t) = post(&staff, &url(&t1, "restore"), None).await;
    assert_eq!(status, 200, "{t}");
    let (status, t) = post(&staff, &url(&t1, "close"), None).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["ticket"]["state"], "closed");
    let closed = mail_with(&app, ADMIN_A, "41 h 41 min 00 s").await;
    assert!(closed.contains(&r1), "{closed}");
    let (status, p) = post(&staff, &url(&t1, "messages"), Some(json!({"body": "x"}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );

    // The queue: staff filter by level and state; the closed ticket is out.
    let (status, q) = staff
        .get_json("/api/v1/tickets?level=premium&state=open")
        .await;
    assert_eq!(status, 200, "{q}");
    let ids: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&t2.as_str()) && !ids.contains(&t1.as_str()),
        "{q}"
    );

    // Another organisation: 404 on A's tickets; A's service is refused on
    // B's tickets.
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org_b = org_of(&admin_b).await;
    let (status, _) = admin_b.get_json(&format!("/api/v1/tickets/{t2}")).await;
    assert_eq!(status, 404);
    let (status, _) = post(&admin_b, &url(&t2, "messages"), Some(json!({"body": "x"}))).await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &admin_b,
        &tickets,
        Some(complete_notification(&service, "C1")),
    )
    .await;
    assert_eq!(status, 404);
    let (status, p) = post(
        &staff,
        &format!("/api/v1/organizations/{org_b}/tickets"),
        Some(complete_notification(&service, "C1")),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("service_ids")),
        "{p}"
    );
    let (_, q) = admin_b.get_json("/api/v1/tickets").await;
    assert_eq!(q["items"], json!([]), "{q}");

    // Standard support has no P1 (R4.2 decision): staff open a ticket for B
    // from a call ten minutes ago; C1 x I1 is handled as P2 and says so.
    let b_service = {
        sell(
            &staff,
            &admin_b,
            json!({"kind": "support", "level": "standard"}),
        )
        .await;
        let (_, l) = admin_b
            .get_json(&format!("/api/v1/organizations/{org_b}/services"))
            .await;
        l["items"][0]["id"].as_str().unwrap().to_owned()
    };
    let call = app.now() - SignedDuration::from_mins(10);
    let r = staff
        .client
        .post(app.url(&format!("/api/v1/organizations/{org_b}/tickets")))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", call.to_string())
        .json(&complete_notification(&b_service, "C1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["ticket"]["channel"], "phone");
    assert_eq!(t["ticket"]["support_level"], "standard");
    assert_eq!(t["ticket"]["opened_at"], json!(call.to_string()));
    let tb = t["ticket"]["id"].as_str().unwrap().to_owned();
    let (status, t) = post(&staff, &url(&tb, "impact"), Some(json!({"impact": "I1"}))).await;
    assert_eq!(status, 200, "{t}");
    let c = &t["ticket"]["clocks"];
    assert_eq!(
        (c["matrix_priority"].as_str(), c["priority"].as_str()),
        (Some("P1"), Some("P2"))
    );
    assert_eq!(c["downgraded_from_p1"], true);
    assert_eq!(c["gti"]["target"], "8 h", "{c}");

    // A user without the open-tickets permission (R1.8) neither opens nor reads.
    let karim = app
        .login("karim.haddad@transports-garonne.example", DEMO_PASSWORD)
        .await;
    let (status, _) = post(
        &karim,
        &format!("/api/v1/organizations/{org_b}/tickets"),
        Some(complete_notification(&b_service, "C3")),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = karim.get_json(&format!("/api/v1/tickets/{tb}")).await;
    assert_eq!(status, 403);
}

/// The portal: the client opens a ticket from the client space, answers it
/// and sees its deadlines; staff work the queue and are refused a pause
/// without reason (R4.4).
pub async fn the_portal_shows_tickets_and_runs_their_steps(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = sell(
        &staff,
        &admin_a,
        json!({"kind": "support", "level": "premium"}),
    )
    .await;
    let (_, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let service = list["items"][0]["id"].as_str().unwrap().to_owned();
    let page = admin_a.get("/espace-client/tickets").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&service));
    let r = admin_a
        .form(
            "/espace-client/tickets",
            &[
                ("service_id", &service),
                ("criticality", "C2"),
                ("description", "Plus de réseau"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap();
    let to = to.split('?').next().unwrap().to_owned();
    let id = to.rsplit('/').next().unwrap().to_owned();
    let page = admin_a.get(&to).await.text().await.unwrap();
    assert!(
        page.contains("T-2026-000001") && page.contains("GTI"),
        "{page}"
    );
    assert!(page.contains("Notification incomplète"), "{page}");
    // The missing fields are named as the form labels them, not as codes.
    let missing = page
        .split("Notification incomplète</dt><dd>")
        .nth(1)
        .and_then(|r| r.split("</dd>").next())
        .unwrap();
    assert!(
        missing.contains("Sites impactés, Type de service"),
        "{missing}"
    );
    assert!(!missing.contains("caller"), "{missing}");
    let r = admin_a
        .form(&format!("{to}/messages"), &[("body", "Urgent")])
        .await;
    assert_eq!(r.status(), 303);

    let queue = staff.get("/back-office/tickets?level=premium").await;
    assert_eq!(queue.status(), 200);
    assert!(queue.text().await.unwrap().contains("T-2026-000001"));
    let r = staff
        .form(
            &format!("/back-office/tickets/{id}/pause"),
            &[("request_ref", "mail")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R4.4"));
    let r = staff
        .form(&format!("/back-office/tickets/{id}/acknowledge"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let page = staff
        .get(&format!("/back-office/tickets/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Urgent") && page.contains("prise en compte"),
        "{page}"
    );
}
