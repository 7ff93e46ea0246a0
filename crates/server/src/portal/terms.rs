//! Terms versions in the back office (R1.2): the versions known and the
//! publication form (the whole TOML document in a text area). Publication
//! runs the API's workflow (`crate::terms_versions::publish`).

use super::{Ctx, Form, Viewer, done};
use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::StaffRole;

pub struct VersionRow {
    pub id: String,
    pub title: String,
    pub effective_date: String,
    pub published_at: String,
    pub applies_from: String,
    pub embedded: bool,
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    t: Tr,
    ctx: Ctx,
    versions: Vec<VersionRow>,
    can_publish: bool,
    toml: String,
    error: Option<String>,
}

async fn render(v: &Viewer, toml: String, error: Option<String>, status: StatusCode) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let versions = match crate::terms_versions::list(&v.state).await {
        Ok(list) => list,
        Err(_) => {
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    v.render_status(
        status,
        TermsPage {
            t: v.tr,
            ctx: v.ctx(),
            versions: versions
                .into_iter()
                .map(|x| VersionRow {
                    id: x.id,
                    title: x.title,
                    effective_date: x.effective_date,
                    published_at: x.published_at.map(|t| v.time(t)).unwrap_or_default(),
                    applies_from: x
                        .applies_to_running_from
                        .map(|t| v.time(t))
                        .unwrap_or_default(),
                    embedded: x.embedded,
                })
                .collect(),
            can_publish: p.staff_role() == Some(StaffRole::Admin),
            toml,
            error,
        },
    )
}

pub async fn page(v: Viewer) -> Response {
    render(&v, String::new(), None, StatusCode::OK).await
}

pub async fn publish(v: Viewer, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let toml = form.get("toml").to_owned();
    match crate::terms_versions::publish(&v.state, &p, &toml).await {
        Ok(_) => done("/back-office/terms", "terms.published"),
        Err(e) => {
            let text = v.problem_text(&e);
            render(&v, toml, Some(text), e.status_code()).await
        }
    }
}
