//! Stories of accounts: onboarding (R1.8), invitations, passwords, throttling,
//! profiles, API tokens and the audit log.

use crate::support::*;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::json;

/// Sets a password through an e-mailed link, as a browser does.
async fn set_password_from(app: &TestApp, link: &str, password: &str) -> reqwest::Response {
    let c = app.browser();
    let page = c.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200, "link page {link}");
    let page = page.text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    c.post(link)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn onboarding_invitation_and_first_login(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    // Staff onboard a client; its Administrator is invited by e-mail (R1.8).
    let (status, created) = staff
        .api(
            Method::POST,
            "/api/v1/organizations",
            Some(json!({
                "name": "Boulangerie Numérique SARL",
                "siren": "812345676",
                "administrator": {"name": "Alice Roux", "email": "alice.roux@boulangerie.example"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["administrator"]["status"], "invited");
    assert_eq!(created["administrator"]["is_admin"], true);
    let org_id = created["organization"]["id"].as_str().unwrap().to_owned();
    let mail = app.mail("alice.roux@boulangerie.example", 1).await;
    assert!(mail.contains("Subject: Invitation"), "{mail}");
    assert!(mail.contains("Administrateur"), "French by default: {mail}");
    let invitation = link(&mail, "/invitation/");
    // A weak password is refused next to its field; the link still works.
    let weak = set_password_from(&app, &invitation, "short").await;
    assert_eq!(weak.status(), 422);
    let res = set_password_from(&app, &invitation, "pain-au-levain-2026").await;
    assert_eq!(res.status(), 200);
    // The link works once.
    let again = app.browser().get(&invitation).send().await.unwrap();
    assert_eq!(again.status(), 410);
    // The Administrator logs in and invites a user with a profile.
    let alice = app
        .login("alice.roux@boulangerie.example", "pain-au-levain-2026")
        .await;
    let home = alice.get("/espace-client").await.text().await.unwrap();
    assert!(home.contains("Boulangerie Numérique SARL"));
    let res = alice
        .form(
            "/espace-client/users",
            &[
                ("name", "Bruno Colin"),
                ("email", "bruno.colin@boulangerie.example"),
                ("lang", "en"),
                ("perm_view_invoices", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app.mail("bruno.colin@boulangerie.example", 1).await;
    assert!(
        mail.contains("Subject: Invitation to the Boulangerie"),
        "English on request: {mail}"
    );
    let res = set_password_from(&app, &link(&mail, "/invitation/"), "croissant-au-beurre-99").await;
    assert_eq!(res.status(), 200);
    let bruno = app
        .login("bruno.colin@boulangerie.example", "croissant-au-beurre-99")
        .await;
    let (status, me) = bruno.get_json("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["permissions"], json!(["view_invoices"]));
    assert_eq!(me["org_id"], org_id.as_str());
    // Without manage_users, the users page does not exist for Bruno.
    assert_eq!(bruno.get("/espace-client/users").await.status(), 404);
    let (status, _) = bruno
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org_id}/users"),
            Some(json!({"name": "X", "email": "x.y@boulangerie.example"})),
        )
        .await;
    assert_eq!(status, 403);
    app.stop().await;
}

pub async fn password_reset_rotates_sessions_and_links_expire(b: Backend) {
    let app = TestApp::start(b).await;
    let before = app.login(ADMIN_A, DEMO_PASSWORD).await;
    assert_eq!(before.get_json("/api/v1/me").await.0, 200);
    let c = app.browser();
    let page = c
        .get(app.url("/password/forgot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf");
    let res = c
        .post(app.url("/password/forgot"))
        .form(&[("_csrf", csrf.as_str()), ("email", ADMIN_A)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // An unknown address gets the same answer and no mail.
    let res = c
        .post(app.url("/password/forgot"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", "nobody@nowhere.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mail = app.mail(ADMIN_A, 1).await;
    let reset = link(&mail, "/password/reset/");
    let res = set_password_from(&app, &reset, "nouveau-mot-de-passe-2026").await;
    assert_eq!(res.status(), 200);
    // The change ends every session and is notified.
    assert_eq!(before.get_json("/api/v1/me").await.0, 401);
    let changed = app.mail(ADMIN_A, 2).await;
    assert!(
        changed.contains("a été modifié le 07/05/2026 à 17:30"),
        "{changed}"
    );
    assert_eq!(app.try_login(ADMIN_A, DEMO_PASSWORD).await.status, 401);
    app.login(ADMIN_A, "nouveau-mot-de-passe-2026").await;
    // A used link is refused; a new link expires after 60 minutes.
    assert_eq!(
        app.browser().get(&reset).send().await.unwrap().status(),
        410
    );
    let res = c
        .post(app.url("/password/forgot"))
        .form(&[("_csrf", csrf.as_str()), ("email", ADMIN_A)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh = link(&app.mail(ADMIN_A, 3).await, "/password/reset/");
    app.advance(SignedDuration::from_mins(60));
    assert_eq!(
        app.browser().get(&fresh).send().await.unwrap().status(),
        410
    );
    app.stop().await;
}

pub async fn login_is_throttled_then_recovers(b: Backend) {
    let app = TestApp::start(b).await;
    for _ in 0..5 {
        assert_eq!(app.try_login(USER_A, "wrong-password-x").await.status, 401);
    }
    // The sixth attempt is refused even with the right password.
    assert_eq!(app.try_login(USER_A, DEMO_PASSWORD).await.status, 429);
    // Another account from the same address is not locked by these five.
    app.login(ADMIN_A, DEMO_PASSWORD).await;
    // After the 15-minute window the account logs in again.
    app.advance(SignedDuration::from_mins(15) + SignedDuration::from_secs(1));
    app.login(USER_A, DEMO_PASSWORD).await;
    app.stop().await;
}

pub async fn generic_accounts_are_warned(b: Backend) {
    let app = TestApp::start(b).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, me) = admin.get_json("/api/v1/me").await;
    let org = me["org_id"].as_str().unwrap();
    let (status, body) = admin
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/users"),
            Some(json!({"name": "Accueil", "email": "contact@atelier-numerique.example"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["warnings"], json!(["generic_shared_account"]));
    assert_eq!(body["user"]["generic_shared_account"], true);
    let (status, body) = admin
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/users"),
            Some(json!({"name": "Léa Simon", "email": "lea.simon@atelier-numerique.example"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["warnings"], json!([]));
    // The portal shows the warning after inviting a shared account.
    let res = admin
        .form(
            "/espace-client/users",
            &[
                ("name", "Info"),
                ("email", "info@atelier-numerique.example"),
            ],
        )
        .await;
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("warn=generic"), "{to}");
    let page = admin.get(&to).await.text().await.unwrap();
    assert!(page.contains("compte partagé"), "{page}");
    app.stop().await;
}

pub async fn profiles_and_the_last_administrator(b: Backend) {
    let app = TestApp::start(b).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, me) = admin.get_json("/api/v1/me").await;
    let org = me["org_id"].as_str().unwrap().to_owned();
    let (_, users) = admin
        .get_json(&format!("/api/v1/organizations/{org}/users"))
        .await;
    let paul = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == USER_A)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The only Administrator cannot step down (R1.8: someone administers).
    let (status, body) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
            Some(json!({"is_admin": false})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["field"], "is_admin");
    // Give Paul manage_users: he may then invite, but not make Administrators.
    let (status, body) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{paul}"),
            Some(json!({"permissions": ["view_services", "manage_users"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let paul_s = app.login(USER_A, DEMO_PASSWORD).await;
    let (status, _) = paul_s
        .api(
            Method::POST,
            &format!("/api/v1/organizations/{org}/users"),
            Some(json!({"name": "Zoé Faure", "email": "zoe.faure@atelier-numerique.example"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = paul_s
        .api(Method::POST, &format!("/api/v1/organizations/{org}/users"), Some(json!({"name": "Max Roy", "email": "max.roy@atelier-numerique.example", "is_admin": true})))
        .await;
    assert_eq!(status, 403, "{body}");
    // Disabling a user ends their sessions at once.
    let (status, _) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{paul}"),
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(paul_s.get_json("/api/v1/me").await.0, 401);
    assert_eq!(app.try_login(USER_A, DEMO_PASSWORD).await.status, 401);
    app.stop().await;
}

pub async fn api_tokens_are_scoped_shown_once_and_revocable(b: Backend) {
    let app = TestApp::start(b).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    // A cookie-authenticated write without the CSRF header is refused.
    let r = admin
        .client
        .post(admin.url("/api/v1/tokens"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (status, created) = admin
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "supervision"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let token_id = created["token"]["id"].as_str().unwrap().to_owned();
    let api = reqwest::Client::new();
    let me = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // The list never shows the secret again.
    let (_, list) = admin.get_json("/api/v1/tokens").await;
    assert!(!list.to_string().contains(&secret));
    // A token acts within its organisation only.
    let orgs: serde_json::Value = api
        .get(app.url("/api/v1/organizations"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    // A token cannot mint tokens; no CSRF is needed for bearer writes.
    let r = api
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&secret)
        .json(&json!({"name": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (status, _) = admin
        .api(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), None)
        .await;
    assert_eq!(status, 200);
    let me = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    // The portal never logs in with a bearer token.
    let r = api
        .get(app.url("/espace-client"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert!(r.url().path().starts_with("/login") || r.status() == 200);
    app.stop().await;
}

pub async fn staff_can_back_date_and_the_audit_keeps_both_times(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    // The paper order arrived two days ago; staff record it today.
    let r = staff
        .client
        .post(staff.url("/api/v1/organizations"))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", "2026-05-05T10:15:00+02:00")
        .json(&json!({"name": "Cabinet Vidal", "administrator": {"name": "Marc Vidal", "email": "marc.vidal@cabinet-vidal.example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, audit) = staff.get_json("/api/v1/audit?limit=200").await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "organization.create" && e["after"]["name"] == "Cabinet Vidal")
        .unwrap()
        .clone();
    assert_eq!(entry["occurred_at"], "2026-05-05T08:15:00Z");
    assert_eq!(entry["recorded_at"], START);
    assert_eq!(entry["actor_label"], STAFF_SUPPORT);
    assert!(entry["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    // In the future, or from a client: refused.
    let r = staff
        .client
        .post(staff.url("/api/v1/organizations"))
        .header("x-csrf-token", &staff.csrf)
        .header("ciel-occurred-at", "2026-05-08T10:00:00+02:00")
        .json(
            &json!({"name": "Futur", "administrator": {"name": "F", "email": "f.f@futur.example"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let client = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let r = client
        .client
        .get(client.url("/api/v1/me"))
        .header("ciel-occurred-at", "2026-05-05T10:15:00+02:00")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A client Administrator sees its organisation's audit log only; a
    // plain user does not see it.
    let (status, own) = client.get_json("/api/v1/audit?limit=200").await;
    assert_eq!(status, 200);
    let (_, me) = client.get_json("/api/v1/me").await;
    assert!(
        own["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org_id"] == me["org_id"])
    );
    assert!(!own["items"].as_array().unwrap().is_empty());
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    assert_eq!(user.get_json("/api/v1/audit").await.0, 403);
    // Profile changes are audited with before and after.
    let (_, users) = client
        .get_json(&format!(
            "/api/v1/organizations/{}/users",
            me["org_id"].as_str().unwrap()
        ))
        .await;
    let paul = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == USER_A)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{paul}"),
            Some(json!({"permissions": ["view_invoices"]})),
        )
        .await;
    let (_, own) = client.get_json("/api/v1/audit?limit=5").await;
    let e = &own["items"][0];
    assert_eq!(e["action"], "user.update");
    assert_eq!(
        e["before"]["permissions"],
        json!(["view_services", "open_tickets"])
    );
    assert_eq!(e["after"]["permissions"], json!(["view_invoices"]));
    app.stop().await;
}
