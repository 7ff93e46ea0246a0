//! Unavailability episodes (issue 5, item 4; R5.2-R5.3): monitoring pushes
//! them one at a time, in bulk, or as Alertmanager alerts, with an
//! idempotency key; staff close, correct (audited, refusing overlaps that
//! would double count) and exclude them with an R5.3 reason. Clusters group
//! services so that a cluster episode reaches every service on it.

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_store::episodes::{self, EpisodeRow, NewEpisode, Update};
use ciel_store::{Scope, idempotency};
use ciel_terms::{EpisodeKind, ExclusionReason};
use jiff::Timestamp;
use serde::Serialize;

/// Most episodes one bulk request may carry.
pub const MAX_BULK: usize = 10_000;

/// Path of the bulk push, whose body may exceed the server's usual limit.
pub const BULK_PATH: &str = "/api/v1/episodes/bulk";

/// Largest body of a bulk push: 10 000 episodes of up to ~800 bytes of JSON.
pub const BULK_BODY_BYTES: usize = 8 * 1024 * 1024;

/// An episode as a monitoring system reports it.
#[derive(Debug, Clone)]
pub struct EpisodeInput {
    pub kind: String,
    pub cluster_id: Option<String>,
    pub service_id: Option<String>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub impacts_service: Option<bool>,
    pub source: Option<String>,
    /// The episode's own key within its source (default: derived from the
    /// request's `Idempotency-Key`).
    pub key: Option<String>,
    pub ticket_id: Option<String>,
}

/// Staff only: episodes are the provider's observations.
pub fn require_monitoring(p: &Principal) -> ApiResult<()> {
    require_staff(p, |_| true).map(|_| ())
}

/// The stable code of an episode kind, or a problem naming `field`.
pub fn parse_kind(kind: &str, field: &str) -> ApiResult<EpisodeKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned())).map_err(|_| {
        Problem::invalid(
            field,
            "R5.2: one of cluster_connectivity, vm_storage_access, vcenter, nsx_manager",
        )
    })
}

/// The R5.3 reasons staff may exclude an episode for: the terms' list less
/// the two maintenance reasons, which only a window gives (its notice is
/// judged by R4.6, never asserted by hand).
pub fn allowed_exclusions(state: &AppState, now: Timestamp) -> ApiResult<Vec<ExclusionReason>> {
    let eng = crate::maintenance::engine(state, now)?;
    Ok(eng
        .terms()
        .availability
        .exclusion_reasons
        .value
        .iter()
        .copied()
        .filter(|r| {
            !matches!(
                r,
                ExclusionReason::NotifiedMaintenance | ExclusionReason::UrgentSecurityMaintenance
            )
        })
        .collect())
}

/// The stable code a serde enum serialises to.
pub(crate) fn code<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An episode ends after it starts; `rule` is the one the refusal cites.
pub(crate) fn ends_after_start(
    start: Timestamp,
    end: Option<Timestamp>,
    field: &str,
    rule: &str,
) -> ApiResult<()> {
    match end {
        Some(e) if e <= start => Err(Problem::invalid(
            field,
            format!("{rule}: an episode ends after it starts ({e} is not after {start})"),
        )),
        _ => Ok(()),
    }
}

/// Checks one input and turns it into a row to write.
fn checked(
    i: EpisodeInput,
    field: &str,
    default_key: String,
    clusters: &std::collections::HashSet<String>,
) -> ApiResult<NewEpisode> {
    let kind = parse_kind(&i.kind, &format!("{field}kind"))?;
    ends_after_start(i.start, i.end, &format!("{field}end"), "R5.2")?;
    match (&i.cluster_id, &i.service_id) {
        (Some(c), None) if !clusters.contains(c) => {
            return Err(Problem::invalid(
                &format!("{field}cluster_id"),
                format!("no cluster {c}"),
            ));
        }
        (Some(_), None) | (None, Some(_)) => {}
        _ => {
            return Err(Problem::invalid(
                &format!("{field}cluster_id"),
                "an episode concerns either a cluster or a service",
            ));
        }
    }
    Ok(NewEpisode {
        kind: code(kind),
        cluster_id: i.cluster_id,
        service_id: i.service_id,
        start: i.start,
        end: i.end,
        impacts_service: i.impacts_service.unwrap_or(true),
        source: i.source.unwrap_or_else(|| "api".to_owned()),
        idempotency_key: i.key.unwrap_or(default_key),
        ticket_id: i.ticket_id,
    })
}

/// What a push answered.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub status: StatusCode,
    /// The JSON answer, kept for replays.
    pub body: serde_json::Value,
}

/// Writes pushed episodes in one transaction, under the request's
/// idempotency key: a replay with the same body gets the first answer, the
/// same key with another body is refused (409), and nothing is written on
/// any error. `answer` builds the JSON answer from the rows written.
pub async fn push(
    state: &AppState,
    p: &Principal,
    idem_key: &str,
    body_hash: String,
    inputs: Vec<EpisodeInput>,
    bulk: bool,
    answer: impl FnOnce(&[EpisodeRow], usize) -> ApiResult<serde_json::Value>,
) -> ApiResult<Pushed> {
    let scope = format!("episodes:{}", p.user.id);
    if let Some(first) = push_replay(state, p, &scope, idem_key, &body_hash, inputs.len()).await? {
        return Ok(first);
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let clusters = episodes::existing_clusters(&mut *tx).await?;
    let mut rows = Vec::with_capacity(inputs.len());
    let mut services: Vec<String> = Vec::new();
    for (n, i) in inputs.into_iter().enumerate() {
        let (field, key) = if bulk {
            (format!("episodes[{n}]."), format!("{idem_key}#{n}"))
        } else {
            (String::new(), idem_key.to_owned())
        };
        let row = checked(i, &field, key, &clusters)?;
        if let Some(s) = &row.service_id {
            services.push(s.clone());
        }
        rows.push(row);
    }
    services.sort();
    services.dedup();
    let refs: Vec<&str> = services.iter().map(String::as_str).collect();
    let known = episodes::existing_services(&mut tx, &refs).await?;
    if let Some(n) = rows
        .iter()
        .position(|r| r.service_id.as_ref().is_some_and(|s| !known.contains(s)))
    {
        let field = if bulk {
            format!("episodes[{n}].service_id")
        } else {
            "service_id".to_owned()
        };
        return Err(Problem::invalid(&field, "no such service"));
    }
    let tickets: Vec<&str> = rows.iter().filter_map(|r| r.ticket_id.as_deref()).collect();
    let known = episodes::existing_tickets(&mut tx, &tickets).await?;
    if let Some(n) = rows
        .iter()
        .position(|r| r.ticket_id.as_ref().is_some_and(|t| !known.contains(t)))
    {
        let field = if bulk {
            format!("episodes[{n}].ticket_id")
        } else {
            "ticket_id".to_owned()
        };
        return Err(Problem::invalid(
            &field,
            "no such ticket (its identifier or reference)",
        ));
    }
    let actor = p.actor(now);
    let action = if bulk { "episode.bulk" } else { "episode.push" };
    let (written, already) = episodes::insert_many(&mut tx, &actor, action, &rows).await?;
    let body = answer(&written, already)?;
    push_answer(
        tx,
        &scope,
        idem_key,
        body_hash,
        written.is_empty(),
        body,
        now,
    )
    .await
}

/// The checks every push starts with (monitoring staff, a key, at most
/// [`MAX_BULK`] items), then the first answer to the key if it was seen.
pub(crate) async fn push_replay(
    state: &AppState,
    p: &Principal,
    scope: &str,
    idem_key: &str,
    body_hash: &str,
    items: usize,
) -> ApiResult<Option<Pushed>> {
    require_monitoring(p)?;
    check_idempotency_key(idem_key)?;
    if items > MAX_BULK {
        return Err(Problem::invalid(
            "episodes",
            format!("at most {MAX_BULK} episodes a request"),
        ));
    }
    match idempotency::find(state.store().db(), scope, idem_key).await? {
        Some(first) => replay(first, body_hash).map(Some),
        None => Ok(None),
    }
}

/// Keeps a push's answer under its key in the push's transaction and
/// commits: 201 when something was written, 200 when all was known.
pub(crate) async fn push_answer(
    mut tx: ciel_store::Tx,
    scope: &str,
    idem_key: &str,
    body_hash: String,
    nothing_written: bool,
    body: serde_json::Value,
    now: Timestamp,
) -> ApiResult<Pushed> {
    let status = if nothing_written {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let stored = idempotency::Stored {
        body_hash,
        status: i64::from(status.as_u16()),
        response: body.to_string(),
    };
    idempotency::save(&mut tx, scope, idem_key, &stored, now).await?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(Pushed { status, body })
}

/// A push's `Idempotency-Key` header: present, 1 to 200 characters.
pub fn check_idempotency_key(idem_key: &str) -> ApiResult<()> {
    if idem_key.is_empty() || idem_key.len() > 200 {
        return Err(Problem::invalid(
            "Idempotency-Key",
            "send an Idempotency-Key header (1 to 200 characters)",
        ));
    }
    Ok(())
}

/// The first answer to a key again, or 409 when the body differs.
pub fn replay(first: idempotency::Stored, body_hash: &str) -> ApiResult<Pushed> {
    if first.body_hash != body_hash {
        return Err(Problem::conflict(
            "Idempotency-Key",
            "this Idempotency-Key was used with another body; use a new key",
        ));
    }
    Ok(Pushed {
        status: StatusCode::from_u16(u16::try_from(first.status).unwrap_or(200))
            .unwrap_or(StatusCode::OK),
        body: serde_json::from_str(&first.response).map_err(|_| Problem::internal())?,
    })
}

/// SHA-256 of a request body's canonical JSON.
pub fn body_hash<T: Serialize>(body: &T) -> String {
    ciel_store::secrets::hash_secret(&serde_json::to_string(body).unwrap_or_default())
}

/// One episode (staff).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<EpisodeRow> {
    if !p.is_staff() {
        // Episodes are not tenant data: a client names none of them.
        return Err(Problem::not_found());
    }
    Ok(episodes::get(state.store().db(), id).await?)
}

/// Closes an open episode at `end`.
pub async fn close(
    state: &AppState,
    p: &Principal,
    id: &str,
    end: Timestamp,
) -> ApiResult<EpisodeRow> {
    let before = get(state, p, id).await?;
    if before.end.is_some() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            "Invalid transition",
        )
        .field("end")
        .detail("R5.2: the episode is already closed; correct it instead"));
    }
    ends_after_start(before.start, Some(end), "end", "R5.2")?;
    let u = Update {
        kind: before.kind.clone(),
        start: before.start,
        end: Some(end),
        exclusion: before.exclusion.clone(),
        exclusion_note: before.exclusion_note.clone(),
        ticket_id: before.ticket_id.clone(),
    };
    write(state, p, "episode.close", &before, u).await
}

/// A staff correction: what to change.
#[derive(Debug, Clone, Default)]
pub struct Correction {
    pub kind: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub ticket_id: Option<String>,
    /// The version the correction was made on (compare-and-set).
    pub version: Option<i64>,
}

/// Corrects an episode (audited with before and after). A correction that
/// would make it overlap another episode of the same kind on the same
/// cluster or service is refused: the same minutes would be counted twice.
pub async fn correct(
    state: &AppState,
    p: &Principal,
    id: &str,
    c: Correction,
) -> ApiResult<EpisodeRow> {
    let before = get(state, p, id).await?;
    if c.version.is_some_and(|v| v != before.version) {
        return Err(Problem::moved("episode").field("version"));
    }
    let kind = match &c.kind {
        Some(k) => code(parse_kind(k, "kind")?),
        None => before.kind.clone(),
    };
    let start = c.start.unwrap_or(before.start);
    let end = c.end.or(before.end);
    ends_after_start(start, end, "end", "R5.2")?;
    let probe = EpisodeRow {
        kind: kind.clone(),
        ..before.clone()
    };
    let overlaps = episodes::overlapping(state.store().db(), &probe, start, end).await?;
    if let Some(o) = overlaps.first() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "double_count",
            "Episodes would overlap",
        )
        .field("start")
        .detail(format!(
            "R5.2 (A2 I.A): the corrected episode would overlap episode {} of the same kind on the same {}, counting its minutes twice; correct or close that one instead",
            o.id,
            if before.cluster_id.is_some() { "cluster" } else { "service" }
        )));
    }
    let u = Update {
        kind,
        start,
        end,
        exclusion: before.exclusion.clone(),
        exclusion_note: before.exclusion_note.clone(),
        ticket_id: c.ticket_id.or(before.ticket_id.clone()),
    };
    write(state, p, "episode.correct", &before, u).await
}

/// An exclusion staff give by hand: one of [`allowed_exclusions`] and a
/// note saying why; returns the reason's code and the trimmed note.
pub(crate) fn checked_exclusion(
    state: &AppState,
    reason: &str,
    note: &str,
) -> ApiResult<(String, String)> {
    let allowed = allowed_exclusions(state, state.now())?;
    let parsed: Option<ExclusionReason> =
        serde_json::from_value(serde_json::Value::String(reason.to_owned())).ok();
    let Some(r) = parsed.filter(|r| allowed.contains(r)) else {
        let list: Vec<String> = allowed.iter().map(|r| code(*r)).collect();
        return Err(Problem::invalid(
            "reason",
            format!("R5.3 (A2 I.A): one of {}", list.join(", ")),
        ));
    };
    if note.trim().is_empty() {
        return Err(Problem::invalid(
            "note",
            "R5.3: say why the episode is excluded",
        ));
    }
    Ok((code(r), note.trim().to_owned()))
}

/// Excludes an episode for an R5.3 reason, with staff's note.
pub async fn exclude(
    state: &AppState,
    p: &Principal,
    id: &str,
    reason: &str,
    note: &str,
) -> ApiResult<EpisodeRow> {
    let before = get(state, p, id).await?;
    let (reason, note) = checked_exclusion(state, reason, note)?;
    let u = Update {
        kind: before.kind.clone(),
        start: before.start,
        end: before.end,
        exclusion: Some(reason),
        exclusion_note: Some(note),
        ticket_id: before.ticket_id.clone(),
    };
    write(state, p, "episode.exclude", &before, u).await
}

async fn write(
    state: &AppState,
    p: &Principal,
    action: &str,
    before: &EpisodeRow,
    u: Update,
) -> ApiResult<EpisodeRow> {
    let mut tx = state.store().begin().await?;
    if let Some(t) = u
        .ticket_id
        .as_deref()
        .filter(|t| Some(*t) != before.ticket_id.as_deref())
        && episodes::existing_tickets(&mut tx, &[t]).await?.is_empty()
    {
        return Err(Problem::invalid(
            "ticket_id",
            "no such ticket (its identifier or reference)",
        ));
    }
    let after = episodes::update(&mut tx, &p.actor(state.now()), action, before, u)
        .await
        .map_err(|e| match e {
            ciel_store::StoreError::Conflict(_) => Problem::moved("episode"),
            e => e.into(),
        })?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    // The month's statements follow the correction while they are open.
    if let Err(e) = crate::sla::statements::after_episode_change(state, p, before, &after).await {
        tracing::error!(episode = %after.id, error = ?e, "statements not recomputed after an episode change");
    }
    Ok(after)
}

/// Staff list episodes.
pub async fn list(
    state: &AppState,
    p: &Principal,
    f: &episodes::Filter,
) -> ApiResult<Vec<EpisodeRow>> {
    require_monitoring(p)?;
    Ok(episodes::list(state.store().db(), f).await?)
}

// ---- Alertmanager -------------------------------------------------------------

/// One alert of Alertmanager's webhook (version 4).
#[derive(Debug, Clone)]
pub struct Alert {
    pub status: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub fingerprint: String,
}

/// What the receiver did with the alerts.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AlertsApplied {
    pub opened: usize,
    pub closed: usize,
    /// Already known (a repeated notification).
    pub unchanged: usize,
    /// Without a kind or cluster the labels map to.
    pub ignored: usize,
}

/// The kind of an alert: label `ciel_kind`, else `alertname` when it is a
/// kind's code.
fn alert_kind(a: &Alert) -> Option<EpisodeKind> {
    let k = a
        .labels
        .get("ciel_kind")
        .or_else(|| a.labels.get("alertname"))?;
    parse_kind(k, "kind").ok()
}

/// Turns firing alerts into open episodes (idempotent by fingerprint and
/// start) and resolved ones into closed episodes, on the cluster named by
/// the `ciel_cluster` or `cluster` label (or the service of `ciel_service`).
pub async fn alertmanager(
    state: &AppState,
    p: &Principal,
    alerts: Vec<Alert>,
) -> ApiResult<AlertsApplied> {
    require_monitoring(p)?;
    let now = state.now();
    let mut out = AlertsApplied::default();
    let mut tx = state.store().begin().await?;
    let clusters = episodes::existing_clusters(&mut *tx).await?;
    let actor = p.actor(now);
    for (n, a) in alerts.into_iter().enumerate() {
        let cluster = a
            .labels
            .get("ciel_cluster")
            .or_else(|| a.labels.get("cluster"))
            .filter(|c| clusters.contains(*c))
            .cloned();
        let mut service = None;
        if cluster.is_none()
            && let Some(s) = a.labels.get("ciel_service")
            && episodes::existing_services(&mut tx, &[s.as_str()])
                .await?
                .contains(s)
        {
            service = Some(s.clone());
        }
        let (Some(kind), true) = (alert_kind(&a), cluster.is_some() || service.is_some()) else {
            out.ignored += 1;
            continue;
        };
        let key = format!("{}@{}", a.fingerprint, a.starts_at);
        let resolved = a.status == "resolved";
        // Alertmanager sends "0001-01-01T00:00:00Z" while firing.
        let end = a.ends_at.filter(|e| resolved && *e > a.starts_at);
        if resolved && end.is_none() {
            return Err(Problem::invalid(
                &format!("alerts[{n}].endsAt"),
                "R5.2: a resolved alert ends after it starts",
            ));
        }
        match episodes::by_key(&mut *tx, "alertmanager", &key).await? {
            None => {
                let new = NewEpisode {
                    kind: code(kind),
                    cluster_id: cluster,
                    service_id: service,
                    start: a.starts_at,
                    end,
                    impacts_service: true,
                    source: "alertmanager".to_owned(),
                    idempotency_key: key,
                    ticket_id: None,
                };
                episodes::insert_many(&mut tx, &actor, "episode.alertmanager", &[new]).await?;
                if end.is_some() {
                    out.closed += 1;
                } else {
                    out.opened += 1;
                }
            }
            Some(e) if e.end.is_none() && end.is_some() => {
                let u = Update {
                    kind: e.kind.clone(),
                    start: e.start,
                    end,
                    exclusion: e.exclusion.clone(),
                    exclusion_note: e.exclusion_note.clone(),
                    ticket_id: e.ticket_id.clone(),
                };
                episodes::update(&mut tx, &actor, "episode.close", &e, u).await?;
                out.closed += 1;
            }
            Some(_) => out.unchanged += 1,
        }
    }
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(out)
}

// ---- clusters -----------------------------------------------------------------

/// Staff create a cluster.
pub async fn create_cluster(
    state: &AppState,
    p: &Principal,
    id: &str,
    label: &str,
) -> ApiResult<episodes::Cluster> {
    require_monitoring(p)?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !ok {
        return Err(Problem::invalid(
            "id",
            "1 to 64 letters, digits, '-', '_' or '.' (the name monitoring labels carry)",
        ));
    }
    let mut tx = state.store().begin().await?;
    let c = episodes::create_cluster(&mut tx, &p.actor(state.now()), id, label.trim()).await?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(c)
}

/// Staff put a service on a cluster (or take it off with `None`).
pub async fn assign_cluster(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    cluster_id: Option<&str>,
) -> ApiResult<()> {
    // Scoped first: another organisation's service is not found.
    let service = ciel_store::services::get(state.store().db(), &p.scope, service_id).await?;
    require_monitoring(p)?;
    let mut tx = state.store().begin().await?;
    episodes::assign(
        &mut tx,
        &p.actor(state.now()),
        &service.org_id,
        service_id,
        cluster_id,
    )
    .await
    .map_err(|e| match e {
        ciel_store::StoreError::NotFound => Problem::invalid("cluster_id", "no such cluster"),
        e => e.into(),
    })?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(())
}

/// Whether `scope` may see the service (used by lists filtered by service).
pub async fn visible_service(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    ciel_store::services::get(state.store().db(), scope, id).await?;
    Ok(())
}
