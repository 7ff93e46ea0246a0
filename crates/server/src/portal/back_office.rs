//! The staff back office: client organisations, staff, audit log, notices.

use super::members::{self, Side};
use super::{Ctx, Form, UserRow, Viewer, done};
use crate::accounts::{self, NewClient, NewMember, Warning};
use crate::auth::parse_occurred_at;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::{Lang, Permissions, StaffRole};
use ciel_store::{Scope, orgs, users};

const SIDE: Side = Side {
    base: "/back-office",
    show_org: true,
};

pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub siren: String,
    pub created_at: String,
}

/// The values typed into the organisation form, kept on error.
#[derive(Default)]
pub struct OrgForm {
    pub name: String,
    pub siren: String,
    pub vat_number: String,
    pub address: String,
    pub admin_name: String,
    pub admin_email: String,
    pub occurred_at: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    t: Tr,
    ctx: Ctx,
    orgs: Vec<OrgRow>,
    next_cursor: Option<String>,
    can_create: bool,
    error: Option<String>,
    warning: Option<String>,
    form: OrgForm,
}

async fn orgs_page(
    v: &Viewer,
    error: Option<String>,
    form: OrgForm,
    status: StatusCode,
) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let page = match orgs::list(v.state.store().db(), &p.scope, v.cursor().as_deref(), 100).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "organisation list failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let rows = page
        .items
        .iter()
        .map(|o| OrgRow {
            id: o.id.to_string(),
            name: o.name.clone(),
            siren: o.siren.clone().unwrap_or_default(),
            created_at: v.time(o.created_at),
        })
        .collect();
    v.render_status(
        status,
        OrgsPage {
            t: v.tr,
            ctx: v.ctx(),
            orgs: rows,
            next_cursor: page.next_cursor,
            can_create: p.staff_role().is_some_and(StaffRole::manages_clients),
            error,
            warning: v
                .path_query_has("warn=generic")
                .then(|| v.tr.t("warning.generic").to_owned()),
            form,
        },
    )
}

pub async fn orgs(v: Viewer) -> Response {
    orgs_page(&v, None, OrgForm::default(), StatusCode::OK).await
}

pub async fn create_org(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let kept = OrgForm {
        name: form.get("name").into(),
        siren: form.get("siren").into(),
        vat_number: form.get("vat_number").into(),
        address: form.get("address").into(),
        admin_name: form.get("admin_name").into(),
        admin_email: form.get("admin_email").into(),
        occurred_at: form.get("occurred_at").into(),
    };
    let mut p = p;
    if !kept.occurred_at.trim().is_empty() {
        match parse_occurred_at(&kept.occurred_at, v.state.now()) {
            Ok(t) => p.occurred_at = Some(t),
            Err(e) => {
                let problem = crate::problem::Problem::invalid("occurred_at", e);
                return orgs_page(
                    &v,
                    Some(v.problem_text(&problem)),
                    kept,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    }
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let new = NewClient {
        name: kept.name.clone(),
        siren: opt(&kept.siren),
        vat_number: opt(&kept.vat_number),
        address: kept.address.clone(),
        administrator: NewMember {
            name: kept.admin_name.clone(),
            email: kept.admin_email.clone(),
            lang: Lang::parse(form.get("admin_lang")).unwrap_or_default(),
            is_admin: true,
            permissions: Permissions::all(),
        },
    };
    match accounts::create_client(&v.state, &p, new).await {
        Ok((org, _, warnings)) => {
            let mut to = format!("/back-office/organizations/{}", org.id);
            if warnings.contains(&Warning::GenericSharedAccount) {
                to.push_str("?warn=generic");
            }
            done(&to, "orgs.created")
        }
        Err(problem) => {
            orgs_page(
                &v,
                Some(v.problem_text(&problem)),
                kept,
                problem.status_code(),
            )
            .await
        }
    }
}

pub async fn org(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => members::list(&v, p, &id, SIDE, None, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn invite(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    match v.require_staff() {
        Ok(p) => members::invite(&v, p, &id, SIDE, form).await,
        Err(r) => r,
    }
}

pub async fn user_page(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => members::page(&v, p, &id, SIDE, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn user_save(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    match v.require_staff() {
        Ok(p) => members::save(&v, p, &id, SIDE, form).await,
        Err(r) => r,
    }
}

pub async fn user_resend(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    match v.require_staff() {
        Ok(p) => members::resend(&v, p, &id, SIDE, form).await,
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    t: Tr,
    ctx: Ctx,
    users: Vec<UserRow>,
    can_create: bool,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn staff_page(v: &Viewer, error: Option<String>, status: StatusCode) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let db = v.state.store().db();
    let provider = match orgs::provider(db).await {
        Ok(Some(o)) => o,
        _ => return v.not_found(),
    };
    let users = match users::list(db, &Scope::Staff, provider.id.as_str(), None, 200).await {
        Ok(page) => page.items,
        Err(e) => {
            tracing::error!(error = %e, "staff list failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let roles = StaffRole::ALL
        .iter()
        .map(|r| {
            let key = match r {
                StaffRole::Admin => "role.admin",
                StaffRole::Support => "role.support",
                StaffRole::Billing => "role.billing",
                StaffRole::Datacenter => "role.datacenter",
            };
            (r.code(), v.tr.t(key))
        })
        .collect();
    v.render_status(
        status,
        StaffPage {
            t: v.tr,
            ctx: v.ctx(),
            users: users.iter().map(|u| UserRow::new(u, v.tr)).collect(),
            can_create: p.staff_role() == Some(StaffRole::Admin),
            roles,
            error,
        },
    )
}

pub async fn staff(v: Viewer) -> Response {
    staff_page(&v, None, StatusCode::OK).await
}

pub async fn create_staff(v: Viewer, form: Form) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let Some(role) = StaffRole::parse(form.get("role")) else {
        let problem = crate::problem::Problem::invalid("role", "unknown role");
        return staff_page(
            &v,
            Some(v.problem_text(&problem)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let lang = Lang::parse(form.get("lang")).unwrap_or_default();
    match accounts::create_staff(&v.state, p, form.get("name"), form.get("email"), role, lang).await
    {
        Ok(_) => done("/back-office/staff", "staff.created"),
        Err(problem) => staff_page(&v, Some(v.problem_text(&problem)), problem.status_code()).await,
    }
}

pub async fn audit(v: Viewer) -> Response {
    match v.require_staff() {
        Ok(p) => super::records::audit_page(&v, p).await,
        Err(r) => r,
    }
}

pub async fn messages(v: Viewer) -> Response {
    match v.require_staff() {
        Ok(p) => super::records::messages_page(&v, p).await,
        Err(r) => r,
    }
}
