//! PRA operations beside the activations (R10.1-R10.3, R6.5): the client's
//! designated users, what the provider records of each protected machine
//! (recommended criticality, the client's refusal, replication status) and
//! the tests the client notifies. Tenant data read through the [`Scope`];
//! every change audited.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

// ---- designations (R10.2) ------------------------------------------------

/// Identifier prefix of designations.
pub const DESIGNATION_PREFIX: &str = "prd";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesignationRow {
    pub id: Id,
    pub org_id: Id,
    pub user_id: String,
    pub email: String,
    /// JSON array of `trigger_failover` / `change_policies`.
    pub actions_json: String,
    pub designated_at: Timestamp,
    pub designated_by: String,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const DESIGNATION_COLUMNS: &str = "id, org_id, user_id, email, actions_json, designated_at, \
    designated_by, revoked_at, created_at";

fn designation_from_row(r: &AnyRow) -> Result<DesignationRow> {
    Ok(DesignationRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        actions_json: r.try_get("actions_json")?,
        designated_at: time::from_db(r.try_get("designated_at")?),
        designated_by: r.try_get("designated_by")?,
        revoked_at: time::opt_from_db(r.try_get("revoked_at")?),
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Every designation of an organisation (revoked ones included: the
/// refusal says "revoked"), oldest first.
pub async fn designations(tx: &mut Tx, scope: &Scope, org_id: &str) -> Result<Vec<DesignationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {DESIGNATION_COLUMNS} FROM pra_designations WHERE org_id = "
    ));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(designation_from_row)
        .collect()
}

pub async fn designation(tx: &mut Tx, scope: &Scope, id: &str) -> Result<DesignationRow> {
    crate::get_scoped(
        &mut **tx,
        scope,
        "pra_designations",
        DESIGNATION_COLUMNS,
        id,
        designation_from_row,
    )
    .await
}

/// Records a designation, effective at the actor's `occurred_at`.
pub async fn designate(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    user_id: &str,
    email: &str,
    actions_json: &str,
) -> Result<DesignationRow> {
    let id = new_id(DESIGNATION_PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO pra_designations ({DESIGNATION_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(org_id);
    q.push(", ").bind(user_id).push(", ").bind(email);
    q.push(", ").bind(actions_json);
    q.push(", ").bind(actor.occurred_at);
    q.push(", ").bind(actor.label.as_str());
    q.push(", NULL, ").bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    let row = designation(tx, &Scope::Staff, id.as_str()).await?;
    audit::created(
        &mut **tx,
        actor,
        &row.org_id,
        "pra.designate",
        "pra_designation",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(row)
}

/// Revokes a designation (once).
pub async fn revoke(tx: &mut Tx, actor: &Actor, before: &DesignationRow) -> Result<DesignationRow> {
    let mut q = Sql::new("UPDATE pra_designations SET revoked_at = ");
    q.bind(actor.occurred_at)
        .push(" WHERE id = ")
        .bind(&before.id);
    q.push(" AND revoked_at IS NULL");
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("revoked"));
    }
    let after = designation(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "pra.revoke",
            entity_kind: "pra_designation",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

// ---- protected machines (R10.1, R6.5) -------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct MachineFacts {
    pub service_id: String,
    pub org_id: String,
    /// `c1`..`c3`, the provider's recommendation.
    pub recommended_criticality: Option<String>,
    pub recommended_at: Option<Timestamp>,
    /// The client refused the recommendation: no SLA on the machine (R6.5).
    pub refused_at: Option<Timestamp>,
    /// `ok`, `lagging` or `failed`.
    pub replication_status: Option<String>,
    pub last_replication_at: Option<Timestamp>,
    pub replication_reported_at: Option<Timestamp>,
    pub version: i64,
}

const MACHINE_COLUMNS: &str = "service_id, org_id, recommended_criticality, recommended_at, \
    refused_at, replication_status, last_replication_at, replication_reported_at, version";

fn machine_from_row(r: &AnyRow) -> Result<MachineFacts> {
    Ok(MachineFacts {
        service_id: r.try_get("service_id")?,
        org_id: r.try_get("org_id")?,
        recommended_criticality: r.try_get("recommended_criticality")?,
        recommended_at: time::opt_from_db(r.try_get("recommended_at")?),
        refused_at: time::opt_from_db(r.try_get("refused_at")?),
        replication_status: r.try_get("replication_status")?,
        last_replication_at: time::opt_from_db(r.try_get("last_replication_at")?),
        replication_reported_at: time::opt_from_db(r.try_get("replication_reported_at")?),
        version: r.try_get("version")?,
    })
}

/// The facts of an organisation's protected machines (`None`: of every
/// organisation `scope` sees), by service.
pub async fn machines_of(
    tx: &mut Tx,
    scope: &Scope,
    org_id: Option<&str>,
) -> Result<Vec<MachineFacts>> {
    let mut q = Sql::new(&format!(
        "SELECT {MACHINE_COLUMNS} FROM pra_machines WHERE 1 = 1"
    ));
    if let Some(o) = org_id {
        q.push(" AND org_id = ").bind(o);
    }
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY service_id");
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(machine_from_row)
        .collect()
}

/// The facts of one machine (none recorded yet: the defaults).
pub async fn machine(tx: &mut Tx, service_id: &str) -> Result<Option<MachineFacts>> {
    let mut q = Sql::new(&format!(
        "SELECT {MACHINE_COLUMNS} FROM pra_machines WHERE service_id = "
    ));
    q.bind(service_id);
    q.query()
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| machine_from_row(&r))
        .transpose()
}

/// Writes a machine's facts over the version it was read at (`before`
/// None: the first facts), audited as `action`.
pub async fn set_machine(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: Option<&MachineFacts>,
    new: &MachineFacts,
) -> Result<MachineFacts> {
    let now = actor.recorded_at;
    let mut q = match before {
        None => {
            let mut q = Sql::new(&format!(
                "INSERT INTO pra_machines ({MACHINE_COLUMNS}, updated_at) VALUES ("
            ));
            q.bind(new.service_id.as_str())
                .push(", ")
                .bind(new.org_id.as_str());
            q
        }
        Some(_) => Sql::new("UPDATE pra_machines SET recommended_criticality = "),
    };
    if before.is_none() {
        q.push(", ").bind(new.recommended_criticality.clone());
        q.push(", ").bind(new.recommended_at);
        q.push(", ").bind(new.refused_at);
        q.push(", ").bind(new.replication_status.clone());
        q.push(", ").bind(new.last_replication_at);
        q.push(", ").bind(new.replication_reported_at);
        q.push(", 0, ").bind(now).push(")");
        q.push(" ON CONFLICT (service_id) DO NOTHING");
    } else {
        q.bind(new.recommended_criticality.clone());
        q.push(", recommended_at = ").bind(new.recommended_at);
        q.push(", refused_at = ").bind(new.refused_at);
        q.push(", replication_status = ")
            .bind(new.replication_status.clone());
        q.push(", last_replication_at = ")
            .bind(new.last_replication_at);
        q.push(", replication_reported_at = ")
            .bind(new.replication_reported_at);
        q.push(", version = version + 1, updated_at = ").bind(now);
        q.push(" WHERE service_id = ").bind(new.service_id.as_str());
        q.push(" AND version = ")
            .bind(before.map(|b| b.version).unwrap_or_default());
    }
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = machine(tx, &new.service_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let org = Id::from_raw(after.org_id.clone());
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&org),
            action,
            entity_kind: "pra_machine",
            entity_id: after.service_id.as_str(),
            before,
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

// ---- tests (R10.3) --------------------------------------------------------

/// Identifier prefix of notified tests.
pub const TEST_PREFIX: &str = "prt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestRow {
    pub id: Id,
    pub org_id: Id,
    pub order_id: String,
    /// `simple` or `full`.
    pub kind: String,
    pub notified_at: Timestamp,
    pub starts_at: Timestamp,
    /// The test's own order (a full test needs one).
    pub own_order: Option<String>,
    pub notice_days: i64,
    pub billed: bool,
    pub decision_json: String,
    /// The activation that ran it.
    pub activation_id: Option<String>,
    pub created_at: Timestamp,
}

const TEST_COLUMNS: &str = "id, org_id, order_id, kind, notified_at, starts_at, own_order, \
    notice_days, billed, decision_json, activation_id, created_at";

fn test_from_row(r: &AnyRow) -> Result<TestRow> {
    Ok(TestRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        order_id: r.try_get("order_id")?,
        kind: r.try_get("kind")?,
        notified_at: time::from_db(r.try_get("notified_at")?),
        starts_at: time::from_db(r.try_get("starts_at")?),
        own_order: r.try_get("own_order")?,
        notice_days: r.try_get("notice_days")?,
        billed: r.try_get::<i64, _>("billed")? != 0,
        decision_json: r.try_get("decision_json")?,
        activation_id: r.try_get("activation_id")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// A notified test to record.
#[derive(Debug, Clone)]
pub struct NewTest {
    pub org_id: Id,
    pub order_id: String,
    pub kind: String,
    pub notified_at: Timestamp,
    pub starts_at: Timestamp,
    pub own_order: Option<String>,
    pub notice_days: i64,
    pub billed: bool,
    pub decision_json: String,
}

pub async fn create_test(tx: &mut Tx, actor: &Actor, new: NewTest) -> Result<TestRow> {
    let id = new_id(TEST_PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!("INSERT INTO pra_tests ({TEST_COLUMNS}) VALUES ("));
    q.bind(&id).push(", ").bind(&new.org_id);
    q.push(", ").bind(new.order_id.as_str());
    q.push(", ").bind(new.kind.as_str());
    q.push(", ").bind(new.notified_at);
    q.push(", ").bind(new.starts_at);
    q.push(", ").bind(new.own_order.clone());
    q.push(", ").bind(new.notice_days);
    q.push(", ").bind(i64::from(new.billed));
    q.push(", ").bind(new.decision_json.as_str());
    q.push(", NULL, ").bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    let row = test(tx, &Scope::Staff, id.as_str()).await?;
    audit::created(
        &mut **tx,
        actor,
        &row.org_id,
        "pra.test_notified",
        "pra_test",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn test(tx: &mut Tx, scope: &Scope, id: &str) -> Result<TestRow> {
    crate::get_scoped(
        &mut **tx,
        scope,
        "pra_tests",
        TEST_COLUMNS,
        id,
        test_from_row,
    )
    .await
}

/// An organisation's notified tests (`None`: of every organisation
/// `scope` sees), the latest start first, at most `limit`.
pub async fn tests_of(
    tx: &mut Tx,
    scope: &Scope,
    org_id: Option<&str>,
    limit: i64,
) -> Result<Vec<TestRow>> {
    let mut q = Sql::new(&format!("SELECT {TEST_COLUMNS} FROM pra_tests WHERE 1 = 1"));
    if let Some(o) = org_id {
        q.push(" AND org_id = ").bind(o);
    }
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY starts_at DESC, id DESC LIMIT ")
        .bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(test_from_row)
        .collect()
}

/// Links a test to the activation that ran it, and marks that activation
/// billed when the test is (R10.3), in the activation's transaction.
pub async fn start_test(
    tx: &mut Tx,
    actor: &Actor,
    before: &TestRow,
    activation_id: &Id,
) -> Result<TestRow> {
    let mut q = Sql::new("UPDATE pra_tests SET activation_id = ");
    q.bind(activation_id).push(" WHERE id = ").bind(&before.id);
    q.push(" AND activation_id IS NULL");
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("activation_id"));
    }
    let mut q = Sql::new("UPDATE pra_activations SET test_billed = ");
    q.bind(i64::from(before.billed))
        .push(" WHERE id = ")
        .bind(activation_id);
    q.query().execute(&mut **tx).await?;
    let after = test(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "pra.test_started",
            entity_kind: "pra_test",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}
