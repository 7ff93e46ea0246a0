//! Colocation work (R11.3-R11.5): remote-hands orders, the 7-day
//! deadlines of change requests, inventory requests and damage notices,
//! and the power level of each emplacement with its alerts. Tenant data
//! read through the [`Scope`]; every change audited. Deadline states are
//! never stored: the `operations` crate computes them at the instant asked;
//! only what was sent (alert, breach notice) is recorded, so each is sent
//! once.

use crate::colo_access::audited;
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefixes.
pub const REMOTE_HANDS: &str = "crh";
pub const DEADLINE: &str = "cdl";
pub const POWER_ALERT: &str = "cpa";

/// A remote-hands order (R11.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RemoteHandsRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub service_id: String,
    pub kind: String,
    pub description: String,
    /// Exact decimal euros excluding VAT, from the order's price list.
    pub price: String,
    /// `ordered`, `done` or `cancelled`.
    pub status: String,
    pub minutes_spent: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A 7-day deadline of R11.4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadlineRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub service_id: String,
    /// `change_answer`, `inventory` or `damage_repair`.
    pub kind: String,
    pub subject: String,
    pub detail: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    /// Change requests: `approved` or `refused`.
    pub decision: Option<String>,
    pub answer: String,
    pub repair_cost: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub alert_sent_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub breach_sent_at: Option<Timestamp>,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A crossing of a power threshold (R11.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PowerAlertRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub service_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `near` or `above`.
    pub level: String,
    pub amps: Option<String>,
    pub kva: Option<String>,
    pub explanation_json: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

const RH_COLUMNS: &str = "id, org_id, service_id, kind, description, price, status, \
    minutes_spent, done_at, version, created_at";
const DL_COLUMNS: &str = "id, org_id, service_id, kind, subject, detail, opened_at, done_at, \
    decision, answer, repair_cost, alert_sent_at, breach_sent_at, version, created_at";
const PA_COLUMNS: &str =
    "id, org_id, service_id, at, level, amps, kva, explanation_json, created_at";

fn remote_hands(r: &AnyRow) -> Result<RemoteHandsRow> {
    Ok(RemoteHandsRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        kind: r.try_get("kind")?,
        description: r.try_get("description")?,
        price: r.try_get("price")?,
        status: r.try_get("status")?,
        minutes_spent: r.try_get("minutes_spent")?,
        done_at: time::opt_from_db(r.try_get("done_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn deadline(r: &AnyRow) -> Result<DeadlineRow> {
    Ok(DeadlineRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
        opened_at: time::from_db(r.try_get("opened_at")?),
        done_at: time::opt_from_db(r.try_get("done_at")?),
        decision: r.try_get("decision")?,
        answer: r.try_get("answer")?,
        repair_cost: r.try_get("repair_cost")?,
        alert_sent_at: time::opt_from_db(r.try_get("alert_sent_at")?),
        breach_sent_at: time::opt_from_db(r.try_get("breach_sent_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn power_alert(r: &AnyRow) -> Result<PowerAlertRow> {
    Ok(PowerAlertRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        at: time::from_db(r.try_get("at")?),
        level: r.try_get("level")?,
        amps: r.try_get("amps")?,
        kva: r.try_get("kva")?,
        explanation_json: r.try_get("explanation_json")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

// ---- remote hands -----------------------------------------------------------

/// Records an order of remote hands at its price.
pub async fn order_remote_hands(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    kind: &str,
    description: &str,
    price: &str,
) -> Result<RemoteHandsRow> {
    let id = new_id(REMOTE_HANDS, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_remote_hands ({RH_COLUMNS}) VALUES ("
    ));
    q.bind(&id)
        .push(", ")
        .bind(org_id)
        .push(", ")
        .bind(service_id);
    q.push(", ").bind(kind).push(", ").bind(description);
    q.push(", ")
        .bind(price)
        .push(", 'ordered', NULL, NULL, 0, ");
    q.bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    let row = get_remote_hands(&mut **tx, &Scope::Staff, id.as_str()).await?;
    audited::<_, ()>(
        tx,
        actor,
        org_id,
        "colocation.remote_hands.order",
        "colo_remote_hands",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn get_remote_hands<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<RemoteHandsRow> {
    crate::get_scoped(ex, scope, "colo_remote_hands", RH_COLUMNS, id, remote_hands).await
}

pub async fn list_remote_hands<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<RemoteHandsRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_remote_hands",
        RH_COLUMNS,
        org_id,
        cursor,
        limit,
        remote_hands,
        |r| &r.id,
    )
    .await
}

/// Staff's queue: remote hands still to do, oldest first.
pub async fn open_remote_hands<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<RemoteHandsRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {RH_COLUMNS} FROM colo_remote_hands WHERE status = 'ordered' ORDER BY id LIMIT "
    ));
    q.bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(remote_hands)
        .collect()
}

/// Marks an order done (with the time spent) or cancelled.
pub async fn finish_remote_hands(
    tx: &mut Tx,
    actor: &Actor,
    before: &RemoteHandsRow,
    status: &str,
    minutes_spent: Option<i64>,
) -> Result<RemoteHandsRow> {
    let mut q = Sql::new("UPDATE colo_remote_hands SET status = ");
    q.bind(status)
        .push(", minutes_spent = ")
        .bind(minutes_spent);
    q.push(", done_at = ").bind(actor.occurred_at);
    q.push(", version = version + 1 WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get_remote_hands(&mut **tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        &format!("colocation.remote_hands.{status}"),
        "colo_remote_hands",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

// ---- deadlines --------------------------------------------------------------

/// Opens a deadline at `opened_at`.
#[allow(clippy::too_many_arguments)]
pub async fn open_deadline(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    kind: &str,
    subject: &str,
    detail: &str,
    opened_at: Timestamp,
) -> Result<DeadlineRow> {
    let id = new_id(DEADLINE, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_deadlines ({DL_COLUMNS}) VALUES ("
    ));
    q.bind(&id)
        .push(", ")
        .bind(org_id)
        .push(", ")
        .bind(service_id);
    q.push(", ").bind(kind).push(", ").bind(subject);
    q.push(", ").bind(detail).push(", ").bind(opened_at);
    q.push(", NULL, NULL, '', NULL, NULL, NULL, 0, ");
    q.bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    let row = get_deadline(&mut **tx, &Scope::Staff, id.as_str()).await?;
    audited::<_, ()>(
        tx,
        actor,
        org_id,
        &format!("colocation.{kind}.open"),
        "colo_deadline",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn get_deadline<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<DeadlineRow> {
    crate::get_scoped(ex, scope, "colo_deadlines", DL_COLUMNS, id, deadline).await
}

pub async fn list_deadlines<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<DeadlineRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_deadlines",
        DL_COLUMNS,
        org_id,
        cursor,
        limit,
        deadline,
        |d| &d.id,
    )
    .await
}

/// Deadlines still open (nothing done), oldest first: the staff queue and
/// the pass's alerts. Bounded by `limit`.
pub async fn open_deadlines<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<DeadlineRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {DL_COLUMNS} FROM colo_deadlines WHERE done_at IS NULL ORDER BY opened_at, id LIMIT "
    ));
    q.bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(deadline)
        .collect()
}

/// What changes on a deadline.
#[derive(Debug, Clone, Default)]
pub struct DeadlineChange<'a> {
    pub done_at: Option<Timestamp>,
    pub decision: Option<&'a str>,
    pub answer: Option<&'a str>,
    pub repair_cost: Option<&'a str>,
    pub alert_sent_at: Option<Timestamp>,
    pub breach_sent_at: Option<Timestamp>,
}

/// Applies a change (compare-and-set); fields left `None` keep their value.
pub async fn change_deadline(
    tx: &mut Tx,
    actor: &Actor,
    before: &DeadlineRow,
    action: &str,
    c: DeadlineChange<'_>,
) -> Result<DeadlineRow> {
    let mut q = Sql::new("UPDATE colo_deadlines SET version = version + 1");
    if let Some(t) = c.done_at {
        q.push(", done_at = ").bind(t);
    }
    if let Some(d) = c.decision {
        q.push(", decision = ").bind(d);
    }
    if let Some(a) = c.answer {
        q.push(", answer = ").bind(a);
    }
    if let Some(r) = c.repair_cost {
        q.push(", repair_cost = ").bind(r);
    }
    if let Some(t) = c.alert_sent_at {
        q.push(", alert_sent_at = ").bind(t);
    }
    if let Some(t) = c.breach_sent_at {
        q.push(", breach_sent_at = ").bind(t);
    }
    q.push(" WHERE id = ").bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get_deadline(&mut **tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        action,
        "colo_deadline",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

// ---- power ------------------------------------------------------------------

/// The level after a service's latest reading: (level, at).
pub async fn power_state(tx: &mut Tx, service_id: &str) -> Result<Option<(String, Timestamp)>> {
    let mut q = Sql::new("SELECT level, at FROM colo_power_states WHERE service_id = ");
    q.bind(service_id);
    match q.query().fetch_optional(&mut **tx).await? {
        Some(r) => Ok(Some((r.try_get(0)?, time::from_db(r.try_get(1)?)))),
        None => Ok(None),
    }
}

/// Stores the level after the latest reading.
pub async fn set_power_state(
    tx: &mut Tx,
    service_id: &str,
    level: &str,
    at: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("INSERT INTO colo_power_states (service_id, level, at) VALUES (");
    q.bind(service_id)
        .push(", ")
        .bind(level)
        .push(", ")
        .bind(at);
    q.push(") ON CONFLICT (service_id) DO UPDATE SET level = excluded.level, at = excluded.at");
    q.query().execute(&mut **tx).await?;
    Ok(())
}

/// A crossing to record; returns it when new (a replay records nothing).
#[allow(clippy::too_many_arguments)]
pub async fn record_power_alert(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    at: Timestamp,
    level: &str,
    amps: Option<String>,
    kva: Option<String>,
    explanation_json: String,
) -> Result<Option<PowerAlertRow>> {
    let row = PowerAlertRow {
        id: new_id(POWER_ALERT, actor.recorded_at),
        org_id: org_id.clone(),
        service_id: service_id.to_owned(),
        at,
        level: level.to_owned(),
        amps,
        kva,
        explanation_json,
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_power_alerts ({PA_COLUMNS}) VALUES ("
    ));
    q.bind(&row.id)
        .push(", ")
        .bind(org_id)
        .push(", ")
        .bind(service_id);
    q.push(", ").bind(at).push(", ").bind(level);
    q.push(", ")
        .bind(row.amps.clone())
        .push(", ")
        .bind(row.kva.clone());
    q.push(", ").bind(row.explanation_json.as_str()).push(", ");
    q.bind(row.created_at)
        .push(") ON CONFLICT (service_id, at, level) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(None);
    }
    audited::<_, ()>(
        tx,
        actor,
        org_id,
        "colocation.power.alert",
        "colo_power_alert",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(Some(row))
}

pub async fn list_power_alerts<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<PowerAlertRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_power_alerts",
        PA_COLUMNS,
        org_id,
        cursor,
        limit,
        power_alert,
        |a| &a.id,
    )
    .await
}

use crate::audit::Actor;
