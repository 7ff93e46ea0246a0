//! Prepaid hour books (R8.2-R8.3): the purchases, the interventions staff
//! record and the client's written overrun authorisations; tenant data read
//! and written through the [`Scope`], every change audited. The balance is
//! not stored: the engine's ledger computes it from these rows.

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefixes.
pub const BOOK_PREFIX: &str = "hbk";
pub const INTERVENTION_PREFIX: &str = "hbi";
pub const AUTHORISATION_PREFIX: &str = "hba";

/// A book as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Book {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    pub order_line_id: String,
    pub hours: i64,
    /// Exact decimal euros excluding VAT.
    pub hourly_rate: String,
    pub terms_version: String,
    pub purchased_at: Timestamp,
    pub version: i64,
    pub created_at: Timestamp,
}

/// A book to create for an order line.
#[derive(Debug, Clone)]
pub struct NewBook {
    pub org_id: Id,
    pub order_id: String,
    pub order_line_id: String,
    pub hours: i64,
    pub hourly_rate: String,
    pub terms_version: String,
    pub purchased_at: Timestamp,
}

/// An intervention as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterventionRow {
    pub id: Id,
    pub org_id: Id,
    pub book_id: String,
    pub kind: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub description: String,
    pub staff_id: String,
    pub staff_label: String,
    pub charged_minutes: String,
    pub overrun_minutes: String,
    pub explanation_json: String,
    pub created_at: Timestamp,
}

/// An intervention to record.
#[derive(Debug, Clone)]
pub struct NewIntervention {
    pub kind: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub description: String,
    pub staff_id: String,
    pub staff_label: String,
    pub charged_minutes: String,
    pub overrun_minutes: String,
    pub explanation_json: String,
}

/// An overrun authorisation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorisationRow {
    pub id: Id,
    pub org_id: Id,
    pub book_id: String,
    pub given_by: String,
    pub given_at: Timestamp,
    pub reference: String,
    pub max_minutes: i64,
    pub recorded_by: Option<String>,
    pub created_at: Timestamp,
}

/// An authorisation to record.
#[derive(Debug, Clone)]
pub struct NewAuthorisation {
    pub given_by: String,
    pub given_at: Timestamp,
    pub reference: String,
    pub max_minutes: i64,
}

/// A managed-services service of an organisation: when it was ordered and
/// its state (the catalog crate's `ServiceState`, as JSON text).
#[derive(Debug, Clone)]
pub struct ManagedService {
    pub created_at: Timestamp,
    pub state_json: String,
}

const BOOK: &str = "id, org_id, order_id, order_line_id, hours, hourly_rate, terms_version, \
    purchased_at, version, created_at";
const INTERVENTION: &str = "id, org_id, book_id, kind, started_at, ended_at, description, \
    staff_id, staff_label, charged_minutes, overrun_minutes, explanation_json, created_at";
const AUTHORISATION: &str =
    "id, org_id, book_id, given_by, given_at, reference, max_minutes, recorded_by, created_at";

fn book(r: &AnyRow) -> Result<Book> {
    Ok(Book {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        order_line_id: r.try_get("order_line_id")?,
        hours: r.try_get("hours")?,
        hourly_rate: r.try_get("hourly_rate")?,
        terms_version: r.try_get("terms_version")?,
        purchased_at: time::from_db(r.try_get("purchased_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn intervention(r: &AnyRow) -> Result<InterventionRow> {
    Ok(InterventionRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        book_id: r.try_get("book_id")?,
        kind: r.try_get("kind")?,
        started_at: time::from_db(r.try_get("started_at")?),
        ended_at: time::from_db(r.try_get("ended_at")?),
        description: r.try_get("description")?,
        staff_id: r.try_get("staff_id")?,
        staff_label: r.try_get("staff_label")?,
        charged_minutes: r.try_get("charged_minutes")?,
        overrun_minutes: r.try_get("overrun_minutes")?,
        explanation_json: r.try_get("explanation_json")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn authorisation(r: &AnyRow) -> Result<AuthorisationRow> {
    Ok(AuthorisationRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        book_id: r.try_get("book_id")?,
        given_by: r.try_get("given_by")?,
        given_at: time::from_db(r.try_get("given_at")?),
        reference: r.try_get("reference")?,
        max_minutes: r.try_get("max_minutes")?,
        recorded_by: r.try_get("recorded_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Creates the book of an order line unless it exists; returns it when new
/// (audited), `None` when the line already had one.
pub async fn create_book(tx: &mut Tx, actor: &Actor, new: NewBook) -> Result<Option<Book>> {
    let now = actor.recorded_at;
    let b = Book {
        id: new_id(BOOK_PREFIX, now),
        org_id: new.org_id,
        order_id: new.order_id,
        order_line_id: new.order_line_id,
        hours: new.hours,
        hourly_rate: new.hourly_rate,
        terms_version: new.terms_version,
        purchased_at: new.purchased_at,
        version: 0,
        created_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO hour_books ({BOOK}) VALUES ("));
    q.bind(&b.id).push(", ").bind(&b.org_id).push(", ");
    q.bind(b.order_id.as_str())
        .push(", ")
        .bind(b.order_line_id.as_str())
        .push(", ");
    q.bind(b.hours)
        .push(", ")
        .bind(b.hourly_rate.as_str())
        .push(", ");
    q.bind(b.terms_version.as_str())
        .push(", ")
        .bind(b.purchased_at)
        .push(", 0, ");
    q.bind(b.created_at)
        .push(") ON CONFLICT (order_line_id) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(None);
    }
    audit::created(
        &mut **tx,
        actor,
        &b.org_id,
        "hour_book.purchase",
        "hour_book",
        b.id.as_str(),
        &b,
    )
    .await?;
    Ok(Some(b))
}

/// A book visible to `scope`; another organisation's is not found.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Book> {
    crate::get_scoped(ex, scope, "hour_books", BOOK, id, book).await
}

/// The books of an organisation visible to `scope`, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<Book>> {
    let mut q = Sql::new(&format!("SELECT {BOOK} FROM hour_books WHERE org_id = "));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query().fetch_all(ex).await?.iter().map(book).collect()
}

/// The interventions on a book visible to `scope`, by end.
pub async fn interventions<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    book_id: &str,
) -> Result<Vec<InterventionRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {INTERVENTION} FROM hour_book_interventions WHERE book_id = "
    ));
    q.bind(book_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY ended_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(intervention)
        .collect()
}

/// The overrun authorisations of a book visible to `scope`, by date given.
pub async fn authorisations<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    book_id: &str,
) -> Result<Vec<AuthorisationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {AUTHORISATION} FROM hour_book_authorisations WHERE book_id = "
    ));
    q.bind(book_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY given_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(authorisation)
        .collect()
}

/// The managed-services services of an organisation visible to `scope`
/// (the carry-over condition of CS 5.3).
pub async fn managed_services<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<ManagedService>> {
    let mut q = Sql::new("SELECT created_at, state_json FROM services WHERE org_id = ");
    q.bind(org_id).push(" AND kind = 'managed_services'");
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(ManagedService {
                created_at: time::from_db(r.try_get("created_at")?),
                state_json: r.try_get("state_json")?,
            })
        })
        .collect()
}

/// Records an intervention on `book` (read at `book.version`), audited. A
/// book that received another intervention meanwhile gives
/// [`StoreError::Conflict`] (`version`): its ledger must be read again.
pub async fn add_intervention(
    tx: &mut Tx,
    actor: &Actor,
    book: &Book,
    new: NewIntervention,
) -> Result<InterventionRow> {
    let mut q = Sql::new("UPDATE hour_books SET version = version + 1 WHERE id = ");
    q.bind(&book.id).push(" AND version = ").bind(book.version);
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("version"));
    }
    let now = actor.recorded_at;
    let i = InterventionRow {
        id: new_id(INTERVENTION_PREFIX, now),
        org_id: book.org_id.clone(),
        book_id: book.id.to_string(),
        kind: new.kind,
        started_at: new.started_at,
        ended_at: new.ended_at,
        description: new.description,
        staff_id: new.staff_id,
        staff_label: new.staff_label,
        charged_minutes: new.charged_minutes,
        overrun_minutes: new.overrun_minutes,
        explanation_json: new.explanation_json,
        created_at: now,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO hour_book_interventions ({INTERVENTION}) VALUES ("
    ));
    q.bind(&i.id).push(", ").bind(&i.org_id).push(", ");
    q.bind(i.book_id.as_str())
        .push(", ")
        .bind(i.kind.as_str())
        .push(", ");
    q.bind(i.started_at).push(", ").bind(i.ended_at).push(", ");
    q.bind(i.description.as_str())
        .push(", ")
        .bind(i.staff_id.as_str())
        .push(", ");
    q.bind(i.staff_label.as_str())
        .push(", ")
        .bind(i.charged_minutes.as_str())
        .push(", ");
    q.bind(i.overrun_minutes.as_str())
        .push(", ")
        .bind(i.explanation_json.as_str())
        .push(", ");
    q.bind(i.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &i.org_id,
        "hour_book.intervention",
        "hour_book_intervention",
        i.id.as_str(),
        &i,
    )
    .await?;
    Ok(i)
}

/// Records the client's written overrun authorisation on `book`, audited.
pub async fn add_authorisation(
    tx: &mut Tx,
    actor: &Actor,
    book: &Book,
    new: NewAuthorisation,
) -> Result<AuthorisationRow> {
    let now = actor.recorded_at;
    let a = AuthorisationRow {
        id: new_id(AUTHORISATION_PREFIX, now),
        org_id: book.org_id.clone(),
        book_id: book.id.to_string(),
        given_by: new.given_by,
        given_at: new.given_at,
        reference: new.reference,
        max_minutes: new.max_minutes,
        recorded_by: actor.id.as_ref().map(ToString::to_string),
        created_at: now,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO hour_book_authorisations ({AUTHORISATION}) VALUES ("
    ));
    q.bind(&a.id).push(", ").bind(&a.org_id).push(", ");
    q.bind(a.book_id.as_str())
        .push(", ")
        .bind(a.given_by.as_str())
        .push(", ");
    q.bind(a.given_at)
        .push(", ")
        .bind(a.reference.as_str())
        .push(", ");
    q.bind(a.max_minutes)
        .push(", ")
        .bind(a.recorded_by.clone())
        .push(", ");
    q.bind(a.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &a.org_id,
        "hour_book.overrun_authorisation",
        "hour_book_authorisation",
        a.id.as_str(),
        &a,
    )
    .await?;
    Ok(a)
}
