//! Terms versions over running orders (issue 4, items 6 and 9; R1.2, CG 2.4):
//! the workflows shared by the API and the portal, over the pure rule
//! `ciel_catalog::governance`.
//!
//! - Staff administrators publish a version (a terms TOML document, fully
//!   validated): its publication is the notice, e-mailed in the same
//!   transaction to every Administrator of an organisation with a running
//!   (validated) order, with the changed parameters and the day it applies.
//!   The `terms.apply` job is enqueued at that instant (dedup key
//!   `terms.apply:<version>`).
//! - A client Administrator (or staff on its behalf, back-dated to the
//!   letter's receipt) objects for one order within the delay; after it the
//!   answer is 409 naming R1.2. The job is then also enqueued at the order's
//!   next renewal, when the version then in force applies.
//! - The `terms.apply` job records, once per (order, version), when a
//!   version began to govern a running order and why: the evidence.
//! - Which version governs an order is computed on demand from the stored
//!   facts, so the order view is right even before the job ran.
//!
//! The registry of versions lives in the `AppState`; it is loaded at start
//! and reloaded by the job, so that another process's publication is seen.

use crate::accounts::send_mail;
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::governance::{self, Governance, Notice, Objection, OrderTerms, VersionKey};
use ciel_catalog::service::ServiceState;
use ciel_domain::StaffRole;
use ciel_mail::Mail;
use ciel_store::orders::{self, Order};
use ciel_store::terms_versions::{self as store, ObjectionRow, VersionRow};
use ciel_store::{Actor, Scope, StoreError, jobs, services};
use ciel_terms::{Registry, Terms};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

/// Kind of the job that records the applications due (R1.2).
pub const APPLY_JOB: &str = "terms.apply";

/// How many changed parameters a notice lists before "and N more".
const NOTICE_CHANGES: usize = 40;

fn tz_of(terms: &Terms) -> TimeZone {
    TimeZone::get(&terms.version.timezone).unwrap_or(TimeZone::UTC)
}

fn key_of(terms: &Terms) -> VersionKey {
    VersionKey::new(terms.version.id.clone(), terms.version.effective_date)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

/// Loads the published versions into the state's registry (at start, and
/// by the job to see other processes' publications).
pub async fn load(state: &AppState) -> ApiResult<Registry> {
    let rows = store::all(state.store().db()).await?;
    let mut reg = Registry::with_embedded();
    for row in &rows {
        if reg.get(&row.id).is_none() {
            reg.add_toml(&row.toml)
                .map_err(|e| corrupt("terms version", e))?;
        }
    }
    state.set_terms(reg.clone());
    Ok(reg)
}

/// The notices of the published versions, as the pure rule reads them.
fn notices(reg: &Registry, rows: &[VersionRow]) -> Vec<Notice> {
    rows.iter()
        .filter_map(|r| {
            let t = reg.get(&r.id)?;
            Some(Notice {
                version: key_of(t),
                notified_at: r.published_at,
                delay_days: u32::try_from(r.objection_days).unwrap_or(0),
            })
        })
        .collect()
}

/// The renewal days of an order: each service's first day after its fixed
/// term, unless it ends by then (R3.2).
async fn renewals(state: &AppState, scope: &Scope, order_id: &str) -> ApiResult<Vec<Date>> {
    let rows = services::of_order(state.store().db(), scope, order_id).await?;
    let mut out = BTreeSet::new();
    for row in rows {
        let st: ServiceState =
            serde_json::from_str(&row.state_json).map_err(|e| corrupt("service state", e))?;
        if let ServiceState::Provisioned(s) = st
            && s.termination
                .as_ref()
                .is_none_or(|t| t.last_day > s.term_last_day)
            && let Ok(d) = s.term_last_day.tomorrow()
        {
            out.insert(d);
        }
    }
    Ok(out.into_iter().collect())
}

/// Everything the pure rule needs about one order.
struct Facts {
    pinned: VersionKey,
    tz: TimeZone,
    order_date: Date,
    notices: Vec<Notice>,
    objections: Vec<Objection>,
    renewals: Vec<Date>,
}

impl Facts {
    fn governing(&self, now: Timestamp) -> Governance {
        governance::governing(
            OrderTerms {
                pinned: &self.pinned,
                order_date: self.order_date,
                notices: &self.notices,
                objections: &self.objections,
                renewals: &self.renewals,
            },
            &self.tz,
            now,
        )
    }
}

async fn facts(state: &AppState, scope: &Scope, order: &Order) -> ApiResult<Facts> {
    let reg = state.terms();
    let pinned = reg.get(&order.terms_version).ok_or_else(|| {
        tracing::error!(terms = %order.terms_version, "order pinned to an unknown terms version");
        Problem::internal()
    })?;
    let rows = store::all(state.store().db()).await?;
    let objections = store::objections_of(state.store().db(), scope, order.id.as_str())
        .await?
        .into_iter()
        .map(|o| Objection {
            version: o.version_id,
            received_at: o.received_at,
        })
        .collect();
    Ok(Facts {
        pinned: key_of(pinned),
        tz: tz_of(pinned),
        order_date: order
            .order_date
            .parse()
            .map_err(|e| corrupt("order date", e))?,
        notices: notices(&reg, &rows),
        objections,
        renewals: renewals(state, scope, order.id.as_str()).await?,
    })
}

/// The version governing an order now, and why (R1.2). Orders not yet
/// validated are governed by the version they are pinned to.
pub async fn governing(state: &AppState, scope: &Scope, order: &Order) -> ApiResult<Governance> {
    let f = facts(state, scope, order).await?;
    if order.state != "validated" {
        let none = Facts {
            notices: Vec::new(),
            ..f
        };
        return Ok(none.governing(state.now()));
    }
    Ok(f.governing(state.now()))
}

// ---------------------------------------------------------------- publication

/// The API view of a version, with its publication if published.
pub fn view(t: &Terms, row: Option<&VersionRow>) -> crate::api::terms_versions::TermsVersionView {
    crate::api::terms_versions::TermsVersionView {
        id: t.version.id.clone(),
        title: t.version.title.clone(),
        effective_date: t.version.effective_date.to_string(),
        embedded: t.version.id == ciel_terms::embedded().version.id,
        published_at: row.map(|r| r.published_at),
        published_by: row.and_then(|r| r.published_by.clone()),
        objection_days: row.map(|r| r.objection_days),
        applies_to_running_from: row.map(|r| r.applies_to_running_from),
    }
}

/// Every version known, oldest effective date first, with its publication.
pub async fn list(
    state: &AppState,
) -> ApiResult<Vec<crate::api::terms_versions::TermsVersionView>> {
    let reg = load(state).await?;
    let rows = store::all(state.store().db()).await?;
    Ok(reg
        .list()
        .iter()
        .map(|t| view(t, rows.iter().find(|r| r.id == t.version.id)))
        .collect())
}

/// A version just published.
pub struct Published {
    pub version: VersionRow,
    pub terms: Terms,
    /// The changed parameters, one `path: old -> new` line each.
    pub changes: Vec<String>,
    /// How many notices went out.
    pub notices: usize,
}

/// The problem for an invalid terms document: the TOML path in `field`.
fn invalid_terms(e: &ciel_terms::TermsErrors) -> Problem {
    let field =
        e.0.first()
            .map(|x| x.path.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "toml".into());
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_terms",
        "Invalid terms document",
    )
    .field(field)
    .detail(e.to_string())
}

fn show(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Publishes a terms version (staff administrators): validated, newer than
/// every version known, effective today or later; notified at once to the
/// clients with running orders (R1.2).
pub async fn publish(state: &AppState, p: &Principal, toml: &str) -> ApiResult<Published> {
    require_staff(p, |r| r == StaffRole::Admin)?;
    // The publication is the notice: it is dated now, never back-dated.
    let now = state.now();
    let actor = Actor {
        occurred_at: now,
        ..p.actor(now)
    };
    publish_as(state, actor, toml).await
}

/// [`publish`] by an actor already authorised (the API's staff
/// administrator, or `ciel terms publish` on the server's shell).
pub async fn publish_as(state: &AppState, actor: Actor, toml: &str) -> ApiResult<Published> {
    let terms = ciel_terms::parse(toml).map_err(|e| invalid_terms(&e))?;
    let reg = load(state).await?;
    let id = terms.version.id.clone();
    if reg.get(&id).is_some() {
        return Err(Problem::conflict(
            "version.id",
            format!("version {id:?} is already published"),
        ));
    }
    let now = state.now();
    let tz = tz_of(&terms);
    let today = now.to_zoned(tz.clone()).date();
    let latest = reg.list().last().ok_or_else(Problem::internal)?;
    if terms.version.effective_date <= latest.version.effective_date
        || terms.version.effective_date < today
    {
        return Err(Problem::invalid(
            "version.effective_date",
            format!(
                "R1.2 (CG 2.4): a new version takes effect today ({today}) or later, and after the latest version {} ({})",
                latest.version.id, latest.version.effective_date
            ),
        ));
    }
    // The delay is the one of the version in force: the clause the clients
    // accepted says how it may change.
    let in_force = reg.in_force_on(today).unwrap_or(latest);
    let notice = Notice {
        version: key_of(&terms),
        notified_at: now,
        delay_days: in_force.contract.new_version_applies_after_days.value,
    };
    let applies_at = notice.applies_at(&tz);
    let diff = ciel_terms::diff(latest, &terms);
    let changes: Vec<String> = diff
        .iter()
        .filter(|d| !d.path.starts_with("version."))
        .map(|d| {
            format!(
                "{}: {} -> {}",
                d.path,
                show(d.left.as_ref()),
                show(d.right.as_ref())
            )
        })
        .collect();
    let mut listed: Vec<String> = changes
        .iter()
        .take(NOTICE_CHANGES)
        .map(|c| format!("- {c}"))
        .collect();
    if changes.len() > NOTICE_CHANGES {
        listed.push(format!("(+{})", changes.len() - NOTICE_CHANGES));
    }
    if listed.is_empty() {
        listed.push("-".into());
    }
    let listed = listed.join("\n");

    let running = orders::running(state.store().db()).await?;
    let orgs: BTreeSet<String> = running.iter().map(|o| o.org_id.to_string()).collect();
    let mut admins = Vec::new();
    for org in &orgs {
        admins.extend(crate::orders::admins_of(state, org).await?);
    }

    let mut tx = state.store().begin().await?;
    let row = store::publish(
        &mut tx,
        &actor,
        store::NewVersion {
            id: id.clone(),
            toml: toml.to_owned(),
            effective_date: terms.version.effective_date.to_string(),
            objection_days: i64::from(notice.delay_days),
            applies_to_running_from: applies_at,
        },
    )
    .await?;
    for admin in &admins {
        let mail = Mail::TermsVersion {
            name: admin.name.clone(),
            version: id.clone(),
            title: terms.version.title.clone(),
            effective_date: terms.version.effective_date.to_string(),
            applies_at,
            objection_deadline: notice.objection_deadline(&tz),
            days: notice.delay_days,
            changes: listed.clone(),
            link: state.link("/espace-client/orders"),
        };
        send_mail(state, &mut tx, admin, mail).await?;
    }
    enqueue_apply(&mut tx, &format!("{APPLY_JOB}:{id}"), applies_at, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    // Reloaded rather than extended, so a concurrent publication is kept;
    // the version is published whatever happens here.
    if let Err(e) = load(state).await {
        tracing::error!(error = ?e.detail, "reloading the terms versions after a publication");
    }
    Ok(Published {
        version: row,
        terms,
        changes,
        notices: admins.len(),
    })
}

async fn enqueue_apply(
    tx: &mut ciel_store::Tx,
    dedup: &str,
    at: Timestamp,
    now: Timestamp,
) -> ApiResult<()> {
    jobs::enqueue(
        &mut **tx,
        jobs::NewJob {
            kind: APPLY_JOB,
            payload: serde_json::json!({}),
            run_at: at,
            dedup_key: Some(dedup.to_owned()),
            max_attempts: 10,
        },
        now,
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- objection

fn refused(detail: String) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field("version")
    .detail(detail)
}

/// Records a client's written objection to a version for one order (R1.2):
/// a client Administrator, or staff on its behalf (back-dated to the
/// receipt of the letter with `Ciel-Occurred-At`).
pub async fn object(
    state: &AppState,
    p: &Principal,
    order_id: &str,
    version: &str,
) -> ApiResult<ObjectionRow> {
    let order = orders::get(state.store().db(), &p.scope, order_id).await?;
    if p.is_staff() {
        require_staff(p, StaffRole::manages_clients)?;
    } else if !p.user.is_org_admin {
        return Err(Problem::forbidden(
            "R1.2 (CG 2.4): only the client's Administrator objects to a terms version",
        ));
    }
    if order.state != "validated" {
        return Err(refused(format!(
            "R1.2 (CG 2.4): only a running (validated) order is concerned by a new terms version; this order is {}",
            order.state
        )));
    }
    let now = state.now();
    let actor = p.actor(now);
    let f = facts(state, &p.scope, &order).await?;
    let Some(notice) = f.notices.iter().find(|n| n.version.id == version) else {
        return Err(Problem::invalid(
            "version",
            format!("{version:?} is not a published terms version"),
        ));
    };
    if notice.version <= f.pinned {
        return Err(Problem::invalid(
            "version",
            format!(
                "R1.2 (CG 2.4): the order is pinned to {}, not older than {version}",
                f.pinned.id
            ),
        ));
    }
    let at = actor.occurred_at;
    if at < notice.notified_at {
        return Err(Problem::invalid(
            "occurred_at",
            format!(
                "an objection cannot be received before the notice ({})",
                notice.notified_at
            ),
        ));
    }
    if !notice.objection_in_time(&f.tz, at) {
        return Err(refused(format!(
            "R1.2 (CG 2.4): the {}-day objection delay for version {version} ended at {}; objection received at {at}",
            notice.delay_days,
            notice.objection_deadline(&f.tz)
        )));
    }
    let current = f.governing(at);
    if current.version == version
        || f.notices
            .iter()
            .any(|n| n.version.id == current.version && n.version >= notice.version)
    {
        return Err(refused(format!(
            "R1.2 (CG 2.4): version {} already governs this order ({})",
            current.version,
            current.reason.code()
        )));
    }
    let next_renewal = f
        .renewals
        .iter()
        .copied()
        .find(|d| start_of(&f.tz, *d) >= notice.applies_at(&f.tz));
    let mut tx = state.store().begin().await?;
    let row = store::record_objection(&mut tx, &actor, &order.org_id, order_id, version)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Problem::conflict(
                "version",
                format!("an objection to {version} is already recorded for this order"),
            ),
            other => other.into(),
        })?;
    if let Some(d) = next_renewal {
        enqueue_apply(
            &mut tx,
            &format!("{APPLY_JOB}:{order_id}:{d}"),
            start_of(&f.tz, d),
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

fn start_of(tz: &TimeZone, d: Date) -> Timestamp {
    d.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

// ---------------------------------------------------------------- the job

/// Records, for every running order, the version that governs it now when
/// it was not recorded yet (R1.2); idempotent. Returns how many were recorded.
pub async fn run_apply(state: &AppState) -> ApiResult<usize> {
    load(state).await?;
    let now = state.now();
    let actor = Actor::system(APPLY_JOB, now);
    let mut recorded = 0;
    for order in orders::running(state.store().db()).await? {
        let g = governing(state, &Scope::Staff, &order).await?;
        if g.version == order.terms_version {
            continue;
        }
        let mut tx = state.store().begin().await?;
        let new = store::record_application(
            &mut tx,
            &actor,
            &order.org_id,
            order.id.as_str(),
            &g.version,
            g.since,
            g.reason.code(),
        )
        .await?;
        // The order's services now follow the governing version's
        // parameters for every event from here on (R1.2); what was
        // decided before stays as it was decided.
        ciel_store::services::set_terms_version(&mut tx, &actor, order.id.as_str(), &g.version)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        if new {
            tracing::info!(order.id = %order.id, terms = %g.version, reason = g.reason.code(), "terms version applied");
            recorded += 1;
        }
    }
    Ok(recorded)
}
