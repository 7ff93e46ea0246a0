//! Unavailability episodes and clusters in the API (issue 5, item 4;
//! R5.2-R5.3). Pushes carry an `Idempotency-Key`: a replay answers the
//! first answer again, the same key with another body 409. Alertmanager's
//! webhook (version 4) is accepted as it is sent.

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::episodes::{self, Alert, AlertsApplied, Correction, EpisodeInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ciel_store::episodes::{Cluster, EpisodeRow, Filter};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// An episode pushed by monitoring or recorded by staff.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeRequest {
    /// `cluster_connectivity`, `vm_storage_access`, `vcenter` or `nsx_manager` (R5.2).
    pub kind: String,
    /// The cluster it concerns (reaches every service on it), or...
    pub cluster_id: Option<String>,
    /// ...the one service it concerns.
    pub service_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    /// Absent while the episode is open; after `start`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
    /// vCenter and NSX Manager count only when they impact the service (default true).
    pub impacts_service: Option<bool>,
    /// The monitoring system (default `api`).
    pub source: Option<String>,
    /// The episode's own key within its source (default: the request's
    /// `Idempotency-Key`, with `#<index>` in bulk).
    pub key: Option<String>,
    /// A ticket it is linked to.
    pub ticket_id: Option<String>,
}

impl From<EpisodeRequest> for EpisodeInput {
    fn from(r: EpisodeRequest) -> Self {
        EpisodeInput {
            kind: r.kind,
            cluster_id: r.cluster_id,
            service_id: r.service_id,
            start: r.start,
            end: r.end,
            impacts_service: r.impacts_service,
            source: r.source,
            key: r.key,
            ticket_id: r.ticket_id,
        }
    }
}

/// Up to 10 000 episodes in one transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub episodes: Vec<EpisodeRequest>,
}

/// An episode as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpisodeView {
    pub id: String,
    pub kind: String,
    pub cluster_id: Option<String>,
    pub service_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
    pub open: bool,
    pub impacts_service: bool,
    pub source: String,
    pub key: String,
    /// The R5.3 reason it is excluded for, with staff's note.
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
    pub ticket_id: Option<String>,
    pub version: i64,
}

pub fn view(e: &EpisodeRow) -> EpisodeView {
    EpisodeView {
        id: e.id.to_string(),
        kind: e.kind.clone(),
        cluster_id: e.cluster_id.clone(),
        service_id: e.service_id.clone(),
        start: e.start,
        end: e.end,
        open: e.end.is_none(),
        impacts_service: e.impacts_service,
        source: e.source.clone(),
        key: e.idempotency_key.clone(),
        exclusion: e.exclusion.clone(),
        exclusion_note: e.exclusion_note.clone(),
        ticket_id: e.ticket_id.clone(),
        version: e.version,
    }
}

/// What a bulk push wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkAnswer {
    pub created: usize,
    /// Episodes whose (source, key) was already stored, left unchanged.
    pub already_known: usize,
    /// Identifiers of the episodes written, in request order.
    pub ids: Vec<String>,
}

/// A list of episodes, by start.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpisodeList {
    pub items: Vec<EpisodeView>,
    /// The R5.3 reasons an episode may be excluded for.
    pub exclusion_reasons: Vec<String>,
}

/// Filters of the episode log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EpisodeQuery {
    pub cluster_id: Option<String>,
    /// The service's own episodes and those of its cluster.
    pub service_id: Option<String>,
    /// `YYYY-MM`: episodes touching that month (Europe/Paris).
    pub month: Option<String>,
    pub kind: Option<String>,
    /// Only the episodes still open.
    pub open: Option<bool>,
    /// 1 to 10 000 (default 500).
    pub limit: Option<i64>,
}

/// The request's `Idempotency-Key` header, trimmed (empty when absent).
pub(crate) fn idem_key(h: &HeaderMap) -> String {
    h.get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn pushed(p: episodes::Pushed) -> Response {
    (p.status, Json(p.body)).into_response()
}

/// An answer as the JSON value kept for replays.
pub(crate) fn to_json<T: Serialize>(v: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|_| Problem::internal())
}

/// The month `YYYY-MM` as [start, end) instants in the terms' zone.
pub fn month_range(m: &str) -> ApiResult<(jiff::Timestamp, jiff::Timestamp)> {
    let bad = || Problem::invalid("month", "YYYY-MM");
    let d: jiff::civil::Date = format!("{m}-01").parse().map_err(|_| bad())?;
    let tz = jiff::tz::TimeZone::get("Europe/Paris").map_err(|_| Problem::internal())?;
    let start = d.to_zoned(tz.clone()).map_err(|_| bad())?;
    let end = d
        .checked_add(jiff::Span::new().months(1))
        .and_then(|n| n.to_zoned(tz))
        .map_err(|_| bad())?;
    Ok((start.timestamp(), end.timestamp()))
}

/// Monitoring pushes one episode (staff token or session).
#[utoipa::path(post, path = "/api/v1/episodes", tag = "episodes",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = EpisodeRequest,
    responses((status = 201, body = EpisodeView), (status = 200, body = EpisodeView, description = "Already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_episode(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ApiJson(r): ApiJson<EpisodeRequest>,
) -> ApiResult<Response> {
    let key = idem_key(&headers);
    let hash = episodes::body_hash(&r);
    let source = r.source.clone().unwrap_or_else(|| "api".to_owned());
    let own_key = r.key.clone().unwrap_or_else(|| key.clone());
    let db = s.store().db().clone();
    let out = episodes::push(&s, &p, &key, hash, vec![r.into()], false, |w, _| {
        match w.first() {
            Some(e) => to_json(&view(e)),
            None => Ok(serde_json::json!({"source": source, "key": own_key})),
        }
    })
    .await?;
    // Already known: answer the stored episode.
    if out.status == StatusCode::OK
        && out.body.get("id").is_none()
        && let (Some(src), Some(k)) = (out.body["source"].as_str(), out.body["key"].as_str())
        && let Some(e) = ciel_store::episodes::by_key(&db, src, k).await?
    {
        return Ok((StatusCode::OK, Json(view(&e))).into_response());
    }
    Ok(pushed(out))
}

/// Monitoring pushes up to 10 000 episodes in one transaction.
#[utoipa::path(post, path = "/api/v1/episodes/bulk", tag = "episodes",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = BulkRequest,
    responses((status = 201, body = BulkAnswer), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn push_bulk(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ApiJson(r): ApiJson<BulkRequest>,
) -> ApiResult<Response> {
    let key = idem_key(&headers);
    let hash = episodes::body_hash(&r);
    let inputs = r.episodes.into_iter().map(EpisodeInput::from).collect();
    let out = episodes::push(&s, &p, &key, hash, inputs, true, |w, known| {
        to_json(&BulkAnswer {
            created: w.len(),
            already_known: known,
            ids: w.iter().map(|e| e.id.to_string()).collect(),
        })
    })
    .await?;
    Ok(pushed(out))
}

/// The episode log (staff), by start.
#[utoipa::path(get, path = "/api/v1/episodes", tag = "episodes", params(EpisodeQuery),
    responses((status = 200, body = EpisodeList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_episodes(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<EpisodeQuery>,
) -> ApiResult<Json<EpisodeList>> {
    let (from, to) = match &q.month {
        Some(m) => month_range(m).map(|(a, b)| (Some(a), Some(b)))?,
        None => (None, None),
    };
    let limit = match q.limit {
        None => 500,
        Some(n) if (1..=10_000).contains(&n) => n,
        Some(_) => return Err(Problem::invalid("limit", "between 1 and 10000")),
    };
    let f = Filter {
        cluster_id: q.cluster_id,
        service_id: q.service_id,
        from,
        to,
        kind: q.kind,
        open_only: q.open.unwrap_or(false),
        limit,
    };
    let items = episodes::list(&s, &p, &f).await?;
    let reasons = episodes::allowed_exclusions(&s, s.now())?;
    Ok(Json(EpisodeList {
        items: items.iter().map(view).collect(),
        exclusion_reasons: reasons
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    }))
}

/// The end of an open episode.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[schema(value_type = String, format = DateTime)]
    pub end: jiff::Timestamp,
}

/// Closes an open episode (staff).
#[utoipa::path(post, path = "/api/v1/episodes/{episode_id}/close", tag = "episodes",
    params(("episode_id" = String, Path)), request_body = CloseRequest,
    responses((status = 200, body = EpisodeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn close_episode(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CloseRequest>,
) -> ApiResult<Json<EpisodeView>> {
    Ok(Json(view(&episodes::close(&s, &p, &id, r.end).await?)))
}

/// A staff correction; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectRequest {
    pub kind: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
    /// Links the episode to a ticket.
    pub ticket_id: Option<String>,
    /// The episode's `version` as read: when given, a correction of an
    /// episode changed meanwhile is refused (409) instead of overwriting it.
    pub version: Option<i64>,
}

/// Staff correct an episode (audited); an overlap with another episode of the
/// same kind on the same target is refused (422 `double_count`, R5.2).
#[utoipa::path(post, path = "/api/v1/episodes/{episode_id}/correct", tag = "episodes",
    params(("episode_id" = String, Path)), request_body = CorrectRequest,
    responses((status = 200, body = EpisodeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn correct_episode(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CorrectRequest>,
) -> ApiResult<Json<EpisodeView>> {
    let c = Correction {
        kind: r.kind,
        start: r.start,
        end: r.end,
        ticket_id: r.ticket_id,
        version: r.version,
    };
    Ok(Json(view(&episodes::correct(&s, &p, &id, c).await?)))
}

/// Why an episode is excluded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExcludeRequest {
    /// An R5.3 reason of the terms: `pra_test`, `client_change`, `client_fault`,
    /// `client_application`, `force_majeure`, `third_party`,
    /// `not_provider_element`, `regulatory_change`...
    pub reason: String,
    /// Staff's explanation, kept on the statement.
    pub note: String,
}

/// Staff exclude an episode for an R5.3 reason (audited).
#[utoipa::path(post, path = "/api/v1/episodes/{episode_id}/exclude", tag = "episodes",
    params(("episode_id" = String, Path)), request_body = ExcludeRequest,
    responses((status = 200, body = EpisodeView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn exclude_episode(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ExcludeRequest>,
) -> ApiResult<Json<EpisodeView>> {
    Ok(Json(view(
        &episodes::exclude(&s, &p, &id, &r.reason, &r.note).await?,
    )))
}

/// One alert of Alertmanager's webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmAlert {
    /// `firing` or `resolved`.
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub fingerprint: String,
}

/// Alertmanager's webhook body (version 4); other fields are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AmWebhook {
    pub version: Option<String>,
    pub alerts: Vec<AmAlert>,
}

/// Alertmanager receiver: a firing alert opens an episode (idempotent by
/// fingerprint and start), a resolved one closes it. Labels: `ciel_kind`
/// (or `alertname`) gives the kind, `ciel_cluster` or `cluster` the cluster,
/// else `ciel_service` the service.
#[utoipa::path(post, path = "/api/v1/episodes/alertmanager", tag = "episodes",
    request_body = AmWebhook,
    responses((status = 200, body = AlertsApplied), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn alertmanager(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(w): ApiJson<AmWebhook>,
) -> ApiResult<Json<AlertsApplied>> {
    if w.version.as_deref().is_some_and(|v| v != "4") {
        return Err(Problem::invalid(
            "version",
            "Alertmanager webhook version 4",
        ));
    }
    let alerts = w
        .alerts
        .into_iter()
        .map(|a| Alert {
            status: a.status,
            labels: a.labels,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            fingerprint: a.fingerprint,
        })
        .collect();
    Ok(Json(episodes::alertmanager(&s, &p, alerts).await?))
}

/// A cluster to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterRequest {
    /// The name monitoring labels carry, e.g. `par1-c01`.
    pub id: String,
    pub label: String,
}

/// A cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    pub id: String,
    pub label: String,
}

/// The clusters.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterList {
    pub items: Vec<ClusterView>,
}

fn cluster_view(c: &Cluster) -> ClusterView {
    ClusterView {
        id: c.id.clone(),
        label: c.label.clone(),
    }
}

/// The clusters (staff).
#[utoipa::path(get, path = "/api/v1/clusters", tag = "episodes",
    responses((status = 200, body = ClusterList), (status = 403, body = Problem)))]
pub async fn list_clusters(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<ClusterList>> {
    episodes::require_monitoring(&p)?;
    let items = ciel_store::episodes::list_clusters(s.store().db()).await?;
    Ok(Json(ClusterList {
        items: items.iter().map(cluster_view).collect(),
    }))
}

/// Staff create a cluster.
#[utoipa::path(post, path = "/api/v1/clusters", tag = "episodes", request_body = ClusterRequest,
    responses((status = 201, body = ClusterView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_cluster(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<ClusterRequest>,
) -> ApiResult<(StatusCode, Json<ClusterView>)> {
    let c = episodes::create_cluster(&s, &p, &r.id, &r.label).await?;
    Ok((StatusCode::CREATED, Json(cluster_view(&c))))
}

/// The cluster a service runs on.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceClusterRequest {
    /// `null` takes the service off its cluster.
    pub cluster_id: Option<String>,
}

/// Staff put a service on a cluster (a service is on at most one).
#[utoipa::path(put, path = "/api/v1/services/{service_id}/cluster", tag = "episodes",
    params(("service_id" = String, Path)), request_body = ServiceClusterRequest,
    responses((status = 200, body = ServiceClusterRequest), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn assign_cluster(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ServiceClusterRequest>,
) -> ApiResult<Json<ServiceClusterRequest>> {
    episodes::assign_cluster(&s, &p, &id, r.cluster_id.as_deref()).await?;
    Ok(Json(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_read_in_paris() {
        let (a, b) = month_range("2026-03").unwrap();
        assert_eq!(a.to_string(), "2026-02-28T23:00:00Z");
        assert_eq!(b.to_string(), "2026-03-31T22:00:00Z");
        // 44 580 minutes in a March (R5.1).
        assert_eq!(b.duration_since(a).as_secs() / 60, 44_580);
        assert!(month_range("2026-13").is_err());
        assert!(month_range("march").is_err());
    }
}
