//! The monthly billing run (R2.4): one item per client, each invoice
//! written in its own transaction with its lines, its Factur-X PDF, the
//! charges it bills and its e-mail, so a run interrupted by a crash resumes
//! with the items left (the job `billing.run`, or `ciel billing run` again)
//! and a re-run writes nothing twice (one invoice per client and month).
//!
//! PDF rendering dominates the cost, so a chunk of clients is prepared
//! outside any transaction: plans are computed, documents validated, then
//! rendered on every core with the numbers they will take (the counter is
//! read without a lock); each client's transaction then takes its number
//! under the counter's lock and re-renders only if another issuer (a credit
//! note) took that number meanwhile. Numbers stay gapless (R2.11).

use std::collections::HashMap;
use std::sync::Arc;

use ciel_documents::facturx::InvoiceType;
use ciel_engine::Engine;
use ciel_engine::billing::LineKind;
use ciel_store::billing_runs::{self, Item, Progress, Run};
use ciel_store::invoices::{self, DocLine, NewDocument, Rendering};
use ciel_store::{Actor, Scope, StoreError, charges, clients, jobs, orgs, outbox, services, users};
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;

use super::document::{self, Buyer, Header};
use super::plan;
use super::{Period, corrupt};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Kind of the job that processes a run's pending items.
pub const JOB: &str = "billing.run";

/// Clients prepared and rendered together.
pub const CHUNK: i64 = 64;

/// Closes the usage of M-1 (bandwidth, power, PRA days, R2.8-R2.10, R11.5)
/// before the run lists the clients to bill, so that M's invoice holds M-1's
/// usage in arrears (R2.4 (d)) even when the run starts before the 1st's
/// `usage.close` job. Idempotent: a month closed already hands nothing over.
pub async fn close_usage_before_run(state: &AppState, period: &Period) -> ApiResult<()> {
    let previous = period
        .first_day
        .checked_sub(jiff::ToSpan::months(1))
        .map_err(|_| Problem::invalid("period", "out of range"))?;
    crate::usage::close::close_month(state, previous.year(), previous.month()).await?;
    Ok(())
}

/// Enqueues the job that processes `run_id`.
pub async fn enqueue(tx: &mut ciel_store::Tx, run_id: &str, now: Timestamp) -> ApiResult<()> {
    jobs::enqueue(
        &mut **tx,
        jobs::NewJob {
            kind: JOB,
            payload: serde_json::json!({ "run": run_id }),
            run_at: now,
            // One job per start or resume (the injected clock may stand still).
            dedup_key: Some(format!(
                "{JOB}:{run_id}:{}",
                ciel_store::new_id("start", now)
            )),
            max_attempts: 10,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Starts the run of `period` (or returns the one running or done, putting
/// its failed items back to pending: a re-run after the profiles were
/// fixed); returns the run and whether it was created. The items are
/// processed by the job, or by the caller with [`process`].
pub async fn start(
    state: &AppState,
    actor: &Actor,
    period: &Period,
    enqueue_job: bool,
) -> ApiResult<(Run, bool)> {
    let today = actor.recorded_at.to_zoned(crate::sla::zone()).date();
    if period.issue_date > today {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "period_in_future",
            "Period in the future",
        )
        .field("period")
        .detail(format!(
            "R2.4: the invoice of {} is issued on {}, after today ({today})",
            period.label, period.issue_date
        )));
    }
    let db = state.store().db();
    if let Some(run) = billing_runs::of_period(db, &period.label).await? {
        let mut tx = state.store().begin().await?;
        let n = billing_runs::retry_failed(&mut tx, actor, &run).await?;
        if (n > 0 || run.state == "running") && enqueue_job {
            enqueue(&mut tx, run.id.as_str(), actor.recorded_at).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        let run = billing_runs::get(state.store().db(), run.id.as_str()).await?;
        return Ok((run, false));
    }
    close_usage_before_run(state, period).await?;
    let mut tx = state.store().begin().await?;
    let run = billing_runs::create(&mut tx, actor, &period.label).await?;
    if enqueue_job {
        enqueue(&mut tx, run.id.as_str(), actor.recorded_at).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((run, true))
}

/// A client's invoice ready to be numbered.
struct Ready {
    item: Item,
    doc: NewDocument,
    header: HeaderData,
    email: String,
    org_name: String,
}

/// The owned parts of a [`Header`].
struct HeaderData {
    issue_date: Date,
    due_date: Date,
    buyer: Buyer,
    order_reference: Option<String>,
    period: (Date, Date),
    late_penalty_rate: String,
}

enum Prepared {
    Ready(Box<Ready>),
    Empty(Item),
    Failed(Item, String),
    /// The client already has its invoice of the month (written by an
    /// earlier run of the period).
    Done(Item, String),
}

fn header<'a>(h: &'a HeaderData, number: &'a str, state: &'a AppState) -> Header<'a> {
    Header {
        number,
        kind: InvoiceType::Invoice,
        issue_date: h.issue_date,
        due_date: h.due_date,
        seller: &state.config().seller,
        buyer: &h.buyer,
        order_reference: h.order_reference.clone(),
        period: Some(h.period),
        late_penalty_rate: h.late_penalty_rate.clone(),
    }
}

/// The engine of a terms version (cached), or of the version in force on
/// the issue date for a client with charges only.
fn engine_for(state: &AppState, version: Option<String>, on: Date) -> ApiResult<Arc<Engine>> {
    let version = match version {
        Some(v) => v,
        None => crate::orders::registry(state)
            .in_force_on(on)
            .map(|t| t.version.id.clone())
            .unwrap_or_else(|| ciel_terms::embedded().version.id.clone()),
    };
    crate::orders::engine(state, &version)
}

/// The due date (terms `billing.payment_due_days`, R2.7).
pub fn due_date(engine: &Engine, issue: Date) -> ApiResult<Date> {
    let days = i64::from(engine.terms().billing.payment_due_days.value);
    issue
        .checked_add(jiff::Span::new().days(days))
        .map_err(corrupt)
}

/// The language of a client's documents: that of its first Administrator,
/// French by default.
pub async fn client_lang(state: &AppState, org_id: &str) -> ApiResult<String> {
    let page = users::list(state.store().db(), &Scope::Staff, org_id, None, 50).await?;
    Ok(page
        .items
        .iter()
        .find(|u| u.is_org_admin)
        .map(|u| u.lang.code().to_owned())
        .unwrap_or_else(|| "fr".into()))
}

/// An amount written with its two decimals, as on the document.
pub fn cents(d: Decimal) -> String {
    let mut d = d.round_dp(2);
    d.rescale(2);
    d.to_string()
}

/// Reads a client's facts and computes its invoice (no write).
async fn prepare(state: &AppState, period: &Period, item: Item) -> ApiResult<Prepared> {
    let db = state.store().db();
    let org_id = item.org_id.to_string();
    let existing = invoices::list(
        db,
        &Scope::Staff,
        &invoices::Filter {
            org_id: Some(org_id.clone()),
            period: Some(period.label.clone()),
            kind: Some("invoice".into()),
            ..Default::default()
        },
        None,
        1,
    )
    .await?;
    if let Some(d) = existing.items.first() {
        return Ok(Prepared::Done(item, d.id.to_string()));
    }
    let org = orgs::get(db, &Scope::Staff, &org_id).await?;
    let profile = clients::get(db, &Scope::Staff, &org_id).await?;
    let rows = services::billable_of_org(db, &org_id).await?;
    let pending = charges::pending(db, &Scope::Staff, &org_id).await?;
    let engine = engine_for(state, plan::governing_version(&rows), period.issue_date)?;
    let buyer = match document::buyer(&org, profile.as_ref()) {
        Ok(b) => b,
        Err(e) => return Ok(Prepared::Failed(item, e)),
    };
    let setup_billed = invoices::setup_billed(db, &org_id).await?;
    let mut billed = Vec::with_capacity(rows.len());
    let mut offers = HashMap::new();
    let mut order_reference = None;
    for (row, setup) in &rows {
        // R9.2: a terminated immutable backup is billed until its last
        // immutable backup's conservation ends (from the job results).
        let immutable_last_day = if row.kind == "backup" {
            crate::backup::immutable_last_day(state, row).await?
        } else {
            None
        };
        match plan::service_billing(
            row,
            setup,
            setup_billed.contains(row.id.as_str()),
            buyer.vat_percent,
            immutable_last_day,
        ) {
            Ok(s) => {
                offers.insert(s.billed.id.clone(), s.offer.clone());
                order_reference.get_or_insert_with(|| s.order_id.clone());
                billed.push(s.billed);
            }
            Err(e) => return Ok(Prepared::Failed(item, e)),
        }
    }
    let tz = crate::sla::zone();
    let mut pend = Vec::with_capacity(pending.len());
    for c in &pending {
        match plan::pending_charge(c, buyer.vat_percent, &tz) {
            Ok(p) => pend.push(p),
            Err(e) => return Ok(Prepared::Failed(item, e)),
        }
    }
    let planned = match plan::plan(&engine, period.year, period.month, &billed, &pend) {
        Ok(p) => p,
        Err(e) => return Ok(Prepared::Failed(item, e)),
    };
    let p = &planned.plan.value;
    if p.is_empty() {
        return Ok(Prepared::Empty(item));
    }
    let charge_rows: HashMap<&str, &charges::Charge> =
        pending.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut lines = Vec::with_capacity(p.lines.len());
    let mut charge_ids = Vec::new();
    for (i, l) in p.lines.iter().enumerate() {
        let (source_kind, offer) = if l.kind == LineKind::Charge {
            charge_ids.push(l.source_id.clone());
            ("charge", None)
        } else {
            ("service", offers.get(&l.source_id).cloned())
        };
        let mut explanation = l.explanation.clone();
        // A charge carries the explanation of the rules that produced it
        // (e.g. the SLA statement of a credit, R7.5): billing adds its own.
        if let Some(c) = charge_rows.get(l.source_id.as_str())
            && let Ok(origin) =
                serde_json::from_str::<ciel_engine::Explanation>(&c.explanation_json)
        {
            let mut full = origin;
            full.steps.extend(explanation.steps);
            explanation = full;
        }
        let label = match charge_rows.get(l.source_id.as_str()) {
            Some(c) => format!("{} [{} {}]", l.label, c.source_kind, c.source_id),
            None => l.label.clone(),
        };
        lines.push(DocLine {
            position: i as i64 + 1,
            kind: serde_json::to_value(l.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            source_kind: source_kind.into(),
            source_id: l.source_id.clone(),
            offer,
            label,
            period_start: l.period.map(|p| p.0.to_string()),
            period_end: l.period.map(|p| p.1.to_string()),
            quantity: l.quantity.to_string(),
            unit_price: l.unit_price.to_string(),
            amount: cents(l.amount),
            vat_percent: l.vat_percent.normalize().to_string(),
            rule: l.rule.clone(),
            explanation_json: serde_json::to_string(&explanation).map_err(corrupt)?,
        });
    }
    let due = due_date(&engine, p.issue_date)?;
    let lang = client_lang(state, &org_id).await?;
    let zone = crate::sla::zone();
    let at = |d: Date| -> ApiResult<Timestamp> {
        Ok(d.to_zoned(zone.clone()).map_err(corrupt)?.timestamp())
    };
    let header = HeaderData {
        issue_date: p.issue_date,
        due_date: due,
        buyer,
        order_reference,
        period: (period.first_day, period.first_day.last_of_month()),
        late_penalty_rate: document::late_penalty_rate(&engine, p.issue_date),
    };
    let doc = NewDocument {
        org_id: org.id.clone(),
        kind: "invoice",
        corrects_invoice_id: None,
        period: Some(period.label.clone()),
        run_id: Some(item.run_id.clone()),
        lang,
        issued_at: at(p.issue_date)?,
        due_at: at(due)?,
        total_excl_vat: cents(p.total_excl_vat),
        total_vat: cents(p.total_vat),
        total: cents(p.total_incl_vat),
        reason: None,
        parties_json: String::new(),
        lines,
        charge_ids,
    };
    let email = profile.map(|p| p.billing_email).unwrap_or_default();
    Ok(Prepared::Ready(Box::new(Ready {
        item,
        doc,
        header,
        email,
        org_name: org.name,
    })))
}

/// Renders every `(invoice, lang)` on all cores, in order.
async fn render_all(
    jobs: Vec<(ciel_documents::facturx::Invoice, String)>,
) -> Vec<Result<Rendering, String>> {
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(1);
        let size = jobs.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(size)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|(inv, lang)| document::render(inv, lang))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join()
                        .unwrap_or_else(|_| vec![Err("rendering panicked".into())])
                })
                .collect()
        })
    })
    .await
    .unwrap_or_default()
}

/// Records an item's outcome without an invoice, in its own transaction.
async fn finish_without_invoice(
    tx: &mut ciel_store::Tx,
    actor: &Actor,
    item: &Item,
    outcome: &'static str,
    invoice_id: Option<&str>,
    error: Option<&str>,
) -> ApiResult<()> {
    billing_runs::finish_item(tx, actor, item, outcome, invoice_id, error).await?;
    Ok(())
}

/// What the e-mail of a document says besides the document itself.
pub struct MailParts<'a> {
    /// The client's billing address.
    pub to: &'a str,
    pub org_name: &'a str,
    /// The SEPA pre-notification of an invoice (R2.7).
    pub prenotification: &'a str,
    /// What a credit note corrects.
    pub corrects: &'a str,
}

/// Queues the document's e-mail with its PDF to the client's billing
/// address, in the document's transaction (the PDF is attached by
/// reference to the stored document, so it is written once).
pub async fn queue_mail(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    doc: &invoices::Document,
    parts: MailParts<'_>,
) -> ApiResult<()> {
    let MailParts {
        to,
        org_name,
        prenotification,
        corrects,
    } = parts;
    if to.trim().is_empty() {
        return Ok(());
    }
    let lang = ciel_domain::Lang::parse(&doc.lang).unwrap_or(ciel_domain::Lang::Fr);
    let mail = ciel_mail::Mail::Invoice {
        org_name: org_name.to_owned(),
        number: doc.number.clone(),
        credit_note: doc.kind == "credit_note",
        issue_date: doc
            .issued_at
            .to_zoned(crate::sla::zone())
            .date()
            .to_string(),
        total: doc.total.clone(),
        prenotification: prenotification.to_owned(),
        corrects: corrects.to_owned(),
        link: state.link(&format!("/espace-client/factures/{}", doc.id)),
    };
    let rendered = ciel_mail::render(&mail, lang);
    let now = state.now();
    let id = outbox::enqueue(
        tx,
        outbox::NewMessage {
            org_id: Some(doc.org_id.clone()),
            template: mail.template(),
            lang,
            to_addr: to.to_owned(),
            subject: rendered.subject,
            body_text: rendered.text,
        },
        now,
        state.mail_domain(),
    )
    .await?;
    outbox::attach_invoice_pdf(
        tx,
        &id,
        0,
        &format!("{}.pdf", doc.number.replace('/', "-")),
        &doc.id,
        now,
    )
    .await?;
    Ok(())
}

/// Writes one ready invoice in its transaction: number under the lock,
/// re-render if the predicted number was taken, invoice, item, e-mail.
async fn write(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    actor: &Actor,
    r: &mut Ready,
    predicted: &str,
    rendering: Option<Rendering>,
) -> ApiResult<Result<(), String>> {
    let n = invoices::take_number(tx, invoices::SEQUENCE).await?;
    let number = document::number(r.header.issue_date.year(), n);
    let inv = match document::facturx(&header(&r.header, &number, state), &r.doc.lines) {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    let rendering = match rendering {
        Some(x) if number == predicted => x,
        _ => match document::render(&inv, &r.doc.lang) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        },
    };
    r.doc.parties_json = document::parties_json(&inv);
    let doc = match invoices::issue(tx, actor, &number, &r.doc, &rendering).await {
        Ok(d) => d,
        Err(StoreError::Conflict(what)) => {
            return Ok(Err(format!(
                "conflict on {what}: another run billed it meanwhile"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if !billing_runs::finish_item(tx, actor, &r.item, "invoiced", Some(doc.id.as_str()), None)
        .await?
    {
        // Another worker did this item: leave its result.
        return Ok(Ok(()));
    }
    let parts = MailParts {
        to: &r.email,
        org_name: &r.org_name,
        prenotification: &inv.payment_terms,
        corrects: "",
    };
    queue_mail(state, tx, &doc, parts).await?;
    Ok(Ok(()))
}

/// Prepares a chunk of pending items: those that make no invoice (empty,
/// failed, done already) are finished here; the others are validated with
/// a placeholder number, so a client whose document cannot be written fails
/// here and takes no number.
async fn prepare_chunk(
    state: &AppState,
    actor: &Actor,
    period: &Period,
    items: Vec<Item>,
) -> ApiResult<Vec<Ready>> {
    let mut ready = Vec::new();
    // The items that make no invoice are finished in one transaction.
    let mut tx = state.store().begin().await?;
    for item in items {
        match prepare(state, period, item).await? {
            Prepared::Ready(r) => ready.push(*r),
            Prepared::Empty(i) => {
                finish_without_invoice(&mut tx, actor, &i, "empty", None, None).await?;
            }
            Prepared::Failed(i, e) => {
                tracing::warn!(org = %i.org_id, error = %e, "billing item failed");
                finish_without_invoice(&mut tx, actor, &i, "failed", None, Some(&e)).await?;
            }
            Prepared::Done(i, inv) => {
                finish_without_invoice(&mut tx, actor, &i, "invoiced", Some(&inv), None).await?;
            }
        }
    }
    let mut valid = Vec::with_capacity(ready.len());
    for r in ready {
        let check = document::facturx(&header(&r.header, "F0000-000000", state), &r.doc.lines)
            .and_then(|inv| {
                ciel_documents::facturx::to_cii_xml(&inv)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        match check {
            Ok(()) => valid.push(r),
            Err(e) => {
                tracing::warn!(org = %r.item.org_id, error = %e, "billing item failed");
                finish_without_invoice(&mut tx, actor, &r.item, "failed", None, Some(&e)).await?;
            }
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(valid)
}

/// A chunk whose documents are being rendered with the numbers they are
/// expected to take.
struct InFlight {
    ready: Vec<Ready>,
    predicted: Vec<String>,
    renderings: tokio::task::JoinHandle<Vec<Result<Rendering, String>>>,
}

/// Starts rendering `ready` on every core, numbered from `first`, and
/// returns at once: the caller writes the previous chunk meanwhile.
fn start_rendering(state: &AppState, ready: Vec<Ready>, first: i64) -> ApiResult<InFlight> {
    let mut predicted = Vec::with_capacity(ready.len());
    let mut to_render = Vec::with_capacity(ready.len());
    for (i, r) in ready.iter().enumerate() {
        let number = document::number(r.header.issue_date.year(), first + i as i64);
        let inv =
            document::facturx(&header(&r.header, &number, state), &r.doc.lines).map_err(corrupt)?;
        to_render.push((inv, r.doc.lang.clone()));
        predicted.push(number);
    }
    Ok(InFlight {
        ready,
        predicted,
        renderings: tokio::spawn(render_all(to_render)),
    })
}

/// Writes a rendered chunk in order, in one transaction with a savepoint
/// per client: each client's invoice, its item and its e-mail are written
/// together or not at all (a client that fails is rolled back to its
/// savepoint and recorded as failed), and the chunk pays one commit (on
/// PostgreSQL a WAL flush of ~3 ms here, which one commit per client made
/// a third of the run). A crash loses the chunk, which the run redoes.
async fn write_chunk(state: &AppState, actor: &Actor, chunk: InFlight) -> ApiResult<()> {
    let renderings = chunk.renderings.await.unwrap_or_default();
    let mut renderings = renderings.into_iter();
    let mut tx = state.store().begin().await?;
    for (mut r, number) in chunk.ready.into_iter().zip(chunk.predicted) {
        let rendering = renderings.next().and_then(Result::ok);
        ciel_store::savepoint(&mut tx, "invoice").await?;
        let outcome = write(state, &mut tx, actor, &mut r, &number, rendering).await?;
        if let Err(e) = outcome {
            ciel_store::rollback_to(&mut tx, "invoice").await?;
            tracing::warn!(org = %r.item.org_id, error = %e, "billing item failed");
            finish_without_invoice(&mut tx, actor, &r.item, "failed", None, Some(&e)).await?;
        }
        ciel_store::release(&mut tx, "invoice").await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Processes a run's pending items by chunks, then closes it with its
/// figures; `progress` is called after each chunk.
///
/// A pipeline: while one chunk's PDFs are rendered on every core, the
/// previous chunk is written and the next one prepared, so the database
/// work (one writer on SQLite) runs beside the rendering instead of after
/// it. The rendering numbers a chunk as if every earlier one were written
/// in full; a client that failed meanwhile (or a credit note taking a
/// number) only makes the next ones re-render at write time.
pub async fn process(
    state: &AppState,
    run_id: &str,
    actor: &Actor,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> ApiResult<Run> {
    let db = state.store().db();
    let run = billing_runs::get(db, run_id).await?;
    let period = Period::parse(&run.period, "period")?;
    let mut after: Option<String> = None;
    let mut in_flight: Option<InFlight> = None;
    let mut next = invoices::peek_number(db, invoices::SEQUENCE).await?;
    loop {
        let items = billing_runs::pending(db, run_id, after.as_deref(), CHUNK).await?;
        let Some(last) = items.last() else {
            break;
        };
        after = Some(last.org_id.to_string());
        let ready = prepare_chunk(state, actor, &period, items).await?;
        let count = ready.len() as i64;
        let started = start_rendering(state, ready, next)?;
        if let Some(previous) = in_flight.replace(started) {
            write_chunk(state, actor, previous).await?;
            progress(&billing_runs::progress(db, run_id).await?);
            // The previous chunk is written: number the next from the counter.
            next = invoices::peek_number(db, invoices::SEQUENCE).await? + count;
        } else {
            next += count;
        }
    }
    if let Some(last) = in_flight.take() {
        write_chunk(state, actor, last).await?;
        progress(&billing_runs::progress(db, run_id).await?);
    }
    let p = billing_runs::progress(db, run_id).await?;
    let mut amount = Decimal::ZERO;
    for t in billing_runs::invoice_totals(db, run_id).await? {
        amount += Decimal::from_str_exact(&t).map_err(corrupt)?;
    }
    let run = billing_runs::get(db, run_id).await?;
    let mut tx = state.store().begin().await?;
    let done = billing_runs::finish(&mut tx, actor, &run, &p, &cents(amount)).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(done)
}

/// The job: processes the run named in its payload.
pub async fn run_job(state: &AppState, payload: &serde_json::Value) -> ApiResult<Run> {
    let run_id = payload
        .get("run")
        .and_then(|v| v.as_str())
        .ok_or_else(|| corrupt("billing.run job without run id"))?;
    let actor = Actor::system(JOB, state.now());
    process(state, run_id, &actor, &mut |_| {}).await
}
