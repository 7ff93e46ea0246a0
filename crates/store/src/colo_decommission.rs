//! Decommissioning at a colocation termination (R11.6): one row per
//! terminated colocation service holding the `operations` crate's state
//! (proof, formal notice, steps applied) as JSON, and the photo proof's
//! bytes. Tenant data read through the [`Scope`]; every change audited.

use crate::audit::Actor;
use crate::colo_access::audited;
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix.
pub const PREFIX: &str = "cdc";

/// A decommissioning as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DecommissionRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub service_id: String,
    /// `YYYY-MM-DD`, the termination's effective date.
    pub effective_date: String,
    /// `operations::decommission::DecommissionState` as JSON.
    pub state_json: String,
    pub open: bool,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The photo proof's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PhotoMeta {
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[schema(value_type = String, format = DateTime)]
    pub taken_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: Timestamp,
}

const COLUMNS: &str =
    "id, org_id, service_id, effective_date, state_json, open, version, created_at";

fn row(r: &AnyRow) -> Result<DecommissionRow> {
    Ok(DecommissionRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        effective_date: r.try_get("effective_date")?,
        state_json: r.try_get("state_json")?,
        open: r.try_get::<i64, _>("open")? != 0,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Opens the decommissioning of a service unless it exists; returns the
/// row and whether it is new.
pub async fn open(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    effective_date: &str,
    state_json: &str,
) -> Result<(DecommissionRow, bool)> {
    let id = new_id(PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_decommissions ({COLUMNS}) VALUES ("
    ));
    q.bind(&id)
        .push(", ")
        .bind(org_id)
        .push(", ")
        .bind(service_id);
    q.push(", ")
        .bind(effective_date)
        .push(", ")
        .bind(state_json);
    q.push(", 1, 0, ").bind(actor.recorded_at);
    q.push(") ON CONFLICT (service_id) DO NOTHING");
    let new = q.query().execute(&mut **tx).await?.rows_affected() == 1;
    let r = of_service(&mut **tx, &Scope::Staff, service_id).await?;
    if new {
        audited::<_, ()>(
            tx,
            actor,
            org_id,
            "colocation.decommission.open",
            "colo_decommission",
            &r.id,
            None,
            &r,
        )
        .await?;
    }
    Ok((r, new))
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<DecommissionRow> {
    crate::get_scoped(ex, scope, "colo_decommissions", COLUMNS, id, row).await
}

pub async fn of_service<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    service_id: &str,
) -> Result<DecommissionRow> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM colo_decommissions WHERE service_id = "
    ));
    q.bind(service_id);
    scope.restrict(&mut q, "org_id");
    let r = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<DecommissionRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_decommissions",
        COLUMNS,
        org_id,
        cursor,
        limit,
        row,
        |d| &d.id,
    )
    .await
}

/// The decommissionings with steps left, for the pass and the staff list.
pub async fn open_ones<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<DecommissionRow>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM colo_decommissions WHERE open = 1 ORDER BY id"
    ));
    q.query().fetch_all(ex).await?.iter().map(row).collect()
}

/// Stores a new state (compare-and-set).
pub async fn save(
    tx: &mut Tx,
    actor: &Actor,
    before: &DecommissionRow,
    action: &str,
    state_json: &str,
    open: bool,
) -> Result<DecommissionRow> {
    let mut q = Sql::new("UPDATE colo_decommissions SET state_json = ");
    q.bind(state_json).push(", open = ").bind(i64::from(open));
    q.push(", version = version + 1 WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get(&mut **tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        action,
        "colo_decommission",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

/// Stores the photo proof (one per decommissioning) with its SHA-256.
pub async fn put_photo(
    tx: &mut Tx,
    decommission_id: &Id,
    content_type: &str,
    taken_at: Timestamp,
    uploaded_at: Timestamp,
    bytes: &[u8],
) -> Result<PhotoMeta> {
    use base64::Engine;
    use sha2::Digest;
    let meta = PhotoMeta {
        content_type: content_type.to_owned(),
        size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        sha256: format!("{:x}", sha2::Sha256::digest(bytes)),
        taken_at,
        uploaded_at,
    };
    let mut q = Sql::new(
        "INSERT INTO colo_decommission_photos (decommission_id, content_type, size_bytes, \
         sha256, taken_at, uploaded_at, data_base64) VALUES (",
    );
    q.bind(decommission_id).push(", ");
    q.bind(content_type).push(", ");
    q.bind(meta.size_bytes)
        .push(", ")
        .bind(meta.sha256.as_str());
    q.push(", ").bind(taken_at).push(", ").bind(uploaded_at);
    q.push(", ")
        .bind(base64::engine::general_purpose::STANDARD.encode(bytes))
        .push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "photo"))?;
    Ok(meta)
}

/// The photo proof's metadata, if uploaded.
pub async fn photo_meta<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    decommission_id: &str,
) -> Result<Option<PhotoMeta>> {
    let mut q = Sql::new(
        "SELECT content_type, size_bytes, sha256, taken_at, uploaded_at \
         FROM colo_decommission_photos WHERE decommission_id = ",
    );
    q.bind(decommission_id);
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(meta)
        .transpose()
}

fn meta(r: &AnyRow) -> Result<PhotoMeta> {
    Ok(PhotoMeta {
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        taken_at: time::from_db(r.try_get("taken_at")?),
        uploaded_at: time::from_db(r.try_get("uploaded_at")?),
    })
}

/// The photo proof: metadata and bytes.
pub async fn photo<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    decommission_id: &str,
) -> Result<(PhotoMeta, Vec<u8>)> {
    use base64::Engine;
    let mut q = Sql::new(
        "SELECT content_type, size_bytes, sha256, taken_at, uploaded_at, data_base64 \
         FROM colo_decommission_photos WHERE decommission_id = ",
    );
    q.bind(decommission_id);
    let r = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    let data: String = r.try_get("data_base64")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| StoreError::Corrupt(format!("photo: {e}")))?;
    Ok((meta(&r)?, bytes))
}
