//! Prepaid hour books (issue 4, item 7; R8.2-R8.3), through HTTP: an order
//! with an hour-book line validated creates the book; staff interventions
//! in and out of business hours are charged per R8.2 with their
//! explanation; bad input and an unauthorised overrun are refused naming
//! the rule and write nothing; a written authorisation lets the overrun
//! through, billed once; a restoration is taken from the book (R8.3); the
//! client sees it all, another organisation gets 404.

use crate::support::*;
use ciel_store::{Scope, charges};
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};

async fn post(s: &Session, path: &str, body: Value) -> (u16, Value) {
    s.api(Method::POST, path, Some(body)).await
}

/// Staff sell `hours` hours to the organisation of `admin`; returns the org.
pub async fn sell_hour_book(staff: &Session, admin: &Session, hours: u32) -> String {
    let org = admin.get_json("/api/v1/me").await.1["org_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, order) = post(
        staff,
        &format!("/api/v1/organizations/{org}/orders"),
        json!({"lines": [{"item": {"kind": "hour_book", "hours": hours}}]}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    send_accept_validate(staff, admin, id).await;
    org
}

fn work(start: &str, end: &str) -> Value {
    json!({"start": start, "end": end, "description": "Mise à jour du noyau"})
}

pub async fn hour_books_are_charged_per_r8_and_overruns_need_authorisation(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = sell_hour_book(&staff, &admin_a, 2).await;

    // The validated order created one book of 2 hours, at the demo tariff's
    // 110 EUR an hour (first tier, up to 20 hours).
    let (status, list) = admin_a
        .get_json(&format!("/api/v1/organizations/{org}/hour-books"))
        .await;
    assert_eq!(status, 200, "{list}");
    let books = list["items"].as_array().unwrap();
    assert_eq!(books.len(), 1, "{list}");
    assert_eq!(books[0]["hours"], 2);
    assert_eq!(books[0]["hourly_rate"], "110");
    assert_eq!(books[0]["balance_minutes"], "120");
    let book = books[0]["id"].as_str().unwrap().to_owned();
    let interventions = format!("/api/v1/hour-books/{book}/interventions");

    // Eight days later (Fri 15 May 2026, 17:30 Paris); sessions expired.
    app.advance(SignedDuration::from_hours(8 * 24));
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;

    // Mon 11 May 10:00-11:00 Paris: 60 business minutes.
    let (status, r) = post(
        &staff,
        &interventions,
        work("2026-05-11T08:00:00Z", "2026-05-11T09:00:00Z"),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["intervention"]["charged_minutes"], "60");
    assert_eq!(r["intervention"]["staff"], STAFF_SUPPORT);
    assert_eq!(r["book"]["balance_minutes"], "60");
    assert!(
        r["intervention"]["explanation_fr"]
            .as_str()
            .unwrap()
            .contains("CS 5.3 (R8.2)")
    );

    // A dedicated-server restoration across the closing time (R8.3):
    // 17:50-18:05 Paris = 10 business min (15) + 5 outside (15 × 2) = 45.
    let mut restore = work("2026-05-11T15:50:00Z", "2026-05-11T16:05:00Z");
    restore["kind"] = json!("server_restoration");
    let (status, r) = post(&staff, &interventions, restore).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["intervention"]["charged_minutes"], "45");
    assert_eq!(r["intervention"]["kind"], "server_restoration");
    assert!(
        r["intervention"]["explanation_en"]
            .as_str()
            .unwrap()
            .contains("(R8.3)")
    );
    assert_eq!(r["book"]["balance_minutes"], "15");

    // Bad input is refused with the rule and the field; nothing written.
    for (body, field) in [
        (work("2026-05-14T09:00:00Z", "2026-05-14T08:00:00Z"), "end"),
        (work("2026-05-15T15:00:00Z", "2026-05-15T16:00:00Z"), "end"),
        (
            work("2026-05-01T08:00:00Z", "2026-05-01T09:00:00Z"),
            "start",
        ),
    ] {
        let (status, p) = post(&staff, &interventions, body).await;
        assert_eq!((status, p["field"].as_str()), (422, Some(field)), "{p}");
        assert!(
            p["detail"].as_str().unwrap().starts_with("R8.2 (CS 5.3)"),
            "{p}"
        );
    }
    let (status, p) = post(
        &staff,
        &interventions,
        json!({"start": "2026-05-14T08:00:00Z", "end": "2026-05-14T08:30:00Z",
            "description": "x", "kind": "coffee"}),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("kind")));
    // Clients read, staff write.
    let (status, _) = post(
        &admin_a,
        &interventions,
        work("2026-05-14T08:00:00Z", "2026-05-14T08:30:00Z"),
    )
    .await;
    assert_eq!(status, 403);

    // On Ascension Day (Thu 14 May), 10:00-10:30 Paris: 30 min outside business hours,
    // counted double = 60 min for 15 left: refused without authorisation.
    let holiday = work("2026-05-14T08:00:00Z", "2026-05-14T08:30:00Z");
    let (status, p) = post(&staff, &interventions, holiday.clone()).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["code"], "invalid_transition");
    assert!(
        p["detail"].as_str().unwrap().starts_with("R8.2 (CS 5.3)"),
        "{p}"
    );
    let (_, d) = staff.get_json(&format!("/api/v1/hour-books/{book}")).await;
    assert_eq!(d["interventions"].as_array().unwrap().len(), 2, "{d}");
    let db = app.state().store().db();
    let billed = || async {
        charges::of_source(db, &Scope::Staff, "hour_book", &book)
            .await
            .unwrap()
    };
    assert!(billed().await.is_empty());

    // The client agrees in writing (e-mail at 09:00 Paris) to 60 more minutes.
    let (status, a) = post(
        &staff,
        &format!("/api/v1/hour-books/{book}/overrun-authorisations"),
        json!({"given_by": "Jeanne Martin, DSI", "given_at": "2026-05-14T07:00:00Z",
            "reference": "e-mail du 14 mai 2026", "max_minutes": 60}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let (status, p) = post(
        &admin_a,
        &format!("/api/v1/hour-books/{book}/overrun-authorisations"),
        json!({"given_by": "x", "reference": "y", "max_minutes": 600}),
    )
    .await;
    assert_eq!(status, 403, "{p}");

    // Now accepted: 15 min from the book, 45 min overrun billed at 110 EUR/h = 82.50 EUR.
    let (status, r) = post(&staff, &interventions, holiday).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["intervention"]["charged_minutes"], "60");
    assert_eq!(r["intervention"]["overrun_minutes"], "45");
    assert_eq!(r["book"]["balance_minutes"], "0");
    assert_eq!(r["book"]["overrun_minutes"], "45");
    let c = billed().await;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].amount.as_str(), c[0].rule.as_str()),
        ("82.50", "R8.2")
    );
    assert!(c[0].explanation_json.contains("R8.2"));

    // Recorded out of order (ends before the last one): refused.
    let (status, p) = post(
        &staff,
        &interventions,
        work("2026-05-11T12:00:00Z", "2026-05-11T12:15:00Z"),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(billed().await.len(), 1);

    // The client sees its book and every intervention with its explanation.
    let (status, d) = admin_a
        .get_json(&format!("/api/v1/hour-books/{book}"))
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["book"]["balance_minutes"], "0");
    let items = d["interventions"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["explanation"]["steps"].is_array()));
    assert_eq!(d["authorisations"][0]["given_by"], "Jeanne Martin, DSI");
    let page = admin_a
        .get(&format!("/espace-client/hour-books/{book}"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Mise à jour du noyau"), "{html}");
    assert!(html.contains("R8.3"));

    // The back office records an authorisation and refuses a bad intervention
    // with the rule next to the form.
    let page = staff.get(&format!("/back-office/hour-books/{book}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/authorisations"));
    let r = staff
        .form(
            &format!("/back-office/hour-books/{book}/authorisations"),
            &[
                ("given_by", "Jeanne Martin"),
                ("given_at", "2026-05-15T09:00"),
                ("reference", "courrier"),
                ("max_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = staff
        .form(
            &format!("/back-office/hour-books/{book}/interventions"),
            &[
                ("start", "2026-05-15T11:00"),
                ("end", "2026-05-15T10:00"),
                ("kind", "normal"),
                ("description", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("R8.2 (CS 5.3)"));
    let (_, d) = staff.get_json(&format!("/api/v1/hour-books/{book}")).await;
    assert_eq!(d["authorisations"].as_array().unwrap().len(), 2);
    assert_eq!(d["interventions"].as_array().unwrap().len(), 3);

    // Another organisation's users get 404, never the book.
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    for path in [
        format!("/api/v1/hour-books/{book}"),
        format!("/api/v1/organizations/{org}/hour-books"),
    ] {
        let (status, v) = admin_b.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {v}");
    }
    assert_eq!(
        admin_b
            .get(&format!("/espace-client/hour-books/{book}"))
            .await
            .status(),
        404
    );
    app.stop().await;
}

/// CS 5.3: hours carry over from month to month only while a
/// managed-services order is in force; without one, the balance lapses at
/// the month end (Europe/Paris), and the ledger says so.
pub async fn unused_hours_lapse_at_month_end_without_managed_services(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org = sell_hour_book(&staff, &admin_a, 2).await;
    let list = format!("/api/v1/organizations/{org}/hour-books");
    let (_, l) = admin_a.get_json(&list).await;
    assert_eq!(l["items"][0]["carries_over"], false);
    let book = l["items"][0]["id"].as_str().unwrap().to_owned();
    // 31 May 23:59:59 Paris: still there.
    let to_june = jiff::Timestamp::from_second(1_780_264_800).unwrap(); // 2026-05-31T22:00:00Z
    app.advance(app.now().duration_until(to_june) - SignedDuration::from_secs(1));
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let (_, l) = admin_a.get_json(&list).await;
    assert_eq!(l["items"][0]["balance_minutes"], "120", "{l}");
    // 1 June 00:00 Paris: lapsed.
    app.advance(SignedDuration::from_secs(1));
    let (_, d) = admin_a
        .get_json(&format!("/api/v1/hour-books/{book}"))
        .await;
    assert_eq!(d["book"]["balance_minutes"], "0", "{d}");
    assert_eq!(d["book"]["lapsed_minutes"], "120");
    let lapse = d["ledger"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(lapse["type"], "lapse", "{lapse}");
    assert_eq!(lapse["explanation"]["steps"][0]["clause"], "CS 5.3");
    app.stop().await;
}
