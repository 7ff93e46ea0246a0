//! PRA activations and tests in the API (issue 5, item 5; R6, R10.3-R10.4):
//! a failover request or a test on an order's protected machines, each
//! machine's restoration, the return to nominal, and the RTO/RPO results
//! per criticality with their explanation. Refusals name the rule.

use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::pra::{self, ActivationDetail, ActivationInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ciel_engine::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A failover request or a test. Staff give its real time and who asked; a
/// client user with `trigger_pra_failover` (R10.2) sends neither: its
/// request is timed now, in its name.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationRequest {
    /// Staff: when the client asked (default now). RTO and RPO run from it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<jiff::Timestamp>,
    /// Staff: the client's user who asked.
    pub requester: Option<String>,
    /// Staff: `simple` or `full` for a test (R10.3), excluded from
    /// availability and from the RTO commitments.
    pub test_kind: Option<String>,
    pub note: Option<String>,
    /// Machine services concerned (default: every provisioned PRA machine
    /// of the order).
    pub services: Option<Vec<String>>,
    /// Machines whose recommended criticality the client refused: no SLA on
    /// them (R6.5).
    #[serde(default)]
    pub criticality_refused: Vec<String>,
    /// Staff: the notified test this activation runs (R10.3).
    pub test_id: Option<String>,
}

/// A machine reachable again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestorationRequest {
    /// The machine's service.
    pub service_id: String,
    /// When it was reachable again: after the request, not in the future.
    #[schema(value_type = String, format = DateTime)]
    pub reachable_at: jiff::Timestamp,
    /// The last replication or backup point it came back from (RPO, R6.2).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub recovery_point_at: Option<jiff::Timestamp>,
}

/// The return to nominal.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Default now; after the request and every restoration.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
}

/// One machine of an activation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MachineView {
    pub service_id: String,
    pub machine: String,
    /// `c1`, `c2` or `c3` (R6.2, R10.1).
    pub criticality: String,
    pub criticality_refused: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reachable_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub recovery_point_at: Option<jiff::Timestamp>,
    /// From the request to reachable again, in seconds.
    pub rto_seconds: Option<i64>,
    /// From the last replication point to the request, in seconds.
    pub rpo_seconds: Option<i64>,
}

/// An activation with its results as they stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationView {
    pub id: String,
    pub org_id: String,
    pub order_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: jiff::Timestamp,
    pub requester: String,
    pub test_kind: Option<String>,
    pub note: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
    pub version: i64,
    pub machines: Vec<MachineView>,
    pub terms_version: String,
    /// The engine's results per criticality (performance, longest delay,
    /// met, penalty tier, RPO misses) and the activation's penalty (R6.3-R6.4).
    #[schema(value_type = Object)]
    pub outcome: serde_json::Value,
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    pub explanation_fr: String,
    pub explanation_en: String,
}

/// A page of activations, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationList {
    pub items: Vec<ActivationView>,
    pub next_cursor: Option<String>,
}

pub fn view(d: &ActivationDetail) -> ActivationView {
    let r = &d.row;
    ActivationView {
        id: r.id.to_string(),
        org_id: r.org_id.to_string(),
        order_id: r.order_id.clone(),
        requested_at: r.requested_at,
        requester: r.requester.clone(),
        test_kind: r.test_kind.clone(),
        note: r.note.clone(),
        closed_at: r.closed_at,
        version: r.version,
        machines: r
            .machines
            .iter()
            .map(|m| MachineView {
                service_id: m.service_id.clone(),
                machine: m.machine.clone(),
                criticality: m.criticality.clone(),
                criticality_refused: m.criticality_refused,
                reachable_at: m.reachable_at,
                recovery_point_at: m.recovery_point_at,
                rto_seconds: m
                    .reachable_at
                    .map(|t| t.duration_since(r.requested_at).as_secs()),
                rpo_seconds: m
                    .recovery_point_at
                    .map(|t| r.requested_at.duration_since(t).as_secs()),
            })
            .collect(),
        terms_version: d.terms_version.clone(),
        outcome: serde_json::to_value(&d.outcome).unwrap_or_default(),
        explanation: serde_json::to_value(&d.explanation).unwrap_or_default(),
        explanation_fr: d.explanation.render(Lang::Fr),
        explanation_en: d.explanation.render(Lang::En),
    }
}

/// Records a failover request or a test on an order's protected machines
/// (staff; a client user designated for failovers, R10.2).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/pra-activations", tag = "pra",
    params(("order_id" = String, Path)),
    request_body = ActivationRequest,
    responses((status = 201, body = ActivationView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_activation(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<ActivationRequest>,
) -> ApiResult<(StatusCode, Json<ActivationView>)> {
    let d = pra::record(
        &s,
        &p,
        &order_id,
        ActivationInput {
            requested_at: r.requested_at,
            requester: r.requester,
            test_kind: r.test_kind,
            note: r.note,
            services: r.services,
            criticality_refused: r.criticality_refused,
            test_id: r.test_id,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&d))))
}

/// An organisation's activations and tests with their results, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/pra-activations", tag = "pra",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ActivationList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_activations(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ActivationList>> {
    let page = pra::list(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(ActivationList {
        items: page.items.iter().map(view).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One activation with its RTO/RPO results per criticality (R6.2-R6.5).
#[utoipa::path(get, path = "/api/v1/pra-activations/{activation_id}", tag = "pra",
    params(("activation_id" = String, Path)),
    responses((status = 200, body = ActivationView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_activation(
    State(s): State<AppState>,
    p: Principal,
    Path(activation_id): Path<String>,
) -> ApiResult<Json<ActivationView>> {
    Ok(Json(view(&pra::get(&s, &p, &activation_id).await?)))
}

/// Staff record that a machine is reachable again, and the replication
/// point it came back from (R6.2).
#[utoipa::path(post, path = "/api/v1/pra-activations/{activation_id}/restorations", tag = "pra",
    params(("activation_id" = String, Path)),
    request_body = RestorationRequest,
    responses((status = 200, body = ActivationView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_restoration(
    State(s): State<AppState>,
    p: Principal,
    Path(activation_id): Path<String>,
    ApiJson(r): ApiJson<RestorationRequest>,
) -> ApiResult<Json<ActivationView>> {
    let d = pra::restore(
        &s,
        &p,
        &activation_id,
        &r.service_id,
        r.reachable_at,
        r.recovery_point_at,
    )
    .await?;
    Ok(Json(view(&d)))
}

/// Staff close the activation at the return to nominal.
#[utoipa::path(post, path = "/api/v1/pra-activations/{activation_id}/close", tag = "pra",
    params(("activation_id" = String, Path)),
    request_body = CloseRequest,
    responses((status = 200, body = ActivationView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close_activation(
    State(s): State<AppState>,
    p: Principal,
    Path(activation_id): Path<String>,
    ApiJson(r): ApiJson<CloseRequest>,
) -> ApiResult<Json<ActivationView>> {
    Ok(Json(view(
        &pra::close(&s, &p, &activation_id, r.closed_at).await?,
    )))
}
