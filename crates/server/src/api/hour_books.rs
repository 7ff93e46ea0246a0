//! Prepaid hour books in the API (issue 4, item 7; R8.2-R8.3): the books of
//! a client with their balances, a book with every intervention and its
//! explanation, and the staff actions (an intervention, a written overrun
//! authorisation). A refused charge answers 409 `invalid_transition` naming
//! R8.2 and writes nothing.

use super::ApiJson;
use crate::auth::Principal;
use crate::hour_books::{self, AuthorisationInput, BookDetail, BookState, InterventionInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ciel_engine::Lang;
use ciel_store::hour_books::{AuthorisationRow, InterventionRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An intervention recorded by staff. The staff member recording it is the
/// one who did the work.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterventionRequest {
    /// `normal` (default, R8.2), `server_restoration` (restoring a dedicated
    /// server from backup, R8.3) or `data_recovery` (end-of-contract help, R8.3).
    pub kind: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    /// After `start`, not in the future.
    #[schema(value_type = String, format = DateTime)]
    pub end: jiff::Timestamp,
    pub description: String,
}

/// The client's written agreement to go beyond the book (R8.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorisationRequest {
    /// Who gave it for the client (name, role).
    pub given_by: String,
    /// When it was given (default: now, or `Ciel-Occurred-At`).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub given_at: Option<jiff::Timestamp>,
    /// The writing it was given in (e-mail, letter, signed order reference).
    pub reference: String,
    /// Minutes beyond the book it covers.
    pub max_minutes: u32,
}

/// A book with its balance read now.
#[derive(Debug, Serialize, ToSchema)]
pub struct HourBookView {
    pub id: String,
    pub org_id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub hours: i64,
    /// Price of one hour on the order, the rate of an authorised overrun (EUR excl. VAT).
    pub hourly_rate: String,
    pub terms_version: String,
    #[schema(value_type = String, format = DateTime)]
    pub purchased_at: jiff::Timestamp,
    /// Exact decimal minutes.
    pub purchased_minutes: String,
    pub charged_minutes: String,
    /// Part of the charges beyond the book, billed at the hourly rate.
    pub overrun_minutes: String,
    /// Hours lost at month ends without a managed-services order (CS 5.3).
    pub lapsed_minutes: String,
    pub balance_minutes: String,
    /// A managed-services order is in force: the balance carries over.
    pub carries_over: bool,
}

/// An intervention with what it took from the book and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionView {
    pub id: String,
    pub book_id: String,
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: jiff::Timestamp,
    pub description: String,
    /// The staff member who did the work.
    pub staff: String,
    pub charged_minutes: String,
    pub overrun_minutes: String,
    /// The steps, each citing its rule and clause.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    pub explanation_fr: String,
    pub explanation_en: String,
}

/// A written overrun authorisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorisationView {
    pub id: String,
    pub book_id: String,
    pub given_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub given_at: jiff::Timestamp,
    pub reference: String,
    pub max_minutes: i64,
}

/// A book with every intervention and authorisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct HourBookDetail {
    pub book: HourBookView,
    pub interventions: Vec<InterventionView>,
    pub authorisations: Vec<AuthorisationView>,
    /// The ledger, line by line (purchase, interventions, lapses), with
    /// balances and explanations.
    #[schema(value_type = Vec<Object>)]
    pub ledger: serde_json::Value,
}

/// The books of an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct HourBookList {
    pub items: Vec<HourBookView>,
}

/// The answer to a recorded intervention: it and the book after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionRecorded {
    pub intervention: InterventionView,
    pub book: HourBookView,
}

fn dec(d: rust_decimal::Decimal) -> String {
    d.normalize().to_string()
}

pub fn book_view(s: &BookState) -> HourBookView {
    let b = &s.book;
    let l = &s.ledger;
    HourBookView {
        id: b.id.to_string(),
        org_id: b.org_id.to_string(),
        order_id: b.order_id.clone(),
        order_line_id: b.order_line_id.clone(),
        hours: b.hours,
        hourly_rate: b.hourly_rate.clone(),
        terms_version: b.terms_version.clone(),
        purchased_at: b.purchased_at,
        purchased_minutes: dec(l.purchased_minutes),
        charged_minutes: dec(l.charged_minutes),
        overrun_minutes: dec(l.overrun_minutes),
        lapsed_minutes: dec(l.lapsed_minutes),
        balance_minutes: dec(l.balance_minutes),
        carries_over: s.managed_now,
    }
}

pub fn intervention_view(i: &InterventionRow) -> InterventionView {
    InterventionView {
        id: i.id.to_string(),
        book_id: i.book_id.clone(),
        kind: i.kind.clone(),
        start: i.started_at,
        end: i.ended_at,
        description: i.description.clone(),
        staff: i.staff_label.clone(),
        charged_minutes: i.charged_minutes.clone(),
        overrun_minutes: i.overrun_minutes.clone(),
        explanation: serde_json::from_str(&i.explanation_json).unwrap_or_default(),
        explanation_fr: hour_books::render_explanation(&i.explanation_json, Lang::Fr),
        explanation_en: hour_books::render_explanation(&i.explanation_json, Lang::En),
    }
}

fn authorisation_view(a: &AuthorisationRow) -> AuthorisationView {
    AuthorisationView {
        id: a.id.to_string(),
        book_id: a.book_id.clone(),
        given_by: a.given_by.clone(),
        given_at: a.given_at,
        reference: a.reference.clone(),
        max_minutes: a.max_minutes,
    }
}

fn detail_view(d: &BookDetail) -> HourBookDetail {
    HourBookDetail {
        book: book_view(&d.state),
        interventions: d.interventions.iter().map(intervention_view).collect(),
        authorisations: d.authorisations.iter().map(authorisation_view).collect(),
        ledger: serde_json::to_value(&d.state.ledger.entries).unwrap_or_default(),
    }
}

/// The hour books of an organisation with their balances (staff; the
/// client's users who see services).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/hour-books", tag = "hour_books",
    params(("org_id" = String, Path)),
    responses((status = 200, body = HourBookList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_hour_books(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<HourBookList>> {
    let books = hour_books::list_books(&s, &p, &org_id).await?;
    Ok(Json(HourBookList {
        items: books.iter().map(book_view).collect(),
    }))
}

/// A book with every intervention, its charge and explanation (R8.2-R8.3).
#[utoipa::path(get, path = "/api/v1/hour-books/{book_id}", tag = "hour_books",
    params(("book_id" = String, Path)),
    responses((status = 200, body = HourBookDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_hour_book(
    State(s): State<AppState>,
    p: Principal,
    Path(book_id): Path<String>,
) -> ApiResult<Json<HourBookDetail>> {
    let d = hour_books::get_book(&s, &p, &book_id).await?;
    Ok(Json(detail_view(&d)))
}

/// Staff record an intervention: charged in 15-minute steps, outside
/// business hours double (R8.2); beyond the balance only with a written
/// authorisation, the overrun then billed at the hourly rate.
#[utoipa::path(post, path = "/api/v1/hour-books/{book_id}/interventions", tag = "hour_books",
    params(("book_id" = String, Path),
        ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: actual time of the recording (RFC 3339)")),
    request_body = InterventionRequest,
    responses((status = 201, body = InterventionRecorded), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_intervention(
    State(s): State<AppState>,
    p: Principal,
    Path(book_id): Path<String>,
    ApiJson(r): ApiJson<InterventionRequest>,
) -> ApiResult<(StatusCode, Json<InterventionRecorded>)> {
    let (i, d) = hour_books::record_intervention(
        &s,
        &p,
        &book_id,
        InterventionInput {
            kind: r.kind,
            start: r.start,
            end: r.end,
            description: r.description,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InterventionRecorded {
            intervention: intervention_view(&i),
            book: book_view(&d.state),
        }),
    ))
}

/// Staff record the client's written overrun authorisation (R8.2).
#[utoipa::path(post, path = "/api/v1/hour-books/{book_id}/overrun-authorisations", tag = "hour_books",
    params(("book_id" = String, Path),
        ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: when it was given (RFC 3339)")),
    request_body = AuthorisationRequest,
    responses((status = 201, body = AuthorisationView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn record_authorisation(
    State(s): State<AppState>,
    p: Principal,
    Path(book_id): Path<String>,
    ApiJson(r): ApiJson<AuthorisationRequest>,
) -> ApiResult<(StatusCode, Json<AuthorisationView>)> {
    let a = hour_books::record_authorisation(
        &s,
        &p,
        &book_id,
        AuthorisationInput {
            given_by: r.given_by,
            given_at: r.given_at,
            reference: r.reference,
            max_minutes: r.max_minutes,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(authorisation_view(&a))))
}
