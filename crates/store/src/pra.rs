//! PRA activations and tests (R6, R10.3-R10.4): the failover request, each
//! protected machine's restoration (reachable again, last replication
//! point) and the return to nominal. Tenant data read through the
//! [`Scope`]; every change audited. The RTO/RPO results are not stored: the
//! engine computes them from these rows whenever they are shown.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// Identifier prefix of activations.
pub const PREFIX: &str = "pra";

/// Most ids one `IN (...)` list binds (SQLite looks bind names up linearly).
const IDS_PER_STATEMENT: usize = 500;

/// An activation as stored, with its machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivationRow {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    pub requested_at: Timestamp,
    pub requester: String,
    /// `simple` or `full` for a test (R10.3), None for a real failover.
    pub test_kind: Option<String>,
    pub note: String,
    pub closed_at: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub machines: Vec<MachineRow>,
}

/// One protected machine of an activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineRow {
    pub service_id: String,
    pub machine: String,
    /// `c1`, `c2` or `c3`.
    pub criticality: String,
    pub criticality_refused: bool,
    pub reachable_at: Option<Timestamp>,
    pub recovery_point_at: Option<Timestamp>,
}

/// An activation to record.
#[derive(Debug, Clone)]
pub struct NewActivation {
    pub org_id: Id,
    pub order_id: String,
    pub requested_at: Timestamp,
    pub requester: String,
    pub test_kind: Option<String>,
    pub note: String,
    pub machines: Vec<MachineRow>,
}

const COLUMNS: &str = "id, org_id, order_id, requested_at, requester, test_kind, note, \
    closed_at, version, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<ActivationRow> {
    Ok(ActivationRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        requested_at: time::from_db(r.try_get("requested_at")?),
        requester: r.try_get("requester")?,
        test_kind: r.try_get("test_kind")?,
        note: r.try_get("note")?,
        closed_at: time::opt_from_db(r.try_get("closed_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
        machines: Vec::new(),
    })
}

fn machine_from_row(r: &AnyRow) -> Result<(String, MachineRow)> {
    Ok((
        r.try_get("activation_id")?,
        MachineRow {
            service_id: r.try_get("service_id")?,
            machine: r.try_get("machine")?,
            criticality: r.try_get("criticality")?,
            criticality_refused: r.try_get::<i64, _>("criticality_refused")? != 0,
            reachable_at: time::opt_from_db(r.try_get("reachable_at")?),
            recovery_point_at: time::opt_from_db(r.try_get("recovery_point_at")?),
        },
    ))
}

/// Fills in the machines of `rows`, by machine name.
async fn with_machines(tx: &mut Tx, mut rows: Vec<ActivationRow>) -> Result<Vec<ActivationRow>> {
    for chunk in rows.chunks_mut(IDS_PER_STATEMENT) {
        let mut q = Sql::new(
            "SELECT activation_id, service_id, machine, criticality, criticality_refused, \
             reachable_at, recovery_point_at FROM pra_activation_machines WHERE activation_id IN (",
        );
        for (i, a) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(&a.id);
        }
        q.push(") ORDER BY machine, service_id");
        let mut by_id: HashMap<String, Vec<MachineRow>> = HashMap::new();
        for r in q.query().fetch_all(&mut **tx).await? {
            let (a, m) = machine_from_row(&r)?;
            by_id.entry(a).or_default().push(m);
        }
        for a in chunk.iter_mut() {
            a.machines = by_id.remove(a.id.as_str()).unwrap_or_default();
        }
    }
    Ok(rows)
}

/// Records an activation with its machines.
pub async fn create(tx: &mut Tx, actor: &Actor, new: NewActivation) -> Result<ActivationRow> {
    let id = new_id(PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!("INSERT INTO pra_activations ({COLUMNS}) VALUES ("));
    q.bind(&id).push(", ").bind(&new.org_id).push(", ");
    q.bind(new.order_id.as_str())
        .push(", ")
        .bind(new.requested_at);
    q.push(", ")
        .bind(new.requester.as_str())
        .push(", ")
        .bind(new.test_kind.clone());
    q.push(", ")
        .bind(new.note.as_str())
        .push(", NULL, 0, ")
        .bind(actor.recorded_at);
    q.push(", ").bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    for m in &new.machines {
        let mut q = Sql::new(
            "INSERT INTO pra_activation_machines (activation_id, service_id, machine, \
             criticality, criticality_refused, reachable_at, recovery_point_at) VALUES (",
        );
        q.bind(&id)
            .push(", ")
            .bind(m.service_id.as_str())
            .push(", ");
        q.bind(m.machine.as_str())
            .push(", ")
            .bind(m.criticality.as_str());
        q.push(", ")
            .bind(i64::from(m.criticality_refused))
            .push(", ")
            .bind(m.reachable_at);
        q.push(", ").bind(m.recovery_point_at).push(")");
        q.query().execute(&mut **tx).await?;
    }
    let row = get(tx, &Scope::Staff, id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: Some(&row.org_id),
            action: "pra.activation",
            entity_kind: "pra_activation",
            entity_id: row.id.as_str(),
            before: None,
            after: Some(&row),
        },
    )
    .await?;
    Ok(row)
}

/// One activation visible to `scope`, with its machines.
pub async fn get(tx: &mut Tx, scope: &Scope, id: &str) -> Result<ActivationRow> {
    let row = crate::get_scoped(&mut **tx, scope, "pra_activations", COLUMNS, id, from_row).await?;
    Ok(with_machines(tx, vec![row]).await?.remove(0))
}

/// The activation of `order_id` not yet returned to nominal, if any.
pub async fn running(tx: &mut Tx, order_id: &str) -> Result<Option<ActivationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM pra_activations WHERE order_id = "
    ));
    q.bind(order_id).push(" AND closed_at IS NULL LIMIT 1");
    match q.query().fetch_optional(&mut **tx).await? {
        Some(r) => Ok(Some(from_row(&r)?)),
        None => Ok(None),
    }
}

/// The activations not yet returned to nominal, of every organisation,
/// the oldest request first (the back office's follow-up).
pub async fn open_activations(tx: &mut Tx, limit: i64) -> Result<Vec<ActivationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM pra_activations WHERE closed_at IS NULL \
         ORDER BY requested_at, id LIMIT "
    ));
    q.bind(limit);
    let rows = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
    with_machines(tx, rows).await
}

/// A page of an organisation's activations, newest first.
pub async fn list(
    tx: &mut Tx,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<ActivationRow>> {
    let page = crate::org_page(
        &mut **tx,
        scope,
        "pra_activations",
        COLUMNS,
        org_id,
        cursor,
        limit,
        from_row,
        |a| &a.id,
    )
    .await?;
    Ok(Page {
        items: with_machines(tx, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// Records when one machine was reachable again and the replication point
/// it came back from; compare-and-set on the activation's version.
pub async fn restore(
    tx: &mut Tx,
    actor: &Actor,
    before: &ActivationRow,
    service_id: &str,
    reachable_at: Timestamp,
    recovery_point_at: Option<Timestamp>,
) -> Result<ActivationRow> {
    bump(tx, actor, before).await?;
    let mut q = Sql::new("UPDATE pra_activation_machines SET reachable_at = ");
    q.bind(reachable_at)
        .push(", recovery_point_at = ")
        .bind(recovery_point_at);
    q.push(" WHERE activation_id = ")
        .bind(&before.id)
        .push(" AND service_id = ")
        .bind(service_id);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    audited(tx, actor, before, "pra.restore").await
}

/// Closes the activation at the return to nominal.
pub async fn close(
    tx: &mut Tx,
    actor: &Actor,
    before: &ActivationRow,
    closed_at: Timestamp,
) -> Result<ActivationRow> {
    bump(tx, actor, before).await?;
    let mut q = Sql::new("UPDATE pra_activations SET closed_at = ");
    q.bind(closed_at).push(" WHERE id = ").bind(&before.id);
    q.query().execute(&mut **tx).await?;
    audited(tx, actor, before, "pra.close").await
}

/// Moves the version on, refusing a change made since `before` was read.
async fn bump(tx: &mut Tx, actor: &Actor, before: &ActivationRow) -> Result<()> {
    let mut q = Sql::new("UPDATE pra_activations SET version = version + 1, updated_at = ");
    q.bind(actor.recorded_at)
        .push(" WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    Ok(())
}

async fn audited(
    tx: &mut Tx,
    actor: &Actor,
    before: &ActivationRow,
    action: &str,
) -> Result<ActivationRow> {
    let after = get(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action,
            entity_kind: "pra_activation",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// The activations of each given service requested in `[from, to)`, and
/// the tests requested earlier still running after `from`, with all their
/// machines (R6.3 counts a criticality over the whole activation), for the
/// monthly statements. Read in a few statements
/// whatever the number of services.
pub async fn activations_in(
    tx: &mut Tx,
    service_ids: &[&str],
    from: Timestamp,
    to: Timestamp,
) -> Result<HashMap<String, Vec<ActivationRow>>> {
    let mut wanted: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in service_ids.chunks(IDS_PER_STATEMENT) {
        let mut q = Sql::new(
            "SELECT m.activation_id, m.service_id FROM pra_activation_machines m \
             JOIN pra_activations a ON a.id = m.activation_id WHERE a.requested_at < ",
        );
        // Requested in the month, or a test still running into it (its
        // window excludes part of the month, R5.3).
        q.bind(to).push(" AND (a.requested_at >= ").bind(from);
        q.push(" OR (a.test_kind IS NOT NULL AND (a.closed_at IS NULL OR a.closed_at > ")
            .bind(from)
            .push(")))");
        q.push(" AND m.service_id IN (");
        for (i, s) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*s);
        }
        q.push(")");
        for r in q.query().fetch_all(&mut **tx).await? {
            let a: String = r.try_get("activation_id")?;
            let s: String = r.try_get("service_id")?;
            wanted.entry(a).or_default().push(s);
        }
    }
    let mut ids: Vec<&String> = wanted.keys().collect();
    ids.sort();
    let mut rows = Vec::new();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut q = Sql::new(&format!(
            "SELECT {COLUMNS} FROM pra_activations WHERE id IN ("
        ));
        for (i, a) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(a.as_str());
        }
        q.push(") ORDER BY requested_at, id");
        for r in q.query().fetch_all(&mut **tx).await? {
            rows.push(from_row(&r)?);
        }
    }
    let rows = with_machines(tx, rows).await?;
    let mut out: HashMap<String, Vec<ActivationRow>> = HashMap::new();
    for a in rows {
        for s in wanted.get(a.id.as_str()).into_iter().flatten() {
            out.entry(s.clone()).or_default().push(a.clone());
        }
    }
    Ok(out)
}
