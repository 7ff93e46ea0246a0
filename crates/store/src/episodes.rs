//! Clusters, the service → cluster link, and unavailability episodes (R5.2,
//! R5.3). Episodes are provider data (monitoring's observations): staff read
//! and write them; a cluster episode reaches every service on the cluster.
//! Bulk pushes write [`EPISODES_PER_STATEMENT`] rows per statement (SQLite
//! binds names by linear scan, so small statements are faster than huge
//! ones).

use crate::audit::{self, Actor, Change};
use crate::services::STEPS_PER_STATEMENT;
use crate::sql::{Sql, new_id};
use crate::{Result, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Episodes a bulk `INSERT` writes: 16 rows of 9 bound parameters. SQLite
/// finds a parameter's name by a linear scan (see [`STEPS_PER_STATEMENT`]),
/// so binding costs grow with the square of a statement's parameters: 32
/// rows of 13 spent a fifth of a bulk push in `sqlite3_bind_parameter_name`.
pub const EPISODES_PER_STATEMENT: usize = 16;

/// Identifier prefix of episodes.
pub const PREFIX: &str = "epi";

/// A cluster of the infrastructure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    pub id: String,
    pub label: String,
    pub created_at: Timestamp,
}

/// An episode as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpisodeRow {
    pub id: Id,
    /// `EpisodeKind` code (`cluster_connectivity`...).
    pub kind: String,
    pub cluster_id: Option<String>,
    pub service_id: Option<String>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub impacts_service: bool,
    pub source: String,
    pub idempotency_key: String,
    /// `ExclusionReason` code (R5.3), when staff excluded it.
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
    pub ticket_id: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An episode to write.
#[derive(Debug, Clone)]
pub struct NewEpisode {
    pub kind: String,
    pub cluster_id: Option<String>,
    pub service_id: Option<String>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub impacts_service: bool,
    pub source: String,
    pub idempotency_key: String,
    pub ticket_id: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, kind, cluster_id, service_id, start_at, end_at, impacts_service, \
    source, idempotency_key, exclusion, exclusion_note, ticket_id, version, created_at, updated_at";

pub(crate) fn from_row(r: &AnyRow) -> Result<EpisodeRow> {
    Ok(EpisodeRow {
        id: Id::from_raw(r.try_get("id")?),
        kind: r.try_get("kind")?,
        cluster_id: r.try_get("cluster_id")?,
        service_id: r.try_get("service_id")?,
        start: time::from_db(r.try_get("start_at")?),
        end: time::opt_from_db(r.try_get("end_at")?),
        impacts_service: r.try_get::<i64, _>("impacts_service")? != 0,
        source: r.try_get("source")?,
        idempotency_key: r.try_get("idempotency_key")?,
        exclusion: r.try_get("exclusion")?,
        exclusion_note: r.try_get("exclusion_note")?,
        ticket_id: r.try_get("ticket_id")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

// ---- clusters ----------------------------------------------------------------

/// Creates a cluster (staff).
pub async fn create_cluster(tx: &mut Tx, actor: &Actor, id: &str, label: &str) -> Result<Cluster> {
    let c = Cluster {
        id: id.to_owned(),
        label: label.to_owned(),
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new("INSERT INTO clusters (id, label, created_at) VALUES (");
    q.bind(id)
        .push(", ")
        .bind(label)
        .push(", ")
        .bind(c.created_at)
        .push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "id"))?;
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "cluster.create",
            entity_kind: "cluster",
            entity_id: id,
            before: None,
            after: Some(&c),
        },
    )
    .await?;
    Ok(c)
}

/// Every cluster, by identifier.
pub async fn list_clusters<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Cluster>> {
    Sql::new("SELECT id, label, created_at FROM clusters ORDER BY id")
        .query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok(Cluster {
                id: r.try_get("id")?,
                label: r.try_get("label")?,
                created_at: time::from_db(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// The cluster of a service, if any.
pub async fn cluster_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    service_id: &str,
) -> Result<Option<String>> {
    let mut q = Sql::new("SELECT cluster_id FROM service_clusters WHERE service_id = ");
    q.bind(service_id);
    Ok(q.query()
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("cluster_id"))
        .transpose()?)
}

/// Puts a service on a cluster, or takes it off (`None`); audited.
pub async fn assign(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    service_id: &str,
    cluster_id: Option<&str>,
) -> Result<()> {
    let before = cluster_of(&mut **tx, service_id).await?;
    let mut q = Sql::new("DELETE FROM service_clusters WHERE service_id = ");
    q.bind(service_id);
    q.query().execute(&mut **tx).await?;
    if let Some(c) = cluster_id {
        let mut q =
            Sql::new("INSERT INTO service_clusters (service_id, cluster_id, assigned_at) SELECT ");
        q.bind(service_id).push(", id, ").bind(actor.recorded_at);
        q.push(" FROM clusters WHERE id = ").bind(c);
        if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(org_id),
            action: "service.cluster",
            entity_kind: "service",
            entity_id: service_id,
            before: Some(&before),
            after: Some(&cluster_id),
        },
    )
    .await?;
    Ok(())
}

/// Which of `ids` are clusters.
pub async fn existing_clusters<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<std::collections::HashSet<String>> {
    Ok(list_clusters(ex).await?.into_iter().map(|c| c.id).collect())
}

/// Which of `ids` are services (checked 32 at a time).
pub async fn existing_services(
    tx: &mut Tx,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>> {
    existing(tx, "services", "id", ids).await
}

/// Which of `refs` name a ticket, by identifier or by reference
/// (`T-2026-000001`): the tickets an episode may be linked to.
pub async fn existing_tickets(
    tx: &mut Tx,
    refs: &[&str],
) -> Result<std::collections::HashSet<String>> {
    let mut found = existing(tx, "tickets", "id", refs).await?;
    found.extend(existing(tx, "tickets", "reference", refs).await?);
    Ok(found)
}

/// Which of `values` are stored in `table.column` (fixed names, never input).
async fn existing(
    tx: &mut Tx,
    table: &str,
    column: &str,
    values: &[&str],
) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in values.chunks(STEPS_PER_STATEMENT) {
        let mut q = Sql::new(&format!(
            "SELECT {column} AS v FROM {table} WHERE {column} IN ("
        ));
        for (i, v) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*v);
        }
        q.push(")");
        for r in q.query().fetch_all(&mut **tx).await? {
            found.insert(r.try_get("v")?);
        }
    }
    Ok(found)
}

// ---- episodes ----------------------------------------------------------------

/// Writes episodes, 32 rows a statement; an episode whose (source,
/// idempotency key) is already stored is left as it is (a monitoring system
/// pushing it again). Returns the rows written, in input order, and how
/// many were already known. One audit record names the batch.
pub async fn insert_many(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    new: &[NewEpisode],
) -> Result<(Vec<EpisodeRow>, usize)> {
    let now = actor.recorded_at;
    let mut written = Vec::with_capacity(new.len());
    // The integers every row shares are written into the statement, not
    // bound: 9 bound parameters a row instead of 13.
    let constants = format!(", 0, {}, {})", time::to_db(now), time::to_db(now));
    for chunk in new.chunks(EPISODES_PER_STATEMENT) {
        let rows: Vec<EpisodeRow> = chunk
            .iter()
            .map(|n| EpisodeRow {
                id: new_id(PREFIX, now),
                kind: n.kind.clone(),
                cluster_id: n.cluster_id.clone(),
                service_id: n.service_id.clone(),
                start: n.start,
                end: n.end,
                impacts_service: n.impacts_service,
                source: n.source.clone(),
                idempotency_key: n.idempotency_key.clone(),
                exclusion: None,
                exclusion_note: None,
                ticket_id: n.ticket_id.clone(),
                version: 0,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut q = Sql::new(
            "INSERT INTO episodes (id, kind, cluster_id, service_id, start_at, end_at, \
             impacts_service, source, idempotency_key, ticket_id, version, created_at, updated_at) VALUES ",
        );
        for (i, e) in rows.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(&e.id).push(", ").bind(e.kind.as_str());
            q.push(", ").bind(e.cluster_id.clone()).push(", ");
            q.bind(e.service_id.clone()).push(", ").bind(e.start);
            q.push(", ").bind(e.end).push(", ");
            q.push(if e.impacts_service { "1, " } else { "0, " });
            q.bind(e.source.as_str()).push(", ");
            q.bind(e.idempotency_key.as_str()).push(", ");
            q.bind(e.ticket_id.clone()).push(&constants);
        }
        q.push(" ON CONFLICT (source, idempotency_key) DO NOTHING RETURNING id");
        let done: std::collections::HashSet<String> = q
            .query()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        written.extend(rows.into_iter().filter(|e| done.contains(e.id.as_str())));
    }
    let known = new.len() - written.len();
    #[derive(Serialize)]
    struct Batch<'a> {
        count: usize,
        already_known: usize,
        first: Option<&'a str>,
        last: Option<&'a str>,
    }
    let batch = Batch {
        count: written.len(),
        already_known: known,
        first: written.first().map(|e| e.id.as_str()),
        last: written.last().map(|e| e.id.as_str()),
    };
    if !written.is_empty() {
        let id = if written.len() == 1 {
            written[0].id.to_string()
        } else {
            format!("batch:{}", written[0].id)
        };
        audit::record(
            &mut **tx,
            actor,
            Change::<(), _> {
                org_id: None,
                action,
                entity_kind: "episode",
                entity_id: &id,
                before: None,
                after: Some(&batch),
            },
        )
        .await?;
    }
    Ok((written, known))
}

/// One episode.
pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<EpisodeRow> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM episodes WHERE id = "));
    q.bind(id);
    from_row(
        &q.query()
            .fetch_optional(ex)
            .await?
            .ok_or(StoreError::NotFound)?,
    )
}

/// The episode stored under (source, key).
pub async fn by_key<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    source: &str,
    key: &str,
) -> Result<Option<EpisodeRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM episodes WHERE source = "));
    q.bind(source).push(" AND idempotency_key = ").bind(key);
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub cluster_id: Option<String>,
    /// A service's own episodes and those of its cluster.
    pub service_id: Option<String>,
    /// Episodes touching [from, to).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub kind: Option<String>,
    /// Only the episodes still open.
    pub open_only: bool,
    pub limit: i64,
}

/// Episodes by start, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    f: &Filter,
) -> Result<Vec<EpisodeRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM episodes WHERE 1 = 1"));
    if let Some(c) = &f.cluster_id {
        q.push(" AND cluster_id = ").bind(c);
    }
    if let Some(s) = &f.service_id {
        q.push(" AND (service_id = ").bind(s);
        q.push(" OR cluster_id IN (SELECT cluster_id FROM service_clusters WHERE service_id = ")
            .bind(s)
            .push("))");
    }
    if let Some(k) = &f.kind {
        q.push(" AND kind = ").bind(k);
    }
    if f.open_only {
        q.push(" AND end_at IS NULL");
    }
    if let Some(to) = f.to {
        q.push(" AND start_at < ").bind(to);
    }
    if let Some(from) = f.from {
        q.push(" AND (end_at IS NULL OR end_at > ")
            .bind(from)
            .push(")");
    }
    q.push(" ORDER BY start_at, id LIMIT ").bind(f.limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Other episodes of the same kind on the same cluster or service that
/// overlap [start, end) (end `None`: open).
pub async fn overlapping<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    e: &EpisodeRow,
    start: Timestamp,
    end: Option<Timestamp>,
) -> Result<Vec<EpisodeRow>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM episodes WHERE id <> "));
    q.bind(&e.id).push(" AND kind = ").bind(e.kind.as_str());
    match (&e.cluster_id, &e.service_id) {
        (Some(c), _) => q.push(" AND cluster_id = ").bind(c),
        (None, Some(s)) => q.push(" AND service_id = ").bind(s),
        (None, None) => q.push(" AND 1 = 0"),
    };
    if let Some(end) = end {
        q.push(" AND start_at < ").bind(end);
    }
    q.push(" AND (end_at IS NULL OR end_at > ")
        .bind(start)
        .push(")");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// What a staff change sets.
#[derive(Debug, Clone)]
pub struct Update {
    pub kind: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
    pub ticket_id: Option<String>,
}

/// Applies a change to the version it was computed from, audited with the
/// episode before and after; a concurrent change answers `Conflict`.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &EpisodeRow,
    u: Update,
) -> Result<EpisodeRow> {
    let now = actor.recorded_at;
    let mut q = Sql::new("UPDATE episodes SET kind = ");
    q.bind(u.kind.as_str()).push(", start_at = ").bind(u.start);
    q.push(", end_at = ").bind(u.end).push(", exclusion = ");
    q.bind(u.exclusion.clone()).push(", exclusion_note = ");
    q.bind(u.exclusion_note.clone()).push(", ticket_id = ");
    q.bind(u.ticket_id.clone())
        .push(", version = version + 1, updated_at = ");
    q.bind(now).push(" WHERE id = ").bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get(&mut **tx, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: None,
            action,
            entity_kind: "episode",
            entity_id: before.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}
