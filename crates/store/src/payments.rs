//! Payments, their allocations to invoices, the bank's rejections and the
//! refunds (migration 0018; R2.6, R3.3, R7.5). Tenant data read and written
//! through the [`Scope`], every change audited in its transaction. Amounts
//! are exact decimal text; the sums are made by the caller (the engine's
//! `receivables`), never by SQL on text.

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefixes.
pub const PREFIX: &str = "pay";
pub const REFUND_PREFIX: &str = "rfd";

/// A payment as stored, with its rejection if the bank rejected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub id: Id,
    pub org_id: Id,
    pub amount: String,
    /// `YYYY-MM-DD`, the day the money was received (Europe/Paris).
    pub received_on: String,
    pub method: String,
    pub reference: String,
    pub excess: Option<String>,
    pub recorded_by: Option<String>,
    pub imported_from: Option<String>,
    pub created_at: Timestamp,
    pub rejection: Option<Rejection>,
}

/// A bank's rejection of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason_code: String,
    pub rejected_on: String,
    pub recorded_by: Option<String>,
    pub imported_from: Option<String>,
    pub created_at: Timestamp,
}

/// A payment to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub org_id: Id,
    pub amount: String,
    pub received_on: String,
    pub method: String,
    pub reference: String,
    pub excess: Option<String>,
    pub imported_from: Option<String>,
}

/// The part of a payment that settles an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationRow {
    pub payment_id: String,
    pub invoice_id: String,
    pub amount: String,
}

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub id: Id,
    pub org_id: Id,
    pub amount: String,
    pub refunded_on: String,
    /// `payment_excess` or `credit_after_services_ended`.
    pub reason: String,
    pub payment_id: Option<String>,
    pub reference: String,
    pub recorded_by: Option<String>,
    pub created_at: Timestamp,
}

/// An invoice or credit note as a receivable, with its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receivable {
    pub id: Id,
    pub org_id: Id,
    pub number: String,
    pub kind: String,
    pub issued_at: Timestamp,
    pub due_at: Timestamp,
    /// The due instant after an acceleration (R2.6), when there was one.
    pub accelerated_due_at: Option<Timestamp>,
    pub total: String,
    pub paid_at: Option<Timestamp>,
    /// The invoice a credit note corrects: what it credits is no longer owed
    /// on that invoice.
    pub corrects_invoice_id: Option<String>,
}

impl Receivable {
    /// When it is due: the accelerated instant if any, else the invoice's.
    pub fn effective_due_at(&self) -> Timestamp {
        self.accelerated_due_at.unwrap_or(self.due_at)
    }
}

const PAYMENT: &str = "p.id, p.org_id, p.amount, p.received_on, p.method, p.reference, p.excess, \
    p.recorded_by, p.imported_from, p.created_at, r.reason_code, r.rejected_on, \
    r.recorded_by AS r_recorded_by, r.imported_from AS r_imported_from, r.created_at AS r_created_at";
const PAYMENT_FROM: &str = "payments p LEFT JOIN payment_rejections r ON r.payment_id = p.id";
const REFUND: &str =
    "id, org_id, amount, refunded_on, reason, payment_id, reference, recorded_by, created_at";
/// The columns [`receivable`] reads (over [`RECEIVABLE_FROM`]): one list for
/// every query of receivables, so a new column cannot be forgotten in one.
pub(crate) const RECEIVABLE: &str = "i.id, i.org_id, i.number, i.kind, i.issued_at, i.due_at, \
    a.due_at AS accelerated_due_at, i.total, i.paid_at, i.corrects_invoice_id";
pub(crate) const RECEIVABLE_FROM: &str =
    "invoices i LEFT JOIN invoice_accelerations a ON a.invoice_id = i.id";

fn payment(r: &AnyRow) -> Result<Payment> {
    let reason: Option<String> = r.try_get("reason_code")?;
    let rejection = match reason {
        Some(reason_code) => Some(Rejection {
            reason_code,
            rejected_on: r
                .try_get::<Option<String>, _>("rejected_on")?
                .unwrap_or_default(),
            recorded_by: r.try_get("r_recorded_by")?,
            imported_from: r.try_get("r_imported_from")?,
            created_at: time::from_db(r.try_get::<Option<i64>, _>("r_created_at")?.unwrap_or(0)),
        }),
        None => None,
    };
    Ok(Payment {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        amount: r.try_get("amount")?,
        received_on: r.try_get("received_on")?,
        method: r.try_get("method")?,
        reference: r.try_get("reference")?,
        excess: r.try_get("excess")?,
        recorded_by: r.try_get("recorded_by")?,
        imported_from: r.try_get("imported_from")?,
        created_at: time::from_db(r.try_get("created_at")?),
        rejection,
    })
}

fn refund(r: &AnyRow) -> Result<Refund> {
    Ok(Refund {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        amount: r.try_get("amount")?,
        refunded_on: r.try_get("refunded_on")?,
        reason: r.try_get("reason")?,
        payment_id: r.try_get("payment_id")?,
        reference: r.try_get("reference")?,
        recorded_by: r.try_get("recorded_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

pub(crate) fn receivable(r: &AnyRow) -> Result<Receivable> {
    Ok(Receivable {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        number: r.try_get("number")?,
        kind: r.try_get("kind")?,
        issued_at: time::from_db(r.try_get("issued_at")?),
        due_at: time::from_db(r.try_get("due_at")?),
        accelerated_due_at: time::opt_from_db(r.try_get("accelerated_due_at")?),
        total: r.try_get("total")?,
        paid_at: time::opt_from_db(r.try_get("paid_at")?),
        corrects_invoice_id: r.try_get("corrects_invoice_id")?,
    })
}

fn allocation(r: &AnyRow) -> Result<AllocationRow> {
    Ok(AllocationRow {
        payment_id: r.try_get("payment_id")?,
        invoice_id: r.try_get("invoice_id")?,
        amount: r.try_get("amount")?,
    })
}

/// The invoices and credit notes of an organisation, oldest first.
pub async fn receivables<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<Receivable>> {
    let mut q = Sql::new(&format!(
        "SELECT {RECEIVABLE} FROM {RECEIVABLE_FROM} WHERE i.org_id = "
    ));
    q.bind(org_id);
    scope.restrict(&mut q, "i.org_id");
    q.push(" ORDER BY i.issued_at, i.number");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(receivable)
        .collect()
}

/// One invoice or credit note visible to `scope`.
pub async fn receivable_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    invoice_id: &str,
) -> Result<Receivable> {
    let mut q = Sql::new(&format!(
        "SELECT {RECEIVABLE} FROM {RECEIVABLE_FROM} WHERE i.id = "
    ));
    q.bind(invoice_id);
    scope.restrict(&mut q, "i.org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    receivable(&row)
}

/// The allocations of an organisation's payments not rejected.
pub async fn allocations<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<AllocationRow>> {
    let mut q =
        Sql::new("SELECT payment_id, invoice_id, amount FROM payment_allocations WHERE org_id = ");
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY payment_id, invoice_id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(allocation)
        .collect()
}

/// Records a payment and what it settles; audited with its allocations.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    new: NewPayment,
    allocations: &[(String, String)],
) -> Result<Payment> {
    let p = Payment {
        id: new_id(PREFIX, actor.recorded_at),
        org_id: new.org_id,
        amount: new.amount,
        received_on: new.received_on,
        method: new.method,
        reference: new.reference,
        excess: new.excess,
        recorded_by: Some(actor.label.clone()),
        imported_from: new.imported_from,
        created_at: actor.recorded_at,
        rejection: None,
    };
    let mut q = Sql::new(
        "INSERT INTO payments (id, org_id, amount, received_on, method, reference, excess, \
         recorded_by, imported_from, created_at) VALUES (",
    );
    q.bind(&p.id).push(", ").bind(&p.org_id).push(", ");
    q.bind(&p.amount).push(", ").bind(&p.received_on).push(", ");
    q.bind(&p.method).push(", ").bind(&p.reference).push(", ");
    q.bind(p.excess.clone())
        .push(", ")
        .bind(p.recorded_by.clone())
        .push(", ");
    q.bind(p.imported_from.clone())
        .push(", ")
        .bind(p.created_at)
        .push(")");
    q.query().execute(&mut **tx).await?;
    let mut rows = Vec::with_capacity(allocations.len());
    for (invoice_id, amount) in allocations {
        let mut q = Sql::new(
            "INSERT INTO payment_allocations (payment_id, invoice_id, org_id, amount, created_at) VALUES (",
        );
        q.bind(&p.id)
            .push(", ")
            .bind(invoice_id.as_str())
            .push(", ");
        q.bind(&p.org_id)
            .push(", ")
            .bind(amount.as_str())
            .push(", ");
        q.bind(actor.recorded_at).push(")");
        q.query().execute(&mut **tx).await?;
        rows.push(AllocationRow {
            payment_id: p.id.to_string(),
            invoice_id: invoice_id.clone(),
            amount: amount.clone(),
        });
    }
    #[derive(Serialize)]
    struct After<'a> {
        payment: &'a Payment,
        allocations: &'a [AllocationRow],
    }
    audit::created(
        &mut **tx,
        actor,
        &p.org_id,
        "payment.record",
        "payment",
        p.id.as_str(),
        &After {
            payment: &p,
            allocations: &rows,
        },
    )
    .await?;
    Ok(p)
}

/// Sets or clears the payment instant of invoices (an invoice is paid when
/// its allocations cover its total; a rejection makes it unpaid again).
pub async fn set_paid(
    tx: &mut Tx,
    actor: &Actor,
    invoice_id: &str,
    paid_at: Option<Timestamp>,
) -> Result<()> {
    let before = receivable_of(&mut **tx, &Scope::Staff, invoice_id).await?;
    let mut q = Sql::new("UPDATE invoices SET paid_at = ");
    q.bind(paid_at).push(" WHERE id = ").bind(invoice_id);
    q.query().execute(&mut **tx).await?;
    let after = Receivable {
        paid_at,
        ..before.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&before.org_id),
            action: if paid_at.is_some() {
                "invoice.paid"
            } else {
                "invoice.unpaid"
            },
            entity_kind: "invoice",
            entity_id: invoice_id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(())
}

/// One payment visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Payment> {
    let mut q = Sql::new(&format!(
        "SELECT {PAYMENT} FROM {PAYMENT_FROM} WHERE p.id = "
    ));
    q.bind(id);
    scope.restrict(&mut q, "p.org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    payment(&row)
}

/// The payments of an organisation, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<Payment>> {
    let mut q = Sql::new(&format!(
        "SELECT {PAYMENT} FROM {PAYMENT_FROM} WHERE p.org_id = "
    ));
    q.bind(org_id);
    scope.restrict(&mut q, "p.org_id");
    q.push(" ORDER BY p.id DESC");
    q.query().fetch_all(ex).await?.iter().map(payment).collect()
}

/// The payments not rejected carrying a reference (the bank's end-to-end
/// id or transfer reference), newest first: a rejection file names them so.
pub async fn by_reference<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    reference: &str,
) -> Result<Vec<Payment>> {
    let mut q = Sql::new(&format!(
        "SELECT {PAYMENT} FROM {PAYMENT_FROM} WHERE r.payment_id IS NULL AND p.reference = "
    ));
    q.bind(reference);
    scope.restrict(&mut q, "p.org_id");
    q.push(" ORDER BY p.id DESC");
    q.query().fetch_all(ex).await?.iter().map(payment).collect()
}

/// Records the bank's rejection of a payment and removes its allocations;
/// returns the invoices it had settled. Audited with the allocations removed.
pub async fn reject(
    tx: &mut Tx,
    actor: &Actor,
    p: &Payment,
    reason_code: &str,
    rejected_on: &str,
    imported_from: Option<&str>,
) -> Result<Vec<AllocationRow>> {
    let mut q = Sql::new(
        "INSERT INTO payment_rejections (payment_id, org_id, reason_code, rejected_on, recorded_by, \
         imported_from, created_at) VALUES (",
    );
    q.bind(&p.id).push(", ").bind(&p.org_id).push(", ");
    q.bind(reason_code).push(", ").bind(rejected_on).push(", ");
    q.bind(actor.label.as_str())
        .push(", ")
        .bind(imported_from)
        .push(", ");
    q.bind(actor.recorded_at).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::StoreError::unique(e, "payment"))?;
    let mut q = Sql::new(
        "SELECT payment_id, invoice_id, amount FROM payment_allocations WHERE payment_id = ",
    );
    q.bind(&p.id);
    let removed = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(allocation)
        .collect::<Result<Vec<_>>>()?;
    let mut q = Sql::new("DELETE FROM payment_allocations WHERE payment_id = ");
    q.bind(&p.id);
    q.query().execute(&mut **tx).await?;
    #[derive(Serialize)]
    struct After<'a> {
        reason_code: &'a str,
        rejected_on: &'a str,
        allocations_removed: &'a [AllocationRow],
    }
    audit::record(
        &mut **tx,
        actor,
        audit::Change {
            org_id: Some(&p.org_id),
            action: "payment.reject",
            entity_kind: "payment",
            entity_id: p.id.as_str(),
            before: Some(p),
            after: Some(&After {
                reason_code,
                rejected_on,
                allocations_removed: &removed,
            }),
        },
    )
    .await?;
    Ok(removed)
}

/// A refund to record.
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub org_id: Id,
    pub amount: String,
    pub refunded_on: String,
    pub reason: &'static str,
    pub payment_id: Option<String>,
    pub reference: String,
}

/// Records a refund, audited.
pub async fn record_refund(tx: &mut Tx, actor: &Actor, new: NewRefund) -> Result<Refund> {
    let r = Refund {
        id: new_id(REFUND_PREFIX, actor.recorded_at),
        org_id: new.org_id,
        amount: new.amount,
        refunded_on: new.refunded_on,
        reason: new.reason.to_owned(),
        payment_id: new.payment_id,
        reference: new.reference,
        recorded_by: Some(actor.label.clone()),
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!("INSERT INTO refunds ({REFUND}) VALUES ("));
    q.bind(&r.id).push(", ").bind(&r.org_id).push(", ");
    q.bind(&r.amount).push(", ").bind(&r.refunded_on).push(", ");
    q.bind(&r.reason)
        .push(", ")
        .bind(r.payment_id.clone())
        .push(", ");
    q.bind(&r.reference)
        .push(", ")
        .bind(r.recorded_by.clone())
        .push(", ");
    q.bind(r.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &r.org_id,
        "refund.record",
        "refund",
        r.id.as_str(),
        &r,
    )
    .await?;
    Ok(r)
}

/// The refunds of an organisation, newest first.
pub async fn refunds<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<Refund>> {
    let mut q = Sql::new(&format!("SELECT {REFUND} FROM refunds WHERE org_id = "));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id DESC");
    q.query().fetch_all(ex).await?.iter().map(refund).collect()
}
