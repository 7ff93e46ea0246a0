//! What the accounting export (FEC, issue 6 item 8) reads: the documents
//! issued and the money that moved in a period, across every client. Staff
//! only: the FEC is the provider's own books. Three queries in all, whatever
//! the number of documents (lines are read with their documents by a join).

use crate::time;
use crate::{Result, sql::Sql};
use jiff::Timestamp;
use sqlx::{Any, Executor, Row};

/// An invoice or credit note issued in the period, with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub issued_at: Timestamp,
    /// Including VAT, as on the document (positive).
    pub total: String,
    pub lines: Vec<SaleLineRow>,
}

/// A line's offer, net amount and VAT rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleLineRow {
    pub offer: Option<String>,
    pub amount: String,
    pub vat_percent: String,
}

/// Money that moved: a payment received, a direct debit rejected, a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementRow {
    /// `payment`, `rejection` or `refund`.
    pub kind: &'static str,
    pub reference: String,
    pub org_id: String,
    pub org_name: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub amount: String,
}

/// Documents issued in `[from, to)`, by issue instant then number, each with
/// its lines in order.
pub async fn sales<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<SaleRow>> {
    let mut q = Sql::new(
        "SELECT i.id, i.org_id, o.name AS org_name, i.number, i.kind, i.issued_at, i.total, \
         l.offer, l.amount, l.vat_percent \
         FROM invoices i JOIN organizations o ON o.id = i.org_id \
         LEFT JOIN invoice_lines l ON l.invoice_id = i.id \
         WHERE i.issued_at >= ",
    );
    q.bind(from).push(" AND i.issued_at < ").bind(to);
    q.push(" ORDER BY i.issued_at, i.number, l.position");
    let mut out: Vec<SaleRow> = Vec::new();
    for r in q.query().fetch_all(ex).await? {
        let id: String = r.try_get("id")?;
        if out.last().is_none_or(|s| s.id != id) {
            out.push(SaleRow {
                id,
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("org_name")?,
                number: r.try_get("number")?,
                kind: r.try_get("kind")?,
                issued_at: time::from_db(r.try_get("issued_at")?),
                total: r.try_get("total")?,
                lines: Vec::new(),
            });
        }
        let amount: Option<String> = r.try_get("amount")?;
        if let (Some(amount), Some(sale)) = (amount, out.last_mut()) {
            sale.lines.push(SaleLineRow {
                offer: r.try_get("offer")?,
                amount,
                vat_percent: r.try_get("vat_percent")?,
            });
        }
    }
    Ok(out)
}

/// Payments received, rejections and refunds whose day is in
/// `[from_day, to_day]` (`YYYY-MM-DD`, compared as text).
pub async fn movements<'e, E: Executor<'e, Database = Any> + Copy>(
    ex: E,
    from_day: &str,
    to_day: &str,
) -> Result<Vec<MovementRow>> {
    // (kind, query up to the day column, the day column)
    let queries: [(&'static str, &str, &str); 3] = [
        (
            "payment",
            "SELECT p.reference, p.org_id, o.name AS org_name, p.received_on AS day, p.amount \
             FROM payments p JOIN organizations o ON o.id = p.org_id \
             WHERE p.received_on >= ",
            "p.received_on",
        ),
        (
            "rejection",
            "SELECT p.reference, p.org_id, o.name AS org_name, r.rejected_on AS day, p.amount \
             FROM payment_rejections r JOIN payments p ON p.id = r.payment_id \
             JOIN organizations o ON o.id = p.org_id WHERE r.rejected_on >= ",
            "r.rejected_on",
        ),
        (
            "refund",
            "SELECT f.reference, f.org_id, o.name AS org_name, f.refunded_on AS day, f.amount \
             FROM refunds f JOIN organizations o ON o.id = f.org_id \
             WHERE f.refunded_on >= ",
            "f.refunded_on",
        ),
    ];
    let mut out = Vec::new();
    for (kind, head, column) in queries {
        let mut q = Sql::new(head);
        q.bind(from_day)
            .push(&format!(" AND {column} <= "))
            .bind(to_day);
        for r in q.query().fetch_all(ex).await? {
            out.push(MovementRow {
                kind,
                reference: r.try_get("reference")?,
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("org_name")?,
                day: r.try_get("day")?,
                amount: r.try_get("amount")?,
            });
        }
    }
    Ok(out)
}
