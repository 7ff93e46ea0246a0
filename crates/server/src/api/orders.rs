//! Orders in the API (issue 4, items 3-4): draft, send, accept, paper
//! signature, validate, refuse. Wrong transitions answer 409
//! `invalid_transition` naming the rule; option-rule violations 422
//! `option_rule_violated` naming the line's field.

use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::orders::{self, DraftInput, LineInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ciel_domain::Permission;
use ciel_store::orders::{Line, Order};
use ciel_store::orgs;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One line of an order to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    /// The catalogue item, tagged by `kind` (`cloud_vm`, `pra_machine`,
    /// `colocation`, `dedicated_server`, `external_backup`, `m365_backup`,
    /// `cloud_connect`, `support`, `managed_services`, `hour_book`) with its
    /// parameters, e.g. `{"kind": "external_backup", "storage_gb": 500,
    /// "immutability": "P6M"}`.
    #[schema(value_type = Object)]
    pub item: serde_json::Value,
    /// Identical units (default 1).
    pub quantity: Option<u32>,
    /// Commitment in months (default 12).
    pub commitment_months: Option<u32>,
}

/// An order to draft for a client (staff).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftOrderRequest {
    /// `initial` (default) or `amendment` of a running order (R1.5).
    pub kind: Option<String>,
    /// The validated order an amendment changes.
    pub amends: Option<String>,
    /// R1.5: when the written request of an amendment was received (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub written_request_received_at: Option<jiff::Timestamp>,
    /// Terms parameters overridden for this order (R1.1):
    /// `order_acceptance_days`, `immutability_max_months`.
    #[schema(value_type = Option<Object>)]
    pub special_conditions: Option<serde_json::Value>,
    pub lines: Vec<OrderLineRequest>,
}

/// A paper signature received by staff (R1.3). The receipt instant is the
/// request's, or the `Ciel-Occurred-At` header's when back-dated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperSignatureRequest {
    /// Date written on the signed order, `YYYY-MM-DD`.
    pub signed_on: String,
}

/// Staff refuse an accepted order (R1.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseRequest {
    pub reason: String,
}

/// The client declines a sent order, optionally saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    pub reason: Option<String>,
}

/// One line of an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    pub id: String,
    pub position: i64,
    #[schema(value_type = Object)]
    pub item: serde_json::Value,
    pub quantity: i64,
    /// Monthly fee of one unit, exact decimal EUR excluding VAT.
    pub unit_price: String,
    /// One-time fees of one unit (setup), exact decimal EUR.
    pub setup_fee: String,
    pub commitment_months: i64,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub amends_order_id: Option<String>,
    /// `draft`, `sent`, `lapsed`, `accepted`, `validated`, `refused` or `declined`.
    pub state: String,
    /// The state with its evidence (sent_at, deadline, acceptance, reason...).
    #[schema(value_type = Object)]
    pub state_detail: serde_json::Value,
    /// The terms version the order is pinned to (R1.2).
    pub terms_version: String,
    pub order_date: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub request_received_at: Option<jiff::Timestamp>,
    pub price_list_id: String,
    #[schema(value_type = Object)]
    pub special_conditions: serde_json::Value,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acceptance_deadline: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    /// Sum of the monthly fees, exact decimal EUR excluding VAT.
    pub monthly_total: Option<String>,
    /// Sum of the one-time fees.
    pub one_time_total: Option<String>,
    /// The lines (absent in lists).
    pub lines: Option<Vec<OrderLineView>>,
    /// The terms version governing the order today and why (R1.2; absent
    /// in lists).
    pub governing_terms: Option<crate::api::terms_versions::GoverningTermsView>,
}

/// A page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}

/// The API view of an order, with its lines when given.
pub fn view(o: Order, lines: Option<Vec<Line>>) -> OrderView {
    let totals = lines.as_deref().map(orders::totals);
    OrderView {
        id: o.id.to_string(),
        org_id: o.org_id.to_string(),
        kind: o.kind,
        amends_order_id: o.amends_order_id,
        state: o.state,
        state_detail: json(&o.state_json),
        terms_version: o.terms_version,
        order_date: o.order_date,
        request_received_at: o.request_received_at,
        price_list_id: o.price_list_id,
        special_conditions: json(&o.special_conditions),
        sent_at: o.sent_at,
        acceptance_deadline: o.acceptance_deadline,
        created_at: o.created_at,
        monthly_total: totals.map(|t| t.0.normalize().to_string()),
        one_time_total: totals.map(|t| t.1.normalize().to_string()),
        lines: lines.map(|ls| {
            ls.into_iter()
                .map(|l| OrderLineView {
                    id: l.id.to_string(),
                    position: l.position,
                    item: json(&l.item_json),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    setup_fee: l.setup_fee,
                    commitment_months: l.commitment_months,
                })
                .collect()
        }),
        governing_terms: None,
    }
}

/// Lists a client's orders, newest first (staff; the client's users who see
/// services).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/orders", tag = "orders",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = OrderList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_orders(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<OrderList>> {
    let org = orgs::get(s.store().db(), &p.scope, &org_id).await?;
    if !p.is_staff() && !p.can(Permission::ViewServices) {
        return Err(Problem::forbidden(
            "orders are shown to users who see services",
        ));
    }
    let page = ciel_store::orders::list(
        s.store().db(),
        &p.scope,
        org.id.as_str(),
        q.cursor()?,
        q.limit()?,
    )
    .await?;
    Ok(Json(OrderList {
        items: page.items.into_iter().map(|o| view(o, None)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Drafts an order for a client: lines checked by the option rules of the
/// terms in force on the order date (R1.2, R9, R10.1, R12.1), priced from
/// the price list in force (R2.4; R1.5 for an amendment).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/orders", tag = "orders",
    params(("org_id" = String, Path)), request_body = DraftOrderRequest,
    responses((status = 201, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn draft_order(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<DraftOrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let input = DraftInput {
        kind: r.kind,
        amends: r.amends,
        written_request_received_at: r.written_request_received_at,
        special_conditions: r.special_conditions,
        lines: r
            .lines
            .into_iter()
            .map(|l| LineInput {
                item: l.item,
                quantity: l.quantity.unwrap_or(1),
                commitment_months: l.commitment_months.unwrap_or(12),
            })
            .collect(),
    };
    let (order, lines) = orders::draft_order(&s, &p, &org_id, input).await?;
    Ok((StatusCode::CREATED, Json(view(order, Some(lines)))))
}

/// An order with its lines.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "orders",
    params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = Problem)))]
pub async fn get_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let (order, lines) = orders::get_order(&s, &p, &order_id).await?;
    if !p.is_staff() && !p.can(Permission::ViewServices) {
        return Err(Problem::forbidden(
            "orders are shown to users who see services",
        ));
    }
    let governing = crate::terms_versions::governing(&s, &p.scope, &order).await?;
    let mut v = view(order, Some(lines));
    v.governing_terms = Some(governing.into());
    Ok(Json(v))
}

async fn with_lines(s: &AppState, p: &Principal, o: Order) -> ApiResult<Json<OrderView>> {
    let lines = ciel_store::orders::lines(s.store().db(), &p.scope, o.id.as_str()).await?;
    Ok(Json(view(o, Some(lines))))
}

/// Sends a draft to the client (staff): sets the acceptance deadline (R1.3),
/// e-mails the client's Administrators and schedules the lapse.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/send", tag = "orders",
    params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn send_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::send_order(&s, &p, &order_id).await?;
    with_lines(&s, &p, o).await
}

/// The client's Administrator accepts the order before its deadline (R1.3).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/accept", tag = "orders",
    params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn accept_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::accept_order(&s, &p, &order_id).await?;
    with_lines(&s, &p, o).await
}

/// The client's Administrator declines the order before its deadline.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/decline", tag = "orders",
    params(("order_id" = String, Path)), request_body = DeclineRequest,
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decline_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<DeclineRequest>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::decline_order(&s, &p, &order_id, r.reason.as_deref()).await?;
    with_lines(&s, &p, o).await
}

/// Staff record a signature received on paper, with its date (R1.3).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/paper-signature", tag = "orders",
    params(("order_id" = String, Path)), request_body = PaperSignatureRequest,
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_signature(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<PaperSignatureRequest>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::record_signature(&s, &p, &order_id, &r.signed_on).await?;
    with_lines(&s, &p, o).await
}

/// Staff validate an accepted order: it binds the provider (R1.4).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/validate", tag = "orders",
    params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn validate_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::validate_order(&s, &p, &order_id).await?;
    with_lines(&s, &p, o).await
}

/// Staff refuse an accepted order, with a reason (R1.4).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/refuse", tag = "orders",
    params(("order_id" = String, Path)), request_body = RefuseRequest,
    responses((status = 200, body = OrderView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn refuse_order(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<RefuseRequest>,
) -> ApiResult<Json<OrderView>> {
    let o = orders::refuse_order(&s, &p, &order_id, &r.reason).await?;
    with_lines(&s, &p, o).await
}
