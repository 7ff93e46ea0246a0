//! Stories of the platform: input validation, operability endpoints, the mail
//! outbox, the job queue and the migrations.

use crate::support::*;
use ciel_store::jobs::{self, NewJob};
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

async fn org_count(s: &Session) -> usize {
    s.get_json("/api/v1/organizations?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len()
}

fn assert_problem(status: u16, body: &Value, want_status: u16, code: &str, field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want_status);
    assert!(body["type"].as_str().unwrap().ends_with(code));
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
}

pub async fn bad_input_gets_problem_json_and_writes_nothing(b: Backend) {
    let app = TestApp::start_with(b, |c| c.server.max_body_bytes = 4096).await;
    let s = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let before = org_count(&s).await;
    let post = |body: &'static str, ctype: &'static str| {
        let s = &s;
        async move {
            let r = s
                .client
                .post(s.url("/api/v1/organizations"))
                .header("x-csrf-token", &s.csrf)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(ct, "application/problem+json", "status {status}");
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (st, body) = post("{\"name\": \"X\", \"administrator\": {\"name\": \"A\", \"email\": \"a.b@x.example\"}, \"colour\": 1}", "application/json").await;
    assert_problem(st, &body, 422, "unknown_field", Some("colour"));
    let (st, body) = post("{\"name\": \"X\", \"administrator\": {\"name\": \"A\", \"email\": \"a.b@x.example\", \"age\": 3}}", "application/json").await;
    assert_problem(st, &body, 422, "unknown_field", Some("administrator.age"));
    let (st, body) = post("{\"name\": \"X\", ", "application/json").await;
    assert_problem(st, &body, 400, "malformed_json", None);
    let (st, body) = post(
        "{\"name\": 12, \"administrator\": {\"name\": \"A\", \"email\": \"a.b@x.example\"}}",
        "application/json",
    )
    .await;
    assert_problem(st, &body, 422, "validation_failed", Some("name"));
    let (st, body) = post("name=X", "application/x-www-form-urlencoded").await;
    assert_problem(st, &body, 415, "unsupported_media_type", None);
    let (st, body) = post(
        "{\"name\": \"X\", \"administrator\": {\"name\": \"A\", \"email\": \"not-an-address\"}}",
        "application/json",
    )
    .await;
    assert_problem(
        st,
        &body,
        422,
        "validation_failed",
        Some("administrator.email"),
    );
    let (st, body) = post("{\"name\": \"X\", \"siren\": \"812345677\", \"administrator\": {\"name\": \"A\", \"email\": \"a.b@x.example\"}}", "application/json").await;
    assert_problem(st, &body, 422, "validation_failed", Some("siren"));
    let (st, body) = post(
        "{\"name\": \"   \", \"administrator\": {\"name\": \"A\", \"email\": \"a.b@x.example\"}}",
        "application/json",
    )
    .await;
    assert_problem(st, &body, 422, "validation_failed", Some("name"));
    // An address already used: 409 on its field, and no organisation left
    // behind (the organisation and its Administrator are one transaction).
    let dup = format!(
        "{{\"name\": \"Dup\", \"administrator\": {{\"name\": \"A\", \"email\": \"{ADMIN_A}\"}}}}"
    );
    let r = s
        .client
        .post(s.url("/api/v1/organizations"))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body(dup)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    assert_problem(
        st,
        &r.json().await.unwrap(),
        409,
        "conflict",
        Some("administrator.email"),
    );
    // Oversized bodies are refused.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(10_000));
    let r = s
        .client
        .post(s.url("/api/v1/organizations"))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Query parameters.
    let (st, body) = s.get_json("/api/v1/organizations?limit=0").await;
    assert_problem(st, &body, 422, "validation_failed", Some("limit"));
    let (st, body) = s.get_json("/api/v1/organizations?limit=abc").await;
    assert_problem(st, &body, 422, "validation_failed", Some("limit"));
    let (st, body) = s.get_json("/api/v1/organizations?sort=name").await;
    assert_problem(st, &body, 422, "validation_failed", Some("sort"));
    let (st, body) = s
        .get_json("/api/v1/organizations?cursor=%27%20OR%201%3D1")
        .await;
    assert_problem(st, &body, 422, "validation_failed", Some("cursor"));
    // Unknown routes and methods.
    let (st, body) = s.get_json("/api/v1/nothing-here").await;
    assert_problem(st, &body, 404, "not_found", None);
    let (st, body) = s
        .api(Method::PUT, "/api/v1/organizations", Some(json!({})))
        .await;
    assert_problem(st, &body, 405, "method_not_allowed", None);
    // Nothing was written by any of these.
    assert_eq!(org_count(&s).await, before);
    // Portal forms answer with the error next to the form, and keep the values.
    let r = s
        .form(
            "/back-office/organizations",
            &[
                ("name", "Form SA"),
                ("admin_name", "B"),
                ("admin_email", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("administrator.email") && page.contains("value=\"Form SA\""),
        "{page}"
    );
    let r = s
        .form(
            "/back-office/organizations",
            &[
                ("name", "Form SA"),
                ("admin_name", "B"),
                ("admin_email", "b.c@form.example"),
                ("occurred_at", "hier"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    // A form without its CSRF token is refused.
    let r = s
        .client
        .post(s.url("/back-office/organizations"))
        .form(&[("name", "No CSRF")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(org_count(&s).await, before);
    app.stop().await;
}

pub async fn health_metrics_openapi_and_request_ids(b: Backend) {
    let app = TestApp::start(b).await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !r.headers().contains_key("strict-transport-security"),
        "no HSTS without TLS"
    );
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        200
    );
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/organizations"]["post"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ciel_http_requests_total"), "{metrics}");
    // A request id given by a proxy is kept.
    let r = reqwest::Client::new()
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "edge-42");
    // The portal speaks English on request, French by default.
    let fr = reqwest::get(app.url("/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fr.contains("lang=\"fr\"") && fr.contains("Connexion"));
    let en = reqwest::Client::new()
        .get(app.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Log in"));
    let nf = reqwest::get(app.url("/no/such/page")).await.unwrap();
    assert_eq!(nf.status(), 404);
    // Session cookies are HttpOnly and SameSite.
    let c = app.browser();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf");
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", ADMIN_A),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("ciel_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    app.stop().await;
}

pub async fn mail_is_delivered_once_and_kept_as_evidence(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    let (status, _) = staff.api(Method::POST, "/api/v1/staff", Some(json!({"name": "Nina Perrin", "email": "nina.perrin@bytel-cloud.example", "role": "billing"}))).await;
    assert_eq!(status, 201);
    let mail = app.mail("nina.perrin@bytel-cloud.example", 1).await;
    assert!(mail.contains("Message-ID: <msg_"), "{mail}");
    let find = |msgs: &Value| {
        msgs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["to"] == "nina.perrin@bytel-cloud.example")
            .cloned()
            .unwrap()
    };
    let mut sent = Value::Null;
    for _ in 0..100 {
        sent = find(&staff.get_json("/api/v1/messages").await.1);
        if sent["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["sent_at"], START, "the send time is the clock's");
    // The stored text is what was sent, but records never show the link.
    assert!(
        sent["body_text"]
            .as_str()
            .unwrap()
            .contains("/invitation/…")
    );
    // Running the delivery again (a worker that died after sending, whose
    // lease expired) sends nothing twice.
    let state = app.state();
    let id = sent["id"].as_str().unwrap();
    jobs::enqueue(
        state.store().writer(),
        NewJob {
            kind: ciel_store::outbox::DELIVER_JOB,
            payload: json!({"message": id}),
            run_at: app.now(),
            dedup_key: Some("replay".into()),
            max_attempts: 3,
        },
        app.now(),
    )
    .await
    .unwrap();
    let again = jobs::enqueue(
        state.store().writer(),
        NewJob {
            kind: ciel_store::outbox::DELIVER_JOB,
            payload: json!({"message": id}),
            run_at: app.now(),
            dedup_key: Some(format!("mail:{id}")),
            max_attempts: 3,
        },
        app.now(),
    )
    .await
    .unwrap();
    assert!(
        again.is_none(),
        "the dedup key refuses a second delivery job"
    );
    for _ in 0..100 {
        if jobs::count_by_status(state.store().db(), "queued")
            .await
            .unwrap()
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.sink.to("nina.perrin@bytel-cloud.example").len(), 1);
    app.stop().await;
}

pub async fn concurrent_workers_claim_each_job_once(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.jobs.workers = 0;
        c.database.max_connections = 8;
    })
    .await;
    let store = app.state().store().clone();
    let now = app.now();
    for i in 0..200 {
        jobs::enqueue(
            store.writer(),
            NewJob {
                kind: "test.noop",
                payload: json!({"i": i}),
                run_at: now,
                dedup_key: Some(format!("noop:{i}")),
                max_attempts: 3,
            },
            now,
        )
        .await
        .unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut got = Vec::new();
            while let Some(job) = jobs::claim(&store, &worker, now, SignedDuration::from_mins(5))
                .await
                .unwrap()
            {
                assert!(jobs::complete(&store, &job.id, &worker, now).await.unwrap());
                got.push(job.id.to_string());
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), unique.len(), "a job was claimed twice");
    // Plus the housekeeping job, today's services pass, this month's SLA
    // statement run and usage close, and the dunning, colocation and
    // regularisation passes enqueued at start (tomorrow's passes and next
    // month's runs are not due).
    assert_eq!(unique.len(), 207);
    // A lease that expires (a worker that died) makes the job claimable again.
    jobs::enqueue(
        store.writer(),
        NewJob {
            kind: "test.noop",
            payload: json!({}),
            run_at: now,
            dedup_key: Some("lease".into()),
            max_attempts: 3,
        },
        now,
    )
    .await
    .unwrap();
    let first = jobs::claim(&store, "dead", now, SignedDuration::from_mins(5))
        .await
        .unwrap()
        .unwrap();
    assert!(
        jobs::claim(&store, "alive", now, SignedDuration::from_mins(5))
            .await
            .unwrap()
            .is_none()
    );
    let later = now + SignedDuration::from_mins(6);
    let second = jobs::claim(&store, "alive", later, SignedDuration::from_mins(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.attempts, 2);
    assert!(
        !jobs::complete(&store, &first.id, "dead", later)
            .await
            .unwrap(),
        "the dead worker lost its lease"
    );
    assert!(
        jobs::complete(&store, &second.id, "alive", later)
            .await
            .unwrap()
    );
    app.stop().await;
}

pub async fn migrations_are_forward_only_and_idempotent(b: Backend) {
    let app = TestApp::start(b).await;
    let store = app.state().store();
    let first = store.migrate().await.unwrap();
    let second = store.migrate().await.unwrap();
    assert_eq!(first, second);
    assert!(!first.is_empty());
    // Every migration file name is versioned and each backend has the same versions.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../store/migrations");
    let list = |b: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{dir}/{b}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list("sqlite"), list("postgres"));
    app.stop().await;
}

pub async fn two_servers_send_each_notice_once(b: Backend) {
    let app = TestApp::start_with(b, |c| c.jobs.workers = 2).await;
    let second = app.another_server(2).await;
    let staff = app.login(STAFF_ADMIN, DEMO_PASSWORD).await;
    // Both processes serve requests: half of the staff are created through each.
    let other_base = format!("http://{}", second.addr);
    let other = Session::open(&other_base, STAFF_ADMIN, DEMO_PASSWORD).await;
    let n = 24;
    for i in 0..n {
        let body = json!({"name": format!("Agent {i}"), "email": format!("agent.{i}@bytel-cloud.example"), "role": "support"});
        let status = if i % 2 == 0 {
            staff.api(Method::POST, "/api/v1/staff", Some(body)).await.0
        } else {
            other.api(Method::POST, "/api/v1/staff", Some(body)).await.0
        };
        assert_eq!(status, 201);
    }
    // Four workers in two processes deliver: each invitation exactly once.
    for i in 0..n {
        app.mail(&format!("agent.{i}@bytel-cloud.example"), 1).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..n {
        assert_eq!(
            app.sink.to(&format!("agent.{i}@bytel-cloud.example")).len(),
            1,
            "agent {i}"
        );
    }
    let store = app.state().store();
    // Only tomorrow's services, dunning, colocation and regularisation
    // passes and next month's SLA statement run and usage close wait (one
    // each, though both processes scheduled them at start: their dedup
    // keys are their instants).
    assert_eq!(
        jobs::count_by_status(store.db(), "queued").await.unwrap(),
        6
    );
    assert_eq!(
        jobs::count_by_status(store.db(), "running").await.unwrap(),
        0
    );
    assert_eq!(
        jobs::count_by_status(store.db(), "failed").await.unwrap(),
        0
    );
    second.stop().await.unwrap();
    app.stop().await;
}
