//! Payments (issue 6 item 5; R2.6, R3.3, R7.5): the workflows shared by the
//! API and the portal over `store::payments` and the engine's
//! `receivables`.
//!
//! - A payment settles the invoices named, else the oldest due first. An
//!   invoice whose allocations cover its total is paid on the payment's
//!   day; paid after its due date, its late interest to that day and the
//!   recovery indemnity are handed to the next invoice (R2.6), once.
//! - A payment beyond what is due is refused unless the payer chose what
//!   to do with the excess (`keep_as_credit` or `refund`), nothing written.
//! - A rejection (direct debit returned) removes the payment's allocations,
//!   makes its invoices unpaid again and emails the client the days it has
//!   to regularise (R3.3).
//! - An import (CSV) applies every line in one transaction: a bad line
//!   refuses the whole file with its number and reason.
//! - A credit (balance in the client's favour) is refunded only when all
//!   the client's services have ended (R7.5).

use std::sync::Arc;

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::service::Status;
use ciel_domain::{Permission, StaffRole};
use ciel_engine::receivables::{self, Allocation, AllocationError, BalanceInput, Outstanding};
use ciel_engine::{Engine, Explanation};
use ciel_mail::{BillingMail, Mail};
use ciel_store::charges::{self, NewCharge};
use ciel_store::orgs::{self, Org};
use ciel_store::payments::{
    self, AllocationRow, NewPayment, NewRefund, Payment, Receivable, Refund,
};
use ciel_store::{Actor, Scope, StoreError, Tx, services};
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

/// Payment methods.
pub const METHODS: [&str; 3] = ["sepa_direct_debit", "transfer", "other"];
/// What to do with a payment's excess.
pub const EXCESS: [&str; 2] = ["keep_as_credit", "refund"];

/// A payment to record (from the API, the portal or an import line).
#[derive(Debug, Clone, Serialize)]
pub struct PaymentInput {
    pub amount: String,
    /// `YYYY-MM-DD`; default today in Europe/Paris.
    pub received_on: Option<String>,
    pub method: String,
    pub reference: String,
    pub excess: Option<String>,
    /// The invoices to settle, in order; empty: oldest due first.
    #[serde(default)]
    pub invoices: Vec<String>,
}

/// A recorded payment and what it did.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub payment: Payment,
    pub allocations: Vec<AllocationRow>,
    /// Invoices the payment finished paying.
    pub paid_invoices: Vec<String>,
    pub excess: Decimal,
    pub refund: Option<Refund>,
    /// Late interest and indemnities handed to billing (R2.6).
    pub charges: Vec<String>,
}

/// A client's balance and what it is made of.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    pub org_id: String,
    pub input: BalanceInput,
    /// Positive: owed by the client; negative: a credit in its favour.
    pub balance: Decimal,
    pub explanation: Explanation,
    /// Unpaid invoices with what remains on each, oldest due first.
    pub outstanding: Vec<OutstandingLine>,
    /// Some service has not ended: a credit is deducted, not refunded (R7.5).
    pub services_running: bool,
    /// What may be refunded now (R7.5): the credit when no service runs.
    pub refundable: Decimal,
}

/// An unpaid invoice.
#[derive(Debug, Clone, Serialize)]
pub struct OutstandingLine {
    pub invoice_id: String,
    pub number: String,
    pub due_at: Timestamp,
    pub total: Decimal,
    pub remaining: Decimal,
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

pub(crate) fn dec(what: &str, s: &str) -> ApiResult<Decimal> {
    s.parse::<Decimal>().map_err(|e| corrupt(what, e))
}

/// A refusal by a contract rule, naming the field.
pub(crate) fn refused(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_violated",
        "Refused by the contract",
    )
    .field(field)
    .detail(detail)
}

/// The engine of the terms version in force today.
pub(crate) fn engine(state: &AppState) -> ApiResult<Arc<Engine>> {
    let today = state.now().to_zoned(crate::services::zone()).date();
    let version = state
        .terms()
        .in_force_on(today)
        .map(|t| t.version.id.clone())
        .unwrap_or_else(|| ciel_terms::embedded().version.id.clone());
    crate::orders::engine(state, &version)
}

/// Staff who handle billing (payments, batches, dunning, disputes).
pub(crate) fn require_billing(p: &Principal) -> ApiResult<()> {
    require_staff(p, StaffRole::manages_clients).map(|_| ())
}

/// Staff, or a client user who sees invoices.
pub(crate) fn require_invoice_viewer(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.can(Permission::ViewInvoices) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "payments and balances are shown to users who see invoices",
        ))
    }
}

/// A day `YYYY-MM-DD`, not after today (Europe/Paris).
pub(crate) fn past_day(field: &str, s: &str, today: Date) -> ApiResult<Date> {
    let d: Date = s
        .trim()
        .parse()
        .map_err(|_| Problem::invalid(field, "expected a date YYYY-MM-DD"))?;
    if d > today {
        return Err(Problem::invalid(
            field,
            format!("{d} is after today ({today})"),
        ));
    }
    Ok(d)
}

/// The first instant of a day in the contract's zone.
pub(crate) fn start_of(d: Date) -> Timestamp {
    d.to_zoned(crate::services::zone())
        .and_then(|z| z.start_of_day())
        .map_or(Timestamp::MIN, |z| z.timestamp())
}

/// A payment's input checked for shape (no database read).
struct Checked {
    amount: Decimal,
    received_on: Date,
    method: String,
    reference: String,
    excess: Option<String>,
    invoices: Vec<String>,
}

fn check(input: &PaymentInput, today: Date) -> ApiResult<Checked> {
    let amount = Decimal::from_str_exact(input.amount.trim())
        .ok()
        .filter(|a| *a > Decimal::ZERO && a.round_dp(2) == *a)
        .ok_or_else(|| {
            Problem::invalid("amount", "a positive amount in euros, at most 2 decimals")
        })?;
    let received_on = match &input.received_on {
        Some(s) => past_day("received_on", s, today)?,
        None => today,
    };
    if !METHODS.contains(&input.method.as_str()) {
        return Err(Problem::invalid(
            "method",
            "one of sepa_direct_debit, transfer, other",
        ));
    }
    let reference = input.reference.trim();
    if reference.is_empty() || reference.chars().count() > 140 {
        return Err(Problem::invalid(
            "reference",
            "the bank's reference of the payment, 1 to 140 characters",
        ));
    }
    if let Some(e) = &input.excess
        && !EXCESS.contains(&e.as_str())
    {
        return Err(Problem::invalid("excess", "one of keep_as_credit, refund"));
    }
    Ok(Checked {
        amount,
        received_on,
        method: input.method.clone(),
        reference: reference.to_owned(),
        excess: input.excess.clone(),
        invoices: input.invoices.clone(),
    })
}

/// Marks `invoice_id` paid at `at` when payments and credit notes now cover
/// it (a credit note issued for what remained due settles the invoice).
pub(crate) async fn settle_if_covered(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &str,
    invoice_id: &str,
    at: Timestamp,
) -> ApiResult<bool> {
    let invoice = payments::receivable_of(&mut **tx, &Scope::Staff, invoice_id).await?;
    if invoice.paid_at.is_some() {
        return Ok(false);
    }
    let open = outstanding(tx, org_id).await?;
    if !open.iter().any(|(r, _)| r.id.as_str() == invoice_id) {
        payments::set_paid(tx, actor, invoice_id, Some(at)).await?;
        return Ok(true);
    }
    Ok(false)
}

/// The unpaid invoices of an organisation with what remains on each.
pub(crate) async fn outstanding(
    tx: &mut Tx,
    org_id: &str,
) -> ApiResult<Vec<(Receivable, Outstanding)>> {
    let all = payments::receivables(&mut **tx, &Scope::Staff, org_id).await?;
    let allocs = payments::allocations(&mut **tx, &Scope::Staff, org_id).await?;
    let mut out = Vec::new();
    for r in all.iter().cloned() {
        if r.kind != "invoice" || r.paid_at.is_some() {
            continue;
        }
        let settled: Decimal = allocs
            .iter()
            .filter(|a| a.invoice_id == r.id.as_str())
            .map(|a| dec("allocation", &a.amount))
            .sum::<ApiResult<Decimal>>()?;
        // A credit note correcting it reduces what the invoice still owes
        // (R2.11): a fully credited invoice is settled, not dunned.
        let credited: Decimal = all
            .iter()
            .filter(|c| {
                c.kind == "credit_note" && c.corrects_invoice_id.as_deref() == Some(r.id.as_str())
            })
            .map(|c| dec("credit note total", &c.total))
            .sum::<ApiResult<Decimal>>()?;
        let remaining = dec("invoice total", &r.total)? - settled - credited;
        if remaining > Decimal::ZERO {
            let o = Outstanding {
                id: r.id.to_string(),
                number: r.number.clone(),
                due_at: r.effective_due_at(),
                remaining,
            };
            out.push((r, o));
        }
    }
    Ok(out)
}

/// Records a payment of `org` inside `tx` (reads through it, so the lines
/// of an import see each other). Refusals write nothing: the caller drops
/// the transaction.
async fn apply_payment(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    org: &Org,
    c: Checked,
    imported_from: Option<&str>,
) -> ApiResult<Recorded> {
    let open = outstanding(tx, org.id.as_str()).await?;
    let list: Vec<Outstanding> = open.iter().map(|(_, o)| o.clone()).collect();
    let Allocation { lines, excess } = receivables::allocate(c.amount, &list, &c.invoices)
        .map_err(|e| match e {
            AllocationError::Amount => Problem::invalid("amount", e.to_string()),
            AllocationError::UnknownInvoice(_) => Problem::invalid("invoices", e.to_string()),
        })?;
    if excess > Decimal::ZERO && c.excess.is_none() {
        let due: Decimal = list.iter().map(|o| o.remaining).sum();
        return Err(refused(
            "excess",
            format!(
                "the payment of {} exceeds what it settles ({}) by {excess}: say what to do with the excess (keep_as_credit or refund)",
                c.amount,
                c.amount - excess
            ) + &format!("; due in total: {due}"),
        ));
    }
    let allocations: Vec<(String, String)> = lines
        .iter()
        .map(|(id, a)| (id.clone(), a.to_string()))
        .collect();
    let payment = payments::record(
        tx,
        actor,
        NewPayment {
            org_id: org.id.clone(),
            amount: c.amount.to_string(),
            received_on: c.received_on.to_string(),
            method: c.method,
            reference: c.reference.clone(),
            excess: (excess > Decimal::ZERO).then(|| c.excess.clone()).flatten(),
            imported_from: imported_from.map(str::to_owned),
        },
        &allocations,
    )
    .await?;
    let paid_at = start_of(c.received_on);
    let eng = engine(state)?;
    let mut paid_invoices = Vec::new();
    let mut charges_out = Vec::new();
    for (id, part) in &lines {
        let Some((r, o)) = open.iter().find(|(r, _)| r.id.as_str() == id) else {
            continue;
        };
        if *part < o.remaining {
            continue;
        }
        payments::set_paid(tx, actor, id, Some(paid_at)).await?;
        paid_invoices.push(id.clone());
        charges_out.extend(hand_over_late_charges(tx, actor, &eng, r, c.received_on).await?);
    }
    let refund = if excess > Decimal::ZERO && payment.excess.as_deref() == Some("refund") {
        Some(
            payments::record_refund(
                tx,
                actor,
                NewRefund {
                    org_id: org.id.clone(),
                    amount: excess.to_string(),
                    refunded_on: c.received_on.to_string(),
                    reason: "payment_excess",
                    payment_id: Some(payment.id.to_string()),
                    reference: c.reference,
                },
            )
            .await?,
        )
    } else {
        None
    };
    let allocations = allocations
        .into_iter()
        .map(|(invoice_id, amount)| AllocationRow {
            payment_id: payment.id.to_string(),
            invoice_id,
            amount,
        })
        .collect();
    Ok(Recorded {
        payment,
        allocations,
        paid_invoices,
        excess,
        refund,
        charges: charges_out,
    })
}

/// R2.6: an invoice paid after its due date owes its late interest to the
/// payment day and the recovery indemnity, handed to the next invoice once
/// (keys `late_interest`, `recovery_indemnity` of the invoice).
async fn hand_over_late_charges(
    tx: &mut Tx,
    actor: &Actor,
    eng: &Engine,
    r: &Receivable,
    paid_on: Date,
) -> ApiResult<Vec<String>> {
    let due = eng.local_day(r.due_at);
    if paid_on <= due {
        return Ok(Vec::new());
    }
    let total = dec("invoice total", &r.total)?;
    let li = eng
        .late_interest(total, due, paid_on)
        .map_err(|e| corrupt("late interest", e))?;
    let explanation =
        serde_json::to_string(&li.explanation).map_err(|e| corrupt("explanation", e))?;
    let mut out = Vec::new();
    let parts = [
        (
            "late_interest",
            li.value.interest,
            format!(
                "Intérêts de retard, facture {} ({} j) / Late interest, invoice {}",
                r.number, li.value.days_late, r.number
            ),
        ),
        (
            "recovery_indemnity",
            li.value.indemnity,
            format!(
                "Indemnité forfaitaire de recouvrement, facture {} / Recovery indemnity, invoice {}",
                r.number, r.number
            ),
        ),
    ];
    for (key, amount, label) in parts {
        if amount <= Decimal::ZERO {
            continue;
        }
        let new = charges::hand_over(
            tx,
            actor,
            NewCharge {
                org_id: r.org_id.clone(),
                source_kind: "invoice",
                source_id: r.id.to_string(),
                charge_key: key.to_owned(),
                rule: "R2.6".into(),
                label,
                amount: amount.to_string(),
                explanation_json: explanation.clone(),
                occurred_at: start_of(paid_on),
            },
        )
        .await?;
        if new {
            out.push(key.to_owned());
        }
    }
    Ok(out)
}

/// Idempotency of payment POSTs: the scope of a principal's keys.
pub fn idem_scope(p: &Principal) -> String {
    format!("payments:{}", p.user.id)
}

/// Staff record a payment of an organisation (API and portal). With an
/// `Idempotency-Key`, a retry gets the first answer and writes nothing.
pub async fn record(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: PaymentInput,
    idem_key: Option<&str>,
) -> ApiResult<(StatusCode, serde_json::Value)> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_billing(p)?;
    let scope = idem_scope(p);
    let body_hash = crate::episodes::body_hash(&(org_id, &input));
    if let Some(key) = idem_key {
        crate::episodes::check_idempotency_key(key)?;
        if let Some(first) = ciel_store::idempotency::find(state.store().db(), &scope, key).await? {
            let r = crate::episodes::replay(first, &body_hash)?;
            return Ok((r.status, r.body));
        }
    }
    let now = state.now();
    let today = now.to_zoned(crate::services::zone()).date();
    let checked = check(&input, today)?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let rec = apply_payment(state, &mut tx, &actor, &org, checked, None).await?;
    let body = serde_json::to_value(&rec).map_err(|e| corrupt("payment", e))?;
    let answer = match idem_key {
        Some(key) => {
            let r =
                crate::episodes::push_answer(tx, &scope, key, body_hash, false, body, now).await?;
            (r.status, r.body)
        }
        None => {
            tx.commit().await.map_err(StoreError::from)?;
            (StatusCode::CREATED, body)
        }
    };
    reopen_after_payment(state, org_id, now).await;
    Ok(answer)
}

/// R3.4: the payment is recorded; reopening what was suspended for
/// non-payment follows. A failure here is logged, not answered: the payment
/// stands, and the daily dunning pass reopens what this could not.
async fn reopen_after_payment(state: &AppState, org_id: &str, now: Timestamp) {
    if let Err(e) = crate::dunning::reopen_paid_up(state, org_id, now).await {
        tracing::warn!(org_id, code = %e.code, "reopening after a payment failed; the daily pass retries");
    }
}

/// A rejection to record.
#[derive(Debug, Clone, Serialize)]
pub struct RejectionInput {
    pub reason_code: String,
    /// `YYYY-MM-DD`; default today.
    pub rejected_on: Option<String>,
}

fn check_rejection(input: &RejectionInput, today: Date) -> ApiResult<(String, Date)> {
    let code = input.reason_code.trim();
    if code.is_empty()
        || code.len() > 35
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Problem::invalid(
            "reason_code",
            "the bank's reason code (ISO 20022, e.g. AM04, MS02), 1 to 35 letters or digits",
        ));
    }
    let day = match &input.rejected_on {
        Some(s) => past_day("rejected_on", s, today)?,
        None => today,
    };
    Ok((code.to_owned(), day))
}

/// Who is told about an invoice: the client's Administrators and the users
/// who see invoices.
pub(crate) async fn invoice_readers(
    tx: &mut Tx,
    org_id: &str,
) -> ApiResult<Vec<ciel_store::users::User>> {
    crate::services::members(tx, org_id, |u| {
        u.is_org_admin || u.permissions.contains(Permission::ViewInvoices)
    })
    .await
}

/// Sends a billing notice to the client's invoice readers, in the
/// transaction of the change (R13: kept as evidence).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify_billing(
    state: &AppState,
    tx: &mut Tx,
    org: &Org,
    kind: BillingMail,
    invoice: &str,
    amount: &str,
    day: &str,
    days: u32,
    text: &str,
) -> ApiResult<usize> {
    let readers = invoice_readers(tx, org.id.as_str()).await?;
    for u in &readers {
        let mail = Mail::Billing {
            kind,
            name: u.name.clone(),
            org_name: org.name.clone(),
            invoice: invoice.to_owned(),
            amount: amount.to_owned(),
            day: day.to_owned(),
            days,
            text: text.to_owned(),
            link: state.link("/espace-client/solde"),
        };
        crate::accounts::send_mail(state, tx, u, mail).await?;
    }
    Ok(readers.len())
}

/// Applies a rejection inside `tx`: the payment no longer counts, its
/// invoices are unpaid again, and the client has the R3.3 days to
/// regularise (emailed).
async fn apply_rejection(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    payment: &Payment,
    code: &str,
    day: Date,
    imported_from: Option<&str>,
) -> ApiResult<Vec<AllocationRow>> {
    if payment.rejection.is_some() {
        return Err(Problem::conflict(
            "payment",
            "this payment is already rejected",
        ));
    }
    let removed = payments::reject(tx, actor, payment, code, &day.to_string(), imported_from)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                Problem::conflict("payment", "this payment is already rejected")
            }
            other => other.into(),
        })?;
    let mut numbers = Vec::new();
    for a in &removed {
        let r = payments::receivable_of(&mut **tx, &Scope::Staff, &a.invoice_id).await?;
        if r.paid_at.is_some() {
            payments::set_paid(tx, actor, &a.invoice_id, None).await?;
        }
        numbers.push(r.number);
    }
    let org = orgs::get(&mut **tx, &Scope::Staff, payment.org_id.as_str()).await?;
    let days = engine(state)?
        .terms()
        .termination
        .non_payment_regularise_days
        .value;
    let invoice = if numbers.is_empty() {
        payment.reference.clone()
    } else {
        numbers.join(", ")
    };
    notify_billing(
        state,
        tx,
        &org,
        BillingMail::DebitRejected,
        &invoice,
        &payment.amount,
        &day.to_string(),
        days,
        code,
    )
    .await?;
    Ok(removed)
}

/// Staff record the bank's rejection of a payment (R3.3).
pub async fn reject(
    state: &AppState,
    p: &Principal,
    payment_id: &str,
    input: RejectionInput,
) -> ApiResult<(Payment, Vec<AllocationRow>)> {
    let payment = payments::get(state.store().db(), &p.scope, payment_id).await?;
    require_billing(p)?;
    let now = state.now();
    let today = now.to_zoned(crate::services::zone()).date();
    let (code, day) = check_rejection(&input, today)?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let removed = apply_rejection(state, &mut tx, &actor, &payment, &code, day, None).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let payment = payments::get(state.store().db(), &p.scope, payment_id).await?;
    Ok((payment, removed))
}

/// The columns of an import file, in order.
pub const IMPORT_HEADER: &str = "type,org_id,amount,date,method,reference,excess,reason_code";

/// One parsed line of an import.
#[derive(Debug)]
enum Line {
    Payment {
        org_id: String,
        input: PaymentInput,
    },
    Rejection {
        reference: String,
        input: RejectionInput,
    },
}

fn line_error(no: usize, e: &Problem) -> Problem {
    let field = e.field.clone().unwrap_or_default();
    let why = e.detail.clone().unwrap_or_else(|| e.title.clone());
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "import_refused",
        "Import refused",
    )
    .field("content")
    .detail(format!(
        "line {no}: {}{why}; nothing was imported",
        if field.is_empty() {
            String::new()
        } else {
            format!("{field}: ")
        }
    ))
}

fn parse_import(content: &str, today: Date) -> ApiResult<Vec<(usize, Line)>> {
    let mut lines = content
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let header = lines.next().map(|(_, h)| h.trim()).unwrap_or_default();
    if header != IMPORT_HEADER {
        return Err(line_error(
            1,
            &Problem::invalid("header", format!("the first line must be {IMPORT_HEADER}")),
        ));
    }
    let mut out = Vec::new();
    for (no, raw) in lines {
        if raw.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = raw.split(',').map(str::trim).collect();
        if cols.len() != 8 {
            return Err(line_error(
                no,
                &Problem::invalid("line", format!("expected 8 columns, found {}", cols.len())),
            ));
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let line = match cols[0] {
            "payment" => {
                let input = PaymentInput {
                    amount: cols[2].to_owned(),
                    received_on: opt(cols[3]),
                    method: cols[4].to_owned(),
                    reference: cols[5].to_owned(),
                    excess: opt(cols[6]),
                    invoices: Vec::new(),
                };
                check(&input, today).map_err(|e| line_error(no, &e))?;
                if cols[1].is_empty() {
                    return Err(line_error(no, &Problem::invalid("org_id", "required")));
                }
                Line::Payment {
                    org_id: cols[1].to_owned(),
                    input,
                }
            }
            "rejection" => {
                let input = RejectionInput {
                    reason_code: cols[7].to_owned(),
                    rejected_on: opt(cols[3]),
                };
                check_rejection(&input, today).map_err(|e| line_error(no, &e))?;
                if cols[5].is_empty() {
                    return Err(line_error(
                        no,
                        &Problem::invalid("reference", "the rejected payment's reference"),
                    ));
                }
                Line::Rejection {
                    reference: cols[5].to_owned(),
                    input,
                }
            }
            other => {
                return Err(line_error(
                    no,
                    &Problem::invalid("type", format!("{other:?}: expected payment or rejection")),
                ));
            }
        };
        out.push((no, line));
    }
    if out.is_empty() {
        return Err(line_error(
            1,
            &Problem::invalid("content", "no line to import"),
        ));
    }
    Ok(out)
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub file_name: String,
    pub payments: Vec<Recorded>,
    pub rejections: Vec<String>,
}

/// Staff import a bank file of payments and rejections: every line is
/// applied in one transaction; the first bad line refuses the whole file.
pub async fn import(
    state: &AppState,
    p: &Principal,
    file_name: &str,
    content: &str,
) -> ApiResult<Imported> {
    require_billing(p)?;
    let file_name = file_name.trim();
    if file_name.is_empty() || file_name.chars().count() > 200 {
        return Err(Problem::invalid(
            "file_name",
            "the file's name, 1 to 200 characters",
        ));
    }
    let now = state.now();
    let today = now.to_zoned(crate::services::zone()).date();
    let lines = parse_import(content, today)?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let mut out = Imported {
        file_name: file_name.to_owned(),
        payments: Vec::new(),
        rejections: Vec::new(),
    };
    for (no, line) in lines {
        match line {
            Line::Payment { org_id, input } => {
                let org = match orgs::get(&mut *tx, &Scope::Staff, &org_id).await {
                    Ok(o) => o,
                    Err(StoreError::NotFound) => {
                        return Err(line_error(
                            no,
                            &Problem::invalid("org_id", format!("{org_id}: no such organisation")),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                };
                let checked = check(&input, today).map_err(|e| line_error(no, &e))?;
                let rec = apply_payment(state, &mut tx, &actor, &org, checked, Some(file_name))
                    .await
                    .map_err(|e| line_error(no, &e))?;
                out.payments.push(rec);
            }
            Line::Rejection { reference, input } => {
                let found = payments::by_reference(&mut *tx, &Scope::Staff, &reference).await?;
                let [payment] = found.as_slice() else {
                    return Err(line_error(
                        no,
                        &Problem::invalid(
                            "reference",
                            format!(
                                "{reference}: {} payments not rejected carry this reference (expected one)",
                                found.len()
                            ),
                        ),
                    ));
                };
                let (code, day) = check_rejection(&input, today).map_err(|e| line_error(no, &e))?;
                apply_rejection(state, &mut tx, &actor, payment, &code, day, Some(file_name))
                    .await
                    .map_err(|e| line_error(no, &e))?;
                out.rejections.push(payment.id.to_string());
            }
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    let mut paying: Vec<String> = out
        .payments
        .iter()
        .map(|r| r.payment.org_id.to_string())
        .collect();
    paying.sort();
    paying.dedup();
    for org in paying {
        reopen_after_payment(state, &org, state.now()).await;
    }
    Ok(out)
}

/// The payments of an organisation (staff; its users who see invoices).
pub async fn list(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Vec<Payment>> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_invoice_viewer(p)?;
    Ok(payments::list(state.store().db(), &p.scope, org.id.as_str()).await?)
}

/// Every service of an organisation (all pages).
pub(crate) async fn org_services(
    state: &AppState,
    org_id: &str,
) -> ApiResult<Vec<services::ServiceRow>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = services::list(
            state.store().db(),
            &Scope::Staff,
            org_id,
            cursor.as_deref(),
            200,
        )
        .await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Whether some service of the organisation has not ended at `now`.
async fn services_running(state: &AppState, org_id: &str, now: Timestamp) -> ApiResult<bool> {
    for row in org_services(state, org_id).await? {
        if crate::services::state_of(&row)?.status(now) != Status::Ended {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn compute_balance(state: &AppState, org: &Org) -> ApiResult<Balance> {
    let db = state.store().db();
    let now = state.now();
    let mut input = BalanceInput::default();
    for r in payments::receivables(db, &Scope::Staff, org.id.as_str()).await? {
        let t = dec("invoice total", &r.total)?;
        match r.kind.as_str() {
            "credit_note" => input.credit_notes += t,
            _ => input.invoices += t,
        }
    }
    for pay in payments::list(db, &Scope::Staff, org.id.as_str()).await? {
        if pay.rejection.is_none() {
            input.payments += dec("payment", &pay.amount)?;
        }
    }
    for r in payments::refunds(db, &Scope::Staff, org.id.as_str()).await? {
        input.refunds += dec("refund", &r.amount)?;
    }
    let b = receivables::balance(&input);
    let mut tx = state.store().begin().await?;
    let open = outstanding(&mut tx, org.id.as_str()).await?;
    drop(tx);
    let mut lines: Vec<OutstandingLine> = open
        .iter()
        .map(|(r, o)| {
            Ok(OutstandingLine {
                invoice_id: o.id.clone(),
                number: o.number.clone(),
                due_at: o.due_at,
                total: dec("invoice total", &r.total)?,
                remaining: o.remaining,
            })
        })
        .collect::<ApiResult<_>>()?;
    lines.sort_by(|a, b| (a.due_at, &a.number).cmp(&(b.due_at, &b.number)));
    let running = services_running(state, org.id.as_str(), now).await?;
    let refundable = if running || b.value >= Decimal::ZERO {
        Decimal::ZERO
    } else {
        -b.value
    };
    Ok(Balance {
        org_id: org.id.to_string(),
        input,
        balance: b.value,
        explanation: b.explanation,
        outstanding: lines,
        services_running: running,
        refundable,
    })
}

/// A client's balance (staff; its users who see invoices).
pub async fn balance(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Balance> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_invoice_viewer(p)?;
    compute_balance(state, &org).await
}

/// The refunds of an organisation.
pub async fn refunds(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Vec<Refund>> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_invoice_viewer(p)?;
    Ok(payments::refunds(state.store().db(), &p.scope, org.id.as_str()).await?)
}

/// A credit refund to record.
#[derive(Debug, Clone)]
pub struct RefundInput {
    pub amount: String,
    pub refunded_on: Option<String>,
    pub reference: String,
}

/// Staff state that they refunded a client's credit (R7.5): only when the
/// balance is in the client's favour, within it, and no service runs.
pub async fn refund_credit(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: RefundInput,
) -> ApiResult<Refund> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_billing(p)?;
    let now = state.now();
    let today = now.to_zoned(crate::services::zone()).date();
    let amount = Decimal::from_str_exact(input.amount.trim())
        .ok()
        .filter(|a| *a > Decimal::ZERO && a.round_dp(2) == *a)
        .ok_or_else(|| {
            Problem::invalid("amount", "a positive amount in euros, at most 2 decimals")
        })?;
    let day = match &input.refunded_on {
        Some(s) => past_day("refunded_on", s, today)?,
        None => today,
    };
    let reference = input.reference.trim();
    if reference.is_empty() || reference.chars().count() > 140 {
        return Err(Problem::invalid(
            "reference",
            "the transfer's reference, 1 to 140 characters",
        ));
    }
    let b = compute_balance(state, &org).await?;
    if b.services_running {
        return Err(refused(
            "amount",
            "R7.5 (A2 II.C): a credit is deducted from the next invoice while a service runs; it is refunded only once all the client's services have ended",
        ));
    }
    if amount > b.refundable {
        return Err(refused(
            "amount",
            format!(
                "R7.5 (A2 II.C): the credit in the client's favour is {}",
                b.refundable
            ),
        ));
    }
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let r = payments::record_refund(
        &mut tx,
        &actor,
        NewRefund {
            org_id: org.id.clone(),
            amount: amount.to_string(),
            refunded_on: day.to_string(),
            reason: "credit_after_services_ended",
            payment_id: None,
            reference: reference.to_owned(),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        jiff::civil::date(2026, 7, 1)
    }

    #[test]
    fn import_lines_are_checked_with_their_number() {
        let ok = format!(
            "{IMPORT_HEADER}\npayment,org_1,120.00,2026-06-30,transfer,VIR-1,,\nrejection,,,2026-07-01,,VIR-1,,AM04\n"
        );
        assert_eq!(parse_import(&ok, today()).unwrap().len(), 2);
        let cases = [
            (
                "payment,org_1,-1,2026-06-30,transfer,VIR-1,,",
                "line 2: amount",
            ),
            (
                "payment,org_1,1.001,2026-06-30,transfer,VIR-1,,",
                "line 2: amount",
            ),
            (
                "payment,org_1,10,2026-07-02,transfer,VIR-1,,",
                "line 2: received_on",
            ),
            ("payment,org_1,10,2026-06-30,cash,VIR-1,,", "line 2: method"),
            (
                "payment,org_1,10,2026-06-30,transfer,VIR-1,burn,",
                "line 2: excess",
            ),
            ("payment,,10,2026-06-30,transfer,VIR-1,,", "line 2: org_id"),
            ("rejection,,,2026-06-30,,VIR-1,,", "line 2: reason_code"),
            ("rejection,,,2026-06-30,,,,AM04", "line 2: reference"),
            ("refund,,,,,,,", "line 2: type"),
            ("payment,org_1,10", "line 2: line"),
        ];
        for (line, want) in cases {
            let e = parse_import(&format!("{IMPORT_HEADER}\n{line}\n"), today()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("content"));
            let detail = e.detail.unwrap_or_default();
            assert!(detail.starts_with(want), "{line}: {detail}");
        }
        let e = parse_import("date,amount\n", today()).unwrap_err();
        assert!(e.detail.unwrap_or_default().starts_with("line 1"));
    }
}
