//! Services (R1.6-R1.7, R3): tenant data read and written through the
//! [`Scope`]. The life of a service is the catalog crate's state machine; the
//! store keeps its JSON (the evidence of each step) and a version number, and
//! applies a step only to the version it was computed from, so two
//! concurrent steps (a staff action and the daily pass) never both apply.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of services.
pub const PREFIX: &str = "svc";

/// A service as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    pub order_line_id: String,
    /// The item kind's code (`cloud_vm`, `colocation`...).
    pub kind: String,
    pub label: String,
    /// The catalog crate's `Item`, as JSON text.
    pub item_json: String,
    pub quantity: i64,
    /// Monthly fee of the whole line, exact decimal euros excluding VAT.
    pub monthly_fee: String,
    pub terms_version: String,
    /// `ordered` or `provisioned`.
    pub state: String,
    /// The catalog crate's `ServiceState`, as JSON text.
    pub state_json: String,
    /// `YYYY-MM-DD`, once provisioned.
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`, once provisioned.
    pub term_last_day: Option<String>,
    pub next_due_at: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A service to create, for a line of a validated order.
#[derive(Debug, Clone)]
pub struct NewService {
    pub org_id: Id,
    pub order_id: String,
    pub order_line_id: String,
    pub kind: String,
    pub label: String,
    pub item_json: String,
    pub quantity: i64,
    pub monthly_fee: String,
    pub terms_version: String,
    pub state_json: String,
}

/// A step to store: the new state and the columns that repeat it.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The version the step was computed from (compare-and-set).
    pub from_version: i64,
    pub state: &'a str,
    pub state_json: String,
    pub start_date: Option<String>,
    pub term_last_day: Option<String>,
    pub next_due_at: Option<Timestamp>,
    /// Dotted audit action, e.g. `service.provision`.
    pub action: &'a str,
}

const COLUMNS: &str = "id, org_id, order_id, order_line_id, kind, label, item_json, quantity, \
    monthly_fee, terms_version, state, state_json, start_date, term_last_day, next_due_at, \
    version, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<ServiceRow> {
    Ok(ServiceRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        order_line_id: r.try_get("order_line_id")?,
        kind: r.try_get("kind")?,
        label: r.try_get("label")?,
        item_json: r.try_get("item_json")?,
        quantity: r.try_get("quantity")?,
        monthly_fee: r.try_get("monthly_fee")?,
        terms_version: r.try_get("terms_version")?,
        state: r.try_get("state")?,
        state_json: r.try_get("state_json")?,
        start_date: r.try_get("start_date")?,
        term_last_day: r.try_get("term_last_day")?,
        next_due_at: time::opt_from_db(r.try_get("next_due_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

/// A service visible to `scope`; another organisation's is not found.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<ServiceRow> {
    crate::get_scoped(ex, scope, "services", COLUMNS, id, from_row).await
}

/// The services of one organisation visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<ServiceRow>> {
    crate::org_page(
        ex,
        scope,
        "services",
        COLUMNS,
        org_id,
        cursor,
        limit,
        from_row,
        |x| &x.id,
    )
    .await
}

/// The `item_json` of the services of one kind (`support`, `colocation`...)
/// of an organisation visible to `scope` (another organisation's: none).
pub async fn items_of_kind<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    kind: &str,
) -> Result<Vec<String>> {
    let mut q = Sql::new("SELECT item_json FROM services WHERE org_id = ");
    q.bind(org_id).push(" AND kind = ").bind(kind);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("item_json")?))
        .collect()
}

/// The services of one order visible to `scope`, in line order.
pub async fn of_order<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    order_id: &str,
) -> Result<Vec<ServiceRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM services WHERE order_id = "));
    q.bind(order_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Up to `limit` services (any organisation) with a step due at `now`,
/// earliest first: the daily pass's work list, read through the index on
/// `next_due_at`.
pub async fn due<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<ServiceRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM services WHERE next_due_at IS NOT NULL AND next_due_at <= "
    ));
    q.bind(now);
    q.push(" ORDER BY next_due_at, id LIMIT ").bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Creates a service awaiting provisioning, audited. A line has at most
/// one service: creating it again is a conflict (`order_line_id`).
pub async fn create(tx: &mut Tx, actor: &Actor, new: NewService) -> Result<ServiceRow> {
    let now = actor.recorded_at;
    let s = ServiceRow {
        id: new_id(PREFIX, now),
        org_id: new.org_id,
        order_id: new.order_id,
        order_line_id: new.order_line_id,
        kind: new.kind,
        label: new.label,
        item_json: new.item_json,
        quantity: new.quantity,
        monthly_fee: new.monthly_fee,
        terms_version: new.terms_version,
        state: "ordered".into(),
        state_json: new.state_json,
        start_date: None,
        term_last_day: None,
        next_due_at: None,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO services ({COLUMNS}) VALUES ("));
    q.bind(&s.id).push(", ").bind(&s.org_id).push(", ");
    q.bind(s.order_id.as_str())
        .push(", ")
        .bind(s.order_line_id.as_str())
        .push(", ");
    q.bind(s.kind.as_str())
        .push(", ")
        .bind(s.label.as_str())
        .push(", ");
    q.bind(s.item_json.as_str())
        .push(", ")
        .bind(s.quantity)
        .push(", ");
    q.bind(s.monthly_fee.as_str())
        .push(", ")
        .bind(s.terms_version.as_str())
        .push(", ");
    q.bind(s.state.as_str())
        .push(", ")
        .bind(s.state_json.as_str())
        .push(", NULL, NULL, NULL, 0, ");
    q.bind(s.created_at).push(", ").bind(s.updated_at).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "order_line_id"))?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: Some(&s.org_id),
            action: "service.create",
            entity_kind: "service",
            entity_id: s.id.as_str(),
            before: None,
            after: Some(&s),
        },
    )
    .await?;
    Ok(s)
}

/// Applies a step computed from `before` (which must be the stored
/// version), audited with the service before and after. A service that
/// moved meanwhile gives [`StoreError::Conflict`] (`version`).
pub async fn apply_step(
    tx: &mut Tx,
    actor: &Actor,
    before: &ServiceRow,
    step: Step<'_>,
) -> Result<ServiceRow> {
    let now = actor.recorded_at;
    let mut after = before.clone();
    after.state = step.state.to_owned();
    after.state_json = step.state_json;
    after.start_date = step.start_date;
    after.term_last_day = step.term_last_day;
    after.next_due_at = step.next_due_at;
    after.version = step.from_version + 1;
    after.updated_at = now;
    let mut q = Sql::new("UPDATE services SET state = ");
    q.bind(after.state.as_str())
        .push(", state_json = ")
        .bind(after.state_json.as_str());
    q.push(", start_date = ")
        .bind(after.start_date.clone())
        .push(", term_last_day = ")
        .bind(after.term_last_day.clone());
    q.push(", next_due_at = ")
        .bind(after.next_due_at)
        .push(", version = ")
        .bind(after.version);
    q.push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(step.from_version);
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("version"));
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: step.action,
            entity_kind: "service",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Rows per batched statement of [`apply_steps`]. Small on purpose: SQLite
/// finds each bound parameter's name by a linear scan, so binding costs grow
/// with the square of the parameters of one statement (measured: 200 rows a
/// statement spent a third of the pass there).
pub const STEPS_PER_STATEMENT: usize = 32;

/// Applies many steps at once (the daily pass), each only over the version
/// it was computed from, with one multi-row UPDATE and one multi-row audit
/// INSERT per 32 services instead of two statements per service. Returns
/// the services written; a service that moved meanwhile is left out (the
/// caller picks it up again), never half-written.
pub async fn apply_steps(
    tx: &mut Tx,
    actor: &Actor,
    steps: Vec<(&ServiceRow, Step<'_>)>,
) -> Result<Vec<ServiceRow>> {
    let now = actor.recorded_at;
    let mut written = Vec::with_capacity(steps.len());
    for chunk in steps.chunks(STEPS_PER_STATEMENT) {
        let mut q = Sql::new(
            "UPDATE services SET state = v.column3, state_json = v.column4, \
             start_date = v.column5, term_last_day = v.column6, \
             next_due_at = CAST(v.column7 AS BIGINT), version = services.version + 1, updated_at = ",
        );
        q.bind(now).push(" FROM (VALUES ");
        for (i, (before, step)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(&before.id);
            q.push(", CAST(")
                .bind(step.from_version)
                .push(" AS BIGINT), ");
            q.bind(step.state).push(", ").bind(step.state_json.as_str());
            q.push(", ").bind(step.start_date.clone()).push(", ");
            q.bind(step.term_last_day.clone());
            q.push(", CAST(")
                .bind(step.next_due_at)
                .push(" AS BIGINT))");
        }
        q.push(
            ") AS v WHERE services.id = v.column1 AND services.version = v.column2 \
             RETURNING services.id",
        );
        let done: std::collections::HashSet<String> = q
            .query()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut afters = Vec::with_capacity(chunk.len());
        for (before, step) in chunk {
            if !done.contains(before.id.as_str()) {
                continue;
            }
            let mut after = (*before).clone();
            after.state = step.state.to_owned();
            after.state_json = step.state_json.clone();
            after.start_date = step.start_date.clone();
            after.term_last_day = step.term_last_day.clone();
            after.next_due_at = step.next_due_at;
            after.version = step.from_version + 1;
            after.updated_at = now;
            afters.push((*before, step.action, after));
        }
        let changes: Vec<Change<'_, ServiceRow, ServiceRow>> = afters
            .iter()
            .map(|(before, action, after)| Change {
                org_id: Some(&after.org_id),
                action,
                entity_kind: "service",
                entity_id: after.id.as_str(),
                before: Some(*before),
                after: Some(after),
            })
            .collect();
        audit::record_many(&mut **tx, actor, &changes).await?;
        written.extend(afters.into_iter().map(|(_, _, a)| a));
    }
    Ok(written)
}

/// Moves the services of an order to the terms version that now governs
/// it (R1.2), audited per service; services already on it are left alone,
/// so running it again changes nothing. Returns how many moved.
pub async fn set_terms_version(
    tx: &mut Tx,
    actor: &Actor,
    order_id: &str,
    version: &str,
) -> Result<usize> {
    let rows = of_order(&mut **tx, &Scope::Staff, order_id).await?;
    let now = actor.recorded_at;
    let mut moved = Vec::new();
    for before in rows.iter().filter(|r| r.terms_version != version) {
        let mut q = Sql::new("UPDATE services SET terms_version = ");
        q.bind(version)
            .push(", version = version + 1, updated_at = ")
            .bind(now);
        q.push(" WHERE id = ").bind(&before.id);
        q.push(" AND version = ").bind(before.version);
        if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
            return Err(StoreError::Conflict("version"));
        }
        let mut after = before.clone();
        after.terms_version = version.to_owned();
        after.version += 1;
        after.updated_at = now;
        moved.push((before, after));
    }
    let changes: Vec<Change<'_, ServiceRow, ServiceRow>> = moved
        .iter()
        .map(|(before, after)| Change {
            org_id: Some(&after.org_id),
            action: "service.terms_version",
            entity_kind: "service",
            entity_id: after.id.as_str(),
            before: Some(*before),
            after: Some(after),
        })
        .collect();
    audit::record_many(&mut **tx, actor, &changes).await?;
    Ok(moved.len())
}

/// Counts the services with a step due at `now` (the pass's progress bar).
pub async fn count_due<'e, E: Executor<'e, Database = Any>>(ex: E, now: Timestamp) -> Result<i64> {
    let mut q = Sql::new(
        "SELECT COUNT(*) AS n FROM services WHERE next_due_at IS NOT NULL AND next_due_at <= ",
    );
    q.bind(now);
    let row = q.query().fetch_one(ex).await?;
    Ok(row.try_get("n")?)
}

/// Counts every service (benchmarks and the simulator's checks).
pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64> {
    let row = Sql::new("SELECT COUNT(*) AS n FROM services")
        .query()
        .fetch_one(ex)
        .await?;
    Ok(row.try_get("n")?)
}

/// The provisioned services of an organisation with the setup fee of one
/// unit of their order line (the billing run's input, R2.4), by identifier.
pub async fn billable_of_org<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &str,
) -> Result<Vec<(ServiceRow, String)>> {
    let cols: String = COLUMNS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = Sql::new(&format!(
        "SELECT {cols}, ol.setup_fee AS line_setup_fee FROM services s \
         JOIN order_lines ol ON ol.id = s.order_line_id \
         WHERE s.state = 'provisioned' AND s.org_id = "
    ));
    q.bind(org_id).push(" ORDER BY s.id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((from_row(r)?, r.try_get("line_setup_fee")?)))
        .collect()
}

/// The services of the given kinds (any organisation), by identifier: the
/// month close's work list (a few thousand rows of one kind).
pub async fn of_kinds<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kinds: &[&str],
) -> Result<Vec<ServiceRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM services WHERE kind IN ("));
    for (i, k) in kinds.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*k);
    }
    q.push(") ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Sets a service's monthly fee and item (a level adjusted by usage, R2.9)
/// over the version it was read at, audited with before and after.
pub async fn set_fee(
    tx: &mut Tx,
    actor: &Actor,
    before: &ServiceRow,
    monthly_fee: &str,
    item_json: &str,
) -> Result<ServiceRow> {
    let now = actor.recorded_at;
    let mut q = Sql::new("UPDATE services SET monthly_fee = ");
    q.bind(monthly_fee).push(", item_json = ").bind(item_json);
    q.push(", version = version + 1, updated_at = ").bind(now);
    q.push(" WHERE id = ").bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let mut after = before.clone();
    after.monthly_fee = monthly_fee.to_owned();
    after.item_json = item_json.to_owned();
    after.version += 1;
    after.updated_at = now;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "service.usage_adjustment",
            entity_kind: "service",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// The services of some kinds of one organisation visible to `scope`,
/// oldest first (backup and PRA pages).
pub async fn of_org_kinds<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    kinds: &[&str],
) -> Result<Vec<ServiceRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM services WHERE org_id = "));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" AND kind IN (");
    for (i, k) in kinds.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*k);
    }
    q.push(") ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
