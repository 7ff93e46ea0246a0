//! Invoices as receivables (`invoices`, migration 0011): the side the
//! billing run (issue 6) writes and R7.5 reads, since a credit is issued
//! only when the client has paid every invoice already due.

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of invoices.
pub const PREFIX: &str = "inv";

/// An invoice as a receivable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub id: Id,
    pub org_id: Id,
    pub number: String,
    pub issued_at: Timestamp,
    pub due_at: Timestamp,
    /// Exact decimal euros including VAT.
    pub total: String,
    /// `None` while unpaid.
    pub paid_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, org_id, number, issued_at, due_at, total, paid_at";

fn from_row(r: &AnyRow) -> Result<Invoice> {
    Ok(Invoice {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        number: r.try_get("number")?,
        issued_at: time::from_db(r.try_get("issued_at")?),
        due_at: time::from_db(r.try_get("due_at")?),
        total: r.try_get("total")?,
        paid_at: time::opt_from_db(r.try_get("paid_at")?),
    })
}

/// Records an issued invoice (the billing run's write), audited.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    number: &str,
    issued_at: Timestamp,
    due_at: Timestamp,
    total: &str,
) -> Result<Invoice> {
    let inv = Invoice {
        id: new_id(PREFIX, actor.recorded_at),
        org_id: org_id.clone(),
        number: number.to_owned(),
        issued_at,
        due_at,
        total: total.to_owned(),
        paid_at: None,
    };
    let mut q = Sql::new(&format!("INSERT INTO invoices ({COLUMNS}) VALUES ("));
    q.bind(&inv.id).push(", ").bind(&inv.org_id).push(", ");
    q.bind(number).push(", ").bind(issued_at).push(", ");
    q.bind(due_at).push(", ").bind(total).push(", NULL)");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::StoreError::unique(e, "number"))?;
    audit::created(
        &mut **tx,
        actor,
        org_id,
        "invoice.issue",
        "invoice",
        inv.id.as_str(),
        &inv,
    )
    .await?;
    Ok(inv)
}

/// Records the payment of an invoice, audited.
pub async fn mark_paid(tx: &mut Tx, actor: &Actor, id: &str, at: Timestamp) -> Result<()> {
    let before =
        crate::get_scoped(&mut **tx, &Scope::Staff, "invoices", COLUMNS, id, from_row).await?;
    let mut q = Sql::new("UPDATE invoices SET paid_at = ");
    q.bind(at).push(" WHERE id = ").bind(id);
    q.query().execute(&mut **tx).await?;
    let after = Invoice {
        paid_at: Some(at),
        ..before.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&before.org_id),
            action: "invoice.paid",
            entity_kind: "invoice",
            entity_id: id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(())
}

/// The invoices of an organisation due at `now` and unpaid (R7.5), oldest
/// due first.
pub async fn overdue<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    now: Timestamp,
) -> Result<Vec<Invoice>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM invoices WHERE org_id = "));
    q.bind(org_id)
        .push(" AND paid_at IS NULL AND due_at <= ")
        .bind(now);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY due_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Records an issued credit note (R2.11: a correction, positive total,
/// reducing what the client owes), audited.
pub async fn create_credit_note(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    number: &str,
    issued_at: Timestamp,
    total: &str,
    corrects_invoice_id: Option<&str>,
) -> Result<Invoice> {
    let inv = create(tx, actor, org_id, number, issued_at, issued_at, total).await?;
    let mut q = Sql::new("UPDATE invoices SET kind = 'credit_note', corrects_invoice_id = ");
    q.bind(corrects_invoice_id)
        .push(" WHERE id = ")
        .bind(&inv.id);
    q.query().execute(&mut **tx).await?;
    Ok(inv)
}
