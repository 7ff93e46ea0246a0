//! Payments in the portal (issue 6 items 5-7). The client space shows the
//! balance, the unpaid invoices, payments, refunds and disputes
//! (`/espace-client/solde`) and contests an invoice
//! (`/espace-client/factures/{id}/contestation`, R2.7). The back office
//! records payments, rejections and credit refunds per organisation, and
//! holds on one page the bank-file import, the SEPA batches, the dunning
//! queue with its sanction form and the disputes to answer. Every action
//! runs the API's workflow.

use super::{Ctx, Form, Viewer, done};
use crate::auth::Principal;
use crate::i18n::Tr;
use crate::payments::{self as pay, Balance, PaymentInput, RefundInput, RejectionInput};
use crate::problem::Problem;
use crate::{disputes, dunning, sepa_batches};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::Permission;
use ciel_engine::Lang;
use ciel_store::disputes::Dispute;
use ciel_store::payments::{Payment, Refund};

/// A payment as a row.
pub struct PaymentRow {
    pub id: String,
    pub received_on: String,
    pub amount: String,
    pub method: String,
    pub reference: String,
    pub rejected: Option<String>,
}

/// An unpaid invoice as a row.
pub struct OpenRow {
    pub id: String,
    pub number: String,
    pub due: String,
    pub total: String,
    pub remaining: String,
}

/// A dispute as a row.
pub struct DisputeRow {
    pub id: String,
    pub invoice_id: String,
    pub opened: String,
    pub reason: String,
    pub state: String,
    pub answer: String,
}

/// The balance and its parts, as shown.
pub struct BalanceView {
    pub balance: String,
    pub explanation: Vec<String>,
    pub open: Vec<OpenRow>,
    pub running: bool,
    pub refundable: String,
}

#[derive(Template)]
#[template(path = "payments_client.html")]
struct ClientPage {
    t: Tr,
    ctx: Ctx,
    b: BalanceView,
    payments: Vec<PaymentRow>,
    refunds: Vec<(String, String, String)>,
    disputes: Vec<DisputeRow>,
    is_staff: bool,
}

#[derive(Template)]
#[template(path = "dispute_form.html")]
struct ContestPage {
    t: Tr,
    ctx: Ctx,
    invoice_id: String,
    number: String,
    issued: String,
    total: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "payments_org.html")]
struct OrgPage {
    t: Tr,
    ctx: Ctx,
    org_id: String,
    org_name: String,
    b: BalanceView,
    payments: Vec<PaymentRow>,
    refunds: Vec<(String, String, String)>,
    error: Option<String>,
    is_staff: bool,
}

/// A follow-up in the dunning list.
pub struct FollowRow {
    pub invoice_id: String,
    pub number: String,
    pub org_name: String,
    pub total: String,
    pub notice: String,
    pub sanction_from: String,
    pub sanction: String,
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "payments_staff.html")]
struct StaffPage {
    t: Tr,
    ctx: Ctx,
    header: &'static str,
    batches: Vec<(String, String, String, i64, String)>,
    follow: Vec<FollowRow>,
    disputes: Vec<DisputeRow>,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    if v.tr.code() == "en" {
        Lang::En
    } else {
        Lang::Fr
    }
}

fn payment_rows(list: &[Payment]) -> Vec<PaymentRow> {
    list.iter()
        .map(|p| PaymentRow {
            id: p.id.to_string(),
            received_on: p.received_on.clone(),
            amount: p.amount.clone(),
            method: p.method.clone(),
            reference: p.reference.clone(),
            rejected: p
                .rejection
                .as_ref()
                .map(|r| format!("{} ({})", r.rejected_on, r.reason_code)),
        })
        .collect()
}

fn refund_rows(list: &[Refund]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|r| (r.refunded_on.clone(), r.amount.clone(), r.reference.clone()))
        .collect()
}

fn dispute_rows(v: &Viewer, list: &[Dispute]) -> Vec<DisputeRow> {
    list.iter()
        .map(|d| DisputeRow {
            id: d.id.to_string(),
            invoice_id: d.invoice_id.clone(),
            opened: v.time(d.opened_at),
            reason: d.reason.clone(),
            state: v.tr.t(state_key(&d.state)).to_owned(),
            answer: d.answer.clone().unwrap_or_default(),
        })
        .collect()
}

fn state_key(s: &str) -> &'static str {
    match s {
        "accepted" => "payments.dispute_accepted",
        "rejected" => "payments.dispute_rejected",
        _ => "payments.dispute_open",
    }
}

fn balance_view(v: &Viewer, b: &Balance) -> BalanceView {
    BalanceView {
        balance: b.balance.to_string(),
        explanation: b.explanation.lines(lang(v)),
        open: b
            .outstanding
            .iter()
            .map(|o| OpenRow {
                id: o.invoice_id.clone(),
                number: o.number.clone(),
                due: v.time(o.due_at),
                total: o.total.to_string(),
                remaining: o.remaining.to_string(),
            })
            .collect(),
        running: b.services_running,
        refundable: b.refundable.to_string(),
    }
}

/// A client user who sees invoices; others get the 404 page.
fn invoice_reader(v: &Viewer) -> Result<&Principal, Response> {
    let p = v.require_client()?;
    if p.can(Permission::ViewInvoices) {
        Ok(p)
    } else {
        Err(v.not_found())
    }
}

/// The client's balance, unpaid invoices, payments, refunds and disputes.
pub async fn client_balance(v: Viewer) -> Response {
    let p = match invoice_reader(&v) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let org = p.user.org_id.to_string();
    let page = async {
        let b = pay::balance(&v.state, p, &org).await?;
        let payments = pay::list(&v.state, p, &org).await?;
        let refunds = pay::refunds(&v.state, p, &org).await?;
        let disputes = disputes::list_of_org(&v.state, p, &org).await?;
        Ok::<_, Problem>(ClientPage {
            t: v.tr,
            ctx: v.ctx(),
            b: balance_view(&v, &b),
            payments: payment_rows(&payments),
            refunds: refund_rows(&refunds),
            disputes: dispute_rows(&v, &disputes),
            is_staff: false,
        })
    };
    match page.await {
        Ok(page) => v.render(page),
        Err(e) => v.message(e.status_code(), "error.internal", "", None),
    }
}

async fn contest_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(inv) = ciel_store::payments::receivable_of(v.state.store().db(), &p.scope, id).await
    else {
        return v.not_found();
    };
    v.render_status(
        status,
        ContestPage {
            t: v.tr,
            ctx: v.ctx(),
            invoice_id: inv.id.to_string(),
            number: inv.number,
            issued: v.time(inv.issued_at),
            total: inv.total,
            error,
        },
    )
}

/// The contest form of an invoice (R2.7).
pub async fn contest_form(v: Viewer, Path(id): Path<String>) -> Response {
    match invoice_reader(&v) {
        Ok(p) => contest_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// A client contests an invoice (R2.7).
pub async fn contest(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match invoice_reader(&v) {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match disputes::open(&v.state, &p, &id, form.get("reason")).await {
        Ok(_) => done("/espace-client/solde", "payments.contested"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => contest_page(&v, &p, &id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}

async fn org_page(
    v: &Viewer,
    p: &Principal,
    org_id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(org) = ciel_store::orgs::get(v.state.store().db(), &p.scope, org_id).await else {
        return v.not_found();
    };
    let page = async {
        let b = pay::balance(&v.state, p, org_id).await?;
        let payments = pay::list(&v.state, p, org_id).await?;
        let refunds = pay::refunds(&v.state, p, org_id).await?;
        Ok::<_, Problem>(OrgPage {
            t: v.tr,
            ctx: v.ctx(),
            org_id: org.id.to_string(),
            org_name: org.name.clone(),
            b: balance_view(v, &b),
            payments: payment_rows(&payments),
            refunds: refund_rows(&refunds),
            error,
            is_staff: true,
        })
    };
    match page.await {
        Ok(page) => v.render_status(status, page),
        Err(e) => v.message(e.status_code(), "error.internal", "", None),
    }
}

/// Staff: an organisation's balance, payments and refunds, with the forms.
pub async fn staff_org(v: Viewer, Path(org_id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => org_page(&v, p, &org_id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

fn opt(form: &Form, k: &str) -> Option<String> {
    Some(form.get(k).trim().to_owned()).filter(|s| !s.is_empty())
}

/// Staff record a payment or a credit refund of an organisation.
pub async fn staff_org_action(
    v: Viewer,
    Path((org_id, what)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = match what.as_str() {
        "record" => pay::record(
            &v.state,
            &p,
            &org_id,
            PaymentInput {
                amount: form.get("amount").to_owned(),
                received_on: opt(&form, "received_on"),
                method: form.get("method").to_owned(),
                reference: form.get("reference").to_owned(),
                excess: opt(&form, "excess"),
                invoices: Vec::new(),
            },
            None,
        )
        .await
        .map(|_| "payments.recorded"),
        "refund" => pay::refund_credit(
            &v.state,
            &p,
            &org_id,
            RefundInput {
                amount: form.get("amount").to_owned(),
                refunded_on: opt(&form, "refunded_on"),
                reference: form.get("reference").to_owned(),
            },
        )
        .await
        .map(|_| "payments.refunded"),
        _ => Err(Problem::not_found()),
    };
    match result {
        Ok(flash) => done(
            &format!("/back-office/organizations/{org_id}/paiements"),
            flash,
        ),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => org_page(&v, &p, &org_id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}

/// Staff record the bank's rejection of a payment.
pub async fn staff_reject(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let input = RejectionInput {
        reason_code: form.get("reason_code").to_owned(),
        rejected_on: opt(&form, "rejected_on"),
    };
    match pay::reject(&v.state, &p, &id, input).await {
        Ok((payment, _)) => done(
            &format!("/back-office/organizations/{}/paiements", payment.org_id),
            "payments.rejected_flash",
        ),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => v.message(e.status_code(), "error.conflict", &v.problem_text(&e), None),
    }
}

async fn staff_page(
    v: &Viewer,
    p: &Principal,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = async {
        let batches = sepa_batches::list(&v.state, p).await?;
        let follow = dunning::list(&v.state, p, false).await?;
        let open = disputes::open_queue(&v.state, p).await?;
        let now = v.state.now();
        Ok::<_, Problem>(StaffPage {
            t: v.tr,
            ctx: v.ctx(),
            header: pay::IMPORT_HEADER,
            batches: batches
                .iter()
                .map(|b| {
                    (
                        b.id.to_string(),
                        b.collection_date.clone(),
                        b.message_id.clone(),
                        b.transactions,
                        b.total.clone(),
                    )
                })
                .collect(),
            follow: follow
                .iter()
                .map(|f| FollowRow {
                    invoice_id: f.invoice.id.to_string(),
                    number: f.invoice.number.clone(),
                    org_name: f.org_name.clone(),
                    total: f.invoice.total.clone(),
                    notice: v.time(f.dunning.notice_sent_at),
                    sanction_from: v.time(f.dunning.sanction_from),
                    sanction: f.dunning.sanction.clone().unwrap_or_default(),
                    waiting: f.dunning.sanction.is_none()
                        && f.dunning.sanction_from <= now
                        && f.invoice.paid_at.is_none(),
                })
                .collect(),
            disputes: dispute_rows(v, &open),
            error,
        })
    };
    match page.await {
        Ok(page) => v.render_status(status, page),
        Err(e) => v.message(
            e.status_code(),
            "error.forbidden",
            &v.problem_text(&e),
            None,
        ),
    }
}

/// Staff: import, SEPA batches, dunning queue and disputes.
pub async fn staff_home(v: Viewer) -> Response {
    match v.require_staff() {
        Ok(p) => staff_page(&v, p, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// Staff import a file, build a SEPA batch or run the dunning pass.
pub async fn staff_action(v: Viewer, Path(what): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = match what.as_str() {
        "import" => pay::import(&v.state, &p, form.get("file_name"), form.get("content"))
            .await
            .map(|_| "payments.imported"),
        "sepa" => sepa_batches::create(&v.state, &p, form.get("collection_date"))
            .await
            .map(|_| "payments.batch_created"),
        "dunning" => dunning::run_now(&v.state, &p)
            .await
            .map(|_| "payments.dunning_flash"),
        _ => Err(Problem::not_found()),
    };
    match result {
        Ok(flash) => done("/back-office/paiements", flash),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => staff_page(&v, &p, Some(v.problem_text(&e)), e.status_code()).await,
    }
}

/// Staff choose the sanction of an invoice in the queue (R2.6).
pub async fn staff_sanction(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match dunning::sanction(&v.state, &p, &id, form.get("sanction"), opt(&form, "note")).await {
        Ok(_) => done("/back-office/paiements", "payments.sanctioned"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => staff_page(&v, &p, Some(v.problem_text(&e)), e.status_code()).await,
    }
}

/// Staff answer a dispute (R2.7).
pub async fn staff_answer(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let accepted = form.get("decision") == "accepted";
    match disputes::answer(&v.state, &p, &id, accepted, form.get("answer")).await {
        Ok(_) => done("/back-office/paiements", "payments.answered"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => staff_page(&v, &p, Some(v.problem_text(&e)), e.status_code()).await,
    }
}
