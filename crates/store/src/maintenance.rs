//! Maintenance windows (R4.6): the window, what it affects, the notice of
//! each affected client with the engine's outcome, and each client's private
//! iCalendar feed token (stored hashed, like API tokens).

use crate::audit::{self, Actor, Change};
use crate::secrets::{hash_secret, new_secret};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of maintenance windows.
pub const PREFIX: &str = "mnt";

/// A window as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowRow {
    pub id: Id,
    pub title: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub impact: String,
    pub reason: String,
    pub contact: String,
    pub urgent_security_reason: Option<String>,
    pub send_by: Timestamp,
    pub created_at: Timestamp,
    /// Revision (iCalendar SEQUENCE), bumped by each change.
    pub sequence: i64,
    /// Last change (the creation until changed).
    pub updated_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    pub services: Vec<String>,
    pub clusters: Vec<String>,
}

/// The notice of one affected client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRow {
    pub window_id: String,
    pub org_id: Id,
    pub notified_at: Option<Timestamp>,
    /// `in_time`, `late` or `not_sent` (the engine's NoticeStatus).
    pub status: String,
    pub excluded: bool,
    /// The client's affected services.
    pub services: Vec<String>,
    /// The engine's explanation (JSON).
    pub explanation_json: String,
    /// Send time of the last notice (of a change or the cancellation).
    pub last_sent_at: Option<Timestamp>,
}

const INSERT_COLUMNS: &str = "id, title, start_at, end_at, impact, reason, contact, \
    urgent_security_reason, send_by, created_at";
pub(crate) const COLUMNS: &str = "id, title, start_at, end_at, impact, reason, contact, \
    urgent_security_reason, send_by, created_at, sequence, updated_at, cancelled_at, cancel_reason";
const NOTICE_COLUMNS: &str = "window_id, org_id, notified_at, status, excluded, services_json, \
    explanation_json, last_sent_at";

pub(crate) fn window_from_row(r: &AnyRow) -> Result<WindowRow> {
    Ok(WindowRow {
        id: Id::from_raw(r.try_get("id")?),
        title: r.try_get("title")?,
        start: time::from_db(r.try_get("start_at")?),
        end: time::from_db(r.try_get("end_at")?),
        impact: r.try_get("impact")?,
        reason: r.try_get("reason")?,
        contact: r.try_get("contact")?,
        urgent_security_reason: r.try_get("urgent_security_reason")?,
        send_by: time::from_db(r.try_get("send_by")?),
        created_at: time::from_db(r.try_get("created_at")?),
        sequence: r.try_get("sequence")?,
        updated_at: time::opt_from_db(r.try_get("updated_at")?)
            .unwrap_or(time::from_db(r.try_get("created_at")?)),
        cancelled_at: time::opt_from_db(r.try_get("cancelled_at")?),
        cancel_reason: r.try_get("cancel_reason")?,
        services: Vec::new(),
        clusters: Vec::new(),
    })
}

pub(crate) fn notice_from_row(r: &AnyRow) -> Result<NoticeRow> {
    let services: String = r.try_get("services_json")?;
    Ok(NoticeRow {
        window_id: r.try_get("window_id")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        notified_at: time::opt_from_db(r.try_get("notified_at")?),
        status: r.try_get("status")?,
        excluded: r.try_get::<i64, _>("excluded")? != 0,
        services: serde_json::from_str(&services)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        explanation_json: r.try_get("explanation_json")?,
        last_sent_at: time::opt_from_db(r.try_get("last_sent_at")?),
    })
}

/// The services a window reaches: those named and those on the clusters
/// named, as (service id, org id, label), by organisation then id.
pub async fn affected_services(
    tx: &mut Tx,
    services: &[String],
    clusters: &[String],
) -> Result<Vec<(String, Id, String)>> {
    let mut q = Sql::new("SELECT id, org_id, label FROM services WHERE 1 = 0");
    for s in services {
        q.push(" OR id = ").bind(s);
    }
    for c in clusters {
        q.push(" OR id IN (SELECT service_id FROM service_clusters WHERE cluster_id = ")
            .bind(c)
            .push(")");
    }
    q.push(" ORDER BY org_id, id");
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                Id::from_raw(r.try_get("org_id")?),
                r.try_get("label")?,
            ))
        })
        .collect()
}

/// Stores a new window with its targets and notices, audited.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    w: &WindowRow,
    notices: &[NoticeRow],
) -> Result<()> {
    let mut q = Sql::new(&format!(
        "INSERT INTO maintenance_windows ({INSERT_COLUMNS}) VALUES ("
    ));
    q.bind(&w.id).push(", ").bind(w.title.as_str()).push(", ");
    q.bind(w.start).push(", ").bind(w.end).push(", ");
    q.bind(w.impact.as_str()).push(", ").bind(w.reason.as_str());
    q.push(", ").bind(w.contact.as_str()).push(", ");
    q.bind(w.urgent_security_reason.clone()).push(", ");
    q.bind(w.send_by).push(", ").bind(w.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    let targets = w
        .services
        .iter()
        .map(|s| ("service", s))
        .chain(w.clusters.iter().map(|c| ("cluster", c)));
    for (kind, id) in targets {
        let mut q = Sql::new(
            "INSERT INTO maintenance_targets (window_id, target_kind, target_id) VALUES (",
        );
        q.bind(&w.id)
            .push(", ")
            .bind(kind)
            .push(", ")
            .bind(id)
            .push(")");
        q.query().execute(&mut **tx).await?;
    }
    for n in notices {
        let services =
            serde_json::to_string(&n.services).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut q = Sql::new(
            "INSERT INTO maintenance_notices (window_id, org_id, notified_at, status, excluded, \
             services_json, explanation_json) VALUES (",
        );
        q.bind(n.window_id.as_str()).push(", ").bind(&n.org_id);
        q.push(", ")
            .bind(n.notified_at)
            .push(", ")
            .bind(n.status.as_str());
        q.push(", ")
            .bind(i64::from(n.excluded))
            .push(", ")
            .bind(services);
        q.push(", ").bind(n.explanation_json.as_str()).push(")");
        q.query().execute(&mut **tx).await?;
        audit::record(
            &mut **tx,
            actor,
            Change::<(), _> {
                org_id: Some(&n.org_id),
                action: "maintenance.notice",
                entity_kind: "maintenance_window",
                entity_id: w.id.as_str(),
                before: None,
                after: Some(n),
            },
        )
        .await?;
    }
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "maintenance.plan",
            entity_kind: "maintenance_window",
            entity_id: w.id.as_str(),
            before: None,
            after: Some(w),
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn with_targets<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    mut windows: Vec<WindowRow>,
) -> Result<Vec<WindowRow>> {
    if windows.is_empty() {
        return Ok(windows);
    }
    let mut q = Sql::new(
        "SELECT window_id, target_kind, target_id FROM maintenance_targets WHERE window_id IN (",
    );
    for (i, w) in windows.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(&w.id);
    }
    q.push(") ORDER BY target_id");
    for r in q.query().fetch_all(ex).await? {
        let wid: String = r.try_get("window_id")?;
        let kind: String = r.try_get("target_kind")?;
        let id: String = r.try_get("target_id")?;
        if let Some(w) = windows.iter_mut().find(|w| w.id.as_str() == wid) {
            if kind == "cluster" {
                w.clusters.push(id);
            } else {
                w.services.push(id);
            }
        }
    }
    Ok(windows)
}

/// Windows visible to `scope` (staff: all; a client: those it was notified
/// of), with the client's notice for a client scope, by start.
pub async fn list(
    tx: &mut Tx,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<(WindowRow, Vec<NoticeRow>)>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM maintenance_windows WHERE 1 = 1"
    ));
    if let Scope::Org(org) = scope {
        q.push(" AND id IN (SELECT window_id FROM maintenance_notices WHERE org_id = ")
            .bind(org)
            .push(")");
    }
    q.push(" ORDER BY start_at DESC, id LIMIT ").bind(limit);
    let rows = q.query().fetch_all(&mut **tx).await?;
    let windows = rows
        .iter()
        .map(window_from_row)
        .collect::<Result<Vec<_>>>()?;
    let windows = with_targets(&mut **tx, windows).await?;
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    // The notices of every listed window in one query (not one per window).
    let mut q = Sql::new(&format!(
        "SELECT {NOTICE_COLUMNS} FROM maintenance_notices WHERE window_id IN ("
    ));
    for (i, w) in windows.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(&w.id);
    }
    q.push(")");
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY window_id, org_id");
    let mut by_window: std::collections::HashMap<String, Vec<NoticeRow>> =
        std::collections::HashMap::new();
    for r in q.query().fetch_all(&mut **tx).await? {
        let n = notice_from_row(&r)?;
        by_window.entry(n.window_id.clone()).or_default().push(n);
    }
    Ok(windows
        .into_iter()
        .map(|w| {
            let notices = by_window.remove(w.id.as_str()).unwrap_or_default();
            (w, notices)
        })
        .collect())
}

/// One window with every notice (staff).
pub async fn get(tx: &mut Tx, id: &str) -> Result<(WindowRow, Vec<NoticeRow>)> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM maintenance_windows WHERE id = "
    ));
    q.bind(id);
    let row = q
        .query()
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let w = with_targets(&mut **tx, vec![window_from_row(&row)?])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)?;
    let mut q = Sql::new(&format!(
        "SELECT {NOTICE_COLUMNS} FROM maintenance_notices WHERE window_id = "
    ));
    q.bind(id).push(" ORDER BY org_id");
    let notices = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(notice_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok((w, notices))
}

/// Saves a changed (or cancelled) window over the revision it was read at
/// (`before.sequence`; a window changed meanwhile gives
/// [`StoreError::Conflict`]) with its notices as judged again; audited with
/// both states, one record per client notice.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &WindowRow,
    after: &WindowRow,
    notices: &[NoticeRow],
) -> Result<()> {
    let mut q = Sql::new("UPDATE maintenance_windows SET title = ");
    q.bind(after.title.as_str())
        .push(", start_at = ")
        .bind(after.start);
    q.push(", end_at = ").bind(after.end);
    q.push(", impact = ").bind(after.impact.as_str());
    q.push(", reason = ").bind(after.reason.as_str());
    q.push(", contact = ").bind(after.contact.as_str());
    q.push(", send_by = ").bind(after.send_by);
    q.push(", sequence = ").bind(after.sequence);
    q.push(", updated_at = ").bind(after.updated_at);
    q.push(", cancelled_at = ").bind(after.cancelled_at);
    q.push(", cancel_reason = ")
        .bind(after.cancel_reason.clone());
    q.push(" WHERE id = ").bind(&after.id);
    q.push(" AND sequence = ").bind(before.sequence);
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("sequence"));
    }
    for n in notices {
        let mut q = Sql::new("UPDATE maintenance_notices SET notified_at = ");
        q.bind(n.notified_at)
            .push(", status = ")
            .bind(n.status.as_str());
        q.push(", excluded = ").bind(i64::from(n.excluded));
        q.push(", explanation_json = ")
            .bind(n.explanation_json.as_str());
        q.push(", last_sent_at = ").bind(n.last_sent_at);
        q.push(" WHERE window_id = ").bind(n.window_id.as_str());
        q.push(" AND org_id = ").bind(&n.org_id);
        q.query().execute(&mut **tx).await?;
        audit::record(
            &mut **tx,
            actor,
            Change::<(), _> {
                org_id: Some(&n.org_id),
                action: "maintenance.notice",
                entity_kind: "maintenance_window",
                entity_id: after.id.as_str(),
                before: None,
                after: Some(n),
            },
        )
        .await?;
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: None,
            action,
            entity_kind: "maintenance_window",
            entity_id: after.id.as_str(),
            before: Some(before),
            after: Some(after),
        },
    )
    .await?;
    Ok(())
}

/// The windows (not cancelled) notified to any of `orgs`, each with that
/// organisation's notice: what moves the clocks of their tickets.
pub async fn notices_of_orgs<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    orgs: &[&str],
) -> Result<Vec<(WindowRow, NoticeRow)>> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let cols: String = COLUMNS
        .split(", ")
        .map(|c| format!("w.{c}"))
        .chain(
            NOTICE_COLUMNS
                .split(", ")
                .filter(|c| *c != "window_id" && *c != "org_id")
                .map(|c| format!("n.{c}")),
        )
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = Sql::new(&format!(
        "SELECT {cols}, n.window_id, n.org_id FROM maintenance_notices n \
         JOIN maintenance_windows w ON w.id = n.window_id \
         WHERE w.cancelled_at IS NULL AND n.org_id IN ("
    ));
    for (i, o) in orgs.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*o);
    }
    q.push(") ORDER BY w.start_at, w.id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((window_from_row(r)?, notice_from_row(r)?)))
        .collect()
}

/// Issues a new feed token for an organisation (the previous URL stops
/// working); returns the secret, shown once.
pub async fn rotate_feed(tx: &mut Tx, actor: &Actor, org_id: &Id) -> Result<String> {
    let secret = new_secret("");
    let mut q = Sql::new("DELETE FROM calendar_feeds WHERE org_id = ");
    q.bind(org_id);
    q.query().execute(&mut **tx).await?;
    let mut q = Sql::new("INSERT INTO calendar_feeds (org_id, token_hash, created_at) VALUES (");
    q.bind(org_id).push(", ").bind(hash_secret(&secret));
    q.push(", ").bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), ()> {
            org_id: Some(org_id),
            action: "calendar_feed.rotate",
            entity_kind: "organization",
            entity_id: org_id.as_str(),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(secret)
}

/// When the organisation's current feed token was issued, if any.
pub async fn feed_issued_at<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &Id,
) -> Result<Option<Timestamp>> {
    let mut q = Sql::new("SELECT created_at FROM calendar_feeds WHERE org_id = ");
    q.bind(org_id);
    Ok(q.query()
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("created_at").map(time::from_db))
        .transpose()?)
}

/// The organisation a feed token opens.
pub async fn feed_org<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    secret: &str,
) -> Result<Option<Id>> {
    let mut q = Sql::new("SELECT org_id FROM calendar_feeds WHERE token_hash = ");
    q.bind(hash_secret(secret));
    Ok(q.query()
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("org_id").map(Id::from_raw))
        .transpose()?)
}

/// A new window identifier.
pub fn new_window_id(now: Timestamp) -> Id {
    new_id(PREFIX, now)
}
