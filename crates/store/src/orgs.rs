//! Organisations: the provider itself and its client companies.

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::{Id, id::prefix};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    pub id: Id,
    /// `provider` (exactly one: the staff's own) or `client`.
    pub kind: String,
    pub name: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address: String,
    pub created_at: Timestamp,
}

/// Fields of a new organisation.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub kind: &'static str,
    pub name: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address: String,
}

const COLUMNS: &str = "id, kind, name, siren, vat_number, address, created_at";

fn from_row(r: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: Id::from_raw(r.try_get("id")?),
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        siren: r.try_get("siren")?,
        vat_number: r.try_get("vat_number")?,
        address: r.try_get("address")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Creates an organisation (audited).
pub async fn create(tx: &mut Tx, actor: &Actor, new: NewOrg) -> Result<Org> {
    let org = Org {
        id: new_id(prefix::ORG, actor.recorded_at),
        kind: new.kind.to_owned(),
        name: new.name,
        siren: new.siren,
        vat_number: new.vat_number,
        address: new.address,
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!("INSERT INTO organizations ({COLUMNS}) VALUES ("));
    q.bind(&org.id)
        .push(", ")
        .bind(org.kind.as_str())
        .push(", ");
    q.bind(&org.name)
        .push(", ")
        .bind(org.siren.clone())
        .push(", ");
    q.bind(org.vat_number.clone()).push(", ").bind(&org.address);
    q.push(", ").bind(org.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &org.id,
        "organization.create",
        "organization",
        org.id.as_str(),
        &org,
    )
    .await?;
    Ok(org)
}

/// Reads one organisation visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Org> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM organizations WHERE id = "));
    q.bind(id);
    scope.restrict(&mut q, "id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The provider's own organisation (the staff's), if created.
pub async fn provider<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Option<Org>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM organizations WHERE kind = 'provider' ORDER BY id LIMIT 1"
    ));
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Lists the client organisations visible to `scope`, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Org>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM organizations WHERE kind = 'client'"
    ));
    scope.restrict(&mut q, "id");
    if let Some(c) = cursor {
        q.push(" AND id > ").bind(c);
    }
    q.push(" ORDER BY id LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}
