//! Evidence assembly: from the stored facts to the engine's
//! [`Evidence`] of one service-month (R5-R7), the input both the monthly
//! statement and the per-service SLA page compute from.
//!
//! - The month is a calendar month in Europe/Paris (R5.1): [`Month`].
//! - A service's episodes are its own and its cluster's (a cluster episode
//!   reaches every service on it, R5.2) that overlap the month, whole (an
//!   episode crossing the month boundary qualifies by its whole duration;
//!   the engine counts only the month's slots). An open episode ends at the
//!   month's end, or at `now` when that is earlier. An excluded episode
//!   keeps its R5.3 reason.
//! - The maintenance windows are those naming the service or its cluster,
//!   each with the send time of the notice to the service's organisation
//!   (R4.6: the engine judges 7 days ahead, per client).
//! - Credits approved earlier in the calendar year feed the yearly cap (R7.2).
//! - A PRA service carries the activations requested in the month (R6.2-
//!   R6.4) and the windows of its closed tests, excluded (R5.3).
//!
//! [`MonthFacts`] are read once per month, [`PageFacts`] once per page of
//! services (identifier ranges, no per-service query), and [`build`] is pure.

use std::collections::HashMap;
use std::str::FromStr;

use ciel_catalog::Item;
use ciel_catalog::service::{ServiceState, Status};
use ciel_engine::availability::{Episode, Window};
use ciel_engine::evidence::{EVIDENCE_FORMAT, Evidence, ServiceInfo};
use ciel_engine::recovery::Activation;
use ciel_store::episodes::EpisodeRow;
use ciel_store::maintenance::{NoticeRow, WindowRow};
use ciel_store::sla::{self, SlaService};
use ciel_store::{Scope, StoreError};
use ciel_terms::{EpisodeKind, ExclusionReason, Offer, SupportLevel};
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// A calendar month in the terms' zone (R5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// "YYYY-MM".
    pub label: String,
    pub first_day: Date,
    pub last_day: Date,
    /// First instant of the month.
    pub start: Timestamp,
    /// First instant of the next month.
    pub end: Timestamp,
}

impl Month {
    /// Parses "YYYY-MM" (`field` names it in the problem).
    pub fn parse(label: &str, field: &str) -> ApiResult<Month> {
        let (y, m) = ciel_engine::evidence::parse_month(label)
            .map_err(|_| Problem::invalid(field, "R5.1: a calendar month YYYY-MM"))?;
        Month::of(y, m).ok_or_else(|| Problem::invalid(field, "R5.1: a calendar month YYYY-MM"))
    }

    /// The month `year-month` in Europe/Paris.
    pub fn of(year: i16, month: i8) -> Option<Month> {
        let tz = super::zone();
        let (start, end) = ciel_engine::availability::month_bounds(&tz, year, month).ok()?;
        let first_day = Date::new(year, month, 1).ok()?;
        Some(Month {
            label: format!("{year:04}-{month:02}"),
            first_day,
            last_day: first_day.last_of_month(),
            start,
            end,
        })
    }

    /// The month holding the instant `t` (Paris).
    pub fn containing(t: Timestamp) -> Option<Month> {
        let d = t.to_zoned(super::zone()).date();
        Month::of(d.year(), d.month())
    }

    /// The month before this one.
    pub fn previous(&self) -> Option<Month> {
        let d = self.first_day.yesterday().ok()?;
        Month::of(d.year(), d.month())
    }

    /// The month after this one.
    pub fn next(&self) -> Option<Month> {
        let d = self.last_day.tomorrow().ok()?;
        Month::of(d.year(), d.month())
    }
}

/// Facts shared by every service of a month: cluster episodes, windows with
/// their notices, support levels.
#[derive(Debug, Clone, Default)]
pub struct MonthFacts {
    pub cluster_episodes: HashMap<String, Vec<EpisodeRow>>,
    pub windows: Vec<(WindowRow, Vec<NoticeRow>)>,
    /// Support items (catalog JSON) per organisation.
    pub support: HashMap<String, Vec<String>>,
}

/// Facts of one page of services: own episodes, credits approved earlier
/// in the year, PRA activations.
#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    pub episodes: HashMap<String, Vec<EpisodeRow>>,
    /// Approved credits (decimal strings) per service.
    pub credits: HashMap<String, Vec<String>>,
    pub activations: HashMap<String, Vec<Activation>>,
    /// Windows of closed PRA tests per service (R5.3).
    pub test_windows: HashMap<String, Vec<Window>>,
}

/// Reads the month's shared facts (three queries).
pub async fn month_facts(state: &AppState, month: &Month) -> ApiResult<MonthFacts> {
    let db = state.store().db();
    let mut cluster_episodes: HashMap<String, Vec<EpisodeRow>> = HashMap::new();
    for e in sla::cluster_episodes(db, month.start, month.end).await? {
        if let Some(c) = e.cluster_id.clone() {
            cluster_episodes.entry(c).or_default().push(e);
        }
    }
    Ok(MonthFacts {
        cluster_episodes,
        windows: sla::windows(db, month.start, month.end).await?,
        support: sla::support_items(db).await?,
    })
}

/// Reads the facts of a page of services sorted by identifier (a range
/// query per table, whatever the page's size).
pub async fn page_facts(
    state: &AppState,
    month: &Month,
    services: &[SlaService],
) -> ApiResult<PageFacts> {
    let (Some(first), Some(last)) = (services.first(), services.last()) else {
        return Ok(PageFacts::default());
    };
    let db = state.store().db();
    let (first, last) = (first.id.as_str(), last.id.as_str());
    let mut episodes: HashMap<String, Vec<EpisodeRow>> = HashMap::new();
    for e in sla::service_episodes(db, first, last, month.start, month.end).await? {
        if let Some(s) = e.service_id.clone() {
            episodes.entry(s).or_default().push(e);
        }
    }
    let credits = sla::approved_credits(db, first, last, &month.label).await?;
    // PRA activations requested in the month (R6.2-R6.4), and the windows
    // of closed PRA tests, excluded from availability (R5.3).
    let pra_ids: Vec<&str> = services
        .iter()
        .filter(|s| s.kind == "pra")
        .map(|s| s.id.as_str())
        .collect();
    let mut activations: HashMap<String, Vec<Activation>> = HashMap::new();
    let mut test_windows: HashMap<String, Vec<Window>> = HashMap::new();
    if !pra_ids.is_empty() {
        let mut tx = state.store().begin().await?;
        let rows =
            ciel_store::pra::activations_in(&mut tx, &pra_ids, month.start, month.end).await?;
        tx.commit().await.map_err(StoreError::from)?;
        for (service, rows) in rows {
            for r in &rows {
                // A failover counts in the month it was requested (R6.4);
                // an earlier test only lends its window.
                if r.requested_at >= month.start {
                    activations
                        .entry(service.clone())
                        .or_default()
                        .push(crate::pra::engine_activation(r)?);
                }
                if let Some(w) = crate::pra::test_window(r) {
                    test_windows.entry(service.clone()).or_default().push(w);
                }
            }
        }
    }
    Ok(PageFacts {
        episodes,
        credits,
        activations,
        test_windows,
    })
}

/// The evidence of the given services (sorted by identifier) for `month`.
pub async fn assemble(
    state: &AppState,
    month: &Month,
    services: &[SlaService],
) -> ApiResult<Vec<Evidence>> {
    let facts = month_facts(state, month).await?;
    let page = page_facts(state, month, services).await?;
    let now = state.now();
    services
        .iter()
        .map(|s| build(s, month, now, &facts, &page).map_err(corrupt))
        .collect()
}

/// The evidence of one service visible to `scope` for `month`.
pub async fn of_service(
    state: &AppState,
    scope: &Scope,
    service_id: &str,
    month: &Month,
) -> ApiResult<Evidence> {
    let s = sla::service(state.store().db(), scope, service_id).await?;
    let mut v = assemble(state, month, std::slice::from_ref(&s)).await?;
    v.pop().ok_or_else(|| StoreError::NotFound.into())
}

fn corrupt(e: String) -> Problem {
    tracing::error!(error = %e, "stored facts cannot make SLA evidence");
    Problem::internal()
}

/// Whether a service still ran when the month began (a service that ended
/// before has no statement).
pub fn runs_in(s: &SlaService, month: &Month) -> Result<bool, String> {
    let st: ServiceState = serde_json::from_str(&s.state_json).map_err(|e| e.to_string())?;
    Ok(st.status(month.start) != Status::Ended)
}

/// The SLA offer of a service's item (R5.4): its VM class, or PRA.
pub fn offer_of(item_json: &str) -> Result<Offer, String> {
    match serde_json::from_str::<Item>(item_json).map_err(|e| e.to_string())? {
        Item::CloudVm(vm) => Ok(vm.class.offer()),
        Item::PraMachine(_) => Ok(Offer::Pra),
        other => Err(format!("item {:?} has no availability SLA", other.kind())),
    }
}

/// The best support level among an organisation's support items, else
/// Standard (R4.1).
pub fn support_level(items: Option<&Vec<String>>) -> SupportLevel {
    items
        .into_iter()
        .flatten()
        .filter_map(|j| match serde_json::from_str::<Item>(j) {
            Ok(Item::Support { level }) => Some(level),
            _ => None,
        })
        .max_by_key(|l| SupportLevel::ALL.iter().position(|x| x == l))
        .unwrap_or(SupportLevel::Standard)
}

fn code<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("unknown code {s:?}"))
}

/// One stored episode as the engine's, an open one ending at `open_end`.
fn episode(e: &EpisodeRow, open_end: Timestamp) -> Result<Episode, String> {
    let kind: EpisodeKind = code(&e.kind)?;
    let exclusion: Option<ExclusionReason> = e.exclusion.as_deref().map(code).transpose()?;
    let source = match &e.cluster_id {
        Some(c) => format!("cluster:{c}/{}", e.source),
        None => e.source.clone(),
    };
    Ok(Episode {
        id: e.id.to_string(),
        kind,
        start: e.start,
        end: e.end.unwrap_or(open_end),
        impacts_service: e.impacts_service,
        source,
        exclusion,
    })
}

/// The windows concerning a service, with its organisation's notice time.
fn windows_of(s: &SlaService, windows: &[(WindowRow, Vec<NoticeRow>)]) -> Vec<Window> {
    windows
        .iter()
        .filter(|(w, _)| {
            w.services.iter().any(|x| x == s.id.as_str())
                || s.cluster_id
                    .as_ref()
                    .is_some_and(|c| w.clusters.contains(c))
        })
        .map(|(w, notices)| Window {
            id: w.id.to_string(),
            start: w.start,
            end: w.end,
            reason: if w.urgent_security_reason.is_some() {
                ExclusionReason::UrgentSecurityMaintenance
            } else {
                ExclusionReason::NotifiedMaintenance
            },
            notified_at: notices
                .iter()
                .find(|n| n.org_id == s.org_id)
                .and_then(|n| n.notified_at),
            source: format!("maintenance:{}", w.id),
        })
        .collect()
}

/// The evidence of one service-month from the facts read (pure).
pub fn build(
    s: &SlaService,
    month: &Month,
    now: Timestamp,
    facts: &MonthFacts,
    page: &PageFacts,
) -> Result<Evidence, String> {
    let open_end = if now < month.end { now } else { month.end };
    let own = page.episodes.get(s.id.as_str()).into_iter().flatten();
    let cluster = s
        .cluster_id
        .as_ref()
        .and_then(|c| facts.cluster_episodes.get(c))
        .into_iter()
        .flatten();
    let mut episodes = own
        .chain(cluster)
        .map(|e| episode(e, open_end))
        .collect::<Result<Vec<_>, _>>()?;
    episodes.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    let mut credits_this_year = Decimal::ZERO;
    for c in page.credits.get(s.id.as_str()).into_iter().flatten() {
        credits_this_year += Decimal::from_str(c).map_err(|e| format!("credit {c:?}: {e}"))?;
    }
    Ok(Evidence {
        format: EVIDENCE_FORMAT.into(),
        terms_version: s.terms_version.clone(),
        service: ServiceInfo {
            id: s.id.to_string(),
            offer: offer_of(&s.item_json)?,
            monthly_fee: Decimal::from_str(&s.monthly_fee)
                .map_err(|e| format!("monthly fee {:?}: {e}", s.monthly_fee))?,
            support_level: support_level(facts.support.get(s.org_id.as_str())),
        },
        month: month.label.clone(),
        episodes,
        windows: windows_of(s, &facts.windows)
            .into_iter()
            .chain(
                page.test_windows
                    .get(s.id.as_str())
                    .into_iter()
                    .flatten()
                    .cloned(),
            )
            .collect(),
        pra_activations: page
            .activations
            .get(s.id.as_str())
            .cloned()
            .unwrap_or_default(),
        credits_this_year,
        claimed: None,
    })
}
