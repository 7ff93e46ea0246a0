//! Colocation datacenter episodes (R5.6): losses of network, power or
//! ambient temperature in a datacenter, pushed by monitoring or recorded by
//! staff. Provider data: staff read and write them; a client reads only the
//! yearly figures of the datacenters it has colocation services in
//! ([`crate::services::items_of_kind`]). Writes go 32 rows a statement, like
//! [`crate::episodes`], with one audit record per batch.

use crate::audit::{self, Actor, Change};
use crate::services::STEPS_PER_STATEMENT;
use crate::sql::{Sql, new_id};
use crate::{Result, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of datacenter episodes.
pub const PREFIX: &str = "dce";

/// A datacenter episode as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DcEpisodeRow {
    pub id: Id,
    /// Datacenter code of the terms (`MLB`, `PA3`...).
    pub datacenter: String,
    /// `network`, `power` or `temperature`.
    pub kind: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub source: String,
    pub idempotency_key: String,
    /// `ExclusionReason` code (R5.3), when staff excluded it.
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A datacenter episode to write.
#[derive(Debug, Clone)]
pub struct NewDcEpisode {
    pub datacenter: String,
    pub kind: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub source: String,
    pub idempotency_key: String,
}

const COLUMNS: &str = "id, datacenter, kind, start_at, end_at, source, idempotency_key, \
    exclusion, exclusion_note, version, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<DcEpisodeRow> {
    Ok(DcEpisodeRow {
        id: Id::from_raw(r.try_get("id")?),
        datacenter: r.try_get("datacenter")?,
        kind: r.try_get("kind")?,
        start: time::from_db(r.try_get("start_at")?),
        end: time::opt_from_db(r.try_get("end_at")?),
        source: r.try_get("source")?,
        idempotency_key: r.try_get("idempotency_key")?,
        exclusion: r.try_get("exclusion")?,
        exclusion_note: r.try_get("exclusion_note")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

/// Writes episodes, 32 rows a statement; an episode whose (source,
/// idempotency key) is already stored is left as it is. Returns the rows
/// written, in input order, and how many were already known; one audit
/// record names the batch.
pub async fn insert_many(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    new: &[NewDcEpisode],
) -> Result<(Vec<DcEpisodeRow>, usize)> {
    let now = actor.recorded_at;
    let mut written = Vec::with_capacity(new.len());
    for chunk in new.chunks(STEPS_PER_STATEMENT) {
        let rows: Vec<DcEpisodeRow> = chunk
            .iter()
            .map(|n| DcEpisodeRow {
                id: new_id(PREFIX, now),
                datacenter: n.datacenter.clone(),
                kind: n.kind.clone(),
                start: n.start,
                end: n.end,
                source: n.source.clone(),
                idempotency_key: n.idempotency_key.clone(),
                exclusion: None,
                exclusion_note: None,
                version: 0,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut q = Sql::new(
            "INSERT INTO datacenter_episodes (id, datacenter, kind, start_at, end_at, source, \
             idempotency_key, version, created_at, updated_at) VALUES ",
        );
        for (i, e) in rows.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(&e.id)
                .push(", ")
                .bind(e.datacenter.as_str());
            q.push(", ").bind(e.kind.as_str()).push(", ").bind(e.start);
            q.push(", ").bind(e.end).push(", ").bind(e.source.as_str());
            q.push(", ").bind(e.idempotency_key.as_str()).push(", 0, ");
            q.bind(now).push(", ").bind(now).push(")");
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
    if !written.is_empty() {
        let batch = Batch {
            count: written.len(),
            already_known: known,
            first: written.first().map(|e| e.id.as_str()),
            last: written.last().map(|e| e.id.as_str()),
        };
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
                entity_kind: "datacenter_episode",
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
pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<DcEpisodeRow> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM datacenter_episodes WHERE id = "
    ));
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
) -> Result<Option<DcEpisodeRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM datacenter_episodes WHERE source = "
    ));
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
    pub datacenter: Option<String>,
    pub kind: Option<String>,
    /// Episodes touching [from, to).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: i64,
}

/// Episodes by start, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    f: &Filter,
) -> Result<Vec<DcEpisodeRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM datacenter_episodes WHERE 1 = 1"
    ));
    if let Some(d) = &f.datacenter {
        q.push(" AND datacenter = ").bind(d);
    }
    if let Some(k) = &f.kind {
        q.push(" AND kind = ").bind(k);
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

/// What a staff change sets.
#[derive(Debug, Clone)]
pub struct Update {
    pub kind: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub exclusion: Option<String>,
    pub exclusion_note: Option<String>,
}

/// Applies a change to the version it was computed from, audited with the
/// episode before and after; a concurrent change answers `Conflict`.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &DcEpisodeRow,
    u: Update,
) -> Result<DcEpisodeRow> {
    let mut q = Sql::new("UPDATE datacenter_episodes SET kind = ");
    q.bind(u.kind.as_str()).push(", start_at = ").bind(u.start);
    q.push(", end_at = ").bind(u.end).push(", exclusion = ");
    q.bind(u.exclusion.clone()).push(", exclusion_note = ");
    q.bind(u.exclusion_note.clone())
        .push(", version = version + 1, updated_at = ");
    q.bind(actor.recorded_at)
        .push(" WHERE id = ")
        .bind(&before.id);
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
            entity_kind: "datacenter_episode",
            entity_id: before.id.as_str(),
            before: Some(before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}
