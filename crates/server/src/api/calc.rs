//! Contract calculators (`/api/v1/calc/...`) for support and sales staff:
//! ticket deadlines (R4.2-R4.4), early-termination quote (R3.1), end of a
//! notice (R3.2), late interest (R2.6), and the recomputation of an SLA
//! statement from its evidence (R5-R7).
//!
//! Pure functions of `ciel-engine` over the embedded terms version: nothing is
//! read from or written to the store. Every answer carries the result, its
//! explanation steps (rule, clause, inputs, outcome, French and English) and
//! the explanation rendered in the requested language. Amounts and rates are
//! decimal strings; dates `YYYY-MM-DD`; instants RFC 3339 with an offset.

use super::ApiJson;
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::http::StatusCode;
use ciel_engine::{
    Engine, EngineError, Explained, Lang,
    ciel_terms::{Criticality, Impact, SupportLevel},
    contract::EarlyTerminationInput,
    evidence::Evidence,
    jiff::{Timestamp, civil::Date},
    rust_decimal::Decimal,
    support::{Pause, TicketInput},
};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::ToSchema;

/// The engine of the embedded terms version, built once.
fn engine() -> ApiResult<&'static Engine> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Engine::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| {
            tracing::error!(error = %e, "contract engine unavailable");
            Problem::internal()
        })
}

/// Engine errors are the caller's inputs, except a broken terms version.
fn problem(e: EngineError) -> Problem {
    match e {
        EngineError::MissingEcbRate(d) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ecb_rate_missing",
            "No ECB rate",
        )
        .field("due")
        .detail(format!("no ECB main refinancing rate in force on {d}")),
        EngineError::Invalid(m) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid value",
        )
        .detail(m),
        EngineError::Calendar(c) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid value",
        )
        .detail(c.to_string()),
        EngineError::UnknownTerms(v) => {
            Problem::invalid("terms_version", format!("unknown terms version {v:?}"))
        }
        EngineError::Terms(m) => {
            tracing::error!(error = %m, "terms version inconsistent");
            Problem::internal()
        }
    }
}

pub fn date(field: &str, s: &str) -> ApiResult<Date> {
    s.parse()
        .map_err(|_| Problem::invalid(field, "a date YYYY-MM-DD"))
}

fn instant(field: &str, s: &str) -> ApiResult<Timestamp> {
    s.parse().map_err(|_| {
        Problem::invalid(
            field,
            "an RFC 3339 instant with offset, e.g. 2026-05-07T17:30:00+02:00",
        )
    })
}

pub fn decimal(field: &str, s: &str) -> ApiResult<Decimal> {
    Decimal::from_str_exact(s.trim())
        .map_err(|_| Problem::invalid(field, "a decimal written as a string, e.g. \"1200.00\""))
}

/// Language of the rendered explanation.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CalcLang {
    #[default]
    Fr,
    En,
}

/// One input of a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct InputView {
    pub name: String,
    pub value: String,
}

/// One step of an explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    /// Rule id of the product rules, e.g. `R5.5`.
    pub rule: String,
    /// Clause of the contract, e.g. `A2 II.A.1`.
    pub clause: String,
    pub inputs: Vec<InputView>,
    /// Machine-readable outcome.
    pub outcome: String,
    pub fr: String,
    pub en: String,
}

/// A calculator's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalcResponse {
    /// The computed result (shape depends on the calculator).
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    /// Ordered steps, each citing its rule and clause.
    pub explanation: Vec<StepView>,
    /// The explanation rendered in the requested language.
    pub text: String,
}

/// The steps of an explanation as the API shows them.
pub fn steps(e: ciel_engine::Explanation) -> Vec<StepView> {
    e.steps
        .into_iter()
        .map(|s| StepView {
            rule: s.rule,
            clause: s.clause,
            inputs: s
                .inputs
                .into_iter()
                .map(|i| InputView {
                    name: i.name,
                    value: i.value,
                })
                .collect(),
            outcome: s.outcome,
            fr: s.fr,
            en: s.en,
        })
        .collect()
}

fn respond<T: Serialize>(x: Explained<T>, lang: CalcLang) -> ApiResult<Json<CalcResponse>> {
    let l = match lang {
        CalcLang::Fr => Lang::Fr,
        CalcLang::En => Lang::En,
    };
    let text = x.explanation.render(l);
    let result = serde_json::to_value(&x.value).map_err(|_| Problem::internal())?;
    let explanation = steps(x.explanation);
    Ok(Json(CalcResponse {
        result,
        explanation,
        text,
    }))
}

/// A suspension of a ticket's clocks (R4.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    pub start: String,
    pub end: String,
}

/// A ticket whose deadlines are wanted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketDeadlinesRequest {
    /// `standard`, `premium` or `platinum`.
    pub level: String,
    /// `C1`-`C4`, the client's assessment.
    pub criticality: String,
    /// `I1`-`I4`, the provider's assessment.
    pub impact: String,
    /// Complete notification (RFC 3339).
    pub notified_at: String,
    #[serde(default)]
    pub pauses: Vec<PauseRequest>,
    /// When set, the clocks' elapsed/remaining time at this instant.
    pub at: Option<String>,
    #[serde(default)]
    pub lang: CalcLang,
}

/// GTI and GTR deadlines of a ticket (R4.2-R4.4).
#[utoipa::path(post, path = "/api/v1/calc/ticket-deadlines", tag = "calc", request_body = TicketDeadlinesRequest,
    responses((status = 200, body = CalcResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn ticket_deadlines(
    _p: Principal,
    ApiJson(r): ApiJson<TicketDeadlinesRequest>,
) -> ApiResult<Json<CalcResponse>> {
    let level = SupportLevel::try_from(r.level.to_ascii_lowercase())
        .map_err(|e| Problem::invalid("level", e))?;
    let criticality = Criticality::try_from(r.criticality.to_ascii_uppercase())
        .map_err(|e| Problem::invalid("criticality", e))?;
    let impact = match r.impact.to_ascii_uppercase().as_str() {
        "I1" => Impact::I1,
        "I2" => Impact::I2,
        "I3" => Impact::I3,
        "I4" => Impact::I4,
        _ => return Err(Problem::invalid("impact", "one of I1, I2, I3, I4")),
    };
    let mut pauses = Vec::with_capacity(r.pauses.len());
    for (i, p) in r.pauses.iter().enumerate() {
        let start = instant(&format!("pauses[{i}].start"), &p.start)?;
        let end = instant(&format!("pauses[{i}].end"), &p.end)?;
        if end < start {
            return Err(Problem::invalid(
                &format!("pauses[{i}].end"),
                "before the pause's start",
            ));
        }
        pauses.push(Pause {
            start,
            end,
            reason: None,
        });
    }
    let t = TicketInput {
        level,
        criticality,
        impact,
        notified_at: instant("notified_at", &r.notified_at)?,
        pauses,
        maintenance: vec![],
    };
    let e = engine()?;
    match r.at {
        Some(at) => respond(
            e.ticket_status(&t, instant("at", &at)?, None, None)
                .map_err(problem)?,
            r.lang,
        ),
        None => respond(e.ticket_deadlines(&t).map_err(problem)?, r.lang),
    }
}

/// An early-termination quote request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyTerminationRequest {
    /// Provisioning day (commitment month 1 starts on it).
    pub start: String,
    pub term_months: u32,
    /// Last day of service.
    pub last_day: String,
    /// Monthly fee excluding VAT, decimal string.
    pub monthly_fee: String,
    /// Hardware or licences bought for the client.
    #[serde(default)]
    pub investment: bool,
    /// Cancellation before provisioning.
    #[serde(default)]
    pub cancellation: bool,
    #[serde(default)]
    pub lang: CalcLang,
}

/// Early-termination fee (R3.1).
#[utoipa::path(post, path = "/api/v1/calc/early-termination", tag = "calc", request_body = EarlyTerminationRequest,
    responses((status = 200, body = CalcResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn early_termination(
    _p: Principal,
    ApiJson(r): ApiJson<EarlyTerminationRequest>,
) -> ApiResult<Json<CalcResponse>> {
    let i = EarlyTerminationInput {
        start: date("start", &r.start)?,
        term_months: r.term_months,
        last_day: date("last_day", &r.last_day)?,
        monthly_fee: decimal("monthly_fee", &r.monthly_fee)?,
        investment: r.investment,
        cancellation: r.cancellation,
    };
    respond(engine()?.early_termination(&i).map_err(problem)?, r.lang)
}

/// A notice whose effect is wanted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeEndRequest {
    /// Day the registered letter was received.
    pub received: String,
    /// Last day of the fixed term, if it is still running.
    pub term_last_day: Option<String>,
    #[serde(default)]
    pub lang: CalcLang,
}

/// Last day of service after a notice (R3.2).
#[utoipa::path(post, path = "/api/v1/calc/notice-end", tag = "calc", request_body = NoticeEndRequest,
    responses((status = 200, body = CalcResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn notice_end(
    _p: Principal,
    ApiJson(r): ApiJson<NoticeEndRequest>,
) -> ApiResult<Json<CalcResponse>> {
    let received = date("received", &r.received)?;
    let term = r
        .term_last_day
        .as_deref()
        .map(|t| date("term_last_day", t))
        .transpose()?;
    respond(
        engine()?.notice_end(received, term).map_err(problem)?,
        r.lang,
    )
}

/// A late payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LateInterestRequest {
    /// Amount paid late, decimal string.
    pub amount: String,
    pub due: String,
    pub paid: String,
    #[serde(default)]
    pub lang: CalcLang,
}

/// Late-payment interest per half-year and the 40 EUR indemnity (R2.6).
#[utoipa::path(post, path = "/api/v1/calc/late-interest", tag = "calc", request_body = LateInterestRequest,
    responses((status = 200, body = CalcResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn late_interest(
    _p: Principal,
    ApiJson(r): ApiJson<LateInterestRequest>,
) -> ApiResult<Json<CalcResponse>> {
    let amount = decimal("amount", &r.amount)?;
    if amount < Decimal::ZERO {
        return Err(Problem::invalid("amount", "must not be negative"));
    }
    let (due, paid) = (date("due", &r.due)?, date("paid", &r.paid)?);
    respond(
        engine()?
            .late_interest(amount, due, paid)
            .map_err(problem)?,
        r.lang,
    )
}

/// Recomputes a service-month SLA statement from its evidence
/// (`ciel-sla-evidence/1`, see docs/evidence.schema.json) and checks the
/// claimed figures.
#[utoipa::path(post, path = "/api/v1/calc/sla-statement", tag = "calc",
    request_body(content = Object, description = "Evidence document, format ciel-sla-evidence/1"),
    responses((status = 200, body = CalcResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn sla_statement(
    _p: Principal,
    ApiJson(ev): ApiJson<Evidence>,
) -> ApiResult<Json<CalcResponse>> {
    let e = engine()?;
    if ev.terms_version != e.terms().version.id {
        return Err(Problem::invalid(
            "terms_version",
            format!("only {} is known to this server", e.terms().version.id),
        ));
    }
    respond(e.statement(&ev).map_err(problem)?, CalcLang::Fr)
}
