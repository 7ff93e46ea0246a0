//! Monthly SLA statements in the API (issue 5, item 6; R5-R7): lists and
//! details with the explanation, the evidence download that `ciel sla
//! verify` recomputes, staff runs, recomputations and reviews (R7.5).

use super::calc::{StepView, steps};
use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::sla::statements::{self, ReviewInput, RunReport};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use ciel_store::statements::{Filter, StatementRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A statement's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub id: String,
    pub org_id: String,
    pub service_id: String,
    /// Calendar month `YYYY-MM` (Europe/Paris).
    pub month: String,
    pub terms_version: String,
    pub offer: String,
    /// Exact decimal EUR excluding VAT.
    pub monthly_fee: String,
    pub month_minutes: i64,
    pub unavailable_minutes: i64,
    /// Rate, 4 decimals (R5.1).
    pub rate: String,
    pub guaranteed_rate: String,
    /// The R5.5 tier hit, absent when the guaranteed rate is met.
    pub penalty_tier: Option<String>,
    /// Availability penalty, percent of the monthly fee (R5.5).
    pub penalty_percent: String,
    /// Sum of the events' penalties before caps, EUR (R7.3).
    pub raw_penalty: String,
    /// Caps applied: `month`, `year` (R7.2).
    pub caps_applied: Vec<String>,
    /// PRA RTO penalties, percent, one per activation (R6.4).
    pub pra_penalties: Vec<String>,
    pub combination_rule: String,
    /// Credit proposed, EUR (>= 0).
    pub credit: String,
    /// `open` (recomputed on corrections) or `frozen`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub correctable_until: Timestamp,
    /// `none`, `proposed`, `approved` or `rejected` (R7.5).
    pub review: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reviewed_at: Option<Timestamp>,
    /// The credit's charge handed to billing, once approved.
    pub charge_id: Option<String>,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: Timestamp,
}

impl From<StatementRow> for StatementView {
    fn from(r: StatementRow) -> Self {
        let f = r.figures;
        StatementView {
            id: r.id.to_string(),
            org_id: f.org_id.to_string(),
            service_id: f.service_id,
            month: f.month,
            terms_version: f.terms_version,
            offer: f.offer,
            monthly_fee: f.monthly_fee,
            month_minutes: f.month_minutes,
            unavailable_minutes: f.unavailable_minutes,
            rate: f.rate,
            guaranteed_rate: f.guaranteed_rate,
            penalty_tier: f.penalty_tier,
            penalty_percent: f.penalty_percent,
            raw_penalty: f.raw_penalty,
            caps_applied: serde_json::from_str(&f.caps_applied).unwrap_or_default(),
            pra_penalties: serde_json::from_str::<Vec<serde_json::Value>>(&f.pra_penalties)
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
            combination_rule: f.combination_rule,
            credit: f.credit,
            state: r.state,
            correctable_until: f.correctable_until,
            review: f.review,
            review_reason: r.review_reason,
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at,
            charge_id: r.charge_id,
            version: r.version,
            computed_at: r.computed_at,
        }
    }
}

/// A statement with the engine's statement and its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementDetail {
    #[serde(flatten)]
    pub statement: StatementView,
    /// The engine's statement (format `ciel-sla-statement/1`).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Each step cites its rule and clause, in French and English.
    pub explanation: Vec<StepView>,
}

/// A page of statements.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementList {
    pub items: Vec<StatementView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of the statement list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    pub org_id: Option<String>,
    pub service_id: Option<String>,
    /// `YYYY-MM`.
    pub month: Option<String>,
    /// `none`, `proposed`, `approved`, `rejected`.
    pub review: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// Lists statements (a client's own; staff: all), newest first; the review
/// queue is `review=proposed`.
#[utoipa::path(get, path = "/api/v1/sla/statements", tag = "sla",
    params(StatementQuery),
    responses((status = 200, body = StatementList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_statements(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<StatementQuery>,
) -> ApiResult<Json<StatementList>> {
    let lp = ListParams {
        cursor: q.cursor.clone(),
        limit: q.limit,
    };
    if let Some(r) = &q.review
        && !matches!(r.as_str(), "none" | "proposed" | "approved" | "rejected")
    {
        return Err(Problem::invalid(
            "review",
            "one of none, proposed, approved, rejected",
        ));
    }
    if let Some(m) = &q.month {
        crate::sla::evidence::Month::parse(m, "month")?;
    }
    let filter = Filter {
        org_id: q.org_id,
        service_id: q.service_id,
        month: q.month,
        review: q.review,
    };
    let page = statements::list(&s, &p, &filter, lp.cursor()?, lp.limit()?).await?;
    Ok(Json(StatementList {
        items: page.items.into_iter().map(StatementView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn detail(row: StatementRow) -> ApiResult<Json<StatementDetail>> {
    let (st, ex) = statements::documents(&row)?;
    Ok(Json(StatementDetail {
        detail: serde_json::to_value(st).unwrap_or_default(),
        explanation: steps(ex),
        statement: row.into(),
    }))
}

/// One statement with its explanation.
#[utoipa::path(get, path = "/api/v1/sla/statements/{statement_id}", tag = "sla",
    params(("statement_id" = String, Path)),
    responses((status = 200, body = StatementDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_statement(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementDetail>> {
    detail(statements::get(&s, &p, &id).await?)
}

/// The evidence bundle of a statement (format `ciel-sla-evidence/1`, see
/// docs/EVIDENCE.md) with the provider's figures as `claimed`: `ciel sla
/// verify` recomputes it offline.
#[utoipa::path(get, path = "/api/v1/sla/statements/{statement_id}/evidence", tag = "sla",
    params(("statement_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn statement_evidence(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    crate::services::require_viewer(&p)?;
    let ev = statements::evidence_download(&s, &p, &id).await?;
    let body = serde_json::to_string_pretty(&ev).map_err(|_| Problem::internal())?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"evidence-{id}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Recomputes an open statement after a correction (staff).
#[utoipa::path(post, path = "/api/v1/sla/statements/{statement_id}/recompute", tag = "sla",
    params(("statement_id" = String, Path)),
    responses((status = 200, body = StatementDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn recompute_statement(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementDetail>> {
    detail(statements::recompute(&s, &p, &id).await?)
}

/// Approves or rejects a proposed credit (staff admin or billing, R7.5):
/// approval is refused with 422 `rule_violated` while an invoice already
/// due is unpaid; rejection needs a reason.
#[utoipa::path(post, path = "/api/v1/sla/statements/{statement_id}/review", tag = "sla",
    params(("statement_id" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = StatementDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn review_statement(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<Json<StatementDetail>> {
    detail(statements::review(&s, &p, &id, input).await?)
}

/// Which month to compute.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// `YYYY-MM`, a month that has ended.
    pub month: String,
}

/// Computes the statements of a month for every cloud and PRA service
/// (staff; the job does it on the 1st). Idempotent.
#[utoipa::path(post, path = "/api/v1/sla/statements/run", tag = "sla",
    request_body = RunInput,
    responses((status = 200, body = RunReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn run_statements(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(input): ApiJson<RunInput>,
) -> ApiResult<Json<RunReport>> {
    Ok(Json(statements::run_month(&s, &p, &input.month).await?))
}
