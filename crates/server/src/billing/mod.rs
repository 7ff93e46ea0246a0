//! Billing (issue 6): the monthly run that writes one invoice per client
//! ([`run`]), the plan of an invoice ([`plan`]), its Factur-X document
//! ([`document`]), credit notes ([`credit_notes`]) and the reads of runs
//! and documents.

pub mod credit_notes;
pub mod document;
pub mod plan;
pub mod run;

use ciel_domain::{Permission, StaffRole};
use ciel_store::billing_runs::{self, Item, Progress, Run};
use ciel_store::invoices::{self, DocLine, Document};
use ciel_store::{Actor, Page};
use jiff::civil::Date;

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn corrupt(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "billing cannot proceed");
    Problem::internal()
}

/// The month a run bills and the day its invoices are issued (terms
/// `billing.invoice_day`, R2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `YYYY-MM`.
    pub label: String,
    pub year: i16,
    pub month: i8,
    pub first_day: Date,
    pub issue_date: Date,
}

impl Period {
    /// Parses `YYYY-MM` (`field` names it in the problem).
    pub fn parse(label: &str, field: &str) -> ApiResult<Period> {
        let m = crate::sla::evidence::Month::parse(label, field)?;
        let day = ciel_terms::embedded().billing.invoice_day.value as i8;
        let issue_date = Date::new(m.first_day.year(), m.first_day.month(), day)
            .map_err(|e| Problem::invalid(field, e.to_string()))?;
        Ok(Period {
            label: m.label,
            year: m.first_day.year(),
            month: m.first_day.month(),
            first_day: m.first_day,
            issue_date,
        })
    }
}

/// Staff who run billing and issue credit notes.
pub fn billing_staff(r: StaffRole) -> bool {
    matches!(r, StaffRole::Admin | StaffRole::Billing)
}

/// Staff start (or resume) the run of a period; the job processes it.
pub async fn start_run(state: &AppState, p: &Principal, period: &str) -> ApiResult<(Run, bool)> {
    require_staff(p, billing_staff)?;
    let period = Period::parse(period, "period")?;
    run::start(state, &p.actor(state.now()), &period, true).await
}

/// A run and its progress, for staff.
pub struct RunView {
    pub run: Run,
    pub progress: Progress,
    /// Its failed items, with their reason.
    pub failed: Vec<Item>,
}

/// Runs, newest first (staff).
pub async fn runs(
    state: &AppState,
    p: &Principal,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<Run>> {
    require_staff(p, |_| true)?;
    Ok(billing_runs::list(state.store().db(), cursor, limit).await?)
}

/// One run with its progress and failed items (staff).
pub async fn run_view(state: &AppState, p: &Principal, id: &str) -> ApiResult<RunView> {
    // Provider data: a client is told it does not exist.
    if !p.is_staff() {
        return Err(Problem::not_found());
    }
    let db = state.store().db();
    let run = billing_runs::get(db, id).await?;
    Ok(RunView {
        progress: billing_runs::progress(db, id).await?,
        failed: billing_runs::items(db, id, Some("failed"), 500).await?,
        run,
    })
}

/// Staff, or a client user allowed to see invoices.
pub fn require_invoice_viewer(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.can(Permission::ViewInvoices) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "invoices are shown to users allowed to see them",
        ))
    }
}

/// Documents visible to `p`, newest first.
pub async fn documents(
    state: &AppState,
    p: &Principal,
    filter: &invoices::Filter,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<Document>> {
    require_invoice_viewer(p)?;
    Ok(invoices::list(state.store().db(), &p.scope, filter, cursor, limit).await?)
}

/// A document with its lines, visible to `p`.
pub async fn document_with_lines(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> ApiResult<(Document, Vec<DocLine>)> {
    let db = state.store().db();
    let doc = invoices::get(db, &p.scope, id).await?;
    require_invoice_viewer(p)?;
    let lines = invoices::lines(db, doc.id.as_str()).await?;
    Ok((doc, lines))
}

/// The PDF of a document visible to `p`.
pub async fn pdf(state: &AppState, p: &Principal, id: &str) -> ApiResult<(Document, Vec<u8>)> {
    let db = state.store().db();
    let doc = invoices::get(db, &p.scope, id).await?;
    require_invoice_viewer(p)?;
    let bytes = invoices::pdf(db, doc.id.as_str()).await?;
    Ok((doc, bytes))
}

/// The actor of a command-line run.
pub fn cli_actor(state: &AppState, what: &str) -> Actor {
    Actor::system(what, state.now())
}
