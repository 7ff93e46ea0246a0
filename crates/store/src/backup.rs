//! Backup operations (R9): plans per service, job results pushed by the
//! backup platform, recycle-bin restore requests and regularisation orders.
//! Tenant data read through the [`Scope`]; every change audited (job
//! results by batch, like usage readings). States that depend on time
//! (expiry, the 30-day delay) are computed by `ciel_operations`, never
//! stored.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Job results one INSERT carries. Only the platform's texts are bound
/// (the job id, and the message when there is one): identifiers checked
/// against `services` and integers are written as literals, so a statement
/// binds at most 1 000 values and SQLite's linear lookup of bind names
/// stays cheap (the 20 000 results/s target of issue 7).
pub const RESULTS_PER_STATEMENT: usize = 500;

/// An identifier known to the database (`svc_…`, `org_…`) as an SQL
/// literal; anything else is refused rather than written.
fn id_literal(s: &str) -> Result<&str> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s)
    } else {
        Err(StoreError::Corrupt(format!("not an identifier: {s:?}")))
    }
}

// ---- plans (R9.1) --------------------------------------------------------

/// The backup plan of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRow {
    pub service_id: String,
    pub org_id: Id,
    pub frequency: String,
    pub backup_type: String,
    pub retention_days: i64,
    /// JSON array of scope codes (R9.7).
    pub scopes_json: String,
    pub veeam_licence: String,
    pub decision_json: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const PLAN_COLUMNS: &str = "service_id, org_id, frequency, backup_type, retention_days, \
    scopes_json, veeam_licence, decision_json, version, created_at, updated_at";

fn plan_from_row(r: &AnyRow) -> Result<PlanRow> {
    Ok(PlanRow {
        service_id: r.try_get("service_id")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        frequency: r.try_get("frequency")?,
        backup_type: r.try_get("backup_type")?,
        retention_days: r.try_get("retention_days")?,
        scopes_json: r.try_get("scopes_json")?,
        veeam_licence: r.try_get("veeam_licence")?,
        decision_json: r.try_get("decision_json")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

/// The plan of a service visible to `scope`, if one was set.
pub async fn plan<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    service_id: &str,
) -> Result<Option<PlanRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {PLAN_COLUMNS} FROM backup_plans WHERE service_id = "
    ));
    q.bind(service_id);
    scope.restrict(&mut q, "org_id");
    q.query()
        .fetch_optional(ex)
        .await?
        .map(|r| plan_from_row(&r))
        .transpose()
}

/// Every plan of an organisation, by service.
pub async fn plans_of(tx: &mut Tx, scope: &Scope, org_id: &str) -> Result<Vec<PlanRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {PLAN_COLUMNS} FROM backup_plans WHERE org_id = "
    ));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY service_id");
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(plan_from_row)
        .collect()
}

/// Sets the plan of a service: created, or replaced over the version it
/// was read at (`expected`), audited with before and after.
pub async fn set_plan(
    tx: &mut Tx,
    actor: &Actor,
    before: Option<&PlanRow>,
    new: &PlanRow,
) -> Result<PlanRow> {
    let now = actor.recorded_at;
    let mut q;
    match before {
        None => {
            q = Sql::new(&format!(
                "INSERT INTO backup_plans ({PLAN_COLUMNS}) VALUES ("
            ));
            q.bind(new.service_id.as_str()).push(", ").bind(&new.org_id);
            q.push(", ").bind(new.frequency.as_str());
            q.push(", ").bind(new.backup_type.as_str());
            q.push(", ").bind(new.retention_days);
            q.push(", ").bind(new.scopes_json.as_str());
            q.push(", ").bind(new.veeam_licence.as_str());
            q.push(", ").bind(new.decision_json.as_str());
            q.push(", 0, ").bind(now).push(", ").bind(now).push(")");
            q.push(" ON CONFLICT (service_id) DO NOTHING");
        }
        Some(b) => {
            q = Sql::new("UPDATE backup_plans SET frequency = ");
            q.bind(new.frequency.as_str());
            q.push(", backup_type = ").bind(new.backup_type.as_str());
            q.push(", retention_days = ").bind(new.retention_days);
            q.push(", scopes_json = ").bind(new.scopes_json.as_str());
            q.push(", veeam_licence = ")
                .bind(new.veeam_licence.as_str());
            q.push(", decision_json = ")
                .bind(new.decision_json.as_str());
            q.push(", version = version + 1, updated_at = ").bind(now);
            q.push(" WHERE service_id = ").bind(b.service_id.as_str());
            q.push(" AND version = ").bind(b.version);
        }
    }
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = plan(&mut **tx, &Scope::Staff, &new.service_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "backup.plan",
            entity_kind: "backup_plan",
            entity_id: after.service_id.as_str(),
            before,
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

// ---- job results (R9.5) ---------------------------------------------------

/// One job result as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobResult {
    pub service_id: String,
    pub job_id: String,
    pub org_id: Id,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    /// `success` or `failure`.
    pub status: String,
    pub immutable: bool,
    pub message: String,
    pub received_at: Timestamp,
}

const RESULT_COLUMNS: &str = "service_id, job_id, org_id, started_at, ended_at, status, \
    immutable, message, received_at";

fn result_from_row(r: &AnyRow) -> Result<JobResult> {
    Ok(JobResult {
        service_id: r.try_get("service_id")?,
        job_id: r.try_get("job_id")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        started_at: time::from_db(r.try_get("started_at")?),
        ended_at: time::from_db(r.try_get("ended_at")?),
        status: r.try_get("status")?,
        immutable: r.try_get::<i64, _>("immutable")? != 0,
        message: r.try_get("message")?,
        received_at: time::from_db(r.try_get("received_at")?),
    })
}

/// Writes results not seen yet (a replayed job id is left as it was) and
/// returns how many were written and the failures among them: the caller
/// e-mails each new failure once (R9.5).
pub async fn insert_results(tx: &mut Tx, rows: &[JobResult]) -> Result<(u64, Vec<JobResult>)> {
    let mut written = 0;
    let mut failures = Vec::new();
    let (failed, ok): (Vec<&JobResult>, Vec<&JobResult>) =
        rows.iter().partition(|r| r.status == "failure");
    for (chunk_rows, returning) in [(ok, false), (failed, true)] {
        for chunk in chunk_rows.chunks(RESULTS_PER_STATEMENT) {
            let mut q = Sql::new(&format!(
                "INSERT INTO backup_job_results ({RESULT_COLUMNS}) VALUES "
            ));
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("('").push(id_literal(&r.service_id)?).push("', ");
                q.bind(r.job_id.as_str());
                q.push(&format!(
                    ", '{}', {}, {}, '{}', {}, ",
                    id_literal(r.org_id.as_str())?,
                    time::to_db(r.started_at),
                    time::to_db(r.ended_at),
                    if r.status == "failure" {
                        "failure"
                    } else {
                        "success"
                    },
                    i64::from(r.immutable)
                ));
                if r.message.is_empty() {
                    q.push("''");
                } else {
                    q.bind(r.message.as_str());
                }
                q.push(&format!(", {})", time::to_db(r.received_at)));
            }
            q.push(" ON CONFLICT (service_id, job_id) DO NOTHING");
            if returning {
                q.push(&format!(" RETURNING {RESULT_COLUMNS}"));
                let new = q.query().fetch_all(&mut **tx).await?;
                written += new.len() as u64;
                for r in &new {
                    failures.push(result_from_row(r)?);
                }
            } else {
                written += q.query().execute(&mut **tx).await?.rows_affected();
            }
        }
    }
    Ok((written, failures))
}

/// Audits one pushed batch of results.
pub async fn audit_results(
    tx: &mut Tx,
    actor: &Actor,
    received: usize,
    written: u64,
    failures: usize,
) -> Result<()> {
    #[derive(Serialize)]
    struct Batch {
        received: usize,
        written: u64,
        failures: usize,
    }
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "backup.results",
            entity_kind: "backup_job_results",
            entity_id: "batch",
            before: None,
            after: Some(&Batch {
                received,
                written,
                failures,
            }),
        },
    )
    .await?;
    Ok(())
}

/// The latest results of a service visible to `scope`, newest first.
pub async fn results_of(
    tx: &mut Tx,
    scope: &Scope,
    service_id: &str,
    limit: i64,
) -> Result<Vec<JobResult>> {
    let mut q = Sql::new(&format!(
        "SELECT {RESULT_COLUMNS} FROM backup_job_results WHERE service_id = "
    ));
    q.bind(service_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY ended_at DESC, job_id DESC LIMIT ")
        .bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(result_from_row)
        .collect()
}

/// The latest failed jobs of every client (back office), newest first.
pub async fn failures(tx: &mut Tx, limit: i64) -> Result<Vec<JobResult>> {
    let mut q = Sql::new(&format!(
        "SELECT {RESULT_COLUMNS} FROM backup_job_results WHERE status = 'failure' \
         ORDER BY ended_at DESC LIMIT "
    ));
    q.bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(result_from_row)
        .collect()
}

/// The end of the last successful backup of a service, and of the last
/// successful immutable one (R9.2: its retention runs from it).
pub async fn last_successes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    service_id: &str,
) -> Result<(Option<Timestamp>, Option<Timestamp>)> {
    let mut q = Sql::new(
        "SELECT MAX(ended_at) AS last_any, \
         MAX(CASE WHEN immutable = 1 THEN ended_at END) AS last_immutable \
         FROM backup_job_results WHERE service_id = ",
    );
    q.bind(service_id).push(" AND status = 'success'");
    let r = q.query().fetch_one(ex).await?;
    Ok((
        time::opt_from_db(r.try_get("last_any")?),
        time::opt_from_db(r.try_get("last_immutable")?),
    ))
}

/// The restore points of a service (ends of successful jobs) at or before
/// `until`, oldest first, at most `limit` of the newest (R9.8).
pub async fn restore_points(
    tx: &mut Tx,
    service_id: &str,
    until: Timestamp,
    limit: i64,
) -> Result<Vec<Timestamp>> {
    let mut q = Sql::new("SELECT ended_at FROM backup_job_results WHERE service_id = ");
    q.bind(service_id)
        .push(" AND status = 'success' AND ended_at <= ")
        .bind(until);
    q.push(" ORDER BY ended_at DESC LIMIT ").bind(limit);
    let mut out: Vec<Timestamp> = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok(time::from_db(r.try_get("ended_at")?)))
        .collect::<Result<_>>()?;
    out.reverse();
    Ok(out)
}

// ---- recycle-bin restore requests (R9.3) ---------------------------------

/// Identifier prefix of restore requests.
pub const RESTORE_PREFIX: &str = "rst";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreRow {
    pub id: Id,
    pub org_id: Id,
    pub service_id: String,
    pub what: String,
    pub deleted_at: Timestamp,
    pub expires_at: Timestamp,
    pub requested_at: Timestamp,
    pub requested_by: String,
    /// `requested`, `restored` or `refused`.
    pub state: String,
    pub answer: String,
    pub answered_at: Option<Timestamp>,
    pub decision_json: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const RESTORE_COLUMNS: &str = "id, org_id, service_id, what, deleted_at, expires_at, \
    requested_at, requested_by, state, answer, answered_at, decision_json, version, \
    created_at, updated_at";

fn restore_from_row(r: &AnyRow) -> Result<RestoreRow> {
    Ok(RestoreRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        what: r.try_get("what")?,
        deleted_at: time::from_db(r.try_get("deleted_at")?),
        expires_at: time::from_db(r.try_get("expires_at")?),
        requested_at: time::from_db(r.try_get("requested_at")?),
        requested_by: r.try_get("requested_by")?,
        state: r.try_get("state")?,
        answer: r.try_get("answer")?,
        answered_at: time::opt_from_db(r.try_get("answered_at")?),
        decision_json: r.try_get("decision_json")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

/// A restore request to record.
#[derive(Debug, Clone)]
pub struct NewRestore {
    pub org_id: Id,
    pub service_id: String,
    pub what: String,
    pub deleted_at: Timestamp,
    pub expires_at: Timestamp,
    pub requested_at: Timestamp,
    pub requested_by: String,
    pub decision_json: String,
}

pub async fn create_restore(tx: &mut Tx, actor: &Actor, new: NewRestore) -> Result<RestoreRow> {
    let id = new_id(RESTORE_PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO backup_restore_requests ({RESTORE_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(&new.org_id);
    q.push(", ").bind(new.service_id.as_str());
    q.push(", ").bind(new.what.as_str());
    q.push(", ").bind(new.deleted_at);
    q.push(", ").bind(new.expires_at);
    q.push(", ").bind(new.requested_at);
    q.push(", ").bind(new.requested_by.as_str());
    q.push(", 'requested', '', NULL, ")
        .bind(new.decision_json.as_str());
    q.push(", 0, ")
        .bind(actor.recorded_at)
        .push(", ")
        .bind(actor.recorded_at)
        .push(")");
    q.query().execute(&mut **tx).await?;
    let row = restore(tx, &Scope::Staff, id.as_str()).await?;
    audit::created(
        &mut **tx,
        actor,
        &row.org_id,
        "backup.restore_request",
        "backup_restore_request",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn restore(tx: &mut Tx, scope: &Scope, id: &str) -> Result<RestoreRow> {
    crate::get_scoped(
        &mut **tx,
        scope,
        "backup_restore_requests",
        RESTORE_COLUMNS,
        id,
        restore_from_row,
    )
    .await
}

/// An organisation's restore requests, newest first.
pub async fn restores_of(
    tx: &mut Tx,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<RestoreRow>> {
    crate::org_page(
        &mut **tx,
        scope,
        "backup_restore_requests",
        RESTORE_COLUMNS,
        org_id,
        cursor,
        limit,
        restore_from_row,
        |r| &r.id,
    )
    .await
}

/// Requests support has not answered yet, the nearest expiry first.
pub async fn open_restores(tx: &mut Tx, limit: i64) -> Result<Vec<RestoreRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {RESTORE_COLUMNS} FROM backup_restore_requests WHERE state = 'requested' \
         ORDER BY expires_at, id LIMIT "
    ));
    q.bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(restore_from_row)
        .collect()
}

/// Support's answer, over the version it was read at.
pub async fn answer_restore(
    tx: &mut Tx,
    actor: &Actor,
    before: &RestoreRow,
    state: &str,
    answer: &str,
) -> Result<RestoreRow> {
    let mut q = Sql::new("UPDATE backup_restore_requests SET state = ");
    q.bind(state).push(", answer = ").bind(answer);
    q.push(", answered_at = ").bind(actor.occurred_at);
    q.push(", version = version + 1, updated_at = ")
        .bind(actor.recorded_at);
    q.push(" WHERE id = ").bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = restore(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "backup.restore_answer",
            entity_kind: "backup_restore_request",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

// ---- regularisation orders (R9.6) ----------------------------------------

/// Identifier prefix of regularisation orders.
pub const REGULARISATION_PREFIX: &str = "reg";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegularisationRow {
    pub id: Id,
    pub org_id: Id,
    pub service_id: String,
    pub reason: String,
    pub sent_at: Timestamp,
    pub signed_at: Option<Timestamp>,
    /// When the pass reminded the client to sign (once, R9.6).
    pub reminded_at: Option<Timestamp>,
    /// When the pass flagged it unsigned past its delay (once, R9.6).
    pub overdue_at: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const REGULARISATION_COLUMNS: &str = "id, org_id, service_id, reason, sent_at, signed_at, \
    reminded_at, overdue_at, version, created_at, updated_at";

fn regularisation_from_row(r: &AnyRow) -> Result<RegularisationRow> {
    Ok(RegularisationRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        reason: r.try_get("reason")?,
        sent_at: time::from_db(r.try_get("sent_at")?),
        signed_at: time::opt_from_db(r.try_get("signed_at")?),
        reminded_at: time::opt_from_db(r.try_get("reminded_at")?),
        overdue_at: time::opt_from_db(r.try_get("overdue_at")?),
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

pub async fn create_regularisation(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    reason: &str,
    sent_at: Timestamp,
) -> Result<RegularisationRow> {
    let id = new_id(REGULARISATION_PREFIX, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO backup_regularisations ({REGULARISATION_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(org_id);
    q.push(", ").bind(service_id).push(", ").bind(reason);
    q.push(", ").bind(sent_at).push(", NULL, NULL, NULL, 0, ");
    q.bind(actor.recorded_at)
        .push(", ")
        .bind(actor.recorded_at)
        .push(")");
    q.query().execute(&mut **tx).await?;
    let row = regularisation(tx, &Scope::Staff, id.as_str()).await?;
    audit::created(
        &mut **tx,
        actor,
        &row.org_id,
        "backup.regularisation",
        "backup_regularisation",
        row.id.as_str(),
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn regularisation(tx: &mut Tx, scope: &Scope, id: &str) -> Result<RegularisationRow> {
    crate::get_scoped(
        &mut **tx,
        scope,
        "backup_regularisations",
        REGULARISATION_COLUMNS,
        id,
        regularisation_from_row,
    )
    .await
}

/// Regularisation orders of one organisation (`Some`) or of all (`None`,
/// staff), newest first.
pub async fn regularisations(
    tx: &mut Tx,
    scope: &Scope,
    org_id: Option<&str>,
    limit: i64,
) -> Result<Vec<RegularisationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {REGULARISATION_COLUMNS} FROM backup_regularisations WHERE 1 = 1"
    ));
    if let Some(o) = org_id {
        q.push(" AND org_id = ").bind(o);
    }
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id DESC LIMIT ").bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(regularisation_from_row)
        .collect()
}

/// Records the signature, over the version it was read at.
pub async fn sign_regularisation(
    tx: &mut Tx,
    actor: &Actor,
    before: &RegularisationRow,
    signed_at: Timestamp,
) -> Result<RegularisationRow> {
    let mut q = Sql::new("UPDATE backup_regularisations SET signed_at = ");
    q.bind(signed_at)
        .push(", version = version + 1, updated_at = ")
        .bind(actor.recorded_at);
    q.push(" WHERE id = ").bind(&before.id);
    q.push(" AND signed_at IS NULL AND version = ")
        .bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = regularisation(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "backup.regularisation_signed",
            entity_kind: "backup_regularisation",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// The regularisation pass's work (R9.6): unsigned orders not yet flagged
/// overdue, oldest first, a page after `after` (the last row of the
/// previous page), through the partial index.
pub async fn open_regularisations(
    tx: &mut Tx,
    after: Option<&RegularisationRow>,
    limit: i64,
) -> Result<Vec<RegularisationRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {REGULARISATION_COLUMNS} FROM backup_regularisations \
         WHERE signed_at IS NULL AND overdue_at IS NULL"
    ));
    if let Some(a) = after {
        q.push(" AND (sent_at > ").bind(a.sent_at);
        q.push(" OR (sent_at = ").bind(a.sent_at);
        q.push(" AND id > ").bind(&a.id).push("))");
    }
    q.push(" ORDER BY sent_at, id LIMIT ").bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(regularisation_from_row)
        .collect()
}

/// What the regularisation pass records of an order (R9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegularisationMark {
    /// The client was reminded before the delay ends.
    Reminded,
    /// The delay ended unsigned.
    Overdue,
}

/// Records a reminder or the overdue flag at `at`, once: `None` when it
/// was already recorded (a pass running twice, or two processes) or the
/// order was signed meanwhile, so the caller sends nothing.
pub async fn mark_regularisation(
    tx: &mut Tx,
    actor: &Actor,
    before: &RegularisationRow,
    mark: RegularisationMark,
    at: Timestamp,
) -> Result<Option<RegularisationRow>> {
    let (column, action) = match mark {
        RegularisationMark::Reminded => ("reminded_at", "backup.regularisation_reminded"),
        RegularisationMark::Overdue => ("overdue_at", "backup.regularisation_overdue"),
    };
    let mut q = Sql::new(&format!("UPDATE backup_regularisations SET {column} = "));
    q.bind(at)
        .push(", version = version + 1, updated_at = ")
        .bind(actor.recorded_at);
    q.push(" WHERE id = ").bind(&before.id);
    q.push(&format!(" AND signed_at IS NULL AND {column} IS NULL"));
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Ok(None);
    }
    let after = regularisation(tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action,
            entity_kind: "backup_regularisation",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(Some(after))
}

/// The latest storage reading of a service (R9.5), if any.
pub async fn latest_storage(tx: &mut Tx, service_id: &str) -> Result<Option<(Timestamp, String)>> {
    let mut q = Sql::new("SELECT at, gb FROM storage_readings WHERE service_id = ");
    q.bind(service_id).push(" ORDER BY at DESC LIMIT 1");
    q.query()
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Ok((time::from_db(r.try_get("at")?), r.try_get("gb")?)))
        .transpose()
}
