//! Terms versions in the API (issue 4, item 6; R1.2, CG 2.4): the versions
//! known, publication with its notice, and a client's objection for one
//! order. The governing version of an order is part of the order's view.

use super::ApiJson;
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use crate::terms_versions;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ciel_catalog::governance::Governance;
use ciel_engine::explain::Lang;
use ciel_store::terms_versions::ObjectionRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A version notified and not governing the order (yet).
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingVersionView {
    pub version: String,
    #[schema(value_type = String, format = DateTime)]
    pub notified_at: jiff::Timestamp,
    /// End (exclusive) of the objection delay.
    #[schema(value_type = String, format = DateTime)]
    pub objection_deadline: jiff::Timestamp,
    /// When it applies to the order without objection.
    #[schema(value_type = String, format = DateTime)]
    pub applies_at: jiff::Timestamp,
    pub objected: bool,
}

/// The terms version governing an order today, and why (R1.2, CG 2.4).
#[derive(Debug, Serialize, ToSchema)]
pub struct GoverningTermsView {
    pub version: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: jiff::Timestamp,
    /// `pinned_at_order_date`, `applied_after_notice`, `objection_hold` or
    /// `accepted_at_renewal`.
    pub reason: String,
    /// Under an objection hold: the next renewal day (`YYYY-MM-DD`), when the
    /// version then in force applies; absent when none is to come.
    pub hold_until: Option<String>,
    pub pending: Vec<PendingVersionView>,
    /// One line per step, citing CG 2.4 (R1.2), in French.
    pub explanation_fr: String,
    pub explanation_en: String,
}

impl From<Governance> for GoverningTermsView {
    fn from(g: Governance) -> Self {
        GoverningTermsView {
            explanation_fr: g.explain(Lang::Fr),
            explanation_en: g.explain(Lang::En),
            version: g.version,
            since: g.since,
            reason: g.reason.code().to_owned(),
            hold_until: g.hold_until.map(|d| d.to_string()),
            pending: g
                .pending
                .into_iter()
                .map(|p| PendingVersionView {
                    version: p.version,
                    notified_at: p.notified_at,
                    objection_deadline: p.objection_deadline,
                    applies_at: p.applies_at,
                    objected: p.objected,
                })
                .collect(),
        }
    }
}

/// A terms version known to ciel.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermsVersionView {
    pub id: String,
    pub title: String,
    /// Orders dated from this day are pinned to it (`YYYY-MM-DD`).
    pub effective_date: String,
    /// The version built into ciel (never published through the API).
    pub embedded: bool,
    /// The notice to clients with running orders (absent: embedded).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<jiff::Timestamp>,
    pub published_by: Option<String>,
    /// The objection delay in days (R1.2).
    pub objection_days: Option<i64>,
    /// When it applies to running orders without objection.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub applies_to_running_from: Option<jiff::Timestamp>,
}

/// The versions known, oldest effective date first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermsVersionList {
    pub items: Vec<TermsVersionView>,
}

/// Lists the terms versions (any authenticated user).
#[utoipa::path(get, path = "/api/v1/terms/versions", tag = "terms",
    responses((status = 200, body = TermsVersionList), (status = 401, body = Problem)))]
pub async fn list_versions(
    State(s): State<AppState>,
    _p: Principal,
) -> ApiResult<Json<TermsVersionList>> {
    Ok(Json(TermsVersionList {
        items: terms_versions::list(&s).await?,
    }))
}

/// A terms document to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishTermsRequest {
    /// The whole terms document (TOML), with a new `version.id` and a later
    /// `version.effective_date`.
    pub toml: String,
}

/// A version just published, with its notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedTermsView {
    pub version: TermsVersionView,
    /// The changed parameters, `path: old -> new`.
    pub changes: Vec<String>,
    /// How many client Administrators were notified.
    pub notices: usize,
}

/// Publishes a terms version (staff administrators) and notifies every
/// client with a running order (R1.2). An invalid document is a 422
/// `invalid_terms` naming the TOML path in `field`.
#[utoipa::path(post, path = "/api/v1/terms/versions", tag = "terms",
    request_body = PublishTermsRequest,
    responses((status = 201, body = PublishedTermsView), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn publish_version(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<PublishTermsRequest>,
) -> ApiResult<(StatusCode, Json<PublishedTermsView>)> {
    let out = terms_versions::publish(&s, &p, &r.toml).await?;
    Ok((
        StatusCode::CREATED,
        Json(PublishedTermsView {
            version: terms_versions::view(&out.terms, Some(&out.version)),
            changes: out.changes,
            notices: out.notices,
        }),
    ))
}

/// An objection to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectRequest {
    /// The version objected to.
    pub version: String,
}

/// A recorded objection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: String,
    pub order_id: String,
    pub version: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: jiff::Timestamp,
}

impl From<ObjectionRow> for ObjectionView {
    fn from(o: ObjectionRow) -> Self {
        ObjectionView {
            id: o.id.to_string(),
            order_id: o.order_id,
            version: o.version_id,
            received_at: o.received_at,
            recorded_at: o.recorded_at,
        }
    }
}

/// Records the client's written objection to a new version for one order
/// (its Administrator, or staff back-dating the letter's receipt with
/// `Ciel-Occurred-At`). After the delay: 409 `invalid_transition` (R1.2).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/terms-objections", tag = "terms",
    params(("order_id" = String, Path)),
    request_body = ObjectRequest,
    responses((status = 201, body = ObjectionView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn object(
    State(s): State<AppState>,
    p: Principal,
    Path(order_id): Path<String>,
    ApiJson(r): ApiJson<ObjectRequest>,
) -> ApiResult<(StatusCode, Json<ObjectionView>)> {
    let row = terms_versions::object(&s, &p, &order_id, &r.version).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}
