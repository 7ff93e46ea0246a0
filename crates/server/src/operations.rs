//! The bridge to the pure rules of `ciel_operations` (R9, R10, R11): the
//! rules prepared for a terms version, and a refusal turned into a
//! problem that names the rule and its machine code.

use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_engine::Lang;
use ciel_operations::{Decision, Operations};

/// The operational rules of a terms version (its parameters included).
pub fn for_version(state: &AppState, version: &str) -> ApiResult<Operations> {
    let engine = crate::orders::engine(state, version)?;
    Operations::new(engine.terms(), Default::default()).map_err(|e| {
        tracing::error!(error = %e, terms = %version, "terms unusable by the operations rules");
        Problem::internal()
    })
}

/// A refusal: the code is the first denial's (e.g. `recycle_bin_expired`),
/// the detail every denying step as "R9.3 (CS 3.7): <sentence>".
pub fn refused(status: StatusCode, field: &str, d: &Decision) -> Problem {
    let code = d.denials().first().copied().unwrap_or("rule_violated");
    let detail = d
        .reasons
        .steps
        .iter()
        .filter(|s| s.outcome.starts_with("deny:"))
        .map(|s| format!("{} ({}): {}", s.rule, s.clause, s.en))
        .collect::<Vec<_>>()
        .join("; ");
    Problem::new(status, code, "Refused by the contract")
        .field(field)
        .detail(detail)
}

/// A decision's sentences, one per line, in a language.
pub fn reasons(d: &Decision, lang: Lang) -> String {
    d.reasons.render(lang)
}

/// A stored row with the decision it was recorded under (a restore
/// request, a test notice), read back for the API and the pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decided<R> {
    pub row: R,
    pub decision: Decision,
}

impl<R> Decided<R> {
    /// Reads the decision stored as JSON beside the row.
    pub fn read(row: R, decision_json: &str) -> ApiResult<Self> {
        let decision = serde_json::from_str(decision_json).map_err(|e| {
            tracing::error!(error = %e, "stored decision cannot be read back");
            Problem::internal()
        })?;
        Ok(Decided { row, decision })
    }
}

/// A refusal by the contract that is not a `Decision` of the rules (the
/// service has no such option, nothing to refuse): 422 with its code.
pub fn rule(code: &str, field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        "Refused by the contract",
    )
    .field(field)
    .detail(detail)
}

/// A step already taken (answered, signed, refused, run): 409.
pub fn transition(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field(field)
    .detail(detail)
}
