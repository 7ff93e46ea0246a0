//! Billing runs (issue 6, R2.4): one run per month writes each client's
//! invoice as one item, each in its own transaction, so a run interrupted
//! by a crash resumes with the items still pending. Runs are provider-wide
//! (staff only); the invoices they write are tenant data (`invoices`).

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Result, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of runs.
pub const PREFIX: &str = "brun";

/// A run as stored. Its counters are written when it ends; while it runs,
/// [`progress`] counts its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: Id,
    /// `YYYY-MM`.
    pub period: String,
    /// running, done, failed.
    pub state: String,
    pub total_items: i64,
    pub done_items: i64,
    pub invoices: i64,
    /// Sum of the invoices' totals including VAT, exact decimal text.
    pub amount: String,
    pub error: Option<String>,
    pub started_by: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, period, state, total_items, done_items, invoices, amount, error, \
    started_by, started_at, finished_at";

fn from_row(r: &AnyRow) -> Result<Run> {
    Ok(Run {
        id: Id::from_raw(r.try_get("id")?),
        period: r.try_get("period")?,
        state: r.try_get("state")?,
        total_items: r.try_get("total_items")?,
        done_items: r.try_get("done_items")?,
        invoices: r.try_get("invoices")?,
        amount: r.try_get("amount")?,
        error: r.try_get("error")?,
        started_by: r.try_get("started_by")?,
        started_at: time::from_db(r.try_get("started_at")?),
        finished_at: time::opt_from_db(r.try_get("finished_at")?),
    })
}

/// One client of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub run_id: String,
    pub org_id: Id,
    /// pending, invoiced, empty, failed.
    pub state: String,
    pub invoice_id: Option<String>,
    pub error: Option<String>,
}

fn item_from_row(r: &AnyRow) -> Result<Item> {
    Ok(Item {
        run_id: r.try_get("run_id")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        state: r.try_get("state")?,
        invoice_id: r.try_get("invoice_id")?,
        error: r.try_get("error")?,
    })
}

const ITEM_COLUMNS: &str = "run_id, org_id, state, invoice_id, error";

/// The running or done run of `period`, if any (the newest).
pub async fn of_period<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    period: &str,
) -> Result<Option<Run>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM billing_runs WHERE period = "
    ));
    q.bind(period)
        .push(" AND state IN ('running', 'done') ORDER BY started_at DESC, id DESC LIMIT 1");
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Creates a run of `period` with one pending item per organisation that
/// has a provisioned service or a pending charge; audited.
pub async fn create(tx: &mut Tx, actor: &Actor, period: &str) -> Result<Run> {
    let now = actor.recorded_at;
    let id = new_id(PREFIX, now);
    let mut q = Sql::new(
        "INSERT INTO billing_run_items (run_id, org_id, state) \
         SELECT ",
    );
    q.bind(&id).push(
        ", org_id, 'pending' FROM (SELECT org_id FROM services WHERE state = 'provisioned' \
         UNION SELECT org_id FROM charges WHERE invoice_id IS NULL) AS o",
    );
    let mut run = Run {
        id: id.clone(),
        period: period.to_owned(),
        state: "running".into(),
        total_items: 0,
        done_items: 0,
        invoices: 0,
        amount: "0".into(),
        error: None,
        started_by: Some(actor.label.clone()),
        started_at: now,
        finished_at: None,
    };
    let mut ins = Sql::new(&format!("INSERT INTO billing_runs ({COLUMNS}) VALUES ("));
    ins.bind(&id)
        .push(", ")
        .bind(period)
        .push(", 'running', 0, 0, 0, '0', NULL, ");
    ins.bind(run.started_by.clone())
        .push(", ")
        .bind(now)
        .push(", NULL)");
    ins.query().execute(&mut **tx).await?;
    run.total_items =
        i64::try_from(q.query().execute(&mut **tx).await?.rows_affected()).unwrap_or(i64::MAX);
    let mut u = Sql::new("UPDATE billing_runs SET total_items = ");
    u.bind(run.total_items).push(" WHERE id = ").bind(&id);
    u.query().execute(&mut **tx).await?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), Run> {
            org_id: None,
            action: "billing_run.start",
            entity_kind: "billing_run",
            entity_id: id.as_str(),
            before: None,
            after: Some(&run),
        },
    )
    .await?;
    Ok(run)
}

/// Puts a run's failed items back to pending and the run back to running,
/// for a re-run after the profiles were fixed; returns how many. Audited.
pub async fn retry_failed(tx: &mut Tx, actor: &Actor, run: &Run) -> Result<u64> {
    let mut q = Sql::new(
        "UPDATE billing_run_items SET state = 'pending', error = NULL WHERE state = 'failed' AND run_id = ",
    );
    q.bind(&run.id);
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    if n > 0 || run.state != "running" {
        let mut u =
            Sql::new("UPDATE billing_runs SET state = 'running', finished_at = NULL WHERE id = ");
        u.bind(&run.id);
        u.query().execute(&mut **tx).await?;
        audit::record(
            &mut **tx,
            actor,
            Change::<Run, serde_json::Value> {
                org_id: None,
                action: "billing_run.resume",
                entity_kind: "billing_run",
                entity_id: run.id.as_str(),
                before: Some(run),
                after: Some(&serde_json::json!({ "state": "running", "items_retried": n })),
            },
        )
        .await?;
    }
    Ok(n)
}

/// A run by identifier.
pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Run> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM billing_runs WHERE id = "));
    q.bind(id);
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(crate::StoreError::NotFound)
}

/// Runs, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    cursor: Option<&str>,
    limit: i64,
) -> Result<crate::Page<Run>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM billing_runs WHERE 1 = 1"));
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |r| &r.id).await
}

/// The next pending items of a run, by organisation, after `after_org`
/// (the chunk still being rendered is pending too).
pub async fn pending<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    run_id: &str,
    after_org: Option<&str>,
    limit: i64,
) -> Result<Vec<Item>> {
    let mut q = Sql::new(&format!(
        "SELECT {ITEM_COLUMNS} FROM billing_run_items WHERE state = 'pending' AND run_id = "
    ));
    q.bind(run_id);
    if let Some(org) = after_org {
        q.push(" AND org_id > ").bind(org);
    }
    q.push(" ORDER BY org_id LIMIT ").bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(item_from_row)
        .collect()
}

/// The items of a run in `state` (all when None), by organisation.
pub async fn items<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    run_id: &str,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<Item>> {
    let mut q = Sql::new(&format!(
        "SELECT {ITEM_COLUMNS} FROM billing_run_items WHERE run_id = "
    ));
    q.bind(run_id);
    if let Some(s) = state {
        q.push(" AND state = ").bind(s);
    }
    q.push(" ORDER BY org_id LIMIT ").bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(item_from_row)
        .collect()
}

/// Item counts of a run by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub pending: i64,
    pub invoiced: i64,
    pub empty: i64,
    pub failed: i64,
}

impl Progress {
    pub fn total(&self) -> i64 {
        self.pending + self.invoiced + self.empty + self.failed
    }
}

/// Counts a run's items by state.
pub async fn progress<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    run_id: &str,
) -> Result<Progress> {
    let mut q = Sql::new("SELECT state, COUNT(*) AS n FROM billing_run_items WHERE run_id = ");
    q.bind(run_id).push(" GROUP BY state");
    let mut p = Progress::default();
    for r in q.query().fetch_all(ex).await? {
        let state: String = r.try_get("state")?;
        let n: i64 = r.try_get("n")?;
        match state.as_str() {
            "pending" => p.pending = n,
            "invoiced" => p.invoiced = n,
            "empty" => p.empty = n,
            _ => p.failed = n,
        }
    }
    Ok(p)
}

/// Records the outcome of a pending item in the item's transaction (with
/// its invoice when there is one); audited. Returns false when the item was
/// no longer pending (a concurrent worker did it): roll back then.
pub async fn finish_item(
    tx: &mut Tx,
    actor: &Actor,
    item: &Item,
    state: &'static str,
    invoice_id: Option<&str>,
    error: Option<&str>,
) -> Result<bool> {
    let mut q = Sql::new("UPDATE billing_run_items SET state = ");
    q.bind(state).push(", invoice_id = ").bind(invoice_id);
    q.push(", error = ").bind(error);
    q.push(" WHERE state = 'pending' AND run_id = ")
        .bind(item.run_id.as_str())
        .push(" AND org_id = ")
        .bind(&item.org_id);
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    let after = Item {
        state: state.to_owned(),
        invoice_id: invoice_id.map(str::to_owned),
        error: error.map(str::to_owned),
        ..item.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&item.org_id),
            action: "billing_run.item",
            entity_kind: "billing_run",
            entity_id: &item.run_id,
            before: Some(item),
            after: Some(&after),
        },
    )
    .await?;
    Ok(true)
}

/// Closes a run with its figures (state `done`); audited.
pub async fn finish(
    tx: &mut Tx,
    actor: &Actor,
    run: &Run,
    progress: &Progress,
    amount: &str,
) -> Result<Run> {
    let after = Run {
        state: "done".into(),
        total_items: progress.total(),
        done_items: progress.total() - progress.pending,
        invoices: progress.invoiced,
        amount: amount.to_owned(),
        finished_at: Some(actor.recorded_at),
        ..run.clone()
    };
    let mut q = Sql::new("UPDATE billing_runs SET state = 'done', total_items = ");
    q.bind(after.total_items)
        .push(", done_items = ")
        .bind(after.done_items);
    q.push(", invoices = ")
        .bind(after.invoices)
        .push(", amount = ");
    q.bind(amount)
        .push(", finished_at = ")
        .bind(actor.recorded_at);
    q.push(" WHERE id = ").bind(&run.id);
    q.query().execute(&mut **tx).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: None,
            action: "billing_run.finish",
            entity_kind: "billing_run",
            entity_id: run.id.as_str(),
            before: Some(run),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// The totals including VAT of the invoices a run wrote (exact decimals).
pub async fn invoice_totals<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    run_id: &str,
) -> Result<Vec<String>> {
    let mut q = Sql::new("SELECT total FROM invoices WHERE run_id = ");
    q.bind(run_id);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<String, _>("total")?))
        .collect()
}
