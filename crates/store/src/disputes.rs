//! A client's contest of an invoice (migration 0018; R2.7) and the
//! provider's answer. The invoice stays due meanwhile: nothing here touches
//! it or its follow-up.

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of disputes.
pub const PREFIX: &str = "dsp";

/// A dispute as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispute {
    pub id: Id,
    pub org_id: Id,
    pub invoice_id: String,
    pub reason: String,
    pub opened_by: Option<String>,
    pub opened_at: Timestamp,
    /// `open`, `accepted` (a credit note will be issued) or `rejected`.
    pub state: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, org_id, invoice_id, reason, opened_by, opened_at, state, answer, \
    answered_by, answered_at";

fn from_row(r: &AnyRow) -> Result<Dispute> {
    Ok(Dispute {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        invoice_id: r.try_get("invoice_id")?,
        reason: r.try_get("reason")?,
        opened_by: r.try_get("opened_by")?,
        opened_at: time::from_db(r.try_get("opened_at")?),
        state: r.try_get("state")?,
        answer: r.try_get("answer")?,
        answered_by: r.try_get("answered_by")?,
        answered_at: time::opt_from_db(r.try_get("answered_at")?),
    })
}

/// Opens a dispute on an invoice, audited.
pub async fn open(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    invoice_id: &str,
    reason: &str,
) -> Result<Dispute> {
    let d = Dispute {
        id: new_id(PREFIX, actor.recorded_at),
        org_id: org_id.clone(),
        invoice_id: invoice_id.to_owned(),
        reason: reason.to_owned(),
        opened_by: Some(actor.label.clone()),
        opened_at: actor.recorded_at,
        state: "open".into(),
        answer: None,
        answered_by: None,
        answered_at: None,
    };
    let mut q = Sql::new(
        "INSERT INTO invoice_disputes (id, org_id, invoice_id, reason, opened_by, opened_at, state) VALUES (",
    );
    q.bind(&d.id).push(", ").bind(&d.org_id).push(", ");
    q.bind(invoice_id).push(", ").bind(reason).push(", ");
    q.bind(d.opened_by.clone())
        .push(", ")
        .bind(d.opened_at)
        .push(", 'open')");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        org_id,
        "dispute.open",
        "dispute",
        d.id.as_str(),
        &d,
    )
    .await?;
    Ok(d)
}

/// One dispute visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Dispute> {
    crate::get_scoped(ex, scope, "invoice_disputes", COLUMNS, id, from_row).await
}

/// Disputes visible to `scope`: one organisation's, or (staff, `org_id`
/// None) every organisation's, optionally only those in `state`; newest
/// first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: Option<&str>,
    state: Option<&str>,
) -> Result<Vec<Dispute>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM invoice_disputes WHERE 1 = 1"
    ));
    if let Some(org) = org_id {
        q.push(" AND org_id = ").bind(org);
    }
    if let Some(s) = state {
        q.push(" AND state = ").bind(s);
    }
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id DESC");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Records the provider's answer to an open dispute; Conflict when it was
/// answered meanwhile.
pub async fn answer(
    tx: &mut Tx,
    actor: &Actor,
    before: &Dispute,
    accepted: bool,
    text: &str,
) -> Result<Dispute> {
    let state = if accepted { "accepted" } else { "rejected" };
    let mut q = Sql::new("UPDATE invoice_disputes SET state = ");
    q.bind(state).push(", answer = ").bind(text);
    q.push(", answered_by = ").bind(actor.label.as_str());
    q.push(", answered_at = ").bind(actor.occurred_at);
    q.push(" WHERE id = ")
        .bind(&before.id)
        .push(" AND state = 'open'");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("dispute"));
    }
    let after = Dispute {
        state: state.into(),
        answer: Some(text.to_owned()),
        answered_by: Some(actor.label.clone()),
        answered_at: Some(actor.occurred_at),
        ..before.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&before.org_id),
            action: "dispute.answer",
            entity_kind: "dispute",
            entity_id: before.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}
