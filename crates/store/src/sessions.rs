//! Browser sessions. The cookie holds a random secret; the database holds its
//! hash, the CSRF token bound to the session, and its expiry.

use crate::secrets::{hash_secret, new_secret};
use crate::sql::Sql;
use crate::{Result, time};
use ciel_domain::Id;
use jiff::Timestamp;
use sqlx::{Any, Executor, Row};

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Id,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Creates a session; returns the secret to put in the cookie.
pub async fn create<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &Id,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<String> {
    let secret = new_secret("");
    let mut q = Sql::new(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) VALUES (",
    );
    q.bind(hash_secret(&secret))
        .push(", ")
        .bind(user_id)
        .push(", ");
    q.bind(new_secret("")).push(", ").bind(now).push(", ");
    q.bind(expires_at).push(", ").bind(now).push(")");
    q.query().execute(ex).await?;
    Ok(secret)
}

/// Finds the unexpired session of a cookie secret with its user and the
/// user's organisation, in one query: every portal page needs all three.
pub async fn find_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    secret: &str,
    now: Timestamp,
) -> Result<Option<(Session, crate::users::Member)>> {
    static SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, s.csrf_token AS s_csrf, s.expires_at AS s_expires, s.last_seen_at AS s_seen \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN organizations o ON o.id = u.org_id WHERE s.token_hash = ",
            *crate::users::MEMBER_COLUMNS
        )
    });
    let mut q = Sql::new(&SELECT);
    q.bind(hash_secret(secret))
        .push(" AND s.expires_at > ")
        .bind(now);
    let Some(r) = q.query().fetch_optional(ex).await? else {
        return Ok(None);
    };
    let member = crate::users::member_from_row(&r)?;
    let session = Session {
        user_id: member.user.id.clone(),
        csrf_token: r.try_get("s_csrf")?,
        expires_at: time::from_db(r.try_get("s_expires")?),
        last_seen_at: time::from_db(r.try_get("s_seen")?),
    };
    Ok(Some((session, member)))
}

/// Extends a session that is in use (sliding expiry).
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    secret: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("UPDATE sessions SET last_seen_at = ");
    q.bind(now).push(", expires_at = ").bind(expires_at);
    q.push(" WHERE token_hash = ").bind(hash_secret(secret));
    q.query().execute(ex).await?;
    Ok(())
}

/// Ends one session (logout).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(ex: E, secret: &str) -> Result<()> {
    let mut q = Sql::new("DELETE FROM sessions WHERE token_hash = ");
    q.bind(hash_secret(secret));
    q.query().execute(ex).await?;
    Ok(())
}

/// Ends every session of a user (password change, account disabled).
pub async fn delete_for_user<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &Id,
) -> Result<()> {
    let mut q = Sql::new("DELETE FROM sessions WHERE user_id = ");
    q.bind(user_id);
    q.query().execute(ex).await?;
    Ok(())
}

/// Removes expired sessions (housekeeping job).
pub async fn purge_expired<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Timestamp,
) -> Result<u64> {
    let mut q = Sql::new("DELETE FROM sessions WHERE expires_at <= ");
    q.bind(now);
    Ok(q.query().execute(ex).await?.rows_affected())
}
