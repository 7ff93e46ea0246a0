//! Datacenter access (R11.1-R11.2): declared people, temporary access
//! requests (sites granting temporary access only, MLB), permanent
//! nominative badges (the other sites), prevention plans, and the desk's
//! access check, each answer computed by `ciel_operations::access`.
//!
//! - A person is named by its identifier: a request naming someone the
//!   client has not declared is refused (422, the field `people[i]`, R11.1),
//!   a badge at a site granting temporary access only is refused (422,
//!   field `site`, R11.1).
//! - The check reads only what one answer needs (`store::colo_access::desk_facts`,
//!   indexed) and hands it to [`Operations::check_access`]; the answer
//!   lists every rule checked, the refusals and the ID reminder.
//! - A companion is checked by name within its client (`org_id` + `name`):
//!   companions are announced in an approved request at MLB, and with a
//!   visit ([`announce_visit`]) at the badge sites, before it starts.

use super::{
    Notice, denials_text, ops_now, require_operator, require_reader, rule, stored, transition,
};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_domain::Id;
use ciel_mail::ColocationMail;
use ciel_operations::access::{
    AccessFacts, AccessRequest, Badge, BadgeEvent, BadgeEventKind, CompanionNotice, PlanStatus,
    PreventionPlan, RequestStatus,
};
use ciel_operations::{Decision, Operations};
use ciel_store::colo_access::{self as store, BadgeRow, PersonRow, PlanRow, RequestRow, VisitRow};
use ciel_store::{Page, Scope, StoreError};
use ciel_terms::DatacenterAccess;
use jiff::Timestamp;
use serde::Serialize;

/// Kinds of official ID a declared person shows (CS 2.3.3).
pub const ID_KINDS: [&str; 4] = [
    "national_id",
    "passport",
    "residence_permit",
    "driving_licence",
];

fn text(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(Problem::invalid(
            field,
            format!("between 1 and {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

fn site_of(ops: &Operations, site: &str) -> ApiResult<ciel_terms::Datacenter> {
    ops.datacenter(site)
        .cloned()
        .map_err(|e| Problem::invalid("site", format!("R11.1: {e}")))
}

async fn org_for(tx: &mut ciel_store::Tx, p: &Principal, org_id: &str) -> ApiResult<Id> {
    // Another organisation is not found, whoever asks.
    Ok(ciel_store::orgs::get(&mut **tx, &p.scope, org_id).await?.id)
}

/// A client user who sees services writes for its own organisation; staff
/// operators for any.
fn require_writer(p: &Principal) -> ApiResult<()> {
    require_reader(p)
}

// ---- people -----------------------------------------------------------------

/// Declares a person allowed to come (R11.1).
pub async fn declare_person(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    name: &str,
    id_kind: &str,
    company: &str,
) -> ApiResult<PersonRow> {
    let name = text("name", name, 200)?;
    let company = text("company", company, 200)?;
    if !ID_KINDS.contains(&id_kind) {
        return Err(Problem::invalid(
            "id_kind",
            format!(
                "R11.1 (CS 2.3.3): an official ID, one of {}",
                ID_KINDS.join(", ")
            ),
        ));
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_writer(p)?;
    let row = store::create_person(&mut tx, &p.actor(now), &org, &name, id_kind, &company).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Removes a person from the declared list from now on.
pub async fn remove_person(state: &AppState, p: &Principal, id: &str) -> ApiResult<PersonRow> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = store::get_person(&mut *tx, &p.scope, id).await?;
    require_writer(p)?;
    if before.removed_at.is_some() {
        return Err(transition("R11.1: this person was already removed"));
    }
    let row = store::remove_person(&mut tx, &p.actor(now), &before, now)
        .await
        .map_err(stored("person"))?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

pub async fn list_persons(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<PersonRow>> {
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_reader(p)?;
    Ok(store::list_persons(&mut *tx, &p.scope, org.as_str(), cursor, limit).await?)
}

// ---- temporary access requests ----------------------------------------------

/// A temporary access request to record.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    pub site: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub purpose: String,
    pub people: Vec<String>,
    pub companions: Vec<String>,
}

fn status_of(s: &str) -> RequestStatus {
    match s {
        "approved" => RequestStatus::Approved,
        "refused" => RequestStatus::Refused,
        "cancelled" => RequestStatus::Cancelled,
        _ => RequestStatus::Pending,
    }
}

fn engine_request(r: &RequestRow) -> AccessRequest {
    AccessRequest {
        id: r.id.to_string(),
        site: r.site.clone(),
        window_start: r.window_start,
        window_end: r.window_end,
        people: r.people.clone(),
        companions: r.companions.clone(),
        purpose: r.purpose.clone(),
        status: status_of(&r.status),
    }
}

/// Records a pending request, refused when the site does not grant
/// temporary access, the window is empty or past, or a person is not
/// declared by the client (R11.1).
pub async fn request_access(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: RequestInput,
) -> ApiResult<RequestRow> {
    let now = state.now();
    let ops = ops_now(state, now)?;
    site_of(&ops, &input.site)?;
    let purpose = text("purpose", &input.purpose, 2000)?;
    let mut companions = Vec::with_capacity(input.companions.len());
    for (i, c) in input.companions.iter().enumerate() {
        companions.push(text(&format!("companions[{i}]"), c, 200)?);
    }
    if input.people.len() > 50 {
        return Err(Problem::invalid("people", "at most 50 people a request"));
    }
    for (i, id) in input.people.iter().enumerate() {
        if input.people[..i].contains(id) {
            return Err(Problem::invalid(&format!("people[{i}]"), "named twice"));
        }
    }
    if input.window_end <= now {
        return Err(Problem::invalid(
            "window_end",
            "a request is for a visit to come, not a past one",
        ));
    }
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_writer(p)?;
    let ids: Vec<&str> = input.people.iter().map(String::as_str).collect();
    let known = store::persons_of(&mut *tx, &org, &ids).await?;
    let facts = AccessFacts {
        client: org.to_string(),
        declared_people: known
            .values()
            .filter(|x| x.declared_at(input.window_start))
            .map(|x| x.id.to_string())
            .collect(),
        ..AccessFacts::default()
    };
    let request = AccessRequest {
        id: String::new(),
        site: input.site.clone(),
        window_start: input.window_start,
        window_end: input.window_end,
        people: input.people.clone(),
        companions: companions.clone(),
        purpose: purpose.clone(),
        status: RequestStatus::Pending,
    };
    let d = ops
        .check_access_request(&request, &facts)
        .map_err(|e| Problem::invalid("site", e.to_string()))?;
    if !d.allowed {
        return Err(rule(&request_field(&d, &input.people), denials_text(&d)));
    }
    let row = store::create_request(
        &mut tx,
        &p.actor(now),
        store::NewRequest {
            org_id: org,
            site: input.site,
            window_start: input.window_start,
            window_end: input.window_end,
            purpose,
            companions,
            people: input.people,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The field the first refusal of a request names.
fn request_field(d: &Decision, people: &[String]) -> String {
    let Some(step) = d
        .reasons
        .steps
        .iter()
        .find(|s| s.outcome.starts_with("deny:"))
    else {
        return "site".into();
    };
    match step.outcome.as_str() {
        "deny:temporary_access_not_offered_at_site" => "site".into(),
        "deny:empty_window" => "window_end".into(),
        "deny:no_person_named" => "people".into(),
        _ => step
            .inputs
            .iter()
            .find(|i| i.name == "person")
            .and_then(|i| people.iter().position(|x| *x == i.value))
            .map(|i| format!("people[{i}]"))
            .unwrap_or_else(|| "people".into()),
    }
}

pub async fn get_request(state: &AppState, p: &Principal, id: &str) -> ApiResult<RequestRow> {
    let mut tx = state.store().begin().await?;
    let row = store::get_request(&mut tx, &p.scope, id).await?;
    require_reader(p)?;
    Ok(row)
}

pub async fn list_requests(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<RequestRow>> {
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_reader(p)?;
    Ok(store::list_requests(&mut tx, &p.scope, org.as_str(), cursor, limit).await?)
}

/// The staff queue of pending requests, the soonest window first.
pub async fn pending_requests(state: &AppState, p: &Principal) -> ApiResult<Vec<RequestRow>> {
    require_operator(p)?;
    let mut tx = state.store().begin().await?;
    Ok(store::pending_requests(&mut tx, state.now(), 200).await?)
}

/// Staff approve or refuse a pending request; the client cancels its own.
/// The client's Administrators are told of the answer.
pub async fn decide_request(
    state: &AppState,
    p: &Principal,
    id: &str,
    status: &str,
    note: &str,
) -> ApiResult<RequestRow> {
    let now = state.now();
    if note.chars().count() > 2000 {
        return Err(Problem::invalid("note", "at most 2000 characters"));
    }
    let mut tx = state.store().begin().await?;
    let before = store::get_request(&mut tx, &p.scope, id).await?;
    match status {
        "cancelled" => require_writer(p)?,
        _ => require_operator(p)?,
    }
    if before.status != "pending" {
        return Err(transition(format!(
            "R11.1: request {} is {}, not pending",
            before.id, before.status
        )));
    }
    let row = store::decide_request(&mut tx, &p.actor(now), &before, status, note.trim())
        .await
        .map_err(stored("access request"))?;
    let kind = match status {
        "approved" => Some(ColocationMail::AccessApproved),
        "refused" => Some(ColocationMail::AccessRefused),
        _ => None,
    };
    if let Some(kind) = kind {
        let subject = format!("{} {}", row.site, row.window_start);
        super::notify_client(
            state,
            &mut tx,
            &Notice {
                kind,
                org_id: row.org_id.as_str(),
                reference: row.id.as_str(),
                subject: &subject,
                day: row.window_start,
                reasons: None,
                extra: note.trim(),
                client_path: "/espace-client/colocation/acces",
                staff_path: "/back-office/colocation/operations",
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

// ---- badges -----------------------------------------------------------------

fn engine_badge(b: &BadgeRow) -> Badge {
    Badge {
        id: b.id.to_string(),
        person: b.person_id.clone(),
        site: b.site.clone(),
        events: b
            .events
            .iter()
            .map(|e| BadgeEvent {
                at: e.at,
                kind: match e.kind.as_str() {
                    "issued" => BadgeEventKind::Issued {
                        valid_until: e.valid_until,
                    },
                    "suspended" => BadgeEventKind::Suspended,
                    "reactivated" => BadgeEventKind::Reactivated,
                    _ => BadgeEventKind::Revoked,
                },
            })
            .collect(),
    }
}

/// Staff issue a permanent nominative badge; refused at a site that grants
/// temporary access only, or for a person the client has not declared.
pub async fn issue_badge(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    person_id: &str,
    site: &str,
    valid_until: Option<Timestamp>,
) -> ApiResult<BadgeRow> {
    let now = state.now();
    let ops = ops_now(state, now)?;
    site_of(&ops, site)?;
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_operator(p)?;
    let actor = p.actor(now);
    if valid_until.is_some_and(|u| u <= actor.occurred_at) {
        return Err(Problem::invalid(
            "valid_until",
            "the end of validity comes after the issue",
        ));
    }
    let person = store::persons_of(&mut *tx, &org, &[person_id])
        .await?
        .remove(person_id);
    let facts = AccessFacts {
        client: org.to_string(),
        declared_people: person
            .iter()
            .filter(|x| x.declared_at(actor.occurred_at))
            .map(|x| x.id.to_string())
            .collect(),
        ..AccessFacts::default()
    };
    let d = ops
        .check_badge_issue(person_id, site, &facts)
        .map_err(|e| Problem::invalid("site", e.to_string()))?;
    if !d.allowed {
        let field = if d.denials().contains(&"person_not_declared") {
            "person_id"
        } else {
            "site"
        };
        return Err(rule(field, denials_text(&d)));
    }
    let Some(person) = person else {
        return Err(rule("person_id", "R11.1: not a person of this client"));
    };
    let row = store::issue_badge(
        &mut tx,
        &actor,
        &person,
        site,
        actor.occurred_at,
        valid_until,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Staff suspend, reactivate or revoke a badge (a revocation is final).
pub async fn badge_action(
    state: &AppState,
    p: &Principal,
    id: &str,
    action: &str,
    note: &str,
) -> ApiResult<BadgeRow> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = store::get_badge(&mut tx, &p.scope, id).await?;
    require_operator(p)?;
    let (kind, from, to) = match action {
        "suspend" => ("suspended", "active", "suspended"),
        "reactivate" => ("reactivated", "suspended", "active"),
        "revoke" => ("revoked", "", "revoked"),
        _ => return Err(Problem::not_found()),
    };
    if before.state == "revoked" || (!from.is_empty() && before.state != from) {
        return Err(transition(format!(
            "R11.1: badge {} is {}; it cannot be {kind}",
            before.id, before.state
        )));
    }
    let actor = p.actor(now);
    let row = store::badge_event(
        &mut tx,
        &actor,
        &before,
        kind,
        to,
        actor.occurred_at,
        note.trim(),
    )
    .await
    .map_err(stored("badge"))?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

pub async fn list_badges(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<BadgeRow>> {
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_reader(p)?;
    Ok(store::list_badges(&mut tx, &p.scope, org.as_str(), cursor, limit).await?)
}

// ---- prevention plans -------------------------------------------------------

/// A plan with its validity now (R11.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub row: PlanRow,
    /// `to_sign`, or valid/expired with its dates (R11.2).
    #[schema(value_type = Object)]
    pub status: PlanStatus,
}

fn plan_view(ops: &Operations, row: PlanRow, now: Timestamp) -> PlanView {
    let plans = [PreventionPlan {
        site: row.site.clone(),
        signed_at: row.signed_at,
    }];
    let status = ops.prevention_plan_status(&plans, &row.site, now);
    PlanView { row, status }
}

/// Staff record the plan signed at the first intervention (R11.2).
pub async fn sign_plan(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    site: &str,
    signatory: &str,
    preventer: &str,
) -> ApiResult<PlanView> {
    let now = state.now();
    let ops = ops_now(state, now)?;
    let dc = site_of(&ops, site)?;
    if !dc.prevention_plan_required {
        return Err(rule(
            "site",
            format!("R11.2 (CS 2.3.3): {} requires no prevention plan", dc.name),
        ));
    }
    let signatory = text("signatory", signatory, 200)?;
    let preventer = text("preventer", preventer, 200)?;
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_operator(p)?;
    let actor = p.actor(now);
    let row = store::sign_plan(
        &mut tx,
        &actor,
        &org,
        site,
        actor.occurred_at,
        &signatory,
        &preventer,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(plan_view(&ops, row, now))
}

pub async fn list_plans(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<PlanView>> {
    let now = state.now();
    let ops = ops_now(state, now)?;
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_reader(p)?;
    let page = store::list_plans(&mut *tx, &p.scope, org.as_str(), cursor, limit).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|r| plan_view(&ops, r, now))
            .collect(),
        next_cursor: page.next_cursor,
    })
}

// ---- visits with companions at badge sites -----------------------------------

/// A visit to announce at a badge site (R11.1).
#[derive(Debug, Clone, Default)]
pub struct VisitInput {
    pub site: String,
    /// The declared person (badge holder) the companions come with.
    pub host_person_id: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub purpose: String,
    pub companions: Vec<String>,
}

/// Companions' names, trimmed, each once (`companions[i]` at fault).
fn companion_names(names: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, c) in names.iter().enumerate() {
        let c = text(&format!("companions[{i}]"), c, 200)?;
        if out.contains(&c) {
            return Err(Problem::invalid(&format!("companions[{i}]"), "named twice"));
        }
        out.push(c);
    }
    Ok(out)
}

/// The client (or staff from its message, back-dated with
/// `Ciel-Occurred-At`) announces the companions of a visit at a badge site
/// (R11.1: "les accompagnants doivent être annoncés au préalable"):
/// refused at a temporary-access site (companions go in the access
/// request there), without companions, for a host not declared by the
/// client, or when the window has already started.
pub async fn announce_visit(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: VisitInput,
) -> ApiResult<VisitRow> {
    let now = state.now();
    let ops = ops_now(state, now)?;
    site_of(&ops, &input.site)?;
    if !is_badge_site(&ops, &input.site) {
        return Err(rule(
            "site",
            format!(
                "R11.1 (CS 2.3.3): {} grants temporary access only; announce companions in the access request",
                input.site
            ),
        ));
    }
    let purpose = text("purpose", &input.purpose, 2000)?;
    if input.companions.is_empty() {
        return Err(Problem::invalid(
            "companions",
            "R11.1: name at least one companion",
        ));
    }
    if input.companions.len() > 50 {
        return Err(Problem::invalid(
            "companions",
            "at most 50 companions a visit",
        ));
    }
    let companions = companion_names(&input.companions)?;
    if input.window_end <= input.window_start {
        return Err(Problem::invalid(
            "window_end",
            "the visit ends after it starts",
        ));
    }
    let notified_at = p.actor(now).occurred_at;
    if input.window_start < notified_at {
        return Err(rule(
            "window_start",
            "R11.1 (CS 2.3.3): companions are announced before the visit starts",
        ));
    }
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_writer(p)?;
    let host = store::persons_of(&mut *tx, &org, &[input.host_person_id.as_str()]).await?;
    if !host
        .values()
        .any(|x| x.id.as_str() == input.host_person_id && x.declared_at(input.window_start))
    {
        return Err(rule(
            "host_person_id",
            "R11.1 (CS 2.3.3): companions come with a person the client declared",
        ));
    }
    let row = store::create_visit(
        &mut tx,
        &p.actor(now),
        store::NewVisit {
            org_id: org,
            site: input.site,
            host_person_id: input.host_person_id,
            window_start: input.window_start,
            window_end: input.window_end,
            purpose,
            companions,
            notified_at,
            notified_by: p.user.email.clone(),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

pub async fn list_visits(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<VisitRow>> {
    let mut tx = state.store().begin().await?;
    let org = org_for(&mut tx, p, org_id).await?;
    require_reader(p)?;
    Ok(store::list_visits(&mut tx, &p.scope, org.as_str(), cursor, limit).await?)
}

/// The reception desk: visits with companions meeting `[from, to)`.
pub async fn desk_visits(
    state: &AppState,
    p: &Principal,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<Vec<VisitRow>> {
    require_operator(p)?;
    let mut tx = state.store().begin().await?;
    Ok(store::visits_between(&mut tx, from, to, 200).await?)
}

// ---- the access check -------------------------------------------------------

/// Who is checked: a declared person, or a companion by name.
#[derive(Debug, Clone)]
pub enum Visitor {
    Person(String),
    Companion { org_id: String, name: String },
}

/// A companion announced for the visit being checked: with the host's
/// visit at a badge site, or in the approved request at MLB.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnnouncedCompanion {
    pub name: String,
    /// The declared person it comes with (badge sites), if any.
    pub host_person_id: Option<String>,
    /// The visit or access request that announced it.
    pub announced_in: String,
    #[schema(value_type = String, format = DateTime)]
    pub window_start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub window_end: Timestamp,
}

/// The desk's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckAnswer {
    pub allowed: bool,
    pub site: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub org_id: String,
    pub person_id: Option<String>,
    pub name: String,
    pub company: Option<String>,
    pub id_kind: Option<String>,
    /// Companions announced for this visit: those coming with the person
    /// checked, or, for a companion, its own announcement.
    pub companions: Vec<AnnouncedCompanion>,
    /// Every rule checked with its outcome and reasons.
    #[schema(value_type = Object)]
    pub decision: Decision,
}

/// May this visitor enter `site` at `at` (default now)? Staff operators
/// ask for anyone; a client user for its own people.
pub async fn check(
    state: &AppState,
    p: &Principal,
    visitor: &Visitor,
    site: &str,
    at: Option<Timestamp>,
) -> ApiResult<CheckAnswer> {
    require_reader(p)?;
    check_as(state, &p.scope, visitor, site, at).await
}

/// The check itself, for a scope (the benchmark asks as staff).
pub async fn check_as(
    state: &AppState,
    scope: &Scope,
    visitor: &Visitor,
    site: &str,
    at: Option<Timestamp>,
) -> ApiResult<CheckAnswer> {
    let now = state.now();
    let at = at.unwrap_or(now);
    let ops = ops_now(state, at)?;
    site_of(&ops, site)?;
    // A read: a pooled reader, never SQLite's one writer.
    let mut tx = state.store().db().begin().await.map_err(StoreError::from)?;
    let (org_id, person, name) = match visitor {
        Visitor::Person(id) => {
            let person = store::get_person(&mut *tx, scope, id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => Problem::not_found().field("person_id"),
                    e => e.into(),
                })?;
            (person.org_id.to_string(), Some(person.clone()), person.name)
        }
        Visitor::Companion { org_id, name } => {
            let org = ciel_store::orgs::get(&mut *tx, scope, org_id).await?.id;
            (org.to_string(), None, text("name", name, 200)?)
        }
    };
    let mut facts = store::desk_facts(
        &mut tx,
        &org_id,
        person.as_ref().map(|x| x.id.as_str()),
        site,
        at,
    )
    .await?;
    let visits = std::mem::take(&mut facts.visits);
    // The desk reads the host's name in the reasons: one indexed read,
    // only when a visit with companions is open.
    let hosts: Vec<&str> = visits.iter().map(|v| v.host_person_id.as_str()).collect();
    let host_names = store::persons_of(&mut *tx, &Id::from_raw(org_id.clone()), &hosts).await?;
    drop(tx);
    let key = person
        .as_ref()
        .map(|x| x.id.to_string())
        .unwrap_or_else(|| name.clone());
    let facts = AccessFacts {
        client: org_id.clone(),
        declared_people: person
            .iter()
            .filter(|x| x.declared_at(at))
            .map(|x| x.id.to_string())
            .collect(),
        requests: facts
            .covering
            .iter()
            .chain(facts.other_named.iter())
            .map(engine_request)
            .collect(),
        badges: facts.badges.iter().map(engine_badge).collect(),
        companion_notices: visits
            .iter()
            .flat_map(|v| {
                let host = host_names
                    .get(&v.host_person_id)
                    .map(|h| h.name.clone())
                    .unwrap_or_else(|| v.host_person_id.clone());
                v.companions.iter().map(move |c| CompanionNotice {
                    site: v.site.clone(),
                    companion: c.clone(),
                    host: host.clone(),
                    window_start: v.window_start,
                    window_end: v.window_end,
                    notified_at: v.notified_at,
                })
            })
            .collect(),
        prevention_plans: facts
            .plans
            .iter()
            .map(|x| PreventionPlan {
                site: x.site.clone(),
                signed_at: x.signed_at,
            })
            .collect(),
    };
    let decision = ops
        .check_access(&key, site, at, &facts)
        .map_err(|e| Problem::invalid("site", e.to_string()))?;
    let companions = announced(&visits, &facts.requests, person.as_ref(), &name);
    Ok(CheckAnswer {
        allowed: decision.allowed,
        site: site.to_owned(),
        at,
        org_id,
        person_id: person.as_ref().map(|x| x.id.to_string()),
        name,
        company: person.as_ref().map(|x| x.company.clone()),
        id_kind: person.as_ref().map(|x| x.id_kind.clone()),
        companions,
        decision,
    })
}

/// The companions the desk should expect with this visitor: for a person,
/// those announced with its visits (badge sites) or in the approved
/// requests naming it (MLB); for a companion, its own announcements.
fn announced(
    visits: &[VisitRow],
    requests: &[AccessRequest],
    person: Option<&PersonRow>,
    name: &str,
) -> Vec<AnnouncedCompanion> {
    let from_visits = visits.iter().flat_map(|v| {
        v.companions.iter().map(move |c| AnnouncedCompanion {
            name: c.clone(),
            host_person_id: Some(v.host_person_id.clone()),
            announced_in: v.id.to_string(),
            window_start: v.window_start,
            window_end: v.window_end,
        })
    });
    let from_requests = requests
        .iter()
        .filter(|r| r.status == RequestStatus::Approved)
        .flat_map(|r| {
            r.companions.iter().map(move |c| {
                (
                    r,
                    AnnouncedCompanion {
                        name: c.clone(),
                        host_person_id: None,
                        announced_in: r.id.clone(),
                        window_start: r.window_start,
                        window_end: r.window_end,
                    },
                )
            })
        });
    match person {
        Some(x) => from_visits
            .filter(|c| c.host_person_id.as_deref() == Some(x.id.as_str()))
            .chain(
                from_requests
                    .filter(|(r, _)| r.people.iter().any(|p| p == x.id.as_str()))
                    .map(|(_, c)| c),
            )
            .collect(),
        None => from_visits
            .chain(from_requests.map(|(_, c)| c))
            .filter(|c| c.name == name)
            .collect(),
    }
}

/// The datacenters of the terms in force with their access policies.
pub fn datacenters(state: &AppState) -> ApiResult<Vec<ciel_operations::access::DatacenterInfo>> {
    Ok(ops_now(state, state.now())?.datacenters())
}

/// Whether a site grants badges (for the pages' forms).
pub fn is_badge_site(ops: &Operations, site: &str) -> bool {
    ops.datacenter(site)
        .is_ok_and(|d| d.access == DatacenterAccess::PermanentNominativeBadge)
}

/// The plans due for their expiry reminder at `now`, and sends each once
/// to the client's Administrators (the pass).
pub async fn send_plan_reminders(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let ops = ops_now(state, now)?;
    // A plan is reminded `reminder_days` before `validity_years`: read only
    // the plans signed long enough ago (a day of margin for DST).
    let c = &ops.terms().colocation;
    let ahead = jiff::Span::new().days(i64::from(c.prevention_plan_reminder_days.value) + 1);
    let years = jiff::Span::new().years(i64::from(c.prevention_plan_validity_years.value));
    let cutoff = ops.sub_calendar(ops.add_calendar(now, ahead), years);
    let mut tx = state.store().begin().await?;
    let candidates = store::plans_to_remind(&mut tx, cutoff).await?;
    let actor = ciel_store::Actor::system(super::pass::JOB, now);
    let mut sent = 0;
    for plan in candidates {
        let all = store::plans_at(&mut *tx, plan.org_id.as_str(), &plan.site).await?;
        let facts: Vec<PreventionPlan> = all
            .iter()
            .map(|x| PreventionPlan {
                site: x.site.clone(),
                signed_at: x.signed_at,
            })
            .collect();
        let due = ops.prevention_plan_reminders_due(&facts, now);
        let current = due.iter().any(|d| d.signed_at == plan.signed_at);
        let replaced = all.iter().any(|x| x.signed_at > plan.signed_at);
        if !current && !replaced {
            continue;
        }
        if !store::mark_reminded(&mut tx, &actor, &plan).await? || replaced {
            continue;
        }
        let expires = ops.prevention_plan_expiry(plan.signed_at);
        let status = ops.prevention_plan_status(&facts, &plan.site, now);
        let reasons = ciel_engine::Explanation {
            steps: vec![
                ciel_engine::Step::new(
                    &c.prevention_plan_reminder_days.rule,
                    &c.prevention_plan_reminder_days.clause,
                )
                .input("signed_at", plan.signed_at)
                .input("status", serde_json::to_string(&status).unwrap_or_default())
                .outcome("note:prevention_plan_reminder")
                .text(
                    format!(
                        "plan signé par {} avec {}, rappel {} jours avant l'expiration",
                        plan.signatory, plan.preventer, c.prevention_plan_reminder_days.value
                    ),
                    format!(
                        "plan signed by {} with {}, reminded {} days before it expires",
                        plan.signatory, plan.preventer, c.prevention_plan_reminder_days.value
                    ),
                ),
            ],
        };
        let subject = ops
            .datacenter(&plan.site)
            .map(|d| d.name.clone())
            .unwrap_or_else(|_| plan.site.clone());
        sent += super::notify_client(
            state,
            &mut tx,
            &Notice {
                kind: ColocationMail::PlanExpiring,
                org_id: plan.org_id.as_str(),
                reference: plan.id.as_str(),
                subject: &subject,
                day: expires,
                reasons: Some(&reasons),
                extra: "",
                client_path: "/espace-client/colocation/acces",
                staff_path: "/back-office/colocation/operations",
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(sent)
}

/// Scope check helper for the pages: the organisation of `p`.
pub fn own_org(p: &Principal) -> Option<String> {
    match &p.scope {
        Scope::Org(id) => Some(id.to_string()),
        Scope::Staff => None,
    }
}
