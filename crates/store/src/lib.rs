//! One storage API over two backends: SQLite, the embedded default, and
//! PostgreSQL in production. The backend is chosen once, from the URL scheme.
//!
//! Invariants:
//! - Only this crate knows SQL. Queries are written once, in the dialect common
//!   to both backends (`$n` placeholders, `RETURNING`, `ON CONFLICT`); the rare
//!   difference (job claiming) branches on [`Backend`].
//! - Money is integer cents, instants are UTC milliseconds (`BIGINT`).
//! - Tenant data is read and written through [`Scope`], the one place that
//!   restricts a query to the organisation a principal belongs to.
//! - Every state change is one transaction holding its audit record
//!   ([`audit::record`]) and, when it notifies someone, its outbox row and job.
//! - The store never reads the clock: callers pass `now`.

pub mod accounting;
pub mod audit;
pub mod backup;
pub mod bandwidth;
pub mod billing_runs;
pub mod catalog;
pub mod charges;
pub mod clients;
pub mod colo_access;
pub mod colo_decommission;
pub mod colo_work;
pub mod datacenter_episodes;
mod db;
pub mod disputes;
pub mod dunning;
pub mod episodes;
mod error;
pub mod hour_books;
pub mod idempotency;
pub mod invoices;
pub mod jobs;
pub mod maintenance;
pub mod orders;
pub mod orgs;
pub mod outbox;
pub mod payments;
pub mod pra;
pub mod pra_ops;
pub mod scope;
pub mod secrets;
pub mod seed;
pub mod sepa_batches;
pub mod services;
pub mod sessions;
pub mod sla;
mod sql;
pub mod statements;
pub mod terms_versions;
pub mod throttle;
pub mod tickets;
pub mod time;
pub mod tokens;
pub mod usage;
pub mod users;

pub use audit::Actor;
pub use db::{Backend, Store, Tx, release, rollback_to, savepoint};
pub use error::StoreError;
pub use scope::Scope;
pub use sql::new_id;

/// A page of a list, with the cursor of the next page if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One row of `table` by identifier, visible to `scope` (restricted on
/// `org_id`); another organisation's row is not found.
pub(crate) async fn get_scoped<'e, E, T>(
    ex: E,
    scope: &Scope,
    table: &str,
    columns: &str,
    id: &str,
    from_row: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<T>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut q = sql::Sql::new(&format!("SELECT {columns} FROM {table} WHERE id = "));
    q.bind(id);
    scope.restrict(&mut q, "org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A page of one organisation's rows of `table`, newest first (identifiers
/// are time-ordered), visible to `scope`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn org_page<'e, E, T>(
    ex: E,
    scope: &Scope,
    table: &str,
    columns: &str,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
    from_row: fn(&sqlx::any::AnyRow) -> Result<T>,
    id: fn(&T) -> &ciel_domain::Id,
) -> Result<Page<T>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut q = sql::Sql::new(&format!("SELECT {columns} FROM {table} WHERE org_id = "));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    fetch_page(&q, ex, limit, from_row, id).await
}

/// Runs a list query that ends with `LIMIT limit + 1` and cuts it into a
/// page, the identifier of its last item being the next cursor.
pub(crate) async fn fetch_page<'e, E, T>(
    q: &sql::Sql,
    ex: E,
    limit: i64,
    from_row: fn(&sqlx::any::AnyRow) -> Result<T>,
    id: fn(&T) -> &ciel_domain::Id,
) -> Result<Page<T>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut items = q
        .query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(paginate(&mut items, limit, |t| id(t).to_string()))
}

/// Cuts a list fetched with `LIMIT limit + 1` into a page: the extra row only
/// tells that a next page exists, and the last kept row is its cursor.
fn paginate<T>(items: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more { items.last().map(key) } else { None };
    Page {
        items: std::mem::take(items),
        next_cursor,
    }
}
