//! The contract calculators through HTTP (issue 3's `/api/v1/calc/...`).

use crate::support::*;
use reqwest::Method;
use serde_json::json;

pub async fn ticket_deadline_calculator_cites_its_rules(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    // Premium, C1 x I2 = P2 (R4.2): GTI 4 h, GTR 1 JO = 10 h (R4.3) on the
    // Premium calendar, Mon-Sat 08:00-18:00 outside public holidays (R4.1).
    // Notified Thursday 7 May 2026 at 17:30 Paris: 30 min that evening;
    // Friday 8 May is a holiday (Victoire 1945); Saturday 9 May opens at
    // 08:00. GTI: 4 h - 0.5 h = 3.5 h → Saturday 11:30 (09:30Z).
    // GTR: 10 h - 0.5 h = 9.5 h → Saturday 17:30 (15:30Z).
    let (status, body) = staff
        .api(
            Method::POST,
            "/api/v1/calc/ticket-deadlines",
            Some(json!({"level": "premium", "criticality": "C1", "impact": "I2", "notified_at": "2026-05-07T17:30:00+02:00"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["priority"]["priority"], "P2");
    assert_eq!(body["result"]["gti"]["due_at"], "2026-05-09T09:30:00Z");
    assert_eq!(body["result"]["gtr"]["due_at"], "2026-05-09T15:30:00Z");
    let rules: Vec<&str> = body["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"R4.2") && rules.contains(&"R4.3"),
        "{rules:?}"
    );
    // A bad value names its field; anonymous callers are refused.
    let (status, body) = staff
        .api(Method::POST, "/api/v1/calc/ticket-deadlines", Some(json!({"level": "gold", "criticality": "C1", "impact": "I2", "notified_at": "2026-05-07T17:30:00+02:00"})))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["field"], "level");
    let anon = reqwest::Client::new()
        .post(app.url("/api/v1/calc/ticket-deadlines"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    app.stop().await;
}
