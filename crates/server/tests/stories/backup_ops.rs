//! Backup operations (issue 7, item 5; R9), through HTTP: the order's
//! options (a 7-month immutability is refused, R9.2), plans checked against
//! R9.7 and set only by designated users (R10.2), the storage alert (R9.5),
//! job results pushed in bulk under an `Idempotency-Key` with one e-mail
//! per new failure (R9.5), recycle-bin restores refused after expiry
//! (R9.3), regularisation orders and their 30 days (R9.6), and, at
//! termination, the end of data and the immutable data billed until its
//! retention ends (R9.2, R9.8). Figures are worked by hand in comments.

use crate::maintenance::push;
use crate::support::*;
use jiff::SignedDuration;
use serde_json::{Value, json};

/// The backup services of a new, provisioned order of `org`, one per
/// item, in the items' order.
async fn backups(staff: &Session, admin: &Session, org: &str, items: Value) -> Vec<String> {
    let lines: Vec<Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"item": i, "commitment_months": 12}))
        .collect();
    let ids = crate::usage::provisioned(staff, admin, org, json!(lines)).await;
    let mut out = Vec::new();
    for want in items.as_array().unwrap() {
        for id in &ids {
            let (_, s) = admin.get_json(&format!("/api/v1/services/{id}")).await;
            let same = want
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| s["item"][k] == *v);
            if same && !out.contains(id) {
                out.push(id.clone());
                break;
            }
        }
    }
    assert_eq!(out.len(), ids.len(), "{items}");
    out
}

/// START moved by `minutes`, as RFC 3339.
fn at(minutes: i64) -> String {
    let start: jiff::Timestamp = START.parse().unwrap();
    start
        .checked_add(SignedDuration::from_mins(minutes))
        .unwrap()
        .to_string()
}

fn put(s: &Session, path: &str, body: Value) -> impl std::future::Future<Output = (u16, Value)> {
    s.api(reqwest::Method::PUT, path, Some(body))
}

pub async fn backups_are_planned_followed_restored_and_ended(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;

    // R9.2: immutability is at most 6 months; 7 are refused on the order,
    // citing the rule, and no order is drafted.
    let (_, before) = staff
        .get_json(&format!("/api/v1/organizations/{org}/orders?limit=200"))
        .await;
    let (status, p) = post(
        &staff,
        &format!("/api/v1/organizations/{org}/orders"),
        Some(
            json!({"lines": [{"item": {"kind": "external_backup", "storage_gb": 500,
            "immutability": "P7M"}, "commitment_months": 12}]}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{p}");
    assert!(p.to_string().contains("R9.2"), "{p}");
    let (_, after) = staff
        .get_json(&format!("/api/v1/organizations/{org}/orders?limit=200"))
        .await;
    assert_eq!(before["items"], after["items"]);

    // A: 500 GB, immutable 6 months; B: 200 GB with a 30-day recycle bin;
    // C: Microsoft 365, 100 GB.
    let ids = backups(
        &staff,
        &admin,
        &org,
        json!([
            {"kind": "external_backup", "storage_gb": 500, "immutability": "P6M"},
            {"kind": "external_backup", "storage_gb": 200, "recycle_bin": "P30D"},
            {"kind": "m365_backup", "provisioned_storage_gb": 100},
        ]),
    )
    .await;
    let (a, bkp, c) = (&ids[0], &ids[1], &ids[2]);
    let plan = |s: &str| format!("/api/v1/services/{s}/backup-plan");

    // R10.2: Paul is not designated to change backup policies.
    let vm_plan = json!({"frequency": "daily", "backup_type": "incremental",
        "retention_days": 30, "scopes": ["virtual_machine"], "veeam_licence": "none"});
    let (status, p) = put(&user, &plan(a), vm_plan.clone()).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("not_designated")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R10.2"), "{p}");
    // R9.7: a machine backup needs a Veeam licence.
    let (status, p) = put(&staff, &plan(a), vm_plan.clone()).await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("veeam_licence_missing"), Some("scopes[0]")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R9.7"), "{p}");
    let mut ok_plan = vm_plan.clone();
    ok_plan["veeam_licence"] = json!("from_provider");
    let (status, p) = put(&staff, &plan(a), ok_plan).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["retention_days"], 30);
    // R9.7: a Microsoft 365 backup covers the four Microsoft 365 scopes only.
    let (status, p) = put(&staff, &plan(c), vm_plan.clone()).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("scope_not_in_service")),
        "{p}"
    );
    let (status, p) = put(
        &staff,
        &plan(c),
        json!({"frequency": "daily", "backup_type": "incremental", "retention_days": 90,
            "scopes": ["exchange", "teams", "share_point", "one_drive"], "veeam_licence": "none"}),
    )
    .await;
    assert_eq!(status, 200, "{p}");

    // Jeanne, the Administrator, designates herself; she may then change
    // B's plan (files, her own Veeam licence: its compatibility is hers).
    let me = admin.get_json("/api/v1/me").await.1;
    let (status, d) = post(
        &admin,
        &format!("/api/v1/organizations/{org}/pra-designations"),
        Some(json!({"user_id": me["id"], "actions": ["change_policies"]})),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    let (status, p) = put(
        &admin,
        &plan(bkp),
        json!({"frequency": "daily", "backup_type": "full", "retention_days": 14,
            "scopes": ["files"], "veeam_licence": "client_owned"}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert!(
        p["decision_json"]
            .as_str()
            .unwrap()
            .contains("licence_compatibility_client_responsibility")
    );

    // R9.5: 450 GB used of 500: 450 x 100 / 500 = 90 %, the 90 % threshold
    // of `backup.storage_alert_percents` (80, 90, 100) is reached, not 100.
    let (status, r) = push(
        &staff,
        "/api/v1/usage/storage",
        "st-a",
        json!({"readings": [{"service_id": a, "at": at(-30), "gb": "450"}]}),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let (status, v) = admin
        .get_json(&format!("/api/v1/services/{a}/backup"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["storage"]["explanation"]["steps"][0]["outcome"], "note:storage_alert=90",
        "{v}"
    );
    assert_eq!(v["storage"]["explanation"]["steps"][0]["rule"], "R9.5");
    assert_eq!(v["options"]["immutability_months"], 6);

    // Job results: the platform pushes two of A (one immutable success two
    // hours ago, one failure an hour ago) and one success of B.
    let results = json!({"results": [
        {"service_id": a, "job_id": "job-1", "started_at": at(-150), "ended_at": at(-120),
         "status": "success", "immutable": true},
        {"service_id": a, "job_id": "job-2", "started_at": at(-90), "ended_at": at(-60),
         "status": "failure", "message": "repository full"},
        {"service_id": bkp, "job_id": "job-3", "started_at": at(-90), "ended_at": at(-80),
         "status": "success"},
    ]});
    // Clients do not push results.
    let (status, _) = push(&admin, "/api/v1/backup/results", "jr-1", results.clone()).await;
    assert_eq!(status, 403);
    let (status, r) = push(&staff, "/api/v1/backup/results", "jr-1", results.clone()).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["written"].as_u64(), r["failures_notified"].as_u64()),
        (Some(3), Some(1)),
        "{r}"
    );
    // R9.5: the failure is e-mailed to the client, with its message.
    let mail = mail_with(&app, ADMIN_A, "job-2").await;
    assert!(
        mail.contains("repository full") && mail.contains("R9.5"),
        "{mail}"
    );
    // A replay answers the first answer; the same key with another body is
    // refused; the same jobs under a new key are stored once, no new e-mail.
    let (status, again) = push(&staff, "/api/v1/backup/results", "jr-1", results.clone()).await;
    assert_eq!((status, &again), (201, &r));
    let (status, p) = push(
        &staff,
        "/api/v1/backup/results",
        "jr-1",
        json!({"results": []}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (409, Some("Idempotency-Key")),
        "{p}"
    );
    let (status, r2) = push(&staff, "/api/v1/backup/results", "jr-2", results.clone()).await;
    assert_eq!(
        (
            status,
            r2["written"].as_u64(),
            r2["failures_notified"].as_u64()
        ),
        (200, Some(0), Some(0)),
        "{r2}"
    );
    // Bad results are refused whole, naming the field.
    for (bad, field) in [
        (
            json!({"service_id": a, "job_id": "job-9", "started_at": at(-5), "ended_at": at(-1),
                "status": "failure"}),
            "results[0].message",
        ),
        (
            json!({"service_id": a, "job_id": "job-9", "started_at": at(-5), "ended_at": at(5),
                "status": "success"}),
            "results[0].ended_at",
        ),
        (
            json!({"service_id": a, "job_id": "job-9", "started_at": at(-5), "ended_at": at(-1),
                "status": "maybe"}),
            "results[0].status",
        ),
        (
            json!({"service_id": "svc_nope", "job_id": "job-9", "started_at": at(-5),
                "ended_at": at(-1), "status": "success"}),
            "results[0].service_id",
        ),
    ] {
        let (status, p) = push(
            &staff,
            "/api/v1/backup/results",
            &format!("bad-{field}"),
            json!({"results": [bad]}),
        )
        .await;
        assert_eq!((status, p["field"].as_str()), (422, Some(field)), "{p}");
    }
    let (_, v) = admin
        .get_json(&format!("/api/v1/services/{a}/backup"))
        .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["last_immutable_at"], at(-120));
    // Staff see the failure in their queue.
    let (_, desk) = staff.get_json("/api/v1/backup/desk").await;
    assert_eq!(desk["failures"][0]["job_id"], "job-2", "{desk}");
    // The pages: the client's backup with its alert and failure, the back
    // office's queue; another client gets the 404 page.
    let r = admin.get(&format!("/espace-client/sauvegardes/{a}")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("job-2") && page.contains("repository full") && page.contains("R9.5"),
        "{page}"
    );
    let r = admin.get("/espace-client/sauvegardes").await;
    assert_eq!(r.status(), 200);
    let r = staff.get("/back-office/sauvegardes").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("repository full"));
    assert_eq!(
        other
            .get(&format!("/espace-client/sauvegardes/{a}"))
            .await
            .status(),
        404
    );
    assert_eq!(admin.get("/back-office/sauvegardes").await.status(), 404);
    // Another client does not see A's backup.
    let (status, _) = other
        .get_json(&format!("/api/v1/services/{a}/backup"))
        .await;
    assert_eq!(status, 404);

    // R9.3: B's bin keeps deleted data 30 days. Deleted 10 days ago
    // (27 April 17:30 Paris) it stays until 27 May 17:30 Paris
    // (15:30 UTC): support may restore it.
    let restore = format!("/api/v1/services/{bkp}/restore-requests");
    let (status, r) = post(
        &admin,
        &restore,
        Some(json!({"what": "dossier compta", "deleted_at": at(-10 * 24 * 60)})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["row"]["expires_at"], "2026-05-27T15:30:00Z", "{r}");
    // Deleted 31 days ago (6 April), it left the bin on 6 May: refused,
    // citing R9.3, nothing written.
    let (status, p) = post(
        &admin,
        &restore,
        Some(json!({"what": "old", "deleted_at": at(-31 * 24 * 60)})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("recycle_bin_expired"), Some("deleted_at")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R9.3"), "{p}");
    // The same refusal from the page, next to its form (6 April 17:30
    // Paris).
    let resp = admin
        .form(
            &format!("/espace-client/sauvegardes/{bkp}/restauration"),
            &[("what", "old"), ("deleted_at", "2026-04-06T17:30")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("R9.3") && page.contains("role=\"alert\""),
        "{page}"
    );
    // A has no recycle bin.
    let (status, p) = post(
        &admin,
        &format!("/api/v1/services/{a}/restore-requests"),
        Some(json!({"what": "x", "deleted_at": at(-60)})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("no_recycle_bin")),
        "{p}"
    );
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/restore-requests"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let id = r["row"]["id"].as_str().unwrap();
    let answer = format!("/api/v1/restore-requests/{id}/answer");
    assert_eq!(
        post(&admin, &answer, Some(json!({"state": "restored"})))
            .await
            .0,
        403
    );
    let (status, done) = post(&staff, &answer, Some(json!({"state": "restored"}))).await;
    assert_eq!(
        (status, done["row"]["state"].as_str()),
        (200, Some("restored")),
        "{done}"
    );
    let (status, _) = post(
        &staff,
        &answer,
        Some(json!({"state": "refused", "answer": "x"})),
    )
    .await;
    assert_eq!(status, 409);

    // R9.6: a regularisation order sent today (7 May) must be signed by the
    // end of 6 June Paris (30 days): 2026-06-07T00:00+02:00 = 6 June 22:00 UTC.
    let regs = format!("/api/v1/services/{a}/regularisations");
    let (status, p) = post(&admin, &regs, Some(json!({"reason": "x"}))).await;
    assert_eq!(status, 403, "{p}");
    let (status, g1) = post(
        &staff,
        &regs,
        Some(json!({"reason": "500 GB do not hold 620 GB of VMs"})),
    )
    .await;
    assert_eq!(status, 201, "{g1}");
    assert_eq!(g1["status"]["state"], "awaiting");
    assert_eq!(g1["status"]["ends_at"], "2026-06-06T22:00:00Z", "{g1}");
    let (status, s1) = post(
        &admin,
        &format!(
            "/api/v1/regularisations/{}/signature",
            g1["row"]["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(
        (status, s1["status"]["state"].as_str()),
        (200, Some("signed_in_time")),
        "{s1}"
    );
    let (_, g2) = post(
        &staff,
        &regs,
        Some(json!({"reason": "second site too small"})),
    )
    .await;

    // Termination: A's last day is 31 May; it ends on 1 June 00:00 Paris
    // (31 May 22:00 UTC). Its last immutable backup ended 7 May 13:30 UTC
    // (15:30 Paris): kept until the later of 6 months (7 Nov 15:30 Paris =
    // 14:30 UTC, winter time) and its 30-day retention (6 June): the fee
    // is due to 7 November included (R9.2); the history's only point is
    // deleted then, which ends A's data (R9.8).
    let (status, s) = post(
        &staff,
        &format!("/api/v1/services/{a}/terminate-early"),
        Some(json!({"last_day": "2026-05-31"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let (_, v) = admin
        .get_json(&format!("/api/v1/services/{a}/backup"))
        .await;
    let t = &v["termination"];
    assert_eq!(t["effective_at"], "2026-05-31T22:00:00Z", "{v}");
    assert_eq!(
        t["immutable_billing"]["until"], "2026-11-07T14:30:00Z",
        "{t}"
    );
    assert_eq!(t["immutable_billing"]["last_day"], "2026-11-07", "{t}");
    assert_eq!(t["history"]["data_ends_at"], "2026-11-07T14:30:00Z", "{t}");
    assert_eq!(
        t["history"]["deletions"].as_array().unwrap().len(),
        1,
        "{t}"
    );

    // 31 days later the second regularisation order was not signed in its
    // 30 days: the order may be cancelled (R9.6); a late signature is
    // recorded and changes nothing.
    app.advance(SignedDuration::from_hours(31 * 24));
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/regularisations"))
        .await;
    let g2_id = g2["row"]["id"].as_str().unwrap();
    let late = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"]["id"] == g2_id)
        .unwrap();
    assert_eq!(late["status"]["state"], "cancellable", "{late}");
    assert_eq!(
        late["status"]["reasons"]["reasons"]["steps"][0]["rule"], "R9.6",
        "{late}"
    );
    let (status, s2) = post(
        &staff,
        &format!("/api/v1/regularisations/{g2_id}/signature"),
        None,
    )
    .await;
    assert_eq!(
        (status, s2["status"]["state"].as_str()),
        (200, Some("cancellable")),
        "{s2}"
    );
    // The restored request stays restored; a new one on data deleted on
    // 27 April is now past its bin (27 May).
    let (status, p) = post(
        &admin,
        &restore,
        Some(json!({"what": "dossier compta", "deleted_at": "2026-04-27T15:30:00Z"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("recycle_bin_expired")),
        "{p}"
    );
    app.stop().await;
}

/// The regularisation notices (R9.6) in the outbox for order `id`, by
/// kind: (reminders, overdue notices).
async fn regularisation_notices(staff: &Session, id: &str) -> (usize, usize) {
    let (status, list) = staff.get_json("/api/v1/messages?limit=200").await;
    assert_eq!(status, 200, "{list}");
    let ours: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["template"] == "backup_regularisation")
        .filter(|m| m["subject"].as_str().unwrap_or_default().contains(id))
        .collect();
    let overdue = ours
        .iter()
        .filter(|m| {
            let s = m["subject"].as_str().unwrap_or_default();
            s.contains("non signé") || s.contains("not signed")
        })
        .count();
    (ours.len() - overdue, overdue)
}

async fn regularisation_pass(staff: &Session) -> Value {
    let (status, r) = post(staff, "/api/v1/backup/regularisations/pass", None).await;
    assert_eq!(status, 200, "{r}");
    r
}

/// Moves the test clock to `to` (forward only).
fn move_to(app: &TestApp, to: &str) {
    let to: jiff::Timestamp = to.parse().unwrap();
    let d = app.now().duration_until(to);
    assert!(d >= SignedDuration::ZERO, "the clock moves forward only");
    app.advance(d);
}

/// The plan form of the client space (R9.1, R9.7, set only by a user
/// designated for policies, R10.2) and the daily regularisation pass
/// (R9.6): an unsigned order is reminded once, 7 days (terms key
/// `backup.regularisation_reminder_days`) before its 30 days end, and
/// flagged overdue once after, however many times the pass runs.
pub async fn plan_form_and_regularisation_reminders(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let ids = backups(
        &staff,
        &admin,
        &org,
        json!([
            {"kind": "external_backup", "storage_gb": 500},
            {"kind": "m365_backup", "provisioned_storage_gb": 100},
        ]),
    )
    .await;
    let (ext, m365) = (&ids[0], &ids[1]);
    let view = |s: &str| format!("/api/v1/services/{s}/backup");
    let form = |s: &str| format!("/espace-client/sauvegardes/{s}/plan");

    // The form offers the scopes the service may cover (R9.7).
    let page = admin
        .get(&format!("/espace-client/sauvegardes/{m365}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("scope_exchange") && !page.contains("scope_virtual_machine"),
        "{page}"
    );
    let m365_plan = [
        ("frequency", "daily"),
        ("backup_type", "incremental"),
        ("retention_days", "90"),
        ("scope_exchange", "1"),
        ("scope_teams", "1"),
    ];
    // R10.2: Paul is not designated to change backup policies.
    let r = user.form(&form(m365), &m365_plan).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("R10.2"));
    let (_, v) = admin.get_json(&view(m365)).await;
    assert!(v["plan"].is_null(), "{v}");
    crate::pra::designate(&admin, &org, ADMIN_A, &["change_policies"]).await;
    let r = admin.form(&form(m365), &m365_plan).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, v) = admin.get_json(&view(m365)).await;
    assert_eq!(v["plan"]["retention_days"], 90, "{v}");
    assert_eq!(v["plan"]["scopes_json"], r#"["exchange","teams"]"#, "{v}");
    // R9.7: a machine backup without a Veeam licence names its scope and
    // writes nothing; a retention that is no number names its field.
    let vm = |licence: &'static str, retention: &'static str| {
        [
            ("frequency", "daily"),
            ("backup_type", "full"),
            ("retention_days", retention),
            ("scope_virtual_machine", "1"),
            ("veeam_licence", licence),
        ]
    };
    let r = admin.form(&form(ext), &vm("none", "30")).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R9.7"));
    let r = admin.form(&form(ext), &vm("from_provider", "x")).await;
    assert_eq!(r.status(), 422);
    let (_, v) = admin.get_json(&view(ext)).await;
    assert!(v["plan"].is_null(), "{v}");
    let r = admin.form(&form(ext), &vm("from_provider", "30")).await;
    assert_eq!(r.status(), 303);
    let (_, v) = admin.get_json(&view(ext)).await;
    assert_eq!(v["plan"]["veeam_licence"], "from_provider", "{v}");

    // R9.6: two orders sent on 7 May; the first is signed at once. The
    // second must be signed by 6 June 22:00 UTC (7 June 00:00 Paris); its
    // reminder is due 7 days before, from 30 May 22:00 UTC (31 May 00:00
    // Paris).
    let regs = format!("/api/v1/services/{ext}/regularisations");
    let (status, g1) = post(&staff, &regs, Some(json!({"reason": "first"}))).await;
    assert_eq!(status, 201, "{g1}");
    let g1_id = g1["row"]["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &admin,
        &format!("/api/v1/regularisations/{g1_id}/signature"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, g2) = post(
        &staff,
        &regs,
        Some(json!({"reason": "500 GB do not hold 620 GB of VMs"})),
    )
    .await;
    assert_eq!(status, 201, "{g2}");
    let g2_id = g2["row"]["id"].as_str().unwrap().to_owned();
    assert_eq!(g2["status"]["ends_at"], "2026-06-06T22:00:00Z", "{g2}");
    assert_eq!(g2["status"]["remind_from"], "2026-05-30T22:00:00Z", "{g2}");
    let (status, _) = post(&admin, "/api/v1/backup/regularisations/pass", None).await;
    assert_eq!(status, 403, "staff only");
    assert_eq!(regularisation_pass(&staff).await["reminded"], 0);

    move_to(&app, "2026-05-30T21:59:00Z");
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    assert_eq!(regularisation_pass(&staff).await["reminded"], 0);
    assert_eq!(regularisation_notices(&staff, &g2_id).await, (0, 0));
    move_to(&app, "2026-05-30T22:00:00Z");
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    // The midnight job may have sent it first: either way, once.
    regularisation_pass(&staff).await;
    let again = regularisation_pass(&staff).await;
    assert_eq!(
        (again["reminded"].as_u64(), again["mails"].as_u64()),
        (Some(0), Some(0))
    );
    let mail = mail_with(&app, ADMIN_A, &g2_id).await;
    assert!(
        mail.contains("07/06/2026 à 00:00") && mail.contains("R9.6"),
        "{mail}"
    );
    let (reminders, overdue) = regularisation_notices(&staff, &g2_id).await;
    assert!(reminders >= 1 && overdue == 0, "{reminders} {overdue}");
    assert_eq!(
        regularisation_notices(&staff, &g1_id).await,
        (0, 0),
        "signed: never reminded"
    );
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/regularisations"))
        .await;
    let row = |list: &Value, id: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["row"]["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row(&list, &g2_id)["row"]["reminded_at"],
        "2026-05-30T22:00:00Z"
    );
    assert!(row(&list, &g1_id)["row"]["reminded_at"].is_null());

    // 7 June 00:00 Paris: still unsigned, flagged overdue once.
    move_to(&app, "2026-06-06T22:00:00Z");
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    regularisation_pass(&staff).await;
    let again = regularisation_pass(&staff).await;
    assert_eq!(
        (again["overdue"].as_u64(), again["mails"].as_u64()),
        (Some(0), Some(0))
    );
    let (reminders_after, overdue) = regularisation_notices(&staff, &g2_id).await;
    assert_eq!(
        (reminders_after, overdue),
        (reminders, reminders),
        "one overdue notice per Administrator"
    );
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/regularisations"))
        .await;
    let g2 = row(&list, &g2_id);
    assert_eq!(
        (
            g2["row"]["overdue_at"].as_str(),
            g2["status"]["state"].as_str()
        ),
        (Some("2026-06-06T22:00:00Z"), Some("cancellable")),
        "{g2}"
    );
    let page = staff
        .get("/back-office/sauvegardes")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("07/06/2026") || page.contains("2026-06-07"),
        "{page}"
    );
    app.stop().await;
}
