//! Invoice disputes (issue 6 item 7; R2.7): a client user who sees
//! invoices contests an invoice within `billing.invoice_contest_days` (30)
//! of its date, counted in Europe/Paris; later is refused citing R2.7. The
//! invoice stays due (dunning is not affected). Staff answer (accepted: a
//! credit note will be issued; rejected), and the client is emailed.

use crate::auth::Principal;
use crate::payments::{engine, notify_billing, require_billing, require_invoice_viewer};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_domain::Permission;
use ciel_mail::BillingMail;
use ciel_store::disputes::{self, Dispute};
use ciel_store::payments::receivable_of;
use ciel_store::{Scope, StoreError, orgs};

fn text(field: &str, v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 2000 {
        return Err(Problem::invalid(field, "required, at most 2000 characters"));
    }
    Ok(v.to_owned())
}

/// A client user who sees invoices contests one (R2.7).
pub async fn open(
    state: &AppState,
    p: &Principal,
    invoice_id: &str,
    reason: &str,
) -> ApiResult<Dispute> {
    let invoice = receivable_of(state.store().db(), &p.scope, invoice_id).await?;
    if p.is_staff() || !p.can(Permission::ViewInvoices) {
        return Err(Problem::forbidden(
            "an invoice is contested by the client's users who see invoices",
        ));
    }
    if invoice.kind != "invoice" {
        return Err(Problem::invalid(
            "invoice_id",
            "a credit note is not contested",
        ));
    }
    let reason = text("reason", reason)?;
    let now = state.now();
    engine(state)?
        .invoice_contest_window(invoice.issued_at, now)
        .map_err(|e| crate::payments::refused("invoice_id", e.to_string()))?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let d = disputes::open(&mut tx, &actor, &invoice.org_id, invoice_id, &reason).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(d)
}

/// The disputes of an organisation.
pub async fn list_of_org(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Vec<Dispute>> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_invoice_viewer(p)?;
    Ok(disputes::list(state.store().db(), &p.scope, Some(org.id.as_str()), None).await?)
}

/// The disputes waiting for an answer (staff).
pub async fn open_queue(state: &AppState, p: &Principal) -> ApiResult<Vec<Dispute>> {
    require_billing(p)?;
    Ok(disputes::list(state.store().db(), &Scope::Staff, None, Some("open")).await?)
}

/// Staff answer a dispute; the client's invoice readers are emailed.
pub async fn answer(
    state: &AppState,
    p: &Principal,
    dispute_id: &str,
    accepted: bool,
    answer: &str,
) -> ApiResult<Dispute> {
    let db = state.store().db();
    let d = disputes::get(db, &p.scope, dispute_id).await?;
    require_billing(p)?;
    let answer = text("answer", answer)?;
    if d.state != "open" {
        return Err(Problem::conflict(
            "dispute",
            "this dispute is already answered",
        ));
    }
    let invoice = receivable_of(db, &Scope::Staff, &d.invoice_id).await?;
    let org = orgs::get(db, &Scope::Staff, d.org_id.as_str()).await?;
    let now = state.now();
    let actor = p.actor(now);
    let day = engine(state)?.local_day(invoice.issued_at).to_string();
    let mut tx = state.store().begin().await?;
    let after = disputes::answer(&mut tx, &actor, &d, accepted, &answer)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                Problem::conflict("dispute", "this dispute was answered meanwhile")
            }
            other => other.into(),
        })?;
    let kind = if accepted {
        BillingMail::DisputeAccepted
    } else {
        BillingMail::DisputeRejected
    };
    notify_billing(
        state,
        &mut tx,
        &org,
        kind,
        &invoice.number,
        &invoice.total,
        &day,
        0,
        &answer,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(after)
}
