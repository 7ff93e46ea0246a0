//! API tokens for machine clients, and one-time tokens (invitation, password
//! reset). Both are shown once and stored as hashes.

use crate::audit::{self, Actor, Change};
use crate::secrets::{hash_secret, new_secret};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::{Id, id::prefix};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// An API token's metadata (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: Id,
    pub name: String,
    /// The user the token acts as; it has that user's rights and scope.
    pub user_id: Id,
    pub org_id: Id,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, name, user_id, org_id, created_at, last_used_at, revoked_at";

fn from_row(r: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: Id::from_raw(r.try_get("id")?),
        name: r.try_get("name")?,
        user_id: Id::from_raw(r.try_get("user_id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        created_at: time::from_db(r.try_get("created_at")?),
        last_used_at: time::opt_from_db(r.try_get("last_used_at")?),
        revoked_at: time::opt_from_db(r.try_get("revoked_at")?),
    })
}

/// Creates a token acting as `user_id`; returns it with its secret, which is
/// shown once.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    user_id: &Id,
    org_id: &Id,
    name: &str,
) -> Result<(ApiToken, String)> {
    let secret = new_secret("ciel_pat_");
    let token = ApiToken {
        id: new_id(prefix::TOKEN, actor.recorded_at),
        name: name.to_owned(),
        user_id: user_id.clone(),
        org_id: org_id.clone(),
        created_at: actor.recorded_at,
        last_used_at: None,
        revoked_at: None,
    };
    let mut q = Sql::new(
        "INSERT INTO api_tokens (id, token_hash, name, user_id, org_id, created_at) VALUES (",
    );
    q.bind(&token.id)
        .push(", ")
        .bind(hash_secret(&secret))
        .push(", ");
    q.bind(name)
        .push(", ")
        .bind(user_id)
        .push(", ")
        .bind(org_id);
    q.push(", ").bind(token.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        org_id,
        "api_token.create",
        "api_token",
        token.id.as_str(),
        &token,
    )
    .await?;
    Ok((token, secret))
}

/// Finds the live token of a bearer secret and records its use.
pub async fn authenticate<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    secret: &str,
) -> Result<Option<ApiToken>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE revoked_at IS NULL AND token_hash = "
    ));
    q.bind(hash_secret(secret));
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Records a token's last use (best effort, outside the request's writes).
pub async fn mark_used<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &Id,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("UPDATE api_tokens SET last_used_at = ");
    q.bind(now).push(" WHERE id = ").bind(id);
    q.query().execute(ex).await?;
    Ok(())
}

/// Lists the tokens visible to `scope` belonging to `user_id` (or all of the
/// scope's tokens when `user_id` is None), oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    user_id: Option<&Id>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<ApiToken>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM api_tokens WHERE 1 = 1"));
    scope.restrict(&mut q, "org_id");
    if let Some(u) = user_id {
        q.push(" AND user_id = ").bind(u);
    }
    if let Some(c) = cursor {
        q.push(" AND id > ").bind(c);
    }
    q.push(" ORDER BY id LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}

/// Reads a token visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<ApiToken> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = "));
    q.bind(id);
    scope.restrict(&mut q, "org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Revokes a token visible to `scope` (idempotent; audited once).
pub async fn revoke(tx: &mut Tx, actor: &Actor, scope: &Scope, id: &str) -> Result<ApiToken> {
    let before = get(&mut **tx, scope, id).await?;
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let after = ApiToken {
        revoked_at: Some(actor.recorded_at),
        ..before.clone()
    };
    let mut q = Sql::new("UPDATE api_tokens SET revoked_at = ");
    q.bind(actor.recorded_at)
        .push(" WHERE id = ")
        .bind(&before.id);
    q.query().execute(&mut **tx).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&before.org_id),
            action: "api_token.revoke",
            entity_kind: "api_token",
            entity_id: before.id.as_str(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Purpose of a one-time token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimePurpose {
    /// Invitation: the invited user sets a first password.
    Invite,
    /// Password reset requested by e-mail.
    Reset,
}

impl OneTimePurpose {
    fn code(self) -> &'static str {
        match self {
            OneTimePurpose::Invite => "invite",
            OneTimePurpose::Reset => "reset",
        }
    }
}

/// Issues a one-time token for a user; earlier unused tokens of the same
/// purpose are invalidated, so only the latest e-mailed link works.
pub async fn issue_one_time(
    conn: &mut sqlx::AnyConnection,
    user_id: &Id,
    purpose: OneTimePurpose,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<String> {
    let mut q = Sql::new("UPDATE one_time_tokens SET used_at = ");
    q.bind(now)
        .push(" WHERE used_at IS NULL AND user_id = ")
        .bind(user_id);
    q.push(" AND purpose = ").bind(purpose.code());
    q.query().execute(&mut *conn).await?;
    let secret = new_secret("");
    let mut q = Sql::new(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, created_at, expires_at) VALUES (",
    );
    q.bind(hash_secret(&secret)).push(", ").bind(purpose.code());
    q.push(", ")
        .bind(user_id)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(expires_at)
        .push(")");
    q.query().execute(&mut *conn).await?;
    Ok(secret)
}

/// Why a one-time token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeProblem {
    Unknown,
    Expired,
    Used,
}

/// Looks a one-time token up without consuming it (to show the form).
pub async fn check_one_time<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    secret: &str,
    purpose: OneTimePurpose,
    now: Timestamp,
) -> Result<Result<Id, OneTimeProblem>> {
    let mut q =
        Sql::new("SELECT user_id, expires_at, used_at FROM one_time_tokens WHERE token_hash = ");
    q.bind(hash_secret(secret))
        .push(" AND purpose = ")
        .bind(purpose.code());
    let Some(r) = q.query().fetch_optional(ex).await? else {
        return Ok(Err(OneTimeProblem::Unknown));
    };
    if r.try_get::<Option<i64>, _>("used_at")?.is_some() {
        return Ok(Err(OneTimeProblem::Used));
    }
    if time::from_db(r.try_get("expires_at")?) <= now {
        return Ok(Err(OneTimeProblem::Expired));
    }
    Ok(Ok(Id::from_raw(r.try_get("user_id")?)))
}

/// Consumes a one-time token inside the transaction that uses it. The
/// conditional update makes a token usable once even under concurrent use.
pub async fn consume_one_time(
    tx: &mut Tx,
    secret: &str,
    purpose: OneTimePurpose,
    now: Timestamp,
) -> Result<Result<Id, OneTimeProblem>> {
    let user = match check_one_time(&mut **tx, secret, purpose, now).await? {
        Ok(user) => user,
        Err(p) => return Ok(Err(p)),
    };
    let mut q = Sql::new("UPDATE one_time_tokens SET used_at = ");
    q.bind(now)
        .push(" WHERE used_at IS NULL AND token_hash = ")
        .bind(hash_secret(secret));
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    Ok(if n == 1 {
        Ok(user)
    } else {
        Err(OneTimeProblem::Used)
    })
}
