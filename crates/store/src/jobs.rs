//! The durable job queue. A job is enqueued in the transaction of the change
//! that needs it, so it exists if and only if the change committed.
//!
//! Claiming takes a lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL lets several
//! `ciel serve` processes claim concurrently without ever taking the same job;
//! on SQLite the single writer connection makes the claim atomic. A job whose
//! worker died is claimed again when its lease expires, so handlers must be
//! idempotent (e.g. the mail handler checks the message was not sent yet).

use crate::sql::{Sql, new_id};
use crate::{Backend, Result, Store, StoreError, time};
use ciel_domain::{Id, id::prefix};
use jiff::{SignedDuration, Timestamp};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Id,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Attempts including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    /// Jobs with the same key are enqueued once (e.g. `mail:<message id>`).
    pub dedup_key: Option<String>,
    pub max_attempts: i64,
}

/// Enqueues a job; returns None when a job with the same dedup key exists.
pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    job: NewJob<'_>,
    now: Timestamp,
) -> Result<Option<Id>> {
    let id = new_id(prefix::JOB, now);
    let mut q = Sql::new(
        "INSERT INTO jobs (id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, created_at) VALUES (",
    );
    q.bind(&id).push(", ").bind(job.kind).push(", ");
    q.bind(job.payload.to_string())
        .push(", ")
        .bind(job.dedup_key);
    q.push(", 'queued', 0, ").bind(job.max_attempts).push(", ");
    q.bind(job.run_at).push(", ").bind(now);
    q.push(") ON CONFLICT (dedup_key) DO NOTHING");
    let n = q.query().execute(ex).await?.rows_affected();
    Ok((n == 1).then_some(id))
}

fn from_row(r: &AnyRow) -> Result<Job> {
    let payload: String = r.try_get("payload")?;
    Ok(Job {
        id: Id::from_raw(r.try_get("id")?),
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
    })
}

/// Claims the next due job for `worker`, with a lease of `lease`.
pub async fn claim(
    store: &Store,
    worker: &str,
    now: Timestamp,
    lease: SignedDuration,
) -> Result<Option<Job>> {
    let lock = match store.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let mut q =
        Sql::new("UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ");
    q.bind(worker)
        .push(", locked_until = ")
        .bind(now.saturating_add(lease).unwrap_or(now));
    q.push(" WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= ");
    q.bind(now)
        .push(") OR (status = 'running' AND locked_until <= ")
        .bind(now);
    q.push(") ORDER BY run_at, id LIMIT 1").push(lock).push(")");
    q.push(" RETURNING id, kind, payload, attempts, max_attempts");
    let mut tx = store.begin().await?;
    let row = q.query().fetch_optional(&mut *tx).await?;
    tx.commit().await?;
    row.as_ref().map(from_row).transpose()
}

/// Marks a job done, if `worker` still holds it.
pub async fn complete(store: &Store, id: &Id, worker: &str, now: Timestamp) -> Result<bool> {
    let mut q = Sql::new(
        "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, finished_at = ",
    );
    q.bind(now)
        .push(" WHERE status = 'running' AND id = ")
        .bind(id);
    q.push(" AND locked_by = ").bind(worker);
    Ok(q.query().execute(store.writer()).await?.rows_affected() == 1)
}

/// Records a failure: the job is retried at `retry_at`, or marked failed when
/// it has no attempt left (or `retry_at` is None: a permanent error).
pub async fn fail(
    store: &Store,
    job: &Job,
    worker: &str,
    error: &str,
    now: Timestamp,
    retry_at: Option<Timestamp>,
) -> Result<()> {
    let retry = retry_at.filter(|_| job.attempts < job.max_attempts);
    let mut q = Sql::new("UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = ");
    q.bind(error);
    match retry {
        Some(at) => {
            q.push(", status = 'queued', run_at = ").bind(at);
        }
        None => {
            q.push(", status = 'failed', finished_at = ").bind(now);
        }
    }
    q.push(" WHERE status = 'running' AND id = ").bind(&job.id);
    q.push(" AND locked_by = ").bind(worker);
    q.query().execute(store.writer()).await?;
    Ok(())
}

/// Counts jobs per status, for metrics and tests.
pub async fn count_by_status<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    status: &str,
) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) AS n FROM jobs WHERE status = ");
    q.bind(status);
    Ok(q.query().fetch_one(ex).await?.try_get("n")?)
}

/// Earliest `run_at` among queued jobs, to sleep until then.
pub async fn next_run_at<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Option<Timestamp>> {
    let q = Sql::new("SELECT MIN(run_at) AS t FROM jobs WHERE status = 'queued'");
    let t: Option<i64> = q.query().fetch_one(ex).await?.try_get("t")?;
    Ok(time::opt_from_db(t))
}
