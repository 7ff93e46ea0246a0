//! Hour books in the portal (R8.2-R8.3): the client space shows each book's
//! balance and every intervention with its charged minutes and explanation;
//! the back office shows the same and records interventions and written
//! overrun authorisations. Every action runs the API's workflow
//! (`crate::hour_books`).

use super::{Form, Viewer, done};
use crate::auth::Principal;
use crate::hour_books::{self, AuthorisationInput, BookDetail, BookState, InterventionInput};
use crate::i18n::Tr;
use crate::problem::Problem;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;

use super::Ctx;

pub struct BookRow {
    pub id: String,
    pub hours: i64,
    pub purchased_at: String,
    pub balance: String,
    pub overrun: String,
    pub lapsed: String,
    pub carries_over: bool,
}

pub struct InterventionRow {
    pub kind: String,
    pub start: String,
    pub end: String,
    pub description: String,
    pub staff: String,
    pub charged: String,
    pub overrun: String,
    pub explanation: Vec<String>,
}

pub struct AuthorisationRow {
    pub given_by: String,
    pub given_at: String,
    pub reference: String,
    pub max_minutes: i64,
}

#[derive(Template)]
#[template(path = "hour_books.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    org_name: String,
    base: String,
    books: Vec<BookRow>,
}

#[derive(Template)]
#[template(path = "hour_book.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    book: BookRow,
    back: String,
    action_base: String,
    interventions: Vec<InterventionRow>,
    authorisations: Vec<AuthorisationRow>,
    is_staff: bool,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    if v.tr.code() == "en" {
        Lang::En
    } else {
        Lang::Fr
    }
}

fn row(v: &Viewer, s: &BookState) -> BookRow {
    let l = &s.ledger;
    BookRow {
        id: s.book.id.to_string(),
        hours: s.book.hours,
        purchased_at: v.time(s.book.purchased_at),
        balance: l.balance_minutes.normalize().to_string(),
        overrun: l.overrun_minutes.normalize().to_string(),
        lapsed: l.lapsed_minutes.normalize().to_string(),
        carries_over: s.managed_now,
    }
}

fn kind_key(k: &str) -> &'static str {
    match k {
        "server_restoration" => "hour_books.kind_server_restoration",
        "data_recovery" => "hour_books.kind_data_recovery",
        _ => "hour_books.kind_normal",
    }
}

async fn list_page(v: &Viewer, p: &Principal, org_id: &str, base: &str) -> Response {
    let Ok(org) = ciel_store::orgs::get(v.state.store().db(), &p.scope, org_id).await else {
        return v.not_found();
    };
    match hour_books::list_books(&v.state, p, org_id).await {
        Ok(books) => v.render(ListPage {
            t: v.tr,
            ctx: v.ctx(),
            org_name: org.name,
            base: base.to_owned(),
            books: books.iter().map(|b| row(v, b)).collect(),
        }),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => v.message(e.status_code(), "error.internal", "", None),
    }
}

async fn detail_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let d: BookDetail = match hour_books::get_book(&v.state, p, id).await {
        Ok(d) => d,
        Err(_) => return v.not_found(),
    };
    let lang = lang(v);
    let (back, action_base) = if p.is_staff() {
        (
            format!(
                "/back-office/organizations/{}/hour-books",
                d.state.book.org_id
            ),
            format!("/back-office/hour-books/{}", d.state.book.id),
        )
    } else {
        ("/espace-client/hour-books".to_owned(), String::new())
    };
    v.render_status(
        status,
        DetailPage {
            t: v.tr,
            ctx: v.ctx(),
            book: row(v, &d.state),
            back,
            action_base,
            interventions: d
                .interventions
                .iter()
                .map(|i| InterventionRow {
                    kind: v.tr.t(kind_key(&i.kind)).to_owned(),
                    start: v.time(i.started_at),
                    end: v.time(i.ended_at),
                    description: i.description.clone(),
                    staff: i.staff_label.clone(),
                    charged: i.charged_minutes.clone(),
                    overrun: i.overrun_minutes.clone(),
                    explanation: hour_books::render_explanation(&i.explanation_json, lang)
                        .lines()
                        .map(str::to_owned)
                        .collect(),
                })
                .collect(),
            authorisations: d
                .authorisations
                .iter()
                .map(|a| AuthorisationRow {
                    given_by: a.given_by.clone(),
                    given_at: v.time(a.given_at),
                    reference: a.reference.clone(),
                    max_minutes: a.max_minutes,
                })
                .collect(),
            is_staff: p.is_staff(),
            error,
        },
    )
}

pub async fn client_list(v: Viewer) -> Response {
    match v.require_service_viewer() {
        Ok(p) => list_page(&v, p, p.user.org_id.as_str(), "/espace-client").await,
        Err(r) => r,
    }
}

pub async fn client_book(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_service_viewer() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn staff_list(v: Viewer, Path(org_id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => list_page(&v, p, &org_id, "/back-office").await,
        Err(r) => r,
    }
}

pub async fn staff_book(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

async fn record(
    v: &Viewer,
    p: &Principal,
    id: &str,
    form: &Form,
    what: &str,
) -> Result<&'static str, Problem> {
    let actor = v.actor_for(p, form)?;
    match what {
        "interventions" => {
            let kind = Some(form.get("kind").trim().to_owned()).filter(|k| !k.is_empty());
            let input = InterventionInput {
                kind,
                start: super::parse_instant(form.get("start"), "start")?,
                end: super::parse_instant(form.get("end"), "end")?,
                description: form.get("description").to_owned(),
            };
            hour_books::record_intervention(&v.state, &actor, id, input).await?;
            Ok("hour_books.recorded")
        }
        "authorisations" => {
            let given_at = super::optional_instant(form, "given_at")?;
            let max_minutes = form
                .get("max_minutes")
                .trim()
                .parse()
                .map_err(|_| Problem::invalid("max_minutes", "a number of minutes"))?;
            let input = AuthorisationInput {
                given_by: form.get("given_by").to_owned(),
                given_at,
                reference: form.get("reference").to_owned(),
                max_minutes,
            };
            hour_books::record_authorisation(&v.state, &actor, id, input).await?;
            Ok("hour_books.authorised")
        }
        _ => Err(Problem::not_found()),
    }
}

/// Staff record an intervention or an authorisation from the book's page.
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
    match record(&v, &p, &id, &form, &what).await {
        Ok(flash) => done(&format!("/back-office/hour-books/{id}"), flash),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(&v, &p, &id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}
