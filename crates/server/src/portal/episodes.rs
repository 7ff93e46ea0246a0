//! The back office's episode log (issue 5, item 4; R5.2-R5.3): filters
//! (kind, cluster, service, month, open only), and the forms that record an
//! episode, close an open one, correct it (compare-and-set on its version),
//! link it to a ticket, exclude it for an R5.3 reason, create clusters and
//! put services on them. Every form runs the API's workflow
//! (`crate::episodes`); a refusal is shown next to the field it names.

use super::{Ctx, Form, Viewer, done};
use crate::auth::Principal;
use crate::episodes::{self, Correction, EpisodeInput};
use crate::i18n::Tr;
use crate::problem::Problem;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;
use ciel_store::episodes::{EpisodeRow, Filter};
use jiff::Timestamp;
use std::collections::HashMap;

/// The four kinds of R5.2, as codes.
const KINDS: [&str; 4] = [
    "cluster_connectivity",
    "vm_storage_access",
    "vcenter",
    "nsx_manager",
];

pub struct EpisodeLine {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub start: String,
    pub end: String,
    pub open: bool,
    pub source: String,
    pub exclusion: String,
    pub ticket: String,
    pub version: i64,
}

fn line(v: &Viewer, e: &EpisodeRow) -> EpisodeLine {
    EpisodeLine {
        id: e.id.to_string(),
        kind: v.tr.t(&format!("episodes.kind_{}", e.kind)).to_owned(),
        target: e
            .cluster_id
            .clone()
            .or(e.service_id.clone())
            .unwrap_or_default(),
        start: v.time(e.start),
        end: e.end.map(|t| v.time(t)).unwrap_or_default(),
        open: e.end.is_none(),
        source: e.source.clone(),
        exclusion: match (&e.exclusion, &e.exclusion_note) {
            (Some(r), Some(n)) => format!("{r}: {n}"),
            (Some(r), None) => r.clone(),
            _ => String::new(),
        },
        ticket: e.ticket_id.clone().unwrap_or_default(),
        version: e.version,
    }
}

/// Refusals by field, each form's own (`<form>.<field>`; `<form>._` when
/// the problem names no field).
#[derive(Default)]
struct Errors(HashMap<String, String>);

impl Errors {
    fn of(v: &Viewer, form: &str, p: &Problem) -> Errors {
        let field = p.field.clone().unwrap_or_else(|| "_".into());
        // `episodes[0].end`-style paths name the form's own field.
        let field = field.rsplit('.').next().unwrap_or("_").to_owned();
        let mut m = HashMap::new();
        m.insert(format!("{form}.{field}"), v.problem_text(p));
        Errors(m)
    }
}

#[derive(Template)]
#[template(path = "episodes.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    episodes: Vec<EpisodeLine>,
    filter: HashMap<String, String>,
    kinds: Vec<(String, String)>,
    clusters: Vec<(String, String)>,
    form: HashMap<String, String>,
    errors: Errors,
    /// A fresh idempotency key for the record form: submitting it twice
    /// records one episode.
    key: String,
}

impl ListPage {
    fn f(&self, k: &str) -> String {
        self.filter.get(k).cloned().unwrap_or_default()
    }
    fn v(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
    fn err(&self, k: &str) -> String {
        self.errors.0.get(k).cloned().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "episode.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    e: EpisodeLine,
    /// Values for the correction form (datetime-local, Paris).
    start_local: String,
    end_local: String,
    kind_code: String,
    kinds: Vec<(String, String)>,
    reasons: Vec<(String, String)>,
    form: HashMap<String, String>,
    errors: Errors,
}

impl DetailPage {
    fn v(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
    fn err(&self, k: &str) -> String {
        self.errors.0.get(k).cloned().unwrap_or_default()
    }
}

fn kinds(v: &Viewer) -> Vec<(String, String)> {
    KINDS
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                v.tr.t(&format!("episodes.kind_{k}")).to_owned(),
            )
        })
        .collect()
}

fn lang(v: &Viewer) -> Lang {
    match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

/// A `datetime-local` value read in Paris time; `None` when blank.
fn paris(field: &str, s: &str) -> Result<Option<Timestamp>, Problem> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|d| d.in_tz("Europe/Paris").ok())
        .map(|z| Some(z.timestamp()))
        .ok_or_else(|| Problem::invalid(field, "YYYY-MM-DDTHH:MM (Paris time)"))
}

fn local(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC))
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn list_render(
    v: &Viewer,
    p: &Principal,
    q: &HashMap<String, String>,
    form: HashMap<String, String>,
    mut errors: Errors,
    status: StatusCode,
) -> Response {
    let get = |k: &str| q.get(k).and_then(|s| opt(s));
    let (from, to) = match get("month").map(|m| crate::api::episodes::month_range(&m)) {
        Some(Ok((a, b))) => (Some(a), Some(b)),
        Some(Err(e)) => {
            errors.0.insert("filter.month".into(), v.problem_text(&e));
            (None, None)
        }
        None => (None, None),
    };
    let f = Filter {
        cluster_id: get("cluster_id"),
        service_id: get("service_id"),
        from,
        to,
        kind: get("kind").filter(|k| KINDS.contains(&k.as_str())),
        open_only: get("open").is_some(),
        limit: 1000,
    };
    let (Ok(rows), Ok(clusters)) = (
        episodes::list(&v.state, p, &f).await,
        ciel_store::episodes::list_clusters(v.state.store().db()).await,
    ) else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    let filter = ["cluster_id", "service_id", "month", "kind", "open"]
        .iter()
        .map(|k| ((*k).to_owned(), get(k).unwrap_or_default()))
        .collect();
    v.render_status(
        status,
        ListPage {
            t: v.tr,
            ctx: v.ctx(),
            episodes: rows.iter().map(|e| line(v, e)).collect(),
            filter,
            kinds: kinds(v),
            clusters: clusters
                .into_iter()
                .map(|c| (c.id.clone(), format!("{} — {}", c.id, c.label)))
                .collect(),
            form,
            errors,
            key: ciel_store::new_id("epf", v.state.now()).to_string(),
        },
    )
}

/// `GET /back-office/episodes?kind=&cluster_id=&service_id=&month=YYYY-MM&open=1`.
pub async fn staff_list(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    match v.require_staff() {
        Ok(p) => {
            let p = p.clone();
            list_render(
                &v,
                &p,
                &q,
                HashMap::new(),
                Errors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(r) => r,
    }
}

fn keep(form: &Form, keys: &[&str]) -> HashMap<String, String> {
    keys.iter()
        .map(|k| ((*k).to_owned(), form.get(k).to_owned()))
        .collect()
}

/// `POST /back-office/episodes`: staff record an episode (Paris times).
pub async fn staff_record(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let kept = keep(
        &form,
        &["kind", "target", "start", "end", "ticket_id", "key"],
    );
    let result = async {
        let start = paris("start", form.get("start"))?
            .ok_or_else(|| Problem::invalid("start", "R5.2: when the episode started"))?;
        let end = paris("end", form.get("end"))?;
        let target = form.get("target").trim();
        let (cluster_id, service_id) = match target.strip_prefix("svc_") {
            Some(_) => (None, Some(target.to_owned())),
            None => (opt(target), None),
        };
        let input = EpisodeInput {
            kind: form.get("kind").to_owned(),
            cluster_id,
            service_id,
            start,
            end,
            impacts_service: None,
            source: Some("back_office".into()),
            key: None,
            ticket_id: opt(form.get("ticket_id")),
        };
        let key = form.get("key").trim().to_owned();
        let hash = episodes::body_hash(&(
            &input.kind,
            &input.cluster_id,
            &input.service_id,
            input.start,
            input.end,
            &input.ticket_id,
        ));
        episodes::push(&v.state, &p, &key, hash, vec![input], false, |_, _| {
            Ok(serde_json::Value::Null)
        })
        .await
    }
    .await;
    match result {
        Ok(_) => done("/back-office/episodes", "episodes.recorded"),
        Err(e) => {
            let errors = Errors::of(&v, "record", &e);
            let status = e.status_code();
            list_render(&v, &p, &HashMap::new(), kept, errors, status).await
        }
    }
}

/// `POST /back-office/clusters`: staff create a cluster.
pub async fn staff_cluster(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match episodes::create_cluster(&v.state, &p, form.get("id").trim(), form.get("label")).await {
        Ok(_) => done("/back-office/episodes", "episodes.cluster_created"),
        Err(e) => {
            let errors = Errors::of(&v, "cluster", &e);
            let kept = keep(&form, &["id", "label"]);
            let status = e.status_code();
            list_render(&v, &p, &HashMap::new(), kept, errors, status).await
        }
    }
}

/// `POST /back-office/service-clusters`: staff put a service on a cluster
/// (or take it off with an empty cluster).
pub async fn staff_assign(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let service = form.get("service_id").trim().to_owned();
    let cluster = opt(form.get("cluster_id"));
    let result = if service.is_empty() {
        Err(Problem::invalid("service_id", "name the service"))
    } else {
        episodes::assign_cluster(&v.state, &p, &service, cluster.as_deref())
            .await
            .map_err(|e| {
                if e.status == 404 {
                    Problem::invalid("service_id", "no such service")
                } else {
                    e
                }
            })
    };
    match result {
        Ok(()) => done("/back-office/episodes", "episodes.assigned"),
        Err(e) => {
            let errors = Errors::of(&v, "assign", &e);
            let kept = keep(&form, &["service_id", "cluster_id"]);
            let status = e.status_code();
            list_render(&v, &p, &HashMap::new(), kept, errors, status).await
        }
    }
}

async fn detail_render(
    v: &Viewer,
    p: &Principal,
    id: &str,
    form: HashMap<String, String>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let Ok(e) = episodes::get(&v.state, p, id).await else {
        return v.not_found();
    };
    let Ok(allowed) = episodes::allowed_exclusions(&v.state, v.state.now()) else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    let lang = lang(v);
    v.render_status(
        status,
        DetailPage {
            t: v.tr,
            ctx: v.ctx(),
            start_local: local(e.start),
            end_local: e.end.map(local).unwrap_or_default(),
            kind_code: e.kind.clone(),
            e: line(v, &e),
            kinds: kinds(v),
            reasons: allowed
                .iter()
                .map(|r| {
                    let code = serde_json::to_value(r)
                        .ok()
                        .and_then(|x| x.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    (
                        code,
                        ciel_engine::availability::exclusion_label(*r, lang).to_owned(),
                    )
                })
                .collect(),
            form,
            errors,
        },
    )
}

/// `GET /back-office/episodes/{id}`: one episode with its forms.
pub async fn staff_episode(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => {
            let p = p.clone();
            detail_render(
                &v,
                &p,
                &id,
                HashMap::new(),
                Errors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(r) => r,
    }
}

/// `POST /back-office/episodes/{id}/{close|correct|exclude}`.
pub async fn staff_action(
    v: Viewer,
    Path((id, what)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let result = async {
        match what.as_str() {
            "close" => {
                let end = paris("end", form.get("end"))?
                    .ok_or_else(|| Problem::invalid("end", "R5.2: when the episode ended"))?;
                episodes::close(&v.state, &p, &id, end).await
            }
            "correct" => {
                let version = form
                    .get("version")
                    .parse()
                    .map_err(|_| Problem::invalid("version", "reload the episode"))?;
                let c = Correction {
                    kind: opt(form.get("kind")),
                    start: paris("start", form.get("start"))?,
                    end: paris("end", form.get("end"))?,
                    ticket_id: opt(form.get("ticket_id")),
                    version: Some(version),
                };
                episodes::correct(&v.state, &p, &id, c).await
            }
            "exclude" => {
                episodes::exclude(&v.state, &p, &id, form.get("reason"), form.get("note")).await
            }
            _ => Err(Problem::not_found()),
        }
    }
    .await;
    match result {
        Ok(_) => done(&format!("/back-office/episodes/{id}"), "episodes.updated"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => {
            let errors = Errors::of(&v, &what, &e);
            let kept = keep(
                &form,
                &["end", "start", "kind", "ticket_id", "reason", "note"],
            );
            let status = e.status_code();
            detail_render(&v, &p, &id, kept, errors, status).await
        }
    }
}
