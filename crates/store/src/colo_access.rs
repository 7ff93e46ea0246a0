//! Datacenter access facts (R11.1-R11.2): the people a client declares,
//! temporary access requests, permanent nominative badges with their
//! history, and prevention plans. Tenant data read through the [`Scope`];
//! every change audited in its transaction. Whether a person may enter is
//! never stored: the `operations` crate decides it from these rows
//! ([`desk_facts`] reads what one check needs through indexes).

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use std::collections::HashMap;

/// Identifier prefixes.
pub const PERSON: &str = "cpn";
pub const REQUEST: &str = "car";
pub const BADGE: &str = "cbd";
pub const PLAN: &str = "cpp";
pub const VISIT: &str = "cvs";

/// A person a client declared (R11.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PersonRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub name: String,
    pub id_kind: String,
    pub company: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub removed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl PersonRow {
    /// Declared at `at`: not yet removed.
    pub fn declared_at(&self, at: Timestamp) -> bool {
        self.removed_at.is_none_or(|r| at < r)
    }
}

/// A temporary access request with the people it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub site: String,
    #[schema(value_type = String, format = DateTime)]
    pub window_start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub window_end: Timestamp,
    pub purpose: String,
    pub companions: Vec<String>,
    /// `pending`, `approved`, `refused` or `cancelled`.
    pub status: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub decision_note: String,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Person identifiers, sorted.
    pub people: Vec<String>,
}

/// A request to record.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub org_id: Id,
    pub site: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub purpose: String,
    pub companions: Vec<String>,
    pub people: Vec<String>,
}

/// One event of a badge's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BadgeEventRow {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `issued`, `suspended`, `reactivated` or `revoked`.
    pub kind: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_until: Option<Timestamp>,
    pub note: String,
}

/// A permanent nominative badge with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BadgeRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub person_id: String,
    pub site: String,
    /// After the last event: `active`, `suspended` or `revoked`.
    pub state: String,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub events: Vec<BadgeEventRow>,
}

/// A prevention plan (R11.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub site: String,
    #[schema(value_type = String, format = DateTime)]
    pub signed_at: Timestamp,
    pub signatory: String,
    pub preventer: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reminder_sent_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A visit announced at a badge site with its companions (R11.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VisitRow {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub org_id: Id,
    pub site: String,
    /// The declared badge holder the companions come with.
    pub host_person_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub window_start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub window_end: Timestamp,
    pub purpose: String,
    pub companions: Vec<String>,
    /// When the client announced them: before the window starts.
    #[schema(value_type = String, format = DateTime)]
    pub notified_at: Timestamp,
    pub notified_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub org_id: Id,
    pub site: String,
    pub host_person_id: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub purpose: String,
    pub companions: Vec<String>,
    pub notified_at: Timestamp,
    pub notified_by: String,
}

const VISIT_COLUMNS: &str = "id, org_id, site, host_person_id, window_start, window_end, \
    purpose, companions_json, notified_at, notified_by, created_at";

fn visit(r: &AnyRow) -> Result<VisitRow> {
    let companions: String = r.try_get("companions_json")?;
    Ok(VisitRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        site: r.try_get("site")?,
        host_person_id: r.try_get("host_person_id")?,
        window_start: time::from_db(r.try_get("window_start")?),
        window_end: time::from_db(r.try_get("window_end")?),
        purpose: r.try_get("purpose")?,
        companions: serde_json::from_str(&companions)
            .map_err(|e| StoreError::Corrupt(format!("companions: {e}")))?,
        notified_at: time::from_db(r.try_get("notified_at")?),
        notified_by: r.try_get("notified_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

const PERSON_COLUMNS: &str = "id, org_id, name, id_kind, company, removed_at, created_at";
const REQUEST_COLUMNS: &str = "id, org_id, site, window_start, window_end, purpose, \
    companions_json, status, decided_at, decided_by, decision_note, version, created_at";
const BADGE_COLUMNS: &str = "id, org_id, person_id, site, state, version, created_at";
const PLAN_COLUMNS: &str =
    "id, org_id, site, signed_at, signatory, preventer, reminder_sent_at, created_at";

fn person(r: &AnyRow) -> Result<PersonRow> {
    Ok(PersonRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        name: r.try_get("name")?,
        id_kind: r.try_get("id_kind")?,
        company: r.try_get("company")?,
        removed_at: time::opt_from_db(r.try_get("removed_at")?),
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn request(r: &AnyRow) -> Result<RequestRow> {
    let companions: String = r.try_get("companions_json")?;
    Ok(RequestRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        site: r.try_get("site")?,
        window_start: time::from_db(r.try_get("window_start")?),
        window_end: time::from_db(r.try_get("window_end")?),
        purpose: r.try_get("purpose")?,
        companions: serde_json::from_str(&companions)
            .map_err(|e| StoreError::Corrupt(format!("companions: {e}")))?,
        status: r.try_get("status")?,
        decided_at: time::opt_from_db(r.try_get("decided_at")?),
        decided_by: r.try_get("decided_by")?,
        decision_note: r.try_get("decision_note")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        people: Vec::new(),
    })
}

fn badge(r: &AnyRow) -> Result<BadgeRow> {
    Ok(BadgeRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        person_id: r.try_get("person_id")?,
        site: r.try_get("site")?,
        state: r.try_get("state")?,
        version: r.try_get("version")?,
        created_at: time::from_db(r.try_get("created_at")?),
        events: Vec::new(),
    })
}

fn plan(r: &AnyRow) -> Result<PlanRow> {
    Ok(PlanRow {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        site: r.try_get("site")?,
        signed_at: time::from_db(r.try_get("signed_at")?),
        signatory: r.try_get("signatory")?,
        preventer: r.try_get("preventer")?,
        reminder_sent_at: time::opt_from_db(r.try_get("reminder_sent_at")?),
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Appends `(v1, v2, ...)` bound.
pub(crate) fn in_list<'a>(q: &mut Sql, values: impl IntoIterator<Item = &'a str>) {
    q.push("(");
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(v);
    }
    q.push(")");
}

/// Records a colocation change with its before and after.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audited<A: Serialize, B: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    action: &str,
    kind: &str,
    id: &Id,
    before: Option<&B>,
    after: &A,
) -> Result<()> {
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(org_id),
            action,
            entity_kind: kind,
            entity_id: id.as_str(),
            before,
            after: Some(after),
        },
    )
    .await?;
    Ok(())
}

// ---- people ---------------------------------------------------------------

/// Declares a person.
pub async fn create_person(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    name: &str,
    id_kind: &str,
    company: &str,
) -> Result<PersonRow> {
    let row = PersonRow {
        id: new_id(PERSON, actor.recorded_at),
        org_id: org_id.clone(),
        name: name.to_owned(),
        id_kind: id_kind.to_owned(),
        company: company.to_owned(),
        removed_at: None,
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_persons ({PERSON_COLUMNS}) VALUES ("
    ));
    q.bind(&row.id).push(", ").bind(&row.org_id).push(", ");
    q.bind(name)
        .push(", ")
        .bind(id_kind)
        .push(", ")
        .bind(company);
    q.push(", NULL, ").bind(row.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audited::<_, ()>(
        tx,
        actor,
        org_id,
        "colocation.person.declare",
        "colo_person",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn get_person<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<PersonRow> {
    crate::get_scoped(ex, scope, "colo_persons", PERSON_COLUMNS, id, person).await
}

/// The people of an organisation (declared and removed), newest first.
pub async fn list_persons<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<PersonRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_persons",
        PERSON_COLUMNS,
        org_id,
        cursor,
        limit,
        person,
        |p| &p.id,
    )
    .await
}

/// The given people of one organisation, by id (absent ones are missing).
pub async fn persons_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &Id,
    ids: &[&str],
) -> Result<HashMap<String, PersonRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = Sql::new(&format!(
        "SELECT {PERSON_COLUMNS} FROM colo_persons WHERE org_id = "
    ));
    q.bind(org_id).push(" AND id IN ");
    in_list(&mut q, ids.iter().copied());
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| person(r).map(|p| (p.id.to_string(), p)))
        .collect()
}

/// Removes a person from the declared list from `at` on.
pub async fn remove_person(
    tx: &mut Tx,
    actor: &Actor,
    before: &PersonRow,
    at: Timestamp,
) -> Result<PersonRow> {
    let mut q = Sql::new("UPDATE colo_persons SET removed_at = ");
    q.bind(at).push(" WHERE id = ").bind(&before.id);
    q.push(" AND removed_at IS NULL");
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get_person(&mut **tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        "colocation.person.remove",
        "colo_person",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

// ---- temporary access requests ----------------------------------------------

async fn with_people(tx: &mut Tx, mut rows: Vec<RequestRow>) -> Result<Vec<RequestRow>> {
    for chunk in rows.chunks_mut(500) {
        let mut q = Sql::new(
            "SELECT request_id, person_id FROM colo_access_request_people WHERE request_id IN ",
        );
        in_list(&mut q, chunk.iter().map(|r| r.id.as_str()));
        q.push(" ORDER BY person_id");
        let mut by: HashMap<String, Vec<String>> = HashMap::new();
        for r in q.query().fetch_all(&mut **tx).await? {
            by.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        for r in chunk.iter_mut() {
            r.people = by.remove(r.id.as_str()).unwrap_or_default();
        }
    }
    Ok(rows)
}

/// Records a pending request with its people.
pub async fn create_request(tx: &mut Tx, actor: &Actor, new: NewRequest) -> Result<RequestRow> {
    let id = new_id(REQUEST, actor.recorded_at);
    let companions = serde_json::to_string(&new.companions)
        .map_err(|e| StoreError::Corrupt(format!("companions: {e}")))?;
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_access_requests ({REQUEST_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(&new.org_id).push(", ");
    q.bind(new.site.as_str()).push(", ").bind(new.window_start);
    q.push(", ").bind(new.window_end).push(", ");
    q.bind(new.purpose.as_str()).push(", ").bind(companions);
    q.push(", 'pending', NULL, NULL, '', 0, ")
        .bind(actor.recorded_at)
        .push(")");
    q.query().execute(&mut **tx).await?;
    for p in &new.people {
        let mut q =
            Sql::new("INSERT INTO colo_access_request_people (request_id, person_id) VALUES (");
        q.bind(&id).push(", ").bind(p.as_str()).push(")");
        q.query().execute(&mut **tx).await?;
    }
    let row = get_request(tx, &Scope::Staff, id.as_str()).await?;
    audited::<_, ()>(
        tx,
        actor,
        &row.org_id,
        "colocation.access_request.create",
        "colo_access_request",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn get_request(tx: &mut Tx, scope: &Scope, id: &str) -> Result<RequestRow> {
    let row = crate::get_scoped(
        &mut **tx,
        scope,
        "colo_access_requests",
        REQUEST_COLUMNS,
        id,
        request,
    )
    .await?;
    Ok(with_people(tx, vec![row]).await?.remove(0))
}

/// An organisation's requests, newest first.
pub async fn list_requests(
    tx: &mut Tx,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<RequestRow>> {
    let page = crate::org_page(
        &mut **tx,
        scope,
        "colo_access_requests",
        REQUEST_COLUMNS,
        org_id,
        cursor,
        limit,
        request,
        |r| &r.id,
    )
    .await?;
    Ok(Page {
        items: with_people(tx, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// The staff queue: pending requests whose window has not ended, the
/// soonest first.
pub async fn pending_requests(tx: &mut Tx, now: Timestamp, limit: i64) -> Result<Vec<RequestRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {REQUEST_COLUMNS} FROM colo_access_requests WHERE status = 'pending' AND window_end > "
    ));
    q.bind(now)
        .push(" ORDER BY window_start, id LIMIT ")
        .bind(limit);
    let rows = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(request)
        .collect::<Result<Vec<_>>>()?;
    with_people(tx, rows).await
}

/// Approves, refuses or cancels a pending request (compare-and-set).
pub async fn decide_request(
    tx: &mut Tx,
    actor: &Actor,
    before: &RequestRow,
    status: &str,
    note: &str,
) -> Result<RequestRow> {
    let mut q = Sql::new("UPDATE colo_access_requests SET status = ");
    q.bind(status)
        .push(", decided_at = ")
        .bind(actor.occurred_at);
    q.push(", decided_by = ").bind(actor.label.as_str());
    q.push(", decision_note = ").bind(note);
    q.push(", version = version + 1 WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get_request(tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        &format!("colocation.access_request.{status}"),
        "colo_access_request",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

// ---- badges ---------------------------------------------------------------

async fn with_events(tx: &mut Tx, mut rows: Vec<BadgeRow>) -> Result<Vec<BadgeRow>> {
    for chunk in rows.chunks_mut(500) {
        let mut q = Sql::new(
            "SELECT badge_id, seq, at, kind, valid_until, note FROM colo_badge_events WHERE badge_id IN ",
        );
        in_list(&mut q, chunk.iter().map(|b| b.id.as_str()));
        q.push(" ORDER BY badge_id, seq");
        let mut by: HashMap<String, Vec<BadgeEventRow>> = HashMap::new();
        for r in q.query().fetch_all(&mut **tx).await? {
            by.entry(r.try_get("badge_id")?)
                .or_default()
                .push(BadgeEventRow {
                    seq: r.try_get("seq")?,
                    at: time::from_db(r.try_get("at")?),
                    kind: r.try_get("kind")?,
                    valid_until: time::opt_from_db(r.try_get("valid_until")?),
                    note: r.try_get("note")?,
                });
        }
        for b in chunk.iter_mut() {
            b.events = by.remove(b.id.as_str()).unwrap_or_default();
        }
    }
    Ok(rows)
}

async fn push_event(
    tx: &mut Tx,
    badge_id: &Id,
    seq: i64,
    at: Timestamp,
    kind: &str,
    valid_until: Option<Timestamp>,
    note: &str,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO colo_badge_events (badge_id, seq, at, kind, valid_until, note) VALUES (",
    );
    q.bind(badge_id).push(", ").bind(seq).push(", ").bind(at);
    q.push(", ").bind(kind).push(", ").bind(valid_until);
    q.push(", ").bind(note).push(")");
    q.query().execute(&mut **tx).await?;
    Ok(())
}

/// Issues a badge: the badge and its `issued` event at `at`.
pub async fn issue_badge(
    tx: &mut Tx,
    actor: &Actor,
    p: &PersonRow,
    site: &str,
    at: Timestamp,
    valid_until: Option<Timestamp>,
) -> Result<BadgeRow> {
    let id = new_id(BADGE, actor.recorded_at);
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_badges ({BADGE_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(&p.org_id).push(", ");
    q.bind(&p.id).push(", ").bind(site).push(", 'active', 0, ");
    q.bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    push_event(tx, &id, 1, at, "issued", valid_until, "").await?;
    let row = get_badge(tx, &Scope::Staff, id.as_str()).await?;
    audited::<_, ()>(
        tx,
        actor,
        &row.org_id,
        "colocation.badge.issue",
        "colo_badge",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

/// Appends an event (`suspended`, `reactivated`, `revoked`) at `at` and
/// stores the resulting state (compare-and-set).
pub async fn badge_event(
    tx: &mut Tx,
    actor: &Actor,
    before: &BadgeRow,
    kind: &str,
    state: &str,
    at: Timestamp,
    note: &str,
) -> Result<BadgeRow> {
    let mut q = Sql::new("UPDATE colo_badges SET state = ");
    q.bind(state).push(", version = version + 1 WHERE id = ");
    q.bind(&before.id)
        .push(" AND version = ")
        .bind(before.version);
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(StoreError::Conflict("version"));
    }
    let seq = before.events.iter().map(|e| e.seq).max().unwrap_or(0) + 1;
    push_event(tx, &before.id, seq, at, kind, None, note).await?;
    let after = get_badge(tx, &Scope::Staff, before.id.as_str()).await?;
    audited(
        tx,
        actor,
        &after.org_id,
        &format!("colocation.badge.{kind}"),
        "colo_badge",
        &after.id,
        Some(before),
        &after,
    )
    .await?;
    Ok(after)
}

pub async fn get_badge(tx: &mut Tx, scope: &Scope, id: &str) -> Result<BadgeRow> {
    let row = crate::get_scoped(&mut **tx, scope, "colo_badges", BADGE_COLUMNS, id, badge).await?;
    Ok(with_events(tx, vec![row]).await?.remove(0))
}

/// An organisation's badges, newest first.
pub async fn list_badges(
    tx: &mut Tx,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<BadgeRow>> {
    let page = crate::org_page(
        &mut **tx,
        scope,
        "colo_badges",
        BADGE_COLUMNS,
        org_id,
        cursor,
        limit,
        badge,
        |b| &b.id,
    )
    .await?;
    Ok(Page {
        items: with_events(tx, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

// ---- prevention plans ---------------------------------------------------------

/// Records a plan signed at `signed_at`.
pub async fn sign_plan(
    tx: &mut Tx,
    actor: &Actor,
    org_id: &Id,
    site: &str,
    signed_at: Timestamp,
    signatory: &str,
    preventer: &str,
) -> Result<PlanRow> {
    let row = PlanRow {
        id: new_id(PLAN, actor.recorded_at),
        org_id: org_id.clone(),
        site: site.to_owned(),
        signed_at,
        signatory: signatory.to_owned(),
        preventer: preventer.to_owned(),
        reminder_sent_at: None,
        created_at: actor.recorded_at,
    };
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_prevention_plans ({PLAN_COLUMNS}) VALUES ("
    ));
    q.bind(&row.id)
        .push(", ")
        .bind(org_id)
        .push(", ")
        .bind(site);
    q.push(", ").bind(signed_at).push(", ").bind(signatory);
    q.push(", ").bind(preventer).push(", NULL, ");
    q.bind(row.created_at).push(")");
    q.query().execute(&mut **tx).await?;
    audited::<_, ()>(
        tx,
        actor,
        org_id,
        "colocation.prevention_plan.sign",
        "colo_prevention_plan",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

/// An organisation's plans, newest first.
pub async fn list_plans<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<PlanRow>> {
    crate::org_page(
        ex,
        scope,
        "colo_prevention_plans",
        PLAN_COLUMNS,
        org_id,
        cursor,
        limit,
        plan,
        |p| &p.id,
    )
    .await
}

/// Plans not yet reminded, signed at or before `signed_before` (the caller
/// bounds it so that only plans near their expiry are read).
pub async fn plans_to_remind(tx: &mut Tx, signed_before: Timestamp) -> Result<Vec<PlanRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {PLAN_COLUMNS} FROM colo_prevention_plans WHERE reminder_sent_at IS NULL AND signed_at <= "
    ));
    q.bind(signed_before).push(" ORDER BY signed_at, id");
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(plan)
        .collect()
}

/// The plans of one client at one site (a renewal adds one).
pub async fn plans_at<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    org_id: &str,
    site: &str,
) -> Result<Vec<PlanRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {PLAN_COLUMNS} FROM colo_prevention_plans WHERE org_id = "
    ));
    q.bind(org_id).push(" AND site = ").bind(site);
    q.push(" ORDER BY signed_at");
    q.query().fetch_all(ex).await?.iter().map(plan).collect()
}

/// Marks a plan's reminder sent (once: a second pass finds it sent).
pub async fn mark_reminded(tx: &mut Tx, actor: &Actor, p: &PlanRow) -> Result<bool> {
    let mut q = Sql::new("UPDATE colo_prevention_plans SET reminder_sent_at = ");
    q.bind(actor.recorded_at).push(" WHERE id = ").bind(&p.id);
    q.push(" AND reminder_sent_at IS NULL");
    if q.query().execute(&mut **tx).await?.rows_affected() != 1 {
        return Ok(false);
    }
    let after = PlanRow {
        reminder_sent_at: Some(actor.recorded_at),
        ..p.clone()
    };
    audited(
        tx,
        actor,
        &p.org_id,
        "colocation.prevention_plan.remind",
        "colo_prevention_plan",
        &p.id,
        Some(p),
        &after,
    )
    .await?;
    Ok(true)
}

// ---- the desk's check -----------------------------------------------------

/// What one access check needs about one client at one site, read through
/// indexes whatever the history: the requests of the site still open at
/// `at` (the range on `window_end`), whether the person was ever named in
/// a request of the site (to say "outside its window" rather than "none"),
/// the person's badges there with their events, and the client's plans
/// there.
#[derive(Debug, Clone, Default)]
pub struct DeskFacts {
    pub covering: Vec<RequestRow>,
    /// One request of the site naming the person, not covering `at`.
    pub other_named: Option<RequestRow>,
    pub badges: Vec<BadgeRow>,
    pub plans: Vec<PlanRow>,
    /// The client's visits of the site open at `at` (badge sites), with
    /// their companions.
    pub visits: Vec<VisitRow>,
}

pub async fn desk_facts(
    tx: &mut Tx,
    org_id: &str,
    person_id: Option<&str>,
    site: &str,
    at: Timestamp,
) -> Result<DeskFacts> {
    let mut q = Sql::new(&format!(
        "SELECT {REQUEST_COLUMNS} FROM colo_access_requests WHERE site = "
    ));
    q.bind(site).push(" AND window_end > ").bind(at);
    q.push(" AND window_start <= ").bind(at);
    q.push(" AND org_id = ").bind(org_id);
    let covering = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(request)
        .collect::<Result<Vec<_>>>()?;
    let covering = with_people(tx, covering).await?;
    let mut facts = DeskFacts {
        covering,
        ..DeskFacts::default()
    };
    if let Some(pid) = person_id {
        let mut q = Sql::new(&format!(
            "SELECT {} FROM colo_access_requests r JOIN colo_access_request_people p \
             ON p.request_id = r.id WHERE p.person_id = ",
            REQUEST_COLUMNS
                .split(", ")
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        q.bind(pid).push(" AND r.site = ").bind(site);
        q.push(" LIMIT 1");
        if let Some(r) = q.query().fetch_optional(&mut **tx).await? {
            facts.other_named = with_people(tx, vec![request(&r)?]).await?.pop();
        }
        let mut q = Sql::new(&format!(
            "SELECT {BADGE_COLUMNS} FROM colo_badges WHERE person_id = "
        ));
        q.bind(pid).push(" AND site = ").bind(site);
        let badges = q
            .query()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(badge)
            .collect::<Result<Vec<_>>>()?;
        facts.badges = with_events(tx, badges).await?;
    }
    facts.plans = plans_at(&mut **tx, org_id, site).await?;
    let mut q = Sql::new(&format!(
        "SELECT {VISIT_COLUMNS} FROM colo_visits WHERE site = "
    ));
    q.bind(site).push(" AND window_end > ").bind(at);
    q.push(" AND window_start <= ").bind(at);
    q.push(" AND org_id = ").bind(org_id);
    facts.visits = q
        .query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(visit)
        .collect::<Result<Vec<_>>>()?;
    Ok(facts)
}

// ---- visits with companions at badge sites (R11.1) -------------------------

/// Records a visit announced with its companions.
pub async fn create_visit(tx: &mut Tx, actor: &Actor, new: NewVisit) -> Result<VisitRow> {
    let id = new_id(VISIT, actor.recorded_at);
    let companions = serde_json::to_string(&new.companions)
        .map_err(|e| StoreError::Corrupt(format!("companions: {e}")))?;
    let mut q = Sql::new(&format!(
        "INSERT INTO colo_visits ({VISIT_COLUMNS}) VALUES ("
    ));
    q.bind(&id).push(", ").bind(&new.org_id).push(", ");
    q.bind(new.site.as_str())
        .push(", ")
        .bind(new.host_person_id.as_str());
    q.push(", ").bind(new.window_start).push(", ");
    q.bind(new.window_end).push(", ").bind(new.purpose.as_str());
    q.push(", ")
        .bind(companions)
        .push(", ")
        .bind(new.notified_at);
    q.push(", ").bind(new.notified_by.as_str()).push(", ");
    q.bind(actor.recorded_at).push(")");
    q.query().execute(&mut **tx).await?;
    let row = get_visit(tx, &Scope::Staff, id.as_str()).await?;
    audited::<_, ()>(
        tx,
        actor,
        &row.org_id,
        "colocation.visit.create",
        "colo_visit",
        &row.id,
        None,
        &row,
    )
    .await?;
    Ok(row)
}

pub async fn get_visit(tx: &mut Tx, scope: &Scope, id: &str) -> Result<VisitRow> {
    crate::get_scoped(&mut **tx, scope, "colo_visits", VISIT_COLUMNS, id, visit).await
}

/// An organisation's visits, newest first.
pub async fn list_visits(
    tx: &mut Tx,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<VisitRow>> {
    crate::org_page(
        &mut **tx,
        scope,
        "colo_visits",
        VISIT_COLUMNS,
        org_id,
        cursor,
        limit,
        visit,
        |r| &r.id,
    )
    .await
}

/// The reception desk's list: visits at every site whose window meets
/// `[from, to)`, the soonest first (a range on `window_end`).
pub async fn visits_between(
    tx: &mut Tx,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> Result<Vec<VisitRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {VISIT_COLUMNS} FROM colo_visits WHERE window_end > "
    ));
    q.bind(from).push(" AND window_start < ").bind(to);
    q.push(" ORDER BY window_start, id LIMIT ").bind(limit);
    q.query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(visit)
        .collect()
}

// ---- benchmark seed -------------------------------------------------------

/// Seeds, for the access benchmark, `badges` declared people of one
/// client each with a badge issued at `at` at one of `badge_sites` (in
/// turn), and `requests` past approved temporary requests at
/// `temporary_site` (two hours each, one every hour back from `at`, each
/// naming one of the people in turn), in multi-row statements. Returns the
/// people's identifiers. Not audited: benchmark data only.
pub async fn seed_bench(
    tx: &mut Tx,
    org_id: &Id,
    at: Timestamp,
    badges: usize,
    badge_sites: &[&str],
    requests: usize,
    temporary_site: &str,
) -> Result<Vec<String>> {
    const ROWS: usize = 200;
    let ms = time::to_db(at);
    let people: Vec<String> = (0..badges)
        .map(|_| new_id(PERSON, at).to_string())
        .collect();
    for (c, chunk) in people.chunks(ROWS).enumerate() {
        let mut q = Sql::new(&format!(
            "INSERT INTO colo_persons ({PERSON_COLUMNS}) VALUES "
        ));
        let mut b = Sql::new(&format!(
            "INSERT INTO colo_badges ({BADGE_COLUMNS}) VALUES "
        ));
        let mut e = Sql::new(
            "INSERT INTO colo_badge_events (badge_id, seq, at, kind, valid_until, note) VALUES ",
        );
        for (i, pid) in chunk.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            let n = c * ROWS + i;
            q.push(sep)
                .push("(")
                .bind(pid.as_str())
                .push(", ")
                .bind(org_id);
            q.push(", ")
                .bind(format!("Personne {n}"))
                .push(", 'passport', 'Bench', NULL, ");
            q.bind(ms).push(")");
            let bid = new_id(BADGE, at);
            b.push(sep)
                .push("(")
                .bind(&bid)
                .push(", ")
                .bind(org_id)
                .push(", ");
            b.bind(pid.as_str())
                .push(", ")
                .bind(badge_sites[n % badge_sites.len()]);
            b.push(", 'active', 0, ").bind(ms).push(")");
            e.push(sep).push("(").bind(&bid).push(", 1, ").bind(ms);
            e.push(", 'issued', NULL, '')");
        }
        q.query().execute(&mut **tx).await?;
        b.query().execute(&mut **tx).await?;
        e.query().execute(&mut **tx).await?;
    }
    if people.is_empty() {
        return Ok(people);
    }
    let ids: Vec<Id> = (0..requests).map(|_| new_id(REQUEST, at)).collect();
    for (c, chunk) in ids.chunks(ROWS).enumerate() {
        let mut q = Sql::new(&format!(
            "INSERT INTO colo_access_requests ({REQUEST_COLUMNS}) VALUES "
        ));
        let mut p =
            Sql::new("INSERT INTO colo_access_request_people (request_id, person_id) VALUES ");
        for (i, rid) in chunk.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            let n = c * ROWS + i;
            let start = ms - 3_600_000 * (i64::try_from(n).unwrap_or(0) + 3);
            q.push(sep)
                .push("(")
                .bind(rid)
                .push(", ")
                .bind(org_id)
                .push(", ");
            q.bind(temporary_site)
                .push(", ")
                .bind(start)
                .push(", ")
                .bind(start + 7_200_000);
            q.push(", 'bench', '[]', 'approved', ")
                .bind(start)
                .push(", 'bench', '', 0, ");
            q.bind(start).push(")");
            p.push(sep).push("(").bind(rid).push(", ");
            p.bind(people[n % people.len()].as_str()).push(")");
        }
        q.query().execute(&mut **tx).await?;
        p.query().execute(&mut **tx).await?;
    }
    Ok(people)
}
