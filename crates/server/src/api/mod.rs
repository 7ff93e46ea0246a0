//! The JSON API under `/api/v1`, documented by an OpenAPI 3.1 document built
//! from the handlers' annotations (`/api/openapi.json`).

pub mod accounts;
pub mod backup;
pub mod billing;
pub mod calc;
pub mod catalog;
pub mod clients;
pub mod colocation_ops;
pub mod datacenters;
pub mod episodes;
pub mod hour_books;
pub mod maintenance;
pub mod orders;
pub mod payments;
pub mod pra;
pub mod pra_ops;
pub mod records;
pub mod service_sla;
pub mod services;
pub mod sla;
pub mod terms_versions;
pub mod tickets;
pub mod usage;
pub mod views;

use crate::problem::Problem;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ciel API",
        description = "Operations and billing platform of a cloud and hosting provider. \
            Errors are RFC 9457 problem+json with a stable `code` and the failing `field`. \
            Lists are paginated with an opaque `cursor`. Authenticate with \
            `Authorization: Bearer <token>`, or with the portal's session cookie plus \
            an `X-CSRF-Token` header on writes."
    ),
    modifiers(&Security),
    components(schemas(Problem)),
    tags(
        (name = "accounts", description = "Organisations, users, staff and API tokens (R1.8)"),
        (name = "records", description = "Audit log and sent notices (R13)"),
        (name = "orders", description = "Price lists and orders (R1.1-R1.5, R2.2-R2.4, R9, R12.1)"),
        (name = "services", description = "Services: provisioning, contest, terms, notices, suspensions, termination, products, reversibility (R1.6-R1.7, R2.5, R3, R12.2)"),
        (name = "hour_books", description = "Prepaid hour books: balances, interventions, overrun authorisations (R8.2-R8.3)"),
        (name = "tickets", description = "Support desk tickets: notification, priority, live GTI/GTR clocks, pauses, closure, billable causes (R4.2-R4.5)"),
        (name = "terms", description = "Terms versions over running orders: publication, notice, objection (R1.2)"),
        (name = "episodes", description = "Unavailability episodes from monitoring (one, bulk, Alertmanager), corrections and R5.3 exclusions; clusters (R5.2-R5.3)"),
        (name = "colocation", description = "Colocation availability: datacenter episodes of network, power and temperature (one, bulk, corrections, R5.3 exclusions) and the yearly figure per datacenter (R5.6)"),
        (name = "maintenance", description = "Maintenance windows, their notices and the clients' iCalendar feeds (R4.6)"),
        (name = "sla", description = "Monthly SLA statements, their evidence, review and credits (R5-R7)"),
        (name = "pra", description = "PRA activations and tests: failover request, machine restorations, return to nominal, RTO/RPO results per criticality (R6, R10.3-R10.4)"),
        (name = "payments", description = "Payments and their import, rejections, balances, refunds, SEPA direct-debit batches, the dunning queue and its sanctions, invoice disputes (R2.6, R2.7, R3.3, R3.4, R7.5)"),
        (name = "billing", description = "Monthly billing runs, invoices and credit notes with their Factur-X PDF (R2.4, R2.7, R2.11, R2.12)"),
        (name = "usage", description = "Usage readings (bandwidth per port, power, storage, traffic: bulk and CSV) and the month close handing usage charges to billing (R2.8-R2.10, R3.5, R10.3, R11.5)"),
        (name = "colocation_ops", description = "Colocation operations: datacenters and access (declared people, temporary requests, badges, prevention plans, the access check), remote hands, 7-day deadlines, power alerts, decommissioning (R11.1-R11.6)"),
        (name = "backup", description = "Backup operations: plans, options, storage alerts, job results pushed in bulk with failure e-mails, recycle-bin restore requests, termination countdown, regularisation orders (R9)"),
        (name = "calc", description = "Contract calculators with their explanations (R2-R7)"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The API routes with their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::list_orgs, accounts::create_org))
        .routes(routes!(accounts::get_org))
        .routes(routes!(
            clients::get_billing_profile,
            clients::put_billing_profile
        ))
        .routes(routes!(accounts::list_users, accounts::invite_user))
        .routes(routes!(accounts::get_user, accounts::update_user))
        .routes(routes!(accounts::resend_invitation))
        .routes(routes!(accounts::list_staff, accounts::create_staff))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(accounts::request_password_reset))
        .routes(routes!(
            catalog::list_price_lists,
            catalog::publish_price_list
        ))
        .routes(routes!(orders::list_orders, orders::draft_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::send_order))
        .routes(routes!(orders::accept_order))
        .routes(routes!(orders::decline_order))
        .routes(routes!(orders::record_signature))
        .routes(routes!(orders::validate_order))
        .routes(routes!(orders::refuse_order))
        .routes(routes!(services::list_services))
        .routes(routes!(services::run_pass))
        .routes(routes!(services::get_service))
        .routes(routes!(services::termination_quote))
        .routes(routes!(services::provision))
        .routes(routes!(services::contest))
        .routes(routes!(services::resolve_contest))
        .routes(routes!(services::first_use))
        .routes(routes!(services::give_notice))
        .routes(routes!(services::terminate_early))
        .routes(routes!(services::suspend))
        .routes(routes!(services::reopen))
        .routes(routes!(services::terminate_for_cause))
        .routes(routes!(services::record_traffic))
        .routes(routes!(services::product_return))
        .routes(routes!(services::request_reversibility))
        .routes(routes!(tickets::list_tickets, tickets::open_ticket))
        .routes(routes!(tickets::queue))
        .routes(routes!(tickets::get_ticket))
        .routes(routes!(tickets::complete))
        .routes(routes!(tickets::set_impact))
        .routes(routes!(tickets::acknowledge))
        .routes(routes!(tickets::pause))
        .routes(routes!(tickets::resume))
        .routes(routes!(tickets::restore))
        .routes(routes!(tickets::close))
        .routes(routes!(tickets::message))
        .routes(routes!(tickets::classify))
        .routes(routes!(hour_books::list_hour_books))
        .routes(routes!(hour_books::get_hour_book))
        .routes(routes!(hour_books::record_intervention))
        .routes(routes!(hour_books::record_authorisation))
        .routes(routes!(
            terms_versions::list_versions,
            terms_versions::publish_version
        ))
        .routes(routes!(terms_versions::object))
        .routes(routes!(records::list_audit))
        .routes(routes!(records::list_messages))
        .routes(routes!(episodes::list_episodes, episodes::push_episode))
        .routes(routes!(sla::list_statements))
        .routes(routes!(sla::run_statements))
        .routes(routes!(sla::get_statement))
        .routes(routes!(sla::statement_evidence))
        .routes(routes!(sla::recompute_statement))
        .routes(routes!(sla::review_statement))
        .routes(routes!(episodes::push_bulk))
        .routes(routes!(episodes::alertmanager))
        .routes(routes!(episodes::close_episode))
        .routes(routes!(episodes::correct_episode))
        .routes(routes!(episodes::exclude_episode))
        .routes(routes!(episodes::list_clusters, episodes::create_cluster))
        .routes(routes!(episodes::assign_cluster))
        .routes(routes!(
            datacenters::list_episodes,
            datacenters::push_episode
        ))
        .routes(routes!(datacenters::push_bulk))
        .routes(routes!(datacenters::correct_episode))
        .routes(routes!(datacenters::exclude_episode))
        .routes(routes!(datacenters::datacenter_year))
        .routes(routes!(datacenters::org_years))
        .routes(routes!(service_sla::service_sla))
        .routes(routes!(maintenance::list_windows, maintenance::plan_window))
        .routes(routes!(maintenance::change_window))
        .routes(routes!(maintenance::cancel_window))
        .routes(routes!(maintenance::org_windows))
        .routes(routes!(maintenance::rotate_feed))
        .routes(routes!(pra::record_activation))
        .routes(routes!(pra::list_activations))
        .routes(routes!(pra::get_activation))
        .routes(routes!(pra::record_restoration))
        .routes(routes!(pra::close_activation))
        .routes(routes!(pra_ops::designate, pra_ops::list_designations))
        .routes(routes!(pra_ops::revoke_designation))
        .routes(routes!(pra_ops::list_machines))
        .routes(routes!(pra_ops::recommend))
        .routes(routes!(pra_ops::refuse))
        .routes(routes!(pra_ops::push_replication))
        .routes(routes!(pra_ops::notify_test))
        .routes(routes!(pra_ops::list_tests))
        .routes(routes!(pra_ops::follow_up))
        .routes(routes!(backup::list_backups))
        .routes(routes!(backup::get_backup))
        .routes(routes!(backup::put_plan))
        .routes(routes!(backup::push_results))
        .routes(routes!(backup::request_restore))
        .routes(routes!(backup::list_restores))
        .routes(routes!(backup::answer_restore))
        .routes(routes!(backup::send_regularisation))
        .routes(routes!(backup::sign_regularisation))
        .routes(routes!(backup::list_regularisations))
        .routes(routes!(backup::desk))
        .routes(routes!(backup::regularisation_pass))
        .routes(routes!(payments::list_payments, payments::record_payment))
        .routes(routes!(payments::import_payments))
        .routes(routes!(payments::reject_payment))
        .routes(routes!(payments::get_balance))
        .routes(routes!(payments::list_refunds, payments::refund_credit))
        .routes(routes!(payments::list_batches, payments::create_batch))
        .routes(routes!(payments::get_batch))
        .routes(routes!(payments::batch_xml))
        .routes(routes!(payments::list_dunning))
        .routes(routes!(payments::dunning_queue))
        .routes(routes!(payments::run_dunning))
        .routes(routes!(payments::choose_sanction))
        .routes(routes!(payments::open_dispute))
        .routes(routes!(payments::list_disputes))
        .routes(routes!(payments::disputes_queue))
        .routes(routes!(payments::answer_dispute))
        .route(
            "/calendar/{file}",
            axum::routing::get(maintenance::calendar),
        )
        .routes(routes!(billing::list_runs, billing::start_run))
        .routes(routes!(billing::get_run))
        .routes(routes!(billing::list_invoices))
        .routes(routes!(billing::get_invoice))
        .routes(routes!(billing::invoice_pdf))
        .routes(routes!(billing::issue_credit_note))
        .routes(routes!(billing::accounting_fec))
        .routes(routes!(usage::push_bandwidth))
        .routes(routes!(usage::push_power))
        .routes(routes!(usage::push_storage))
        .routes(routes!(usage::push_traffic))
        .routes(routes!(usage::import_csv))
        .routes(routes!(usage::close_month))
        .routes(routes!(usage::service_usage))
        .routes(routes!(colocation_ops::datacenters))
        .routes(routes!(colocation_ops::run_pass))
        .routes(routes!(
            colocation_ops::access_check_get,
            colocation_ops::access_check_post
        ))
        .routes(routes!(
            colocation_ops::list_persons,
            colocation_ops::declare_person
        ))
        .routes(routes!(colocation_ops::remove_person))
        .routes(routes!(
            colocation_ops::list_requests,
            colocation_ops::request_access
        ))
        .routes(routes!(
            colocation_ops::list_visits,
            colocation_ops::announce_visit
        ))
        .routes(routes!(colocation_ops::pending_requests))
        .routes(routes!(colocation_ops::get_request))
        .routes(routes!(colocation_ops::decide_request))
        .routes(routes!(
            colocation_ops::list_badges,
            colocation_ops::issue_badge
        ))
        .routes(routes!(colocation_ops::badge_event))
        .routes(routes!(
            colocation_ops::list_plans,
            colocation_ops::sign_plan
        ))
        .routes(routes!(colocation_ops::order_remote_hands))
        .routes(routes!(colocation_ops::list_remote_hands))
        .routes(routes!(colocation_ops::finish_remote_hands))
        .routes(routes!(colocation_ops::open_deadline))
        .routes(routes!(colocation_ops::list_deadlines))
        .routes(routes!(colocation_ops::deadline_queue))
        .routes(routes!(colocation_ops::get_deadline))
        .routes(routes!(colocation_ops::complete_deadline))
        .routes(routes!(colocation_ops::charge_repair))
        .routes(routes!(colocation_ops::list_power_alerts))
        .routes(routes!(
            colocation_ops::get_decommissioning,
            colocation_ops::open_decommissioning
        ))
        .routes(routes!(
            colocation_ops::download_photo,
            colocation_ops::upload_photo
        ))
        .routes(routes!(colocation_ops::formal_notice))
        .routes(routes!(calc::ticket_deadlines))
        .routes(routes!(calc::early_termination))
        .routes(routes!(calc::notice_end))
        .routes(routes!(calc::late_interest))
        .routes(routes!(calc::sla_statement))
}

/// A JSON body: `application/json` required (415), unknown fields refused,
/// and a syntax or type error reported with the JSON path of its field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            )
            .detail("send the body as application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            Problem::new(e.status(), "payload_too_large", "Body refused").detail(e.body_text())
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming the path of the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // The path of the field at fault is tracked only once a body failed:
    // tracking it costs about as much as parsing (a bulk push is 500 000
    // readings).
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        // serde_path_to_error's path already ends with an unknown field's name.
        let (code, field) = if msg.starts_with("unknown field `") {
            ("unknown_field", path)
        } else if inner.is_syntax() || inner.is_eof() {
            ("malformed_json", path)
        } else {
            ("validation_failed", path)
        };
        let mut p = Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Invalid request body",
        )
        .detail(msg);
        if inner.is_syntax() || inner.is_eof() {
            p.status = 400;
        }
        if !field.is_empty() && field != "." {
            p = p.field(field);
        }
        p
    })
}

/// Query parameters: unknown parameters refused, errors name the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let q = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let msg = e.inner().to_string();
                let field = msg
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.path().to_string());
                Problem::invalid(&field, msg).field(field.clone())
            })
    }
}

fn form_urlencoded_parse(q: &str) -> url::form_urlencoded::Parse<'_> {
    url::form_urlencoded::parse(q.as_bytes())
}

/// Pagination parameters of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Cursor returned as `next_cursor` by the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

impl ListParams {
    /// The validated limit.
    pub fn limit(&self) -> Result<i64, Problem> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(Problem::invalid("limit", "between 1 and 200")),
        }
    }

    /// The cursor, checked for shape (an identifier) so that no arbitrary
    /// text reaches a query.
    pub fn cursor(&self) -> Result<Option<&str>, Problem> {
        match self.cursor.as_deref() {
            None => Ok(None),
            Some(c)
                if c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Ok(Some(c))
            }
            Some(_) => Err(Problem::invalid(
                "cursor",
                "not a cursor returned by this API",
            )),
        }
    }
}
