//! Dunning (issue 6 item 6; R2.6, R3.3, R3.4): the follow-up of unpaid
//! invoices past due, as a daily job and a staff queue.
//!
//! - The `dunning.pass` job runs every day at midnight (Europe/Paris): each
//!   unpaid invoice whose due day has passed (its own, or the one an
//!   acceleration gave it) gets its formal-notice email (mise en demeure,
//!   R2.6), once; interest runs from the day after the due date.
//! - `late_payment.formal_notice_days` (15) later, if still unpaid, the
//!   invoice is in the staff's sanction queue. Staff choose, once:
//!   `accelerate` (every unpaid invoice of the client due now: recorded in
//!   `invoice_accelerations`, the invoices themselves never change, R2.11),
//!   `suspend` (the Suspend event for non-payment on each running service,
//!   through `services::act`; billing continues, R3.4), `guarantee` (the
//!   guarantee asked for, recorded and emailed) or `terminate` (suspension
//!   then TerminateForCause on each running service, R3.3).
//! - Every email goes through the outbox in the change's transaction.

use crate::auth::Principal;
use crate::payments::{self, dec, engine, notify_billing, require_billing};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_catalog::service::{ServiceEvent, Status, SuspensionReason};
use ciel_mail::BillingMail;
use ciel_store::dunning::{self, Dunning};
use ciel_store::payments::Receivable;
use ciel_store::{Actor, Scope, StoreError, orgs};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;

/// Kind of the daily job that sends the formal notices.
pub const JOB: &str = "dunning.pass";

/// The sanctions staff may choose (R2.6).
pub const SANCTIONS: [&str; 4] = ["accelerate", "suspend", "guarantee", "terminate"];

/// What a pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PassReport {
    /// Formal notices sent (one per invoice).
    pub notices: u64,
    /// Services reopened because their client paid (R3.4).
    pub reopened: u64,
}

/// Sends the formal notice of every unpaid invoice whose due day has
/// passed and that has none yet; idempotent (one row per invoice).
pub async fn run_pass(state: &AppState, now: Timestamp) -> ApiResult<PassReport> {
    let eng = engine(state)?;
    let actor = Actor::system(JOB, now);
    let today = eng.local_day(now);
    let days = eng.terms().late_payment.formal_notice_days;
    let sanction_from = ciel_catalog::service::delay_end(&crate::services::zone(), now, days);
    let mut report = PassReport::default();
    for r in dunning::unnoticed(state.store().db(), now).await? {
        let due = eng.local_day(r.effective_due_at());
        if due >= today {
            continue;
        }
        let mut tx = state.store().begin().await?;
        if dunning::start(&mut tx, &actor, &r, sanction_from).await? {
            let org = orgs::get(&mut *tx, &Scope::Staff, r.org_id.as_str()).await?;
            notify_billing(
                state,
                &mut tx,
                &org,
                BillingMail::FormalNotice,
                &r.number,
                &r.total,
                &due.to_string(),
                days,
                "",
            )
            .await?;
            report.notices += 1;
        }
        tx.commit().await.map_err(StoreError::from)?;
    }
    // R3.4: access reopens on payment. A payment reopens at once (see
    // `payments`); the pass catches one whose reopening was cut short.
    let mut orgs_suspended: Vec<String> = dunning::list(state.store().db(), &Scope::Staff, None)
        .await?
        .into_iter()
        .filter(|(d, _)| d.sanction.as_deref() == Some("suspend"))
        .map(|(d, _)| d.org_id.to_string())
        .collect();
    orgs_suspended.sort();
    orgs_suspended.dedup();
    for org in orgs_suspended {
        report.reopened += reopen_paid_up(state, &org, now).await?;
    }
    Ok(report)
}

/// Reopens the services of `org_id` suspended for non-payment once it owes
/// nothing past due (R3.4: "access reopens on payment"); returns how many.
/// Idempotent: a service already reopened is no longer suspended.
pub async fn reopen_paid_up(state: &AppState, org_id: &str, now: Timestamp) -> ApiResult<u64> {
    let mut tx = state.store().begin().await?;
    let past_due = payments::outstanding(&mut tx, org_id)
        .await?
        .iter()
        .any(|(r, _)| r.effective_due_at() <= now);
    drop(tx);
    if past_due {
        return Ok(0);
    }
    let actor = Actor::system(JOB, now);
    let mut reopened = 0;
    for row in payments::org_services(state, org_id).await? {
        let ciel_catalog::service::ServiceState::Provisioned(service) =
            crate::services::state_of(&row)?
        else {
            continue;
        };
        let for_non_payment = service
            .suspension
            .as_ref()
            .is_some_and(|s| matches!(s.reason, SuspensionReason::NonPayment { .. }));
        if for_non_payment {
            let reopen = ServiceEvent::Reopen {
                note: "R3.4 : paiement reçu, accès rouvert / payment received, access reopened"
                    .into(),
            };
            crate::services::act_as(state, &actor, &row, &reopen, now).await?;
            reopened += 1;
        }
    }
    Ok(reopened)
}

/// Enqueues the pass at `at` (once per instant: the dedup key).
pub async fn schedule_pass(state: &AppState, at: Timestamp) -> anyhow::Result<()> {
    crate::jobs::schedule_at(state, JOB, at).await
}

/// At start: a pass now (catching up) and the next one at midnight.
pub async fn schedule_passes(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    schedule_pass(state, now).await?;
    schedule_pass(state, crate::services::next_midnight(now)).await
}

/// The job: runs the pass, then schedules the next one.
pub async fn run_job(state: &AppState) -> ApiResult<PassReport> {
    let now = state.now();
    let report = run_pass(state, now).await?;
    schedule_pass(state, crate::services::next_midnight(now))
        .await
        .map_err(|e| Problem::internal().detail(e.to_string()))?;
    Ok(report)
}

/// Staff run the pass now (what the midnight job does).
pub async fn run_now(state: &AppState, p: &Principal) -> ApiResult<PassReport> {
    require_billing(p)?;
    run_pass(state, state.now()).await
}

/// An invoice's follow-up with its organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Followed {
    pub dunning: Dunning,
    pub invoice: Receivable,
    pub org_name: String,
}

/// Follow-ups visible to the principal: the sanction queue (staff: unpaid
/// invoices whose formal notice was left without effect for 15 days,
/// undecided) when `queue`, else all.
pub async fn list(state: &AppState, p: &Principal, queue: bool) -> ApiResult<Vec<Followed>> {
    require_billing(p)?;
    let now = state.now();
    let db = state.store().db();
    let mut out = Vec::new();
    for (d, invoice) in dunning::list(db, &Scope::Staff, None).await? {
        let waiting = d.sanction.is_none() && d.sanction_from <= now && invoice.paid_at.is_none();
        if queue && !waiting {
            continue;
        }
        let org = orgs::get(db, &Scope::Staff, d.org_id.as_str()).await?;
        out.push(Followed {
            dunning: d,
            invoice,
            org_name: org.name,
        });
    }
    Ok(out)
}

/// What a service became under a sanction.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceOutcome {
    pub service_id: String,
    pub label: String,
    /// `suspended`, `terminated`, `skipped` or `refused`.
    pub result: String,
    pub detail: Option<String>,
}

/// A sanction carried out.
#[derive(Debug, Clone, Serialize)]
pub struct Sanctioned {
    pub dunning: Dunning,
    pub services: Vec<ServiceOutcome>,
    /// Invoices made due now (accelerate).
    pub accelerated: Vec<String>,
}

/// Staff choose the sanction of an invoice in the queue and it is carried
/// out (R2.6, R3.3, R3.4).
pub async fn sanction(
    state: &AppState,
    p: &Principal,
    invoice_id: &str,
    choice: &str,
    note: Option<String>,
) -> ApiResult<Sanctioned> {
    let db = state.store().db();
    let d = dunning::get(db, &p.scope, invoice_id).await?;
    require_billing(p)?;
    if !SANCTIONS.contains(&choice) {
        return Err(Problem::invalid(
            "sanction",
            "one of accelerate, suspend, guarantee, terminate",
        ));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(Problem::invalid("note", "at most 2000 characters"));
    }
    if choice == "guarantee" && note.is_none() {
        return Err(Problem::invalid(
            "note",
            "say which guarantee is required (R2.6)",
        ));
    }
    if let Some(s) = &d.sanction {
        return Err(Problem::conflict(
            "sanction",
            format!("the sanction {s} was already chosen"),
        ));
    }
    let now = state.now();
    if now < d.sanction_from {
        return Err(Problem::conflict(
            "sanction",
            format!(
                "R2.6 (CG 3.5): the sanction may be chosen 15 days after the formal notice of {}, from {}",
                d.notice_sent_at, d.sanction_from
            ),
        ));
    }
    let invoice = ciel_store::payments::receivable_of(db, &Scope::Staff, invoice_id).await?;
    if invoice.paid_at.is_some() {
        return Err(Problem::conflict("sanction", "the invoice has been paid"));
    }
    let org = orgs::get(db, &Scope::Staff, d.org_id.as_str()).await?;
    let mut outcomes = Vec::new();
    if choice == "suspend" || choice == "terminate" {
        outcomes = sanction_services(state, p, &d, choice == "terminate").await?;
    }
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let mut accelerated = Vec::new();
    let mut amount = invoice.total.clone();
    if choice == "accelerate" {
        let mut total = Decimal::ZERO;
        for (r, o) in payments::outstanding(&mut tx, org.id.as_str()).await? {
            total += o.remaining;
            if r.effective_due_at() > now && dunning::accelerate(&mut tx, &actor, &r, now).await? {
                accelerated.push(r.id.to_string());
            }
        }
        amount = total.to_string();
    }
    let summary = outcomes
        .iter()
        .map(|o| format!("{}: {}", o.label, o.result))
        .collect::<Vec<_>>()
        .join("; ");
    let recorded_note = match (&note, summary.is_empty()) {
        (Some(n), true) => Some(n.clone()),
        (Some(n), false) => Some(format!("{n} ({summary})")),
        (None, false) => Some(summary),
        (None, true) => None,
    };
    let decided = dunning::decide(&mut tx, &actor, &d, choice, recorded_note.as_deref())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                Problem::conflict("sanction", "another sanction was chosen meanwhile")
            }
            other => other.into(),
        })?;
    let mail = match choice {
        "accelerate" => Some(BillingMail::Accelerated),
        "guarantee" => Some(BillingMail::GuaranteeRequired),
        // Suspension and termination send the services' own notices (R13).
        _ => None,
    };
    if let Some(kind) = mail {
        let eng = engine(state)?;
        notify_billing(
            state,
            &mut tx,
            &org,
            kind,
            &invoice.number,
            &amount,
            &eng.local_day(invoice.due_at).to_string(),
            eng.terms().late_payment.formal_notice_days,
            note.as_deref().unwrap_or_default(),
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Sanctioned {
        dunning: decided,
        services: outcomes,
        accelerated,
    })
}

/// Suspends (and terminates) each running service of the client through
/// the services' workflow; a service the machine refuses is reported, not
/// forced.
async fn sanction_services(
    state: &AppState,
    p: &Principal,
    d: &Dunning,
    terminate: bool,
) -> ApiResult<Vec<ServiceOutcome>> {
    let now = state.now();
    let today = engine(state)?.local_day(now);
    let mut out = Vec::new();
    for row in payments::org_services(state, d.org_id.as_str()).await? {
        let status = crate::services::state_of(&row)?.status(now);
        let mut outcome = ServiceOutcome {
            service_id: row.id.to_string(),
            label: row.label.clone(),
            result: "skipped".into(),
            detail: None,
        };
        if matches!(status, Status::Ordered | Status::Ended) {
            out.push(outcome);
            continue;
        }
        let suspend = ServiceEvent::Suspend {
            reason: SuspensionReason::NonPayment {
                informed_at: d.notice_sent_at,
            },
        };
        let step = if status == Status::Suspended {
            Ok(())
        } else {
            crate::services::act(state, p, row.id.as_str(), suspend)
                .await
                .map(|_| ())
        };
        let step = match (step, terminate) {
            (Ok(()), false) => Ok("suspended"),
            (Ok(()), true) => {
                let monthly_fee = dec("monthly fee", &row.monthly_fee)?;
                crate::services::act(
                    state,
                    p,
                    row.id.as_str(),
                    ServiceEvent::TerminateForCause {
                        last_day: today,
                        monthly_fee,
                    },
                )
                .await
                .map(|_| "terminated")
            }
            (Err(e), _) => Err(e),
        };
        match step {
            Ok(r) => outcome.result = r.into(),
            Err(e) if e.status == 500 => return Err(e),
            Err(e) => {
                outcome.result = "refused".into();
                outcome.detail = e.detail;
            }
        }
        out.push(outcome);
    }
    Ok(out)
}
