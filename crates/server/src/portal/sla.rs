//! Monthly SLA statements in the portal (issue 5, item 6; R5-R7): the
//! client's list per service and month and the statement with its
//! explanation (each step citing rule and clause) and evidence download;
//! the back office's review queue of proposed credits with approve and
//! reject forms (R7.5), and the same statement page. Every action runs the
//! API's workflows (`crate::sla::statements`).

use super::{Ctx, Form, Viewer, done};
use crate::i18n::Tr;
use crate::sla::statements::{self, ReviewInput};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::Lang;
use ciel_store::statements::{Filter, StatementRow};

pub struct Line {
    pub id: String,
    pub service_id: String,
    pub month: String,
    pub rate: String,
    pub guaranteed: String,
    pub unavailable: i64,
    pub penalty: String,
    pub credit: String,
    pub review: String,
    pub state: String,
    pub reason: String,
    pub proposed: bool,
}

fn line(v: &Viewer, s: &StatementRow) -> Line {
    let f = &s.figures;
    Line {
        id: s.id.to_string(),
        service_id: f.service_id.clone(),
        month: f.month.clone(),
        rate: f.rate.clone(),
        guaranteed: f.guaranteed_rate.clone(),
        unavailable: f.unavailable_minutes,
        penalty: f.penalty_percent.clone(),
        credit: f.credit.clone(),
        review: v.tr.t(&format!("sla.review_{}", f.review)).to_owned(),
        state: v.tr.t(&format!("sla.state_{}", s.state)).to_owned(),
        reason: s.review_reason.clone().unwrap_or_default(),
        proposed: f.review == "proposed",
    }
}

#[derive(Template)]
#[template(path = "sla_statements.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    lines: Vec<Line>,
    next: Option<String>,
    /// The statement a review failed on, and why.
    error: Option<(String, String)>,
}

async fn list_render(
    v: &Viewer,
    staff: bool,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        v.require_service_viewer()
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let filter = Filter {
        review: staff.then(|| "proposed".to_owned()),
        ..Filter::default()
    };
    let cursor = v.cursor();
    match statements::list(&v.state, &p, &filter, cursor.as_deref(), 100).await {
        Ok(page) => v.render_status(
            status,
            ListPage {
                t: v.tr,
                ctx: v.ctx(),
                staff,
                lines: page.items.iter().map(|s| line(v, s)).collect(),
                next: page.next_cursor,
                error,
            },
        ),
        Err(e) => v.message(e.status_code(), "error.internal", &v.problem_text(&e), None),
    }
}

/// `GET /espace-client/sla`: the client's statements, newest first.
pub async fn client_list(v: Viewer) -> Response {
    list_render(&v, false, None, StatusCode::OK).await
}

/// `GET /back-office/sla`: the review queue (proposed credits).
pub async fn staff_queue(v: Viewer) -> Response {
    list_render(&v, true, None, StatusCode::OK).await
}

pub struct StepLine {
    pub rule: String,
    pub clause: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "sla_statement.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    s: Line,
    offer: String,
    terms_version: String,
    month_minutes: i64,
    tier: String,
    raw_penalty: String,
    caps: String,
    not_counted: Vec<String>,
    steps: Vec<StepLine>,
    correctable_until: String,
    reviewed: String,
}

async fn detail(v: Viewer, id: &str, staff: bool) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        v.require_service_viewer()
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let Ok(row) = statements::get(&v.state, &p, id).await else {
        return v.not_found();
    };
    let Ok((st, ex)) = statements::documents(&row) else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    let lang = match v.tr.lang {
        Lang::Fr => ciel_engine::Lang::Fr,
        Lang::En => ciel_engine::Lang::En,
    };
    let f = &row.figures;
    v.render(DetailPage {
        t: v.tr,
        ctx: v.ctx(),
        staff,
        s: line(&v, &row),
        offer: f.offer.clone(),
        terms_version: f.terms_version.clone(),
        month_minutes: f.month_minutes,
        tier: f.penalty_tier.clone().unwrap_or_default(),
        raw_penalty: f.raw_penalty.clone(),
        caps: f.caps_applied.clone(),
        not_counted: st
            .not_counted
            .iter()
            .map(|n| format!("{} ({}) : {}", n.id, n.source, n.status.label(lang)))
            .collect(),
        steps: ex
            .steps
            .into_iter()
            .map(|s| StepLine {
                rule: s.rule,
                clause: s.clause,
                text: if lang == ciel_engine::Lang::Fr {
                    s.fr
                } else {
                    s.en
                },
            })
            .collect(),
        correctable_until: v.time(f.correctable_until),
        reviewed: match (&row.reviewed_by, row.reviewed_at) {
            (Some(by), Some(at)) => format!("{by}, {}", v.time(at)),
            _ => String::new(),
        },
    })
}

/// `GET /espace-client/sla/statements/{id}`.
pub async fn client_statement(v: Viewer, Path(id): Path<String>) -> Response {
    detail(v, &id, false).await
}

/// `GET /back-office/sla/statements/{id}`.
pub async fn staff_statement(v: Viewer, Path(id): Path<String>) -> Response {
    detail(v, &id, true).await
}

/// `POST /back-office/sla/statements/{id}/review`: approve or reject; an
/// error is shown next to the statement's form in the queue.
pub async fn staff_review(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let actor = match v.actor_for(&p, &form) {
        Ok(a) => a,
        Err(e) => {
            let text = v.problem_text(&e);
            return list_render(&v, true, Some((id, text)), e.status_code()).await;
        }
    };
    let input = ReviewInput {
        decision: form.get("decision").to_owned(),
        reason: Some(form.get("reason").to_owned()),
    };
    match statements::review(&v.state, &actor, &id, input).await {
        Ok(_) => done("/back-office/sla", "sla.reviewed"),
        Err(e) => {
            let text = v.problem_text(&e);
            list_render(&v, true, Some((id, text)), e.status_code()).await
        }
    }
}
