//! Login and password-reset throttling: failures are recorded per key (an
//! account or a client address) and counted over a sliding window.

use crate::Result;
use crate::sql::Sql;
use jiff::Timestamp;
use sqlx::{Any, Executor, Row};

/// Records one failure for `key` (e.g. `login:acct:jeanne@acme.fr`).
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    key: &str,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("INSERT INTO login_failures (throttle_key, at) VALUES (");
    q.bind(key).push(", ").bind(now).push(")");
    q.query().execute(ex).await?;
    Ok(())
}

/// Failures of `key` since `since`.
pub async fn count_since<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    key: &str,
    since: Timestamp,
) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) AS n FROM login_failures WHERE throttle_key = ");
    q.bind(key).push(" AND at > ").bind(since);
    Ok(q.query().fetch_one(ex).await?.try_get("n")?)
}

/// Forgets the failures of `key` (after a successful login).
pub async fn clear<'e, E: Executor<'e, Database = Any>>(ex: E, key: &str) -> Result<()> {
    let mut q = Sql::new("DELETE FROM login_failures WHERE throttle_key = ");
    q.bind(key);
    q.query().execute(ex).await?;
    Ok(())
}

/// Removes failures older than `before` (housekeeping job).
pub async fn purge_before<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    before: Timestamp,
) -> Result<u64> {
    let mut q = Sql::new("DELETE FROM login_failures WHERE at <= ");
    q.bind(before);
    Ok(q.query().execute(ex).await?.rows_affected())
}
