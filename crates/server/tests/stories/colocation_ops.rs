//! Colocation operations (issue 7, items 1-4; R11.1-R11.6), through HTTP:
//! declared people, MLB temporary access requests, badges at the other
//! sites, prevention plans and the reception desk's check; remote hands,
//! the 7-day deadlines and their alerts; power crossings; decommissioning
//! from the non-compliance notice to resumed billing. Dates and amounts are
//! worked by hand in the comments (Paris is UTC+2 in summer, UTC+1 in
//! winter); bad input names its field and rule and writes nothing.

use crate::maintenance::push;
use crate::support::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Moves the test clock to `to` (never back).
fn move_to(app: &TestApp, to: &str) {
    let d = app.now().duration_until(ts(to));
    assert!(d >= SignedDuration::ZERO, "the clock moves forward only");
    app.advance(d);
}

/// Sessions last 8 hours: after the clock moves, log in again.
async fn logins(app: &TestApp) -> (Session, Session) {
    (
        app.login(STAFF_ADMIN, DEMO_PASSWORD).await,
        app.login(ADMIN_A, DEMO_PASSWORD).await,
    )
}

/// Whether a notice containing `needle` is in the outbox (the evidence).
async fn in_outbox(staff: &Session, needle: &str) -> bool {
    let (status, list) = staff.get_json("/api/v1/messages?limit=200").await;
    assert_eq!(status, 200, "{list}");
    list.to_string().contains(needle)
}

async fn pass(staff: &Session) -> Value {
    let (status, r) = post(staff, "/api/v1/colocation/pass", None).await;
    assert_eq!(status, 200, "{r}");
    r
}

async fn check(s: &Session, body: Value) -> Value {
    let (status, v) = post(s, "/api/v1/colocation/access-check", Some(body)).await;
    assert_eq!(status, 200, "{v}");
    v
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

async fn declare(s: &Session, org: &str, name: &str, kind: &str, company: &str) -> String {
    let (status, p) = post(
        s,
        &format!("/api/v1/organizations/{org}/colocation/persons"),
        Some(json!({"name": name, "id_kind": kind, "company": company})),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

/// One provisioned colocation at `dc` (16 A, 2 kVA, 4 U, 100 Mbit/s) of
/// `org`, and one external backup.
async fn colocation(staff: &Session, admin: &Session, org: &str, dc: &str) -> (String, String) {
    let ids = crate::usage::provisioned(
        staff,
        admin,
        org,
        json!([
            {"item": {"kind": "colocation", "datacenter": dc, "emplacement": "salle 2, baie 14",
              "rack_units": 4, "power_kva": "2", "max_amperage_a": "16", "bandwidth_flat_mbps": 100,
              "overage_price_per_mbps": "3.50"}, "commitment_months": 12},
            {"item": {"kind": "external_backup", "storage_gb": 500}, "commitment_months": 12}
        ]),
    )
    .await;
    // Sorted by kind: backup, then colocation.
    (ids[1].clone(), ids[0].clone())
}

pub async fn access_requests_badges_plans_and_the_desk_check(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let persons = format!("/api/v1/organizations/{org}/colocation/persons");
    let requests = format!("/api/v1/organizations/{org}/colocation/access-requests");

    // The four datacenters of the terms and their policies (R11.1-R11.2).
    let (_, dcs) = admin.get_json("/api/v1/colocation/datacenters").await;
    let policy: Vec<(String, String, bool)> = dcs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["access"].as_str().unwrap().to_owned(),
                d["prevention_plan_required"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        policy,
        vec![
            ("DIJ".into(), "permanent_nominative_badge".into(), true),
            ("MLB".into(), "temporary_only".into(), true),
            ("PA3".into(), "permanent_nominative_badge".into(), false),
            ("TLS".into(), "permanent_nominative_badge".into(), true),
        ]
    );

    // Jeanne declares who may come; an ID kind that is not an official ID
    // is refused.
    let luc = declare(
        &admin,
        &org,
        "Luc Bernard",
        "national_id",
        "Atelier Numérique",
    )
    .await;
    let marie = declare(&admin, &org, "Marie Roux", "passport", "Roux Câblage SARL").await;
    let (status, p) = post(
        &admin,
        &persons,
        Some(json!({"name": "X", "id_kind": "badge", "company": "Y"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("id_kind")), "{p}");

    // An MLB request on Tuesday 12 May, 09:00-13:00 Paris (07:00-11:00 UTC),
    // Luc with an announced companion.
    let window = json!({"site": "MLB", "window_start": "2026-05-12T07:00:00Z",
        "window_end": "2026-05-12T11:00:00Z", "purpose": "remplacement d'un serveur",
        "people": [luc], "companions": ["Paul Tiers"]});
    // Bad input, each refused with its field and rule, nothing written: a
    // person not declared, a badge site, an unknown site, a past window.
    let mut bad = window.clone();
    bad["people"] = json!([luc, "cpn_0000000000000000000000000000000a"]);
    let (status, p) = post(&admin, &requests, Some(bad)).await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("rule_violated"), Some("people[1]")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("R11.1"), "{p}");
    let mut bad = window.clone();
    bad["site"] = json!("PA3");
    let (status, p) = post(&admin, &requests, Some(bad)).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("site")), "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R11.1"), "{p}");
    let mut bad = window.clone();
    bad["site"] = json!("LYO");
    let (status, p) = post(&admin, &requests, Some(bad)).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("site")), "{p}");
    let mut bad = window.clone();
    bad["window_end"] = json!("2026-05-07T15:00:00Z");
    let (status, p) = post(&admin, &requests, Some(bad)).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("window_end")),
        "{p}"
    );
    let (_, list) = admin.get_json(&requests).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");

    let (status, r) = post(&admin, &requests, Some(window)).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["status"], "pending");
    let request = r["id"].as_str().unwrap().to_owned();

    // At 10:00 Paris on the 12th, before approval and without a plan: no,
    // and why; the ID check is always reminded.
    let luc_at = |at: &str| json!({"site": "MLB", "person_id": luc, "at": at});
    let v = check(&staff, luc_at("2026-05-12T08:00:00Z")).await;
    assert_eq!(v["allowed"], false);
    assert_eq!(
        codes(&v, "denials"),
        vec!["request_not_approved", "prevention_plan_to_sign"]
    );
    assert_eq!(codes(&v, "notes"), vec!["official_id_check"]);
    assert!(
        v["explanation_fr"].as_str().unwrap().contains("R11.2"),
        "{v}"
    );

    // Staff approve; Jeanne is told; a second decision is refused.
    let decision = format!("/api/v1/colocation/access-requests/{request}/decision");
    let (status, _) = post(&admin, &decision, Some(json!({"decision": "approved"}))).await;
    assert_eq!(status, 403, "the client does not approve its own request");
    let (status, r) = post(&staff, &decision, Some(json!({"decision": "approved"}))).await;
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("approved")),
        "{r}"
    );
    let mail = mail_with(&app, ADMIN_A, &request).await;
    assert!(mail.contains("R11.1"), "{mail}");
    let (status, p) = post(&staff, &decision, Some(json!({"decision": "refused"}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );

    // Approved, the plan is still missing.
    let v = check(&staff, luc_at("2026-05-12T08:00:00Z")).await;
    assert_eq!(codes(&v, "denials"), vec!["prevention_plan_to_sign"]);

    // The desk signs the plan at this first intervention (now, Thursday 7
    // May 17:30 Paris): valid 4 years, until 7 May 2030 17:30 Paris
    // (15:30 UTC) excluded; PA3 asks for none.
    let plans = format!("/api/v1/organizations/{org}/colocation/prevention-plans");
    let (status, p) = post(
        &staff,
        &plans,
        Some(json!({"site": "PA3", "signatory": "Jeanne Martin", "preventer": "Prev Co"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("site")), "{p}");
    let (status, plan) = post(
        &staff,
        &plans,
        Some(json!({"site": "MLB", "signatory": "Jeanne Martin", "preventer": "Prev Co"})),
    )
    .await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(plan["status"]["status"], "valid");
    assert_eq!(plan["status"]["expires_at"], "2030-05-07T15:30:00Z");
    // The reminder, 60 days before: 8 March 2030 17:30 Paris, in winter
    // time (UTC+1): 16:30 UTC.
    assert_eq!(plan["status"]["reminder_at"], "2030-03-08T16:30:00Z");

    // Now yes for Luc and his announced companion, inside the window only:
    // at 13:00 Paris (11:00 UTC), the window's end, no.
    let v = check(&staff, luc_at("2026-05-12T08:00:00Z")).await;
    assert_eq!(v["allowed"], true, "{v}");
    assert_eq!(codes(&v, "denials"), Vec::<String>::new());
    assert_eq!(codes(&v, "notes"), vec!["official_id_check"]);
    let (status, g) = staff
        .get_json(&format!(
            "/api/v1/colocation/access-check?site=MLB&person_id={luc}&at=2026-05-12T08:00:00Z"
        ))
        .await;
    assert_eq!((status, &g["allowed"]), (200, &json!(true)), "{g}");
    let v = check(
        &staff,
        json!({"site": "MLB", "org_id": org, "name": "Paul Tiers", "at": "2026-05-12T08:00:00Z"}),
    )
    .await;
    assert_eq!(v["allowed"], true, "{v}");
    let v = check(
        &staff,
        json!({"site": "MLB", "org_id": org, "name": "Inconnu", "at": "2026-05-12T08:00:00Z"}),
    )
    .await;
    assert_eq!(v["allowed"], false);
    let v = check(&staff, luc_at("2026-05-12T11:00:00Z")).await;
    assert_eq!(codes(&v, "denials"), vec!["outside_request_window"]);
    // The pages: Jeanne's space lists her people and requests, Sophie's
    // does not; the reception desk's screen says yes for Luc on the 12th at
    // 10:00 Paris; the back office does not exist for clients.
    let r = admin
        .form(
            "/espace-client/colocation/persons",
            &[
                ("name", "Nina Form"),
                ("id_kind", "passport"),
                ("company", "Atelier"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = admin
        .get("/espace-client/colocation/operations")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Luc Bernard") && page.contains("Paul Tiers") && page.contains("Nina Form"),
        "{page}"
    );
    let page = other
        .get("/espace-client/colocation/operations")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Luc Bernard"));
    let r = staff
        .get(&format!(
            "/back-office/colocation/accueil?site=MLB&person_id={luc}&at=2026-05-12T10:00"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Accès autorisé") && page.contains("R11.2"),
        "{page}"
    );
    assert_eq!(
        admin
            .get("/back-office/colocation/operations")
            .await
            .status(),
        404
    );
    // Another client does not learn about Luc.
    let (status, _) = post(
        &other,
        "/api/v1/colocation/access-check",
        Some(luc_at("2026-05-12T08:00:00Z")),
    )
    .await;
    assert_eq!(status, 404);

    // Badges: refused at MLB (temporary access only) citing R11.1, and for
    // a person no longer declared; issued at PA3 for Marie.
    let badges = format!("/api/v1/organizations/{org}/colocation/badges");
    let (status, p) = post(
        &staff,
        &badges,
        Some(json!({"person_id": marie, "site": "MLB"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("rule_violated"), Some("site")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R11.1"), "{p}");
    let ex = declare(
        &admin,
        &org,
        "Ancien Salarié",
        "passport",
        "Atelier Numérique",
    )
    .await;
    let (status, _) = post(
        &admin,
        &format!("/api/v1/colocation/persons/{ex}/remove"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = post(
        &staff,
        &badges,
        Some(json!({"person_id": ex, "site": "PA3"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("person_id")),
        "{p}"
    );
    let (status, p) = post(
        &admin,
        &badges,
        Some(json!({"person_id": marie, "site": "PA3"})),
    )
    .await;
    assert_eq!(status, 403, "badges are issued by the provider: {p}");
    let (status, badge) = post(
        &staff,
        &badges,
        Some(json!({"person_id": marie, "site": "PA3"})),
    )
    .await;
    assert_eq!(status, 201, "{badge}");
    let badge = badge["id"].as_str().unwrap().to_owned();
    let marie_pa3 = json!({"site": "PA3", "person_id": marie});
    let v = check(&staff, marie_pa3.clone()).await;
    assert_eq!(v["allowed"], true, "PA3 requires no plan: {v}");
    let events = format!("/api/v1/colocation/badges/{badge}/events");
    let steps = [
        ("suspend", 200, Some("badge_suspended")),
        ("reactivate", 200, None),
        ("revoke", 200, Some("badge_revoked")),
        ("reactivate", 409, Some("badge_revoked")),
    ];
    for (action, expected, denial) in steps {
        app.advance(SignedDuration::from_mins(1));
        let (status, r) = post(&staff, &events, Some(json!({"action": action}))).await;
        assert_eq!(status, expected, "{action}: {r}");
        let v = check(&staff, marie_pa3.clone()).await;
        assert_eq!(
            codes(&v, "denials"),
            denial.into_iter().map(str::to_owned).collect::<Vec<_>>(),
            "{action}"
        );
    }
    // The same person at Toulouse: no badge there, no plan.
    let v = check(&staff, json!({"site": "TLS", "person_id": marie})).await;
    assert_eq!(
        codes(&v, "denials"),
        vec!["no_badge", "prevention_plan_to_sign"]
    );

    // The expiry reminder: nothing before 8 March 2030 17:30 Paris; then
    // one mail, once.
    move_to(&app, "2030-03-08T16:29:00Z");
    // Sessions expire over four years: log in again.
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    assert_eq!(pass(&staff).await["plan_reminders"], 0);
    move_to(&app, "2030-03-08T16:30:00Z");
    assert_eq!(pass(&staff).await["plan_reminders"], 1);
    assert!(
        in_outbox(
            &staff,
            "Plan de prévention à renouveler : Montigny-le-Bretonneux"
        )
        .await
    );
    assert!(in_outbox(&staff, "07/05/2030 à 17:30").await);
    assert_eq!(pass(&staff).await["plan_reminders"], 0);
    // On 7 May 2030 17:30 Paris the plan has expired: MLB refuses.
    move_to(&app, "2030-05-07T15:30:00Z");
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let v = check(&staff, json!({"site": "MLB", "person_id": luc})).await;
    assert!(
        codes(&v, "denials").contains(&"prevention_plan_expired".to_owned()),
        "{v}"
    );
    app.stop().await;
}

pub async fn remote_hands_deadlines_and_power_alerts(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (colo, backup) = colocation(&staff, &admin, &org, "PA3").await;

    // Remote hands at the demo tariff: racking 95 EUR per intervention.
    let rh = format!("/api/v1/services/{colo}/remote-hands");
    let (status, p) = post(
        &admin,
        &rh,
        Some(json!({"kind": "dusting", "description": "x"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("kind")), "{p}");
    let (status, p) = post(
        &admin,
        &format!("/api/v1/services/{backup}/remote-hands"),
        Some(json!({"kind": "reset", "description": "x"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("service_id")),
        "{p}"
    );
    let (status, order) = post(
        &admin,
        &rh,
        Some(json!({"kind": "racking", "description": "mettre en baie 2 serveurs 1U"})),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["price"], "95");
    assert_eq!(order["status"], "ordered");
    let done = format!(
        "/api/v1/colocation/remote-hands/{}/completion",
        order["id"].as_str().unwrap()
    );
    let (status, _) = post(
        &admin,
        &done,
        Some(json!({"done": true, "minutes_spent": 45})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, p) = post(&staff, &done, Some(json!({"done": true}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("minutes_spent")));
    let (status, r) = post(
        &staff,
        &done,
        Some(json!({"done": true, "minutes_spent": 45})),
    )
    .await;
    assert_eq!((status, r["status"].as_str()), (200, Some("done")), "{r}");
    let (status, _) = post(
        &staff,
        &done,
        Some(json!({"done": true, "minutes_spent": 45})),
    )
    .await;
    assert_eq!(status, 409);
    // Handed to billing once.
    let pending =
        ciel_store::charges::pending(app.state().store().db(), &ciel_store::Scope::Staff, &org)
            .await
            .unwrap();
    let rh_charges: Vec<_> = pending.iter().filter(|c| c.rule == "R11.3").collect();
    assert_eq!(rh_charges.len(), 1);
    assert_eq!(rh_charges[0].amount, "95");

    // A change request on Thursday 7 May (17:30 Paris): the provider's
    // written answer is due within 7 days, i.e. by Thursday 14 May
    // 23:59:59 Paris; the deadline ends at 15 May 00:00 Paris = 14 May
    // 22:00 UTC, the alert 2 days before at 13 May 00:00 Paris = 12 May
    // 22:00 UTC.
    let dl = format!("/api/v1/services/{colo}/colocation-deadlines");
    let (status, p) = post(
        &admin,
        &dl,
        Some(json!({"kind": "inventory", "subject": "x", "detail": "y"})),
    )
    .await;
    assert_eq!(status, 403, "inventory requests are the provider's: {p}");
    let (status, p) = post(
        &admin,
        &dl,
        Some(json!({"kind": "move", "subject": "x", "detail": "y"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("kind")));
    let (status, change) = post(
        &admin,
        &dl,
        Some(
            json!({"kind": "change_answer", "subject": "Ajout d'un switch",
                    "detail": "un switch 1U en position 40"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{change}");
    assert_eq!(change["status"]["ends_at"], "2026-05-14T22:00:00Z");
    assert_eq!(change["status"]["alert_at"], "2026-05-12T22:00:00Z");
    assert_eq!(change["status"]["state"], "running");
    assert_eq!(change["status"]["owner"], "provider");
    let change_id = change["id"].as_str().unwrap().to_owned();
    mail_with(&app, STAFF_ADMIN, &change_id).await;

    move_to(&app, "2026-05-12T21:59:00Z");

    let (staff, _) = logins(&app).await;
    assert_eq!(pass(&staff).await["deadline_mails"], 0);
    move_to(&app, "2026-05-12T22:00:00Z");
    let (staff, _) = logins(&app).await;
    // The provider owes it: staff are alerted (Claire, the admin, and the
    // datacenter team).
    // The midnight job may have sent it first: either way, once.
    pass(&staff).await;
    let mail = mail_with(&app, STAFF_ADMIN, "prend fin le").await;
    assert!(mail.contains("Ajout d'un switch"), "{mail}");
    assert_eq!(pass(&staff).await["deadline_mails"], 0, "alerted once");
    let (_, v) = staff
        .get_json(&format!("/api/v1/colocation/deadlines/{change_id}"))
        .await;
    assert_eq!(v["status"]["state"], "alert_due");

    // The written answer, in time; Jeanne receives it.
    let complete = format!("/api/v1/colocation/deadlines/{change_id}/completion");
    let (status, p) = post(&staff, &complete, Some(json!({"answer": "ok"}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("decision")));
    let (status, v) = post(
        &staff,
        &complete,
        Some(json!({"decision": "approved", "answer": "Accord pour le switch en U40."})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"]["state"], "met_in_time");
    let mail = mail_with(&app, ADMIN_A, "Accord pour le switch").await;
    assert!(mail.contains("approved"), "{mail}");

    // An inventory request and a damage notice opened now, 13 May 00:00
    // Paris: the client's 7 days end on 21 May 00:00 Paris (20 May 22:00
    // UTC).
    let (status, inv) = post(
        &staff,
        &dl,
        Some(json!({"kind": "inventory", "subject": "Inventaire baie 14", "detail": "liste des équipements et câblages"})),
    )
    .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["status"]["ends_at"], "2026-05-20T22:00:00Z");
    mail_with(&app, ADMIN_A, "Inventaire baie 14").await;
    let (status, dmg) = post(
        &staff,
        &dl,
        Some(json!({"kind": "damage_repair", "subject": "Porte de baie faussée", "detail": "porte avant"})),
    )
    .await;
    assert_eq!(status, 201, "{dmg}");
    let dmg_id = dmg["id"].as_str().unwrap().to_owned();
    let repair = format!("/api/v1/colocation/deadlines/{dmg_id}/repair-charge");
    // Before the deadline, the provider may not repair at the client's cost.
    let (status, p) = post(&staff, &repair, Some(json!({"amount": "340.00"}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("amount")), "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("R11.4"), "{p}");

    // At 21 May 00:00 Paris both are breached: mailed once.
    move_to(&app, "2026-05-20T22:00:00Z");
    let (staff, admin) = logins(&app).await;
    pass(&staff).await;
    mail_with(&app, ADMIN_A, "a pris fin le").await;
    assert_eq!(pass(&staff).await["deadline_mails"], 0);
    let (status, v) = post(&staff, &repair, Some(json!({"amount": "340.00"}))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"]["repair_at_client_cost"], true);
    let (status, _) = post(&staff, &repair, Some(json!({"amount": "340.00"}))).await;
    assert_eq!(status, 409);
    // The inventory, sent late, is met late.
    let (status, v) = post(
        &admin,
        &format!(
            "/api/v1/colocation/deadlines/{}/completion",
            inv["id"].as_str().unwrap()
        ),
        Some(json!({"answer": "2 serveurs R650, 1 switch"})),
    )
    .await;
    assert_eq!(
        (status, v["status"]["state"].as_str()),
        (200, Some("met_late")),
        "{v}"
    );
    let pending =
        ciel_store::charges::pending(app.state().store().db(), &ciel_store::Scope::Staff, &org)
            .await
            .unwrap();
    let amounts: Vec<(&str, &str)> = pending
        .iter()
        .filter(|c| c.source_kind == "colocation")
        .map(|c| (c.rule.as_str(), c.amount.as_str()))
        .collect();
    assert_eq!(amounts, vec![("R11.3", "95"), ("R11.4", "340.00")]);

    // Power (R11.5): 16 A and 2 kVA subscribed, "near" from 80 %: 12.8 A or
    // 1.6 kVA. Readings at 5-minute steps: 10 A (normal), 13 A (near: an
    // alert), 14 A (still near: none), 17 A (above: an alert), 9 A (normal,
    // rearms), 2.1 kVA (above 2: an alert). Three crossings.
    let base = app.now();
    let at = |k: i64| {
        base.checked_sub(SignedDuration::from_mins(5 * (7 - k)))
            .unwrap()
            .to_string()
    };
    let readings = json!({"readings": [
        {"service_id": colo, "at": at(1), "amps": "10", "kva": "1.2"},
        {"service_id": colo, "at": at(2), "amps": "13", "kva": "1.3"},
        {"service_id": colo, "at": at(3), "amps": "14", "kva": "1.4"},
        {"service_id": colo, "at": at(4), "amps": "17", "kva": "1.5"},
        {"service_id": colo, "at": at(5), "amps": "9", "kva": "1.0"},
        {"service_id": colo, "at": at(6), "kva": "2.1"},
    ]});
    let (status, r) = push(&staff, "/api/v1/usage/power", "pw-1", readings.clone()).await;
    assert_eq!(status, 201, "{r}");
    let alerts = format!("/api/v1/organizations/{org}/colocation/power-alerts");
    let (_, list) = admin.get_json(&alerts).await;
    let levels: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|a| {
            (
                a["at"].as_str().unwrap().to_owned(),
                a["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            (at(2), "near".to_owned()),
            (at(4), "above".to_owned()),
            (at(6), "above".to_owned())
        ]
    );
    mail_with(&app, ADMIN_A, "approche ou dépasse").await;
    mail_with(&app, STAFF_ADMIN, "approche ou dépasse").await;
    // A replay raises nothing more.
    let (status, _) = push(&staff, "/api/v1/usage/power", "pw-1", readings).await;
    assert_eq!(status, 201);
    let (_, list) = admin.get_json(&alerts).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let power_mails = || {
        app.sink
            .to(ADMIN_A)
            .iter()
            .filter(|m| crate::smtp::decode_qp(&m.data).contains("approche ou dépasse"))
            .count()
    };
    for _ in 0..250 {
        if power_mails() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(power_mails(), 3, "one mail per crossing");
    app.stop().await;
}

pub async fn decommissioning_goes_from_notice_to_resumed_billing(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (colo, backup) = colocation(&staff, &admin, &org, "TLS").await;
    let (_, s) = admin.get_json(&format!("/api/v1/services/{colo}")).await;
    // The demo tariff at Toulouse: 4 U × 28 + 2 kVA × 190 + 100 Mbit/s ×
    // 2.5 = 112 + 380 + 250 = 742 EUR a month.
    assert_eq!(s["monthly_fee"], "742", "{s}");

    let dec = format!("/api/v1/services/{colo}/decommissioning");
    let (status, p) = post(&staff, &dec, None).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("service_id")),
        "not terminated: {p}"
    );
    let (status, p) = post(
        &staff,
        &format!("/api/v1/services/{backup}/decommissioning"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{p}");
    // Terminated with 31 May as its last day (the effective date E).
    let (status, t) = post(
        &staff,
        &format!("/api/v1/services/{colo}/terminate-early"),
        Some(json!({"last_day": "2026-05-31"})),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let (status, d) = post(&staff, &dec, None).await;
    assert_eq!(status, 200, "{d}");
    // The photo is due by the end of 31 May Paris (22:00 UTC); the 7 days
    // of regularisation end with 7 June (8 June 00:00 Paris, 7 June 22:00
    // UTC).
    assert_eq!(d["timeline"]["removal_deadline"], "2026-05-31T22:00:00Z");
    assert_eq!(d["timeline"]["regularisation_ends"], "2026-06-07T22:00:00Z");
    // No formal notice before the non-compliance notice.
    let notice = format!("/api/v1/services/{colo}/decommissioning/formal-notice");
    let (status, p) = post(
        &staff,
        &notice,
        Some(json!({"received_at": "2026-05-07T10:00:00Z"})),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("received_at")),
        "{p}"
    );

    // At 1 June 00:00 Paris, no photo: the non-compliance notice, 7 days.
    move_to(&app, "2026-05-31T21:59:00Z");
    let (staff, _) = logins(&app).await;
    assert_eq!(pass(&staff).await["decommission_steps"], 0);
    move_to(&app, "2026-05-31T22:00:00Z");
    let (staff, _) = logins(&app).await;
    // The midnight job may have applied it first: either way, once.
    pass(&staff).await;
    let mail = mail_with(&app, ADMIN_A, "notification de non-conformité").await;
    assert!(
        mail.contains("08/06/2026 à 00:00") && mail.contains("R11.6"),
        "{mail}"
    );
    assert_eq!(pass(&staff).await["decommission_steps"], 0, "once");

    // The registered letter, acknowledged on 2 June: destruction allowed
    // 30 days after, from 3 July 00:00 Paris (2 July 22:00 UTC).
    move_to(&app, "2026-06-02T10:00:00Z");
    let (staff, _) = logins(&app).await;
    let (status, d) = post(
        &staff,
        &notice,
        Some(json!({"received_at": "2026-06-02T08:00:00Z"})),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d["timeline"]["destruction_allowed_from"],
        "2026-07-02T22:00:00Z"
    );

    // 8 June 00:00 Paris: billing resumes at the former conditions.
    move_to(&app, "2026-06-07T22:00:00Z");
    let (staff, _) = logins(&app).await;
    pass(&staff).await;
    mail_with(&app, ADMIN_A, "la facturation reprend").await;

    // The photo: its first bytes decide its type, the declared type must
    // match, and it is taken before it is sent.
    move_to(&app, "2026-06-20T10:00:00Z");
    let (staff, admin) = logins(&app).await;
    let photo = format!("{dec}/photo");
    // 3 MiB, as a phone's photo: above the server's 1 MiB default body
    // limit, within the proof's own 8 MiB.
    let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F']
        .into_iter()
        .chain(std::iter::repeat_n(0u8, 3 * 1024 * 1024 - 10))
        .collect();
    let upload = |body: Vec<u8>, ct: &'static str, taken: &'static str| {
        let url = admin.url(&format!("{photo}?taken_at={taken}"));
        let req = admin
            .client
            .post(url)
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", ct)
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, p) = upload(
        b"<html><script>alert(1)</script></html>".to_vec(),
        "image/jpeg",
        "2026-06-20T09:30:00Z",
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("photo")), "{p}");
    let (status, p) = upload(jpeg.clone(), "image/png", "2026-06-20T09:30:00Z").await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("content_type")),
        "{p}"
    );
    let (status, p) = upload(jpeg.clone(), "image/jpeg", "2026-06-20T11:00:00Z").await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("taken_at")),
        "{p}"
    );
    let (status, d) = upload(jpeg.clone(), "image/jpeg", "2026-06-20T09:30:00Z").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["photo"]["size_bytes"], 3 * 1024 * 1024);
    let (status, _) = upload(jpeg.clone(), "image/jpeg", "2026-06-20T09:30:00Z").await;
    assert_eq!(status, 409, "one proof");
    // Served only as a download of its own type.
    let r = admin.get(&photo).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);

    // Billing resumed from 8 June 00:00 to the upload on 20 June 12:00
    // Paris: 13 started days (8..20) of June's 30, at 742 EUR a month:
    // 742 × 13 / 30 = 321.5333... → 321.53 EUR. Handed over once.
    pass(&staff).await;
    assert_eq!(pass(&staff).await["charges"], 0);
    let pending =
        ciel_store::charges::pending(app.state().store().db(), &ciel_store::Scope::Staff, &org)
            .await
            .unwrap();
    let resumed: Vec<_> = pending.iter().filter(|c| c.rule == "R11.6").collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].amount, "321.53");
    assert_eq!(resumed[0].charge_key, "resumed:2026-06");
    // Released: destruction is never allowed, even after the 30 days.
    move_to(&app, "2026-07-03T00:00:00Z");
    let (staff, admin) = logins(&app).await;
    let r = pass(&staff).await;
    assert_eq!(r["decommission_steps"], 0, "{r}");
    let (_, d) = admin.get_json(&dec).await;
    assert_eq!(d["open"], false, "{d}");
    assert!(
        d["state"]["applied"].get("destruction_allowed").is_none(),
        "{d}"
    );
    app.stop().await;
}

/// Organisation B's colocation rows, for the isolation story.
pub struct OtherColo {
    pub person: String,
    pub request: String,
    pub badge: String,
    pub deadline: String,
    pub remote_hands: String,
}

impl OtherColo {
    pub fn ids(&self) -> Vec<String> {
        vec![
            self.person.clone(),
            self.request.clone(),
            self.badge.clone(),
            self.deadline.clone(),
            self.remote_hands.clone(),
        ]
    }
}

/// B declares a person and requests MLB access through the API; staff
/// issue a badge; a deadline and remote hands are written through the
/// store on B's (support) service.
pub async fn other_colo(
    app: &TestApp,
    staff: &Session,
    b: &Session,
    org: &str,
    service: &str,
) -> OtherColo {
    let person = declare(b, org, "Bertrand B", "passport", "Transports Garonne").await;
    let (status, r) = post(
        b,
        &format!("/api/v1/organizations/{org}/colocation/access-requests"),
        Some(
            json!({"site": "MLB", "window_start": "2026-06-01T07:00:00Z",
            "window_end": "2026-06-01T09:00:00Z", "purpose": "B", "people": [person]}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let staff_admin = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let _ = staff;
    let (status, badge) = post(
        &staff_admin,
        &format!("/api/v1/organizations/{org}/colocation/badges"),
        Some(json!({"person_id": person, "site": "PA3"})),
    )
    .await;
    assert_eq!(status, 201, "{badge}");
    let st = app.state();
    let mut tx = st.store().begin().await.unwrap();
    let actor = ciel_store::Actor::system("isolation", app.now());
    let org_id = ciel_domain::Id::from_raw(org.to_owned());
    let d = ciel_store::colo_work::open_deadline(
        &mut tx,
        &actor,
        &org_id,
        service,
        "inventory",
        "B",
        "B",
        app.now(),
    )
    .await
    .unwrap();
    let rh = ciel_store::colo_work::order_remote_hands(
        &mut tx, &actor, &org_id, service, "reset", "B", "30",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    OtherColo {
        person,
        request: r["id"].as_str().unwrap().to_owned(),
        badge: badge["id"].as_str().unwrap().to_owned(),
        deadline: d.id.to_string(),
        remote_hands: rh.id.to_string(),
    }
}

/// A valid body for each colocation route (isolation.rs).
pub fn example_body(path: &str) -> Option<Value> {
    match path {
        "/api/v1/colocation/pass" => None,
        "/api/v1/colocation/access-check" => Some(json!({"site": "PA3", "person_id": "cpn_x"})),
        "/api/v1/organizations/{org_id}/colocation/persons" => {
            Some(json!({"name": "Intrus", "id_kind": "passport", "company": "X"}))
        }
        "/api/v1/colocation/persons/{person_id}/remove" => None,
        "/api/v1/organizations/{org_id}/colocation/access-requests" => Some(json!({
            "site": "MLB", "window_start": "2030-01-01T07:00:00Z",
            "window_end": "2030-01-01T09:00:00Z", "purpose": "x", "people": []
        })),
        "/api/v1/organizations/{org_id}/colocation/visits" => Some(json!({
            "site": "PA3", "host_person_id": "cpn_x", "window_start": "2030-01-01T07:00:00Z",
            "window_end": "2030-01-01T09:00:00Z", "purpose": "x", "companions": ["Intrus"]
        })),
        "/api/v1/colocation/access-requests/{request_id}/decision" => {
            Some(json!({"decision": "approved"}))
        }
        "/api/v1/organizations/{org_id}/colocation/badges" => {
            Some(json!({"person_id": "cpn_x", "site": "PA3"}))
        }
        "/api/v1/colocation/badges/{badge_id}/events" => Some(json!({"action": "revoke"})),
        "/api/v1/organizations/{org_id}/colocation/prevention-plans" => {
            Some(json!({"site": "MLB", "signatory": "x", "preventer": "y"}))
        }
        "/api/v1/services/{service_id}/remote-hands" => {
            Some(json!({"kind": "reset", "description": "x"}))
        }
        "/api/v1/colocation/remote-hands/{remote_hands_id}/completion" => {
            Some(json!({"done": true, "minutes_spent": 5}))
        }
        "/api/v1/services/{service_id}/colocation-deadlines" => {
            Some(json!({"kind": "change_answer", "subject": "x", "detail": "y"}))
        }
        "/api/v1/colocation/deadlines/{deadline_id}/completion" => {
            Some(json!({"answer": "intrus"}))
        }
        "/api/v1/colocation/deadlines/{deadline_id}/repair-charge" => {
            Some(json!({"amount": "1.00"}))
        }
        "/api/v1/services/{service_id}/decommissioning" => None,
        "/api/v1/services/{service_id}/decommissioning/photo" => Some(json!({})),
        "/api/v1/services/{service_id}/decommissioning/formal-notice" => {
            Some(json!({"received_at": "2026-05-01T00:00:00Z"}))
        }
        p => panic!("no example body for POST {p}: add one to colocation_ops.rs"),
    }
}

/// A `multipart/form-data` body as a browser sends it: text fields, then
/// one file.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "----cielStoryBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, filename, ct, data) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Companions announced with a visit at a badge site (R11.1), seen by the
/// reception desk's check and page; the decommissioning photo sent from
/// the client space's multipart form (R11.6). Bad input names its field
/// and rule and writes nothing.
pub async fn companions_at_badge_sites_and_the_photo_form(b: Backend) {
    let app = TestApp::start(b).await;
    let (staff, admin) = logins(&app).await;
    let org = org_of(&admin).await;
    let (colo, _) = colocation(&staff, &admin, &org, "PA3").await;
    let alice = declare(&admin, &org, "Alice Martin", "passport", "Atelier").await;
    let (status, badge) = post(
        &staff,
        &format!("/api/v1/organizations/{org}/colocation/badges"),
        Some(json!({"person_id": alice, "site": "PA3"})),
    )
    .await;
    assert_eq!(status, 201, "{badge}");
    let visits = format!("/api/v1/organizations/{org}/colocation/visits");
    let visit = |site: &str, start: &str, companions: Value, host: &str| {
        json!({"site": site, "host_person_id": host, "window_start": start,
            "window_end": "2026-05-08T12:00:00Z", "purpose": "Remplacement d'un disque",
            "companions": companions})
    };
    let marc_lea = json!(["Marc Petit", "Léa Roux"]);
    for (body, field) in [
        // MLB announces companions in its access request.
        (
            visit("MLB", "2026-05-08T09:00:00Z", marc_lea.clone(), &alice),
            "site",
        ),
        (
            visit("PA3", "2026-05-08T09:00:00Z", json!([]), &alice),
            "companions",
        ),
        (
            visit(
                "PA3",
                "2026-05-08T09:00:00Z",
                json!(["Marc Petit", "Marc Petit"]),
                &alice,
            ),
            "companions[1]",
        ),
        // Beforehand: a visit that already started is refused.
        (
            visit("PA3", "2026-05-07T09:00:00Z", marc_lea.clone(), &alice),
            "window_start",
        ),
        (
            visit(
                "PA3",
                "2026-05-08T09:00:00Z",
                marc_lea.clone(),
                "cpn_unknown",
            ),
            "host_person_id",
        ),
    ] {
        let (status, p) = post(&admin, &visits, Some(body)).await;
        assert_eq!(
            (status, p["field"].as_str()),
            (422, Some(field)),
            "{field}: {p}"
        );
    }
    let (_, l) = admin.get_json(&visits).await;
    assert_eq!(
        l["items"].as_array().unwrap().len(),
        0,
        "nothing written: {l}"
    );
    let (status, v) = post(
        &admin,
        &visits,
        Some(visit(
            "PA3",
            "2026-05-08T09:00:00Z",
            marc_lea.clone(),
            &alice,
        )),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["notified_at"], START, "{v}");
    let visit_id = v["id"].as_str().unwrap().to_owned();
    // Another client does not see them.
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (status, _) = other.get_json(&visits).await;
    assert_eq!(status, 404);

    // The same from the client space's form (Paris times); a form without
    // companions is refused next to the form.
    let r = admin
        .form(
            "/espace-client/colocation/visits",
            &[
                ("site", "PA3"),
                ("host_person_id", alice.as_str()),
                ("window_start", "2026-05-09T14:00"),
                ("window_end", "2026-05-09T16:00"),
                ("companions", "Hugo Blanc"),
                ("purpose", "Câblage"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = admin
        .form(
            "/espace-client/colocation/visits",
            &[
                ("site", "PA3"),
                ("host_person_id", alice.as_str()),
                ("window_start", "2026-05-09T14:00"),
                ("window_end", "2026-05-09T16:00"),
                ("companions", " , "),
                ("purpose", "Câblage"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let (_, l) = admin.get_json(&visits).await;
    assert_eq!(l["items"].as_array().unwrap().len(), 2, "{l}");
    let page = admin
        .get("/espace-client/colocation/operations")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Hugo Blanc") && page.contains("Léa Roux"),
        "{page}"
    );

    // The desk on 8 May at 10:00 UTC: Alice enters with her badge and the
    // answer lists her announced companions; Marc enters as an announced
    // companion; an unannounced one, or Marc after the window, does not.
    let a = check(
        &staff,
        json!({"site": "PA3", "person_id": alice, "at": "2026-05-08T10:00:00Z"}),
    )
    .await;
    assert_eq!(a["allowed"], true, "{a}");
    let names: Vec<&str> = a["companions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Marc Petit", "Léa Roux"], "{a}");
    assert_eq!(a["companions"][0]["announced_in"], visit_id.as_str());
    let marc = check(
        &staff,
        json!({"site": "PA3", "org_id": org, "name": "Marc Petit", "at": "2026-05-08T10:00:00Z"}),
    )
    .await;
    assert_eq!(marc["allowed"], true, "{marc}");
    assert!(
        marc.to_string().contains("allow:announced_companion"),
        "{marc}"
    );
    // The reasons name the host as the desk knows them.
    assert!(
        marc["explanation_en"]
            .as_str()
            .unwrap()
            .contains("companion of Alice Martin"),
        "{marc}"
    );
    assert_eq!(marc["companions"][0]["host_person_id"], alice.as_str());
    let stranger = check(
        &staff,
        json!({"site": "PA3", "org_id": org, "name": "Inconnu", "at": "2026-05-08T10:00:00Z"}),
    )
    .await;
    assert_eq!(stranger["allowed"], false, "{stranger}");
    let late = check(
        &staff,
        json!({"site": "PA3", "org_id": org, "name": "Marc Petit", "at": "2026-05-08T12:00:00Z"}),
    )
    .await;
    assert_eq!(late["allowed"], false, "window_end excluded: {late}");

    // The reception page on 8 May lists the day's visits with their
    // companions, and the check shows who is expected with Alice.
    move_to(&app, "2026-05-08T06:00:00Z");
    let (staff, admin) = logins(&app).await;
    let page = staff
        .get("/back-office/colocation/accueil")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Marc Petit")
            && page.contains("Alice Martin")
            && !page.contains("Hugo Blanc"),
        "{page}"
    );
    let page = staff
        .get(&format!(
            "/back-office/colocation/accueil?site=PA3&person_id={alice}&at=2026-05-08T12%3A00"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Léa Roux") && page.contains(&visit_id),
        "{page}"
    );

    // R11.6: the photo proof from the client space's multipart form.
    let (status, t) = post(
        &staff,
        &format!("/api/v1/services/{colo}/terminate-early"),
        Some(json!({"last_day": "2026-05-31"})),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let dec = format!("/api/v1/services/{colo}/decommissioning");
    let (status, d) = post(&staff, &dec, None).await;
    assert_eq!(status, 200, "{d}");
    let page = admin
        .get("/espace-client/colocation/operations")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("multipart/form-data"), "{page}");
    let png: Vec<u8> = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
        .into_iter()
        .chain(std::iter::repeat_n(7u8, 200 * 1024))
        .collect();
    let send = |fields: Vec<(&'static str, String)>, file: (&'static str, Vec<u8>)| {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ct, body) = multipart(&refs, ("photo", "baie.png", file.0, &file.1));
        let req = admin
            .client
            .post(admin.url("/espace-client/colocation/photo"))
            .header("content-type", ct)
            .body(body);
        async move { req.send().await.unwrap() }
    };
    let fields = |csrf: &str, taken: &str| {
        vec![
            ("_csrf", csrf.to_owned()),
            ("service_id", colo.clone()),
            ("taken_at", taken.to_owned()),
        ]
    };
    // Without the session's CSRF token: refused, nothing stored.
    let r = send(
        fields("forged", "2026-05-08T07:30"),
        ("image/png", png.clone()),
    )
    .await;
    assert_eq!(r.status(), 403);
    // Not an image: its first bytes decide.
    let r = send(
        fields(&admin.csrf, "2026-05-08T07:30"),
        ("image/png", b"<svg onload=alert(1)>".to_vec()),
    )
    .await;
    assert_eq!(r.status(), 422);
    let (_, d) = admin.get_json(&dec).await;
    assert!(d["photo"].is_null(), "{d}");
    let r = send(
        fields(&admin.csrf, "2026-05-08T07:30"),
        ("image/png", png.clone()),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, d) = admin.get_json(&dec).await;
    assert_eq!(
        (
            d["photo"]["content_type"].as_str(),
            d["photo"]["size_bytes"].as_u64()
        ),
        (Some("image/png"), Some(png.len() as u64)),
        "{d}"
    );
    // 07:30 Paris is 05:30 UTC.
    assert_eq!(d["photo"]["taken_at"], "2026-05-08T05:30:00Z", "{d}");
    app.stop().await;
}
