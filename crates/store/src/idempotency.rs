//! Idempotent requests: the first answer to an `Idempotency-Key` is kept, so
//! a client retrying after a timeout gets it again instead of a second write.

use crate::sql::Sql;
use crate::{Result, Tx};
use jiff::Timestamp;
use sqlx::{Any, Executor, Row};

/// A stored first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub body_hash: String,
    pub status: i64,
    pub response: String,
}

/// The first answer to `key` within `scope` (e.g. `episodes:<user id>`).
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &str,
    key: &str,
) -> Result<Option<Stored>> {
    let mut q =
        Sql::new("SELECT body_hash, status, response FROM idempotent_requests WHERE scope = ");
    q.bind(scope).push(" AND idem_key = ").bind(key);
    let Some(r) = q.query().fetch_optional(ex).await? else {
        return Ok(None);
    };
    Ok(Some(Stored {
        body_hash: r.try_get("body_hash")?,
        status: r.try_get("status")?,
        response: r.try_get("response")?,
    }))
}

/// Keeps the answer, in the transaction of the write it answers (a second
/// concurrent request with the same key fails on the primary key and its
/// transaction writes nothing).
pub async fn save(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    stored: &Stored,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO idempotent_requests (scope, idem_key, body_hash, status, response, created_at) VALUES (",
    );
    q.bind(scope).push(", ").bind(key).push(", ");
    q.bind(stored.body_hash.as_str())
        .push(", ")
        .bind(stored.status);
    q.push(", ")
        .bind(stored.response.as_str())
        .push(", ")
        .bind(now)
        .push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::StoreError::unique(e, "idempotency_key"))?;
    Ok(())
}
