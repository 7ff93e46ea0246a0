//! Tickets in the portal (R4.2-R4.5): the client space lists its tickets,
//! opens one, and shows each with its conversation and live deadlines; the
//! back office shows the queue sorted by time left, filtered by level,
//! priority and state, and a ticket page with every staff step. Every
//! action runs the API's workflow (`crate::tickets`).

use super::{Ctx, Form, Viewer, done};
use crate::auth::Principal;
use crate::i18n::Tr;
use crate::problem::Problem;
use crate::tickets::{self, Action, Clocks, Notification, OpenInput, TicketDetail};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::Permission;
use ciel_store::tickets::Filter;
use std::collections::HashMap;

pub struct ClockRow {
    pub name: &'static str,
    pub target: String,
    pub due: String,
    pub elapsed: String,
    pub remaining: String,
    pub state: String,
}

pub struct TicketRow {
    pub id: String,
    pub reference: String,
    pub level: String,
    pub criticality: String,
    pub impact: String,
    pub priority: String,
    pub downgraded: bool,
    pub state: String,
    pub opened_at: String,
    pub complete: bool,
    pub missing: String,
    pub suspended: bool,
    pub left: String,
    pub breached: bool,
    pub description: String,
    pub cause: String,
    pub billable: bool,
    pub clocks: Vec<ClockRow>,
}

pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub side: String,
    pub author: String,
    pub body: String,
    pub pause: String,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    base: String,
    can_open: bool,
    services: Vec<(String, String)>,
    tickets: Vec<TicketRow>,
    filter: (String, String, String),
    states: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    criticalities: Vec<(String, String)>,
    error: Option<String>,
    /// "Page 2 / 200 — 10000 tickets".
    page_info: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    ticket: TicketRow,
    back: String,
    action_base: String,
    events: Vec<EventRow>,
    is_staff: bool,
    steps: Vec<(String, String)>,
    causes: Vec<(String, String)>,
    impacts: Vec<(String, String)>,
    error: Option<String>,
}

/// Codes shown as they are (levels, priorities, C1-C4, I1-I4).
fn plain(codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), (*c).to_owned()))
        .collect()
}

/// Codes with their label (`<prefix><code>` in the locale).
fn labelled(v: &Viewer, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), v.tr.t(&format!("{prefix}{c}")).to_owned()))
        .collect()
}

fn hm(secs: i64) -> String {
    format!("{} h {:02} min", secs / 3600, secs.abs() % 3600 / 60)
}

fn clock_rows(v: &Viewer, c: &Clocks) -> Vec<ClockRow> {
    [
        ("GTI", &c.deadlines.gti, &c.status.gti),
        ("GTR", &c.deadlines.gtr, &c.status.gtr),
    ]
    .into_iter()
    .filter_map(|(name, d, s)| {
        let (d, s) = (d.as_ref()?, s.as_ref()?);
        let state = serde_json::to_value(s.state)
            .ok()
            .and_then(|x| x.as_str().map(str::to_owned))
            .unwrap_or_default();
        Some(ClockRow {
            name,
            target: d.target.clone(),
            due: v.time(d.due_at),
            elapsed: hm(s.elapsed_seconds),
            remaining: hm(s.remaining_seconds),
            state: v.tr.t(&format!("tickets.clock_{state}")).to_owned(),
        })
    })
    .collect()
}

fn row(v: &Viewer, d: &TicketDetail) -> TicketRow {
    let t = &d.ticket;
    let left = tickets::time_left(&d.clocks);
    TicketRow {
        id: t.id.to_string(),
        reference: t.reference.clone(),
        level: t.support_level.clone(),
        criticality: t.criticality.clone(),
        impact: t.impact.clone().unwrap_or_else(|| "—".into()),
        priority: t.priority.clone(),
        downgraded: d.clocks.deadlines.priority.downgraded_from_p1,
        state: v.tr.t(&format!("tickets.state_{}", t.state)).to_owned(),
        opened_at: v.time(t.opened_at),
        complete: d.clocks.missing.is_empty(),
        // The notification's missing fields, named as the form labels them.
        missing: d
            .clocks
            .missing
            .iter()
            .map(|f| v.tr.t(&format!("tickets.{f}")).to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        suspended: !d.clocks.missing.is_empty() || t.state == "paused",
        left: if left == i64::MAX {
            "—".into()
        } else {
            hm(left)
        },
        breached: [&d.clocks.status.gti, &d.clocks.status.gtr]
            .into_iter()
            .flatten()
            .any(|s| s.state == ciel_engine::support::ClockState::Breached),
        description: t.description.clone(),
        cause: t.cause.clone().unwrap_or_default(),
        billable: t.billable,
        clocks: clock_rows(v, &d.clocks),
    }
}

/// Tickets a page of the portal's queue shows.
const PER_PAGE: i64 = 50;

/// Filter values are codes (letters, digits, '_'); anything else is
/// percent-encoded so a link cannot be bent.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn client(v: &Viewer) -> Result<&Principal, Response> {
    let p = v.require_client()?;
    if p.can(Permission::OpenTickets) || p.can(Permission::ViewServices) {
        Ok(p)
    } else {
        Err(v.not_found())
    }
}

async fn list_page(
    v: &Viewer,
    p: &Principal,
    q: &HashMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let pick = |k: &str| q.get(k).filter(|s| !s.is_empty()).cloned();
    let f = Filter {
        org_id: (!p.is_staff()).then(|| p.user.org_id.to_string()),
        state: pick("state"),
        level: pick("level"),
        priority: pick("priority"),
    };
    let page = q
        .get("page")
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let list = match tickets::queue(&v.state, p, &f, page, PER_PAGE).await {
        Ok(l) => l,
        Err(e) => return v.message(e.status_code(), "error.internal", "", None),
    };
    let base = if p.is_staff() {
        "/back-office"
    } else {
        "/espace-client"
    };
    let pages = ((list.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |n: i64| {
        let mut qs = vec![format!("page={n}")];
        for (k, v) in [
            ("level", &f.level),
            ("priority", &f.priority),
            ("state", &f.state),
        ] {
            if let Some(v) = v {
                qs.push(format!("{k}={}", urlencoding(v)));
            }
        }
        format!("{base}/tickets?{}", qs.join("&"))
    };
    let mut services = Vec::new();
    if !p.is_staff() {
        let db = v.state.store().db();
        if let Ok(page) =
            ciel_store::services::list(db, &p.scope, p.user.org_id.as_str(), None, 200).await
        {
            services = page
                .items
                .into_iter()
                .map(|s| (s.id.to_string(), s.label))
                .collect();
        }
    }
    v.render_status(
        status,
        ListPage {
            t: v.tr,
            ctx: v.ctx(),
            base: base.into(),
            can_open: p.can(Permission::OpenTickets),
            services,
            tickets: list.items.iter().map(|d| row(v, d)).collect(),
            page_info: format!(
                "{} {page} / {pages} — {} {}",
                v.tr.t("tickets.page"),
                list.total,
                v.tr.t("tickets.count")
            ),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
            filter: (
                f.level.unwrap_or_default(),
                f.priority.unwrap_or_default(),
                f.state.unwrap_or_default(),
            ),
            states: labelled(
                v,
                "tickets.state_",
                &["open", "paused", "restored", "closed"],
            ),
            levels: plain(&["standard", "premium", "platinum"]),
            priorities: plain(&["P1", "P2", "P3", "P4"]),
            criticalities: plain(&["C1", "C2", "C3", "C4"]),
            error,
        },
    )
}

async fn detail_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let d = match tickets::get(&v.state, p, id).await {
        Ok(d) => d,
        Err(_) => return v.not_found(),
    };
    let (back, action_base) = if p.is_staff() {
        (
            "/back-office/tickets".to_owned(),
            format!("/back-office/tickets/{id}"),
        )
    } else {
        (
            "/espace-client/tickets".to_owned(),
            format!("/espace-client/tickets/{id}"),
        )
    };
    v.render_status(
        status,
        DetailPage {
            t: v.tr,
            ctx: v.ctx(),
            ticket: row(v, &d),
            back,
            action_base,
            events: d
                .events
                .iter()
                .map(|e| EventRow {
                    at: v.time(e.occurred_at),
                    kind: v.tr.t(&format!("tickets.event_{}", e.kind)).to_owned(),
                    side: e.side.clone(),
                    author: e.author.clone(),
                    body: e.body.clone(),
                    pause: match (&e.pause_reason, &e.request_ref) {
                        (Some(r), Some(w)) => format!("{r} — {w}"),
                        _ => String::new(),
                    },
                })
                .collect(),
            is_staff: p.is_staff(),
            steps: labelled(
                v,
                "tickets.do_",
                &["acknowledge", "resume", "restore", "close"],
            ),
            causes: labelled(
                v,
                "tickets.cause_",
                &[
                    "provider_scope",
                    "client_equipment",
                    "abnormal_use",
                    "fraudulent_use",
                ],
            ),
            impacts: plain(&["I1", "I2", "I3", "I4"]),
            error,
        },
    )
}

fn opt(form: &Form, k: &str) -> Option<String> {
    Some(form.get(k).to_owned()).filter(|s| !s.trim().is_empty())
}

fn notification(form: &Form) -> Notification {
    Notification {
        caller: opt(form, "caller"),
        caller_authorisation: opt(form, "caller_authorisation"),
        sites: opt(form, "sites"),
        service_type: opt(form, "service_type"),
        description: opt(form, "description"),
        consequences: opt(form, "consequences"),
        contact: opt(form, "contact"),
    }
}

pub async fn client_list(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    match client(&v) {
        Ok(p) => list_page(&v, p, &q, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// A client user opens a ticket from the client space.
pub async fn client_open(v: Viewer, form: Form) -> Response {
    let p = match client(&v) {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let input = OpenInput {
        service_ids: vec![form.get("service_id").to_owned()],
        criticality: form.get("criticality").to_owned(),
        notification: notification(&form),
    };
    match tickets::open(&v.state, &p, p.user.org_id.as_str(), input).await {
        Ok(d) => done(
            &format!("/espace-client/tickets/{}", d.ticket.id),
            "tickets.opened",
        ),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => {
            let text = v.problem_text(&e);
            list_page(&v, &p, &HashMap::new(), Some(text), e.status_code()).await
        }
    }
}

pub async fn client_ticket(v: Viewer, Path(id): Path<String>) -> Response {
    match client(&v) {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn staff_queue(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    match v.require_staff() {
        Ok(p) => list_page(&v, p, &q, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn staff_ticket(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

fn action(form: &Form, what: &str) -> Result<Action, Problem> {
    Ok(match what {
        "notification" => Action::Notification(notification(form)),
        "messages" => Action::Message(form.get("body").to_owned()),
        "impact" => Action::Impact(form.get("impact").to_owned()),
        "acknowledge" => Action::Acknowledge,
        "pause" => Action::Pause {
            reason: opt(form, "reason"),
            request_ref: opt(form, "request_ref"),
        },
        "resume" => Action::Resume,
        "restore" => Action::Restore,
        "close" => Action::Close,
        "cause" => Action::Cause(form.get("cause").to_owned()),
        _ => return Err(Problem::not_found()),
    })
}

async fn run(v: &Viewer, p: &Principal, id: &str, form: &Form, what: &str) -> Result<(), Problem> {
    let actor = v.actor_for(p, form)?;
    tickets::act(&v.state, &actor, id, action(form, what)?).await?;
    Ok(())
}

/// A step or message from a ticket's page (client: messages and the
/// notification; staff: every step).
pub async fn ticket_action(
    v: Viewer,
    Path((id, what)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.require_login() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let base = if p.is_staff() {
        "/back-office"
    } else {
        "/espace-client"
    };
    if !v.path.starts_with(base) {
        return v.not_found();
    }
    match run(&v, &p, &id, &form, &what).await {
        Ok(()) => done(&format!("{base}/tickets/{id}"), "tickets.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(&v, &p, &id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}
