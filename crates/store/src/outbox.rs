//! The e-mail outbox. A message is stored, rendered, with the job that will
//! deliver it, in the transaction of the change that caused it; its send time
//! is recorded on delivery and kept as evidence (R13).

use crate::jobs::{self, NewJob};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, time};
use ciel_domain::{Id, Lang, id::prefix};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

/// Kind of the job that delivers outbox messages.
pub const DELIVER_JOB: &str = "mail.deliver";

/// A stored message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: Id,
    pub org_id: Option<Id>,
    pub template: String,
    pub lang: Lang,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// RFC 5322 Message-ID, fixed at creation so a resend is recognisable.
    pub message_id: String,
    pub last_error: Option<String>,
}

/// A rendered message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub org_id: Option<Id>,
    pub template: &'static str,
    pub lang: Lang,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
}

const COLUMNS: &str = "id, org_id, template, lang, to_addr, subject, body_text, status, \
    created_at, sent_at, message_id, last_error";

fn from_row(r: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: Id::from_raw(r.try_get("id")?),
        org_id: r.try_get::<Option<String>, _>("org_id")?.map(Id::from_raw),
        template: r.try_get("template")?,
        lang: Lang::parse(&r.try_get::<String, _>("lang")?).unwrap_or_default(),
        to_addr: r.try_get("to_addr")?,
        subject: r.try_get("subject")?,
        body_text: r.try_get("body_text")?,
        status: r.try_get("status")?,
        created_at: time::from_db(r.try_get("created_at")?),
        sent_at: time::opt_from_db(r.try_get("sent_at")?),
        message_id: r.try_get("message_id")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Stores a message and enqueues its delivery; call inside the change's
/// transaction.
pub async fn enqueue(
    conn: &mut AnyConnection,
    msg: NewMessage,
    now: Timestamp,
    mail_domain: &str,
) -> Result<Id> {
    let id = new_id(prefix::MAIL, now);
    let message_id = format!("<{id}@{mail_domain}>");
    let mut q = Sql::new(&format!("INSERT INTO outbox ({COLUMNS}) VALUES ("));
    q.bind(&id)
        .push(", ")
        .bind(msg.org_id.as_ref().map(Id::as_str));
    q.push(", ")
        .bind(msg.template)
        .push(", ")
        .bind(msg.lang.code());
    q.push(", ").bind(msg.to_addr).push(", ").bind(msg.subject);
    q.push(", ")
        .bind(msg.body_text)
        .push(", 'pending', ")
        .bind(now);
    q.push(", NULL, ").bind(message_id).push(", NULL)");
    q.query().execute(&mut *conn).await?;
    jobs::enqueue(
        &mut *conn,
        NewJob {
            kind: DELIVER_JOB,
            payload: serde_json::json!({ "message": id }),
            run_at: now,
            dedup_key: Some(format!("mail:{id}")),
            max_attempts: 8,
        },
        now,
    )
    .await?;
    Ok(id)
}

/// Reads a message (unscoped: for the delivery job).
pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Message> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM outbox WHERE id = "));
    q.bind(id);
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Records the delivery time (evidence of the notice).
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &Id,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("UPDATE outbox SET status = 'sent', last_error = NULL, sent_at = ");
    q.bind(now)
        .push(" WHERE status <> 'sent' AND id = ")
        .bind(id);
    q.query().execute(ex).await?;
    Ok(())
}

/// Records a delivery error; `permanent` marks the message failed.
pub async fn mark_error<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &Id,
    error: &str,
    permanent: bool,
) -> Result<()> {
    let mut q = Sql::new("UPDATE outbox SET last_error = ");
    q.bind(error);
    if permanent {
        q.push(", status = 'failed'");
    }
    q.push(" WHERE status <> 'sent' AND id = ").bind(id);
    q.query().execute(ex).await?;
    Ok(())
}

/// Lists messages visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Message>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM outbox WHERE 1 = 1"));
    scope.restrict(&mut q, "org_id");
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Attaches a file to a stored message; call in the message's transaction.
pub async fn attach(
    conn: &mut AnyConnection,
    message: &Id,
    position: i64,
    file: &Attachment,
    now: Timestamp,
) -> Result<()> {
    use base64::Engine;
    let mut q = Sql::new(
        "INSERT INTO outbox_attachments (id, message_id, position, filename, content_type, data_base64) VALUES (",
    );
    q.bind(&new_id("att", now))
        .push(", ")
        .bind(message)
        .push(", ");
    q.bind(position)
        .push(", ")
        .bind(file.filename.as_str())
        .push(", ");
    q.bind(file.content_type.as_str()).push(", ");
    q.bind(base64::engine::general_purpose::STANDARD.encode(&file.data))
        .push(")");
    q.query().execute(&mut *conn).await?;
    Ok(())
}

/// Attaches an issued invoice's PDF by reference (the file stays where the
/// invoice keeps it); call in the message's transaction.
pub async fn attach_invoice_pdf(
    conn: &mut AnyConnection,
    message: &Id,
    position: i64,
    filename: &str,
    invoice_id: &Id,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO outbox_attachments (id, message_id, position, filename, content_type, data_base64, invoice_id) VALUES (",
    );
    q.bind(&new_id("att", now))
        .push(", ")
        .bind(message)
        .push(", ");
    q.bind(position).push(", ").bind(filename);
    q.push(", 'application/pdf', '', ")
        .bind(invoice_id)
        .push(")");
    q.query().execute(&mut *conn).await?;
    Ok(())
}

/// The files attached to a message, in order (unscoped: for delivery).
pub async fn attachments<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    message: &Id,
) -> Result<Vec<Attachment>> {
    use base64::Engine;
    let mut q = Sql::new(
        "SELECT a.filename, a.content_type, COALESCE(d.pdf_base64, a.data_base64) AS data_base64 \
         FROM outbox_attachments a LEFT JOIN invoice_documents d ON d.invoice_id = a.invoice_id \
         WHERE a.message_id = ",
    );
    q.bind(message).push(" ORDER BY a.position");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            let data: String = r.try_get("data_base64")?;
            Ok(Attachment {
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                data: base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .collect()
}
