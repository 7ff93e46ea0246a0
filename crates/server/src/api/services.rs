//! Services in the API (issue 4, items 5, 8 and 9): reads with the status
//! at the request's instant and what a termination would cost today, and
//! one route per staff or client action. A refused action answers 409
//! `invalid_transition` or 422 `rule_violated` (with the field), its detail
//! starting with the rule; nothing is written.

use super::calc::{StepView, date, decimal, steps};
use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::services::{self, PassReport, TerminationToday};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use ciel_catalog::service::{
    Party, Product, ReturnOutcome, ServiceEvent, ServiceState, SuspensionReason,
};
use ciel_domain::StaffRole;
use ciel_store::charges::Charge;
use ciel_store::services::ServiceRow;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What terminating the service today would give (R3.1, R3.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct TerminationTodayView {
    /// A notice received today (`YYYY-MM-DD`, in the terms' zone)...
    pub notice_received_on: String,
    /// ...ends the service on this day.
    pub last_day: String,
    /// The service would end with its fixed term.
    pub at_term_end: bool,
    /// Early-termination fee, exact decimal EUR excluding VAT.
    pub fee: String,
    pub explanation: Vec<StepView>,
}

impl From<TerminationToday> for TerminationTodayView {
    fn from(t: TerminationToday) -> Self {
        TerminationTodayView {
            notice_received_on: t.notice_received_on.to_string(),
            last_day: t.last_day.to_string(),
            at_term_end: t.at_term_end,
            fee: t.fee.to_string(),
            explanation: steps(t.explanation),
        }
    }
}

/// An amount handed to billing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeView {
    pub id: String,
    pub key: String,
    /// The rule that produced it, e.g. `R3.1`.
    pub rule: String,
    pub label: String,
    /// Exact decimal EUR excluding VAT.
    pub amount: String,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    /// The invoice that billed it, once billed.
    pub invoice_id: Option<String>,
}

impl From<Charge> for ChargeView {
    fn from(c: Charge) -> Self {
        ChargeView {
            id: c.id.to_string(),
            key: c.charge_key,
            rule: c.rule,
            label: c.label,
            amount: c.amount,
            occurred_at: c.occurred_at,
            invoice_id: c.invoice_id,
        }
    }
}

/// A service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub org_id: String,
    pub order_id: String,
    /// Item kind: `cloud_vm`, `pra`, `colocation`, `dedicated_server`,
    /// `backup`, `m365_backup`, `cloud_connect`, `support`, `managed_services`.
    pub kind: String,
    pub label: String,
    #[schema(value_type = Object)]
    pub item: serde_json::Value,
    pub quantity: i64,
    /// Monthly fee of the service, exact decimal EUR excluding VAT.
    pub monthly_fee: String,
    /// The terms version of the order (R1.2).
    pub terms_version: String,
    /// At the request's instant: `ordered`, `in_contest`, `fixed_term`,
    /// `indefinite`, `terminating`, `suspended` or `ended`.
    pub status: String,
    /// Start of the commitment (R1.6, R2.5), `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// Last day of the fixed term, `YYYY-MM-DD`.
    pub commitment_end: Option<String>,
    /// First day of the indefinite term once renewed (R3.2).
    pub renewed_on: Option<String>,
    /// Last day of service once a termination is recorded.
    pub last_day: Option<String>,
    /// End of the contest window (R1.7).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub contest_window_end: Option<Timestamp>,
    /// When the next time-driven step falls due.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<Timestamp>,
    /// The machine state with its evidence (provisioning, acceptance,
    /// termination, suspensions, fair use, products...); detail only.
    #[schema(value_type = Option<Object>)]
    pub state_detail: Option<serde_json::Value>,
    /// What a termination notice received today would give (detail only).
    pub termination_today: Option<TerminationTodayView>,
    /// Amounts handed to billing (detail only).
    pub charges: Option<Vec<ChargeView>>,
}

/// A page of services.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub items: Vec<ServiceView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn status_code(st: &ServiceState, now: Timestamp) -> String {
    serde_json::to_value(st.status(now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The API view of a service at `now`.
pub fn view(row: ServiceRow, now: Timestamp) -> ApiResult<ServiceView> {
    let st = services::state_of(&row)?;
    let s = st.service();
    Ok(ServiceView {
        id: row.id.to_string(),
        org_id: row.org_id.to_string(),
        order_id: row.order_id,
        kind: row.kind,
        label: row.label,
        item: serde_json::from_str(&row.item_json).unwrap_or_default(),
        quantity: row.quantity,
        monthly_fee: row.monthly_fee,
        terms_version: row.terms_version,
        status: status_code(&st, now),
        start_date: row.start_date,
        commitment_end: row.term_last_day,
        renewed_on: s.and_then(|s| s.renewed_on).map(|d| d.to_string()),
        last_day: s
            .and_then(|s| s.termination.as_ref())
            .map(|t| t.last_day.to_string()),
        contest_window_end: s.map(|s| s.contest_window_end),
        next_due_at: row.next_due_at,
        state_detail: None,
        termination_today: None,
        charges: None,
    })
}

/// Lists a client's services, newest first, with their status now.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/services", tag = "services",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = ServiceList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_services(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<ServiceList>> {
    let page = services::list(&s, &p, &org_id, q.cursor()?, q.limit()?).await?;
    let now = s.now();
    Ok(Json(ServiceList {
        items: page
            .items
            .into_iter()
            .map(|r| view(r, now))
            .collect::<ApiResult<_>>()?,
        next_cursor: page.next_cursor,
    }))
}

async fn detail(s: &AppState, p: &Principal, row: ServiceRow) -> ApiResult<Json<ServiceView>> {
    let now = s.now();
    let st = services::state_of(&row)?;
    let today = services::termination_today(s, &row, &st, now)?;
    let db = s.store().db();
    let mut charges =
        ciel_store::charges::of_source(db, &p.scope, "service", row.id.as_str()).await?;
    // The month close's usage charges (R2.8-R2.10, R11.5) of the service.
    charges.extend(
        ciel_store::charges::of_source(db, &p.scope, crate::usage::close::SOURCE, row.id.as_str())
            .await?,
    );
    let detail = serde_json::from_str(&row.state_json).ok();
    let mut v = view(row, now)?;
    v.state_detail = detail;
    v.termination_today = today.map(Into::into);
    v.charges = Some(charges.into_iter().map(Into::into).collect());
    Ok(Json(v))
}

/// A service, with what a termination would cost today and its charges.
#[utoipa::path(get, path = "/api/v1/services/{service_id}", tag = "services",
    params(("service_id" = String, Path)),
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_service(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<ServiceView>> {
    let row = services::get(&s, &p, &service_id).await?;
    detail(&s, &p, row).await
}

/// Parameters of an early-termination quote.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteParams {
    /// Last day of service, `YYYY-MM-DD`, inside the fixed term (default:
    /// the last day a notice received today would give, R3.2).
    pub last_day: Option<String>,
    /// The service required a specific investment (R3.1: 100 %).
    pub investment: Option<bool>,
}

/// The early-termination fee for a last day of service (R3.1), with its
/// explanation.
#[utoipa::path(get, path = "/api/v1/services/{service_id}/termination-quote", tag = "services",
    params(("service_id" = String, Path), QuoteParams),
    responses((status = 200, body = super::calc::CalcResponse), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn termination_quote(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiQuery(q): ApiQuery<QuoteParams>,
) -> ApiResult<Json<super::calc::CalcResponse>> {
    let x = services::quote(
        &s,
        &p,
        &service_id,
        q.last_day.as_deref(),
        q.investment.unwrap_or(false),
    )
    .await?;
    let text = x.explanation.render(ciel_engine::explain::Lang::Fr);
    Ok(Json(super::calc::CalcResponse {
        result: serde_json::to_value(&x.value).map_err(|_| Problem::internal())?,
        explanation: steps(x.explanation),
        text,
    }))
}

async fn act(
    s: &AppState,
    p: &Principal,
    id: &str,
    event: ServiceEvent,
) -> ApiResult<Json<ServiceView>> {
    let row = services::act(s, p, id, event).await?;
    detail(s, p, row).await
}

/// A product lent with the service (R3.6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    /// The product's identifier (serial number, asset tag).
    pub id: String,
    /// Its value on the order date, decimal EUR as a string.
    pub value_at_order: String,
}

/// Staff make the service available (R1.6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// The planned provisioning day of the order, `YYYY-MM-DD`.
    pub planned_on: Option<String>,
    /// The delay is the client's fault: billing starts on the planned day
    /// (R2.5).
    pub client_delay: Option<bool>,
    /// Products lent with the service, to return at the end (R3.6).
    pub products: Option<Vec<ProductBody>>,
}

/// Staff make the service available: the commitment starts (R1.6, R2.5) and
/// the client is told, with its contest window (R1.7).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/provision", tag = "services",
    params(("service_id" = String, Path)), request_body = ProvisionRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn provision(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<ProvisionRequest>,
) -> ApiResult<Json<ServiceView>> {
    let planned_on = r
        .planned_on
        .as_deref()
        .map(|d| date("planned_on", d))
        .transpose()?;
    let mut products = Vec::new();
    for (i, b) in r.products.unwrap_or_default().into_iter().enumerate() {
        let value = decimal(&format!("products[{i}].value_at_order"), &b.value_at_order)?;
        products.push(Product::new(b.id, value));
    }
    let event = ServiceEvent::Provision {
        planned_on,
        client_delay: r.client_delay.unwrap_or(false),
        products,
    };
    act(&s, &p, &service_id, event).await
}

/// A written text: a contest, its resolution, a reopening note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    pub text: String,
}

/// The client contests the provisioning in writing, inside its window
/// (R1.7); support staff are told.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/contest", tag = "services",
    params(("service_id" = String, Path)), request_body = TextRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn contest(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<TextRequest>,
) -> ApiResult<Json<ServiceView>> {
    act(&s, &p, &service_id, ServiceEvent::Contest { text: r.text }).await
}

/// Staff settle the client's contest (R1.7); the service is then accepted.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/resolve-contest", tag = "services",
    params(("service_id" = String, Path)), request_body = TextRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn resolve_contest(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<TextRequest>,
) -> ApiResult<Json<ServiceView>> {
    let event = ServiceEvent::ResolveContest { resolution: r.text };
    act(&s, &p, &service_id, event).await
}

/// Staff record the client's first use: the service is accepted (R1.7).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/first-use", tag = "services",
    params(("service_id" = String, Path)),
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn first_use(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<ServiceView>> {
    act(&s, &p, &service_id, ServiceEvent::RecordFirstUse).await
}

/// A termination notice by registered letter (R3.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// `client` or `provider`.
    pub by: String,
    /// Day the registered letter was received, `YYYY-MM-DD`.
    pub received_on: String,
}

/// Staff record a termination notice received by registered letter: the
/// last day of service follows from its receipt (R3.2).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/notice", tag = "services",
    params(("service_id" = String, Path)), request_body = NoticeRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn give_notice(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<NoticeRequest>,
) -> ApiResult<Json<ServiceView>> {
    let by = match r.by.as_str() {
        "client" => Party::Client,
        "provider" => Party::Provider,
        _ => return Err(Problem::invalid("by", "client or provider")),
    };
    let received_on = date("received_on", &r.received_on)?;
    act(
        &s,
        &p,
        &service_id,
        ServiceEvent::GiveNotice { by, received_on },
    )
    .await
}

/// An early termination (R3.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateEarlyRequest {
    /// Last day of service, `YYYY-MM-DD`, inside the fixed term.
    pub last_day: String,
    /// The service required a specific investment (R3.1: 100 %).
    pub investment: Option<bool>,
    /// The fee the client was quoted and confirmed (decimal string): a
    /// different fee today is refused rather than charged.
    pub quoted_fee: Option<String>,
}

/// Staff record an early termination confirmed by the client: the fee is
/// handed to billing (R3.1).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/terminate-early", tag = "services",
    params(("service_id" = String, Path)), request_body = TerminateEarlyRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn terminate_early(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<TerminateEarlyRequest>,
) -> ApiResult<Json<ServiceView>> {
    let row = services::get(&s, &p, &service_id).await?;
    let event = ServiceEvent::TerminateEarly {
        last_day: date("last_day", &r.last_day)?,
        monthly_fee: decimal("monthly_fee", &row.monthly_fee)?,
        investment: r.investment.unwrap_or(false),
        quoted_fee: r
            .quoted_fee
            .as_deref()
            .map(|f| decimal("quoted_fee", f))
            .transpose()?,
    };
    act(&s, &p, &service_id, event).await
}

/// A suspension (R3.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// `non_payment`, `illicit_use`, `hacking`, `legal_demand` or
    /// `security_danger`.
    pub reason: String,
    /// Non-payment: when the client was informed (RFC 3339); the suspension
    /// is possible the formal-notice delay after it (R2.6).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub informed_at: Option<Timestamp>,
}

/// Staff suspend the service with its reason (R3.4); billing continues and
/// the client is told (with the securing deadline for a security danger).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/suspend", tag = "services",
    params(("service_id" = String, Path)), request_body = SuspendRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn suspend(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<SuspendRequest>,
) -> ApiResult<Json<ServiceView>> {
    let reason = match (r.reason.as_str(), r.informed_at) {
        ("non_payment", Some(informed_at)) => SuspensionReason::NonPayment { informed_at },
        ("non_payment", None) => {
            return Err(Problem::invalid(
                "informed_at",
                "R3.4 (CG 9.2): a suspension for non-payment needs the instant the client was informed",
            ));
        }
        ("illicit_use", _) => SuspensionReason::IllicitUse,
        ("hacking", _) => SuspensionReason::Hacking,
        ("legal_demand", _) => SuspensionReason::LegalDemand,
        ("security_danger", _) => SuspensionReason::SecurityDanger,
        _ => {
            return Err(Problem::invalid(
                "reason",
                "non_payment, illicit_use, hacking, legal_demand or security_danger",
            ));
        }
    };
    act(&s, &p, &service_id, ServiceEvent::Suspend { reason }).await
}

/// Staff reopen a suspended service, with a note (R3.4).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/reopen", tag = "services",
    params(("service_id" = String, Path)), request_body = TextRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reopen(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<TextRequest>,
) -> ApiResult<Json<ServiceView>> {
    act(&s, &p, &service_id, ServiceEvent::Reopen { note: r.text }).await
}

/// A last day of service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LastDayRequest {
    /// `YYYY-MM-DD`.
    pub last_day: String,
}

/// Staff terminate at the client's cost after the securing delay of a
/// security suspension passed (R3.4), or a service suspended for
/// non-payment (R3.3); the remaining fees go to billing.
#[utoipa::path(post, path = "/api/v1/services/{service_id}/terminate-for-cause", tag = "services",
    params(("service_id" = String, Path)), request_body = LastDayRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn terminate_for_cause(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<LastDayRequest>,
) -> ApiResult<Json<ServiceView>> {
    let row = services::get(&s, &p, &service_id).await?;
    let event = ServiceEvent::TerminateForCause {
        last_day: date("last_day", &r.last_day)?,
        monthly_fee: decimal("monthly_fee", &row.monthly_fee)?,
    };
    act(&s, &p, &service_id, event).await
}

/// A month's metered traffic (R3.5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficRequest {
    /// Any day of the month, `YYYY-MM-DD`.
    pub month: String,
    /// Bytes exchanged in the month.
    pub bytes: u64,
}

/// Records a month's traffic; reaching the fair-use threshold flags the
/// service (R3.5).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/traffic", tag = "services",
    params(("service_id" = String, Path)), request_body = TrafficRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_traffic(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<TrafficRequest>,
) -> ApiResult<Json<ServiceView>> {
    let event = ServiceEvent::RecordMonthlyTraffic {
        month: date("month", &r.month)?,
        bytes: r.bytes,
    };
    act(&s, &p, &service_id, event).await
}

/// What happened to a lent product (R3.6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductReturnRequest {
    pub product: String,
    /// `returned`, `refused`, `destroyed` or `lost`.
    pub outcome: String,
    /// Day it came back (`returned` only), `YYYY-MM-DD`.
    pub on: Option<String>,
}

/// Staff record the return (or loss) of a lent product (R3.6).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/product-return", tag = "services",
    params(("service_id" = String, Path)), request_body = ProductReturnRequest,
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn product_return(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
    ApiJson(r): ApiJson<ProductReturnRequest>,
) -> ApiResult<Json<ServiceView>> {
    let outcome = match (r.outcome.as_str(), r.on.as_deref()) {
        ("returned", Some(on)) => ReturnOutcome::Returned {
            on: date("on", on)?,
        },
        ("returned", None) => return Err(Problem::invalid("on", "the day the product came back")),
        ("refused", _) => ReturnOutcome::Refused,
        ("destroyed", _) => ReturnOutcome::Destroyed,
        ("lost", _) => ReturnOutcome::Lost,
        _ => {
            return Err(Problem::invalid(
                "outcome",
                "returned, refused, destroyed or lost",
            ));
        }
    };
    let event = ServiceEvent::RecordProductReturn {
        product: r.product,
        outcome,
    };
    act(&s, &p, &service_id, event).await
}

/// The client asks for a copy of its data at the end (R12.2).
#[utoipa::path(post, path = "/api/v1/services/{service_id}/reversibility", tag = "services",
    params(("service_id" = String, Path)),
    responses((status = 200, body = ServiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn request_reversibility(
    State(s): State<AppState>,
    p: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<ServiceView>> {
    act(&s, &p, &service_id, ServiceEvent::RequestReversibility).await
}

/// What a pass did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassView {
    pub services: u64,
    /// Steps applied, per step name.
    #[schema(value_type = Object)]
    pub steps: serde_json::Value,
    pub retried: u64,
}

impl From<PassReport> for PassView {
    fn from(r: PassReport) -> Self {
        PassView {
            services: r.services,
            steps: serde_json::to_value(r.steps).unwrap_or_default(),
            retried: r.retried,
        }
    }
}

/// Runs the time-driven steps due now (staff administrators; the daily job
/// does the same at midnight). Idempotent.
#[utoipa::path(post, path = "/api/v1/services/pass", tag = "services",
    responses((status = 200, body = PassView), (status = 403, body = Problem)))]
pub async fn run_pass(State(s): State<AppState>, p: Principal) -> ApiResult<Json<PassView>> {
    require_staff(&p, StaffRole::manages_staff)?;
    let report = services::run_pass(&s, s.now()).await?;
    Ok(Json(report.into()))
}
