//! Support desk tickets in the API (issue 5, items 1-2; R4.2-R4.5): opening
//! (client users 24/7, staff from a call), the notification, the staff steps
//! (impact, acknowledgement, pauses, restoration, closure, cause) and the
//! conversation. Every answer carries the live GTI/GTR clocks computed at
//! the request's instant. Refused steps answer 409 `invalid_transition` or
//! 422 naming the rule, and write nothing.

use super::ApiJson;
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use crate::tickets::{self, Action, Clocks, Notification, OpenInput, TicketDetail};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ciel_engine::Lang;
use ciel_engine::support::{ClockState, ClockStatus, Deadline};
use ciel_store::tickets::{Event, Filter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A ticket to open. Missing notification fields are allowed: the ticket is
/// flagged incomplete and its clocks are suspended until completed (R4.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// The client's services concerned (at least one).
    pub service_ids: Vec<String>,
    /// The client's criticality: C1-C4 (R4.2).
    pub criticality: String,
    pub caller: Option<String>,
    pub caller_authorisation: Option<String>,
    pub sites: Option<String>,
    pub service_type: Option<String>,
    pub description: Option<String>,
    pub consequences: Option<String>,
    pub contact: Option<String>,
}

/// The notification's fields (R4.4, CG 14.3); absent or blank fields are unchanged.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRequest {
    /// Who calls or writes.
    pub caller: Option<String>,
    /// Their authorisation to act for the client.
    pub caller_authorisation: Option<String>,
    /// Impacted sites.
    pub sites: Option<String>,
    /// Type of service.
    pub service_type: Option<String>,
    /// What happens.
    pub description: Option<String>,
    /// Its consequences.
    pub consequences: Option<String>,
    /// A contact to keep informed.
    pub contact: Option<String>,
}

impl From<NotificationRequest> for Notification {
    fn from(r: NotificationRequest) -> Self {
        Notification {
            caller: r.caller,
            caller_authorisation: r.caller_authorisation,
            sites: r.sites,
            service_type: r.service_type,
            description: r.description,
            consequences: r.consequences,
            contact: r.contact,
        }
    }
}

/// Staff's impact assessment (R4.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// I1-I4.
    pub impact: String,
}

/// A pause of the clocks (R4.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// `site_access_request` or `client_or_third_party_action` (required).
    pub reason: Option<String>,
    /// The written request behind it (e-mail, letter reference; required).
    pub request_ref: Option<String>,
}

/// A message of the conversation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub body: String,
}

/// Staff's classification of the cause (R4.5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseRequest {
    /// `provider_scope`, `client_equipment`, `abnormal_use` or `fraudulent_use`.
    pub cause: String,
}

/// Filters of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open`, `paused`, `restored` or `closed`.
    pub state: Option<String>,
    /// `standard`, `premium` or `platinum`.
    pub level: Option<String>,
    /// `P1`-`P4`.
    pub priority: Option<String>,
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Tickets a page, 1 to 200 (default 50).
    pub per_page: Option<i64>,
}

/// One clock (GTI or GTR) at the request's instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    /// Commitment as written: "4 h", "1 JO".
    pub target: String,
    pub calendar: String,
    /// The deadline (moved by suspensions; a running one counted to now).
    #[schema(value_type = String, format = DateTime)]
    pub due_at: jiff::Timestamp,
    pub due_at_local: String,
    pub elapsed_seconds: i64,
    pub remaining_seconds: i64,
    /// `running`, `met` or `breached`.
    pub state: String,
}

/// The live clocks of a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClocksView {
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    /// The matrix's priority (R4.2).
    pub matrix_priority: String,
    /// The priority handled as.
    pub priority: String,
    /// Standard support has no P1: handled as P2 (R4.2 decision).
    pub downgraded_from_p1: bool,
    /// The impact is not set yet: I1 assumed.
    pub impact_provisional: bool,
    /// The clocks are suspended (incomplete notification or pause).
    pub suspended: bool,
    /// None when the priority has no commitment (P4, Standard P1).
    pub gti: Option<ClockView>,
    pub gtr: Option<ClockView>,
    pub explanation_fr: String,
    pub explanation_en: String,
}

/// A ticket with its live clocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: String,
    pub org_id: String,
    pub reference: String,
    pub service_ids: Vec<String>,
    /// `client_space`, `api` or `phone`.
    pub channel: String,
    pub caller: String,
    pub caller_authorisation: String,
    pub sites: String,
    pub service_type: String,
    pub description: String,
    pub consequences: String,
    pub contact: String,
    /// The notification is complete (R4.4).
    pub notification_complete: bool,
    /// The fields still missing.
    pub missing: Vec<String>,
    pub criticality: String,
    pub impact: Option<String>,
    pub priority: String,
    pub support_level: String,
    /// `open`, `paused`, `restored` or `closed`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub restored_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
    /// R4.5 classification.
    pub cause: Option<String>,
    pub billable: bool,
    pub opened_by: String,
    pub clocks: ClocksView,
}

/// A step or message of a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// `opened`, `message`, `completed`, `impact`, `acknowledged`, `paused`,
    /// `resumed`, `restored`, `closed`, `classified`, `alerted`.
    pub kind: String,
    /// `client`, `staff` or `system`.
    pub side: String,
    pub author: String,
    pub body: String,
    pub pause_reason: Option<String>,
    pub request_ref: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: jiff::Timestamp,
}

/// A ticket with its conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetailView {
    pub ticket: TicketView,
    pub events: Vec<EventView>,
}

/// One page of tickets, the nearest deadline first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub items: Vec<TicketView>,
    /// Tickets matching the filters, on every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

fn code<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn clock(d: &Option<Deadline>, s: &Option<ClockStatus>) -> Option<ClockView> {
    let (d, s) = (d.as_ref()?, s.as_ref()?);
    Some(ClockView {
        target: d.target.clone(),
        calendar: d.calendar.clone(),
        due_at: d.due_at,
        due_at_local: d.due_at_local.clone(),
        elapsed_seconds: s.elapsed_seconds,
        remaining_seconds: s.remaining_seconds,
        state: code::<ClockState>(s.state),
    })
}

pub fn clocks_view(c: &Clocks, state: &str) -> ClocksView {
    let p = &c.deadlines.priority;
    ClocksView {
        at: c.at,
        matrix_priority: code(p.matrix),
        priority: code(p.priority),
        downgraded_from_p1: p.downgraded_from_p1,
        impact_provisional: c.impact_provisional,
        suspended: !c.missing.is_empty() || state == "paused",
        gti: clock(&c.deadlines.gti, &c.status.gti),
        gtr: clock(&c.deadlines.gtr, &c.status.gtr),
        explanation_fr: c.explanation.render(Lang::Fr),
        explanation_en: c.explanation.render(Lang::En),
    }
}

pub fn ticket_view(d: &TicketDetail) -> TicketView {
    let t = &d.ticket;
    TicketView {
        id: t.id.to_string(),
        org_id: t.org_id.to_string(),
        reference: t.reference.clone(),
        service_ids: t.service_ids.clone(),
        channel: t.channel.clone(),
        caller: t.caller.clone(),
        caller_authorisation: t.caller_authorisation.clone(),
        sites: t.sites.clone(),
        service_type: t.service_type.clone(),
        description: t.description.clone(),
        consequences: t.consequences.clone(),
        contact: t.contact.clone(),
        notification_complete: d.clocks.missing.is_empty(),
        missing: d.clocks.missing.iter().map(|m| (*m).to_owned()).collect(),
        criticality: t.criticality.clone(),
        impact: t.impact.clone(),
        priority: t.priority.clone(),
        support_level: t.support_level.clone(),
        state: t.state.clone(),
        opened_at: t.opened_at,
        completed_at: t.completed_at,
        acknowledged_at: t.acknowledged_at,
        restored_at: t.restored_at,
        closed_at: t.closed_at,
        cause: t.cause.clone(),
        billable: t.billable,
        opened_by: t.opened_by.clone(),
        clocks: clocks_view(&d.clocks, &t.state),
    }
}

fn event_view(e: &Event) -> EventView {
    EventView {
        id: e.id.to_string(),
        kind: e.kind.clone(),
        side: e.side.clone(),
        author: e.author.clone(),
        body: e.body.clone(),
        pause_reason: e.pause_reason.clone(),
        request_ref: e.request_ref.clone(),
        occurred_at: e.occurred_at,
    }
}

pub fn detail_view(d: &TicketDetail) -> TicketDetailView {
    TicketDetailView {
        ticket: ticket_view(d),
        events: d.events.iter().map(event_view).collect(),
    }
}

/// The tickets of an organisation, the least time left first.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/tickets", tag = "tickets",
    params(("org_id" = String, Path), QueueQuery),
    responses((status = 200, body = TicketList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tickets(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<TicketList>> {
    queue_of(&s, &p, Some(org_id), q).await
}

/// The staff's queue (a client sees its own tickets), paginated: running
/// clocks by their nearest deadline (breached first), then suspended clocks
/// by the time they have left, then the others; filtered by state, support
/// level and priority.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    params(QueueQuery),
    responses((status = 200, body = TicketList), (status = 403, body = Problem)))]
pub async fn queue(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<TicketList>> {
    queue_of(&s, &p, None, q).await
}

async fn queue_of(
    s: &AppState,
    p: &Principal,
    org_id: Option<String>,
    q: QueueQuery,
) -> ApiResult<Json<TicketList>> {
    let f = Filter {
        org_id,
        state: q.state,
        level: q.level,
        priority: q.priority,
    };
    let page = tickets::queue(s, p, &f, q.page.unwrap_or(1), q.per_page.unwrap_or(50)).await?;
    Ok(Json(TicketList {
        items: page.items.iter().map(ticket_view).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Opens a ticket: a client user with the open-tickets permission (24/7), or
/// staff from a phone call with the call's time in `Ciel-Occurred-At`.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/tickets", tag = "tickets",
    params(("org_id" = String, Path),
        ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: the call's real time (RFC 3339)")),
    request_body = OpenRequest,
    responses((status = 201, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn open_ticket(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<OpenRequest>,
) -> ApiResult<(StatusCode, Json<TicketDetailView>)> {
    let d = tickets::open(
        &s,
        &p,
        &org_id,
        OpenInput {
            service_ids: r.service_ids,
            criticality: r.criticality,
            notification: Notification {
                caller: r.caller,
                caller_authorisation: r.caller_authorisation,
                sites: r.sites,
                service_type: r.service_type,
                description: r.description,
                consequences: r.consequences,
                contact: r.contact,
            },
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(detail_view(&d))))
}

/// A ticket with its conversation and live clocks.
#[utoipa::path(get, path = "/api/v1/tickets/{ticket_id}", tag = "tickets",
    params(("ticket_id" = String, Path)),
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_ticket(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
) -> ApiResult<Json<TicketDetailView>> {
    Ok(Json(detail_view(&tickets::get(&s, &p, &ticket_id).await?)))
}

async fn act(
    s: &AppState,
    p: &Principal,
    id: &str,
    a: Action,
) -> ApiResult<Json<TicketDetailView>> {
    Ok(Json(detail_view(&tickets::act(s, p, id, a).await?)))
}

macro_rules! step {
    ($name:ident, $path:literal, $doc:literal, $action:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "tickets",
            params(("ticket_id" = String, Path),
                ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: when it really happened (RFC 3339)")),
            responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
                (status = 409, body = Problem)))]
        pub async fn $name(
            State(s): State<AppState>,
            p: Principal,
            Path(ticket_id): Path<String>,
        ) -> ApiResult<Json<TicketDetailView>> {
            act(&s, &p, &ticket_id, $action).await
        }
    };
}

step!(
    acknowledge,
    "/api/v1/tickets/{ticket_id}/acknowledge",
    "Staff acknowledge the ticket: stops the GTI (R4.3).",
    Action::Acknowledge
);
step!(
    resume,
    "/api/v1/tickets/{ticket_id}/resume",
    "Staff end a pause (access given, the client or third party acted; R4.4).",
    Action::Resume
);
step!(
    restore,
    "/api/v1/tickets/{ticket_id}/restore",
    "Staff record the restoration: stops the GTR (R4.3). Needs acknowledgement.",
    Action::Restore
);
step!(
    close,
    "/api/v1/tickets/{ticket_id}/close",
    "Staff close a restored ticket: the client is e-mailed the interruption's duration (R4.4).",
    Action::Close
);

/// Completes or corrects the notification (client or staff); once complete
/// the suspension for incompleteness ends (R4.4).
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/notification", tag = "tickets",
    params(("ticket_id" = String, Path),
        ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: when it was completed (RFC 3339)")),
    request_body = NotificationRequest,
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
    ApiJson(r): ApiJson<NotificationRequest>,
) -> ApiResult<Json<TicketDetailView>> {
    act(&s, &p, &ticket_id, Action::Notification(r.into())).await
}

/// Staff set the impact; the priority follows the matrix (R4.2).
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/impact", tag = "tickets",
    params(("ticket_id" = String, Path)),
    request_body = ImpactRequest,
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_impact(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
    ApiJson(r): ApiJson<ImpactRequest>,
) -> ApiResult<Json<TicketDetailView>> {
    act(&s, &p, &ticket_id, Action::Impact(r.impact)).await
}

/// Staff pause the clocks with an R4.4 reason and the written request.
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/pause", tag = "tickets",
    params(("ticket_id" = String, Path),
        ("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: when the request was sent (RFC 3339)")),
    request_body = PauseRequest,
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn pause(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
    ApiJson(r): ApiJson<PauseRequest>,
) -> ApiResult<Json<TicketDetailView>> {
    let a = Action::Pause {
        reason: r.reason,
        request_ref: r.request_ref,
    };
    act(&s, &p, &ticket_id, a).await
}

/// A message of the conversation (client or staff).
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/messages", tag = "tickets",
    params(("ticket_id" = String, Path)),
    request_body = MessageRequest,
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn message(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
    ApiJson(r): ApiJson<MessageRequest>,
) -> ApiResult<Json<TicketDetailView>> {
    act(&s, &p, &ticket_id, Action::Message(r.body)).await
}

/// Staff classify the cause; from the third out-of-scope ticket in twelve
/// months the ticket is billable, handed to billing and the client told (R4.5).
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/cause", tag = "tickets",
    params(("ticket_id" = String, Path)),
    request_body = CauseRequest,
    responses((status = 200, body = TicketDetailView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn classify(
    State(s): State<AppState>,
    p: Principal,
    Path(ticket_id): Path<String>,
    ApiJson(r): ApiJson<CauseRequest>,
) -> ApiResult<Json<TicketDetailView>> {
    act(&s, &p, &ticket_id, Action::Cause(r.cause)).await
}
