//! The portal: server-rendered pages (askama, compiled templates) for the
//! client space ("Espace Client") and the staff back office, in French and
//! English. Every form carries a CSRF token; pages of another organisation
//! answer 404, like the API.

mod account;
mod back_office;
mod backup_ops;
mod billing;
mod client;
mod colocation;
mod colocation_ops;
mod episodes;
mod hour_books;
mod maintenance;
mod members;
mod multipart;
mod order_form;
mod orders;
mod payments;
mod pra;
mod records;
mod services;
mod session;
mod sla;
mod sla_page;
mod tariffs;
mod terms;
mod tickets;
mod usage;

use crate::auth::{self, CSRF_COOKIE, Principal, Via};
use crate::i18n::Tr;
use crate::problem::Problem;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ciel_domain::{Lang, Permission};
use jiff::Timestamp;
use std::collections::HashMap;

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(session::home))
        .route("/static/app.css", get(session::css))
        .route("/static/htmx.min.js", get(session::htmx))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang", post(session::set_lang))
        .route(
            "/password/forgot",
            get(session::forgot_page).post(session::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(session::reset_page).post(session::reset),
        )
        .route(
            "/invitation/{token}",
            get(session::invitation_page).post(session::invitation),
        )
        .route("/account", get(account::page))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/espace-client", get(client::home))
        .route(
            "/espace-client/users",
            get(client::users).post(client::invite),
        )
        .route(
            "/espace-client/users/{id}",
            get(client::user_page).post(client::user_save),
        )
        .route(
            "/espace-client/users/{id}/invitation",
            post(client::user_resend),
        )
        .route("/espace-client/audit", get(client::audit))
        .route("/espace-client/messages", get(client::messages))
        .route(
            "/espace-client/tickets",
            get(tickets::client_list).post(tickets::client_open),
        )
        .route("/espace-client/tickets/{id}", get(tickets::client_ticket))
        .route(
            "/espace-client/tickets/{id}/{what}",
            post(tickets::ticket_action),
        )
        .route("/back-office/tickets", get(tickets::staff_queue))
        .route("/back-office/tickets/{id}", get(tickets::staff_ticket))
        .route(
            "/back-office/tickets/{id}/{what}",
            post(tickets::ticket_action),
        )
        .route("/espace-client/solde", get(payments::client_balance))
        .route(
            "/espace-client/factures/{id}/contestation",
            get(payments::contest_form).post(payments::contest),
        )
        .route("/back-office/paiements", get(payments::staff_home))
        .route(
            "/back-office/paiements/{what}",
            post(payments::staff_action),
        )
        .route(
            "/back-office/paiements/{id}/rejet",
            post(payments::staff_reject),
        )
        .route(
            "/back-office/organizations/{id}/paiements",
            get(payments::staff_org),
        )
        .route(
            "/back-office/organizations/{id}/paiements/{what}",
            post(payments::staff_org_action),
        )
        .route(
            "/back-office/factures/{id}/sanction",
            post(payments::staff_sanction),
        )
        .route(
            "/back-office/litiges/{id}/reponse",
            post(payments::staff_answer),
        )
        .route("/espace-client/hour-books", get(hour_books::client_list))
        .route(
            "/espace-client/hour-books/{id}",
            get(hour_books::client_book),
        )
        .route(
            "/back-office/organizations/{id}/hour-books",
            get(hour_books::staff_list),
        )
        .route("/back-office/hour-books/{id}", get(hour_books::staff_book))
        .route(
            "/back-office/hour-books/{id}/{what}",
            post(hour_books::staff_action),
        )
        .route("/espace-client/orders", get(orders::client_list))
        .route("/espace-client/orders/{id}", get(orders::client_order))
        .route(
            "/espace-client/orders/{id}/accept",
            post(orders::client_accept),
        )
        .route(
            "/espace-client/orders/{id}/decline",
            post(orders::client_decline),
        )
        .route(
            "/back-office/organizations/{id}/orders",
            get(orders::staff_list).post(order_form::submit),
        )
        .route(
            "/back-office/organizations/{id}/orders/new",
            get(order_form::page),
        )
        .route(
            "/back-office/price-lists",
            get(tariffs::list).post(tariffs::publish),
        )
        .route(
            "/espace-client/orders/{id}/object",
            post(orders::client_object),
        )
        .route("/back-office/terms", get(terms::page).post(terms::publish))
        .route("/back-office/orders/{id}", get(orders::staff_order))
        .route(
            "/back-office/orders/{id}/{action}",
            post(orders::staff_action),
        )
        .route("/espace-client/services", get(services::client_list))
        .route(
            "/espace-client/services/{id}",
            get(services::client_service),
        )
        .route(
            "/espace-client/services/{id}/{action}",
            post(services::client_action),
        )
        .route(
            "/back-office/organizations/{id}/services",
            get(services::staff_list),
        )
        .route("/back-office/services/{id}", get(services::staff_service))
        .route(
            "/espace-client/services/{id}/sla",
            get(sla_page::client_page),
        )
        .route("/back-office/services/{id}/sla", get(sla_page::staff_page))
        .route("/espace-client/usage/{id}", get(usage::client_page))
        .route(
            "/back-office/usage/import",
            get(usage::import_form).post(usage::import),
        )
        .route("/back-office/usage/{id}", get(usage::staff_page))
        .route("/espace-client/colocation", get(colocation::client_page))
        .route(
            "/espace-client/colocation/operations",
            get(colocation_ops::client),
        )
        .route(
            "/espace-client/colocation/acces",
            get(colocation_ops::client),
        )
        .route(
            "/espace-client/colocation/travaux",
            get(colocation_ops::client),
        )
        .route(
            "/espace-client/colocation/decommissionnement",
            get(colocation_ops::client),
        )
        .route(
            "/espace-client/colocation/photo",
            post(colocation_ops::client_photo),
        )
        .route(
            "/espace-client/colocation/{what}",
            post(colocation_ops::client_post),
        )
        .route(
            "/back-office/colocation/operations",
            get(colocation_ops::staff),
        )
        .route(
            "/back-office/colocation/accueil",
            get(colocation_ops::staff),
        )
        .route(
            "/back-office/colocation/access-requests/{id}/{decision}",
            post(colocation_ops::staff_decide),
        )
        .route("/back-office/colocation", get(colocation::staff_list))
        .route(
            "/back-office/colocation/{dc}",
            get(colocation::staff_datacenter),
        )
        .route(
            "/back-office/services/{id}/{action}",
            post(services::staff_action),
        )
        .route(
            "/back-office",
            get(back_office::orgs).post(back_office::create_org),
        )
        .route("/back-office/organizations", post(back_office::create_org))
        .route("/back-office/organizations/{id}", get(back_office::org))
        .route(
            "/back-office/organizations/{id}/users",
            post(back_office::invite),
        )
        .route(
            "/back-office/users/{id}",
            get(back_office::user_page).post(back_office::user_save),
        )
        .route(
            "/back-office/users/{id}/invitation",
            post(back_office::user_resend),
        )
        .route(
            "/back-office/staff",
            get(back_office::staff).post(back_office::create_staff),
        )
        .route("/back-office/audit", get(back_office::audit))
        .route("/espace-client/sauvegardes", get(backup_ops::client_list))
        .route(
            "/espace-client/sauvegardes/{id}",
            get(backup_ops::client_backup),
        )
        .route(
            "/espace-client/sauvegardes/{id}/restauration",
            post(backup_ops::client_restore),
        )
        .route(
            "/espace-client/sauvegardes/{id}/plan",
            post(backup_ops::client_plan),
        )
        .route("/back-office/sauvegardes", get(backup_ops::staff_desk))
        .route(
            "/back-office/restore-requests/{id}/answer",
            post(backup_ops::staff_answer),
        )
        .route("/espace-client/pra", get(backup_ops::client_pra))
        .route(
            "/espace-client/pra/designations/{id}/revoke",
            post(backup_ops::client_pra_revoke),
        )
        .route("/back-office/pra", get(backup_ops::staff_pra))
        .route(
            "/back-office/pra/activations/{id}/{what}",
            post(backup_ops::staff_pra_action),
        )
        .route(
            "/espace-client/pra/bascule",
            post(backup_ops::client_failover),
        )
        .route(
            "/espace-client/pra/{what}",
            post(backup_ops::client_pra_post),
        )
        .route("/espace-client/pra-activations", get(pra::client_list))
        .route(
            "/espace-client/pra-activations/{id}",
            get(pra::client_activation),
        )
        .route(
            "/back-office/organizations/{id}/pra-activations",
            get(pra::staff_list).post(pra::staff_record),
        )
        .route(
            "/back-office/pra-activations/{id}",
            get(pra::staff_activation),
        )
        .route(
            "/back-office/pra-activations/{id}/{what}",
            post(pra::staff_action),
        )
        .route("/espace-client/maintenance", get(maintenance::client_page))
        .route(
            "/espace-client/maintenance/feed",
            post(maintenance::client_rotate),
        )
        .route(
            "/back-office/maintenance",
            get(maintenance::staff_page).post(maintenance::staff_plan),
        )
        .route("/espace-client/sla", get(sla::client_list))
        .route(
            "/espace-client/sla/statements/{id}",
            get(sla::client_statement),
        )
        .route("/back-office/sla", get(sla::staff_queue))
        .route(
            "/back-office/sla/statements/{id}",
            get(sla::staff_statement),
        )
        .route(
            "/back-office/sla/statements/{id}/review",
            post(sla::staff_review),
        )
        .route(
            "/back-office/episodes",
            get(episodes::staff_list).post(episodes::staff_record),
        )
        .route("/back-office/episodes/{id}", get(episodes::staff_episode))
        .route(
            "/back-office/episodes/{id}/{action}",
            post(episodes::staff_action),
        )
        .route("/back-office/clusters", post(episodes::staff_cluster))
        .route(
            "/back-office/service-clusters",
            post(episodes::staff_assign),
        )
        .route(
            "/back-office/maintenance/{id}/{action}",
            post(maintenance::staff_window_action),
        )
        .route("/back-office/messages", get(back_office::messages))
        .route("/back-office/billing", get(billing::staff_home))
        .route("/back-office/billing/fec", get(billing::staff_fec))
        .route("/back-office/billing/runs", post(billing::staff_start))
        .route("/back-office/billing/runs/{id}", get(billing::staff_run))
        .route("/back-office/invoices/{id}", get(billing::staff_invoice))
        .route("/back-office/invoices/{id}/pdf", get(billing::staff_pdf))
        .route(
            "/back-office/invoices/{id}/credit-notes",
            post(billing::staff_credit_note),
        )
        .route("/espace-client/factures", get(billing::client_list))
        .route("/espace-client/factures/{id}", get(billing::client_invoice))
        .route("/espace-client/factures/{id}/pdf", get(billing::client_pdf))
}

/// What the layout needs.
pub struct Ctx {
    pub user: Option<NavUser>,
    pub csrf: String,
    pub path: String,
    pub flash: Option<String>,
}

/// The logged-in user, as the navigation shows it.
pub struct NavUser {
    pub name: String,
    pub is_staff: bool,
    pub can_manage_users: bool,
    pub can_view_services: bool,
    pub can_view_invoices: bool,
    pub org_name: Option<String>,
}

/// The visitor of a page: maybe a logged-in principal, their language, and
/// the CSRF token their forms must carry.
pub struct Viewer {
    pub principal: Option<Principal>,
    pub tr: Tr,
    pub csrf: String,
    new_csrf_cookie: bool,
    pub path: String,
    query: String,
    pub flash: Option<String>,
    pub org_name: Option<String>,
    pub state: AppState,
}

/// Language of an anonymous visitor: the `ciel_lang` cookie, else the
/// browser's first preference if it is English, else French.
pub fn anonymous_lang(headers: &HeaderMap) -> Lang {
    auth::cookie(headers, "ciel_lang")
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(Lang::parse)
        })
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Only sessions log into the portal; a bearer token is for the API.
        let principal = if parts.headers.contains_key(header::AUTHORIZATION) {
            None
        } else {
            auth::authenticate(state, parts).await.unwrap_or(None)
        };
        let (csrf, new_csrf_cookie) = match &principal {
            Some(Principal {
                via: Via::Session { csrf, .. },
                ..
            }) => (csrf.clone(), false),
            _ => match auth::cookie(&parts.headers, CSRF_COOKIE) {
                Some(c) if c.len() == 43 => (c.to_owned(), false),
                _ => (ciel_store::secrets::new_secret(""), true),
            },
        };
        let lang = principal
            .as_ref()
            .map(|p| p.user.lang)
            .unwrap_or_else(|| anonymous_lang(&parts.headers));
        let tr = Tr::new(lang);
        let flash = parts
            .uri
            .query()
            .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "flash"))
            .map(|(_, v)| v.into_owned())
            .filter(|k| {
                k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
            })
            .map(|k| tr.t(flash_key(&k)).to_owned());
        let org_name = principal
            .as_ref()
            .filter(|p| !p.is_staff())
            .map(|p| p.org_name.clone());
        Ok(Viewer {
            principal,
            tr,
            csrf,
            new_csrf_cookie,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            flash,
            org_name,
            state: state.clone(),
        })
    }
}

/// Flash keys are looked up in the static tables; only known keys resolve.
fn flash_key(k: &str) -> &'static str {
    FLASH_KEYS.iter().copied().find(|x| *x == k).unwrap_or("")
}

/// An instant typed in a form: `2026-06-08T10:00` (Paris, as a
/// `datetime-local` input sends it) or an RFC 3339 instant.
pub fn parse_instant(s: &str, field: &str) -> Result<Timestamp, Problem> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|d| d.in_tz("Europe/Paris").ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            Problem::invalid(
                field,
                "expected a date and time such as 2026-06-08T10:00 (Paris) or 2026-06-08T10:00:00+02:00",
            )
        })
}

/// The code an enum serializes to (`snake_case`), as forms and
/// translation keys name it.
pub fn json_code<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether the checkbox `<prefix>_<code>` of each value is ticked: the
/// values ticked, in their order.
pub fn ticked<T: serde::Serialize + Copy>(form: &Form, prefix: &str, all: &[T]) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|x| form.checked(&format!("{prefix}_{}", json_code(x))))
        .collect()
}

/// The instant of an optional form field: None when left empty.
pub fn optional_instant(form: &Form, field: &str) -> Result<Option<Timestamp>, Problem> {
    let s = form.get(field).trim();
    if s.is_empty() {
        Ok(None)
    } else {
        parse_instant(s, field).map(Some)
    }
}

#[cfg(test)]
mod instant_tests {
    use super::parse_instant;

    #[test]
    fn instants_are_read_in_paris_or_rfc_3339() {
        assert_eq!(
            parse_instant("2026-06-08T10:00", "f").unwrap().to_string(),
            "2026-06-08T08:00:00Z"
        );
        assert_eq!(
            parse_instant("2026-06-08T10:00:00Z", "f")
                .unwrap()
                .to_string(),
            "2026-06-08T10:00:00Z"
        );
        assert!(parse_instant("demain", "f").is_err());
    }
}

/// The flash messages a redirect may name (`?flash=`).
const FLASH_KEYS: &[&str] = &[
    "payments.contested",
    "payments.recorded",
    "payments.refunded",
    "payments.rejected_flash",
    "payments.imported",
    "payments.batch_created",
    "payments.dunning_flash",
    "payments.sanctioned",
    "payments.answered",
    "billing.started_flash",
    "billing.credited",
    "users.invited",
    "users.updated",
    "users.resent",
    "orgs.created",
    "staff.created",
    "tokens.created",
    "tokens.revoked",
    "orders.sent",
    "orders.accepted",
    "orders.signed",
    "orders.validated",
    "orders.refused",
    "orders.declined",
    "services.done",
    "hour_books.recorded",
    "hour_books.authorised",
    "tickets.opened",
    "tickets.done",
    "terms.objected",
    "terms.published",
    "orders.drafted",
    "tariffs.published",
    "sla.reviewed",
    "pra.recorded",
    "pra.done",
    "colo.done",
    "episodes.recorded",
    "episodes.cluster_created",
    "episodes.assigned",
    "episodes.updated",
    "maintenance.changed",
    "maintenance.cancelled",
    "usage.imported",
    "ops.done",
];

#[cfg(test)]
mod flash_tests {
    use super::FLASH_KEYS;
    use crate::i18n::Tr;
    use ciel_domain::Lang;

    #[test]
    fn every_flash_message_is_translated() {
        for lang in Lang::ALL {
            for k in FLASH_KEYS {
                assert_ne!(Tr::new(lang).t(k), *k, "{k} has no {lang:?} text");
            }
        }
    }
}

impl Viewer {
    /// Whether the query string holds `key=value` (e.g. `warn=generic`).
    pub fn path_query_has(&self, kv: &str) -> bool {
        self.query.split('&').any(|p| p == kv)
    }

    /// The `cursor` query parameter, if it looks like one.
    pub fn cursor(&self) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned())
            .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    }

    /// The layout context.
    pub fn ctx(&self) -> Ctx {
        Ctx {
            user: self.principal.as_ref().map(|p| NavUser {
                name: p.user.name.clone(),
                is_staff: p.is_staff(),
                can_manage_users: p.can(Permission::ManageUsers),
                can_view_services: p.can(Permission::ViewServices),
                can_view_invoices: p.can(Permission::ViewInvoices),
                org_name: self.org_name.clone(),
            }),
            csrf: self.csrf.clone(),
            path: self.path.clone(),
            flash: self.flash.clone().filter(|f| !f.is_empty()),
        }
    }

    /// Renders a page, setting the anonymous CSRF cookie if it was new.
    pub fn render(&self, page: impl Template) -> Response {
        self.render_status(StatusCode::OK, page)
    }

    pub fn render_status(&self, status: StatusCode, page: impl Template) -> Response {
        let mut res = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
        if self.new_csrf_cookie
            && let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
                &self.state,
                CSRF_COOKIE,
                &self.csrf,
                None,
            ))
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        res
    }

    /// Checks a form's CSRF token against the session's (or the anonymous
    /// cookie's, before login).
    pub fn check_csrf(&self, form: &Form) -> Result<(), Response> {
        let sent = form.get("_csrf");
        if !self.new_csrf_cookie
            && !sent.is_empty()
            && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
        {
            Ok(())
        } else {
            Err(self.message(
                StatusCode::FORBIDDEN,
                "error.forbidden",
                self.tr.t("error.csrf"),
                None,
            ))
        }
    }

    /// A simple page with a title, a text and an optional link.
    pub fn message(
        &self,
        status: StatusCode,
        title_key: &'static str,
        body: &str,
        link: Option<(String, String)>,
    ) -> Response {
        self.render_status(
            status,
            MessagePage {
                t: self.tr,
                ctx: self.ctx(),
                title: self.tr.t(title_key).to_owned(),
                body: body.to_owned(),
                link,
            },
        )
    }

    /// The 404 page (also for what exists but is not the visitor's).
    pub fn not_found(&self) -> Response {
        self.message(
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            self.tr.t("error.not_found_body"),
            Some(("/".into(), self.tr.t("common.back_home").into())),
        )
    }

    /// The logged-in principal, or a redirect to the login page.
    pub fn require_login(&self) -> Result<&Principal, Response> {
        self.principal.as_ref().ok_or_else(|| {
            let next: String = url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        })
    }

    /// A client user; staff get the 404 page.
    pub fn require_client(&self) -> Result<&Principal, Response> {
        let p = self.require_login()?;
        if p.is_staff() {
            Err(self.not_found())
        } else {
            Ok(p)
        }
    }

    /// The principal acting for a form: back-dated to the form's
    /// `occurred_at` when staff give one (a call's or a letter's real time);
    /// clients act now.
    pub fn actor_for(&self, p: &Principal, form: &Form) -> Result<Principal, Problem> {
        let mut actor = p.clone();
        let at = form.get("occurred_at").trim();
        if !at.is_empty() && p.is_staff() {
            actor.occurred_at = Some(
                auth::parse_occurred_at(at, self.state.now())
                    .map_err(|e| Problem::invalid("occurred_at", e))?,
            );
        }
        Ok(actor)
    }

    /// A client user who sees services (orders, services, hour books);
    /// others get the 404 page.
    pub fn require_service_viewer(&self) -> Result<&Principal, Response> {
        let p = self.require_client()?;
        if p.can(ciel_domain::Permission::ViewServices) {
            Ok(p)
        } else {
            Err(self.not_found())
        }
    }

    /// A staff user; clients get the 404 page (the back office does not
    /// exist for them).
    pub fn require_staff(&self) -> Result<&Principal, Response> {
        let p = self.require_login()?;
        if p.is_staff() {
            Ok(p)
        } else {
            Err(self.not_found())
        }
    }

    /// A staff user posting a form with a valid CSRF token (the one check
    /// every back-office action starts with).
    pub fn staff_form(&self, form: &Form) -> Result<Principal, Response> {
        let p = self.require_staff()?.clone();
        self.check_csrf(form)?;
        Ok(p)
    }

    /// A problem from a workflow, as the text shown next to a form.
    pub fn problem_text(&self, p: &Problem) -> String {
        let key = match p.code.as_str() {
            "validation_failed" | "invalid_terms" => "error.validation_failed",
            "conflict" => "error.conflict",
            "forbidden" => "error.forbidden",
            "not_found" => "error.not_found",
            "rate_limited" => "error.rate_limited",
            "unknown_field" => "error.validation_failed",
            "notice_too_late" => "error.notice_too_late",
            "option_rule_violated" => "error.option_rule_violated",
            "price_missing" | "no_price_list" => "error.price_missing",
            "invalid_transition" => "error.invalid_transition",
            "rule_violated"
            | "not_designated"
            | "designation_revoked"
            | "recycle_bin_expired"
            | "no_recycle_bin"
            | "veeam_licence_missing"
            | "scope_not_in_service"
            | "own_order_missing"
            | "no_recommendation" => "error.rule_refused",
            _ => "error.internal",
        };
        let mut s = self.tr.t(key).to_owned();
        if let Some(f) = &p.field {
            s.push_str(&format!(" ({f})"));
        }
        if let Some(d) = &p.detail {
            s.push_str(" : ");
            s.push_str(d);
        }
        s
    }

    /// Instants are shown in Paris time.
    pub fn time(&self, t: Timestamp) -> String {
        fmt_time(t, self.tr.lang)
    }
}

/// Formats an instant in Europe/Paris for a language.
pub fn fmt_time(t: Timestamp, lang: Lang) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC));
    match lang {
        Lang::Fr => z.strftime("%d/%m/%Y %H:%M").to_string(),
        Lang::En => z.strftime("%Y-%m-%d %H:%M").to_string(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A submitted form as text fields (the last value of a repeated name wins).
/// Parsing cannot fail; each handler validates the fields it reads.
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn get(&self, k: &str) -> &str {
        self.0.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn checked(&self, k: &str) -> bool {
        !self.get(k).is_empty()
    }

    /// The permissions ticked as `perm_<code>` checkboxes.
    pub fn permissions(&self) -> ciel_domain::Permissions {
        Permission::ALL
            .into_iter()
            .filter(|p| self.checked(&format!("perm_{}", p.code())))
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| (StatusCode::PAYLOAD_TOO_LARGE, e.body_text()).into_response())?;
        Ok(Form(
            url::form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub t: Tr,
    pub ctx: Ctx,
    pub title: String,
    pub body: String,
    pub link: Option<(String, String)>,
}

/// The 404 page for unknown paths (no state: rendered for anyone).
pub fn not_found_page(req: &Request) -> Response {
    let tr = Tr::new(anonymous_lang(req.headers()));
    let page = MessagePage {
        t: tr,
        ctx: Ctx {
            user: None,
            csrf: String::new(),
            path: req.uri().path().to_owned(),
            flash: None,
        },
        title: tr.t("error.not_found_title").to_owned(),
        body: tr.t("error.not_found_body").to_owned(),
        link: Some(("/".into(), tr.t("common.back_home").into())),
    };
    match page.render() {
        Ok(html) => (StatusCode::NOT_FOUND, Html(html)).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A redirect after a successful form (POST-redirect-GET), with a flash key.
pub fn done(to: &str, flash: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}flash={flash}")).into_response()
}

/// A user row of the lists.
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub profile: String,
    pub status: String,
    pub generic: bool,
}

impl UserRow {
    pub fn new(u: &ciel_store::users::User, tr: Tr) -> UserRow {
        let profile = if let Some(role) = u.staff_role {
            tr.t(role_key(role)).to_owned()
        } else if u.is_org_admin {
            tr.t("role.administrator").to_owned()
        } else {
            let perms: Vec<&str> = u.permissions.iter().map(|p| tr.t(perm_key(p))).collect();
            if perms.is_empty() {
                tr.t("perm.none").to_owned()
            } else {
                perms.join(", ")
            }
        };
        UserRow {
            id: u.id.to_string(),
            name: u.name.clone(),
            email: u.email.clone(),
            profile,
            status: tr.t(status_key(u.status)).to_owned(),
            generic: u.generic_warning,
        }
    }
}

pub fn perm_key(p: Permission) -> &'static str {
    match p {
        Permission::ViewServices => "perm.view_services",
        Permission::ViewInvoices => "perm.view_invoices",
        Permission::OpenTickets => "perm.open_tickets",
        Permission::ManageUsers => "perm.manage_users",
        Permission::TriggerPraFailover => "perm.trigger_pra_failover",
    }
}

fn role_key(r: ciel_domain::StaffRole) -> &'static str {
    match r {
        ciel_domain::StaffRole::Admin => "role.admin",
        ciel_domain::StaffRole::Support => "role.support",
        ciel_domain::StaffRole::Billing => "role.billing",
        ciel_domain::StaffRole::Datacenter => "role.datacenter",
    }
}

pub fn status_key(s: ciel_store::users::UserStatus) -> &'static str {
    match s {
        ciel_store::users::UserStatus::Invited => "status.invited",
        ciel_store::users::UserStatus::Active => "status.active",
        ciel_store::users::UserStatus::Disabled => "status.disabled",
    }
}
