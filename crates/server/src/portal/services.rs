//! Services in the portal: the client space lists its services with their
//! status, commitment end and renewal, and shows each one with what a
//! termination would cost today (R3.1, R3.2); an Administrator contests a
//! provisioning (R1.7) or asks for its data at the end (R12.2). The back
//! office runs every staff step. Every action is the API's workflow
//! (`crate::services::act`).

use super::{Ctx, Form, Viewer, done};
use crate::auth::Principal;
use crate::i18n::Tr;
use crate::problem::Problem;
use crate::services;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_catalog::service::{
    AcceptanceStatus, Party, Product, ReturnOutcome, ServiceEvent, SuspensionReason,
};
use ciel_store::orgs;
use ciel_store::services::ServiceRow;
use rust_decimal::Decimal;

pub struct ServiceItem {
    pub id: String,
    pub label: String,
    pub status: String,
    pub start: String,
    pub commitment_end: String,
    pub renewed_on: String,
    pub monthly: String,
}

pub struct ChargeItem {
    pub label: String,
    pub rule: String,
    pub amount: String,
}

pub struct ProductItem {
    pub id: String,
    pub value: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    org_name: String,
    base: String,
    services: Vec<ServiceItem>,
    next_cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "service.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    s: ServiceItem,
    org_name: String,
    back: String,
    action_base: String,
    /// A provisioned cloud or PRA service: its SLA page exists (issue 5, item 8).
    has_sla: bool,
    status_code: String,
    order_id: String,
    terms_version: String,
    contest_until: String,
    acceptance: String,
    last_day: String,
    suspension: String,
    /// What a notice received today gives: (last day, fee, explanation).
    today: Option<(String, String, String)>,
    charges: Vec<ChargeItem>,
    products: Vec<ProductItem>,
    can_contest: bool,
    can_ask_data: bool,
    is_staff: bool,
    error: Option<String>,
}

fn status_key(code: &str) -> &'static str {
    match code {
        "ordered" => "services.status_ordered",
        "in_contest" => "services.status_in_contest",
        "fixed_term" => "services.status_fixed_term",
        "indefinite" => "services.status_indefinite",
        "terminating" => "services.status_terminating",
        "suspended" => "services.status_suspended",
        "ended" => "services.status_ended",
        _ => "",
    }
}

fn status_code(st: &ciel_catalog::service::ServiceState, now: jiff::Timestamp) -> String {
    serde_json::to_value(st.status(now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn item(v: &Viewer, row: &ServiceRow) -> Result<ServiceItem, Problem> {
    let st = services::state_of(row)?;
    let code = status_code(&st, v.state.now());
    Ok(ServiceItem {
        id: row.id.to_string(),
        label: row.label.clone(),
        status: v.tr.t(status_key(&code)).to_owned(),
        start: row.start_date.clone().unwrap_or_default(),
        commitment_end: row.term_last_day.clone().unwrap_or_default(),
        renewed_on: st
            .service()
            .and_then(|s| s.renewed_on)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        monthly: row.monthly_fee.clone(),
    })
}

async fn list_page(v: &Viewer, p: &Principal, org_id: &str, base: &str) -> Response {
    let Ok(org) = orgs::get(v.state.store().db(), &p.scope, org_id).await else {
        return v.not_found();
    };
    let page = match services::list(&v.state, p, org.id.as_str(), v.cursor().as_deref(), 50).await {
        Ok(page) => page,
        Err(e) if e.status == 404 || e.status == 403 => return v.not_found(),
        Err(_) => {
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let items: Result<Vec<_>, _> = page.items.iter().map(|r| item(v, r)).collect();
    let Ok(items) = items else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    v.render(ListPage {
        t: v.tr,
        ctx: v.ctx(),
        org_name: org.name,
        base: base.to_owned(),
        services: items,
        next_cursor: page.next_cursor,
    })
}

async fn detail_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(row) = services::get(&v.state, p, id).await else {
        return v.not_found();
    };
    match detail(v, p, &row, error).await {
        Ok(page) => v.render_status(status, page),
        Err(_) => v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        ),
    }
}

fn explain_lang(tr: Tr) -> ciel_engine::explain::Lang {
    if tr.code() == "en" {
        ciel_engine::explain::Lang::En
    } else {
        ciel_engine::explain::Lang::Fr
    }
}

async fn detail(
    v: &Viewer,
    p: &Principal,
    row: &ServiceRow,
    error: Option<String>,
) -> Result<DetailPage, Problem> {
    let now = v.state.now();
    let db = v.state.store().db();
    let st = services::state_of(row)?;
    let code = status_code(&st, now);
    let s = st.service();
    let today = services::termination_today(&v.state, row, &st, now)?.map(|t| {
        (
            t.last_day.to_string(),
            t.fee.to_string(),
            t.explanation.render(explain_lang(v.tr)),
        )
    });
    let org_name = orgs::get(db, &p.scope, row.org_id.as_str()).await?.name;
    let charges = ciel_store::charges::of_source(db, &p.scope, "service", row.id.as_str())
        .await?
        .into_iter()
        .map(|c| ChargeItem {
            label: c.label,
            rule: c.rule,
            amount: c.amount,
        })
        .collect();
    let (back, action_base) = if p.is_staff() {
        (
            format!("/back-office/organizations/{}/services", row.org_id),
            format!("/back-office/services/{}", row.id),
        )
    } else {
        (
            "/espace-client/services".to_owned(),
            format!("/espace-client/services/{}", row.id),
        )
    };
    let acceptance = match s.map(|s| &s.acceptance) {
        Some(AcceptanceStatus::Pending) => v.tr.t("services.acceptance_pending").to_owned(),
        Some(AcceptanceStatus::Contested { at, text }) => {
            format!(
                "{} {} : {text}",
                v.tr.t("services.contested_at"),
                v.time(*at)
            )
        }
        Some(AcceptanceStatus::Accepted { at, .. }) => {
            format!("{} {}", v.tr.t("services.accepted_at"), v.time(*at))
        }
        None => String::new(),
    };
    Ok(DetailPage {
        t: v.tr,
        ctx: v.ctx(),
        s: item(v, row)?,
        org_name,
        back,
        action_base,
        has_sla: matches!(row.kind.as_str(), "cloud_vm" | "pra") && row.state == "provisioned",
        status_code: code,
        order_id: row.order_id.clone(),
        terms_version: row.terms_version.clone(),
        contest_until: s
            .filter(|s| s.contest_open_at(now))
            .map(|s| v.time(s.contest_window_end))
            .unwrap_or_default(),
        acceptance,
        last_day: s
            .and_then(|s| s.termination.as_ref())
            .map(|t| t.last_day.to_string())
            .unwrap_or_default(),
        suspension: s
            .and_then(|s| s.suspension.as_ref())
            .filter(|x| x.reopened_at.is_none())
            .map(|x| x.reason.name().to_owned())
            .unwrap_or_default(),
        today,
        charges,
        products: s
            .map(|s| {
                s.products
                    .iter()
                    .map(|x| ProductItem {
                        id: x.id.clone(),
                        value: x.value_at_order.to_string(),
                        outcome: match &x.outcome {
                            Some(ReturnOutcome::Returned { on }) => format!("returned {on}"),
                            Some(ReturnOutcome::Refused) => "refused".into(),
                            Some(ReturnOutcome::Destroyed) => "destroyed".into(),
                            Some(ReturnOutcome::Lost) => "lost".into(),
                            None => String::new(),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        can_contest: !p.is_staff()
            && p.user.is_org_admin
            && s.is_some_and(|s| s.contest_open_at(now)),
        can_ask_data: !p.is_staff()
            && p.user.is_org_admin
            && s.is_some_and(|s| s.termination.is_some() && s.reversibility_requested_at.is_none()),
        is_staff: p.is_staff(),
        error,
    })
}

pub async fn client_list(v: Viewer) -> Response {
    match v.require_service_viewer() {
        Ok(p) => list_page(&v, p, p.user.org_id.as_str(), "/espace-client").await,
        Err(r) => r,
    }
}

pub async fn client_service(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_service_viewer() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// Back to the service with a flash, or the page with the problem next to
/// the actions (404 for another organisation's service).
async fn after(
    v: &Viewer,
    p: &Principal,
    id: &str,
    base: &str,
    r: Result<ServiceRow, Problem>,
) -> Response {
    match r {
        Ok(s) => done(&format!("{base}/services/{}", s.id), "services.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(v, p, id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}

pub async fn client_action(
    v: Viewer,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let event = match action.as_str() {
        "contest" => ServiceEvent::Contest {
            text: form.get("text").to_owned(),
        },
        "reversibility" => ServiceEvent::RequestReversibility,
        _ => return v.not_found(),
    };
    let r = services::act(&v.state, p, &id, event).await;
    after(&v, p, &id, "/espace-client", r).await
}

pub async fn staff_list(v: Viewer, Path(org_id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => list_page(&v, p, &org_id, "/back-office").await,
        Err(r) => r,
    }
}

pub async fn staff_service(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

fn day(form: &Form, field: &str) -> Result<jiff::civil::Date, Problem> {
    crate::api::calc::date(field, form.get(field).trim())
}

fn opt_day(form: &Form, field: &str) -> Result<Option<jiff::civil::Date>, Problem> {
    if form.get(field).trim().is_empty() {
        Ok(None)
    } else {
        day(form, field).map(Some)
    }
}

fn money(form: &Form, field: &str) -> Result<Decimal, Problem> {
    crate::api::calc::decimal(field, form.get(field))
}

/// The event a back-office form describes.
fn staff_event(
    action: &str,
    form: &Form,
    row: &ServiceRow,
) -> Result<Option<ServiceEvent>, Problem> {
    let monthly = || crate::api::calc::decimal("monthly_fee", &row.monthly_fee);
    Ok(Some(match action {
        "provision" => {
            let products = match form.get("product_id").trim() {
                "" => vec![],
                pid => vec![Product::new(pid, money(form, "product_value")?)],
            };
            ServiceEvent::Provision {
                planned_on: opt_day(form, "planned_on")?,
                client_delay: form.checked("client_delay"),
                products,
            }
        }
        "contest" => ServiceEvent::Contest {
            text: form.get("text").to_owned(),
        },
        "resolve-contest" => ServiceEvent::ResolveContest {
            resolution: form.get("text").to_owned(),
        },
        "first-use" => ServiceEvent::RecordFirstUse,
        "notice" => ServiceEvent::GiveNotice {
            by: if form.get("by") == "provider" {
                Party::Provider
            } else {
                Party::Client
            },
            received_on: day(form, "received_on")?,
        },
        "terminate-early" => ServiceEvent::TerminateEarly {
            last_day: day(form, "last_day")?,
            monthly_fee: monthly()?,
            investment: form.checked("investment"),
            quoted_fee: None,
        },
        "suspend" => ServiceEvent::Suspend {
            reason: match form.get("reason") {
                "non_payment" => {
                    let at = form.get("informed_at").trim();
                    SuspensionReason::NonPayment {
                        informed_at: at
                            .parse()
                            .map_err(|_| Problem::invalid("informed_at", "an RFC 3339 instant"))?,
                    }
                }
                "illicit_use" => SuspensionReason::IllicitUse,
                "hacking" => SuspensionReason::Hacking,
                "legal_demand" => SuspensionReason::LegalDemand,
                "security_danger" => SuspensionReason::SecurityDanger,
                _ => return Err(Problem::invalid("reason", "choose a reason")),
            },
        },
        "reopen" => ServiceEvent::Reopen {
            note: form.get("text").to_owned(),
        },
        "terminate-for-cause" => ServiceEvent::TerminateForCause {
            last_day: day(form, "last_day")?,
            monthly_fee: monthly()?,
        },
        "traffic" => ServiceEvent::RecordMonthlyTraffic {
            month: day(form, "month")?,
            bytes: form
                .get("bytes")
                .trim()
                .parse()
                .map_err(|_| Problem::invalid("bytes", "a whole number of bytes"))?,
        },
        "product-return" => ServiceEvent::RecordProductReturn {
            product: form.get("product").to_owned(),
            outcome: match form.get("outcome") {
                "returned" => ReturnOutcome::Returned {
                    on: day(form, "on")?,
                },
                "refused" => ReturnOutcome::Refused,
                "destroyed" => ReturnOutcome::Destroyed,
                "lost" => ReturnOutcome::Lost,
                _ => return Err(Problem::invalid("outcome", "choose an outcome")),
            },
        },
        _ => return Ok(None),
    }))
}

pub async fn staff_action(
    v: Viewer,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(row) = services::get(&v.state, &p, &id).await else {
        return v.not_found();
    };
    let event = v
        .actor_for(&p, &form)
        .and_then(|actor| Ok((actor, staff_event(&action, &form, &row)?)));
    let r = match event {
        Ok((actor, Some(e))) => services::act(&v.state, &actor, &id, e).await,
        Ok((_, None)) => return v.not_found(),
        Err(e) => Err(e),
    };
    after(&v, &p, &id, "/back-office", r).await
}
