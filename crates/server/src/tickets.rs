//! Support desk tickets (issue 5, items 1-2; R4.2-R4.5, CG 14): the
//! workflows shared by the API and the portal, over the engine's pure clocks.
//!
//! - Clients open tickets 24/7 (client space or API); staff open them from a
//!   phone call, back-dated to the call with `Ciel-Occurred-At`.
//! - An incomplete notification (R4.4) is flagged and suspends the clocks
//!   from the opening until it is completed.
//! - Until staff set the impact, the priority is provisional with I1 (the
//!   worst case: earliest deadlines, so that alerts are never late).
//! - Pauses need an R4.4 reason and the written request behind them.
//! - Deadlines are never stored: every read computes them with the engine at
//!   the request's instant; every change of the clocks enqueues the
//!   `ticket.alert` jobs at the engine's alert instants.
//! - Closing sends the end-of-interruption e-mail with its duration (R4.4);
//!   classifying the cause computes R4.5 and hands a billable ticket over.

use crate::accounts::send_mail;
use crate::auth::{Principal, Via, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::Item;
use ciel_domain::{Permission, StaffRole};
use ciel_engine::availability::Window;
use ciel_engine::desk::{AlertState, ClassifiedTicket, ClockKind, DeadlineAlerts, TicketCause};
use ciel_engine::support::{Pause, TicketDeadlines, TicketInput, TicketStatus};
use ciel_engine::{Engine, Explanation};
use ciel_mail::{Mail, TicketMail};
use ciel_store::maintenance::{NoticeRow, WindowRow, notices_of_orgs};
use ciel_store::tickets::{self, Event, Filter, NewEvent, Rank, Ticket};
use ciel_store::{Actor, Scope, StoreError, Tx, charges, jobs, orgs, services};
use ciel_terms::{Criticality, ExclusionReason, Impact, PauseReason, Priority, SupportLevel};
use jiff::Timestamp;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// Kind of the job that alerts support staff before a deadline.
pub const ALERT_JOB: &str = "ticket.alert";

/// The notification's fields (R4.4, CG 14.3); `None` or blank leaves one
/// unchanged.
#[derive(Debug, Clone, Default)]
pub struct Notification {
    pub caller: Option<String>,
    pub caller_authorisation: Option<String>,
    pub sites: Option<String>,
    pub service_type: Option<String>,
    pub description: Option<String>,
    pub consequences: Option<String>,
    pub contact: Option<String>,
}

/// A ticket to open.
#[derive(Debug, Clone)]
pub struct OpenInput {
    pub service_ids: Vec<String>,
    pub criticality: String,
    pub notification: Notification,
}

/// The live clocks of a ticket at an instant.
#[derive(Debug, Clone)]
pub struct Clocks {
    pub at: Timestamp,
    pub deadlines: TicketDeadlines,
    pub status: TicketStatus,
    /// The priority uses I1 until staff set the impact.
    pub impact_provisional: bool,
    /// Fields still missing from the notification (clocks suspended).
    pub missing: Vec<&'static str>,
    pub explanation: Explanation,
}

/// A ticket with its conversation and live clocks.
#[derive(Debug, Clone)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub events: Vec<Event>,
    pub clocks: Clocks,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

/// A refused transition: 409 naming the rule, nothing written.
fn refused(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field(field)
    .detail(detail)
}

fn code<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// The notification fields still missing (R4.4: "notification complète").
pub fn missing(t: &Ticket) -> Vec<&'static str> {
    [
        ("caller", &t.caller),
        ("caller_authorisation", &t.caller_authorisation),
        ("sites", &t.sites),
        ("service_type", &t.service_type),
        ("description", &t.description),
        ("consequences", &t.consequences),
        ("contact", &t.contact),
    ]
    .into_iter()
    .filter(|(_, v)| v.trim().is_empty())
    .map(|(k, _)| k)
    .collect()
}

fn apply_notification(t: &mut Ticket, n: Notification) -> ApiResult<()> {
    for (field, slot, v) in [
        ("caller", &mut t.caller, n.caller),
        (
            "caller_authorisation",
            &mut t.caller_authorisation,
            n.caller_authorisation,
        ),
        ("sites", &mut t.sites, n.sites),
        ("service_type", &mut t.service_type, n.service_type),
        ("description", &mut t.description, n.description),
        ("consequences", &mut t.consequences, n.consequences),
        ("contact", &mut t.contact, n.contact),
    ] {
        // A blank value leaves the field as it is: a notification once
        // complete stays complete (its clocks already run).
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            let v = v.trim();
            if v.chars().count() > 4000 {
                return Err(Problem::invalid(field, "at most 4000 characters"));
            }
            *slot = v.to_owned();
        }
    }
    Ok(())
}

fn engine(state: &AppState, t: &Ticket) -> ApiResult<Arc<Engine>> {
    crate::orders::engine(state, &t.terms_version)
}

/// The organisations of `ts`, once each: whose windows (not cancelled,
/// each with that organisation's notice) are read in one query for a page
/// (`ciel_store::maintenance::notices_of_orgs`).
fn orgs_of(ts: &[Ticket]) -> Vec<&str> {
    let mut orgs: Vec<&str> = ts.iter().map(|t| t.org_id.as_str()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    orgs
}

/// The maintenance windows touching a ticket, as the engine judges them
/// (R4.6): those notified to its organisation for one of its services,
/// with that notice's send time (urgent security ones with their reason).
pub fn windows_for(t: &Ticket, all: &[(WindowRow, NoticeRow)]) -> Vec<Window> {
    all.iter()
        .filter(|(_, n)| {
            n.org_id == t.org_id && n.services.iter().any(|s| t.service_ids.contains(s))
        })
        .map(|(w, n)| Window {
            id: w.id.to_string(),
            start: w.start,
            end: w.end,
            reason: if w.urgent_security_reason.is_some() {
                ExclusionReason::UrgentSecurityMaintenance
            } else {
                ExclusionReason::NotifiedMaintenance
            },
            notified_at: n.notified_at,
            source: format!("maintenance:{}:{}", w.id, n.org_id),
        })
        .collect()
}

/// What the engine needs: the notification as the clocks' start, the
/// incomplete notification and the R4.4 pauses as suspensions (a running
/// one ends at `at`), and the maintenance windows on its services (R4.6).
pub fn input(
    t: &Ticket,
    events: &[Event],
    maintenance: Vec<Window>,
    at: Timestamp,
) -> ApiResult<TicketInput> {
    let level: SupportLevel =
        parse(&t.support_level).ok_or_else(|| corrupt("support level", &t.support_level))?;
    let criticality: Criticality =
        parse(&t.criticality).ok_or_else(|| corrupt("criticality", &t.criticality))?;
    let impact: Impact = match &t.impact {
        Some(i) => parse(i).ok_or_else(|| corrupt("impact", i))?,
        None => Impact::I1,
    };
    let end_of = |s: Option<Timestamp>| s.unwrap_or(at).max(t.opened_at);
    let mut pauses = Vec::new();
    if t.completed_at != Some(t.opened_at) {
        pauses.push(Pause {
            start: t.opened_at,
            end: end_of(t.completed_at),
            reason: Some(PauseReason::IncompleteNotification),
        });
    }
    let mut open: Option<&Event> = None;
    for e in events {
        match e.kind.as_str() {
            "paused" => open = Some(e),
            "resumed" => {
                if let Some(p) = open.take() {
                    pauses.push(Pause {
                        start: p.occurred_at,
                        end: e.occurred_at.max(p.occurred_at),
                        reason: p.pause_reason.as_deref().and_then(parse),
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(p) = open {
        pauses.push(Pause {
            start: p.occurred_at,
            end: end_of(None).max(p.occurred_at),
            reason: p.pause_reason.as_deref().and_then(parse),
        });
    }
    Ok(TicketInput {
        level,
        criticality,
        impact,
        notified_at: t.opened_at,
        pauses,
        maintenance,
    })
}

/// The clocks of a ticket at `at` (R4.2-R4.4).
pub fn clocks(
    eng: &Engine,
    t: &Ticket,
    events: &[Event],
    maintenance: Vec<Window>,
    at: Timestamp,
) -> ApiResult<Clocks> {
    let ti = input(t, events, maintenance, at)?;
    let d = eng
        .ticket_deadlines(&ti)
        .map_err(|e| corrupt("ticket deadlines", e))?;
    let s = eng
        .ticket_status(&ti, at, t.acknowledged_at, t.restored_at)
        .map_err(|e| corrupt("ticket status", e))?;
    Ok(Clocks {
        at,
        deadlines: d.value,
        status: s.value,
        impact_provisional: t.impact.is_none(),
        missing: missing(t),
        explanation: d.explanation,
    })
}

/// Tickets with their conversations and live clocks: one query for all
/// their events and one for the windows touching them, whatever their
/// number; the clocks are computed in memory.
async fn load_many(
    state: &AppState,
    scope: &Scope,
    ts: Vec<Ticket>,
) -> ApiResult<Vec<TicketDetail>> {
    let db = state.store().db();
    let ids: Vec<&str> = ts.iter().map(|t| t.id.as_str()).collect();
    let mut by_ticket: HashMap<String, Vec<Event>> = HashMap::new();
    for e in tickets::events_of(db, scope, &ids).await? {
        by_ticket.entry(e.ticket_id.clone()).or_default().push(e);
    }
    let windows = notices_of_orgs(db, &orgs_of(&ts)).await?;
    let now = state.now();
    let mut out = Vec::with_capacity(ts.len());
    for t in ts {
        let events = by_ticket.remove(t.id.as_str()).unwrap_or_default();
        let clocks = clocks(
            &*engine(state, &t)?,
            &t,
            &events,
            windows_for(&t, &windows),
            now,
        )?;
        out.push(TicketDetail {
            ticket: t,
            events,
            clocks,
        });
    }
    Ok(out)
}

async fn load(state: &AppState, scope: &Scope, t: Ticket) -> ApiResult<TicketDetail> {
    load_many(state, scope, vec![t])
        .await?
        .pop()
        .ok_or_else(Problem::internal)
}

fn can_read(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.can(Permission::OpenTickets) || p.can(Permission::ViewServices) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "tickets are shown to users who open tickets or see services",
        ))
    }
}

fn can_write(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.can(Permission::OpenTickets) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "only users allowed to open tickets write on them",
        ))
    }
}

fn side(p: &Principal) -> &'static str {
    if p.is_staff() { "staff" } else { "client" }
}

/// A ticket with its conversation and live clocks.
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<TicketDetail> {
    let t = tickets::get(state.store().db(), &p.scope, id).await?;
    can_read(p)?;
    load(state, &p.scope, t).await
}

/// Most tickets a page of the queue shows.
pub const MAX_PER_PAGE: i64 = 200;

/// One page of the queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub items: Vec<TicketDetail>,
    /// Tickets matching the filter, on every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The queue: tickets in rank order (the nearest running deadline first,
/// breached ones before; then suspended clocks by the time they have left;
/// then tickets without a running clock, newest first; closed last), one
/// page at a time. The rank is stored with each change of a ticket's clocks
/// ([`rank`]), so a page is two indexed queries plus the engine's clocks of
/// its own tickets.
pub async fn queue(
    state: &AppState,
    p: &Principal,
    f: &Filter,
    page: i64,
    per_page: i64,
) -> ApiResult<QueuePage> {
    if let Some(org) = &f.org_id {
        orgs::get(state.store().db(), &p.scope, org).await?;
    }
    can_read(p)?;
    if page < 1 {
        return Err(Problem::invalid("page", "pages are numbered from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Problem::invalid(
            "per_page",
            format!("1 to {MAX_PER_PAGE} tickets a page"),
        ));
    }
    rank_unranked(state).await?;
    let offset = (page - 1).saturating_mul(per_page);
    let (rows, total) =
        tickets::queue_page(state.store().db(), &p.scope, f, offset, per_page).await?;
    Ok(QueuePage {
        items: load_many(state, &p.scope, rows).await?,
        total,
        page,
        per_page,
    })
}

/// Where a ticket stands in the queue, from its clocks at `c.at`:
/// tier 0, a clock runs (or is breached, its due instant then fixed): the
/// nearest due instant; tier 1, its clocks are suspended (pause,
/// incomplete notification): the business seconds left, which do not move
/// while suspended; tier 2, no running clock: newest first; tier 3, closed.
/// Each is exact until the next change of the ticket or of a window on its
/// services, which both store it again.
pub fn rank(t: &Ticket, c: &Clocks) -> Rank {
    let newest_first = -t.opened_at.as_millisecond();
    if t.state == "closed" {
        return Rank {
            tier: 3,
            key: newest_first,
        };
    }
    let running: Vec<(Timestamp, i64)> = [
        (&c.deadlines.gti, &c.status.gti, t.acknowledged_at),
        (&c.deadlines.gtr, &c.status.gtr, t.restored_at),
    ]
    .into_iter()
    .filter_map(|(d, s, stop)| match (d, s, stop) {
        (Some(d), Some(s), None) => Some((d.due_at, s.remaining_seconds)),
        _ => None,
    })
    .collect();
    let Some(due) = running.iter().map(|(d, _)| *d).min() else {
        return Rank {
            tier: 2,
            key: newest_first,
        };
    };
    let suspended = !c.missing.is_empty() || t.state == "paused";
    if !suspended || due <= c.at {
        Rank {
            tier: 0,
            key: due.as_millisecond(),
        }
    } else {
        Rank {
            tier: 1,
            key: running.iter().map(|(_, left)| *left).min().unwrap_or(0),
        }
    }
}

/// Ranks the tickets opened before ranks were stored (once).
async fn rank_unranked(state: &AppState) -> ApiResult<()> {
    let todo = tickets::unranked(state.store().db()).await?;
    if todo.is_empty() {
        return Ok(());
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    for t in todo {
        let eng = engine(state, &t)?;
        after_change(state, &mut tx, &eng, &t, now, false).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// After a change of a ticket's clocks, in its transaction: stores its
/// queue rank and (when `alert`) enqueues its staff alerts.
async fn after_change(
    state: &AppState,
    tx: &mut Tx,
    eng: &Engine,
    t: &Ticket,
    now: Timestamp,
    alert: bool,
) -> ApiResult<()> {
    let events = tickets::events(&mut **tx, &Scope::Staff, t.id.as_str()).await?;
    let windows = windows_for(t, &notices_of_orgs(&mut **tx, &[t.org_id.as_str()]).await?);
    let c = clocks(eng, t, &events, windows.clone(), now)?;
    tickets::set_rank(&mut **tx, t.id.as_str(), rank(t, &c)).await?;
    if alert {
        schedule_alerts(state, tx, eng, t, &events, windows, now).await?;
    }
    Ok(())
}

/// A maintenance window changed (planned, moved, cancelled): the clocks of
/// the unclosed tickets on its services move, so their ranks and alerts are
/// computed again in the window's transaction.
pub async fn windows_changed(
    state: &AppState,
    tx: &mut Tx,
    services: &[String],
    now: Timestamp,
) -> ApiResult<()> {
    for t in tickets::unclosed_on_services(&mut **tx, services).await? {
        let eng = engine(state, &t)?;
        after_change(state, tx, &eng, &t, now, true).await?;
    }
    Ok(())
}

/// Business seconds left on the first unstopped clock (GTI, then GTR); 0
/// once breached; `i64::MAX` without one.
pub fn time_left(c: &Clocks) -> i64 {
    use ciel_engine::support::ClockState;
    [&c.status.gti, &c.status.gtr]
        .into_iter()
        .flatten()
        .find(|s| s.state != ClockState::Met)
        .map_or(i64::MAX, |s| s.remaining_seconds)
}

/// The support level of an organisation: its best support service, else
/// Standard (R4.1: a client without a support order has Standard support).
async fn level_of(state: &AppState, org_id: &str) -> ApiResult<SupportLevel> {
    let items = tickets::support_items(state.store().db(), &Scope::Staff, org_id).await?;
    Ok(items
        .iter()
        .filter_map(|j| match serde_json::from_str::<Item>(j) {
            Ok(Item::Support { level }) => Some(level),
            _ => None,
        })
        .max_by_key(|l| SupportLevel::ALL.iter().position(|x| x == l))
        .unwrap_or(SupportLevel::Standard))
}

/// Opens a ticket for an organisation: its client users with the
/// open-tickets permission, or staff from a phone call (the call's time in
/// `Ciel-Occurred-At`).
pub async fn open(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: OpenInput,
) -> ApiResult<TicketDetail> {
    let db = state.store().db();
    let org = orgs::get(db, &p.scope, org_id).await?;
    if p.is_staff() {
        require_staff(p, StaffRole::manages_clients)?;
    } else if !p.can(Permission::OpenTickets) {
        return Err(Problem::forbidden(
            "R1.8: opening tickets needs the open-tickets permission",
        ));
    }
    let criticality: Criticality = parse(input.criticality.trim())
        .ok_or_else(|| Problem::invalid("criticality", "R4.2 (CG 14.2): one of C1, C2, C3, C4"))?;
    if input.service_ids.is_empty() || input.service_ids.len() > 50 {
        return Err(Problem::invalid(
            "service_ids",
            "R4.4 (CG 14.3): name the service(s) concerned (1 to 50)",
        ));
    }
    let mut service_ids = Vec::new();
    for id in &input.service_ids {
        match services::get(db, &p.scope, id).await {
            Ok(s) if s.org_id == org.id => service_ids.push(s.id.to_string()),
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(Problem::invalid(
                    "service_ids",
                    format!("R4.4 (CG 14.3): {id} is not a service of this client"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    service_ids.dedup();
    let now = state.now();
    let actor = p.actor(now);
    let opened_at = actor.occurred_at;
    let registry = crate::orders::registry(state);
    let day = opened_at
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC))
        .date();
    let terms = registry.in_force_on(day).cloned().ok_or_else(|| {
        Problem::invalid(
            "occurred_at",
            format!("R1.2 (CG 2.4): no terms version is in force on {day}"),
        )
    })?;
    let level = level_of(state, org.id.as_str()).await?;
    let channel = match (p.is_staff(), &p.via) {
        (true, _) => "phone",
        (false, Via::Token { .. }) => "api",
        (false, _) => "client_space",
    };
    let mut t = Ticket {
        id: ciel_domain::Id::from_raw(String::new()),
        org_id: org.id.clone(),
        reference: String::new(),
        service_ids,
        channel: channel.into(),
        caller: String::new(),
        caller_authorisation: String::new(),
        sites: String::new(),
        service_type: String::new(),
        description: String::new(),
        consequences: String::new(),
        contact: String::new(),
        criticality: code(criticality),
        impact: None,
        priority: String::new(),
        support_level: level.as_str().into(),
        terms_version: terms.version.id.clone(),
        state: "open".into(),
        opened_at,
        completed_at: None,
        acknowledged_at: None,
        restored_at: None,
        closed_at: None,
        cause: None,
        billable: false,
        opened_by: actor.label.clone(),
        version: 0,
        created_at: now,
    };
    apply_notification(&mut t, input.notification)?;
    if t.description.is_empty() {
        return Err(Problem::invalid(
            "description",
            "R4.4 (CG 14.3): describe the incident",
        ));
    }
    if missing(&t).is_empty() {
        t.completed_at = Some(opened_at);
    }
    let eng = engine(state, &t)?;
    t.priority = priority(&eng, &t)?;
    let year = day.year();
    let mut tx = state.store().begin().await?;
    let t = tickets::open(&mut tx, &actor, t, year).await?;
    let ev = NewEvent {
        kind: "opened",
        side: side(p),
        author: actor.label.clone(),
        body: String::new(),
        pause_reason: None,
        request_ref: None,
        occurred_at: opened_at,
    };
    tickets::add_event(&mut tx, &actor, &t, ev).await?;
    after_change(state, &mut tx, &eng, &t, now, true).await?;
    tx.commit().await.map_err(StoreError::from)?;
    load(state, &p.scope, t).await
}

fn priority(eng: &Engine, t: &Ticket) -> ApiResult<String> {
    let ti = input(t, &[], Vec::new(), t.opened_at)?;
    Ok(code::<Priority>(
        eng.priority(ti.level, ti.criticality, ti.impact)
            .value
            .priority,
    ))
}

/// One change of a ticket.
pub enum Action {
    /// Completes (or corrects) the notification.
    Notification(Notification),
    /// Staff set the impact (R4.2).
    Impact(String),
    Acknowledge,
    /// R4.4: a pause with its reason and the written request behind it.
    Pause {
        reason: Option<String>,
        request_ref: Option<String>,
    },
    Resume,
    Restore,
    /// Closure: the end-of-interruption e-mail (R4.4).
    Close,
    Message(String),
    /// Staff classify the cause (R4.5).
    Cause(String),
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Notification(_) => "completed",
            Action::Impact(_) => "impact",
            Action::Acknowledge => "acknowledged",
            Action::Pause { .. } => "paused",
            Action::Resume => "resumed",
            Action::Restore => "restored",
            Action::Close => "closed",
            Action::Message(_) => "message",
            Action::Cause(_) => "classified",
        }
    }
}

/// Applies an action to a ticket; refused actions write nothing.
pub async fn act(
    state: &AppState,
    p: &Principal,
    id: &str,
    action: Action,
) -> ApiResult<TicketDetail> {
    let before = tickets::get(state.store().db(), &p.scope, id).await?;
    match action {
        Action::Notification(_) | Action::Message(_) => can_write(p)?,
        _ => {
            require_staff(p, StaffRole::manages_clients)?;
        }
    }
    let now = state.now();
    let actor = p.actor(now);
    let at = actor.occurred_at;
    if before.state == "closed" {
        return Err(refused(
            "state",
            format!("R4.4 (CG 14.4): ticket {} is closed", before.reference),
        ));
    }
    let eng = engine(state, &before)?;
    let kind = action.name();
    let mut t = before.clone();
    let mut body = String::new();
    let (mut pause_reason, mut request_ref) = (None, None);
    let mut billable_charge = None;
    match action {
        Action::Notification(n) => {
            apply_notification(&mut t, n)?;
            if t.description.is_empty() {
                return Err(Problem::invalid(
                    "description",
                    "R4.4 (CG 14.3): describe the incident",
                ));
            }
            if t.completed_at.is_none() && missing(&t).is_empty() {
                t.completed_at = Some(at.max(t.opened_at));
            }
            body = if t.completed_at.is_some() {
                "complete".into()
            } else {
                format!("missing: {}", missing(&t).join(", "))
            };
        }
        Action::Impact(i) => {
            let i: Impact = parse(i.trim()).ok_or_else(|| {
                Problem::invalid("impact", "R4.2 (CG 14.2): one of I1, I2, I3, I4")
            })?;
            t.impact = Some(code(i));
            t.priority = priority(&eng, &t)?;
            body = format!("{} → {}", code(i), t.priority);
        }
        Action::Acknowledge => {
            if t.acknowledged_at.is_some() {
                return Err(refused("state", "R4.3 (CG 14.2): already acknowledged"));
            }
            t.acknowledged_at = Some(at.max(t.opened_at));
        }
        Action::Pause {
            reason,
            request_ref: r,
        } => {
            if t.state != "open" {
                return Err(refused(
                    "state",
                    format!("R4.4 (CG 14.4): a {} ticket cannot be paused", t.state),
                ));
            }
            let reason = reason.as_deref().map(str::trim).unwrap_or_default();
            let ok: Option<PauseReason> = parse(reason);
            if !matches!(
                ok,
                Some(PauseReason::SiteAccessRequest | PauseReason::ClientOrThirdPartyAction)
            ) {
                return Err(Problem::invalid(
                    "reason",
                    "R4.4 (CG 14.4): a pause needs its reason: site_access_request or client_or_third_party_action",
                ));
            }
            let r = r.as_deref().map(str::trim).unwrap_or_default();
            if r.is_empty() || r.chars().count() > 500 {
                return Err(Problem::invalid(
                    "request_ref",
                    "R4.4 (CG 14.4): a pause starts from a written request: give its reference",
                ));
            }
            t.state = "paused".into();
            pause_reason = Some(reason.to_owned());
            request_ref = Some(r.to_owned());
        }
        Action::Resume => {
            if t.state != "paused" {
                return Err(refused("state", "R4.4 (CG 14.4): the ticket is not paused"));
            }
            let events = tickets::events(state.store().db(), &p.scope, id).await?;
            if let Some(pause) = events.iter().rev().find(|e| e.kind == "paused")
                && at < pause.occurred_at
            {
                return Err(Problem::invalid(
                    crate::auth::OCCURRED_AT_HEADER,
                    format!(
                        "R4.4 (CG 14.4): the pause began at {}; it cannot end before",
                        pause.occurred_at
                    ),
                ));
            }
            t.state = "open".into();
        }
        Action::Restore => {
            if t.acknowledged_at.is_none() || t.state != "open" {
                return Err(refused(
                    "state",
                    "R4.3 (CG 14.2): only an acknowledged, running (not paused) ticket is restored",
                ));
            }
            t.state = "restored".into();
            t.restored_at = Some(at.max(t.opened_at));
        }
        Action::Close => {
            if t.acknowledged_at.is_none() || t.state != "restored" {
                return Err(refused(
                    "state",
                    "R4.4 (CG 14.4): a ticket is closed once acknowledged and restored",
                ));
            }
            t.state = "closed".into();
            t.closed_at = Some(at.max(t.opened_at));
        }
        Action::Message(m) => {
            let m = m.trim();
            if m.is_empty() || m.chars().count() > 10_000 {
                return Err(Problem::invalid(
                    "body",
                    "write a message of at most 10000 characters",
                ));
            }
            body = m.to_owned();
        }
        Action::Cause(c) => {
            let cause: TicketCause = parse(c.trim()).ok_or_else(|| {
                Problem::invalid(
                    "cause",
                    "R4.5 (CG 14.3): one of provider_scope, client_equipment, abnormal_use, fraudulent_use",
                )
            })?;
            if t.cause.is_some() {
                return Err(refused(
                    "cause",
                    "R4.5 (CG 14.3): the cause is already classified",
                ));
            }
            t.cause = Some(code(cause));
            let since = eng
                .billable_window_start(t.opened_at)
                .map_err(|e| corrupt("R4.5 window", e))?;
            let history: Vec<ClassifiedTicket> =
                tickets::classified_since(state.store().db(), t.org_id.as_str(), since)
                    .await?
                    .into_iter()
                    .map(|(id, notified_at, c)| ClassifiedTicket {
                        id,
                        notified_at,
                        cause: parse(&c),
                    })
                    .collect();
            let me = ClassifiedTicket {
                id: t.id.to_string(),
                notified_at: t.opened_at,
                cause: Some(cause),
            };
            let outcome = eng
                .ticket_billable(&me, &history)
                .map_err(|e| corrupt("R4.5 outcome", e))?;
            t.billable = outcome.value.billable;
            body = format!(
                "{} (rank {})",
                cause.label(ciel_engine::Lang::En),
                outcome.value.rank
            );
            if t.billable {
                billable_charge = Some((cause, outcome.explanation));
            }
        }
    }
    let ev = NewEvent {
        kind,
        side: side(p),
        author: actor.label.clone(),
        body,
        pause_reason,
        request_ref,
        occurred_at: at,
    };
    let mut tx = state.store().begin().await?;
    let (t, _) = tickets::change(&mut tx, &actor, &format!("ticket.{kind}"), &before, &t, ev)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                refused("version", "the ticket changed meanwhile; reload it")
            }
            other => other.into(),
        })?;
    let events = tickets::events(&mut *tx, &Scope::Staff, t.id.as_str()).await?;
    if kind == "closed" {
        tell_closed(state, &mut tx, &eng, &t, &events).await?;
    }
    if let Some((cause, explanation)) = billable_charge {
        bill(state, &mut tx, &actor, &eng, &t, cause, explanation).await?;
    }
    let alert = kind != "message" && kind != "classified";
    after_change(state, &mut tx, &eng, &t, now, alert).await?;
    tx.commit().await.map_err(StoreError::from)?;
    load(state, &p.scope, t).await
}

/// "2 h 05 min 30 s" in both languages (they write durations alike).
fn duration_text(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    format!("{h} h {m:02} min {s:02} s")
}

async fn client_admins(tx: &mut Tx, t: &Ticket) -> ApiResult<Vec<ciel_store::users::User>> {
    crate::services::members(tx, t.org_id.as_str(), |u| u.is_org_admin).await
}

/// R4.4: the end-of-interruption e-mail, with the interruption's duration.
async fn tell_closed(
    state: &AppState,
    tx: &mut Tx,
    eng: &Engine,
    t: &Ticket,
    events: &[Event],
) -> ApiResult<()> {
    let end = t.closed_at.ok_or_else(Problem::internal)?;
    let windows = windows_for(t, &notices_of_orgs(&mut **tx, &[t.org_id.as_str()]).await?);
    let d = eng
        .interruption_duration(&input(t, events, windows, end)?, end)
        .map_err(|e| corrupt("interruption", e))?;
    let org = orgs::get(&mut **tx, &Scope::Staff, t.org_id.as_str()).await?;
    let link = state.link(&format!("/espace-client/tickets/{}", t.id));
    for to in client_admins(tx, t).await? {
        let mail = Mail::Ticket {
            name: to.name.clone(),
            org_name: org.name.clone(),
            reference: t.reference.clone(),
            event: TicketMail::Closed,
            text: duration_text(d.value.net_seconds),
            fee: String::new(),
            link: link.clone(),
        };
        send_mail(state, tx, &to, mail).await?;
    }
    Ok(())
}

/// R4.5: hands the billable ticket to billing once and tells the client.
async fn bill(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    eng: &Engine,
    t: &Ticket,
    cause: TicketCause,
    explanation: Explanation,
) -> ApiResult<()> {
    let bt = &eng.terms().support.billable_tickets;
    let price: Decimal = bt.price_eur.value.0.round_dp(2);
    let new = charges::hand_over(
        tx,
        actor,
        charges::NewCharge {
            org_id: t.org_id.clone(),
            source_kind: "ticket",
            source_id: t.id.to_string(),
            charge_key: "billable".into(),
            rule: bt.rule.clone(),
            label: format!("Ticket facturable / Billable ticket {}", t.reference),
            amount: price.to_string(),
            explanation_json: serde_json::to_string(&explanation)
                .map_err(|e| corrupt("explanation", e))?,
            occurred_at: t.opened_at,
        },
    )
    .await?;
    if !new {
        return Ok(());
    }
    let org = orgs::get(&mut **tx, &Scope::Staff, t.org_id.as_str()).await?;
    let link = state.link(&format!("/espace-client/tickets/{}", t.id));
    for to in client_admins(tx, t).await? {
        let mail = Mail::Ticket {
            name: to.name.clone(),
            org_name: org.name.clone(),
            reference: t.reference.clone(),
            event: TicketMail::Billable,
            text: cause
                .label(match to.lang {
                    ciel_domain::Lang::Fr => ciel_engine::Lang::Fr,
                    ciel_domain::Lang::En => ciel_engine::Lang::En,
                })
                .to_owned(),
            fee: price.to_string(),
            link: link.clone(),
        };
        send_mail(state, tx, &to, mail).await?;
    }
    Ok(())
}

fn alerts(
    state: &AppState,
    eng: &Engine,
    t: &Ticket,
    events: &[Event],
    windows: Vec<Window>,
    at: Timestamp,
) -> ApiResult<DeadlineAlerts> {
    let share = Decimal::from(state.config().desk.alert_share_percent);
    Ok(eng
        .deadline_alerts(
            &input(t, events, windows, at)?,
            at,
            t.acknowledged_at,
            t.restored_at,
            share,
        )
        .map_err(|e| corrupt("deadline alerts", e))?
        .value)
}

fn clock_code(c: ClockKind) -> &'static str {
    match c {
        ClockKind::Gti => "gti",
        ClockKind::Gtr => "gtr",
    }
}

/// Enqueues a `ticket.alert` job at each pending or due alert instant of a running
/// (complete, unpaused) ticket; the dedup key holds the instant, so a clock
/// that moved gets a new job and the old one finds nothing due.
async fn schedule_alerts(
    state: &AppState,
    tx: &mut Tx,
    eng: &Engine,
    t: &Ticket,
    events: &[Event],
    windows: Vec<Window>,
    now: Timestamp,
) -> ApiResult<()> {
    if t.state != "open" || t.completed_at.is_none() {
        return Ok(());
    }
    for a in alerts(state, eng, t, events, windows, now)?.alerts {
        // Due already (a call back-dated, a clock moved): the job runs now.
        if !matches!(a.state, AlertState::Pending | AlertState::Due) {
            continue;
        }
        let clock = clock_code(a.clock);
        jobs::enqueue(
            &mut **tx,
            jobs::NewJob {
                kind: ALERT_JOB,
                payload: serde_json::json!({"ticket": t.id.as_str(), "clock": clock}),
                run_at: a.alert_at,
                dedup_key: Some(format!(
                    "{ALERT_JOB}:{}:{clock}:{}",
                    t.id,
                    a.alert_at.as_millisecond()
                )),
                max_attempts: 5,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// The `ticket.alert` job: e-mails the support staff when the clock is
/// still running and its alert is due; once per ticket and clock (an
/// `alerted` event). Returns whether a mail was sent.
pub async fn run_alert(state: &AppState, id: &str, clock: &str) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let t = tickets::get(&mut *tx, &Scope::Staff, id).await?;
    let events = tickets::events(&mut *tx, &Scope::Staff, id).await?;
    if events
        .iter()
        .any(|e| e.kind == "alerted" && e.body.starts_with(clock))
        || t.state == "closed"
    {
        return Ok(false);
    }
    let eng = engine(state, &t)?;
    let windows = windows_for(&t, &notices_of_orgs(&mut *tx, &[t.org_id.as_str()]).await?);
    let Some(a) = alerts(state, &eng, &t, &events, windows, now)?
        .alerts
        .into_iter()
        .find(|a| clock_code(a.clock) == clock && a.state == AlertState::Due)
    else {
        return Ok(false);
    };
    let actor = Actor::system(ALERT_JOB, now);
    let label = clock.to_uppercase();
    let text = format!(
        "{label} {}/{} s ({} %), due {}",
        a.elapsed_seconds, a.business_seconds, a.share_percent, a.due_at
    );
    tickets::add_event(
        &mut tx,
        &actor,
        &t,
        NewEvent {
            kind: "alerted",
            side: "system",
            author: ALERT_JOB.into(),
            body: format!("{clock}: {text}"),
            pause_reason: None,
            request_ref: None,
            occurred_at: now,
        },
    )
    .await?;
    let org = orgs::get(&mut *tx, &Scope::Staff, t.org_id.as_str()).await?;
    let Some(provider) = orgs::provider(&mut *tx).await? else {
        return Ok(false);
    };
    let staff = crate::services::members(&mut tx, provider.id.as_str(), |u| {
        matches!(u.staff_role, Some(StaffRole::Admin | StaffRole::Support))
    })
    .await?;
    let link = state.link(&format!("/back-office/tickets/{}", t.id));
    for to in staff {
        let mail = Mail::Ticket {
            name: to.name.clone(),
            org_name: org.name.clone(),
            reference: t.reference.clone(),
            event: TicketMail::Alert,
            text: text.clone(),
            fee: String::new(),
            link: link.clone(),
        };
        send_mail(state, &mut tx, &to, mail).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciel_domain::Id;

    fn ticket(opened: &str, completed: Option<&str>) -> Ticket {
        Ticket {
            id: Id::from_raw("tkt_1".into()),
            org_id: Id::from_raw("org_1".into()),
            reference: "T-2026-000001".into(),
            service_ids: vec!["svc_1".into()],
            channel: "api".into(),
            caller: "c".into(),
            caller_authorisation: "a".into(),
            sites: "s".into(),
            service_type: "t".into(),
            description: "d".into(),
            consequences: String::new(),
            contact: " ".into(),
            criticality: "C2".into(),
            impact: None,
            priority: "P2".into(),
            support_level: "premium".into(),
            terms_version: "v".into(),
            state: "open".into(),
            opened_at: opened.parse().unwrap(),
            completed_at: completed.map(|c| c.parse().unwrap()),
            acknowledged_at: None,
            restored_at: None,
            closed_at: None,
            cause: None,
            billable: false,
            opened_by: "x".into(),
            version: 0,
            created_at: opened.parse().unwrap(),
        }
    }

    fn event(kind: &str, at: &str, reason: Option<&str>) -> Event {
        Event {
            id: Id::from_raw(format!("tke_{at}")),
            org_id: Id::from_raw("org_1".into()),
            ticket_id: "tkt_1".into(),
            kind: kind.into(),
            side: "staff".into(),
            author: "x".into(),
            body: String::new(),
            pause_reason: reason.map(str::to_owned),
            request_ref: reason.map(|_| "mail".to_owned()),
            occurred_at: at.parse().unwrap(),
            created_at: at.parse().unwrap(),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn blank_fields_are_missing() {
        let t = ticket("2026-05-07T08:00:00Z", None);
        assert_eq!(missing(&t), ["consequences", "contact"]);
    }

    #[test]
    fn a_complete_notification_at_opening_suspends_nothing() {
        let t = ticket("2026-05-07T08:00:00Z", Some("2026-05-07T08:00:00Z"));
        let i = input(&t, &[], Vec::new(), ts("2026-05-07T10:00:00Z")).unwrap();
        assert!(i.pauses.is_empty());
        assert_eq!(
            i.impact,
            Impact::I1,
            "provisional impact until staff set it"
        );
    }

    #[test]
    fn incompleteness_and_pauses_become_suspensions_a_running_one_ends_now() {
        let t = ticket("2026-05-07T08:00:00Z", None);
        let events = [
            event(
                "paused",
                "2026-05-07T09:00:00Z",
                Some("site_access_request"),
            ),
            event("resumed", "2026-05-07T09:30:00Z", None),
            event(
                "paused",
                "2026-05-07T11:00:00Z",
                Some("client_or_third_party_action"),
            ),
        ];
        let i = input(&t, &events, Vec::new(), ts("2026-05-07T12:00:00Z")).unwrap();
        let spans: Vec<_> = i
            .pauses
            .iter()
            .map(|p| (p.start.to_string(), p.end.to_string(), p.reason))
            .collect();
        assert_eq!(
            spans,
            [
                (
                    "2026-05-07T08:00:00Z".to_owned(),
                    "2026-05-07T12:00:00Z".to_owned(),
                    Some(PauseReason::IncompleteNotification)
                ),
                (
                    "2026-05-07T09:00:00Z".to_owned(),
                    "2026-05-07T09:30:00Z".to_owned(),
                    Some(PauseReason::SiteAccessRequest)
                ),
                (
                    "2026-05-07T11:00:00Z".to_owned(),
                    "2026-05-07T12:00:00Z".to_owned(),
                    Some(PauseReason::ClientOrThirdPartyAction)
                ),
            ]
        );
    }

    #[test]
    fn a_resume_back_dated_before_its_pause_is_an_empty_suspension() {
        let t = ticket("2026-05-07T08:00:00Z", Some("2026-05-07T08:00:00Z"));
        let events = [
            event(
                "paused",
                "2026-05-07T09:00:00Z",
                Some("site_access_request"),
            ),
            event("resumed", "2026-05-07T08:30:00Z", None),
        ];
        let i = input(&t, &events, Vec::new(), ts("2026-05-07T12:00:00Z")).unwrap();
        assert_eq!(i.pauses.len(), 1);
        assert_eq!(i.pauses[0].start, i.pauses[0].end);
    }

    /// Premium P2 (C2 with the provisional I1): GTI 4 h on Mon-Sat
    /// 08:00-18:00 Paris. Opened Thu 7 May 2026 10:00 Paris (08:00Z): GTI
    /// due 14:00 Paris (12:00Z), GTR 1 JO = 10 h, due Sat 9 May 10:00 Paris
    /// (Fri 8 May is a holiday).
    #[test]
    fn the_queue_rank_follows_the_clocks() {
        let eng = Engine::embedded().unwrap();
        let opened = "2026-05-07T08:00:00Z";
        let gti_due = ts("2026-05-07T12:00:00Z").as_millisecond();
        let rank_at = |t: &Ticket, events: &[Event], at: &str| {
            rank(t, &clocks(&eng, t, events, Vec::new(), ts(at)).unwrap())
        };
        let mut complete = ticket(opened, Some(opened));
        complete.consequences = "production arrêtée".into();
        complete.contact = "noc@client.example".into();
        // Running, then breached: the due instant, fixed.
        assert_eq!(
            rank_at(&complete, &[], "2026-05-07T10:00:00Z"),
            Rank {
                tier: 0,
                key: gti_due
            }
        );
        assert_eq!(
            rank_at(&complete, &[], "2026-05-07T13:00:00Z"),
            Rank {
                tier: 0,
                key: gti_due
            }
        );
        // Incomplete: suspended from the opening, the whole 4 h left.
        let incomplete = ticket(opened, None);
        assert_eq!(
            rank_at(&incomplete, &[], "2026-05-07T10:00:00Z"),
            Rank {
                tier: 1,
                key: 14_400
            }
        );
        // Paused at 10:30 Paris after 30 min: 3 h 30 left, however long the pause.
        let mut paused = complete.clone();
        paused.state = "paused".into();
        let pause = [event(
            "paused",
            "2026-05-07T08:30:00Z",
            Some("site_access_request"),
        )];
        assert_eq!(
            rank_at(&paused, &pause, "2026-05-07T09:00:00Z"),
            Rank {
                tier: 1,
                key: 12_600
            }
        );
        assert_eq!(
            rank_at(&paused, &pause, "2026-05-07T15:00:00Z"),
            Rank {
                tier: 1,
                key: 12_600
            }
        );
        // Acknowledged: the GTR decides (Sat 9 May 10:00 Paris = 08:00Z).
        let mut acked = complete.clone();
        acked.acknowledged_at = Some(ts("2026-05-07T09:00:00Z"));
        let gtr_due = ts("2026-05-09T08:00:00Z").as_millisecond();
        assert_eq!(
            rank_at(&acked, &[], "2026-05-07T10:00:00Z"),
            Rank {
                tier: 0,
                key: gtr_due
            }
        );
        // Restored: no running clock, newest first; closed last.
        let mut restored = acked.clone();
        restored.state = "restored".into();
        restored.restored_at = Some(ts("2026-05-07T10:00:00Z"));
        let newest_first = -ts(opened).as_millisecond();
        assert_eq!(
            rank_at(&restored, &[], "2026-05-07T11:00:00Z"),
            Rank {
                tier: 2,
                key: newest_first
            }
        );
        let mut closed = restored.clone();
        closed.state = "closed".into();
        assert_eq!(
            rank_at(&closed, &[], "2026-05-07T11:00:00Z"),
            Rank {
                tier: 3,
                key: newest_first
            }
        );
    }

    #[test]
    fn durations_are_written_in_hours_minutes_seconds() {
        assert_eq!(duration_text(150_030), "41 h 40 min 30 s");
        assert_eq!(duration_text(0), "0 h 00 min 00 s");
    }
}
