//! The figures of the per-service SLA page (issue 5, item 8): one month's
//! availability, guaranteed rate, penalty tier and explanation, the month
//! split per Paris day, and the monthly rate over the last 12 months.
//!
//! Nothing is assembled twice: a past month comes from its stored statement
//! (with the evidence it was computed from) when the statement job wrote
//! one; otherwise from [`crate::sla::evidence::assemble`] and the engine's
//! `statement`, exactly as the job computes it. The daily split is the
//! engine's [`ciel_engine::Engine::daily_unavailability`] on that same
//! evidence, so the days sum to the month's unavailable minutes.

use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::sla::evidence::{self, Month};
use crate::state::AppState;
use ciel_engine::Explanation;
use ciel_engine::daily::DayFigure;
use ciel_engine::evidence::{Evidence, Statement};
use ciel_store::Scope;
use ciel_store::sla::SlaService;
use jiff::civil::Date;
use rust_decimal::Decimal;

/// How many months the history chart shows, the page's month included.
pub const HISTORY_MONTHS: usize = 12;

/// One month's statement, stored or computed now.
#[derive(Debug, Clone)]
pub struct MonthFigures {
    pub month: Month,
    pub statement: Statement,
    pub explanation: Explanation,
    pub evidence: Evidence,
    /// Read from the stored statement (the job's), not computed for the page.
    pub stored: bool,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct SlaPage {
    pub service: SlaService,
    pub figures: MonthFigures,
    pub days: Vec<DayFigure>,
    /// The month's days after `now` (no data yet): drawn as gaps.
    pub today: Option<Date>,
    /// Oldest first; `None` for a month before provisioning or in the future.
    pub history: Vec<(Month, Option<Decimal>)>,
}

fn corrupt(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "SLA page figures");
    Problem::internal()
}

/// The statement of `service` for `month`: the stored one for a past month
/// when it exists, else computed from the assembled evidence.
pub async fn month_figures(
    state: &AppState,
    scope: &Scope,
    service: &SlaService,
    month: &Month,
) -> ApiResult<MonthFigures> {
    let db = state.store().db();
    if month.end <= state.now()
        && let Some(row) =
            ciel_store::statements::of_service_month(db, scope, service.id.as_str(), &month.label)
                .await?
    {
        let (statement, explanation) = crate::sla::statements::documents(&row)?;
        let evidence: Evidence =
            serde_json::from_str(&row.figures.evidence_json).map_err(corrupt)?;
        return Ok(MonthFigures {
            month: month.clone(),
            statement,
            explanation,
            evidence,
            stored: true,
        });
    }
    let evidence = evidence::assemble(state, month, std::slice::from_ref(service))
        .await?
        .pop()
        .ok_or_else(Problem::not_found)?;
    let st = crate::orders::engine(state, &evidence.terms_version)?
        .statement(&evidence)
        .map_err(corrupt)?;
    Ok(MonthFigures {
        month: month.clone(),
        statement: st.value,
        explanation: st.explanation,
        evidence,
        stored: false,
    })
}

/// The page of a service visible to `p` for `month` ("YYYY-MM", default:
/// the current Paris month). Another organisation's service, or a service
/// without an availability SLA (not cloud or PRA): 404.
pub async fn page(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    month: Option<&str>,
) -> ApiResult<SlaPage> {
    let db = state.store().db();
    // Scope first: another organisation's service is 404, never 403.
    let service = ciel_store::sla::service(db, &p.scope, service_id).await?;
    crate::services::require_viewer(p)?;
    let now = state.now();
    let month = match month {
        Some(m) => Month::parse(m, "month")?,
        None => Month::containing(now).ok_or_else(Problem::internal)?,
    };
    if month.start > now {
        return Err(Problem::invalid(
            "month",
            "R5.1: a month that has begun (no figures for the future)",
        ));
    }
    let figures = month_figures(state, &p.scope, &service, &month).await?;
    let days = crate::orders::engine(state, &figures.evidence.terms_version)?
        .daily_unavailability(
            &figures.statement.availability,
            &figures.evidence.episodes,
            &figures.evidence.windows,
        )
        .map_err(corrupt)?;
    let today = (now < month.end).then(|| now.to_zoned(crate::sla::zone()).date());
    let started = ciel_store::services::get(db, &p.scope, service_id)
        .await?
        .start_date
        .and_then(|d| d.parse::<Date>().ok());
    let mut months = vec![month.clone()];
    while months.len() < HISTORY_MONTHS {
        let Some(prev) = months.last().and_then(Month::previous) else {
            break;
        };
        months.push(prev);
    }
    months.reverse();
    let mut history = Vec::with_capacity(months.len());
    for m in months {
        let live = started.is_some_and(|s| s <= m.last_day) && m.start <= now;
        let rate = if m == month {
            Some(figures.statement.availability.rate_percent)
        } else if live {
            Some(
                month_figures(state, &p.scope, &service, &m)
                    .await?
                    .statement
                    .availability
                    .rate_percent,
            )
        } else {
            None
        };
        history.push((m, rate));
    }
    Ok(SlaPage {
        service,
        figures,
        days,
        today,
        history,
    })
}

/// Whether a day of the page's month has happened (days after today are
/// gaps in the daily chart).
pub fn has_happened(page: &SlaPage, day: Date) -> bool {
    page.today.is_none_or(|t| day <= t)
}
