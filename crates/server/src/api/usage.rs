//! Usage readings and the month's usage in the API (issue 6, item 2):
//! bulk pushes per kind under an `Idempotency-Key`, CSV imports refused
//! whole at their first bad line, the month close, and a service's usage.

use super::episodes::idem_key;
use super::{ApiQuery, parse_json};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::sla::evidence::Month;
use crate::state::AppState;
use crate::usage::close::CloseReport;
use crate::usage::view::ServiceUsage;
use crate::usage::{self, Ingested, Kind, Reading};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One bandwidth reading of a colocation port (R2.8).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthReading {
    /// The colocation service the port belongs to.
    pub service_id: String,
    /// The port's name (created on its first reading).
    pub port: String,
    /// Stored at the start of its 5-minute slot.
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    /// Bits/s into the client's port (its download).
    pub in_bps: i64,
    /// Bits/s out of the client's port (its upload).
    pub out_bps: i64,
}

/// Up to 500 000 bandwidth readings in one transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthBulk {
    pub readings: Vec<BandwidthReading>,
}

/// One power reading of an emplacement (R11.5): amps and/or kVA.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerReading {
    pub service_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    #[schema(value_type = Option<String>)]
    pub amps: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub kva: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerBulk {
    pub readings: Vec<PowerReading>,
}

/// Storage used by a backup or PRA service (R2.9), in GB.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageReading {
    pub service_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    #[schema(value_type = String)]
    pub gb: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageBulk {
    pub readings: Vec<StorageReading>,
}

/// Bytes a service exchanged in the period starting at `at` (R3.5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficReading {
    pub service_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    pub bytes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficBulk {
    pub readings: Vec<TrafficReading>,
}

/// Parses the body (naming the failing field's path), then pushes it under
/// the request's `Idempotency-Key`; the key's body hash is the raw body's.
async fn push(
    s: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    body: &Bytes,
    kind: Kind,
    readings: impl FnOnce(&[u8]) -> ApiResult<Vec<Reading>>,
) -> ApiResult<Response> {
    usage::require_metering(p)?;
    let readings = readings(body)?;
    let hash = ciel_store::secrets::hash_secret(&String::from_utf8_lossy(body));
    let out = usage::push(s, p, &idem_key(headers), hash, kind, readings).await?;
    Ok((out.status, Json(out.body)).into_response())
}

/// The metering platform pushes bandwidth readings (staff or a staff token).
#[utoipa::path(post, path = "/api/v1/usage/bandwidth", tag = "usage",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = BandwidthBulk,
    responses((status = 201, body = Ingested), (status = 200, body = Ingested, description = "All already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_bandwidth(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    push(&s, &p, &headers, &body, Kind::Bandwidth, |b| {
        let r: BandwidthBulk = parse_json(b)?;
        Ok(r.readings
            .into_iter()
            .map(|r| Reading::Bandwidth {
                service_id: r.service_id,
                port: r.port,
                at: r.at,
                in_bps: r.in_bps,
                out_bps: r.out_bps,
            })
            .collect())
    })
    .await
}

/// The metering platform pushes power readings (R11.5).
#[utoipa::path(post, path = "/api/v1/usage/power", tag = "usage",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = PowerBulk,
    responses((status = 201, body = Ingested), (status = 200, body = Ingested, description = "All already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_power(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    push(&s, &p, &headers, &body, Kind::Power, |b| {
        let r: PowerBulk = parse_json(b)?;
        Ok(r.readings
            .into_iter()
            .map(|r| Reading::Power {
                service_id: r.service_id,
                at: r.at,
                amps: r.amps,
                kva: r.kva,
            })
            .collect())
    })
    .await
}

/// The metering platform pushes backup/PRA storage readings (R2.9).
#[utoipa::path(post, path = "/api/v1/usage/storage", tag = "usage",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = StorageBulk,
    responses((status = 201, body = Ingested), (status = 200, body = Ingested, description = "All already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_storage(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    push(&s, &p, &headers, &body, Kind::Storage, |b| {
        let r: StorageBulk = parse_json(b)?;
        Ok(r.readings
            .into_iter()
            .map(|r| Reading::Storage {
                service_id: r.service_id,
                at: r.at,
                gb: r.gb,
            })
            .collect())
    })
    .await
}

/// The metering platform pushes bytes exchanged (R3.5).
#[utoipa::path(post, path = "/api/v1/usage/traffic", tag = "usage",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = TrafficBulk,
    responses((status = 201, body = Ingested), (status = 200, body = Ingested, description = "All already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_traffic(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    push(&s, &p, &headers, &body, Kind::Traffic, |b| {
        let r: TrafficBulk = parse_json(b)?;
        Ok(r.readings
            .into_iter()
            .map(|r| Reading::Traffic {
                service_id: r.service_id,
                at: r.at,
                bytes: r.bytes,
            })
            .collect())
    })
    .await
}

/// The kind of a CSV import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `bandwidth`, `power`, `storage` or `traffic`.
    pub kind: String,
}

/// Staff import a CSV file of readings (`text/csv` body); a bad line refuses
/// the whole file with its line number (`lines[7].in_bps`), nothing written.
#[utoipa::path(post, path = "/api/v1/usage/import", tag = "usage", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Ingested), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn import_csv(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<(axum::http::StatusCode, Json<Ingested>)> {
    usage::require_metering(&p)?;
    let kind = Kind::parse(&q.kind)
        .ok_or_else(|| Problem::invalid("kind", "bandwidth, power, storage or traffic"))?;
    let text =
        std::str::from_utf8(&body).map_err(|_| Problem::invalid("lines", "a UTF-8 text file"))?;
    let out = usage::import(&s, &p.actor(s.now()), kind, text).await?;
    Ok((axum::http::StatusCode::CREATED, Json(out)))
}

/// A month to close.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// `YYYY-MM`, a month already over (Paris).
    pub month: String,
}

/// Staff (Admin or Billing) close a month's usage: its charges are handed
/// to billing once; running it again hands over nothing new.
#[utoipa::path(post, path = "/api/v1/usage/close", tag = "usage", request_body = CloseRequest,
    responses((status = 200, body = CloseReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn close_month(
    State(s): State<AppState>,
    p: Principal,
    super::ApiJson(r): super::ApiJson<CloseRequest>,
) -> ApiResult<Json<CloseReport>> {
    crate::auth::require_staff(&p, |r| {
        matches!(
            r,
            ciel_domain::StaffRole::Admin | ciel_domain::StaffRole::Billing
        )
    })?;
    let month = Month::parse(&r.month, "month")?;
    Ok(Json(
        crate::usage::close::close(&s, &month, &p.actor(s.now())).await?,
    ))
}

/// The month of a service's usage.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// `YYYY-MM` (default: the current month, Paris).
    pub month: Option<String>,
}

/// The month's usage of a service: percentiles and overage per port,
/// power, storage, traffic and fair use, R2.9 outcomes.
#[utoipa::path(get, path = "/api/v1/services/{service_id}/usage", tag = "usage",
    params(("service_id" = String, Path), UsageQuery),
    responses((status = 200, body = ServiceUsage), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn service_usage(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> ApiResult<Json<ServiceUsage>> {
    let month = match &q.month {
        Some(m) => Month::parse(m, "month")?,
        None => Month::containing(s.now()).ok_or_else(Problem::internal)?,
    };
    Ok(Json(
        crate::usage::view::of_service(&s, &p, &service_id, &month).await?,
    ))
}
