//! Colocation availability in the API (issue 5, item 7; R5.6): datacenter
//! episodes pushed by monitoring with an `Idempotency-Key` (one or bulk),
//! listed, corrected and excluded by staff; the yearly figure per
//! datacenter, for staff and for the clients with colocation there.

use super::episodes::{ExcludeRequest, idem_key, to_json};
use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::datacenters::{self, Correction, DcEpisodeInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ciel_engine::colocation::ColocationYear;
use ciel_engine::{Explained, Lang};
use ciel_store::datacenter_episodes::{DcEpisodeRow, Filter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A datacenter episode pushed by monitoring or recorded by staff.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DcEpisodeRequest {
    /// A datacenter code of the terms: `MLB`, `PA3`, `TLS`, `DIJ`.
    pub datacenter: String,
    /// `network`, `power` or `temperature` (R5.6).
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    /// Absent while the episode is open; after `start`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
    /// The monitoring system (default `api`).
    pub source: Option<String>,
    /// The episode's own key within its source (default: the request's
    /// `Idempotency-Key`, with `#<index>` in bulk).
    pub key: Option<String>,
}

impl From<DcEpisodeRequest> for DcEpisodeInput {
    fn from(r: DcEpisodeRequest) -> Self {
        DcEpisodeInput {
            datacenter: r.datacenter,
            kind: r.kind,
            start: r.start,
            end: r.end,
            source: r.source,
            key: r.key,
        }
    }
}

/// Up to 10 000 datacenter episodes in one transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DcBulkRequest {
    pub episodes: Vec<DcEpisodeRequest>,
}

/// A datacenter episode as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct DcEpisodeView {
    pub id: String,
    pub datacenter: String,
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
    pub open: bool,
    pub source: String,
    pub key: String,
    /// The R5.3 reason it is excluded for, with staff's note.
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
    pub version: i64,
}

pub fn view(e: &DcEpisodeRow) -> DcEpisodeView {
    DcEpisodeView {
        id: e.id.to_string(),
        datacenter: e.datacenter.clone(),
        kind: e.kind.clone(),
        start: e.start,
        end: e.end,
        open: e.end.is_none(),
        source: e.source.clone(),
        key: e.idempotency_key.clone(),
        exclusion: e.exclusion.clone(),
        exclusion_note: e.exclusion_note.clone(),
        version: e.version,
    }
}

/// What a bulk push wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct DcBulkAnswer {
    pub created: usize,
    /// Episodes whose (source, key) was already stored, left unchanged.
    pub already_known: usize,
    pub ids: Vec<String>,
}

/// Datacenter episodes, by start.
#[derive(Debug, Serialize, ToSchema)]
pub struct DcEpisodeList {
    pub items: Vec<DcEpisodeView>,
}

/// Filters of the datacenter episode log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DcEpisodeQuery {
    pub datacenter: Option<String>,
    pub kind: Option<String>,
    /// Episodes touching that Paris calendar year.
    pub year: Option<i32>,
    /// 1 to 10 000 (default 500).
    pub limit: Option<i64>,
}

/// The year asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Paris calendar year (default: the current one).
    pub year: Option<i32>,
}

/// The figure of one kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindFigureView {
    /// `network`, `power` or `temperature`.
    pub kind: String,
    pub unavailable_minutes: i64,
    /// Exact rate, as a decimal string.
    pub rate_percent: String,
    pub met: bool,
}

/// The yearly availability of one datacenter (R5.6), reported without penalty.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColocationYearView {
    pub datacenter: String,
    pub year: i16,
    pub year_minutes: i64,
    /// `combined` (one figure) or `per_kind` (terms `availability.colocation.measure`).
    pub measure: String,
    pub unavailable_minutes: i64,
    /// Exact rate, as a decimal string; `rate_display` has 4 decimals.
    pub rate_percent: String,
    pub rate_display: String,
    pub guaranteed_percent: String,
    pub met: bool,
    pub per_kind: Vec<KindFigureView>,
    /// The steps, each citing its rule and clause, in French and English.
    #[schema(value_type = Object)]
    pub explanation: ciel_engine::Explanation,
}

/// The figures of an organisation's datacenters.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColocationYearList {
    pub items: Vec<ColocationYearView>,
}

pub fn year_view(r: &Explained<ColocationYear>) -> ColocationYearView {
    let v = &r.value;
    ColocationYearView {
        datacenter: v.datacenter.clone(),
        year: v.year,
        year_minutes: v.year_minutes,
        measure: crate::episodes::code(v.measure),
        unavailable_minutes: v.unavailable_minutes,
        rate_percent: v.rate_percent.to_string(),
        rate_display: ciel_engine::explain::num_dp(v.rate_percent, 4, Lang::En),
        guaranteed_percent: v.guaranteed_percent.to_string(),
        met: v.met,
        per_kind: v
            .per_kind
            .iter()
            .map(|k| KindFigureView {
                kind: k.kind.as_str().to_owned(),
                unavailable_minutes: k.unavailable_minutes,
                rate_percent: k.rate_percent.to_string(),
                met: k.met,
            })
            .collect(),
        explanation: r.explanation.clone(),
    }
}

/// The year asked for, or the current Paris year.
pub fn year_or_now(s: &AppState, year: Option<i32>) -> ApiResult<i16> {
    match year {
        Some(y) => datacenters::check_year(y),
        None => Ok(s.now().to_zoned(crate::sla::zone()).year()),
    }
}

/// Monitoring pushes one datacenter episode (staff token or session).
#[utoipa::path(post, path = "/api/v1/datacenter-episodes", tag = "colocation",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = DcEpisodeRequest,
    responses((status = 201, body = DcEpisodeView), (status = 200, body = DcEpisodeView, description = "Already known"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn push_episode(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ApiJson(r): ApiJson<DcEpisodeRequest>,
) -> ApiResult<Response> {
    let key = idem_key(&headers);
    let hash = crate::episodes::body_hash(&r);
    let source = r.source.clone().unwrap_or_else(|| "api".to_owned());
    let own_key = r.key.clone().unwrap_or_else(|| key.clone());
    let db = s.store().db().clone();
    let out = datacenters::push(&s, &p, &key, hash, vec![r.into()], false, |w, _| {
        match w.first() {
            Some(e) => to_json(&view(e)),
            None => Ok(serde_json::json!({"source": source, "key": own_key})),
        }
    })
    .await?;
    // Already known under (source, key): answer the stored episode.
    if out.body.get("id").is_none()
        && let (Some(src), Some(k)) = (out.body["source"].as_str(), out.body["key"].as_str())
        && let Some(e) = ciel_store::datacenter_episodes::by_key(&db, src, k).await?
    {
        return Ok((out.status, Json(view(&e))).into_response());
    }
    Ok((out.status, Json(out.body)).into_response())
}

/// Monitoring pushes up to 10 000 datacenter episodes in one transaction.
#[utoipa::path(post, path = "/api/v1/datacenter-episodes/bulk", tag = "colocation",
    params(("Idempotency-Key" = String, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = DcBulkRequest,
    responses((status = 201, body = DcBulkAnswer), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn push_bulk(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ApiJson(r): ApiJson<DcBulkRequest>,
) -> ApiResult<Response> {
    let key = idem_key(&headers);
    let hash = crate::episodes::body_hash(&r);
    let inputs = r.episodes.into_iter().map(DcEpisodeInput::from).collect();
    let out = datacenters::push(&s, &p, &key, hash, inputs, true, |w, known| {
        to_json(&DcBulkAnswer {
            created: w.len(),
            already_known: known,
            ids: w.iter().map(|e| e.id.to_string()).collect(),
        })
    })
    .await?;
    Ok((out.status, Json(out.body)).into_response())
}

/// The datacenter episode log (staff), by start.
#[utoipa::path(get, path = "/api/v1/datacenter-episodes", tag = "colocation", params(DcEpisodeQuery),
    responses((status = 200, body = DcEpisodeList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_episodes(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<DcEpisodeQuery>,
) -> ApiResult<Json<DcEpisodeList>> {
    let (from, to) = match q.year {
        Some(y) => {
            let y = datacenters::check_year(y)?;
            let (a, b) = year_range(y)?;
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    let limit = match q.limit {
        None => 500,
        Some(n) if (1..=10_000).contains(&n) => n,
        Some(_) => return Err(Problem::invalid("limit", "between 1 and 10000")),
    };
    let f = Filter {
        datacenter: q.datacenter,
        kind: q.kind,
        from,
        to,
        limit,
    };
    let items = datacenters::list(&s, &p, &f).await?;
    Ok(Json(DcEpisodeList {
        items: items.iter().map(view).collect(),
    }))
}

/// The Paris calendar year as [start, end) instants.
pub fn year_range(y: i16) -> ApiResult<(jiff::Timestamp, jiff::Timestamp)> {
    let (a, _) = super::episodes::month_range(&format!("{y:04}-01"))?;
    let (b, _) = super::episodes::month_range(&format!("{:04}-01", y + 1))?;
    Ok((a, b))
}

/// A staff correction; absent fields are kept. Giving `end` closes an open episode.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DcCorrectRequest {
    pub kind: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<jiff::Timestamp>,
}

/// Staff correct or close a datacenter episode (audited). Overlaps are
/// accepted: the yearly figure merges them (no minute counted twice).
#[utoipa::path(post, path = "/api/v1/datacenter-episodes/{datacenter_episode_id}/correct", tag = "colocation",
    params(("datacenter_episode_id" = String, Path)), request_body = DcCorrectRequest,
    responses((status = 200, body = DcEpisodeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn correct_episode(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<DcCorrectRequest>,
) -> ApiResult<Json<DcEpisodeView>> {
    let c = Correction {
        kind: r.kind,
        start: r.start,
        end: r.end,
    };
    Ok(Json(view(&datacenters::correct(&s, &p, &id, c).await?)))
}

/// Staff exclude a datacenter episode for an R5.3 reason (audited).
#[utoipa::path(post, path = "/api/v1/datacenter-episodes/{datacenter_episode_id}/exclude", tag = "colocation",
    params(("datacenter_episode_id" = String, Path)), request_body = ExcludeRequest,
    responses((status = 200, body = DcEpisodeView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn exclude_episode(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ExcludeRequest>,
) -> ApiResult<Json<DcEpisodeView>> {
    Ok(Json(view(
        &datacenters::exclude(&s, &p, &id, &r.reason, &r.note).await?,
    )))
}

/// The yearly availability of a datacenter (R5.6): staff, or a client with
/// a colocation service there (anyone else: 404).
#[utoipa::path(get, path = "/api/v1/datacenters/{datacenter}/availability", tag = "colocation",
    params(("datacenter" = String, Path), YearQuery),
    responses((status = 200, body = ColocationYearView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn datacenter_year(
    State(s): State<AppState>,
    p: Principal,
    Path(dc): Path<String>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<ColocationYearView>> {
    let year = year_or_now(&s, q.year)?;
    let r = datacenters::year_figure(&s, &p, &dc, year).await?;
    Ok(Json(year_view(&r)))
}

/// The yearly availability of each datacenter an organisation has
/// colocation services in (R5.6).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation-availability", tag = "colocation",
    params(("org_id" = String, Path), YearQuery),
    responses((status = 200, body = ColocationYearList), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn org_years(
    State(s): State<AppState>,
    p: Principal,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<ColocationYearList>> {
    let year = year_or_now(&s, q.year)?;
    let dcs = datacenters::org_datacenters(&s, &p.scope, &org).await?;
    crate::services::require_viewer(&p)?;
    let mut items = Vec::new();
    for dc in dcs {
        items.push(year_view(&datacenters::compute(&s, &dc, year).await?));
    }
    Ok(Json(ColocationYearList { items }))
}
