//! Maintenance windows in the API (issue 5, item 3; R4.6): staff plan a
//! window and the affected clients are notified at once, each with the
//! engine's outcome; clients list their windows and rotate the private URL
//! of their iCalendar feed (`/calendar/<token>.ics`, outside this API).

use super::ApiJson;
use crate::auth::Principal;
use crate::maintenance::{self, ChangeInput, PlanInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ciel_engine::Lang;
use ciel_store::maintenance::{NoticeRow, WindowRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A window staff plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub title: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    /// Expected duration in minutes.
    pub expected_minutes: i64,
    pub impact: String,
    pub reason: String,
    /// Who to contact about the works.
    pub contact: String,
    /// Services affected.
    #[serde(default)]
    pub services: Vec<String>,
    /// Clusters affected (every service on them).
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Marks urgent security maintenance (R4.6), with why: excluded whatever the notice.
    pub urgent_security_reason: Option<String>,
}

/// A change to a window (staff); an absent field keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// The window's `sequence` as read: a window changed meanwhile is refused (409).
    pub sequence: i64,
    pub title: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<jiff::Timestamp>,
    /// Expected duration in minutes.
    pub expected_minutes: Option<i64>,
    pub impact: Option<String>,
    pub reason: Option<String>,
    pub contact: Option<String>,
}

/// The cancellation of a window (staff).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// The window's `sequence` as read.
    pub sequence: i64,
    /// Why the works are cancelled (told to the clients).
    pub reason: String,
}

/// The notice of one affected client and its R4.6 outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub org_id: String,
    /// Send time R4.6 counts from for the window as it is now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub notified_at: Option<jiff::Timestamp>,
    /// Send time of the last notice (a change, the cancellation).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sent_at: Option<jiff::Timestamp>,
    /// `in_time`, `late` or `not_sent`.
    pub status: String,
    /// Excluded from interruption, restoration and availability counting.
    pub excluded: bool,
    /// Flagged: notified less than the contractual notice ahead and not urgent security.
    pub flagged_not_excluded: bool,
    pub services: Vec<String>,
    /// The engine's outcome with the window as counted for this client.
    #[schema(value_type = Object)]
    pub outcome: serde_json::Value,
}

/// A window with its notices (a client sees its own only).
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    pub id: String,
    pub title: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: jiff::Timestamp,
    pub impact: String,
    pub reason: String,
    pub contact: String,
    pub urgent_security_reason: Option<String>,
    /// Last instant a notice was in time (R4.6).
    #[schema(value_type = String, format = DateTime)]
    pub send_by: jiff::Timestamp,
    pub services: Vec<String>,
    pub clusters: Vec<String>,
    /// Revision, bumped by each change (the iCalendar SEQUENCE).
    pub sequence: i64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<jiff::Timestamp>,
    pub cancel_reason: Option<String>,
    pub notices: Vec<NoticeView>,
    /// The R4.6 outcome in words.
    pub summary_fr: String,
    pub summary_en: String,
}

/// Windows, latest start first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowList {
    pub items: Vec<WindowView>,
}

/// A new private feed URL, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub url: String,
}

/// The R4.6 outcome of a window in words (one line per client notice).
pub fn summary(w: &WindowRow, notices: &[NoticeRow], lang: Lang) -> String {
    let excluded = notices.iter().filter(|n| n.excluded).count();
    let late = notices.len() - excluded;
    match (lang, &w.urgent_security_reason) {
        (Lang::Fr, Some(r)) => format!("maintenance urgente de sécurité ({r}) : exclue"),
        (Lang::En, Some(r)) => format!("urgent security maintenance ({r}): excluded"),
        (Lang::Fr, None) if late == 0 => "notifiée dans les délais : exclue".to_owned(),
        (Lang::En, None) if late == 0 => "notified in time: excluded".to_owned(),
        (Lang::Fr, None) => format!("notifiée tardivement à {late} client(s) : non exclue"),
        (Lang::En, None) => format!("notified late to {late} client(s): not excluded"),
    }
}

pub fn window_view(w: &WindowRow, notices: &[NoticeRow]) -> WindowView {
    WindowView {
        id: w.id.to_string(),
        title: w.title.clone(),
        start: w.start,
        end: w.end,
        impact: w.impact.clone(),
        reason: w.reason.clone(),
        contact: w.contact.clone(),
        urgent_security_reason: w.urgent_security_reason.clone(),
        send_by: w.send_by,
        services: w.services.clone(),
        clusters: w.clusters.clone(),
        sequence: w.sequence,
        updated_at: w.updated_at,
        cancelled_at: w.cancelled_at,
        cancel_reason: w.cancel_reason.clone(),
        notices: notices
            .iter()
            .map(|n| NoticeView {
                org_id: n.org_id.to_string(),
                notified_at: n.notified_at,
                last_sent_at: n.last_sent_at,
                status: n.status.clone(),
                excluded: n.excluded,
                flagged_not_excluded: !n.excluded,
                services: n.services.clone(),
                outcome: serde_json::from_str(&n.explanation_json).unwrap_or_default(),
            })
            .collect(),
        summary_fr: summary(w, notices, Lang::Fr),
        summary_en: summary(w, notices, Lang::En),
    }
}

fn list_view(items: &[(WindowRow, Vec<NoticeRow>)]) -> WindowList {
    WindowList {
        items: items.iter().map(|(w, n)| window_view(w, n)).collect(),
    }
}

/// Staff plan a window: every Administrator of each affected client is
/// e-mailed now; a notice sent less than the contractual days ahead is
/// flagged not excluded, unless urgent security maintenance (R4.6).
#[utoipa::path(post, path = "/api/v1/maintenance-windows", tag = "maintenance",
    request_body = PlanRequest,
    responses((status = 201, body = WindowView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn plan_window(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<PlanRequest>,
) -> ApiResult<(StatusCode, Json<WindowView>)> {
    let (w, n) = maintenance::plan(
        &s,
        &p,
        PlanInput {
            title: r.title,
            start: r.start,
            expected_minutes: r.expected_minutes,
            impact: r.impact,
            reason: r.reason,
            contact: r.contact,
            services: r.services,
            clusters: r.clusters,
            urgent_security_reason: r.urgent_security_reason,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(window_view(&w, &n))))
}

/// Staff change a window's start, duration, impact or texts: every affected
/// client is told again; R4.6 then counts from the notice of the change,
/// unless the works stay inside the window already notified with the same
/// impact (`maintenance.changed_window_notice`); the feed's SEQUENCE grows
/// and the GTR of tickets on its services moves with it.
#[utoipa::path(patch, path = "/api/v1/maintenance-windows/{window_id}", tag = "maintenance",
    params(("window_id" = String, Path)), request_body = ChangeRequest,
    responses((status = 200, body = WindowView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_window(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ChangeRequest>,
) -> ApiResult<Json<WindowView>> {
    let (w, n) = maintenance::change(
        &s,
        &p,
        &id,
        ChangeInput {
            title: r.title,
            start: r.start,
            expected_minutes: r.expected_minutes,
            impact: r.impact,
            reason: r.reason,
            contact: r.contact,
            sequence: r.sequence,
        },
    )
    .await?;
    Ok(Json(window_view(&w, &n)))
}

/// Staff cancel a window with why: every affected client is told and the
/// feed shows it `STATUS:CANCELLED`; it no longer moves ticket clocks.
#[utoipa::path(post, path = "/api/v1/maintenance-windows/{window_id}/cancel", tag = "maintenance",
    params(("window_id" = String, Path)), request_body = CancelRequest,
    responses((status = 200, body = WindowView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn cancel_window(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CancelRequest>,
) -> ApiResult<Json<WindowView>> {
    let (w, n) = maintenance::cancel(&s, &p, &id, &r.reason, r.sequence).await?;
    Ok(Json(window_view(&w, &n)))
}

/// Windows: staff see all, a client those it was notified of.
#[utoipa::path(get, path = "/api/v1/maintenance-windows", tag = "maintenance",
    responses((status = 200, body = WindowList)))]
pub async fn list_windows(State(s): State<AppState>, p: Principal) -> ApiResult<Json<WindowList>> {
    Ok(Json(list_view(
        &maintenance::list(&s, &p.scope, 500).await?,
    )))
}

/// The windows of an organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/maintenance-windows", tag = "maintenance",
    params(("org_id" = String, Path)),
    responses((status = 200, body = WindowList), (status = 404, body = Problem)))]
pub async fn org_windows(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<WindowList>> {
    Ok(Json(list_view(
        &maintenance::for_org(&s, &p, &org_id).await?,
    )))
}

/// The Administrator (or staff) issues a new private iCalendar feed URL; the
/// former one stops working. The URL is shown once.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/calendar-feed", tag = "maintenance",
    params(("org_id" = String, Path)),
    responses((status = 201, body = FeedView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn rotate_feed(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<(StatusCode, Json<FeedView>)> {
    let url = maintenance::rotate_feed(&s, &p, &org_id).await?;
    Ok((StatusCode::CREATED, Json(FeedView { url })))
}

/// `GET /calendar/<token>.ics`: the client's windows as RFC 5545 (the token
/// is the credential; an unknown one is 404).
pub async fn calendar(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return Problem::not_found().into_response();
    };
    match maintenance::feed(&s, token).await {
        Ok(Some(text)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Ok(None) => Problem::not_found().into_response(),
        Err(p) => p.into_response(),
    }
}
