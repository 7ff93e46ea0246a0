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
/// due first. Credit notes are not receivables: never counted.
pub async fn overdue<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    now: Timestamp,
) -> Result<Vec<Invoice>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM invoices WHERE org_id = "));
    q.bind(org_id)
        .push(" AND kind = 'invoice' AND paid_at IS NULL AND due_at <= ")
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

// ------------------------------------------------------ issued documents

/// The one numbering sequence of invoices and credit notes (R2.11: "one
/// continuous sequence"; CGI 242 nonies A allows separate series, ciel
/// keeps one so a gap is visible at a glance).
pub const SEQUENCE: &str = "invoices";

/// The value the next [`take_number`] of `sequence` will return, read
/// without a lock: the billing run renders PDFs with predicted numbers
/// outside its transactions and re-renders the rare one another issuer
/// took in between.
pub async fn peek_number<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sequence: &str,
) -> Result<i64> {
    let mut q = Sql::new("SELECT next_value FROM invoice_counters WHERE sequence = ");
    q.bind(sequence);
    let row = q.query().fetch_optional(ex).await?;
    Ok(match row {
        Some(r) => r.try_get("next_value")?,
        None => 1,
    })
}

/// Takes the next number of `sequence` in the invoice's own transaction
/// (R2.11). The UPDATE locks the counter row until the transaction ends
/// (PostgreSQL row lock, the same as `SELECT ... FOR UPDATE`; SQLite has a
/// single writer), so a number is used only if its invoice is committed:
/// no gap, no duplicate, unlike a database sequence.
pub async fn take_number(tx: &mut Tx, sequence: &str) -> Result<i64> {
    let mut q = Sql::new("INSERT INTO invoice_counters (sequence, next_value) VALUES (");
    q.bind(sequence)
        .push(", 1) ON CONFLICT (sequence) DO NOTHING");
    q.query().execute(&mut **tx).await?;
    let mut q =
        Sql::new("UPDATE invoice_counters SET next_value = next_value + 1 WHERE sequence = ");
    q.bind(sequence).push(" RETURNING next_value");
    let next: i64 = q
        .query()
        .fetch_one(&mut **tx)
        .await?
        .try_get("next_value")?;
    Ok(next - 1)
}

/// An issued invoice or credit note, with its figures as on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub id: Id,
    pub org_id: Id,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// The invoice a credit note corrects.
    pub corrects_invoice_id: Option<String>,
    /// `YYYY-MM` of a monthly invoice.
    pub period: Option<String>,
    pub run_id: Option<String>,
    /// `fr` or `en`: the language of the PDF.
    pub lang: String,
    pub issued_at: Timestamp,
    pub due_at: Timestamp,
    /// Exact decimal euros, positive for both kinds.
    pub total_excl_vat: String,
    pub total_vat: String,
    pub total: String,
    pub paid_at: Option<Timestamp>,
    /// Why a credit note was issued.
    pub reason: Option<String>,
    /// Seller and buyer as at issue (JSON).
    #[serde(skip)]
    pub parties_json: String,
}

const DOC_COLUMNS: &str = "id, org_id, number, kind, corrects_invoice_id, period, run_id, lang, \
    issued_at, due_at, total_excl_vat, total_vat, total, paid_at, reason, parties_json";

fn doc_from_row(r: &AnyRow) -> Result<Document> {
    Ok(Document {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        number: r.try_get("number")?,
        kind: r.try_get("kind")?,
        corrects_invoice_id: r.try_get("corrects_invoice_id")?,
        period: r.try_get("period")?,
        run_id: r.try_get("run_id")?,
        lang: r.try_get("lang")?,
        issued_at: time::from_db(r.try_get("issued_at")?),
        due_at: time::from_db(r.try_get("due_at")?),
        total_excl_vat: r.try_get("total_excl_vat")?,
        total_vat: r.try_get("total_vat")?,
        total: r.try_get("total")?,
        paid_at: time::opt_from_db(r.try_get("paid_at")?),
        reason: r.try_get("reason")?,
        parties_json: r.try_get("parties_json")?,
    })
}

/// One line of an issued document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocLine {
    pub position: i64,
    /// recurring, pro_rata, setup, charge, credit.
    pub kind: String,
    /// `service`, `charge` or `invoice_line`.
    pub source_kind: String,
    pub source_id: String,
    /// The service's item kind code, for the accounts per offer.
    pub offer: Option<String>,
    pub label: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub quantity: String,
    pub unit_price: String,
    /// Exact decimal euros excluding VAT, rounded once (R2.12).
    pub amount: String,
    pub vat_percent: String,
    pub rule: String,
    /// The explanation (JSON) citing the rules applied.
    pub explanation_json: String,
}

const LINE_COLUMNS: &str = "position, kind, source_kind, source_id, offer, label, period_start, \
    period_end, quantity, unit_price, amount, vat_percent, rule, explanation_json";

fn line_from_row(r: &AnyRow) -> Result<DocLine> {
    Ok(DocLine {
        position: r.try_get("position")?,
        kind: r.try_get("kind")?,
        source_kind: r.try_get("source_kind")?,
        source_id: r.try_get("source_id")?,
        offer: r.try_get("offer")?,
        label: r.try_get("label")?,
        period_start: r.try_get("period_start")?,
        period_end: r.try_get("period_end")?,
        quantity: r.try_get("quantity")?,
        unit_price: r.try_get("unit_price")?,
        amount: r.try_get("amount")?,
        vat_percent: r.try_get("vat_percent")?,
        rule: r.try_get("rule")?,
        explanation_json: r.try_get("explanation_json")?,
    })
}

/// A document to issue.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub org_id: Id,
    /// `invoice` or `credit_note`.
    pub kind: &'static str,
    pub corrects_invoice_id: Option<String>,
    pub period: Option<String>,
    pub run_id: Option<String>,
    pub lang: String,
    pub issued_at: Timestamp,
    pub due_at: Timestamp,
    pub total_excl_vat: String,
    pub total_vat: String,
    pub total: String,
    pub reason: Option<String>,
    pub parties_json: String,
    pub lines: Vec<DocLine>,
    /// The pending charges it bills: marked with its identifier.
    pub charge_ids: Vec<String>,
}

/// The Factur-X rendering of a document.
#[derive(Debug, Clone)]
pub struct Rendering {
    pub pdf: Vec<u8>,
    pub xml: String,
}

/// Writes an issued document with its number (taken by [`take_number`] in
/// the same transaction), lines, Factur-X PDF and XML, marks the charges it
/// bills and audits it. The document is never updated afterwards (R2.11),
/// except its payment. A charge billed meanwhile by another document, or a
/// second monthly invoice of the same month, is a conflict: the caller's
/// transaction must then be rolled back.
pub async fn issue(
    tx: &mut Tx,
    actor: &Actor,
    number: &str,
    new: &NewDocument,
    rendering: &Rendering,
) -> Result<Document> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let doc = Document {
        id: new_id(PREFIX, actor.recorded_at),
        org_id: new.org_id.clone(),
        number: number.to_owned(),
        kind: new.kind.to_owned(),
        corrects_invoice_id: new.corrects_invoice_id.clone(),
        period: new.period.clone(),
        run_id: new.run_id.clone(),
        lang: new.lang.clone(),
        issued_at: new.issued_at,
        due_at: new.due_at,
        total_excl_vat: new.total_excl_vat.clone(),
        total_vat: new.total_vat.clone(),
        total: new.total.clone(),
        paid_at: None,
        reason: new.reason.clone(),
        parties_json: new.parties_json.clone(),
    };
    let mut q = Sql::new(&format!("INSERT INTO invoices ({DOC_COLUMNS}) VALUES ("));
    q.bind(&doc.id).push(", ").bind(&doc.org_id).push(", ");
    q.bind(number).push(", ").bind(new.kind).push(", ");
    q.bind(doc.corrects_invoice_id.clone()).push(", ");
    q.bind(doc.period.clone()).push(", ");
    q.bind(doc.run_id.clone()).push(", ");
    q.bind(&doc.lang).push(", ").bind(doc.issued_at).push(", ");
    q.bind(doc.due_at)
        .push(", ")
        .bind(&doc.total_excl_vat)
        .push(", ");
    q.bind(&doc.total_vat)
        .push(", ")
        .bind(&doc.total)
        .push(", NULL, ");
    q.bind(doc.reason.clone())
        .push(", ")
        .bind(&doc.parties_json);
    q.push(")");
    q.query().execute(&mut **tx).await.map_err(|e| {
        crate::StoreError::unique(
            e,
            if doc.period.is_some() {
                "period"
            } else {
                "number"
            },
        )
    })?;
    // Lines in batches (one statement each), within the bind limits.
    for chunk in new.lines.chunks(50) {
        let mut q = Sql::new(&format!(
            "INSERT INTO invoice_lines (invoice_id, {LINE_COLUMNS}) VALUES "
        ));
        for (i, l) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(&doc.id)
                .push(", ")
                .bind(l.position)
                .push(", ");
            q.bind(&l.kind).push(", ").bind(&l.source_kind).push(", ");
            q.bind(&l.source_id)
                .push(", ")
                .bind(l.offer.clone())
                .push(", ");
            q.bind(&l.label)
                .push(", ")
                .bind(l.period_start.clone())
                .push(", ");
            q.bind(l.period_end.clone())
                .push(", ")
                .bind(&l.quantity)
                .push(", ");
            q.bind(&l.unit_price).push(", ").bind(&l.amount).push(", ");
            q.bind(&l.vat_percent).push(", ").bind(&l.rule).push(", ");
            q.bind(&l.explanation_json).push(")");
        }
        q.query().execute(&mut **tx).await?;
    }
    let sha = sha2::Sha256::digest(&rendering.pdf);
    let mut q =
        Sql::new("INSERT INTO invoice_documents (invoice_id, pdf_base64, xml, sha256) VALUES (");
    q.bind(&doc.id).push(", ");
    q.bind(base64::engine::general_purpose::STANDARD.encode(&rendering.pdf))
        .push(", ");
    q.bind(&rendering.xml).push(", ");
    q.bind(hex(&sha)).push(")");
    q.query().execute(&mut **tx).await?;
    for chunk in new.charge_ids.chunks(100) {
        let mut q = Sql::new("UPDATE charges SET invoice_id = ");
        q.bind(&doc.id)
            .push(" WHERE invoice_id IS NULL AND org_id = ");
        q.bind(&doc.org_id).push(" AND id IN (");
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(c);
        }
        q.push(")");
        let n = q.query().execute(&mut **tx).await?.rows_affected();
        if n != chunk.len() as u64 {
            return Err(crate::StoreError::Conflict("charge"));
        }
    }
    let action = if new.kind == "credit_note" {
        "credit_note.issue"
    } else {
        "invoice.issue"
    };
    audit::created(
        &mut **tx,
        actor,
        &doc.org_id,
        action,
        "invoice",
        doc.id.as_str(),
        &doc,
    )
    .await?;
    Ok(doc)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An issued document visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Document> {
    crate::get_scoped(ex, scope, "invoices", DOC_COLUMNS, id, doc_from_row).await
}

/// The lines of a document, in order (read it through [`get`] first).
pub async fn lines<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    invoice_id: &str,
) -> Result<Vec<DocLine>> {
    let mut q = Sql::new(&format!(
        "SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = "
    ));
    q.bind(invoice_id).push(" ORDER BY position");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(line_from_row)
        .collect()
}

/// One column of a document's `invoice_documents` row.
async fn document_column<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    invoice_id: &str,
    column: &str,
) -> Result<String> {
    let mut q = Sql::new(&format!(
        "SELECT {column} FROM invoice_documents WHERE invoice_id = "
    ));
    q.bind(invoice_id);
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    Ok(row.try_get(column)?)
}

/// The Factur-X PDF of a document (read it through [`get`] first).
pub async fn pdf<'e, E: Executor<'e, Database = Any>>(ex: E, invoice_id: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let b64 = document_column(ex, invoice_id, "pdf_base64").await?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| crate::StoreError::Corrupt(e.to_string()))
}

/// Filters of the document list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org_id: Option<String>,
    pub period: Option<String>,
    pub run_id: Option<String>,
    pub kind: Option<String>,
}

/// Documents visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    filter: &Filter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<crate::Page<Document>> {
    let mut q = Sql::new(&format!(
        "SELECT {DOC_COLUMNS} FROM invoices WHERE kind IS NOT NULL"
    ));
    scope.restrict(&mut q, "org_id");
    for (col, v) in [
        ("org_id", &filter.org_id),
        ("period", &filter.period),
        ("run_id", &filter.run_id),
        ("kind", &filter.kind),
    ] {
        if let Some(v) = v {
            q.push(" AND ").push(col).push(" = ").bind(v.as_str());
        }
    }
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, doc_from_row, |d| &d.id).await
}

/// The credit notes correcting an invoice, oldest first.
pub async fn credit_notes_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    invoice_id: &str,
) -> Result<Vec<Document>> {
    let mut q = Sql::new(&format!(
        "SELECT {DOC_COLUMNS} FROM invoices WHERE kind = 'credit_note' AND corrects_invoice_id = "
    ));
    q.bind(invoice_id).push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(doc_from_row)
        .collect()
}

/// Services of an organisation whose setup fee is already on a document
/// (`setup_billed` of R2.4).
///
/// From the organisation's few invoices to their lines: `CROSS JOIN` makes
/// SQLite keep that order, which it otherwise reversed to scan every
/// service line of every client through `invoice_lines_source` (a billing
/// run of 10 000 clients slowed down with each invoice it wrote).
/// PostgreSQL plans it as the inner join it is.
pub async fn setup_billed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &str,
) -> Result<std::collections::HashSet<String>> {
    let mut q = Sql::new(
        "SELECT l.source_id FROM invoices i CROSS JOIN invoice_lines l \
         WHERE l.invoice_id = i.id AND l.kind = 'setup' AND l.source_kind = 'service' \
         AND i.kind = 'invoice' AND i.org_id = ",
    );
    q.bind(org_id);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<String, _>("source_id")?))
        .collect()
}

/// The CII XML embedded in a document's PDF (read it through [`get`] first).
pub async fn xml<'e, E: Executor<'e, Database = Any>>(ex: E, invoice_id: &str) -> Result<String> {
    document_column(ex, invoice_id, "xml").await
}
