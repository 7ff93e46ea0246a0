//! Price lists in the API (issue 4, item 2): the published versions, and
//! publication with the price-change notice (R2.2).

use super::{ApiJson, ApiQuery, ListParams};
use crate::auth::Principal;
use crate::orders::{self, PriceListInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ciel_store::catalog::{self, PriceListRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A price list version to publish (staff).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishPriceListRequest {
    pub name: String,
    /// First day the prices apply, `YYYY-MM-DD` (Europe/Paris).
    pub effective_from: String,
    /// SKU -> volume tiers (R2.3), amounts as decimal strings, e.g.
    /// `{"backup.storage_gb": [{"up_to": "1000", "unit_price": "0.05"}, {"unit_price": "0.04"}]}`.
    #[schema(value_type = Object)]
    pub prices: serde_json::Value,
}

/// A published price list version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceListView {
    pub id: String,
    pub name: String,
    pub effective_from: String,
    #[schema(value_type = Object)]
    pub prices: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub published_at: jiff::Timestamp,
    /// When the price-change notice went to clients (R2.2), if a price changed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub notified_at: Option<jiff::Timestamp>,
}

/// A publication: the version, the SKUs whose price changed and the number
/// of notices sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedView {
    pub price_list: PriceListView,
    pub changed: Vec<String>,
    pub notices: usize,
}

/// A page of price lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceListList {
    pub items: Vec<PriceListView>,
    pub next_cursor: Option<String>,
}

fn view(r: PriceListRow) -> PriceListView {
    PriceListView {
        id: r.id.to_string(),
        name: r.name,
        effective_from: r.effective_from,
        prices: serde_json::from_str(&r.prices_json).unwrap_or(serde_json::Value::Null),
        published_at: r.published_at,
        notified_at: r.notified_at,
    }
}

/// Lists the published price lists, newest first.
#[utoipa::path(get, path = "/api/v1/price-lists", tag = "orders", params(ListParams),
    responses((status = 200, body = PriceListList), (status = 401, body = Problem)))]
pub async fn list_price_lists(
    State(s): State<AppState>,
    _p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<PriceListList>> {
    let page = catalog::list(s.store().db(), q.cursor()?, q.limit()?).await?;
    Ok(Json(PriceListList {
        items: page.items.into_iter().map(view).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Publishes a price list version (staff). A version changing a price must
/// take effect at least the notice delay after now (R2.2, 422
/// `notice_too_late`); the notice is e-mailed to every client Administrator.
#[utoipa::path(post, path = "/api/v1/price-lists", tag = "orders",
    request_body = PublishPriceListRequest,
    responses((status = 201, body = PublishedView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn publish_price_list(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<PublishPriceListRequest>,
) -> ApiResult<(StatusCode, Json<PublishedView>)> {
    let out = orders::publish_price_list(
        &s,
        &p,
        PriceListInput {
            name: r.name,
            effective_from: r.effective_from,
            prices: r.prices,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PublishedView {
            price_list: view(out.list),
            changed: out.changed,
            notices: out.notices,
        }),
    ))
}
