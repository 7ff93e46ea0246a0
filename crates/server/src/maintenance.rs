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
use ciel_engine::Engine;
use ciel_engine::desk::{ClientNotice, NoticeStatus, NoticedWindow, PlannedWindow};
use ciel_mail::{Mail, MaintenanceChange};
use ciel_store::maintenance::{self as store, NoticeRow, WindowRow};
use ciel_store::users::UserStatus;
use ciel_store::{Scope, StoreError, Tx, episodes, orgs, users};
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
    crate::orders::engine(state, &version_in_force(state, now)?)
}

/// The terms version in force on the Paris day of `now` (the latest one
/// when none is yet).
pub fn version_in_force(state: &AppState, now: Timestamp) -> ApiResult<String> {
    let reg = crate::orders::registry(state);
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = now.to_zoned(paris).date();
    reg.in_force_on(today)
        .or_else(|| reg.list().last())
        .map(|t| t.version.id.clone())
        .ok_or_else(Problem::internal)
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
        sequence: 0,
        updated_at: now,
        cancelled_at: None,
        cancel_reason: None,
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
            last_sent_at: outcome.notified_at,
        };
        let lines: Vec<String> = theirs
            .iter()
            .map(|(s, _, label)| format!("- {label} ({s})"))
            .collect();
        let notice = Notice {
            excluded: outcome.excluded,
            notice_days: plan.notice_days,
            services: lines.join("\n"),
            change: MaintenanceChange::Planned,
        };
        tell(state, &mut tx, &window, &org_id, &notice).await?;
        rows.push(row);
    }
    store::create(&mut tx, &p.actor(now), &window, &rows).await?;
    let services: Vec<String> = affected.into_iter().map(|(s, _, _)| s).collect();
    crate::tickets::windows_changed(state, &mut tx, &services, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((window, rows))
}

/// What one client's notice says.
struct Notice {
    excluded: bool,
    notice_days: u32,
    /// The client's affected services, one per line.
    services: String,
    change: MaintenanceChange,
}

/// Puts a window's notice to every active Administrator of a client in the
/// outbox (R4.6, R13: the notice, its change or its cancellation).
async fn tell(
    state: &AppState,
    tx: &mut Tx,
    w: &WindowRow,
    org_id: &Id,
    n: &Notice,
) -> ApiResult<()> {
    let org = orgs::get(&mut **tx, &Scope::Staff, org_id.as_str()).await?;
    let admins = users::list(&mut **tx, &Scope::Staff, org_id.as_str(), None, 200).await?;
    for u in admins
        .items
        .iter()
        .filter(|u| u.is_org_admin && u.status != UserStatus::Disabled)
    {
        let mail = Mail::Maintenance {
            name: u.name.clone(),
            org_name: org.name.clone(),
            title: w.title.clone(),
            start: w.start,
            end: w.end,
            impact: w.impact.clone(),
            reason: w.reason.clone(),
            contact: w.contact.clone(),
            services: n.services.clone(),
            excluded: n.excluded,
            urgent_reason: w.urgent_security_reason.clone().unwrap_or_default(),
            notice_days: n.notice_days,
            link: state.link("/espace-client/maintenance"),
            change: n.change.clone(),
        };
        send_mail(state, tx, u, mail).await?;
    }
    Ok(())
}

/// A change staff make to a window; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput {
    pub title: Option<String>,
    pub start: Option<Timestamp>,
    pub expected_minutes: Option<i64>,
    pub impact: Option<String>,
    pub reason: Option<String>,
    pub contact: Option<String>,
    /// The revision the change was made on: a window changed meanwhile is
    /// refused (compare-and-set).
    pub sequence: i64,
}

fn refused(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        axum::http::StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field(field)
    .detail(detail)
}

/// Reads a window to change: staff only, not cancelled, at the revision
/// the caller saw.
async fn changeable(
    p: &Principal,
    tx: &mut Tx,
    id: &str,
    sequence: i64,
) -> ApiResult<(WindowRow, Vec<NoticeRow>)> {
    if !p.is_staff() {
        // Windows are the provider's: a client names none to change.
        return Err(Problem::not_found());
    }
    require_staff(p, |r| matches!(r, StaffRole::Admin | StaffRole::Support))?;
    let (w, notices) = store::get(tx, id).await?;
    if w.cancelled_at.is_some() {
        return Err(refused("state", "R4.6: the window is cancelled"));
    }
    if w.sequence != sequence {
        return Err(Problem::moved("maintenance window").field("sequence"));
    }
    Ok((w, notices))
}

fn services_text(n: &NoticeRow) -> String {
    n.services
        .iter()
        .map(|s| format!("- {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Staff change a window's start, duration, impact or texts: each affected
/// client is told, and its notice is judged again by R4.6, counting from
/// the notice `maintenance.changed_window_notice` designates (the first one
/// for a change inside the notified window with the same impact, else this
/// one); the iCalendar revision is bumped; ticket clocks on its services move.
pub async fn change(
    state: &AppState,
    p: &Principal,
    id: &str,
    i: ChangeInput,
) -> ApiResult<(WindowRow, Vec<NoticeRow>)> {
    let now = state.now();
    let text = |v: &Option<String>, field: &str, old: &str| -> ApiResult<String> {
        match v {
            Some(v) => required(v, field),
            None => Ok(old.to_owned()),
        }
    };
    let mut tx = state.store().begin().await?;
    let (before, notices) = changeable(p, &mut tx, id, i.sequence).await?;
    let start = i.start.unwrap_or(before.start);
    if start != before.start && start <= now {
        return Err(Problem::invalid("start", "R4.6: a window is moved ahead"));
    }
    let minutes = i
        .expected_minutes
        .unwrap_or_else(|| (before.end - before.start).get_seconds() / 60);
    if !(1..=7 * 24 * 60).contains(&minutes) {
        return Err(Problem::invalid(
            "expected_minutes",
            "R4.6: the expected duration, 1 minute to 7 days",
        ));
    }
    let end = start
        .checked_add(SignedDuration::from_mins(minutes))
        .map_err(|_| Problem::invalid("expected_minutes", "out of range"))?;
    let after = WindowRow {
        title: text(&i.title, "title", &before.title)?,
        impact: text(&i.impact, "impact", &before.impact)?,
        reason: text(&i.reason, "reason", &before.reason)?,
        contact: text(&i.contact, "contact", &before.contact)?,
        start,
        end,
        sequence: before.sequence + 1,
        updated_at: now,
        ..before.clone()
    };
    let same = (
        &after.title,
        after.start,
        after.end,
        &after.impact,
        &after.reason,
        &after.contact,
    ) == (
        &before.title,
        before.start,
        before.end,
        &before.impact,
        &before.reason,
        &before.contact,
    );
    if same {
        return Err(Problem::invalid("start", "the change changes nothing"));
    }
    let eng = engine(state, now)?;
    let after = WindowRow {
        send_by: eng
            .maintenance_send_by(start)
            .map_err(|e| Problem::invalid("start", e.to_string()))?,
        ..after
    };
    let told = |w: &WindowRow| NoticedWindow {
        start: w.start,
        end: w.end,
        impact: w.impact.clone(),
    };
    let rows = judge_again(&eng, &after, &notices, now, |n| {
        eng.changed_notice(&told(&before), &told(&after), n.notified_at, now)
    })?;
    for n in &rows {
        let notice = Notice {
            excluded: n.excluded,
            notice_days: eng.terms().maintenance.notice_days,
            services: services_text(n),
            change: MaintenanceChange::Changed,
        };
        tell(state, &mut tx, &after, &n.org_id, &notice).await?;
    }
    save(
        state,
        &mut tx,
        p,
        "maintenance.change",
        &before,
        &after,
        &rows,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((after, rows))
}

/// Each client's notice of a changed window judged again by R4.6, from the
/// send time `counts_from` gives it (with that step's explanation kept in
/// the stored outcome).
fn judge_again(
    eng: &Engine,
    after: &WindowRow,
    notices: &[NoticeRow],
    now: Timestamp,
    counts_from: impl Fn(&NoticeRow) -> ciel_engine::Explained<ciel_engine::desk::ChangedNotice>,
) -> ApiResult<Vec<NoticeRow>> {
    let planned = PlannedWindow {
        id: after.id.to_string(),
        start: after.start,
        end: after.end,
        urgent_security_reason: after.urgent_security_reason.clone(),
    };
    let mut rows = Vec::with_capacity(notices.len());
    for n in notices {
        let from = counts_from(n);
        let plan = eng
            .maintenance_notices(
                &planned,
                &[ClientNotice {
                    client: n.org_id.to_string(),
                    notified_at: Some(from.value.counts_from),
                }],
            )
            .map_err(|e| Problem::invalid("start", e.to_string()))?
            .value;
        let outcome = plan.clients.first().ok_or_else(Problem::internal)?;
        let mut json = serde_json::to_value(outcome).map_err(|_| Problem::internal())?;
        json["change"] = serde_json::to_value(&from).map_err(|_| Problem::internal())?;
        rows.push(NoticeRow {
            notified_at: outcome.notified_at,
            status: status_code(outcome.status).to_owned(),
            excluded: outcome.excluded,
            explanation_json: json.to_string(),
            last_sent_at: Some(now),
            ..n.clone()
        });
    }
    Ok(rows)
}

/// Writes a changed window over the revision it was read at, then moves the
/// clocks of the tickets on its services, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn save(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    action: &str,
    before: &WindowRow,
    after: &WindowRow,
    rows: &[NoticeRow],
    now: Timestamp,
) -> ApiResult<()> {
    store::update(tx, &p.actor(now), action, before, after, rows)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Problem::moved("maintenance window").field("sequence"),
            e => e.into(),
        })?;
    let services: Vec<String> = rows.iter().flat_map(|n| n.services.clone()).collect();
    crate::tickets::windows_changed(state, tx, &services, now).await
}

/// Staff cancel a window, with why: each affected client is told, the feed
/// shows it cancelled (STATUS:CANCELLED, revision bumped) and it stops
/// moving ticket clocks.
pub async fn cancel(
    state: &AppState,
    p: &Principal,
    id: &str,
    reason: &str,
    sequence: i64,
) -> ApiResult<(WindowRow, Vec<NoticeRow>)> {
    let now = state.now();
    let reason = reason.trim();
    let mut tx = state.store().begin().await?;
    let (before, notices) = changeable(p, &mut tx, id, sequence).await?;
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Problem::invalid(
            "reason",
            "R4.6: say why the works are cancelled (at most 500 characters)",
        ));
    }
    let after = WindowRow {
        sequence: before.sequence + 1,
        updated_at: now,
        cancelled_at: Some(now),
        cancel_reason: Some(reason.to_owned()),
        ..before.clone()
    };
    let eng = engine(state, now)?;
    let rows: Vec<NoticeRow> = notices
        .iter()
        .map(|n| NoticeRow {
            last_sent_at: Some(now),
            ..n.clone()
        })
        .collect();
    for n in &rows {
        let notice = Notice {
            excluded: n.excluded,
            notice_days: eng.terms().maintenance.notice_days,
            services: services_text(n),
            change: MaintenanceChange::Cancelled {
                reason: reason.to_owned(),
            },
        };
        tell(state, &mut tx, &after, &n.org_id, &notice).await?;
    }
    save(
        state,
        &mut tx,
        p,
        "maintenance.cancel",
        &before,
        &after,
        &rows,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((after, rows))
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
        sequence: u32::try_from(w.sequence).unwrap_or(u32::MAX),
        cancelled: w.cancelled_at.is_some(),
        last_modified: w.updated_at,
    }
}
