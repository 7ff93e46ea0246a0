//! Colocation operations (issue 7, items 1-4; R11.1-R11.6): the workflows
//! the API, the portal and the daily pass share, over the pure rules of
//! `ciel_operations`. Every decision (may this person enter, is this
//! deadline breached, which decommissioning step is due) is the operations
//! crate's, computed at the request's instant from stored facts; this
//! module only reads those facts, writes the change with its audit record
//! and its notices in one transaction, and maps refusals to problems that
//! cite the rule.
//!
//! - [`access`]: declared people, temporary access requests (MLB), badges
//!   (PA3, Toulouse, Dijon), prevention plans and the desk's access check.
//! - [`work`]: remote hands, change requests, inventory requests, damage
//!   notices and their 7-day deadlines.
//! - [`power`]: the crossing of the near and subscribed levels at ingestion.
//! - [`decommission`]: the R11.6 timeline of a terminated colocation.
//! - [`pass`]: the daily job (reminders, deadline alerts, decommissioning
//!   steps).

pub mod access;
pub mod decommission;
pub mod pass;
pub mod power;
pub mod work;

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_domain::StaffRole;
use ciel_engine::{Explanation, Lang};
use ciel_mail::{ColocationMail, Mail};
use ciel_operations::{Decision, Operations};
use ciel_store::users::User;
use ciel_store::{Scope, StoreError, Tx};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The operational rules of a terms version, built once per version (the
/// access check must stay well under 5 ms).
pub fn ops(state: &AppState, version: &str) -> ApiResult<Arc<Operations>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Operations>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(o) = cache.lock().ok().and_then(|c| c.get(version).cloned()) {
        return Ok(o);
    }
    let engine = crate::orders::engine(state, version)?;
    let o = Arc::new(Operations::for_terms(engine.terms()).map_err(|e| corrupt("terms", e))?);
    if let Ok(mut c) = cache.lock() {
        c.insert(version.to_owned(), o.clone());
    }
    Ok(o)
}

/// The rules of the terms version in force at `now` (site policies apply
/// to every client alike).
pub fn ops_now(state: &AppState, now: Timestamp) -> ApiResult<Arc<Operations>> {
    ops(state, &crate::maintenance::version_in_force(state, now)?)
}

/// Staff who run the datacenters: the datacenter team, support, admins.
pub fn staff_operator(r: StaffRole) -> bool {
    matches!(
        r,
        StaffRole::Admin | StaffRole::Datacenter | StaffRole::Support
    )
}

/// Staff operators, or client users who see services.
pub fn require_reader(p: &Principal) -> ApiResult<()> {
    if p.is_staff() {
        require_staff(p, staff_operator).map(|_| ())
    } else {
        crate::auth::require_service_viewer(p, "colocation operations")
    }
}

/// Staff operators only.
pub fn require_operator(p: &Principal) -> ApiResult<()> {
    require_staff(p, staff_operator).map(|_| ())
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

/// A version conflict: the row changed since it was read.
pub(crate) fn stored(what: &'static str) -> impl Fn(StoreError) -> Problem {
    move |e| match e {
        StoreError::Conflict("version") => Problem::moved(what),
        e => e.into(),
    }
}

/// 422 `rule_violated` on `field`, the detail citing the rule.
pub fn rule(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_violated",
        "Refused by the contract",
    )
    .field(field)
    .detail(detail)
}

/// 409 `invalid_transition` naming the rule.
pub fn transition(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field("state")
    .detail(detail)
}

/// The refusals of a decision as one sentence: "R11.1 (CS 2.3.3): ...".
pub fn denials_text(d: &Decision) -> String {
    d.reasons
        .steps
        .iter()
        .filter(|s| s.outcome.starts_with("deny:"))
        .map(|s| format!("{} ({}): {}", s.rule, s.clause, s.en))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reasons rendered for one reader.
pub fn explain(e: &Explanation, lang: Lang) -> String {
    e.render(lang)
}

fn lang_of(u: &User) -> Lang {
    match u.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

/// What a colocation notice says, before it is addressed.
pub struct Notice<'a> {
    pub kind: ColocationMail,
    pub org_id: &'a str,
    pub reference: &'a str,
    pub subject: &'a str,
    pub day: Timestamp,
    pub reasons: Option<&'a Explanation>,
    /// Free text added after the reasons (an answer, a note).
    pub extra: &'a str,
    /// Client link (path), and the back office's.
    pub client_path: &'a str,
    pub staff_path: &'a str,
}

async fn send(
    state: &AppState,
    tx: &mut Tx,
    to: &[User],
    org_name: &str,
    n: &Notice<'_>,
    path: &str,
) -> ApiResult<usize> {
    for u in to {
        let lang = lang_of(u);
        let mut text = n.reasons.map(|e| explain(e, lang)).unwrap_or_default();
        if !n.extra.is_empty() {
            text.push_str(n.extra);
        }
        let mail = Mail::Colocation {
            kind: n.kind,
            name: u.name.clone(),
            org_name: org_name.to_owned(),
            reference: n.reference.to_owned(),
            subject: n.subject.to_owned(),
            day: n.day,
            text: text.trim_end().to_owned(),
            link: state.link(path),
        };
        crate::accounts::send_mail(state, tx, u, mail).await?;
    }
    Ok(to.len())
}

/// Mails a notice to the client's Administrators (the contract's
/// addressees) in the change's transaction.
pub async fn notify_client(state: &AppState, tx: &mut Tx, n: &Notice<'_>) -> ApiResult<usize> {
    let org = ciel_store::orgs::get(&mut **tx, &Scope::Staff, n.org_id).await?;
    let to = crate::services::members(tx, n.org_id, |u| u.is_org_admin).await?;
    send(state, tx, &to, &org.name, n, n.client_path).await
}

/// Mails a notice to the provider's datacenter staff and administrators.
pub async fn notify_staff(state: &AppState, tx: &mut Tx, n: &Notice<'_>) -> ApiResult<usize> {
    let Some(provider) = ciel_store::orgs::provider(&mut **tx).await? else {
        return Ok(0);
    };
    let org = ciel_store::orgs::get(&mut **tx, &Scope::Staff, n.org_id).await?;
    let to = crate::services::members(tx, provider.id.as_str(), |u| {
        matches!(u.staff_role, Some(StaffRole::Admin | StaffRole::Datacenter))
    })
    .await?;
    send(state, tx, &to, &org.name, n, n.staff_path).await
}
