//! Colocation operations in the API (issue 7, items 1-4; R11.1-R11.6):
//! declared people, temporary access requests, badges, prevention plans,
//! the desk's access check, remote hands, the 7-day deadlines, power
//! alerts and decommissioning. Answers carry the rows as stored and what
//! the rules compute from them at the request's instant, with the reasons
//! (`explanation_fr`, `explanation_en`) citing the rules; refusals are
//! problems naming the field and the rule.

use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::colo::{access, decommission, pass, work};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ciel_engine::Lang;
use ciel_store::Page;
use ciel_store::colo_access::{BadgeRow, PersonRow, RequestRow, VisitRow};
use ciel_store::colo_work::{PowerAlertRow, RemoteHandsRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A page of rows, newest first; `next_cursor` asks for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for ItemsPage<T> {
    fn from(p: Page<T>) -> Self {
        ItemsPage {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

/// Rows without paging.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// A deadline with the reasons of the rules in both languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineAnswer {
    #[serde(flatten)]
    pub deadline: work::DeadlineView,
    pub explanation_fr: String,
    pub explanation_en: String,
}

fn deadline(d: work::DeadlineView) -> DeadlineAnswer {
    let r = &d.status.reasons.reasons;
    DeadlineAnswer {
        explanation_fr: r.render(Lang::Fr),
        explanation_en: r.render(Lang::En),
        deadline: d,
    }
}

/// A datacenter of the terms in force with its access policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatacenterView {
    /// `MLB`, `PA3`, `TLS` or `DIJ`.
    pub code: String,
    pub name: String,
    /// `temporary_only` or `permanent_nominative_badge` (R11.1).
    #[schema(value_type = String)]
    pub access: ciel_terms::DatacenterAccess,
    /// R11.2.
    pub prevention_plan_required: bool,
    /// Yearly availability target in percent (R5.6), if any.
    #[schema(value_type = Option<String>)]
    pub availability_percent: Option<rust_decimal::Decimal>,
}

/// The desk's answer with its reasons in both languages, the refusals'
/// and notes' codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCheckAnswer {
    #[serde(flatten)]
    pub answer: access::CheckAnswer,
    pub explanation_fr: String,
    pub explanation_en: String,
    /// `deny:` codes of the rules that refuse.
    pub denials: Vec<String>,
    /// `note:` codes (the official ID to check...).
    pub notes: Vec<String>,
}

// ---- datacenters, pass, access check ------------------------------------------

/// The datacenters of the terms in force with their access policy
/// (temporary only, or permanent nominative badges) and whether a
/// prevention plan is required (R11.1-R11.2).
#[utoipa::path(get, path = "/api/v1/colocation/datacenters", tag = "colocation_ops",
    responses((status = 200, body = Items<DatacenterView>)))]
pub async fn datacenters(
    State(s): State<AppState>,
    _p: Principal,
) -> ApiResult<Json<Items<DatacenterView>>> {
    Ok(Json(Items {
        items: access::datacenters(&s)?
            .into_iter()
            .map(|d| DatacenterView {
                code: d.code,
                name: d.name,
                access: d.access,
                prevention_plan_required: d.prevention_plan_required,
                availability_percent: d.availability_percent,
            })
            .collect(),
    }))
}

/// Staff run the daily colocation pass now: plan reminders (R11.2),
/// deadline alerts (R11.4), decommissioning steps and resumed billing (R11.6).
#[utoipa::path(post, path = "/api/v1/colocation/pass", tag = "colocation_ops",
    responses((status = 200, body = pass::PassReport), (status = 403, body = Problem)))]
pub async fn run_pass(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<pass::PassReport>> {
    Ok(Json(pass::run_now(&s, &p).await?))
}

/// Who the desk checks: a declared person, or a companion by name within
/// its client.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessCheck {
    /// Datacenter code of the terms (`MLB`, `PA3`, `TLS`, `DIJ`).
    pub site: String,
    /// The instant of the visit (default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<jiff::Timestamp>,
    /// A declared person.
    pub person_id: Option<String>,
    /// A companion: its client and name.
    pub org_id: Option<String>,
    pub name: Option<String>,
}

async fn check(s: &AppState, p: &Principal, q: AccessCheck) -> ApiResult<Json<AccessCheckAnswer>> {
    let visitor = match (q.person_id, q.org_id, q.name) {
        (Some(id), None, None) => access::Visitor::Person(id),
        (None, Some(org_id), Some(name)) => access::Visitor::Companion { org_id, name },
        _ => {
            return Err(Problem::invalid(
                "person_id",
                "a person_id, or a companion's org_id and name",
            ));
        }
    };
    let a = access::check(s, p, &visitor, &q.site, q.at).await?;
    let codes = |c: Vec<&str>| c.into_iter().map(str::to_owned).collect();
    Ok(Json(AccessCheckAnswer {
        explanation_fr: a.decision.reasons.render(Lang::Fr),
        explanation_en: a.decision.reasons.render(Lang::En),
        denials: codes(a.decision.denials()),
        notes: codes(a.decision.notes()),
        answer: a,
    }))
}

/// The reception desk's question: may this person enter this site at this
/// instant? Yes or no, with every rule checked (badge or approved request,
/// prevention plan, official ID to check) (R11.1-R11.2).
#[utoipa::path(get, path = "/api/v1/colocation/access-check", tag = "colocation_ops",
    params(AccessCheck),
    responses((status = 200, body = AccessCheckAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn access_check_get(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<AccessCheck>,
) -> ApiResult<Json<AccessCheckAnswer>> {
    check(&s, &p, q).await
}

/// The same question with a JSON body.
#[utoipa::path(post, path = "/api/v1/colocation/access-check", tag = "colocation_ops",
    request_body = AccessCheck,
    responses((status = 200, body = AccessCheckAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn access_check_post(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(q): ApiJson<AccessCheck>,
) -> ApiResult<Json<AccessCheckAnswer>> {
    check(&s, &p, q).await
}

// ---- people -------------------------------------------------------------------

/// A person the client declares (R11.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    pub name: String,
    /// `national_id`, `passport`, `residence_permit` or `driving_licence`.
    pub id_kind: String,
    pub company: String,
}

/// The people an organisation declared (removed ones keep `removed_at`).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/persons", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<PersonRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_persons(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<PersonRow>>> {
    let pg = access::list_persons(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// Declares a person allowed to come (the client, or staff for it).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/colocation/persons", tag = "colocation_ops",
    params(("org_id" = String, Path)), request_body = PersonRequest,
    responses((status = 201, body = PersonRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn declare_person(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<PersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonRow>)> {
    let row = access::declare_person(&s, &p, &org_id, &r.name, &r.id_kind, &r.company).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Removes a person from the declared list from now on.
#[utoipa::path(post, path = "/api/v1/colocation/persons/{person_id}/remove", tag = "colocation_ops",
    params(("person_id" = String, Path)),
    responses((status = 200, body = PersonRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_person(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonRow>> {
    Ok(Json(access::remove_person(&s, &p, &id).await?))
}

// ---- temporary access requests ----------------------------------------------

/// A temporary access request (sites granting temporary access only, MLB).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequestBody {
    pub site: String,
    #[schema(value_type = String, format = DateTime)]
    pub window_start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub window_end: jiff::Timestamp,
    pub purpose: String,
    /// Declared people (their identifiers).
    pub people: Vec<String>,
    /// Third parties announced beforehand (names).
    #[serde(default)]
    pub companions: Vec<String>,
}

/// An organisation's temporary access requests, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/access-requests", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<RequestRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_requests(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<RequestRow>>> {
    let pg = access::list_requests(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// Requests temporary access; a person not declared, a site granting
/// badges, an empty or past window: 422 naming the field and R11.1.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/colocation/access-requests", tag = "colocation_ops",
    params(("org_id" = String, Path)), request_body = AccessRequestBody,
    responses((status = 201, body = RequestRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn request_access(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<AccessRequestBody>,
) -> ApiResult<(StatusCode, Json<RequestRow>)> {
    let row = access::request_access(
        &s,
        &p,
        &org_id,
        access::RequestInput {
            site: r.site,
            window_start: r.window_start,
            window_end: r.window_end,
            purpose: r.purpose,
            people: r.people,
            companions: r.companions,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Staff: the pending requests, the soonest window first.
#[utoipa::path(get, path = "/api/v1/colocation/access-requests/pending", tag = "colocation_ops",
    responses((status = 200, body = Items<RequestRow>), (status = 403, body = Problem)))]
pub async fn pending_requests(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<RequestRow>>> {
    let rows = access::pending_requests(&s, &p).await?;
    Ok(Json(Items { items: rows }))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/colocation/access-requests/{request_id}", tag = "colocation_ops",
    params(("request_id" = String, Path)),
    responses((status = 200, body = RequestRow), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_request(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestRow>> {
    Ok(Json(access::get_request(&s, &p, &id).await?))
}

/// A decision on a pending request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Staff: `approved` or `refused`; the client: `cancelled`.
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

/// Staff approve or refuse a pending request (the client's Administrators
/// are mailed); the client cancels its own.
#[utoipa::path(post, path = "/api/v1/colocation/access-requests/{request_id}/decision", tag = "colocation_ops",
    params(("request_id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = RequestRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_request(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<DecisionBody>,
) -> ApiResult<Json<RequestRow>> {
    if !["approved", "refused", "cancelled"].contains(&r.decision.as_str()) {
        return Err(Problem::invalid(
            "decision",
            "approved, refused or cancelled",
        ));
    }
    let row = access::decide_request(&s, &p, &id, &r.decision, &r.note).await?;
    Ok(Json(row))
}

// ---- visits with companions at badge sites ------------------------------------

/// A visit at a badge site (PA3, Toulouse, Dijon) with the companions who
/// come with a declared badge holder, announced before it starts (R11.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    pub site: String,
    /// The declared person the companions come with.
    pub host_person_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub window_start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub window_end: jiff::Timestamp,
    pub purpose: String,
    /// Names of the third parties, at least one.
    pub companions: Vec<String>,
}

/// An organisation's announced visits with their companions.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/visits", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<VisitRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_visits(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<VisitRow>>> {
    let pg = access::list_visits(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// Announces the companions of a visit at a badge site; at MLB (companions
/// go in the access request), with no companion, a host the client did not
/// declare, or a window already started: 422 naming the field and R11.1.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/colocation/visits", tag = "colocation_ops",
    params(("org_id" = String, Path)), request_body = VisitBody,
    responses((status = 201, body = VisitRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn announce_visit(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<VisitBody>,
) -> ApiResult<(StatusCode, Json<VisitRow>)> {
    let row = access::announce_visit(
        &s,
        &p,
        &org_id,
        access::VisitInput {
            site: r.site,
            host_person_id: r.host_person_id,
            window_start: r.window_start,
            window_end: r.window_end,
            purpose: r.purpose,
            companions: r.companions,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

// ---- badges -------------------------------------------------------------------

/// A permanent nominative badge to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BadgeBody {
    pub person_id: String,
    pub site: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_until: Option<jiff::Timestamp>,
}

/// An organisation's badges with their history.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/badges", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<BadgeRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_badges(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<BadgeRow>>> {
    let pg = access::list_badges(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// Staff issue a badge; at a site granting temporary access only (MLB) or
/// for a person not declared: 422 citing R11.1.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/colocation/badges", tag = "colocation_ops",
    params(("org_id" = String, Path)), request_body = BadgeBody,
    responses((status = 201, body = BadgeRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn issue_badge(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<BadgeBody>,
) -> ApiResult<(StatusCode, Json<BadgeRow>)> {
    let row = access::issue_badge(&s, &p, &org_id, &r.person_id, &r.site, r.valid_until).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// A badge's next event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BadgeEventBody {
    /// `suspend`, `reactivate` or `revoke` (final).
    pub action: String,
    #[serde(default)]
    pub note: String,
}

/// Staff suspend, reactivate or revoke a badge.
#[utoipa::path(post, path = "/api/v1/colocation/badges/{badge_id}/events", tag = "colocation_ops",
    params(("badge_id" = String, Path)), request_body = BadgeEventBody,
    responses((status = 200, body = BadgeRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn badge_event(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<BadgeEventBody>,
) -> ApiResult<Json<BadgeRow>> {
    if !["suspend", "reactivate", "revoke"].contains(&r.action.as_str()) {
        return Err(Problem::invalid("action", "suspend, reactivate or revoke"));
    }
    Ok(Json(
        access::badge_action(&s, &p, &id, &r.action, &r.note).await?,
    ))
}

// ---- prevention plans ---------------------------------------------------------

/// A plan signed at the first intervention.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    pub site: String,
    /// Who signed for the client.
    pub signatory: String,
    /// The site's approved preventer.
    pub preventer: String,
}

/// An organisation's prevention plans with their validity now (R11.2).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/prevention-plans", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<access::PlanView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_plans(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<access::PlanView>>> {
    let pg = access::list_plans(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// Staff record the plan signed now (or back-dated with
/// `Ciel-Occurred-At`); valid 4 years (R11.2).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/colocation/prevention-plans", tag = "colocation_ops",
    params(("org_id" = String, Path)), request_body = PlanBody,
    responses((status = 201, body = access::PlanView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_plan(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<PlanBody>,
) -> ApiResult<(StatusCode, Json<access::PlanView>)> {
    let v = access::sign_plan(&s, &p, &org_id, &r.site, &r.signatory, &r.preventer).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

// ---- remote hands -------------------------------------------------------------

/// Remote hands to order on a colocation service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteHandsBody {
    /// `racking`, `unracking`, `patching`, `reset`, `power_on`,
    /// `hardware_reception` or `hardware_removal`.
    pub kind: String,
    pub description: String,
}

/// Orders remote hands (R11.3) at the price of the list in force today.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/remote-hands", tag = "colocation_ops",
    params(("service_id" = String, Path)), request_body = RemoteHandsBody,
    responses((status = 201, body = RemoteHandsRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn order_remote_hands(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<RemoteHandsBody>,
) -> ApiResult<(StatusCode, Json<RemoteHandsRow>)> {
    let row = work::order_remote_hands(&s, &p, &service_id, &r.kind, &r.description).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// An organisation's remote-hands orders.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/remote-hands", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<RemoteHandsRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_remote_hands(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<RemoteHandsRow>>> {
    let pg = work::list_remote_hands(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

/// The end of remote hands.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    /// true: done (the price goes to billing); false: cancelled.
    pub done: bool,
    pub minutes_spent: Option<i64>,
}

/// Staff record remote hands done with the time spent (the price goes to
/// billing once), or cancelled.
#[utoipa::path(post, path = "/api/v1/colocation/remote-hands/{remote_hands_id}/completion", tag = "colocation_ops",
    params(("remote_hands_id" = String, Path)), request_body = CompletionBody,
    responses((status = 200, body = RemoteHandsRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn finish_remote_hands(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CompletionBody>,
) -> ApiResult<Json<RemoteHandsRow>> {
    let row = work::finish_remote_hands(&s, &p, &id, r.done, r.minutes_spent).await?;
    Ok(Json(row))
}

// ---- deadlines ------------------------------------------------------------------

/// A change request, an inventory request or a damage notice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlineBody {
    /// `change_answer` (the client's change request: the provider answers),
    /// `inventory` or `damage_repair` (staff: the client acts).
    pub kind: String,
    pub subject: String,
    pub detail: String,
}

/// Opens a 7-day deadline on a colocation service (R11.4).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/colocation-deadlines", tag = "colocation_ops",
    params(("service_id" = String, Path)), request_body = DeadlineBody,
    responses((status = 201, body = DeadlineAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn open_deadline(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<DeadlineBody>,
) -> ApiResult<(StatusCode, Json<DeadlineAnswer>)> {
    let v = work::open(&s, &p, &service_id, &r.kind, &r.subject, &r.detail).await?;
    Ok((StatusCode::CREATED, Json(deadline(v))))
}

/// An organisation's deadlines with their state now.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/deadlines", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<DeadlineAnswer>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_deadlines(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<DeadlineAnswer>>> {
    let pg = work::list(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(ItemsPage {
        items: pg.items.into_iter().map(deadline).collect(),
        next_cursor: pg.next_cursor,
    }))
}

/// Staff: open deadlines, the nearest end first.
#[utoipa::path(get, path = "/api/v1/colocation/deadlines/queue", tag = "colocation_ops",
    responses((status = 200, body = Items<DeadlineAnswer>), (status = 403, body = Problem)))]
pub async fn deadline_queue(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<DeadlineAnswer>>> {
    let items = work::queue(&s, &p)
        .await?
        .into_iter()
        .map(deadline)
        .collect();
    Ok(Json(Items { items }))
}

/// One deadline with its state now.
#[utoipa::path(get, path = "/api/v1/colocation/deadlines/{deadline_id}", tag = "colocation_ops",
    params(("deadline_id" = String, Path)),
    responses((status = 200, body = DeadlineAnswer), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_deadline(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DeadlineAnswer>> {
    Ok(Json(deadline(work::get(&s, &p, &id).await?)))
}

/// What the owner did.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneBody {
    /// Change requests: `approved` or `refused`.
    pub decision: Option<String>,
    /// The written answer, the inventory, or how the damage was repaired.
    pub answer: String,
}

/// The owner acts: staff answer a change request in writing, the client
/// sends its inventory or reports the damage repaired.
#[utoipa::path(post, path = "/api/v1/colocation/deadlines/{deadline_id}/completion", tag = "colocation_ops",
    params(("deadline_id" = String, Path)), request_body = DoneBody,
    responses((status = 200, body = DeadlineAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_deadline(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<DoneBody>,
) -> ApiResult<Json<DeadlineAnswer>> {
    let v = work::complete(
        &s,
        &p,
        &id,
        work::Completion {
            decision: r.decision,
            answer: r.answer,
        },
    )
    .await?;
    Ok(Json(deadline(v)))
}

/// A repair cost.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairBody {
    /// Euros excluding VAT, e.g. "340.00".
    pub amount: String,
}

/// Staff charge the repair of damage left unrepaired past its 7 days
/// (R11.4); before, 422.
#[utoipa::path(post, path = "/api/v1/colocation/deadlines/{deadline_id}/repair-charge", tag = "colocation_ops",
    params(("deadline_id" = String, Path)), request_body = RepairBody,
    responses((status = 200, body = DeadlineAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn charge_repair(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RepairBody>,
) -> ApiResult<Json<DeadlineAnswer>> {
    Ok(Json(deadline(
        work::charge_repair(&s, &p, &id, &r.amount).await?,
    )))
}

// ---- power ----------------------------------------------------------------------

/// An organisation's power alerts: each crossing of the near or subscribed
/// level, with its reasons (R11.5).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/colocation/power-alerts", tag = "colocation_ops",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ItemsPage<PowerAlertRow>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_power_alerts(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ItemsPage<PowerAlertRow>>> {
    let pg = crate::colo::power::list_alerts(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    Ok(Json(pg.into()))
}

// ---- decommissioning ------------------------------------------------------------

/// The decommissioning of a terminated colocation service with its dates
/// (R11.6).
#[utoipa::path(get, path = "/api/v1/services/{service_id}/decommissioning", tag = "colocation_ops",
    params(("service_id" = String, Path)),
    responses((status = 200, body = decommission::DecommissionView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_decommissioning(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<decommission::DecommissionView>> {
    Ok(Json(decommission::of_service(&s, &p, &service_id).await?))
}

/// Staff open the decommissioning now (the midnight pass opens it too).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/decommissioning", tag = "colocation_ops",
    params(("service_id" = String, Path)),
    responses((status = 200, body = decommission::DecommissionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn open_decommissioning(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<decommission::DecommissionView>> {
    Ok(Json(decommission::open(&s, &p, &service_id).await?))
}

/// When the photo was taken.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PhotoParams {
    /// The photo's timestamp (RFC 3339), required.
    #[param(value_type = String, format = DateTime)]
    pub taken_at: Option<jiff::Timestamp>,
}

/// Uploads the timestamped photo of the emptied space (R11.6): the body is
/// the JPEG or PNG file itself (`Content-Type: image/jpeg` or `image/png`,
/// checked against its first bytes), at most 8 MiB.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/decommissioning/photo", tag = "colocation_ops",
    params(("service_id" = String, Path), PhotoParams),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = decommission::DecommissionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_photo(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiQuery(q): ApiQuery<PhotoParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<decommission::DecommissionView>> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let v = decommission::upload_photo(&s, &p, &service_id, &declared, q.taken_at, &body).await?;
    Ok(Json(v))
}

/// The photo proof, as a download (never shown inline).
#[utoipa::path(get, path = "/api/v1/services/{service_id}/decommissioning/photo", tag = "colocation_ops",
    params(("service_id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn download_photo(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Response> {
    let (meta, bytes) = decommission::photo(&s, &p, &service_id).await?;
    photo_response(&meta, bytes)
}

/// A stored photo as an attachment: its sniffed type, never HTML, never
/// inline.
pub fn photo_response(
    meta: &ciel_store::colo_decommission::PhotoMeta,
    bytes: Vec<u8>,
) -> ApiResult<Response> {
    let ext = if meta.content_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"decommissioning-proof.{ext}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// The registered formal notice's receipt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormalNoticeBody {
    /// The acknowledgement date of the registered letter.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: jiff::Timestamp,
}

/// Staff record the registered formal notice; the 30 days before
/// destruction run from its receipt (R11.6).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/decommissioning/formal-notice", tag = "colocation_ops",
    params(("service_id" = String, Path)), request_body = FormalNoticeBody,
    responses((status = 200, body = decommission::DecommissionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn formal_notice(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<FormalNoticeBody>,
) -> ApiResult<Json<decommission::DecommissionView>> {
    Ok(Json(
        decommission::formal_notice(&s, &p, &service_id, r.received_at).await?,
    ))
}
