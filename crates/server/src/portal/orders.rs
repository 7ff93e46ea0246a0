//! Orders in the portal: the client space lists its orders with their
//! acceptance deadline and lets an Administrator accept a sent order; the
//! back office lists a client's orders and sends, records a paper
//! signature, validates or refuses them. Every action runs the same
//! workflow as the API (`crate::orders`).

use super::{Ctx, Form, Viewer, done};
use crate::auth::Principal;
use crate::i18n::Tr;
use crate::orders;
use crate::problem::Problem;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_store::orders::{Line, Order};
use ciel_store::orgs;

pub struct OrderRow {
    pub id: String,
    pub state: String,
    pub order_date: String,
    pub deadline: String,
    pub monthly: String,
}

/// A notified version the order may still object to, or has objected to.
pub struct PendingRow {
    pub version: String,
    pub deadline: String,
    pub applies_at: String,
    pub objected: bool,
    pub open: bool,
}

/// The terms version governing the order and why (R1.2).
pub struct GoverningRow {
    pub version: String,
    pub since: String,
    pub reason_key: &'static str,
    pub hold_until: String,
    pub explanation: Vec<String>,
    pub pending: Vec<PendingRow>,
}

pub struct LineRow {
    pub item: String,
    pub quantity: i64,
    pub unit_price: String,
    pub setup_fee: String,
    pub commitment_months: i64,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    org_name: String,
    base: String,
    orders: Vec<OrderRow>,
    next_cursor: Option<String>,
    /// The back office's form drafting a new order for this client.
    new_order: Option<String>,
}

#[derive(Template)]
#[template(path = "order.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    id: String,
    org_name: String,
    back: String,
    action_base: String,
    state: String,
    state_code: String,
    terms_version: String,
    order_date: String,
    sent_at: String,
    deadline: String,
    reason: String,
    monthly: String,
    one_time: String,
    lines: Vec<LineRow>,
    can_accept: bool,
    is_staff: bool,
    governing: Option<GoverningRow>,
    can_object: bool,
    error: Option<String>,
}

fn state_key(s: &str) -> &'static str {
    match s {
        "draft" => "orders.state_draft",
        "sent" => "orders.state_sent",
        "lapsed" => "orders.state_lapsed",
        "accepted" => "orders.state_accepted",
        "validated" => "orders.state_validated",
        "refused" => "orders.state_refused",
        "declined" => "orders.state_declined",
        _ => "",
    }
}

fn problem_status(p: &Problem) -> StatusCode {
    p.status_code()
}

/// The list of one organisation's orders, for `base` (a side's prefix).
async fn list_page(v: &Viewer, p: &Principal, org_id: &str, base: &str) -> Response {
    let db = v.state.store().db();
    let Ok(org) = orgs::get(db, &p.scope, org_id).await else {
        return v.not_found();
    };
    let page =
        match ciel_store::orders::list(db, &p.scope, org.id.as_str(), v.cursor().as_deref(), 50)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "order list failed");
                return v.message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error.internal",
                    "",
                    None,
                );
            }
        };
    let mut rows = Vec::with_capacity(page.items.len());
    for o in &page.items {
        let lines = ciel_store::orders::lines(db, &p.scope, o.id.as_str())
            .await
            .unwrap_or_default();
        rows.push(OrderRow {
            id: o.id.to_string(),
            state: v.tr.t(state_key(&o.state)).to_owned(),
            order_date: o.order_date.clone(),
            deadline: o.acceptance_deadline.map(|d| v.time(d)).unwrap_or_default(),
            monthly: orders::totals(&lines).0.normalize().to_string(),
        });
    }
    let new_order = (p.is_staff() && org.kind == "client")
        .then(|| format!("/back-office/organizations/{}/orders/new", org.id));
    v.render(ListPage {
        t: v.tr,
        ctx: v.ctx(),
        org_name: org.name,
        base: base.to_owned(),
        orders: rows,
        next_cursor: page.next_cursor,
        new_order,
    })
}

async fn detail_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (order, lines): (Order, Vec<Line>) = match orders::get_order(&v.state, p, id).await {
        Ok(x) => x,
        Err(_) => return v.not_found(),
    };
    let org_name = orgs::get(v.state.store().db(), &p.scope, order.org_id.as_str())
        .await
        .map(|o| o.name)
        .unwrap_or_default();
    let state_json: serde_json::Value = serde_json::from_str(&order.state_json).unwrap_or_default();
    let (monthly, one_time) = orders::totals(&lines);
    let governing = crate::terms_versions::governing(&v.state, &p.scope, &order)
        .await
        .ok()
        .map(|g| governing_row(v, g));
    let can_object = order.state == "validated" && (p.is_staff() || p.user.is_org_admin);
    let (back, action_base) = if p.is_staff() {
        (
            format!("/back-office/organizations/{}/orders", order.org_id),
            format!("/back-office/orders/{}", order.id),
        )
    } else {
        (
            "/espace-client/orders".to_owned(),
            format!("/espace-client/orders/{}", order.id),
        )
    };
    v.render_status(
        status,
        DetailPage {
            t: v.tr,
            ctx: v.ctx(),
            id: order.id.to_string(),
            org_name,
            back,
            action_base,
            state: v.tr.t(state_key(&order.state)).to_owned(),
            state_code: order.state.clone(),
            terms_version: order.terms_version.clone(),
            order_date: order.order_date.clone(),
            sent_at: order.sent_at.map(|t| v.time(t)).unwrap_or_default(),
            deadline: order
                .acceptance_deadline
                .map(|t| v.time(t))
                .unwrap_or_default(),
            reason: state_json
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or_default()
                .to_owned(),
            monthly: monthly.normalize().to_string(),
            one_time: one_time.normalize().to_string(),
            lines: lines
                .iter()
                .map(|l| LineRow {
                    item: orders::item_text(&l.item_json),
                    quantity: l.quantity,
                    unit_price: l.unit_price.clone(),
                    setup_fee: l.setup_fee.clone(),
                    commitment_months: l.commitment_months,
                })
                .collect(),
            can_accept: !p.is_staff() && p.user.is_org_admin && order.state == "sent",
            is_staff: p.is_staff(),
            governing,
            can_object,
            error,
        },
    )
}

fn governing_row(v: &Viewer, g: ciel_catalog::governance::Governance) -> GoverningRow {
    let lang = match v.tr.lang {
        ciel_domain::Lang::Fr => ciel_engine::explain::Lang::Fr,
        ciel_domain::Lang::En => ciel_engine::explain::Lang::En,
    };
    let now = v.state.now();
    GoverningRow {
        explanation: g.explain(lang).lines().map(str::to_owned).collect(),
        reason_key: match g.reason.code() {
            "applied_after_notice" => "terms.reason_applied_after_notice",
            "objection_hold" => "terms.reason_objection_hold",
            "accepted_at_renewal" => "terms.reason_accepted_at_renewal",
            _ => "terms.reason_pinned_at_order_date",
        },
        version: g.version,
        since: v.time(g.since),
        hold_until: g.hold_until.map(|d| d.to_string()).unwrap_or_default(),
        pending: g
            .pending
            .into_iter()
            .map(|p| PendingRow {
                open: !p.objected && now < p.objection_deadline,
                version: p.version,
                deadline: v.time(p.objection_deadline),
                applies_at: v.time(p.applies_at),
                objected: p.objected,
            })
            .collect(),
    }
}

pub async fn client_list(v: Viewer) -> Response {
    match v.require_service_viewer() {
        Ok(p) => list_page(&v, p, p.user.org_id.as_str(), "/espace-client").await,
        Err(r) => r,
    }
}

pub async fn client_order(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_service_viewer() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// After an action: back to the order with a flash, or the page with the
/// problem next to the actions (404 for another organisation's order).
async fn after(
    v: &Viewer,
    p: &Principal,
    id: &str,
    base: &str,
    flash: &str,
    r: Result<Order, Problem>,
) -> Response {
    match r {
        Ok(o) => done(&format!("{base}/orders/{}", o.id), flash),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(v, p, id, Some(v.problem_text(&e)), problem_status(&e)).await,
    }
}

pub async fn client_accept(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let r = orders::accept_order(&v.state, p, &id).await;
    after(&v, p, &id, "/espace-client", "orders.accepted", r).await
}

pub async fn client_decline(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let reason = Some(form.get("reason")).filter(|r| !r.trim().is_empty());
    let r = orders::decline_order(&v.state, p, &id, reason).await;
    after(&v, p, &id, "/espace-client", "orders.declined", r).await
}

/// A client Administrator objects to a new terms version for this order (R1.2).
pub async fn client_object(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let r = crate::terms_versions::object(&v.state, p, &id, form.get("version")).await;
    objected(&v, p, &id, "/espace-client", r).await
}

async fn objected(
    v: &Viewer,
    p: &Principal,
    id: &str,
    base: &str,
    r: Result<ciel_store::terms_versions::ObjectionRow, Problem>,
) -> Response {
    match r {
        Ok(o) => done(&format!("{base}/orders/{}", o.order_id), "terms.objected"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(v, p, id, Some(v.problem_text(&e)), problem_status(&e)).await,
    }
}

pub async fn staff_list(v: Viewer, Path(org_id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => list_page(&v, p, &org_id, "/back-office").await,
        Err(r) => r,
    }
}

pub async fn staff_order(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// The staff principal, back-dated by the form's `occurred_at` if given.
pub(super) fn staff_actor(v: &Viewer, form: &Form) -> Result<Principal, Problem> {
    let Some(p) = v.principal.as_ref().filter(|p| p.is_staff()) else {
        return Err(Problem::not_found());
    };
    v.actor_for(p, form)
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
    let actor = match staff_actor(&v, &form) {
        Ok(a) => a,
        Err(e) => {
            return detail_page(&v, &p, &id, Some(v.problem_text(&e)), problem_status(&e)).await;
        }
    };
    if action == "object" {
        let r = crate::terms_versions::object(&v.state, &actor, &id, form.get("version")).await;
        return objected(&v, &p, &id, "/back-office", r).await;
    }
    let (r, flash) = match action.as_str() {
        "send" => (
            orders::send_order(&v.state, &actor, &id).await,
            "orders.sent",
        ),
        "signature" => (
            orders::record_signature(&v.state, &actor, &id, form.get("signed_on")).await,
            "orders.signed",
        ),
        "validate" => (
            orders::validate_order(&v.state, &actor, &id).await,
            "orders.validated",
        ),
        "refuse" => (
            orders::refuse_order(&v.state, &actor, &id, form.get("reason")).await,
            "orders.refused",
        ),
        _ => return v.not_found(),
    };
    // The order is read for the error page with the plain principal.
    match r {
        Ok(o) => done(&format!("/back-office/orders/{}", o.id), flash),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(&v, &p, &id, Some(v.problem_text(&e)), problem_status(&e)).await,
    }
}
