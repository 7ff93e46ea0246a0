//! Terms versions over running orders (R1.2, CG 2.4): published versions
//! (provider-wide, readable by every principal, written by staff), and per
//! order the client's objections and the applications the `terms.apply` job
//! recorded (tenant data, through the [`Scope`]).

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of objections.
pub const OBJECTION_PREFIX: &str = "tob";
/// Identifier prefix of applications.
pub const APPLICATION_PREFIX: &str = "tap";

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    /// The document's `version.id`.
    pub id: String,
    #[serde(skip)]
    pub toml: String,
    /// `YYYY-MM-DD`.
    pub effective_date: String,
    /// The notice instant.
    pub published_at: Timestamp,
    pub published_by: Option<String>,
    pub objection_days: i64,
    pub applies_to_running_from: Timestamp,
}

/// A version to publish (published_at and published_by come from the actor).
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub id: String,
    pub toml: String,
    pub effective_date: String,
    pub objection_days: i64,
    pub applies_to_running_from: Timestamp,
}

/// A client's written objection to a version, for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectionRow {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    pub version_id: String,
    pub received_at: Timestamp,
    pub recorded_by: Option<String>,
    pub recorded_at: Timestamp,
}

/// The evidence that a version began to govern an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationRow {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    pub version_id: String,
    pub applied_at: Timestamp,
    /// The governance reason code (`applied_after_notice`, `accepted_at_renewal`).
    pub reason: String,
    pub recorded_at: Timestamp,
}

const COLUMNS: &str = "id, toml, effective_date, published_at, published_by, objection_days, \
    applies_to_running_from";
const OBJECTION_COLUMNS: &str =
    "id, org_id, order_id, version_id, received_at, recorded_by, recorded_at";
const APPLICATION_COLUMNS: &str =
    "id, org_id, order_id, version_id, applied_at, reason, recorded_at";

fn from_row(r: &AnyRow) -> Result<VersionRow> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        toml: r.try_get("toml")?,
        effective_date: r.try_get("effective_date")?,
        published_at: time::from_db(r.try_get("published_at")?),
        published_by: r.try_get("published_by")?,
        objection_days: r.try_get("objection_days")?,
        applies_to_running_from: time::from_db(r.try_get("applies_to_running_from")?),
    })
}

fn objection_from_row(r: &AnyRow) -> Result<ObjectionRow> {
    Ok(ObjectionRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        version_id: r.try_get("version_id")?,
        received_at: time::from_db(r.try_get("received_at")?),
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: time::from_db(r.try_get("recorded_at")?),
    })
}

fn application_from_row(r: &AnyRow) -> Result<ApplicationRow> {
    Ok(ApplicationRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        version_id: r.try_get("version_id")?,
        applied_at: time::from_db(r.try_get("applied_at")?),
        reason: r.try_get("reason")?,
        recorded_at: time::from_db(r.try_get("recorded_at")?),
    })
}

/// Every published version, in publication order.
pub async fn all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<VersionRow>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM terms_versions ORDER BY published_at, id"
    ));
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Publishes a version, audited; an id already published is a conflict.
pub async fn publish(tx: &mut Tx, actor: &Actor, new: NewVersion) -> Result<VersionRow> {
    let row = VersionRow {
        id: new.id,
        toml: new.toml,
        effective_date: new.effective_date,
        published_at: actor.recorded_at,
        published_by: actor.id.as_ref().map(|i| i.to_string()),
        objection_days: new.objection_days,
        applies_to_running_from: new.applies_to_running_from,
    };
    let mut q = Sql::new(&format!("INSERT INTO terms_versions ({COLUMNS}) VALUES ("));
    q.bind(row.id.as_str()).push(", ").bind(row.toml.as_str());
    q.push(", ").bind(row.effective_date.as_str());
    q.push(", ").bind(row.published_at).push(", ");
    q.bind(row.published_by.clone())
        .push(", ")
        .bind(row.objection_days);
    q.push(", ").bind(row.applies_to_running_from).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "version.id"))?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "terms_version.publish",
            entity_kind: "terms_version",
            entity_id: row.id.as_str(),
            before: None,
            after: Some(&row),
        },
    )
    .await?;
    Ok(row)
}

/// The objections recorded for an order visible to `scope`.
pub async fn objections_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    order_id: &str,
) -> Result<Vec<ObjectionRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {OBJECTION_COLUMNS} FROM terms_objections WHERE order_id = "
    ));
    q.bind(order_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY received_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(objection_from_row)
        .collect()
}

/// Records a client's objection (received at the actor's `occurred_at`),
/// audited; a second objection to the same version is a conflict.
pub async fn record_objection(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    order_id: &str,
    version_id: &str,
) -> Result<ObjectionRow> {
    let row = ObjectionRow {
        id: new_id(OBJECTION_PREFIX, actor.recorded_at),
        org_id: org_id.clone(),
        order_id: order_id.to_owned(),
        version_id: version_id.to_owned(),
        received_at: actor.occurred_at,
        recorded_by: actor.id.as_ref().map(|i| i.to_string()),
        recorded_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO terms_objections ({OBJECTION_COLUMNS}) VALUES ("
    ));
    q.bind(&row.id).push(", ").bind(&row.org_id).push(", ");
    q.bind(row.order_id.as_str())
        .push(", ")
        .bind(row.version_id.as_str());
    q.push(", ").bind(row.received_at).push(", ");
    q.bind(row.recorded_by.clone())
        .push(", ")
        .bind(row.recorded_at)
        .push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "version"))?;
    audit::created(
        &mut **tx,
        actor,
        org_id,
        "terms_version.object",
        "terms_objection",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(row)
}

/// The applications recorded for an order visible to `scope`, oldest first.
pub async fn applications_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    order_id: &str,
) -> Result<Vec<ApplicationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {APPLICATION_COLUMNS} FROM terms_applications WHERE order_id = "
    ));
    q.bind(order_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY applied_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(application_from_row)
        .collect()
}

/// Records that a version began to govern an order, audited; returns false
/// (and writes nothing) when it was already recorded, so the job may run
/// twice.
pub async fn record_application(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    order_id: &str,
    version_id: &str,
    applied_at: Timestamp,
    reason: &str,
) -> Result<bool> {
    let row = ApplicationRow {
        id: new_id(APPLICATION_PREFIX, actor.recorded_at),
        org_id: org_id.clone(),
        order_id: order_id.to_owned(),
        version_id: version_id.to_owned(),
        applied_at,
        reason: reason.to_owned(),
        recorded_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO terms_applications ({APPLICATION_COLUMNS}) VALUES ("
    ));
    q.bind(&row.id).push(", ").bind(&row.org_id).push(", ");
    q.bind(row.order_id.as_str())
        .push(", ")
        .bind(row.version_id.as_str());
    q.push(", ").bind(row.applied_at).push(", ");
    q.bind(row.reason.as_str()).push(", ").bind(row.recorded_at);
    q.push(") ON CONFLICT (order_id, version_id) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    audit::created(
        &mut **tx,
        actor,
        org_id,
        "terms_version.apply",
        "terms_application",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(true)
}
