//! Billing in the portal (issue 6): the back office's "Facturation" (runs,
//! a form to start one, a run's progress and failed clients, invoices with
//! their lines and explanations, the credit-note form) and the client
//! space's "Factures" (invoices and credit notes with their PDF, lines and
//! why). Every action runs the API's workflows (`crate::billing`).

use super::{Ctx, Form, Viewer, done};
use crate::billing::{self, credit_notes::CreditNoteInput};
use crate::i18n::Tr;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::Lang;
use ciel_store::invoices::{DocLine, Document, Filter};

/// A document in a list.
pub struct DocRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub org_id: String,
    pub period: String,
    pub issue_date: String,
    pub due_date: String,
    pub total_excl_vat: String,
    pub total: String,
    pub corrects: String,
    pub reason: String,
}

fn doc_row(v: &Viewer, d: &Document) -> DocRow {
    let day = |t: jiff::Timestamp| t.to_zoned(crate::sla::zone()).date().to_string();
    DocRow {
        id: d.id.to_string(),
        number: d.number.clone(),
        kind: v.tr.t(&format!("billing.kind_{}", d.kind)).to_owned(),
        org_id: d.org_id.to_string(),
        period: d.period.clone().unwrap_or_default(),
        issue_date: day(d.issued_at),
        due_date: day(d.due_at),
        total_excl_vat: d.total_excl_vat.clone(),
        total: d.total.clone(),
        corrects: d.corrects_invoice_id.clone().unwrap_or_default(),
        reason: d.reason.clone().unwrap_or_default(),
    }
}

/// A run in a list.
pub struct RunRow {
    pub id: String,
    pub period: String,
    pub state: String,
    pub total: i64,
    pub done: i64,
    pub invoices: i64,
    pub empty: i64,
    pub failed: i64,
    pub amount: String,
    pub started: String,
}

#[derive(Template)]
#[template(path = "billing_runs.html")]
struct RunsPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    runs: Vec<RunRow>,
    docs: Vec<DocRow>,
    error: Option<String>,
    period: String,
}

async fn runs_render(v: &Viewer, error: Option<String>, status: StatusCode) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let runs = match billing::runs(&v.state, &p, None, 24).await {
        Ok(r) => r.items,
        Err(e) => return v.message(e.status_code(), "error.internal", &v.problem_text(&e), None),
    };
    let cursor = v.cursor();
    let docs = match billing::documents(&v.state, &p, &Filter::default(), cursor.as_deref(), 50)
        .await
    {
        Ok(d) => d.items,
        Err(e) => return v.message(e.status_code(), "error.internal", &v.problem_text(&e), None),
    };
    let today = v.state.now().to_zoned(crate::sla::zone()).date();
    v.render_status(
        status,
        RunsPage {
            t: v.tr,
            ctx: v.ctx(),
            staff: true,
            runs: runs
                .into_iter()
                .map(|r| RunRow {
                    id: r.id.to_string(),
                    period: r.period,
                    state: v.tr.t(&format!("billing.state_{}", r.state)).to_owned(),
                    total: r.total_items,
                    done: r.done_items,
                    invoices: r.invoices,
                    empty: 0,
                    failed: 0,
                    amount: r.amount,
                    started: v.time(r.started_at),
                })
                .collect(),
            docs: docs.iter().map(|d| doc_row(v, d)).collect(),
            error,
            period: format!("{:04}-{:02}", today.year(), today.month()),
        },
    )
}

/// `GET /back-office/billing`: runs, the start form, the latest documents.
pub async fn staff_home(v: Viewer) -> Response {
    runs_render(&v, None, StatusCode::OK).await
}

/// `GET /back-office/billing/fec?from=&to=`: the FEC of a period, as a
/// download (billing staff).
pub async fn staff_fec(
    v: Viewer,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let day = |field: &str| {
        q.get(field)
            .and_then(|d| d.trim().parse::<jiff::civil::Date>().ok())
            .ok_or_else(|| crate::problem::Problem::invalid(field, "expected a day, YYYY-MM-DD"))
    };
    let file = match (day("from"), day("to")) {
        (Ok(from), Ok(to)) => crate::accounting::fec(&v.state, &p, from, to).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match file {
        Ok(f) => crate::accounting::download(f),
        Err(e) => {
            let text = v.problem_text(&e);
            runs_render(&v, Some(text), e.status_code()).await
        }
    }
}

/// `POST /back-office/billing/runs`: starts (or resumes) a month's run.
pub async fn staff_start(v: Viewer, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match billing::start_run(&v.state, &p, form.get("period").trim()).await {
        Ok((run, _)) => done(
            &format!("/back-office/billing/runs/{}", run.id),
            "billing.started_flash",
        ),
        Err(e) => {
            let text = v.problem_text(&e);
            runs_render(&v, Some(text), e.status_code()).await
        }
    }
}

#[derive(Template)]
#[template(path = "billing_run.html")]
struct RunPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    run: RunRow,
    running: bool,
    failed: Vec<(String, String)>,
    docs: Vec<DocRow>,
}

/// `GET /back-office/billing/runs/{id}`: progress (the page refreshes
/// itself while the run is running), failed clients, invoices written.
pub async fn staff_run(v: Viewer, Path(id): Path<String>) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let Ok(view) = billing::run_view(&v.state, &p, &id).await else {
        return v.not_found();
    };
    let filter = Filter {
        run_id: Some(id.clone()),
        ..Filter::default()
    };
    let docs = billing::documents(&v.state, &p, &filter, None, 200)
        .await
        .map(|d| d.items)
        .unwrap_or_default();
    let r = view.run;
    let pr = view.progress;
    v.render(RunPage {
        t: v.tr,
        ctx: v.ctx(),
        staff: true,
        running: r.state == "running",
        run: RunRow {
            id: r.id.to_string(),
            period: r.period,
            state: v.tr.t(&format!("billing.state_{}", r.state)).to_owned(),
            total: pr.total(),
            done: pr.total() - pr.pending,
            invoices: pr.invoiced,
            empty: pr.empty,
            failed: pr.failed,
            amount: r.amount,
            started: v.time(r.started_at),
        },
        failed: view
            .failed
            .into_iter()
            .map(|i| (i.org_id.to_string(), i.error.unwrap_or_default()))
            .collect(),
        docs: docs.iter().map(|d| doc_row(&v, d)).collect(),
    })
}

/// A line with its explanation in the viewer's language.
pub struct LineRow {
    pub position: i64,
    pub kind: String,
    pub label: String,
    pub period: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    pub vat: String,
    pub rule: String,
    pub why: Vec<String>,
}

fn line_row(v: &Viewer, l: &DocLine) -> LineRow {
    let ex: ciel_engine::Explanation =
        serde_json::from_str(&l.explanation_json).unwrap_or_default();
    LineRow {
        position: l.position,
        kind: v.tr.t(&format!("billing.line_{}", l.kind)).to_owned(),
        label: l.label.clone(),
        period: match (&l.period_start, &l.period_end) {
            (Some(a), Some(b)) => format!("{a} → {b}"),
            _ => String::new(),
        },
        quantity: l.quantity.clone(),
        // The exact unit price of a pro-rata has ~28 decimals; shown to six,
        // as on the PDF (the amount is computed from the exact value).
        unit_price: l
            .unit_price
            .parse::<rust_decimal::Decimal>()
            .map(|d| ciel_engine::round_money_dp(d, 6).normalize().to_string())
            .unwrap_or_else(|_| l.unit_price.clone()),
        amount: l.amount.clone(),
        vat: l.vat_percent.clone(),
        rule: l.rule.clone(),
        why: ex
            .steps
            .into_iter()
            .map(|s| {
                let text = if v.tr.lang == Lang::Fr { s.fr } else { s.en };
                format!("{} ({}) : {text}", s.rule, s.clause)
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    d: DocRow,
    total_vat: String,
    lines: Vec<LineRow>,
    error: Option<String>,
}

async fn invoice_render(
    v: &Viewer,
    staff: bool,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        client_viewer(v)
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let Ok((doc, lines)) = billing::document_with_lines(&v.state, &p, id).await else {
        return v.not_found();
    };
    v.render_status(
        status,
        InvoicePage {
            t: v.tr,
            ctx: v.ctx(),
            staff,
            d: doc_row(v, &doc),
            total_vat: doc.total_vat.clone(),
            lines: lines.iter().map(|l| line_row(v, l)).collect(),
            error,
        },
    )
}

/// `GET /back-office/invoices/{id}`: lines, explanations, credit-note form.
pub async fn staff_invoice(v: Viewer, Path(id): Path<String>) -> Response {
    invoice_render(&v, true, &id, None, StatusCode::OK).await
}

/// `POST /back-office/invoices/{id}/credit-notes`: issues a credit note
/// for the lines ticked (all when none) or an amount, with a reason.
pub async fn staff_credit_note(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let lines: Vec<i64> = form
        .get("lines")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let amount = form.get("amount").trim();
    let input = CreditNoteInput {
        reason: form.get("reason").to_owned(),
        lines: (!lines.is_empty()).then_some(lines),
        amount: (!amount.is_empty()).then(|| amount.to_owned()),
    };
    match billing::credit_notes::issue(&v.state, &p, &id, input).await {
        Ok(cn) => done(
            &format!("/back-office/invoices/{}", cn.id),
            "billing.credited",
        ),
        Err(e) => {
            let text = v.problem_text(&e);
            invoice_render(&v, true, &id, Some(text), e.status_code()).await
        }
    }
}

/// A client user allowed to see invoices; others get the 404 page.
fn client_viewer(v: &Viewer) -> Result<&crate::auth::Principal, Response> {
    let p = v.require_client()?;
    if p.can(ciel_domain::Permission::ViewInvoices) {
        Ok(p)
    } else {
        Err(v.not_found())
    }
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct ClientListPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    docs: Vec<DocRow>,
    next: Option<String>,
}

/// `GET /espace-client/factures`: invoices and credit notes, newest first.
pub async fn client_list(v: Viewer) -> Response {
    let p = match client_viewer(&v) {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let cursor = v.cursor();
    match billing::documents(&v.state, &p, &Filter::default(), cursor.as_deref(), 50).await {
        Ok(page) => v.render(ClientListPage {
            t: v.tr,
            ctx: v.ctx(),
            staff: false,
            docs: page.items.iter().map(|d| doc_row(&v, d)).collect(),
            next: page.next_cursor,
        }),
        Err(e) => v.message(e.status_code(), "error.internal", &v.problem_text(&e), None),
    }
}

/// `GET /espace-client/factures/{id}`: lines and why.
pub async fn client_invoice(v: Viewer, Path(id): Path<String>) -> Response {
    invoice_render(&v, false, &id, None, StatusCode::OK).await
}

async fn pdf(v: Viewer, id: &str, staff: bool) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        client_viewer(&v)
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    match billing::pdf(&v.state, &p, id).await {
        Ok((doc, bytes)) => crate::api::billing::pdf_response(&doc.number, bytes),
        Err(_) => v.not_found(),
    }
}

/// `GET /espace-client/factures/{id}/pdf`.
pub async fn client_pdf(v: Viewer, Path(id): Path<String>) -> Response {
    pdf(v, &id, false).await
}

/// `GET /back-office/invoices/{id}/pdf`.
pub async fn staff_pdf(v: Viewer, Path(id): Path<String>) -> Response {
    pdf(v, &id, true).await
}
