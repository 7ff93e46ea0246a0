//! Maintenance and episodes in the portal (issue 5, items 3 and 4): the
//! client's maintenance page with its private iCalendar feed URL; the back
//! office's planning form and list; the episode log with its filters. Every
//! action runs the API's workflows (`crate::maintenance`, `crate::episodes`).

use super::{Ctx, Form, Viewer};
use crate::api::maintenance::summary;
use crate::i18n::Tr;
use crate::maintenance::PlanInput;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;
use ciel_store::Scope;
use ciel_store::episodes::Filter;
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
            outcome: summary(w, n, lang),
            excluded: n.iter().all(|x| x.excluded),
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

pub struct EpisodeLine {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub start: String,
    pub end: String,
    pub source: String,
    pub exclusion: String,
    pub ticket: String,
}

#[derive(Template)]
#[template(path = "episodes.html")]
struct EpisodesPage {
    t: Tr,
    ctx: Ctx,
    episodes: Vec<EpisodeLine>,
    cluster_id: String,
    service_id: String,
    month: String,
    error: Option<String>,
}

/// `GET /back-office/episodes?cluster_id=&service_id=&month=YYYY-MM`.
pub async fn staff_episodes(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let get = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let mut error = None;
    let (from, to) = match get("month").map(|m| crate::api::episodes::month_range(&m)) {
        Some(Ok((a, b))) => (Some(a), Some(b)),
        Some(Err(e)) => {
            error = Some(v.problem_text(&e));
            (None, None)
        }
        None => (None, None),
    };
    let f = Filter {
        cluster_id: get("cluster_id"),
        service_id: get("service_id"),
        from,
        to,
        kind: None,
        limit: 1000,
    };
    let Ok(rows) = crate::episodes::list(&v.state, &p, &f).await else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    v.render(EpisodesPage {
        t: v.tr,
        ctx: v.ctx(),
        episodes: rows
            .iter()
            .map(|e| EpisodeLine {
                id: e.id.to_string(),
                kind: e.kind.clone(),
                target: e
                    .cluster_id
                    .clone()
                    .or(e.service_id.clone())
                    .unwrap_or_default(),
                start: v.time(e.start),
                end: e.end.map(|t| v.time(t)).unwrap_or_default(),
                source: e.source.clone(),
                exclusion: match (&e.exclusion, &e.exclusion_note) {
                    (Some(r), Some(n)) => format!("{r}: {n}"),
                    (Some(r), None) => r.clone(),
                    _ => String::new(),
                },
                ticket: e.ticket_id.clone().unwrap_or_default(),
            })
            .collect(),
        cluster_id: get("cluster_id").unwrap_or_default(),
        service_id: get("service_id").unwrap_or_default(),
        month: get("month").unwrap_or_default(),
        error,
    })
}
