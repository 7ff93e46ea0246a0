//! Support desk tickets (R4.2-R4.5): the ticket with its notification,
//! clocks' instants and classification, and its events (the conversation
//! and every step). Tenant data read and written through the [`Scope`],
//! every change audited in its transaction. Deadlines are never stored: the
//! engine computes them from these rows at the instant asked about.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefixes.
pub const PREFIX: &str = "tkt";
pub const EVENT_PREFIX: &str = "tke";

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: Id,
    pub org_id: Id,
    pub reference: String,
    pub service_ids: Vec<String>,
    pub channel: String,
    pub caller: String,
    pub caller_authorisation: String,
    pub sites: String,
    pub service_type: String,
    pub description: String,
    pub consequences: String,
    pub contact: String,
    pub criticality: String,
    pub impact: Option<String>,
    pub priority: String,
    pub support_level: String,
    pub terms_version: String,
    pub state: String,
    pub opened_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub restored_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub cause: Option<String>,
    pub billable: bool,
    pub opened_by: String,
    pub version: i64,
    pub created_at: Timestamp,
}

/// An event of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: Id,
    pub org_id: Id,
    pub ticket_id: String,
    pub kind: String,
    pub side: String,
    pub author: String,
    pub body: String,
    pub pause_reason: Option<String>,
    pub request_ref: Option<String>,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub side: &'static str,
    pub author: String,
    pub body: String,
    pub pause_reason: Option<String>,
    pub request_ref: Option<String>,
    pub occurred_at: Timestamp,
}

/// What the queue is filtered by (all optional).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org_id: Option<String>,
    pub state: Option<String>,
    pub level: Option<String>,
    pub priority: Option<String>,
}

const COLUMNS: &str = "id, org_id, reference, service_ids, channel, caller, caller_authorisation, \
    sites, service_type, description, consequences, contact, criticality, impact, priority, \
    support_level, terms_version, state, opened_at, completed_at, acknowledged_at, restored_at, \
    closed_at, cause, billable, opened_by, version, created_at";
const EVENT: &str = "id, org_id, ticket_id, kind, side, author, body, pause_reason, request_ref, \
    occurred_at, created_at";

fn opt_time(r: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(time::from_db))
}

fn ticket(r: &AnyRow) -> Result<Ticket> {
    let services: String = r.try_get("service_ids")?;
    Ok(Ticket {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        reference: r.try_get("reference")?,
        service_ids: serde_json::from_str(&services)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        channel: r.try_get("channel")?,
        caller: r.try_get("caller")?,
        caller_authorisation: r.try_get("caller_authorisation")?,
        sites: r.try_get("sites")?,
        service_type: r.try_get("service_type")?,
        description: r.try_get("description")?,
        consequences: r.try_get("consequences")?,
        contact: r.try_get("contact")?,
        criticality: r.try_get("criticality")?,
        impact: r.try_get("impact")?,
        priority: r.try_get("priority")?,
        support_level: r.try_get("support_level")?,
        terms_version: r.try_get("terms_version")?,
        state: r.try_get("state")?,
        opened_at: time::from_db(r.try_get("opened_at")?),
        completed_at: opt_time(r, "completed_at")?,
        acknowledged_at: opt_time(r, "acknowledged_at")?,
        restored_at: opt_time(r, "restored_at")?,
        closed_at: opt_time(r, "closed_at")?,
        cause: r.try_get("cause")?,
        billable: r.try_get::<i64, _>("billable")? != 0,
        opened_by: r.try_get("opened_by")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn event(r: &AnyRow) -> Result<Event> {
    Ok(Event {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        ticket_id: r.try_get("ticket_id")?,
        kind: r.try_get("kind")?,
        side: r.try_get("side")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        pause_reason: r.try_get("pause_reason")?,
        request_ref: r.try_get("request_ref")?,
        occurred_at: time::from_db(r.try_get("occurred_at")?),
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// The next reference of `year` (`T-2026-000123`), from the counter row the
/// upsert locks until the transaction ends.
async fn next_reference(tx: &mut Tx, year: i16) -> Result<String> {
    let mut q = Sql::new("INSERT INTO ticket_counters (year, last) VALUES (");
    q.bind(i64::from(year)).push(
        ", 1) ON CONFLICT (year) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last",
    );
    let n: i64 = q.query().fetch_one(&mut **tx).await?.try_get("last")?;
    Ok(format!("T-{year}-{n:06}"))
}

/// Creates a ticket (its reference taken from the year of `opened_at`, in
/// the given zone) with its `opened` event; audited.
pub async fn open(tx: &mut Tx, actor: &Actor, mut t: Ticket, year: i16) -> Result<Ticket> {
    let now = actor.recorded_at;
    t.id = new_id(PREFIX, now);
    t.reference = next_reference(tx, year).await?;
    t.version = 0;
    t.created_at = now;
    let mut q = Sql::new(&format!("INSERT INTO tickets ({COLUMNS}) VALUES ("));
    bind_all(&mut q, &t);
    q.push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &t.org_id,
        "ticket.open",
        "ticket",
        t.id.as_str(),
        &t,
    )
    .await?;
    Ok(t)
}

fn bind_all(q: &mut Sql, t: &Ticket) {
    let services = serde_json::to_string(&t.service_ids).unwrap_or_else(|_| "[]".into());
    q.bind(&t.id).push(", ").bind(&t.org_id).push(", ");
    q.bind(t.reference.as_str())
        .push(", ")
        .bind(services)
        .push(", ");
    for v in [
        &t.channel,
        &t.caller,
        &t.caller_authorisation,
        &t.sites,
        &t.service_type,
        &t.description,
        &t.consequences,
        &t.contact,
        &t.criticality,
    ] {
        q.bind(v.as_str()).push(", ");
    }
    q.bind(t.impact.clone()).push(", ");
    for v in [&t.priority, &t.support_level, &t.terms_version, &t.state] {
        q.bind(v.as_str()).push(", ");
    }
    q.bind(t.opened_at)
        .push(", ")
        .bind(t.completed_at)
        .push(", ");
    q.bind(t.acknowledged_at)
        .push(", ")
        .bind(t.restored_at)
        .push(", ");
    q.bind(t.closed_at)
        .push(", ")
        .bind(t.cause.clone())
        .push(", ");
    q.bind(i64::from(t.billable))
        .push(", ")
        .bind(t.opened_by.as_str())
        .push(", ");
    q.bind(t.version).push(", ").bind(t.created_at);
}

/// Saves the changed ticket `after` (read at `before.version`) with the
/// event that changed it; audited with both states. A ticket changed
/// meanwhile gives [`StoreError::Conflict`] (`version`).
pub async fn change(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &Ticket,
    after: &Ticket,
    ev: NewEvent,
) -> Result<(Ticket, Event)> {
    let mut a = after.clone();
    a.version = before.version + 1;
    let mut q = Sql::new("UPDATE tickets SET caller = ");
    q.bind(a.caller.as_str()).push(", caller_authorisation = ");
    q.bind(a.caller_authorisation.as_str()).push(", sites = ");
    q.bind(a.sites.as_str()).push(", service_type = ");
    q.bind(a.service_type.as_str()).push(", description = ");
    q.bind(a.description.as_str()).push(", consequences = ");
    q.bind(a.consequences.as_str()).push(", contact = ");
    q.bind(a.contact.as_str()).push(", impact = ");
    q.bind(a.impact.clone()).push(", priority = ");
    q.bind(a.priority.as_str()).push(", state = ");
    q.bind(a.state.as_str()).push(", completed_at = ");
    q.bind(a.completed_at).push(", acknowledged_at = ");
    q.bind(a.acknowledged_at).push(", restored_at = ");
    q.bind(a.restored_at).push(", closed_at = ");
    q.bind(a.closed_at).push(", cause = ");
    q.bind(a.cause.clone()).push(", billable = ");
    q.bind(i64::from(a.billable)).push(", version = ");
    q.bind(a.version).push(" WHERE id = ").bind(&a.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("version"));
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&a.org_id),
            action,
            entity_kind: "ticket",
            entity_id: a.id.as_str(),
            before: Some(before),
            after: Some(&a),
        },
    )
    .await?;
    let e = add_event(tx, actor, &a, ev).await?;
    Ok((a, e))
}

/// Records an event on a ticket (a message, an alert); audited.
pub async fn add_event(tx: &mut Tx, actor: &Actor, t: &Ticket, ev: NewEvent) -> Result<Event> {
    let now = actor.recorded_at;
    let e = Event {
        id: new_id(EVENT_PREFIX, now),
        org_id: t.org_id.clone(),
        ticket_id: t.id.to_string(),
        kind: ev.kind.into(),
        side: ev.side.into(),
        author: ev.author,
        body: ev.body,
        pause_reason: ev.pause_reason,
        request_ref: ev.request_ref,
        occurred_at: ev.occurred_at,
        created_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO ticket_events ({EVENT}) VALUES ("));
    q.bind(&e.id).push(", ").bind(&e.org_id).push(", ");
    q.bind(e.ticket_id.as_str())
        .push(", ")
        .bind(e.kind.as_str())
        .push(", ");
    q.bind(e.side.as_str())
        .push(", ")
        .bind(e.author.as_str())
        .push(", ");
    q.bind(e.body.as_str())
        .push(", ")
        .bind(e.pause_reason.clone())
        .push(", ");
    q.bind(e.request_ref.clone())
        .push(", ")
        .bind(e.occurred_at)
        .push(", ");
    q.bind(e.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audit::created(
        &mut **tx,
        actor,
        &e.org_id,
        &format!("ticket.{}", e.kind),
        "ticket_event",
        e.id.as_str(),
        &e,
    )
    .await?;
    Ok(e)
}

/// A ticket visible to `scope`; another organisation's is not found.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Ticket> {
    crate::get_scoped(ex, scope, "tickets", COLUMNS, id, ticket).await
}

/// Where a ticket stands in the queue (see migration 0014): `tier` then
/// `key` ascending, computed by the engine at each change of its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    pub tier: i64,
    pub key: i64,
}

/// Stores a ticket's queue rank (derived from its audited rows, in the
/// transaction that changed them).
pub async fn set_rank<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    rank: Rank,
) -> Result<()> {
    let mut q = Sql::new("UPDATE tickets SET queue_tier = ");
    q.bind(rank.tier).push(", queue_key = ").bind(rank.key);
    q.push(" WHERE id = ").bind(id);
    q.query().execute(ex).await?;
    Ok(())
}

fn filtered(select: &str, scope: &Scope, f: &Filter) -> Sql {
    let mut q = Sql::new(&format!("SELECT {select} FROM tickets WHERE 1 = 1"));
    scope.restrict(&mut q, "org_id");
    for (col, v) in [
        ("org_id", &f.org_id),
        ("state", &f.state),
        ("support_level", &f.level),
        ("priority", &f.priority),
    ] {
        if let Some(v) = v {
            q.push(" AND ").push(col).push(" = ").bind(v.as_str());
        }
    }
    q
}

/// One page of the queue visible to `scope` matching `f`, in rank order,
/// and how many tickets match: two indexed queries whatever the page.
pub async fn queue_page<'e, E: Executor<'e, Database = Any> + Copy>(
    ex: E,
    scope: &Scope,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Ticket>, i64)> {
    let total: i64 = filtered("COUNT(*) AS n", scope, f)
        .query()
        .fetch_one(ex)
        .await?
        .try_get("n")?;
    let mut q = filtered(COLUMNS, scope, f);
    q.push(" ORDER BY queue_tier, queue_key, id LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    let items = q
        .query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(ticket)
        .collect::<Result<_>>()?;
    Ok((items, total))
}

/// Tickets whose rank was never computed (opened before migration 0014).
pub async fn unranked<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Ticket>> {
    Sql::new(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE queue_tier IS NULL ORDER BY id"
    ))
    .query()
    .fetch_all(ex)
    .await?
    .iter()
    .map(ticket)
    .collect()
}

/// The unclosed tickets naming one of `services` (a maintenance window on
/// them moves their clocks).
pub async fn unclosed_on_services<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    services: &[String],
) -> Result<Vec<Ticket>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE state <> 'closed' AND (1 = 0"
    ));
    for s in services {
        // `service_ids` is a JSON array of identifiers, which hold no quote.
        q.push(" OR service_ids LIKE ").bind(format!("%\"{s}\"%"));
    }
    q.push(") ORDER BY id");
    q.query().fetch_all(ex).await?.iter().map(ticket).collect()
}

/// The classified tickets of an organisation opened since `since` (R4.5's
/// window): (id, opened_at, cause).
pub async fn classified_since<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &str,
    since: Timestamp,
) -> Result<Vec<(String, Timestamp, String)>> {
    let mut q = Sql::new("SELECT id, opened_at, cause FROM tickets WHERE org_id = ");
    q.bind(org_id)
        .push(" AND cause IS NOT NULL AND opened_at >= ");
    q.bind(since).push(" ORDER BY opened_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                time::from_db(r.try_get("opened_at")?),
                r.try_get("cause")?,
            ))
        })
        .collect()
}

/// The events of a ticket visible to `scope`, in order.
pub async fn events<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    ticket_id: &str,
) -> Result<Vec<Event>> {
    let mut q = Sql::new(&format!(
        "SELECT {EVENT} FROM ticket_events WHERE ticket_id = "
    ));
    q.bind(ticket_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY occurred_at, id");
    q.query().fetch_all(ex).await?.iter().map(event).collect()
}

/// The events of several tickets visible to `scope`, in order (one query
/// for a page of the queue).
pub async fn events_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    ticket_ids: &[&str],
) -> Result<Vec<Event>> {
    if ticket_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(&format!(
        "SELECT {EVENT} FROM ticket_events WHERE ticket_id IN ("
    ));
    for (i, id) in ticket_ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*id);
    }
    q.push(")");
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY ticket_id, occurred_at, id");
    q.query().fetch_all(ex).await?.iter().map(event).collect()
}

/// The `item_json` of the support services of an organisation (R4.1).
pub async fn support_items<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<String>> {
    crate::services::items_of_kind(ex, scope, org_id, "support").await
}
