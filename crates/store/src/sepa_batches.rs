//! SEPA direct-debit batches (migration 0018; R2.7): the pain.008 file as
//! written and the invoices it collects. A batch spans organisations: it is
//! the provider's file for its bank, read by staff only.

use crate::audit::{self, Actor};
use crate::payments::{RECEIVABLE, RECEIVABLE_FROM, Receivable, receivable};
use crate::sql::{Sql, new_id};
use crate::{Result, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of batches.
pub const PREFIX: &str = "sdd";

/// A batch as stored (the XML apart: it is read on download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub id: Id,
    /// `YYYY-MM-DD`.
    pub collection_date: String,
    pub message_id: String,
    pub transactions: i64,
    pub total: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

/// One collected invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub invoice_id: String,
    pub org_id: String,
    pub end_to_end_id: String,
    pub amount: String,
    pub sequence_type: String,
    pub mandate_reference: String,
}

const COLUMNS: &str =
    "id, collection_date, message_id, transactions, total, created_by, created_at";

fn from_row(r: &AnyRow) -> Result<Batch> {
    Ok(Batch {
        id: Id::from_raw(r.try_get("id")?),
        collection_date: r.try_get("collection_date")?,
        message_id: r.try_get("message_id")?,
        transactions: r.try_get("transactions")?,
        total: r.try_get("total")?,
        created_by: r.try_get("created_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Unpaid invoices due in `[from, to)` that no batch collects yet, oldest
/// number first.
pub async fn collectable<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Receivable>> {
    let mut q = Sql::new(&format!(
        "SELECT {RECEIVABLE} FROM {RECEIVABLE_FROM} \
         WHERE i.kind = 'invoice' AND i.paid_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM sepa_batch_items s WHERE s.invoice_id = i.id) \
         AND i.due_at >= "
    ));
    q.bind(from).push(" AND i.due_at < ").bind(to);
    q.push(" ORDER BY i.number");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(receivable)
        .collect()
}

/// Whether a mandate was already collected (its next collection is RCUR).
pub async fn mandate_used<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    mandate_reference: &str,
) -> Result<bool> {
    let mut q = Sql::new("SELECT 1 AS one FROM sepa_batch_items WHERE mandate_reference = ");
    q.bind(mandate_reference).push(" LIMIT 1");
    Ok(q.query().fetch_optional(ex).await?.is_some())
}

/// Stores a batch and its items, audited (without the XML).
pub async fn insert(
    tx: &mut Tx,
    actor: &Actor,
    collection_date: &str,
    message_id: &str,
    total: &str,
    xml: &str,
    items: &[Item],
) -> Result<Batch> {
    let b = Batch {
        id: new_id(PREFIX, actor.recorded_at),
        collection_date: collection_date.to_owned(),
        message_id: message_id.to_owned(),
        transactions: i64::try_from(items.len()).unwrap_or(i64::MAX),
        total: total.to_owned(),
        created_by: Some(actor.label.clone()),
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO sepa_batches ({COLUMNS}, xml) VALUES ("
    ));
    q.bind(&b.id).push(", ").bind(collection_date).push(", ");
    q.bind(message_id)
        .push(", ")
        .bind(b.transactions)
        .push(", ");
    q.bind(total)
        .push(", ")
        .bind(b.created_by.clone())
        .push(", ");
    q.bind(b.created_at).push(", ").bind(xml).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "message_id"))?;
    for i in items {
        let mut q = Sql::new(
            "INSERT INTO sepa_batch_items (batch_id, invoice_id, org_id, end_to_end_id, amount, \
             sequence_type, mandate_reference) VALUES (",
        );
        q.bind(&b.id).push(", ").bind(&i.invoice_id).push(", ");
        q.bind(&i.org_id)
            .push(", ")
            .bind(&i.end_to_end_id)
            .push(", ");
        q.bind(&i.amount)
            .push(", ")
            .bind(&i.sequence_type)
            .push(", ");
        q.bind(&i.mandate_reference).push(")");
        q.query().execute(&mut **tx).await?;
    }
    #[derive(Serialize)]
    struct After<'a> {
        batch: &'a Batch,
        items: &'a [Item],
    }
    audit::record(
        &mut **tx,
        actor,
        audit::Change::<(), _> {
            org_id: None,
            action: "sepa_batch.create",
            entity_kind: "sepa_batch",
            entity_id: b.id.as_str(),
            before: None,
            after: Some(&After { batch: &b, items }),
        },
    )
    .await?;
    Ok(b)
}

/// Every batch, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Batch>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM sepa_batches ORDER BY id DESC"
    ));
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One batch with its XML.
pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<(Batch, String)> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS}, xml FROM sepa_batches WHERE id = "
    ));
    q.bind(id);
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((from_row(&row)?, row.try_get("xml")?))
}

/// The items of a batch.
pub async fn items<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    batch_id: &str,
) -> Result<Vec<Item>> {
    let mut q = Sql::new(
        "SELECT invoice_id, org_id, end_to_end_id, amount, sequence_type, mandate_reference \
         FROM sepa_batch_items WHERE batch_id = ",
    );
    q.bind(batch_id).push(" ORDER BY end_to_end_id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(Item {
                invoice_id: r.try_get("invoice_id")?,
                org_id: r.try_get("org_id")?,
                end_to_end_id: r.try_get("end_to_end_id")?,
                amount: r.try_get("amount")?,
                sequence_type: r.try_get("sequence_type")?,
                mandate_reference: r.try_get("mandate_reference")?,
            })
        })
        .collect()
}
