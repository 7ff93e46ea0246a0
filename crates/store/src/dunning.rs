//! The follow-up of unpaid invoices past due (migration 0018; R2.6, R3.3,
//! R3.4): one row per invoice once its formal notice is sent, the day the
//! sanction may be chosen, and the staff's choice; and the accelerations
//! ("make every unpaid invoice due") kept beside the invoices, which never
//! change (R2.11).

use crate::audit::{self, Actor};
use crate::payments::{RECEIVABLE, RECEIVABLE_FROM, Receivable, receivable};
use crate::sql::Sql;
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// The follow-up of one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dunning {
    pub invoice_id: String,
    pub org_id: Id,
    pub notice_sent_at: Timestamp,
    /// From this instant the sanction may be chosen (R2.6: 15 days after
    /// the formal notice).
    pub sanction_from: Timestamp,
    pub sanction: Option<String>,
    pub sanction_note: Option<String>,
    pub sanction_at: Option<Timestamp>,
    pub sanction_by: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "d.invoice_id, d.org_id, d.notice_sent_at, d.sanction_from, d.sanction, \
    d.sanction_note, d.sanction_at, d.sanction_by, d.created_at";

fn from_row(r: &AnyRow) -> Result<Dunning> {
    Ok(Dunning {
        invoice_id: r.try_get("invoice_id")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        notice_sent_at: time::from_db(r.try_get("notice_sent_at")?),
        sanction_from: time::from_db(r.try_get("sanction_from")?),
        sanction: r.try_get("sanction")?,
        sanction_note: r.try_get("sanction_note")?,
        sanction_at: time::opt_from_db(r.try_get("sanction_at")?),
        sanction_by: r.try_get("sanction_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Unpaid invoices (not credit notes) due before `before` (their own due
/// instant or an accelerated one) without a formal notice yet, all
/// organisations: the dunning pass's work.
pub async fn unnoticed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    before: Timestamp,
) -> Result<Vec<Receivable>> {
    let mut q = Sql::new(&format!(
        "SELECT {RECEIVABLE} FROM {RECEIVABLE_FROM} \
         WHERE i.kind = 'invoice' AND i.paid_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM dunning d WHERE d.invoice_id = i.id) \
         AND COALESCE(a.due_at, i.due_at) < "
    ));
    q.bind(before).push(" ORDER BY i.due_at, i.number");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(receivable)
        .collect()
}

/// Starts the follow-up of an invoice whose formal notice is sent now;
/// false when it was already started (a pass run twice).
pub async fn start(
    tx: &mut Tx,
    actor: &Actor,
    invoice: &Receivable,
    sanction_from: Timestamp,
) -> Result<bool> {
    let d = Dunning {
        invoice_id: invoice.id.to_string(),
        org_id: invoice.org_id.clone(),
        notice_sent_at: actor.recorded_at,
        sanction_from,
        sanction: None,
        sanction_note: None,
        sanction_at: None,
        sanction_by: None,
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(
        "INSERT INTO dunning (invoice_id, org_id, notice_sent_at, sanction_from, created_at) VALUES (",
    );
    q.bind(&d.invoice_id).push(", ").bind(&d.org_id).push(", ");
    q.bind(d.notice_sent_at)
        .push(", ")
        .bind(d.sanction_from)
        .push(", ");
    q.bind(d.created_at)
        .push(") ON CONFLICT (invoice_id) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    audit::created(
        &mut **tx,
        actor,
        &d.org_id,
        "dunning.formal_notice",
        "invoice",
        &d.invoice_id,
        &d,
    )
    .await?;
    Ok(true)
}

/// The follow-ups visible to `scope` (one organisation, or all for staff
/// when `org_id` is None), with their invoice, newest notice first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: Option<&str>,
) -> Result<Vec<(Dunning, Receivable)>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS}, i.id, i.number, i.kind, i.issued_at, i.due_at, \
         a.due_at AS accelerated_due_at, i.total, i.paid_at, i.corrects_invoice_id \
         FROM dunning d JOIN invoices i ON i.id = d.invoice_id \
         LEFT JOIN invoice_accelerations a ON a.invoice_id = i.id WHERE 1 = 1"
    ));
    if let Some(org) = org_id {
        q.push(" AND d.org_id = ").bind(org);
    }
    scope.restrict(&mut q, "d.org_id");
    q.push(" ORDER BY d.notice_sent_at DESC, d.invoice_id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((from_row(r)?, receivable(r)?)))
        .collect()
}

/// The follow-up of one invoice visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    invoice_id: &str,
) -> Result<Dunning> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM dunning d WHERE d.invoice_id = "
    ));
    q.bind(invoice_id);
    scope.restrict(&mut q, "d.org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Records the staff's sanction on a follow-up still undecided; Conflict
/// when another decision came first.
pub async fn decide(
    tx: &mut Tx,
    actor: &Actor,
    before: &Dunning,
    sanction: &str,
    note: Option<&str>,
) -> Result<Dunning> {
    let mut q = Sql::new("UPDATE dunning SET sanction = ");
    q.bind(sanction).push(", sanction_note = ").bind(note);
    q.push(", sanction_at = ").bind(actor.occurred_at);
    q.push(", sanction_by = ").bind(actor.label.as_str());
    q.push(" WHERE invoice_id = ")
        .bind(before.invoice_id.as_str())
        .push(" AND sanction IS NULL");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("sanction"));
    }
    let after = Dunning {
        sanction: Some(sanction.to_owned()),
        sanction_note: note.map(str::to_owned),
        sanction_at: Some(actor.occurred_at),
        sanction_by: Some(actor.label.clone()),
        ..before.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&before.org_id),
            action: "dunning.sanction",
            entity_kind: "invoice",
            entity_id: &before.invoice_id,
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Makes an unpaid invoice due at `due_at` (R2.6), once; returns whether
/// it was new.
pub async fn accelerate(
    tx: &mut Tx,
    actor: &Actor,
    invoice: &Receivable,
    due_at: Timestamp,
) -> Result<bool> {
    let mut q = Sql::new(
        "INSERT INTO invoice_accelerations (invoice_id, org_id, due_at, decided_by, created_at) VALUES (",
    );
    q.bind(&invoice.id)
        .push(", ")
        .bind(&invoice.org_id)
        .push(", ");
    q.bind(due_at)
        .push(", ")
        .bind(actor.label.as_str())
        .push(", ");
    q.bind(actor.recorded_at)
        .push(") ON CONFLICT (invoice_id) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    let after = Receivable {
        accelerated_due_at: Some(due_at),
        ..invoice.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&invoice.org_id),
            action: "invoice.accelerate",
            entity_kind: "invoice",
            entity_id: invoice.id.as_str(),
            before: Some(invoice),
            after: Some(&after),
        },
    )
    .await?;
    Ok(true)
}
