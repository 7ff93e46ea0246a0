//! Maintenance in the portal (issue 5, item 3): the client's maintenance
//! page with its private iCalendar feed URL; the back office's planning
//! form, list, and each window's change and cancellation forms. Every
//! action runs the API's workflows (`crate::maintenance`).

use super::{Ctx, Form, Viewer};
use crate::api::maintenance::summary;
use crate::i18n::Tr;
use crate::maintenance::PlanInput;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;
use ciel_store::Scope;
use ciel_store::maintenance::{NoticeRow, WindowRow};
use std::collections::HashMap;

pub struct WindowLine {
    pub id: String,
    pub title: String,
    pub start: String,
    pub end: String,
    pub impact: String,
    pub reason: String,
    pub contact: String,
    pub targets: String,
    pub outcome: String,
    pub excluded: bool,
    pub sequence: i64,
    pub cancelled: bool,
    /// For the change form: the start in Paris time and the duration.
    pub start_local: String,
    pub minutes: i64,
}

fn lines(v: &Viewer, items: &[(WindowRow, Vec<NoticeRow>)]) -> Vec<WindowLine> {
    let lang = match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    };
    items
        .iter()
        .map(|(w, n)| WindowLine {
            id: w.id.to_string(),
            title: w.title.clone(),
            start: v.time(w.start),
            end: v.time(w.end),
            impact: w.impact.clone(),
            reason: w.reason.clone(),
            contact: w.contact.clone(),
            targets: w
                .services
                .iter()
                .chain(&w.clusters)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            outcome: match &w.cancelled_at {
                Some(at) => format!(
                    "{} {} : {}",
                    v.tr.t("maintenance.cancelled_on"),
                    v.time(*at),
                    w.cancel_reason.clone().unwrap_or_default()
                ),
                None => summary(w, n, lang),
            },
            excluded: n.iter().all(|x| x.excluded) || w.cancelled_at.is_some(),
            sequence: w.sequence,
            cancelled: w.cancelled_at.is_some(),
            start_local: w
                .start
                .to_zoned(
                    jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC),
                )
                .strftime("%Y-%m-%dT%H:%M")
                .to_string(),
            minutes: (w.end - w.start).get_seconds() / 60,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "maintenance_client.html")]
struct ClientPage {
    t: Tr,
    ctx: Ctx,
    windows: Vec<WindowLine>,
    is_admin: bool,
    feed_since: String,
    feed_url: Option<String>,
}

async fn client_render(v: &Viewer, feed_url: Option<String>) -> Response {
    let p = match v.require_client() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let db = v.state.store().db();
    let (Ok(items), Ok(since)) = (
        crate::maintenance::list(&v.state, &p.scope, 500).await,
        ciel_store::maintenance::feed_issued_at(db, &p.user.org_id).await,
    ) else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    v.render(ClientPage {
        t: v.tr,
        ctx: v.ctx(),
        windows: lines(v, &items),
        is_admin: p.user.is_org_admin,
        feed_since: since.map(|t| v.time(t)).unwrap_or_default(),
        feed_url,
    })
}

/// `GET /espace-client/maintenance`.
pub async fn client_page(v: Viewer) -> Response {
    client_render(&v, None).await
}

/// `POST /espace-client/maintenance/feed`: a new private feed URL, shown once.
pub async fn client_rotate(v: Viewer, form: Form) -> Response {
    let p = match v.require_client() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match crate::maintenance::rotate_feed(&v.state, &p, p.user.org_id.as_str()).await {
        Ok(url) => client_render(&v, Some(url)).await,
        Err(e) => v.message(
            e.status_code(),
            "error.forbidden",
            &v.problem_text(&e),
            None,
        ),
    }
}

#[derive(Template)]
#[template(path = "maintenance_staff.html")]
struct StaffPage {
    t: Tr,
    ctx: Ctx,
    windows: Vec<WindowLine>,
    error: Option<String>,
    form: HashMap<String, String>,
}

impl StaffPage {
    fn field(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
}

async fn staff_render(
    v: &Viewer,
    error: Option<String>,
    form: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    let Ok(items) = crate::maintenance::list(&v.state, &Scope::Staff, 200).await else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    v.render_status(
        status,
        StaffPage {
            t: v.tr,
            ctx: v.ctx(),
            windows: lines(v, &items),
            error,
            form,
        },
    )
}

/// `GET /back-office/maintenance`.
pub async fn staff_page(v: Viewer) -> Response {
    staff_render(&v, None, HashMap::new(), StatusCode::OK).await
}

fn list_field(s: &str) -> Vec<String> {
    s.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /back-office/maintenance`: plans a window (start in Paris time).
pub async fn staff_plan(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let keep: HashMap<String, String> = [
        "title", "start", "minutes", "impact", "reason", "contact", "services", "clusters",
        "urgent",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), form.get(k).to_owned()))
    .collect();
    let start = form
        .get("start")
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|d| d.in_tz("Europe/Paris").ok())
        .map(|z| z.timestamp());
    let Some(start) = start else {
        let msg = format!("{} : YYYY-MM-DDTHH:MM", v.tr.t("maintenance.start"));
        return staff_render(&v, Some(msg), keep, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let urgent = form.get("urgent").trim();
    let input = PlanInput {
        title: form.get("title").to_owned(),
        start,
        expected_minutes: form.get("minutes").parse().unwrap_or(0),
        impact: form.get("impact").to_owned(),
        reason: form.get("reason").to_owned(),
        contact: form.get("contact").to_owned(),
        services: list_field(form.get("services")),
        clusters: list_field(form.get("clusters")),
        urgent_security_reason: form.checked("is_urgent").then(|| urgent.to_owned()),
    };
    match crate::maintenance::plan(&v.state, &p, input).await {
        Ok(_) => staff_render(&v, None, HashMap::new(), StatusCode::OK).await,
        Err(e) => {
            let text = v.problem_text(&e);
            staff_render(&v, Some(text), keep, e.status_code()).await
        }
    }
}

/// `POST /back-office/maintenance/{id}/{change|cancel}`: staff move a
/// window (start in Paris time, duration, impact) or cancel it with why;
/// the clients are told again.
pub async fn staff_window_action(
    v: Viewer,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let sequence = form.get("sequence").parse::<i64>().unwrap_or(-1);
    let result = match action.as_str() {
        "change" => {
            let start = match form.get("start").trim() {
                "" => Ok(None),
                s => s
                    .parse::<jiff::civil::DateTime>()
                    .ok()
                    .and_then(|d| d.in_tz("Europe/Paris").ok())
                    .map(|z| Some(z.timestamp()))
                    .ok_or_else(|| {
                        crate::problem::Problem::invalid("start", "YYYY-MM-DDTHH:MM (Paris time)")
                    }),
            };
            match start {
                Ok(start) => {
                    let text =
                        |k: &str| Some(form.get(k).to_owned()).filter(|s| !s.trim().is_empty());
                    let input = crate::maintenance::ChangeInput {
                        title: None,
                        start,
                        expected_minutes: form.get("minutes").trim().parse().ok(),
                        impact: text("impact"),
                        reason: None,
                        contact: None,
                        sequence,
                    };
                    crate::maintenance::change(&v.state, &p, &id, input).await
                }
                Err(e) => Err(e),
            }
        }
        "cancel" => {
            crate::maintenance::cancel(&v.state, &p, &id, form.get("reason"), sequence).await
        }
        _ => Err(crate::problem::Problem::not_found()),
    };
    match result {
        Ok(_) if action == "cancel" => {
            super::done("/back-office/maintenance", "maintenance.cancelled")
        }
        Ok(_) => super::done("/back-office/maintenance", "maintenance.changed"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => {
            let text = format!("{id} — {}", v.problem_text(&e));
            staff_render(&v, Some(text), HashMap::new(), e.status_code()).await
        }
    }
}
