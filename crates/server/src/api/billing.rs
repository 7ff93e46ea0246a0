//! Billing in the API (issue 6): monthly runs with their progress, invoices
//! and credit notes with their lines and explanations, their Factur-X PDF,
//! and staff credit notes (R2.4, R2.7, R2.11, R2.12).

use super::calc::{StepView, steps};
use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::billing::{self, credit_notes::CreditNoteInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ciel_store::billing_runs::{Item, Progress, Run};
use ciel_store::invoices::{DocLine, Document, Filter};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A billing run and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    /// `YYYY-MM`: the month whose invoices (dated the 1st) it writes.
    pub period: String,
    /// running, done, failed.
    pub state: String,
    /// Clients to bill.
    pub total: i64,
    /// Clients done (invoiced, nothing to bill, or failed).
    pub done: i64,
    pub invoices: i64,
    /// Clients with nothing to bill.
    pub empty: i64,
    pub failed: i64,
    /// Sum of the invoices including VAT (exact EUR), once done.
    pub amount: String,
    pub started_by: Option<String>,
    #[schema(value_type = String)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<Timestamp>,
}

/// A client the run could not invoice, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedItem {
    pub org_id: String,
    pub error: String,
}

/// A run with its failed items.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    pub run: RunView,
    pub failed_items: Vec<FailedItem>,
}

/// One page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
    pub next_cursor: Option<String>,
}

pub fn run_view(r: Run, p: Option<&Progress>) -> RunView {
    let (total, done, invoices, empty, failed) = match p {
        Some(p) => (
            p.total(),
            p.total() - p.pending,
            p.invoiced,
            p.empty,
            p.failed,
        ),
        None => (r.total_items, r.done_items, r.invoices, 0, 0),
    };
    RunView {
        id: r.id.to_string(),
        period: r.period,
        state: r.state,
        total,
        done,
        invoices,
        empty,
        failed,
        amount: r.amount,
        started_by: r.started_by,
        started_at: r.started_at,
        finished_at: r.finished_at,
    }
}

fn failed(items: Vec<Item>) -> Vec<FailedItem> {
    items
        .into_iter()
        .map(|i| FailedItem {
            org_id: i.org_id.to_string(),
            error: i.error.unwrap_or_default(),
        })
        .collect()
}

/// Which month to bill.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// `YYYY-MM`; its invoice date (the 1st) must not be in the future.
    pub period: String,
}

/// Starts the billing run of a month (staff admin or billing): 201 with the
/// new run, processed in the background; 200 with the existing run when the
/// month is running or done (idempotent), its failed items put back to be
/// retried. A month whose invoice date is in the future is refused (422
/// `period_in_future`).
#[utoipa::path(post, path = "/api/v1/billing/runs", tag = "billing",
    request_body = RunInput,
    responses((status = 201, body = RunView), (status = 200, body = RunView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn start_run(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(input): ApiJson<RunInput>,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let (run, created) = billing::start_run(&s, &p, &input.period).await?;
    let progress = ciel_store::billing_runs::progress(s.store().db(), run.id.as_str()).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(run_view(run, Some(&progress)))))
}

/// Lists billing runs, newest first (staff).
#[utoipa::path(get, path = "/api/v1/billing/runs", tag = "billing",
    params(ListParams),
    responses((status = 200, body = RunList), (status = 403, body = Problem)))]
pub async fn list_runs(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(lp): ApiQuery<ListParams>,
) -> ApiResult<Json<RunList>> {
    let page = billing::runs(&s, &p, lp.cursor()?, lp.limit()?).await?;
    Ok(Json(RunList {
        items: page.items.into_iter().map(|r| run_view(r, None)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A billing run's progress and its failed items with their reason (staff).
#[utoipa::path(get, path = "/api/v1/billing/runs/{run_id}", tag = "billing",
    params(("run_id" = String, Path)),
    responses((status = 200, body = RunDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_run(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDetail>> {
    let v = billing::run_view(&s, &p, &id).await?;
    Ok(Json(RunDetail {
        run: run_view(v.run, Some(&v.progress)),
        failed_items: failed(v.failed),
    }))
}

/// An invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub org_id: String,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub corrects_invoice_id: Option<String>,
    /// `YYYY-MM` of a monthly invoice.
    pub period: Option<String>,
    pub run_id: Option<String>,
    pub lang: String,
    /// `YYYY-MM-DD` (Paris).
    pub issue_date: String,
    pub due_date: String,
    /// Exact EUR, positive for both kinds.
    pub total_excl_vat: String,
    pub total_vat: String,
    pub total: String,
    #[schema(value_type = Option<String>)]
    pub paid_at: Option<Timestamp>,
    pub reason: Option<String>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        let day = |t: Timestamp| t.to_zoned(crate::sla::zone()).date().to_string();
        DocumentView {
            id: d.id.to_string(),
            org_id: d.org_id.to_string(),
            issue_date: day(d.issued_at),
            due_date: day(d.due_at),
            number: d.number,
            kind: d.kind,
            corrects_invoice_id: d.corrects_invoice_id,
            period: d.period,
            run_id: d.run_id,
            lang: d.lang,
            total_excl_vat: d.total_excl_vat,
            total_vat: d.total_vat,
            total: d.total,
            paid_at: d.paid_at,
            reason: d.reason,
        }
    }
}

/// One line with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub position: i64,
    /// recurring, pro_rata, setup, charge, credit.
    pub kind: String,
    pub source_kind: String,
    pub source_id: String,
    pub offer: Option<String>,
    pub label: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub quantity: String,
    pub unit_price: String,
    /// Exact EUR excluding VAT, rounded once (R2.12); negative for a credit.
    pub amount: String,
    pub vat_percent: String,
    pub rule: String,
    pub explanation: Vec<StepView>,
}

pub fn line_view(l: DocLine) -> LineView {
    let ex: ciel_engine::Explanation =
        serde_json::from_str(&l.explanation_json).unwrap_or_default();
    LineView {
        position: l.position,
        kind: l.kind,
        source_kind: l.source_kind,
        source_id: l.source_id,
        offer: l.offer,
        label: l.label,
        period_start: l.period_start,
        period_end: l.period_end,
        quantity: l.quantity,
        unit_price: l.unit_price,
        amount: l.amount,
        vat_percent: l.vat_percent,
        rule: l.rule,
        explanation: steps(ex),
    }
}

/// A document with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDetail {
    pub document: DocumentView,
    pub lines: Vec<LineView>,
}

/// One page of documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentView>,
    pub next_cursor: Option<String>,
}

/// Filters of the document list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    pub org_id: Option<String>,
    /// `YYYY-MM`.
    pub period: Option<String>,
    pub run_id: Option<String>,
    /// `invoice` or `credit_note`.
    pub kind: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// Lists invoices and credit notes (staff: all; a client user allowed to
/// see invoices: its own), newest first.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "billing",
    params(DocumentQuery),
    responses((status = 200, body = DocumentList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_invoices(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<DocumentQuery>,
) -> ApiResult<Json<DocumentList>> {
    let lp = ListParams {
        cursor: q.cursor.clone(),
        limit: q.limit,
    };
    if let Some(k) = &q.kind
        && !matches!(k.as_str(), "invoice" | "credit_note")
    {
        return Err(Problem::invalid("kind", "one of invoice, credit_note"));
    }
    if let Some(m) = &q.period {
        billing::Period::parse(m, "period")?;
    }
    let filter = Filter {
        org_id: q.org_id,
        period: q.period,
        run_id: q.run_id,
        kind: q.kind,
    };
    let page = billing::documents(&s, &p, &filter, lp.cursor()?, lp.limit()?).await?;
    Ok(Json(DocumentList {
        items: page.items.into_iter().map(DocumentView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// An invoice or credit note with its lines and their explanations.
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}", tag = "billing",
    params(("invoice_id" = String, Path)),
    responses((status = 200, body = DocumentDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_invoice(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DocumentDetail>> {
    let (doc, lines) = billing::document_with_lines(&s, &p, &id).await?;
    Ok(Json(DocumentDetail {
        document: doc.into(),
        lines: lines.into_iter().map(line_view).collect(),
    }))
}

/// The Factur-X PDF (PDF/A-3b with its CII XML) of an invoice or credit note.
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}/pdf", tag = "billing",
    params(("invoice_id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn invoice_pdf(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let (doc, bytes) = billing::pdf(&s, &p, &id).await?;
    Ok(pdf_response(&doc.number, bytes))
}

/// A PDF download.
pub fn pdf_response(number: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.pdf\"", number.replace('/', "-")),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Issues a credit note correcting an invoice (staff admin or billing,
/// R2.11): all its lines, some of them, or an amount, with a reason. The
/// invoice is left unchanged.
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/credit-notes", tag = "billing",
    params(("invoice_id" = String, Path)),
    request_body = CreditNoteInput,
    responses((status = 201, body = DocumentView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn issue_credit_note(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CreditNoteInput>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let doc = billing::credit_notes::issue(&s, &p, &id, input).await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

/// The period of an accounting export: days in Europe/Paris, both included.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FecQuery {
    /// First day, `YYYY-MM-DD` (required).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (required).
    pub to: Option<String>,
}

/// The sales and bank journals of a period as a FEC file (LPF A47 A-1: 18
/// tab-separated columns, balanced entries), booked into `[accounting]`'s
/// accounts (staff admin or billing).
#[utoipa::path(get, path = "/api/v1/accounting/fec", tag = "billing",
    params(FecQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn accounting_fec(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<FecQuery>,
) -> ApiResult<axum::response::Response> {
    // Who asks is checked before what is asked: a client learns nothing
    // about the parameters of a staff export.
    crate::auth::require_staff(&p, billing::billing_staff)?;
    let day = |field: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| v.parse::<jiff::civil::Date>().ok())
            .ok_or_else(|| Problem::invalid(field, "expected a day, YYYY-MM-DD"))
    };
    let file = crate::accounting::fec(&s, &p, day("from", &q.from)?, day("to", &q.to)?).await?;
    Ok(crate::accounting::download(file))
}
