//! The audit log: who changed what, when (recorded and actual time), with the
//! state before and after. Written in the transaction of the change itself,
//! so a change without its audit record cannot exist.

use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, time};
use ciel_domain::{Id, id::prefix};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// The author of a change and its two times.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `staff`, `client`, `token` or `system`.
    pub kind: &'static str,
    /// The user (or API token) acting, if any.
    pub id: Option<Id>,
    /// A readable label (e-mail address, token name, job kind).
    pub label: String,
    /// When ciel recorded the change (the clock's now).
    pub recorded_at: Timestamp,
    /// When the event really happened: equal to `recorded_at`, unless staff
    /// back-date it (a phone call, a letter's receipt).
    pub occurred_at: Timestamp,
    /// The HTTP request that caused the change.
    pub request_id: Option<String>,
}

impl Actor {
    /// The system itself (jobs, CLI), acting now.
    pub fn system(label: &str, now: Timestamp) -> Actor {
        Actor {
            kind: "system",
            id: None,
            label: label.to_owned(),
            recorded_at: now,
            occurred_at: now,
            request_id: None,
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: Id,
    pub org_id: Option<Id>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub recorded_at: Timestamp,
    pub occurred_at: Timestamp,
    pub request_id: Option<String>,
}

/// What changed, for [`record`].
pub struct Change<'a, B: Serialize, A: Serialize> {
    /// The organisation the entity belongs to (None: provider-wide).
    pub org_id: Option<&'a Id>,
    /// Dotted verb, e.g. `user.invite`.
    pub action: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

/// Appends an audit record; call it inside the change's transaction.
pub async fn record<'e, E, B, A>(ex: E, actor: &Actor, change: Change<'_, B, A>) -> Result<Id>
where
    E: Executor<'e, Database = Any>,
    B: Serialize,
    A: Serialize,
{
    let ids = record_many(ex, actor, std::slice::from_ref(&change)).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("no audit record written".into()))
}

/// Appends several audit records of one actor in one statement (the daily
/// pass writes hundreds at a time); call it inside the changes' transaction.
pub async fn record_many<'e, E, B, A>(
    ex: E,
    actor: &Actor,
    changes: &[Change<'_, B, A>],
) -> Result<Vec<Id>>
where
    E: Executor<'e, Database = Any>,
    B: Serialize,
    A: Serialize,
{
    if changes.is_empty() {
        return Ok(vec![]);
    }
    let mut ids = Vec::with_capacity(changes.len());
    let mut q = Sql::new(
        "INSERT INTO audit_log (id, org_id, actor_kind, actor_id, actor_label, action, \
         entity_kind, entity_id, before_json, after_json, recorded_at, occurred_at, request_id) VALUES ",
    );
    for (i, change) in changes.iter().enumerate() {
        let before = change.before.map(|b| erased::Ser::to_json(b)).transpose()?;
        let after = change.after.map(|a| erased::Ser::to_json(a)).transpose()?;
        if i > 0 {
            q.push(", ");
        }
        let id = new_id(prefix::AUDIT, actor.recorded_at);
        q.push("(")
            .bind(&id)
            .push(", ")
            .bind(change.org_id.map(Id::as_str));
        q.push(", ").bind(actor.kind).push(", ");
        q.bind(actor.id.as_ref().map(Id::as_str))
            .push(", ")
            .bind(&actor.label);
        q.push(", ")
            .bind(change.action)
            .push(", ")
            .bind(change.entity_kind);
        q.push(", ").bind(change.entity_id).push(", ").bind(before);
        q.push(", ").bind(after).push(", ").bind(actor.recorded_at);
        q.push(", ").bind(actor.occurred_at).push(", ");
        q.bind(actor.request_id.clone()).push(")");
        ids.push(id);
    }
    q.query().execute(ex).await?;
    Ok(ids)
}

/// Records the creation of an entity, with its state after.
pub async fn created<'e, E, A>(
    ex: E,
    actor: &Actor,
    org_id: &Id,
    action: &str,
    entity_kind: &str,
    entity_id: &str,
    after: &A,
) -> Result<Id>
where
    E: Executor<'e, Database = Any>,
    A: Serialize,
{
    let change = Change::<(), A> {
        org_id: Some(org_id),
        action,
        entity_kind,
        entity_id,
        before: None,
        after: Some(after),
    };
    record(ex, actor, change).await
}

/// Object-safe serialisation, so `before` and `after` may differ in type.
mod erased {
    use crate::{Result, StoreError};
    pub trait Ser {
        fn to_json(&self) -> Result<String>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> Result<String> {
            serde_json::to_string(self).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
    }
}

/// Lists the audit log visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<AuditEntry>> {
    let mut q = Sql::new(
        "SELECT id, org_id, actor_kind, actor_id, actor_label, action, entity_kind, entity_id, \
         before_json, after_json, recorded_at, occurred_at, request_id FROM audit_log WHERE 1 = 1",
    );
    scope.restrict(&mut q, "org_id");
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |e| &e.id).await
}

fn from_row(r: &AnyRow) -> Result<AuditEntry> {
    let parse = |s: Option<String>| -> Result<Option<serde_json::Value>> {
        s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    };
    Ok(AuditEntry {
        id: Id::from_raw(r.try_get("id")?),
        org_id: r.try_get::<Option<String>, _>("org_id")?.map(Id::from_raw),
        actor_kind: r.try_get("actor_kind")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        entity_kind: r.try_get("entity_kind")?,
        entity_id: r.try_get("entity_id")?,
        before: parse(r.try_get("before_json")?)?,
        after: parse(r.try_get("after_json")?)?,
        recorded_at: time::from_db(r.try_get("recorded_at")?),
        occurred_at: time::from_db(r.try_get("occurred_at")?),
        request_id: r.try_get("request_id")?,
    })
}
