//! The client space ("Espace Client").

use super::members::{self, Side};
use super::{Ctx, Form, Viewer, perm_key};
use crate::i18n::Tr;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::Permission;
use ciel_store::orgs::{self, Org};

const SIDE: Side = Side {
    base: "/espace-client",
    show_org: false,
};

#[derive(Template)]
#[template(path = "client_home.html")]
struct HomePage {
    t: Tr,
    ctx: Ctx,
    org: Org,
    me_name: String,
    me_email: String,
    is_admin: bool,
    permissions: Vec<&'static str>,
}

pub async fn home(v: Viewer) -> Response {
    let p = match v.require_client() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(org) = orgs::get(v.state.store().db(), &p.scope, p.user.org_id.as_str()).await else {
        return v.not_found();
    };
    v.render(HomePage {
        t: v.tr,
        ctx: v.ctx(),
        org,
        me_name: p.user.name.clone(),
        me_email: p.user.email.clone(),
        is_admin: p.user.is_org_admin,
        permissions: p
            .user
            .effective_permissions()
            .iter()
            .map(|pm| v.tr.t(perm_key(pm)))
            .collect(),
    })
}

/// Pages reserved to users who manage users (Administrators by default).
fn manager(v: &Viewer) -> Result<&crate::auth::Principal, Response> {
    let p = v.require_client()?;
    if p.can(Permission::ManageUsers) {
        Ok(p)
    } else {
        Err(v.not_found())
    }
}

pub async fn users(v: Viewer) -> Response {
    match manager(&v) {
        Ok(p) => {
            members::list(
                &v,
                p,
                p.user.org_id.as_str(),
                SIDE,
                None,
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(r) => r,
    }
}

pub async fn invite(v: Viewer, form: Form) -> Response {
    match manager(&v) {
        Ok(p) => members::invite(&v, p, p.user.org_id.as_str(), SIDE, form).await,
        Err(r) => r,
    }
}

pub async fn user_page(v: Viewer, Path(id): Path<String>) -> Response {
    match manager(&v) {
        Ok(p) => members::page(&v, p, &id, SIDE, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn user_save(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    match manager(&v) {
        Ok(p) => members::save(&v, p, &id, SIDE, form).await,
        Err(r) => r,
    }
}

pub async fn user_resend(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    match manager(&v) {
        Ok(p) => members::resend(&v, p, &id, SIDE, form).await,
        Err(r) => r,
    }
}

pub async fn audit(v: Viewer) -> Response {
    match manager(&v) {
        Ok(p) => super::records::audit_page(&v, p).await,
        Err(r) => r,
    }
}

/// The notices the organisation received (R13), with their send times:
/// the same evidence the back office sees, restricted to this organisation.
pub async fn messages(v: Viewer) -> Response {
    match manager(&v) {
        Ok(p) => super::records::messages_page(&v, p).await,
        Err(r) => r,
    }
}
