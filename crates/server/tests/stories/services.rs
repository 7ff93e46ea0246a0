//! Services (issue 4, items 5 and 9), through HTTP: a validated order
//! becomes services; provisioning starts the commitment and the contest
//! window (R1.6-R1.7); the clock and the job queue end the window, renew
//! the term (R3.2) and end the service; terminations hand their fee to
//! billing once (R3.1); suspensions and their securing deadline (R3.4);
//! products to return and the indemnity (R3.6); bad input names its rule
//! and writes nothing.

use crate::support::*;
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::time::Duration;

/// An order priced by the demo tariff, with a Premium support line (12
/// months) and a 500 GB backup line (12 months, 0.05 EUR/GB: 25 EUR a
/// month), accepted and validated. Returns the services, backup first.
async fn validated_services(staff: &Session, admin: &Session, org: &str) -> (String, String) {
    // R1.6: a service is committed for at least one month.
    let (status, p) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [{"item": {"kind": "support", "level": "premium"}, "commitment_months": 0}]})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("lines[0].commitment_months"))
    );
    assert!(p["detail"].as_str().unwrap().contains("R1.6"), "{p}");
    let (status, o) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(json!({"lines": [
            {"item": {"kind": "external_backup", "storage_gb": 500}, "commitment_months": 12},
            {"item": {"kind": "support", "level": "premium"}, "commitment_months": 12}
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{o}");
    let id = o["id"].as_str().unwrap();
    assert_eq!(
        post(staff, &format!("/api/v1/orders/{id}/send"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        post(admin, &format!("/api/v1/orders/{id}/accept"), None)
            .await
            .0,
        200
    );
    // No service before the provider validates the order (R1.4).
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    assert_eq!(
        post(staff, &format!("/api/v1/orders/{id}/validate"), None)
            .await
            .0,
        200
    );
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let find = |kind: &str| {
        items
            .iter()
            .find(|s| s["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} service in {list}"))
    };
    let backup = find("backup");
    assert_eq!(backup["status"], "ordered");
    assert_eq!(backup["monthly_fee"], "25", "500 GB x 0.05 EUR");
    assert_eq!(backup["order_id"], id);
    (
        backup["id"].as_str().unwrap().to_owned(),
        find("support")["id"].as_str().unwrap().to_owned(),
    )
}

/// The amounts handed to billing, in order.
fn amounts(s: &Value) -> Vec<&str> {
    s["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount"].as_str().unwrap())
        .collect()
}

/// Polls a service until `check` holds (the job runs in the background).
async fn wait_for(s: &Session, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..250 {
        let (_, v) = s.get_json(&format!("/api/v1/services/{id}")).await;
        if check(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("service {id} never reached the expected state");
}

pub async fn a_service_is_provisioned_contested_and_accepted_by_the_clock(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (backup, support) = validated_services(&staff, &admin, &org).await;
    let svc = |id: &str, action: &str| format!("/api/v1/services/{id}/{action}");

    // Nothing can happen to a service before it is provisioned (R1.6).
    let (status, p) = post(
        &staff,
        &svc(&backup, "notice"),
        Some(json!({"by": "client", "received_on": "2026-05-07"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R1.6"), "{p}");
    // Clients do not provision.
    let (status, _) = post(&admin, &svc(&backup, "provision"), Some(json!({}))).await;
    assert_eq!(status, 403);
    // R2.5: a client delay needs the planned day.
    let (status, p) = post(
        &staff,
        &svc(&backup, "provision"),
        Some(json!({"client_delay": true})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("planned_on")));
    assert!(p["detail"].as_str().unwrap().contains("R2.5"), "{p}");
    let (_, before) = staff.get_json(&format!("/api/v1/services/{backup}")).await;
    assert_eq!(before["status"], "ordered", "nothing written");

    // Provisioned on 7 May 2026 at 17:30 Paris: the commitment starts that
    // day and ends on 6 May 2027 (12 months); the contest window runs five
    // whole days after the day of provisioning, to 12 May 23:59:59 Paris.
    let (status, s) = post(&staff, &svc(&backup, "provision"), Some(json!({}))).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "in_contest");
    assert_eq!(s["start_date"], "2026-05-07");
    assert_eq!(s["commitment_end"], "2027-05-06");
    assert_eq!(s["contest_window_end"], "2026-05-12T22:00:00Z");
    let mail = mail_with(&app, ADMIN_A, &backup).await;
    assert!(mail.contains("mis à votre disposition"), "{mail}");
    assert!(mail.contains("jusqu'au 12/05/2026 inclus"), "{mail}");
    // Provisioning twice is refused (R1.6).
    let (status, p) = post(&staff, &svc(&backup, "provision"), Some(json!({}))).await;
    assert_eq!(status, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("R1.6"), "{p}");

    // A contest is written by an Administrator, inside the window (R1.7),
    // and routed to support staff.
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let (status, _) = post(
        &user,
        &svc(&backup, "contest"),
        Some(json!({"text": "quota"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, p) = post(&admin, &svc(&backup, "contest"), Some(json!({"text": " "}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("text")));
    let (status, s) = post(
        &admin,
        &svc(&backup, "contest"),
        Some(json!({"text": "Le quota de 500 Go n'est pas appliqué"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["state_detail"]["acceptance"]["status"], "contested");
    let to_staff = mail_with(&app, STAFF_SUPPORT, "500 Go n'est pas appliqu").await;
    assert!(to_staff.contains(&backup), "{to_staff}");
    let (status, s) = post(
        &staff,
        &svc(&backup, "resolve-contest"),
        Some(json!({"text": "Quota corrigé le jour même"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "fixed_term");

    // The support service is provisioned a day later; nobody contests it.
    app.advance(SignedDuration::from_hours(24));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let (status, s) = post(&staff, &svc(&support, "provision"), Some(json!({}))).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["contest_window_end"], "2026-05-13T22:00:00Z");
    // Just before the window closes, the daily pass has nothing to do.
    app.advance(SignedDuration::from_hours(5 * 24 + 6));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, s) = staff.get_json(&format!("/api/v1/services/{support}")).await;
    assert_eq!(s["status"], "in_contest", "{s}");
    // A contest after the window is void (R1.7): the clock says so even
    // before the pass ran.
    app.advance(SignedDuration::from_hours(1));
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (status, p) = post(
        &admin,
        &svc(&support, "contest"),
        Some(json!({"text": "trop tard"})),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R1.7"), "{p}");
    // The midnight pass (a job) records the acceptance, dated at the
    // window's end.
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let s = wait_for(&staff, &support, |s| {
        s["state_detail"]["acceptance"]["status"] == "accepted"
    })
    .await;
    assert_eq!(s["state_detail"]["acceptance"]["by"]["by"], "window_ended");
    assert_eq!(s["status"], "fixed_term");
    // The client sees its services and what terminating today would cost:
    // a notice received on 14 May 2026 ends the service with its term on
    // 7 May 2027 (provisioned on 8 May) (R3.2: 14 May + 90 days is before the term's end), no fee.
    let (_, s) = admin.get_json(&format!("/api/v1/services/{support}")).await;
    let today = &s["termination_today"];
    assert_eq!(today["notice_received_on"], "2026-05-14", "{s}");
    assert_eq!(today["last_day"], "2027-05-07");
    assert_eq!(today["at_term_end"], true);
    assert_eq!(today["fee"], "0");
    assert!(
        today["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == "R3.2"),
        "{s}"
    );
    // Another organisation's user does not see it.
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (status, _) = other.get_json(&format!("/api/v1/services/{support}")).await;
    assert_eq!(status, 404);
    let (status, _) = other
        .get_json(&format!("/api/v1/organizations/{org}/services"))
        .await;
    assert_eq!(status, 404);
    // The client space shows the services and the same quote, explained.
    let page = admin
        .get("/espace-client/services")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/espace-client/services/{support}")),
        "{page}"
    );
    assert!(page.contains("En période ferme"), "{page}");
    let page = admin
        .get(&format!("/espace-client/services/{support}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Résilier aujourd&#39;hui"), "{page}");
    assert!(page.contains("2027-05-07"), "{page}");
    assert!(page.contains("R3.2"), "{page}");
    // A contest through the portal after the window shows the rule, and
    // nothing changes.
    let r = admin
        .form(
            &format!("/espace-client/services/{support}/contest"),
            &[("text", "encore trop tard")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("R1.7"));
    // The Administrator finds the provisioning notice among the notices
    // the organisation received (R13).
    let page = admin
        .get("/espace-client/messages")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Service mis à disposition"), "{page}");
    // Staff provision from the back office too (the backup was provisioned
    // through the API; here a reopening note is refused when empty).
    let page = staff
        .get(&format!("/back-office/services/{support}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("/notice"), "{page}");
    // The audit log keeps every step, the pass's as the system's.
    let admin_staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let (_, audit) = admin_staff.get_json("/api/v1/audit?limit=200").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == support.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"service.end_contest_window"),
        "{actions:?}"
    );
    assert!(actions.contains(&"service.provision"), "{actions:?}");
    app.stop().await;
}

pub async fn terminations_hand_their_fees_to_billing_once(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (backup, support) = validated_services(&staff, &admin, &org).await;
    let svc = |id: &str, action: &str| format!("/api/v1/services/{id}/{action}");
    // The backup comes with a lent appliance (R3.6), worth 1 500 EUR.
    let (status, s) = post(
        &staff,
        &svc(&backup, "provision"),
        Some(json!({"products": [{"id": "NAS-0042", "value_at_order": "1500.00"}]})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let (status, _) = post(&staff, &svc(&support, "provision"), Some(json!({}))).await;
    assert_eq!(status, 200);

    // Early termination with 31 July 2026 as last day of service (R3.1):
    // commitment month 3 of 12, so 100 % of the fees remaining until 6 May
    // 2027: 6 days of month 3 (7 Jul - 6 Aug, 31 days) and months 4 to 12,
    // i.e. 25 x (9 + 6/31) = 229.838... -> 229.84 EUR.
    let (status, q) = admin
        .get_json(&format!(
            "/api/v1/services/{backup}/termination-quote?last_day=2026-07-31"
        ))
        .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["result"]["fee"], "229.84", "{q}");
    assert_eq!(q["result"]["share_percent"], "100");
    // A last day after the fixed term is not an early termination.
    let (status, p) = admin
        .get_json(&format!(
            "/api/v1/services/{backup}/termination-quote?last_day=2027-06-30"
        ))
        .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("last_day")),
        "{p}"
    );
    // A fee other than the one quoted is refused, nothing written.
    let (status, p) = post(
        &staff,
        &svc(&backup, "terminate-early"),
        Some(json!({"last_day": "2026-07-31", "quoted_fee": "200.00"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (409, Some("quoted_fee")),
        "{p}"
    );
    let (status, s) = post(
        &staff,
        &svc(&backup, "terminate-early"),
        Some(json!({"last_day": "2026-07-31", "quoted_fee": "229.84"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "terminating");
    assert_eq!(s["last_day"], "2026-07-31");
    let charges = s["charges"].as_array().unwrap();
    assert_eq!(charges.len(), 1, "{s}");
    assert_eq!(charges[0]["amount"], "229.84");
    assert_eq!(charges[0]["rule"], "R3.1");
    let mail = mail_with(&app, ADMIN_A, "229.84").await;
    assert!(mail.contains("31/07/2026"), "{mail}");
    // The client asks for its data (R12.2): taken once.
    let (status, _) = post(&admin, &svc(&backup, "reversibility"), None).await;
    assert_eq!(status, 200);
    let (status, p) = post(&admin, &svc(&backup, "reversibility"), None).await;
    assert_eq!(status, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R12.2"), "{p}");
    // A notice received before the service started is an impossible date.
    let (status, p) = post(
        &staff,
        &svc(&support, "notice"),
        Some(json!({"by": "client", "received_on": "2026-05-01"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("received_on")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R3.2"), "{p}");
    // A second termination is refused.
    let (status, _) = post(
        &staff,
        &svc(&backup, "notice"),
        Some(json!({"by": "client", "received_on": "2026-05-07"})),
    )
    .await;
    assert_eq!(status, 409);

    // Security danger on the support service (R3.4): suspended at once,
    // the client has 15 days after the email to secure its infrastructure.
    let (status, s) = post(
        &staff,
        &svc(&support, "suspend"),
        Some(json!({"reason": "security_danger"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "suspended");
    mail_with(&app, ADMIN_A, "sécuriser votre infrastructure").await;
    let (status, p) = post(
        &staff,
        &svc(&support, "terminate-for-cause"),
        Some(json!({"last_day": "2026-06-30"})),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R3.4"), "{p}");
    let (status, s) = post(
        &staff,
        &svc(&support, "reopen"),
        Some(json!({"text": "Pare-feu corrigé"})),
    )
    .await;
    // (Still in its contest window: provisioned today.)
    assert_eq!((status, s["status"].as_str()), (200, Some("in_contest")));
    mail_with(&app, ADMIN_A, "Pare-feu corrigé").await;

    // After the last day: the pass ends the backup service; a month later
    // the appliance is still not back, so the 700 EUR indemnity goes to
    // billing (R3.6), once however many passes run.
    app.advance(SignedDuration::from_hours(24 * 120));
    let root = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    for _ in 0..2 {
        let (status, r) = post(&root, "/api/v1/services/pass", None).await;
        assert_eq!(status, 200, "{r}");
    }
    let (_, s) = root.get_json(&format!("/api/v1/services/{backup}")).await;
    assert_eq!(s["status"], "ended", "{s}");
    assert_eq!(amounts(&s), ["229.84", "700.00"], "{s}");
    // The appliance turns out to have come back on 20 August, before the
    // deadline (31 August), entered late: the indemnity is taken back by a
    // negative charge, never by editing the one handed over (R2.11).
    let (status, s) = post(
        &root,
        &svc(&backup, "product-return"),
        Some(json!({"product": "NAS-0042", "outcome": "returned", "on": "2026-08-20"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(amounts(&s), ["229.84", "700.00", "-700.00"], "{s}");
    // The support service renews into an indefinite term after 6 May 2027
    // (R3.2): the midnight job does it when the clock gets there.
    app.advance(SignedDuration::from_hours(24 * 260));
    let root = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    // The status is computed at the request, the renewal recorded by the job
    // (which may wait behind another due job, e.g. the SLA statements).
    let s = wait_for(&root, &support, |s| {
        s["status"] == "indefinite" && !s["renewed_on"].is_null()
    })
    .await;
    assert_eq!(s["renewed_on"], "2027-05-07", "{s}");
    // A notice received now ends it at the end of the month of day + 90.
    let today = s["termination_today"]["notice_received_on"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, s) = post(
        &root,
        &svc(&support, "notice"),
        Some(json!({"by": "client", "received_on": today})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "terminating");
    app.stop().await;
}
