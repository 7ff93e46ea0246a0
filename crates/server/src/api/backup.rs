//! Backup operations in the API (issue 7, item 5; R9): plans, the client's
//! view of a backup (options, storage and its alert, job results, what
//! happens after termination), job results pushed in bulk under an
//! `Idempotency-Key`, recycle-bin restore requests and regularisation
//! orders. Refusals name their rule.

use super::episodes::idem_key;
use super::{ApiJson, ApiQuery, ListParams, parse_json};
use crate::auth::Principal;
use crate::backup::results::{self, Incoming, IngestedResults};
use crate::backup::{self, PlanInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ciel_operations::backup::{BackupScope, VeeamLicence};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A workflow's answer as the JSON body (schemas: `Object`).
pub(super) fn to_value<T: Serialize>(v: &T) -> ApiResult<Json<Value>> {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|_| Problem::internal())
}

/// A backup plan (R9.1).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// `hourly`, `daily`, `weekly` or `monthly`.
    pub frequency: String,
    /// `full`, `incremental`, `differential` or `synthetic_full`.
    pub backup_type: String,
    /// Days each restore point is kept (1 to 3650).
    pub retention_days: i64,
    /// What is backed up (R9.7): `exchange`, `teams`, `share_point`,
    /// `one_drive` (Microsoft 365), `virtual_machine`, `physical_server`,
    /// `files`.
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<BackupScope>,
    /// `none`, `from_provider` or `client_owned` (R9.7, CS 3.3).
    #[schema(value_type = String)]
    pub veeam_licence: VeeamLicence,
}

/// One job result from the backup platform (R9.5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobResultIn {
    pub service_id: String,
    /// The platform's job id: a replay of the same job is stored once.
    pub job_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: jiff::Timestamp,
    /// `success` or `failure`.
    pub status: String,
    /// Required for a failure: the client is sent it.
    #[serde(default)]
    pub message: String,
    /// A successful immutable backup (R9.2).
    #[serde(default)]
    pub immutable: bool,
}

/// Up to 100 000 job results in one transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobResultsBulk {
    pub results: Vec<JobResultIn>,
}

/// A restore from the admin recycle bin (R9.3).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// What to restore (mailbox, folder, VM...).
    pub what: String,
    /// When the data was deleted (went to the recycle bin).
    #[schema(value_type = String, format = DateTime)]
    pub deleted_at: jiff::Timestamp,
}

/// Support's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreAnswer {
    /// `restored` or `refused`.
    pub state: String,
    #[serde(default)]
    pub answer: String,
}

/// A regularisation order (R9.6).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegularisationRequest {
    /// Which resources are insufficient.
    pub reason: String,
}

/// The backup services of an organisation with their plans.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/backups", tag = "backup",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_backups(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let rows = backup::of_org(&s, &p, &org_id).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(svc, plan)| {
            json!({
                "service_id": svc.id.as_str(), "kind": svc.kind, "label": svc.label,
                "state": svc.state, "plan": plan,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// One backup service as the client sees it: plan, options (R9.2-R9.4),
/// storage and its alert (R9.5), the latest job results, and after
/// termination each restore point's deletion and the immutable data's
/// billing (R9.2, R9.8).
#[utoipa::path(get, path = "/api/v1/services/{service_id}/backup", tag = "backup",
    params(("service_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_backup(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<Value>> {
    to_value(&backup::view(&s, &p, &service_id).await?)
}

/// Sets the backup plan (staff, or a user designated to change policies,
/// R10.2); each scope is checked against R9.7.
#[utoipa::path(put, path = "/api/v1/services/{service_id}/backup-plan", tag = "backup",
    params(("service_id" = String, Path)),
    request_body = PlanRequest,
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_plan(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<PlanRequest>,
) -> ApiResult<Json<Value>> {
    let row = backup::set_plan(
        &s,
        &p,
        &service_id,
        PlanInput {
            frequency: r.frequency,
            backup_type: r.backup_type,
            retention_days: r.retention_days,
            scopes: r.scopes,
            veeam_licence: r.veeam_licence,
        },
    )
    .await?;
    to_value(&row)
}

/// The backup platform pushes job results (staff token); each new failure
/// is e-mailed to the client (R9.5).
#[utoipa::path(post, path = "/api/v1/backup/results", tag = "backup",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = JobResultsBulk,
    responses((status = 201, body = IngestedResults), (status = 200, body = IngestedResults, description = "All already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_results(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    crate::usage::require_metering(&p)?;
    let bulk: JobResultsBulk = parse_json(&body)?;
    let mut incoming = Vec::with_capacity(bulk.results.len());
    for (i, r) in bulk.results.into_iter().enumerate() {
        let success = match r.status.as_str() {
            "success" => true,
            "failure" => false,
            _ => {
                return Err(Problem::invalid(
                    &format!("results[{i}].status"),
                    "success or failure",
                ));
            }
        };
        incoming.push(Incoming {
            service_id: r.service_id,
            job_id: r.job_id,
            started_at: r.started_at,
            ended_at: r.ended_at,
            success,
            immutable: r.immutable,
            message: r.message,
        });
    }
    let hash = ciel_store::secrets::hash_secret(&String::from_utf8_lossy(&body));
    let out = results::push(&s, &p, &idem_key(&headers), hash, incoming).await?;
    Ok((out.status, Json(out.body)).into_response())
}

/// The client asks support to restore data from the admin recycle bin
/// before its period expires (R9.3; refused after it, citing the rule).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/restore-requests", tag = "backup",
    params(("service_id" = String, Path)),
    request_body = RestoreRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn request_restore(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<RestoreRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let d = backup::request_restore(&s, &p, &service_id, &r.what, r.deleted_at).await?;
    Ok((StatusCode::CREATED, to_value(&d)?))
}

/// An organisation's restore requests, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/restore-requests", tag = "backup",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_restores(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = backup::restores_of(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(
        json!({"items": page.items, "next_cursor": page.next_cursor}),
    ))
}

/// Support answers a restore request (staff).
#[utoipa::path(post, path = "/api/v1/restore-requests/{request_id}/answer", tag = "backup",
    params(("request_id" = String, Path)),
    request_body = RestoreAnswer,
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn answer_restore(
    State(s): State<AppState>,
    p: Principal,
    Path(request_id): Path<String>,
    ApiJson(r): ApiJson<RestoreAnswer>,
) -> ApiResult<Json<Value>> {
    let restored = match r.state.as_str() {
        "restored" => true,
        "refused" => false,
        _ => return Err(Problem::invalid("state", "restored or refused")),
    };
    to_value(&backup::answer_restore(&s, &p, &request_id, restored, &r.answer).await?)
}

/// Staff send a regularisation order (R9.6): 30 days to sign it.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/regularisations", tag = "backup",
    params(("service_id" = String, Path)),
    request_body = RegularisationRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn send_regularisation(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<RegularisationRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let d = backup::send_regularisation(&s, &p, &service_id, &r.reason).await?;
    Ok((StatusCode::CREATED, to_value(&d)?))
}

/// The signature of a regularisation order (the client's Administrator, or
/// staff back-dating the paper with `Ciel-Occurred-At`).
#[utoipa::path(post, path = "/api/v1/regularisations/{regularisation_id}/signature", tag = "backup",
    params(("regularisation_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_regularisation(
    State(s): State<AppState>,
    p: Principal,
    Path(regularisation_id): Path<String>,
) -> ApiResult<Json<Value>> {
    to_value(&backup::sign_regularisation(&s, &p, &regularisation_id).await?)
}

/// An organisation's regularisation orders with their state (R9.6).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/regularisations", tag = "backup",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_regularisations(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = backup::regularisations(&s, &p, Some(&org_id)).await?;
    Ok(Json(json!({ "items": items })))
}

/// Staff run the daily regularisation pass now (R9.6): each unsigned
/// order is reminded once `backup.regularisation_reminder_days` before its
/// delay ends and flagged overdue once after it; a second run sends
/// nothing again.
#[utoipa::path(post, path = "/api/v1/backup/regularisations/pass", tag = "backup",
    responses((status = 200, body = crate::backup::reminders::RegularisationPassReport),
        (status = 403, body = Problem)))]
pub async fn regularisation_pass(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<crate::backup::reminders::RegularisationPassReport>> {
    Ok(Json(crate::backup::reminders::run_now(&s, &p).await?))
}

/// The back office's queue: latest failed jobs, open restore requests (the
/// nearest expiry first) and regularisation orders (staff).
#[utoipa::path(get, path = "/api/v1/backup/desk", tag = "backup",
    responses((status = 200, body = Object), (status = 403, body = Problem)))]
pub async fn desk(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    let (failures, restores) = backup::desk(&s, &p).await?;
    let regularisations = backup::regularisations(&s, &p, None).await?;
    Ok(Json(json!({
        "failures": failures, "restore_requests": restores, "regularisations": regularisations,
    })))
}
