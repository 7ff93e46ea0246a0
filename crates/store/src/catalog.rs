//! Published price lists (R2.2, R2.3): provider-wide data, readable by
//! every principal (a tariff is public to the provider's clients), written
//! by staff only. The prices are the catalog crate's JSON, kept as text and
//! checked again by the caller when read back.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of price list versions.
pub const PREFIX: &str = "prl";

/// One stored version of the tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceListRow {
    pub id: Id,
    pub name: String,
    /// `YYYY-MM-DD`, in the terms' time zone.
    pub effective_from: String,
    /// SKU -> tiers, as the catalog crate writes them.
    pub prices_json: String,
    pub published_at: Timestamp,
    /// When the price-change notice went out (None: no price changed).
    pub notified_at: Option<Timestamp>,
    pub published_by: Option<String>,
}

/// A version to publish.
#[derive(Debug, Clone)]
pub struct NewPriceList {
    pub id: Id,
    pub name: String,
    pub effective_from: String,
    pub prices_json: String,
    pub notified_at: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, name, effective_from, prices_json, published_at, notified_at, published_by";

fn from_row(r: &AnyRow) -> Result<PriceListRow> {
    Ok(PriceListRow {
        id: Id::from_raw(r.try_get("id")?),
        name: r.try_get("name")?,
        effective_from: r.try_get("effective_from")?,
        prices_json: r.try_get("prices_json")?,
        published_at: time::from_db(r.try_get("published_at")?),
        notified_at: time::opt_from_db(r.try_get("notified_at")?),
        published_by: r.try_get("published_by")?,
    })
}

/// A new price list identifier (time-ordered, from the injected clock).
pub fn new_list_id(now: Timestamp) -> Id {
    new_id(PREFIX, now)
}

/// Every published version, oldest effective date first: the price book.
pub async fn all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<PriceListRow>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM price_lists ORDER BY effective_from, id"
    ));
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// A page of versions, newest published first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<PriceListRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM price_lists WHERE 1 = 1"));
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}

/// Publishes a version, audited.
pub async fn insert(tx: &mut Tx, actor: &Actor, new: NewPriceList) -> Result<PriceListRow> {
    let row = PriceListRow {
        id: new.id,
        name: new.name,
        effective_from: new.effective_from,
        prices_json: new.prices_json,
        published_at: actor.recorded_at,
        notified_at: new.notified_at,
        published_by: actor.id.as_ref().map(|i| i.to_string()),
    };
    let mut q = Sql::new(&format!("INSERT INTO price_lists ({COLUMNS}) VALUES ("));
    q.bind(&row.id).push(", ").bind(&row.name).push(", ");
    q.bind(&row.effective_from)
        .push(", ")
        .bind(&row.prices_json)
        .push(", ");
    q.bind(row.published_at)
        .push(", ")
        .bind(row.notified_at)
        .push(", ");
    q.bind(row.published_by.clone()).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::StoreError::unique(e, "effective_from"))?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "price_list.publish",
            entity_kind: "price_list",
            entity_id: row.id.as_str(),
            before: None,
            after: Some(&row),
        },
    )
    .await?;
    Ok(row)
}
