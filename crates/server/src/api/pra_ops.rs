//! PRA operations in the API (issue 7, item 6; R10.1-R10.3, R6.2, R6.5):
//! designated users, protected machines with their targets, the
//! recommended criticality and its refusal, replication status pushed in
//! bulk, and notified tests.

use super::backup::to_value;
use super::episodes::idem_key;
use super::{ApiJson, parse_json};
use crate::auth::Principal;
use crate::pra_ops::{self, Replication, ReplicationPushed};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ciel_operations::pra::PraAction;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A designation (R10.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationRequest {
    /// A user of the organisation.
    pub user_id: String,
    /// `trigger_failover` and/or `change_policies`.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<PraAction>,
}

/// The provider's recommended criticality of a machine (R6.5).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    /// `c1`, `c2` or `c3`.
    pub criticality: String,
}

/// One machine's replication status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationIn {
    pub service_id: String,
    /// `ok`, `lagging` or `failed`.
    pub status: String,
    /// The last replication point (the RPO runs from it, R6.2).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_replication_at: Option<jiff::Timestamp>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationBulk {
    pub statuses: Vec<ReplicationIn>,
}

/// A test notified by the client (R10.3).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// `simple` (no cut, 15 days notice) or `full` (its own order, 30 days).
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: jiff::Timestamp,
    /// The full test's own order.
    pub own_order: Option<String>,
}

/// The client's Administrator designates a user for PRA actions (R10.2).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/pra-designations", tag = "pra",
    params(("org_id" = String, Path)),
    request_body = DesignationRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn designate(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<DesignationRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let row = pra_ops::designate(&s, &p, &org_id, &r.user_id, r.actions).await?;
    Ok((StatusCode::CREATED, to_value(&row)?))
}

/// The organisation's designations, revoked ones included.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/pra-designations", tag = "pra",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_designations(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = pra_ops::designations(&s, &p, &org_id).await?;
    Ok(Json(json!({ "items": items })))
}

/// Ends a designation (R10.2).
#[utoipa::path(post, path = "/api/v1/pra-designations/{designation_id}/revoke", tag = "pra",
    params(("designation_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn revoke_designation(
    State(s): State<AppState>,
    p: Principal,
    Path(designation_id): Path<String>,
) -> ApiResult<Json<Value>> {
    to_value(&pra_ops::revoke(&s, &p, &designation_id).await?)
}

/// The protected machines with criticality, R6.2 targets, recommendation,
/// refusal (R6.5) and replication status.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/pra-machines", tag = "pra",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_machines(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = pra_ops::machines(&s, &p, &org_id).await?;
    Ok(Json(json!({ "items": items })))
}

/// Staff recommend a criticality for a machine (R6.5).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/pra-recommendation", tag = "pra",
    params(("service_id" = String, Path)),
    request_body = RecommendationRequest,
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn recommend(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<RecommendationRequest>,
) -> ApiResult<Json<Value>> {
    to_value(&pra_ops::recommend(&s, &p, &service_id, &r.criticality).await?)
}

/// The client refuses the recommended criticality: no SLA applies to the
/// machine from then on (R6.5; a designated user, R10.2).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/pra-refusal", tag = "pra",
    params(("service_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn refuse(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<Value>> {
    to_value(&pra_ops::refuse(&s, &p, &service_id).await?)
}

/// The replication platform pushes machines' replication status.
#[utoipa::path(post, path = "/api/v1/pra/replication", tag = "pra",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = ReplicationBulk,
    responses((status = 201, body = ReplicationPushed), (status = 200, body = ReplicationPushed),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_replication(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    crate::usage::require_metering(&p)?;
    let bulk: ReplicationBulk = parse_json(&body)?;
    let items = bulk
        .statuses
        .into_iter()
        .map(|r| Replication {
            service_id: r.service_id,
            status: r.status,
            last_replication_at: r.last_replication_at,
        })
        .collect();
    let hash = ciel_store::secrets::hash_secret(&String::from_utf8_lossy(&body));
    let out = pra_ops::push_replication(&s, &p, &idem_key(&headers), hash, items).await?;
    Ok((out.status, Json(out.body)).into_response())
}

/// A designated user (or staff from its letter) notifies a test (R10.3):
/// a late notice is accepted and flagged billed; a full test needs its
/// own order.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/pra-tests", tag = "pra",
    params(("order_id" = String, Path)),
    request_body = TestRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn notify_test(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<TestRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let d = pra_ops::notify_test(&s, &p, &order_id, &r.kind, r.starts_at, r.own_order).await?;
    Ok((StatusCode::CREATED, to_value(&d)?))
}

/// An organisation's notified tests.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/pra-tests", tag = "pra",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tests(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = pra_ops::tests(&s, &p, &org_id).await?;
    Ok(Json(json!({ "items": items })))
}

/// The back office's PRA follow-up, across clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUp {
    /// Protected machines with criticality, R6.2 targets, recommendation,
    /// refusal (R6.5) and replication status.
    #[schema(value_type = Vec<Object>)]
    pub machines: Vec<Value>,
    /// Notified tests, the latest start first, each with `billed` (R10.3).
    #[schema(value_type = Vec<Object>)]
    pub tests: Vec<Value>,
    /// Failovers and tests not yet returned to nominal, the oldest first,
    /// each machine with when it was reachable again (R10.4).
    pub running: Vec<crate::api::pra::ActivationView>,
}

/// Staff follow every client's PRA: protected machines, test notices and
/// the failovers still running (R10, R6.5).
#[utoipa::path(get, path = "/api/v1/pra/follow-up", tag = "pra",
    responses((status = 200, body = FollowUp), (status = 403, body = Problem)))]
pub async fn follow_up(State(s): State<AppState>, p: Principal) -> ApiResult<Json<FollowUp>> {
    let machines = pra_ops::all_machines(&s, &p).await?;
    let tests = pra_ops::all_tests(&s, &p).await?;
    let running = crate::pra::running(&s, &p).await?;
    Ok(Json(FollowUp {
        machines: machines
            .iter()
            .map(|m| to_value(m).map(|j| j.0))
            .collect::<ApiResult<_>>()?,
        tests: tests
            .iter()
            .map(|t| to_value(t).map(|j| j.0))
            .collect::<ApiResult<_>>()?,
        running: running.iter().map(crate::api::pra::view).collect(),
    }))
}
