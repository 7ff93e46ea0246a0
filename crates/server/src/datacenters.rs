//! Colocation availability (issue 5, item 7; R5.6): monitoring pushes
//! episodes of network, power or ambient temperature loss per datacenter,
//! one at a time or in bulk, under an `Idempotency-Key` (the same framing as
//! [`crate::episodes`]); staff correct (audited) and exclude them for an
//! R5.3 reason; the yearly figure of a datacenter is the engine's
//! [`ciel_engine::Engine::colocation_year`] over the stored episodes.
//! Clients read the figures of the datacenters they have colocation in.

use crate::auth::Principal;
use crate::episodes::{
    Pushed, checked_exclusion, ends_after_start, push_answer, push_replay, require_monitoring,
};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_catalog::Item;
use ciel_engine::colocation::{ColocationYear, DatacenterEpisode};
use ciel_engine::{Engine, Explained};
use ciel_store::Scope;
use ciel_store::datacenter_episodes::{self as store, DcEpisodeRow, NewDcEpisode, Update};
use ciel_terms::ColocationKind;
use jiff::Timestamp;
use std::sync::Arc;

/// Most episodes one bulk request may carry.
pub const MAX_BULK: usize = crate::episodes::MAX_BULK;

/// Path of the bulk push, whose body may exceed the server's usual limit.
pub const BULK_PATH: &str = "/api/v1/datacenter-episodes/bulk";

/// Most episodes read for one datacenter-year (a probe per minute all year
/// is 525 600; far more than any real log).
const YEAR_LIMIT: i64 = 1_000_000;

/// A datacenter episode as monitoring reports it.
#[derive(Debug, Clone)]
pub struct DcEpisodeInput {
    pub datacenter: String,
    pub kind: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub source: Option<String>,
    pub key: Option<String>,
}

/// The kind of a datacenter episode, or a problem naming `field`.
pub fn parse_kind(kind: &str, field: &str) -> ApiResult<ColocationKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned()))
        .map_err(|_| Problem::invalid(field, "R5.6: one of network, power, temperature"))
}

/// The engine of the terms in force at `at`.
pub fn engine(state: &AppState, at: Timestamp) -> ApiResult<Arc<Engine>> {
    crate::maintenance::engine(state, at)
}

/// The datacenter codes of the terms in force now (`MLB`, `PA3`...).
pub fn datacenters(state: &AppState) -> ApiResult<Vec<String>> {
    Ok(engine(state, state.now())?
        .terms()
        .availability
        .colocation
        .datacenters
        .keys()
        .cloned()
        .collect())
}

fn checked(
    i: DcEpisodeInput,
    field: &str,
    default_key: String,
    known: &[String],
) -> ApiResult<NewDcEpisode> {
    if !known.contains(&i.datacenter) {
        return Err(Problem::invalid(
            &format!("{field}datacenter"),
            format!("R5.6: one of {}", known.join(", ")),
        ));
    }
    let kind = parse_kind(&i.kind, &format!("{field}kind"))?;
    ends_after_start(i.start, i.end, &format!("{field}end"), "R5.6")?;
    Ok(NewDcEpisode {
        datacenter: i.datacenter,
        kind: kind.as_str().to_owned(),
        start: i.start,
        end: i.end,
        source: i.source.unwrap_or_else(|| "api".to_owned()),
        idempotency_key: i.key.unwrap_or(default_key),
    })
}

/// Writes pushed episodes in one transaction under the request's
/// idempotency key (replay: the first answer; another body: 409); nothing
/// is written on any error.
pub async fn push(
    state: &AppState,
    p: &Principal,
    idem_key: &str,
    body_hash: String,
    inputs: Vec<DcEpisodeInput>,
    bulk: bool,
    answer: impl FnOnce(&[DcEpisodeRow], usize) -> ApiResult<serde_json::Value>,
) -> ApiResult<Pushed> {
    let scope = format!("datacenter-episodes:{}", p.user.id);
    if let Some(first) = push_replay(state, p, &scope, idem_key, &body_hash, inputs.len()).await? {
        return Ok(first);
    }
    let known = datacenters(state)?;
    let mut rows = Vec::with_capacity(inputs.len());
    for (n, i) in inputs.into_iter().enumerate() {
        let (field, key) = if bulk {
            (format!("episodes[{n}]."), format!("{idem_key}#{n}"))
        } else {
            (String::new(), idem_key.to_owned())
        };
        rows.push(checked(i, &field, key, &known)?);
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let action = if bulk {
        "datacenter_episode.bulk"
    } else {
        "datacenter_episode.push"
    };
    let (written, already) = store::insert_many(&mut tx, &p.actor(now), action, &rows).await?;
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

/// One episode (staff; a client names none).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<DcEpisodeRow> {
    if !p.is_staff() {
        return Err(Problem::not_found());
    }
    Ok(store::get(state.store().db(), id).await?)
}

/// Staff list episodes.
pub async fn list(
    state: &AppState,
    p: &Principal,
    f: &store::Filter,
) -> ApiResult<Vec<DcEpisodeRow>> {
    require_monitoring(p)?;
    Ok(store::list(state.store().db(), f).await?)
}

/// A staff correction; absent fields are kept (an open episode is closed by
/// giving its end). Overlaps with other episodes are allowed: the yearly
/// figure merges them, so no minute is counted twice.
#[derive(Debug, Clone, Default)]
pub struct Correction {
    pub kind: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

/// Corrects an episode (audited with before and after).
pub async fn correct(
    state: &AppState,
    p: &Principal,
    id: &str,
    c: Correction,
) -> ApiResult<DcEpisodeRow> {
    let before = get(state, p, id).await?;
    let kind = match &c.kind {
        Some(k) => parse_kind(k, "kind")?.as_str().to_owned(),
        None => before.kind.clone(),
    };
    let start = c.start.unwrap_or(before.start);
    let end = c.end.or(before.end);
    ends_after_start(start, end, "end", "R5.6")?;
    let u = Update {
        kind,
        start,
        end,
        exclusion: before.exclusion.clone(),
        exclusion_note: before.exclusion_note.clone(),
    };
    write(state, p, "datacenter_episode.correct", &before, u).await
}

/// Excludes an episode for an R5.3 reason (the ones staff may give by
/// hand, as for cloud episodes), with staff's note; audited.
pub async fn exclude(
    state: &AppState,
    p: &Principal,
    id: &str,
    reason: &str,
    note: &str,
) -> ApiResult<DcEpisodeRow> {
    let before = get(state, p, id).await?;
    let (reason, note) = checked_exclusion(state, reason, note)?;
    let u = Update {
        kind: before.kind.clone(),
        start: before.start,
        end: before.end,
        exclusion: Some(reason),
        exclusion_note: Some(note),
    };
    write(state, p, "datacenter_episode.exclude", &before, u).await
}

async fn write(
    state: &AppState,
    p: &Principal,
    action: &str,
    before: &DcEpisodeRow,
    u: Update,
) -> ApiResult<DcEpisodeRow> {
    let mut tx = state.store().begin().await?;
    let after = store::update(&mut tx, &p.actor(state.now()), action, before, u)
        .await
        .map_err(|e| match e {
            ciel_store::StoreError::Conflict(_) => Problem::moved("episode"),
            e => e.into(),
        })?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(after)
}

/// The datacenters an organisation has colocation services in, read
/// through `scope` (another organisation: 404).
pub async fn org_datacenters(
    state: &AppState,
    scope: &Scope,
    org_id: &str,
) -> ApiResult<Vec<String>> {
    let db = state.store().db();
    ciel_store::orgs::get(db, scope, org_id).await?;
    let mut dcs: Vec<String> = ciel_store::services::items_of_kind(db, scope, org_id, "colocation")
        .await?
        .iter()
        .filter_map(|j| match serde_json::from_str::<Item>(j) {
            Ok(Item::Colocation(c)) => Some(c.datacenter),
            _ => None,
        })
        .collect();
    dcs.sort();
    dcs.dedup();
    Ok(dcs)
}

/// A Paris calendar year the figures can be asked for.
pub fn check_year(year: i32) -> ApiResult<i16> {
    i16::try_from(year)
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| Problem::invalid("year", "a year between 2000 and 2100"))
}

/// The yearly figure of one datacenter (R5.6) for staff, or for a client
/// with a colocation service there (anyone else: 404). Open episodes count
/// up to now; the terms are those in force at the end of the year, or now.
pub async fn year_figure(
    state: &AppState,
    p: &Principal,
    datacenter: &str,
    year: i16,
) -> ApiResult<Explained<ColocationYear>> {
    if let Scope::Org(org) = &p.scope {
        let mine = org_datacenters(state, &p.scope, org.as_str()).await?;
        if !mine.iter().any(|d| d == datacenter) {
            return Err(Problem::not_found());
        }
        crate::services::require_viewer(p)?;
    } else {
        require_monitoring(p)?;
    }
    compute(state, datacenter, year).await
}

/// The figure itself, without access checks (callers check).
pub async fn compute(
    state: &AppState,
    datacenter: &str,
    year: i16,
) -> ApiResult<Explained<ColocationYear>> {
    let now = state.now();
    let probe = engine(state, now)?;
    let (ys, _) = ciel_engine::availability::month_bounds(probe.month_zone(), year, 1)
        .map_err(|_| Problem::invalid("year", "a calendar year"))?;
    let (ye, _) = ciel_engine::availability::month_bounds(probe.month_zone(), year + 1, 1)
        .map_err(|_| Problem::invalid("year", "a calendar year"))?;
    let last = ye
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap_or(ye);
    let eng = engine(state, now.min(last))?;
    if !eng
        .terms()
        .availability
        .colocation
        .datacenters
        .contains_key(datacenter)
    {
        return Err(Problem::not_found());
    }
    let f = store::Filter {
        datacenter: Some(datacenter.to_owned()),
        kind: None,
        from: Some(ys),
        to: Some(ye),
        limit: YEAR_LIMIT,
    };
    let rows = store::list(state.store().db(), &f).await?;
    let episodes: Vec<DatacenterEpisode> =
        rows.iter()
            .filter_map(|r| {
                Some(DatacenterEpisode {
                    id: r.id.to_string(),
                    kind: parse_kind(&r.kind, "kind").ok()?,
                    start: r.start,
                    end: r.end.unwrap_or(now).min(ye),
                    exclusion: r.exclusion.as_deref().and_then(|x| {
                        serde_json::from_value(serde_json::Value::String(x.into())).ok()
                    }),
                })
            })
            .collect();
    eng.colocation_year(datacenter, year, &episodes)
        .map_err(|e| Problem::invalid("year", e.to_string()))
}
