//! Maintenance windows (issue 5, item 3; R4.6): staff plan a window on
//! services or clusters; in the same transaction every Administrator of each
//! affected client is e-mailed the notice, and the engine's per-client R4.6
//! outcome (excluded or not, urgent security with its reason) is stored.
//! Each client lists its windows and has a private iCalendar feed.

use crate::accounts::send_mail;
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_documents::ical;
use ciel_domain::{Id, StaffRole};
use ciel_engine::desk::{ClientNotice, NoticeStatus, PlannedWindow};
use ciel_mail::Mail;
use ciel_store::maintenance::{self as store, NoticeRow, WindowRow};
use ciel_store::users::UserStatus;
use ciel_store::{Scope, StoreError, episodes, orgs, users};
use jiff::{SignedDuration, Timestamp};

/// A window staff plan.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub title: String,
    pub start: Timestamp,
    pub expected_minutes: i64,
    pub impact: String,
    pub reason: String,
    pub contact: String,
    pub services: Vec<String>,
    pub clusters: Vec<String>,
    /// Set to mark urgent security maintenance (R4.6): why.
    pub urgent_security_reason: Option<String>,
}

fn required(v: &str, field: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Problem::invalid(
            field,
            "R4.6 (CG 14.5): a notice states the start, expected duration, impact, reason and a contact",
        ));
    }
    Ok(v.to_owned())
}

/// The engine of the terms in force today (Paris day), else the latest.
pub fn engine(state: &AppState, now: Timestamp) -> ApiResult<std::sync::Arc<ciel_engine::Engine>> {
    let reg = crate::orders::registry(state);
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = now.to_zoned(paris).date();
    let id = reg
        .in_force_on(today)
        .or_else(|| reg.list().last())
        .map(|t| t.version.id.clone())
        .ok_or_else(Problem::internal)?;
    crate::orders::engine(state, &id)
}

fn status_code(s: NoticeStatus) -> &'static str {
    match s {
        NoticeStatus::InTime => "in_time",
        NoticeStatus::Late => "late",
        NoticeStatus::NotSent => "not_sent",
    }
}

/// Plans a window and notifies the affected clients now.
pub async fn plan(
    state: &AppState,
    p: &Principal,
    i: PlanInput,
) -> ApiResult<(WindowRow, Vec<NoticeRow>)> {
    require_staff(p, |r| matches!(r, StaffRole::Admin | StaffRole::Support))?;
    let now = state.now();
    let title = required(&i.title, "title")?;
    let impact = required(&i.impact, "impact")?;
    let reason = required(&i.reason, "reason")?;
    let contact = required(&i.contact, "contact")?;
    if i.start <= now {
        return Err(Problem::invalid("start", "R4.6: a window is planned ahead"));
    }
    if !(1..=7 * 24 * 60).contains(&i.expected_minutes) {
        return Err(Problem::invalid(
            "expected_minutes",
            "R4.6: the expected duration, 1 minute to 7 days",
        ));
    }
    if i.services.is_empty() && i.clusters.is_empty() {
        return Err(Problem::invalid(
            "services",
            "name the services or clusters affected",
        ));
    }
    let urgent = match i.urgent_security_reason.as_deref().map(str::trim) {
        Some("") => {
            return Err(Problem::invalid(
                "urgent_security_reason",
                "R4.6 (CG 14.5): urgent security maintenance needs its reason",
            ));
        }
        other => other.map(str::to_owned),
    };
    let end = i
        .start
        .checked_add(SignedDuration::from_mins(i.expected_minutes))
        .map_err(|_| Problem::invalid("expected_minutes", "out of range"))?;
    let eng = engine(state, now)?;
    let mut tx = state.store().begin().await?;
    let known = episodes::existing_clusters(&mut *tx).await?;
    if let Some(n) = i.clusters.iter().position(|c| !known.contains(c)) {
        return Err(Problem::invalid(
            &format!("clusters[{n}]"),
            "no such cluster",
        ));
    }
    let affected = store::affected_services(&mut tx, &i.services, &i.clusters).await?;
    if let Some(n) = i
        .services
        .iter()
        .position(|s| !affected.iter().any(|(id, _, _)| id == s))
    {
        return Err(Problem::invalid(
            &format!("services[{n}]"),
            "no such service",
        ));
    }
    let id = store::new_window_id(now);
    let mut clients: Vec<Id> = affected.iter().map(|(_, o, _)| o.clone()).collect();
    clients.dedup();
    let planned = PlannedWindow {
        id: id.to_string(),
        start: i.start,
        end,
        urgent_security_reason: urgent.clone(),
    };
    let notices: Vec<ClientNotice> = clients
        .iter()
        .map(|c| ClientNotice {
            client: c.to_string(),
            notified_at: Some(now),
        })
        .collect();
    let plan = eng
        .maintenance_notices(&planned, &notices)
        .map_err(|e| Problem::invalid("start", e.to_string()))?
        .value;
    let window = WindowRow {
        id: id.clone(),
        title,
        start: i.start,
        end,
        impact,
        reason,
        contact,
        urgent_security_reason: urgent.clone(),
        send_by: plan.send_by,
        created_at: now,
        services: i.services.clone(),
        clusters: i.clusters.clone(),
    };
    let mut rows = Vec::with_capacity(plan.clients.len());
    for outcome in &plan.clients {
        let org_id = Id::from_raw(outcome.client.clone());
        let theirs: Vec<&(String, Id, String)> =
            affected.iter().filter(|(_, o, _)| *o == org_id).collect();
        let row = NoticeRow {
            window_id: id.to_string(),
            org_id: org_id.clone(),
            notified_at: outcome.notified_at,
            status: status_code(outcome.status).to_owned(),
            excluded: outcome.excluded,
            services: theirs.iter().map(|(s, _, _)| s.clone()).collect(),
            explanation_json: serde_json::to_string(outcome).map_err(|_| Problem::internal())?,
        };
        let org = orgs::get(&mut *tx, &Scope::Staff, org_id.as_str()).await?;
        let admins = users::list(&mut *tx, &Scope::Staff, org_id.as_str(), None, 200).await?;
        let lines: Vec<String> = theirs
            .iter()
            .map(|(s, _, label)| format!("- {label} ({s})"))
            .collect();
        for u in admins
            .items
            .iter()
            .filter(|u| u.is_org_admin && u.status != UserStatus::Disabled)
        {
            let mail = Mail::Maintenance {
                name: u.name.clone(),
                org_name: org.name.clone(),
                title: window.title.clone(),
                start: window.start,
                end: window.end,
                impact: window.impact.clone(),
                reason: window.reason.clone(),
                contact: window.contact.clone(),
                services: lines.join("\n"),
                excluded: outcome.excluded,
                urgent_reason: urgent.clone().unwrap_or_default(),
                notice_days: plan.notice_days,
                link: state.link("/espace-client/maintenance"),
            };
            send_mail(state, &mut tx, u, mail).await?;
        }
        rows.push(row);
    }
    store::create(&mut tx, &p.actor(now), &window, &rows).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((window, rows))
}

/// Windows visible to the caller (staff: all; a client: its own).
pub async fn list(
    state: &AppState,
    scope: &Scope,
    limit: i64,
) -> ApiResult<Vec<(WindowRow, Vec<NoticeRow>)>> {
    let mut tx = state.store().begin().await?;
    let out = store::list(&mut tx, scope, limit).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// The windows of one organisation (staff, or its own users).
pub async fn for_org(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<(WindowRow, Vec<NoticeRow>)>> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    list(state, &Scope::Org(org.id), 500).await
}

/// Issues a new private feed URL (the Administrator, or staff); the former
/// one stops working.
pub async fn rotate_feed(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<String> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    if !p.is_staff() && !p.user.is_org_admin {
        return Err(Problem::forbidden(
            "the organisation's Administrator manages its calendar feed",
        ));
    }
    let mut tx = state.store().begin().await?;
    let secret = store::rotate_feed(&mut tx, &p.actor(state.now()), &org.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(feed_url(state, &secret))
}

/// The public URL of a feed token.
pub fn feed_url(state: &AppState, secret: &str) -> String {
    state.link(&format!("/calendar/{secret}.ics"))
}

/// The iCalendar feed a token opens (`None`: unknown token).
pub async fn feed(state: &AppState, secret: &str) -> ApiResult<Option<String>> {
    let Some(org_id) = store::feed_org(state.store().db(), secret).await? else {
        return Ok(None);
    };
    let org = orgs::get(state.store().db(), &Scope::Staff, org_id.as_str()).await?;
    let windows = list(state, &Scope::Org(org_id), 1000).await?;
    let now = state.now();
    let eng = engine(state, now)?;
    let events = windows
        .iter()
        .filter_map(|(w, notices)| notices.first().map(|n| event(w, n)))
        .collect();
    let domain = state
        .mail_domain()
        .split(':')
        .next()
        .unwrap_or("ciel.example")
        .to_owned();
    let f = ical::Feed {
        domain,
        client_name: org.name,
        lang: ical::Lang::Fr,
        time_zone: eng.month_zone().clone(),
        notice_days: eng.terms().maintenance.notice_days,
        dtstamp: now,
        events,
    };
    ical::to_ical(&f).map(Some).map_err(|e| {
        tracing::error!(error = %e, "calendar feed");
        Problem::internal()
    })
}

fn event(w: &WindowRow, n: &NoticeRow) -> ical::MaintenanceEvent {
    let sla = match (&w.urgent_security_reason, n.excluded, n.notified_at) {
        (Some(r), true, _) => ical::SlaCounting::UrgentSecurity { reason: r.clone() },
        (_, true, _) => ical::SlaCounting::Excluded,
        (_, false, Some(_)) => ical::SlaCounting::NotifiedLate,
        (_, false, None) => ical::SlaCounting::NotNotified,
    };
    ical::MaintenanceEvent {
        id: w.id.to_string(),
        title: w.title.clone(),
        start: w.start,
        end: w.end,
        impact: w.impact.clone(),
        reason: w.reason.clone(),
        services: n.services.clone(),
        clusters: w.clusters.clone(),
        contact: w.contact.clone(),
        location: None,
        notified_at: n.notified_at,
        sla,
        sequence: 0,
        cancelled: false,
        last_modified: w.created_at,
    }
}
