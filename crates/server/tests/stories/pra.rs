//! PRA activations (issue 5, item 5; R6, R10.3-R10.4), through HTTP: a
//! designated client user requests a failover, staff record each machine's
//! restoration and the return to nominal, and the RTO/RPO results per
//! criticality are those worked out by hand from R6.2-R6.4; tests are
//! excluded; bad input names its rule and writes nothing.

use crate::support::*;
use jiff::SignedDuration;
use serde_json::{Value, json};

/// A validated PRA order of `org` protecting `machines` (name,
/// criticality), every machine provisioned. Returns the order and the
/// machine services by name.
pub async fn protected_machines(
    staff: &Session,
    admin: &Session,
    org: &str,
    machines: &[(&str, &str)],
) -> (String, Vec<(String, String)>) {
    let lines: Vec<Value> = machines
        .iter()
        .map(|(m, c)| {
            json!({"item": {"kind": "pra_machine", "machine": m, "criticality": c},
                   "commitment_months": 12})
        })
        .collect();
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
        let (_, d) = admin.get_json(&format!("/api/v1/services/{id}")).await;
        let name = d["item"]["machine"].as_str().unwrap_or_default().to_owned();
        out.push((name, id));
    }
    assert_eq!(out.len(), machines.len(), "{list}");
    (order, out)
}

fn id_of<'a>(machines: &'a [(String, String)], name: &str) -> &'a str {
    &machines.iter().find(|(n, _)| n == name).unwrap().1
}

/// START moved by `minutes`, as RFC 3339.
fn at(minutes: i64) -> String {
    let start: jiff::Timestamp = START.parse().unwrap();
    start
        .checked_add(SignedDuration::from_mins(minutes))
        .unwrap()
        .to_string()
}

fn criticality<'a>(a: &'a Value, c: &str) -> &'a Value {
    a["outcome"]["criticalities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["criticality"] == c)
        .unwrap_or_else(|| panic!("no {c} in {a}"))
}

pub async fn a_failover_is_restored_and_judged_per_criticality(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (order, m) = protected_machines(
        &staff,
        &admin,
        &org,
        &[
            ("web1", "c1"),
            ("web2", "c1"),
            ("db1", "c1"),
            ("app1", "c2"),
            ("arch1", "c3"),
        ],
    )
    .await;
    let activations = format!("/api/v1/orders/{order}/pra-activations");

    // R10.2: only designated users trigger a failover; Paul sees services
    // but was not designated.
    let (status, _) = post(&user, &activations, Some(json!({}))).await;
    assert_eq!(status, 403);
    // A client does not back-date its request, nor record tests (R10.3).
    let (status, p) = post(
        &admin,
        &activations,
        Some(json!({"requested_at": "2026-05-01T00:00:00Z"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("requested_at")));
    let (status, p) = post(&admin, &activations, Some(json!({"test_kind": "simple"}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("test_kind")));

    // R10.2: even the Administrator triggers a failover only once
    // designated; she designates herself.
    let (status, p) = post(&admin, &activations, Some(json!({}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("not_designated")),
        "{p}"
    );
    designate(
        &admin,
        &org,
        ADMIN_A,
        &["trigger_failover", "change_policies"],
    )
    .await;

    // Jeanne, the Administrator, triggers it: timed now, in her name.
    let (status, a) = post(&admin, &activations, Some(json!({}))).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["requested_at"], START);
    assert_eq!(a["requester"], ADMIN_A);
    assert_eq!(a["machines"].as_array().unwrap().len(), 5);
    let id = a["id"].as_str().unwrap().to_owned();
    // Support staff are told at once, with the machines to bring back.
    let mail = mail_with(&app, STAFF_SUPPORT, &id).await;
    assert!(mail.contains("db1 (C1)") && mail.contains("R6.2"), "{mail}");
    // One failover at a time per order.
    let (status, p) = post(&admin, &activations, Some(json!({}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R10.4"), "{p}");

    let restore = format!("/api/v1/pra-activations/{id}/restorations");
    // Clients do not record restorations.
    let (status, _) = post(
        &admin,
        &restore,
        Some(json!({"service_id": id_of(&m, "web1"), "reachable_at": at(30)})),
    )
    .await;
    assert_eq!(status, 403);
    // R6.2: the RTO runs from the request; nothing is reachable before it,
    // nor in the future.
    let (status, p) = post(
        &staff,
        &restore,
        Some(json!({"service_id": id_of(&m, "web1"), "reachable_at": at(-1)})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reachable_at")));
    assert!(p["detail"].as_str().unwrap().starts_with("R6.2"), "{p}");
    let (status, p) = post(
        &staff,
        &restore,
        Some(json!({"service_id": id_of(&m, "web1"), "reachable_at": at(30)})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("reachable_at")));

    app.advance(SignedDuration::from_hours(10));
    // Sessions idle for 10 hours have expired: log in again.
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    // The replication point precedes the restoration.
    let (status, p) = post(
        &staff,
        &restore,
        Some(
            json!({"service_id": id_of(&m, "web1"), "reachable_at": at(30),
                    "recovery_point_at": at(31)}),
        ),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("recovery_point_at"))
    );
    // Restorations: web1 after 30 min, web2 after 2 h 30, db1 after
    // 5 h 10 from a point 5 h 30 before the request, app1 (C2) after 9 h,
    // arch1 (C3) after 1 h.
    for (name, minutes, point) in [
        ("web1", 30, -30),
        ("web2", 150, -90),
        ("db1", 310, -330),
        ("app1", 540, -60),
        ("arch1", 60, -60),
    ] {
        let (status, v) = post(
            &staff,
            &restore,
            Some(
                json!({"service_id": id_of(&m, name), "reachable_at": at(minutes),
                        "recovery_point_at": at(point)}),
            ),
        )
        .await;
        assert_eq!(status, 200, "{name}: {v}");
    }
    let (_, a) = admin
        .get_json(&format!("/api/v1/pra-activations/{id}"))
        .await;
    // C1 (RTO 1 h, minimum 95 %, R6.2): web2 and db1 late, 1 of 3 in
    // time = 33.33 % and more than the one late machine allowed (R6.3):
    // breached; the longest delay, 5 h 10, is in ]4 h ; 8 h] -> 25 % (R6.4).
    let c1 = criticality(&a, "c1");
    assert_eq!(c1["machines"], 3);
    assert_eq!(c1["late"], 2);
    assert_eq!(c1["met"], false);
    assert_eq!(c1["longest_delay_seconds"], 310 * 60);
    assert_eq!(c1["penalty_percent"].as_str(), Some("25"));
    // RPO C1 4 h: db1 came back from a point 5 h 30 old.
    assert_eq!(c1["rpo_missed"], 1);
    // C2 (RTO 8 h): app1 late after 9 h, but one late machine is allowed.
    let c2 = criticality(&a, "c2");
    assert_eq!(
        (c2["late"].as_u64(), c2["met"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(c2["penalty_percent"].as_str(), Some("0"));
    // One activation, one event: the largest penalty (R7.3).
    assert_eq!(a["outcome"]["penalty_percent"].as_str(), Some("25"));
    let m1 = a["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["machine"] == "db1")
        .unwrap();
    assert_eq!(m1["rto_seconds"], 310 * 60);
    assert_eq!(m1["rpo_seconds"], 330 * 60);
    let fr = a["explanation_fr"].as_str().unwrap();
    assert!(fr.contains("R6.4"), "{fr}");

    // The return to nominal comes after every restoration.
    let close = format!("/api/v1/pra-activations/{id}/close");
    let (status, p) = post(&staff, &close, Some(json!({"closed_at": at(500)}))).await;
    assert_eq!((status, p["field"].as_str()), (422, Some("closed_at")));
    let (status, v) = post(&staff, &close, Some(json!({}))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["closed_at"], at(600));
    // Closed: nothing more is recorded on it.
    let (status, p) = post(
        &staff,
        &restore,
        Some(json!({"service_id": id_of(&m, "web1"), "reachable_at": at(40)})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    let (_, after) = admin
        .get_json(&format!("/api/v1/pra-activations/{id}"))
        .await;
    assert_eq!(criticality(&after, "c1")["longest_delay_seconds"], 310 * 60);

    // A simple test, recorded by staff: excluded from the commitments.
    let (status, t) = post(
        &staff,
        &activations,
        Some(json!({"requester": "Jeanne Martin", "test_kind": "simple",
                    "services": [id_of(&m, "web1")], "requested_at": at(590)})),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["outcome"]["test"], true);
    assert_eq!(t["outcome"]["penalty_percent"].as_str(), Some("0"));
    let (_, list) = user
        .get_json(&format!("/api/v1/organizations/{org}/pra-activations"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    // The audit keeps every step.
    let (_, audit) = admin.get_json("/api/v1/audit?limit=200").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("pra."))
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "pra.restore").count(),
        5,
        "{actions:?}"
    );
    assert!(actions.contains(&"pra.close") && actions.contains(&"pra.activation"));
    // The back office runs the same steps through its forms: the test is
    // closed, a second failover recorded from a call at 03:00 Paris time.
    let tid = t["id"].as_str().unwrap();
    let r = staff
        .form(&format!("/back-office/pra-activations/{tid}/close"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let page = format!("/back-office/organizations/{org}/pra-activations");
    let r = staff
        .form(&page, &[("order_id", &order), ("requester", "")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R10.4"));
    let r = staff
        .form(
            &page,
            &[
                ("order_id", &order),
                ("requester", "Jeanne Martin (appel)"),
                ("requested_at", "2026-05-08T03:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let second = to
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, v) = staff
        .get_json(&format!("/api/v1/pra-activations/{second}"))
        .await;
    assert_eq!(
        v["requested_at"],
        at(570),
        "03:00 in Paris is 01:00 UTC in May"
    );
    let r = staff
        .form(
            &format!("/back-office/pra-activations/{second}/restorations"),
            &[
                ("service_id", id_of(&m, "web1")),
                ("reachable_at", "2026-05-08T02:59"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R6.2"));
    let r = staff
        .form(
            &format!("/back-office/pra-activations/{second}/restorations"),
            &[
                ("service_id", id_of(&m, "web1")),
                ("reachable_at", "2026-05-08T03:20"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // The client reads the results per criticality and the explanation.
    let r = admin
        .get(&format!("/espace-client/pra-activations/{second}"))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("web1") && html.contains("0:20"), "{html}");
    assert!(html.contains("R6.4"), "{html}");
    let list = admin.get("/espace-client/pra-activations").await;
    assert!(list.text().await.unwrap().contains(&second));

    // A test still running when a month starts lends that month its window
    // (R5.3): the statements read it; a failover requested earlier does not
    // count again, nor a test closed before the month.
    let (status, _) = post(
        &staff,
        &format!("/api/v1/pra-activations/{second}/close"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, running) = post(
        &staff,
        &activations,
        Some(json!({"requester": "Jeanne Martin", "test_kind": "full",
                    "services": [id_of(&m, "web1")]})),
    )
    .await;
    assert_eq!(status, 201, "{running}");
    let read = |from: i64, to: i64| {
        let state = app.state().clone();
        let web1 = id_of(&m, "web1").to_owned();
        async move {
            let mut tx = state.store().begin().await.unwrap();
            let found = ciel_store::pra::activations_in(
                &mut tx,
                &[web1.as_str()],
                at(from).parse().unwrap(),
                at(to).parse().unwrap(),
            )
            .await
            .unwrap();
            let mut ids: Vec<String> = found
                .get(&web1)
                .into_iter()
                .flatten()
                .map(|a| a.id.to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    let running_id = running["id"].as_str().unwrap().to_owned();
    assert_eq!(read(700, 2000).await, vec![running_id.clone()]);
    let mut in_may = vec![
        id.clone(),
        tid.to_owned(),
        second.clone(),
        running_id.clone(),
    ];
    in_may.sort();
    assert_eq!(read(0, 2000).await, in_may);
    let (status, _) = post(
        &staff,
        &format!("/api/v1/pra-activations/{running_id}/close"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(read(700, 2000).await.is_empty());

    // Another organisation sees none of it.
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let (status, _) = other
        .get_json(&format!("/api/v1/pra-activations/{id}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = post(&other, &activations, Some(json!({}))).await;
    assert_eq!(status, 404);
}

/// The client's Administrator designates a user of its organisation (by
/// e-mail) for PRA actions (R10.2); returns the designation.
pub async fn designate(admin: &Session, org: &str, email: &str, actions: &[&str]) -> Value {
    let (_, users) = admin
        .get_json(&format!("/api/v1/organizations/{org}/users?limit=200"))
        .await;
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no {email} in {users}"));
    let (status, d) = post(
        admin,
        &format!("/api/v1/organizations/{org}/pra-designations"),
        Some(json!({"user_id": user["id"], "actions": actions})),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    d
}

pub async fn designated_users_tests_and_refused_criticality(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (order, m) =
        protected_machines(&staff, &admin, &org, &[("web1", "c1"), ("db1", "c2")]).await;
    let (web1, db1) = (id_of(&m, "web1").to_owned(), id_of(&m, "db1").to_owned());

    // R10.1, R6.2: the targets of each criticality, from the terms: C1
    // RTO 1 h / RPO 4 h, C2 RTO 8 h / RPO 12 h.
    let (status, l) = admin
        .get_json(&format!("/api/v1/organizations/{org}/pra-machines"))
        .await;
    assert_eq!(status, 200, "{l}");
    let machine = |l: &Value, id: &str| {
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service_id"] == id)
            .cloned()
            .unwrap()
    };
    let w = machine(&l, &web1);
    assert_eq!(
        (w["rto_hours"].as_u64(), w["rpo_hours"].as_u64()),
        (Some(1), Some(4)),
        "{w}"
    );
    let d = machine(&l, &db1);
    assert_eq!(
        (d["rto_hours"].as_u64(), d["rpo_hours"].as_u64()),
        (Some(8), Some(12)),
        "{d}"
    );
    let (status, _) = other
        .get_json(&format!("/api/v1/organizations/{org}/pra-machines"))
        .await;
    assert_eq!(status, 404);

    // R10.2: Paul may not designate (he is no Administrator); Jeanne
    // designates him for failovers only, herself for policies.
    let (status, _) = post(
        &user,
        &format!("/api/v1/organizations/{org}/pra-designations"),
        Some(json!({"user_id": "usr_x", "actions": ["trigger_failover"]})),
    )
    .await;
    assert_eq!(status, 403);
    let paul = designate(&admin, &org, USER_A, &["trigger_failover"]).await;
    designate(&admin, &org, ADMIN_A, &["change_policies"]).await;

    // R6.5: staff recommend C1 for db1 (ordered C2); Paul, not designated
    // for policies, may not refuse it; Jeanne refuses: no SLA on db1.
    let (status, r) = post(
        &staff,
        &format!("/api/v1/services/{db1}/pra-recommendation"),
        Some(json!({"criticality": "c1"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let refusal = format!("/api/v1/services/{db1}/pra-refusal");
    let (status, p) = post(&user, &refusal, None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("not_designated")),
        "{p}"
    );
    let (status, r) = post(&admin, &refusal, None).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["refused_at"], START);
    let (status, _) = post(&admin, &refusal, None).await;
    assert_eq!(status, 409);
    // web1 has no recommendation to refuse.
    let (status, p) = post(
        &admin,
        &format!("/api/v1/services/{web1}/pra-refusal"),
        None,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("no_recommendation")),
        "{p}"
    );

    // Replication status pushed by the platform (staff token).
    let (status, r) = crate::maintenance::push(
        &staff,
        "/api/v1/pra/replication",
        "rep-1",
        json!({"statuses": [{"service_id": db1, "status": "lagging",
            "last_replication_at": at(-30)}]}),
    )
    .await;
    assert_eq!((status, r["updated"].as_u64()), (201, Some(1)), "{r}");
    let (status, p) = crate::maintenance::push(
        &staff,
        "/api/v1/pra/replication",
        "rep-2",
        json!({"statuses": [{"service_id": db1, "status": "late"}]}),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("statuses[0].status")),
        "{p}"
    );
    let (_, l) = admin
        .get_json(&format!("/api/v1/organizations/{org}/pra-machines"))
        .await;
    let d = machine(&l, &db1);
    assert_eq!(d["facts"]["replication_status"], "lagging", "{d}");
    assert_eq!(d["sla_lifted"], true, "{d}");

    // R10.3, notified on 7 May (Paris): a simple test on 20 May is 13
    // days ahead, fewer than 15: accepted, flagged billed. On 22 May it is
    // 15 days ahead: not billed. A full test needs its own order.
    let tests = format!("/api/v1/orders/{order}/pra-tests");
    let (status, p) = post(
        &user,
        &tests,
        Some(json!({"kind": "simple", "starts_at": "2026-05-20T08:00:00Z"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("not_designated")),
        "{p}"
    );
    let (status, late) = post(
        &admin,
        &tests,
        Some(json!({"kind": "simple", "starts_at": "2026-05-20T08:00:00Z"})),
    )
    .await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(
        (
            late["row"]["notice_days"].as_i64(),
            late["row"]["billed"].as_bool()
        ),
        (Some(13), Some(true)),
        "{late}"
    );
    let (status, on_time) = post(
        &admin,
        &tests,
        Some(json!({"kind": "simple", "starts_at": "2026-05-22T08:00:00Z"})),
    )
    .await;
    assert_eq!(status, 201, "{on_time}");
    assert_eq!(
        (
            on_time["row"]["notice_days"].as_i64(),
            on_time["row"]["billed"].as_bool()
        ),
        (Some(15), Some(false)),
        "{on_time}"
    );
    let (status, p) = post(
        &admin,
        &tests,
        Some(json!({"kind": "full", "starts_at": "2026-07-01T08:00:00Z"})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str(), p["field"].as_str()),
        (422, Some("own_order_missing"), Some("own_order")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().starts_with("R10.3"), "{p}");
    let (_, list) = admin
        .get_json(&format!("/api/v1/organizations/{org}/pra-tests"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // Paul, designated, triggers a failover (R10.2); Jeanne, designated
    // for policies only, may not.
    let activations = format!("/api/v1/orders/{order}/pra-activations");
    let (status, p) = post(&admin, &activations, Some(json!({}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("not_designated")),
        "{p}"
    );
    let (status, a) = post(&user, &activations, Some(json!({}))).await;
    assert_eq!(status, 201, "{a}");
    // R6.5: db1's refusal is recorded on the activation: no SLA for it.
    let dbm = a["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_id"] == db1.as_str())
        .unwrap();
    assert_eq!(dbm["criticality_refused"], true, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    for s in [&web1, &db1] {
        let (status, v) = post(
            &staff,
            &format!("/api/v1/pra-activations/{id}/restorations"),
            Some(json!({"service_id": s, "reachable_at": START})),
        )
        .await;
        assert_eq!(status, 200, "{v}");
    }
    // Back to nominal an hour later (7 May 16:30 UTC: one started day).
    app.advance(SignedDuration::from_hours(1));
    let (status, v) = post(
        &staff,
        &format!("/api/v1/pra-activations/{id}/close"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // Once revoked, Paul may no longer trigger one.
    let (status, _) = post(
        &admin,
        &format!(
            "/api/v1/pra-designations/{}/revoke",
            paul["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = post(&user, &activations, Some(json!({}))).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (403, Some("designation_revoked")),
        "{p}"
    );
    // The client's PRA page: machines with their targets, the failover
    // form asks to type the order's reference; a wrong one triggers
    // nothing, a revoked user is refused citing R10.2.
    let r = user.get("/espace-client/pra").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("web1") && page.contains("8 h"), "{page}");
    let r = user
        .form(
            "/espace-client/pra/bascule",
            &[("order_id", order.as_str()), ("confirmation", "oui")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = user
        .form(
            "/espace-client/pra/bascule",
            &[
                ("order_id", order.as_str()),
                ("confirmation", order.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("R10.2"));

    // 20 May 10:00 Paris: staff run the late simple test, closed two hours
    // later.
    let test_start: jiff::Timestamp = "2026-05-20T08:00:00Z".parse().unwrap();
    app.advance(SignedDuration::from_secs(
        test_start.as_second() - app.now().as_second(),
    ));
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let (status, t) = post(
        &staff,
        &activations,
        Some(json!({"requester": ADMIN_A, "test_id": late["row"]["id"]})),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["test_kind"], "simple");
    let tid = t["id"].as_str().unwrap().to_owned();
    app.advance(SignedDuration::from_hours(2));
    // A test is run once.
    let (status, _) = post(
        &staff,
        &format!("/api/v1/pra-activations/{tid}/close"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = post(
        &staff,
        &activations,
        Some(json!({"requester": ADMIN_A, "test_id": late["row"]["id"]})),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("invalid_transition")),
        "{p}"
    );

    // The month close bills the failover (7 May: one started Paris day)
    // and the late simple test (20 May: one day) on each machine: the
    // machine's monthly fee x 1 / 31, rounded to the cent (R2.10, R10.3).
    let june: jiff::Timestamp = "2026-05-31T22:30:00Z".parse().unwrap();
    app.advance(SignedDuration::from_secs(
        june.as_second() - app.now().as_second(),
    ));
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (status, r) = post(
        &staff,
        "/api/v1/usage/close",
        Some(json!({"month": "2026-05"})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["pra_charges"].as_u64(), Some(4), "{r}");
    for s in [&web1, &db1] {
        let (_, d) = admin.get_json(&format!("/api/v1/services/{s}")).await;
        let fee: rust_decimal::Decimal = d["monthly_fee"].as_str().unwrap().parse().unwrap();
        let day = (fee / rust_decimal::Decimal::from(31))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let mut keys: Vec<(String, String)> = d["charges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rule"] == "R2.10")
            .map(|c| {
                (
                    c["key"].as_str().unwrap().to_owned(),
                    c["amount"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        keys.sort();
        let mut want = vec![
            (format!("pra:{id}:2026-05"), format!("{day:.2}")),
            (format!("pra:{tid}:2026-05"), format!("{day:.2}")),
        ];
        want.sort();
        assert_eq!(keys, want, "{d}");
    }
    app.stop().await;
}

/// A simple test notified from the client space's form.
async fn notify_test_form(s: &Session, order: &str, starts_at: &str) -> reqwest::Response {
    s.form(
        "/espace-client/pra/tests",
        &[
            ("order_id", order),
            ("kind", "simple"),
            ("starts_at", starts_at),
            ("own_order", ""),
        ],
    )
    .await
}

/// The user's identifier in `org`.
async fn user_id(admin: &Session, org: &str, email: &str) -> String {
    let (_, users) = admin
        .get_json(&format!("/api/v1/organizations/{org}/users?limit=200"))
        .await;
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .and_then(|u| u["id"].as_str())
        .unwrap_or_else(|| panic!("no {email} in {users}"))
        .to_owned()
}

/// The client space's forms (R10.2 designations, R10.3 test notices, the
/// failover) and the back office's follow-up `/back-office/pra`: every
/// client's machines, tests (late ones billed) and the running failover,
/// machine by machine until each is reachable, closed by the return to
/// nominal. Refusals cite their rule and write nothing.
pub async fn the_back_office_follows_a_failover_and_clients_use_forms(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let admin = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let user = app.login(USER_A, DEMO_PASSWORD).await;
    let other = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org = org_of(&admin).await;
    let (order, m) =
        protected_machines(&staff, &admin, &org, &[("web1", "c1"), ("db1", "c2")]).await;
    let (web1, db1) = (id_of(&m, "web1").to_owned(), id_of(&m, "db1").to_owned());
    let paul = user_id(&admin, &org, USER_A).await;
    let jeanne = user_id(&admin, &org, ADMIN_A).await;
    let designations = format!("/api/v1/organizations/{org}/pra-designations");
    let count = |v: &Value| v["items"].as_array().map(Vec::len).unwrap_or(0);

    // R10.2: Paul is no Administrator, his designation form is refused
    // citing the rule; a form with no action ticked names its field.
    let r = user
        .form(
            "/espace-client/pra/designations",
            &[("user_id", paul.as_str()), ("action_trigger_failover", "1")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("R10.2"));
    let r = admin
        .form("/espace-client/pra/designations", &[("user_id", &paul)])
        .await;
    assert_eq!(r.status(), 422);
    let (_, l) = admin.get_json(&designations).await;
    assert_eq!(count(&l), 0, "{l}");

    // Not yet designated, Paul's failover is refused (R10.2): nothing runs.
    let confirm = [
        ("order_id", order.as_str()),
        ("confirmation", order.as_str()),
    ];
    let r = user.form("/espace-client/pra/bascule", &confirm).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("R10.2"));
    let (_, f) = staff.get_json("/api/v1/pra/follow-up").await;
    assert_eq!(f["running"].as_array().unwrap().len(), 0, "{f}");

    // Jeanne designates Paul for failovers and herself for policies.
    for (who, action) in [
        (&paul, "action_trigger_failover"),
        (&jeanne, "action_change_policies"),
    ] {
        let r = admin
            .form(
                "/espace-client/pra/designations",
                &[("user_id", who.as_str()), (action, "1")],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    }
    let (_, l) = admin.get_json(&designations).await;
    assert_eq!(count(&l), 2, "{l}");
    // Another client's designation is not found from A's form.
    let b_org = org_of(&other).await;
    let (_, b_users) = other
        .get_json(&format!("/api/v1/organizations/{b_org}/users?limit=1"))
        .await;
    let (status, bd) = post(
        &other,
        &format!("/api/v1/organizations/{b_org}/pra-designations"),
        Some(json!({"user_id": b_users["items"][0]["id"], "actions": ["change_policies"]})),
    )
    .await;
    assert_eq!(status, 201, "{bd}");
    let r = admin
        .form(
            &format!(
                "/espace-client/pra/designations/{}/revoke",
                bd["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);

    // R10.3, notified on 7 May: a simple test on 20 May 10:00 Paris is 13
    // days ahead, fewer than 15. Paul (failovers only) may not notify it;
    // Jeanne's notice is accepted and shown billed; a test without its
    // date names the field.
    let r = notify_test_form(&user, &order, "2026-05-20T10:00").await;
    assert_eq!(r.status(), 403);
    let r = notify_test_form(&admin, &order, "").await;
    assert_eq!(r.status(), 422);
    let r = notify_test_form(&admin, &order, "2026-05-20T10:00").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, tests) = admin
        .get_json(&format!("/api/v1/organizations/{org}/pra-tests"))
        .await;
    assert_eq!(count(&tests), 1, "{tests}");
    let t = &tests["items"][0]["row"];
    assert_eq!(
        (
            t["starts_at"].as_str(),
            t["notice_days"].as_i64(),
            t["billed"].as_bool()
        ),
        (Some("2026-05-20T08:00:00Z"), Some(13), Some(true)),
        "{t}"
    );
    let page = admin.get("/espace-client/pra").await.text().await.unwrap();
    assert!(
        page.contains("facturé") || page.contains("billed"),
        "{page}"
    );

    // Paul, designated, triggers the failover from the form.
    let r = user.form("/espace-client/pra/bascule", &confirm).await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .trim_start_matches("/espace-client/pra-activations/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(!id.is_empty() && !id.contains('/'), "{location}");

    // The follow-up is the provider's: a client does not find it.
    assert_eq!(admin.get("/back-office/pra").await.status(), 404);
    let (status, _) = admin.get_json("/api/v1/pra/follow-up").await;
    assert_eq!(status, 403);
    let page = staff.get("/back-office/pra").await.text().await.unwrap();
    for needle in [
        "web1",
        "db1",
        "Atelier",
        id.as_str(),
        &format!("/back-office/pra/activations/{id}/restorations"),
        &format!("/back-office/pra/activations/{id}/close"),
    ] {
        assert!(page.contains(needle), "{needle} not in {page}");
    }
    let (_, f) = staff.get_json("/api/v1/pra/follow-up").await;
    let running = f["running"].as_array().unwrap();
    assert_eq!(running.len(), 1, "{f}");
    assert_eq!(running[0]["id"], id.as_str());
    assert!(
        f["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["row"]["billed"] == true),
        "{f}"
    );
    assert!(
        f["machines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_id"] == web1.as_str()),
        "{f}"
    );

    // 40 minutes later web1 is reachable again ("now": the field left
    // empty); a time before the request is refused with R6.2.
    app.advance(SignedDuration::from_mins(40));
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let act = |what: &str| format!("/back-office/pra/activations/{id}/{what}");
    let r = staff
        .form(
            &act("restorations"),
            &[
                ("service_id", web1.as_str()),
                ("reachable_at", "2026-05-07T10:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R6.2"));
    let r = staff
        .form(
            &act("restorations"),
            &[("service_id", web1.as_str()), ("reachable_at", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/back-office/pra")
    );
    // db1 at 18:00 Paris (16:00 UTC), 30 minutes after the request.
    let r = staff
        .form(
            &act("restorations"),
            &[
                ("service_id", db1.as_str()),
                ("reachable_at", "2026-05-07T18:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, a) = staff
        .get_json(&format!("/api/v1/pra-activations/{id}"))
        .await;
    let rto = |s: &str| {
        a["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service_id"] == s)
            .and_then(|x| x["rto_seconds"].as_i64())
    };
    assert_eq!(
        (rto(&web1), rto(&db1)),
        (Some(40 * 60), Some(30 * 60)),
        "{a}"
    );

    // The return to nominal closes it: nothing runs any more.
    let r = staff.form(&act("close"), &[("closed_at", "")]).await;
    assert_eq!(r.status(), 303);
    let (_, f) = staff.get_json("/api/v1/pra/follow-up").await;
    assert_eq!(f["running"].as_array().unwrap().len(), 0, "{f}");
    let (_, a) = staff
        .get_json(&format!("/api/v1/pra-activations/{id}"))
        .await;
    assert!(a["closed_at"].is_string(), "{a}");
    let r = staff.form(&act("close"), &[]).await;
    assert_eq!(r.status(), 409);
    app.stop().await;
}
