//! The figures of the per-service SLA page in the API (issue 5, item 8):
//! the month's availability with its explanation, the counted minutes per
//! Paris day, and the monthly rate over the last 12 months.

use super::ApiQuery;
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::sla_page::{has_happened, page};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The month asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM` (Europe/Paris), default the current month.
    pub month: Option<String>,
}

/// One Paris day of the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// 1 440, or 1 380 / 1 500 on the days the clocks change.
    pub day_minutes: i64,
    pub unavailable_minutes: i64,
    /// Exact rate, as a decimal string; absent for a day still to come.
    pub rate_percent: Option<String>,
}

/// One month of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub month: String,
    /// Absent before provisioning or for a month still to come.
    pub rate_percent: Option<String>,
}

/// The SLA page of a service-month.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSlaView {
    pub service_id: String,
    pub month: String,
    /// `mono_site`, `dual_dc`, `pra`...
    pub offer: String,
    pub month_minutes: i64,
    pub unavailable_minutes: i64,
    pub rate_percent: String,
    pub rate_display: String,
    pub guaranteed_percent: String,
    pub met: bool,
    pub penalty_percent: String,
    /// Read from the stored monthly statement rather than computed now.
    pub from_statement: bool,
    pub days: Vec<DayView>,
    pub history: Vec<HistoryView>,
    /// The steps, each citing its rule and clause, in French and English.
    #[schema(value_type = Object)]
    pub explanation: ciel_engine::Explanation,
}

/// The availability of a cloud or PRA service for a month (R5.1-R5.5),
/// per Paris day, and over the last 12 months; another organisation's
/// service, or one without an availability SLA: 404.
#[utoipa::path(get, path = "/api/v1/services/{service_id}/sla", tag = "services",
    params(("service_id" = String, Path), MonthQuery),
    responses((status = 200, body = ServiceSlaView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn service_sla(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Json<ServiceSlaView>> {
    let pg = page(&s, &p, &id, q.month.as_deref()).await?;
    let a = &pg.figures.statement.availability;
    Ok(Json(ServiceSlaView {
        service_id: pg.service.id.to_string(),
        month: pg.figures.month.label.clone(),
        offer: serde_json::to_value(a.offer)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        month_minutes: a.month_minutes,
        unavailable_minutes: a.unavailable_minutes,
        rate_percent: a.rate_percent.to_string(),
        rate_display: a.rate_display.clone(),
        guaranteed_percent: a.guaranteed_percent.to_string(),
        met: a.met,
        penalty_percent: a.penalty_percent.to_string(),
        from_statement: pg.figures.stored,
        days: pg
            .days
            .iter()
            .map(|d| DayView {
                date: d.date.to_string(),
                day_minutes: d.day_minutes,
                unavailable_minutes: d.unavailable_minutes,
                rate_percent: has_happened(&pg, d.date).then(|| d.rate_percent.to_string()),
            })
            .collect(),
        history: pg
            .history
            .iter()
            .map(|(m, r)| HistoryView {
                month: m.label.clone(),
                rate_percent: r.map(|r| r.to_string()),
            })
            .collect(),
        explanation: pg.figures.explanation.clone(),
    }))
}
