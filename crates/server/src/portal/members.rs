//! Users of a client organisation: the list, the invitation form and the
//! profile page, shared by the client space (an Administrator's own
//! organisation) and the back office (staff, any organisation).

use super::{Ctx, Form, UserRow, Viewer, done, perm_key, status_key};
use crate::accounts::{self, NewMember, Warning};
use crate::auth::Principal;
use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_domain::{Lang, Permission, Permissions};
use ciel_store::orgs::{self, Org};
use ciel_store::users::{self, ProfileChange, UserStatus};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    t: Tr,
    ctx: Ctx,
    org: Org,
    show_org: bool,
    users: Vec<UserRow>,
    base: &'static str,
    can_invite: bool,
    can_grant_admin: bool,
    invite_action: String,
    permission_choices: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    warning: Option<String>,
    form_name: String,
    form_email: String,
}

/// Where the pages of one side live.
#[derive(Clone, Copy)]
pub struct Side {
    /// `/espace-client` or `/back-office`.
    pub base: &'static str,
    /// Whether the organisation's identity is shown above the list.
    pub show_org: bool,
}

impl Side {
    fn invite_action(&self, org: &Org) -> String {
        if self.base == "/back-office" {
            format!("/back-office/organizations/{}/users", org.id)
        } else {
            format!("{}/users", self.base)
        }
    }

    fn list_path(&self, org_id: &str) -> String {
        if self.base == "/back-office" {
            format!("/back-office/organizations/{org_id}")
        } else {
            format!("{}/users", self.base)
        }
    }
}

fn may_manage(p: &Principal) -> bool {
    p.staff_role().is_some_and(|r| r.manages_clients()) || p.can(Permission::ManageUsers)
}

/// The list of an organisation's users with the invitation form.
pub async fn list(
    v: &Viewer,
    p: &Principal,
    org_id: &str,
    side: Side,
    error: Option<String>,
    form: Option<&Form>,
    status: StatusCode,
) -> Response {
    let db = v.state.store().db();
    let org = match orgs::get(db, &p.scope, org_id).await {
        Ok(o) if o.kind == "client" => o,
        _ => return v.not_found(),
    };
    let page = match users::list(db, &p.scope, org.id.as_str(), None, 200).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "listing users failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let warning = v
        .path_query_has("warn=generic")
        .then(|| v.tr.t("warning.generic").to_owned());
    v.render_status(
        status,
        UsersPage {
            t: v.tr,
            ctx: v.ctx(),
            show_org: side.show_org,
            users: page.items.iter().map(|u| UserRow::new(u, v.tr)).collect(),
            base: side.base,
            can_invite: may_manage(p),
            can_grant_admin: p.is_staff() || p.user.is_org_admin,
            invite_action: side.invite_action(&org),
            permission_choices: Permission::ALL
                .iter()
                .map(|&pm| (pm.code(), v.tr.t(perm_key(pm))))
                .collect(),
            error,
            warning,
            form_name: form.map(|f| f.get("name").to_owned()).unwrap_or_default(),
            form_email: form.map(|f| f.get("email").to_owned()).unwrap_or_default(),
            org,
        },
    )
}

/// Handles the invitation form.
pub async fn invite(v: &Viewer, p: &Principal, org_id: &str, side: Side, form: Form) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let member = NewMember {
        name: form.get("name").to_owned(),
        email: form.get("email").to_owned(),
        lang: Lang::parse(form.get("lang")).unwrap_or_default(),
        is_admin: form.checked("is_admin"),
        permissions: form.permissions(),
    };
    match accounts::invite_member(&v.state, p, org_id, member).await {
        Ok((_, warnings)) => {
            let mut to = side.list_path(org_id);
            if warnings.contains(&Warning::GenericSharedAccount) {
                to.push_str("?warn=generic");
            }
            done(&to, "users.invited")
        }
        Err(problem) if problem.status == 404 => v.not_found(),
        Err(problem) => {
            list(
                v,
                p,
                org_id,
                side,
                Some(v.problem_text(&problem)),
                Some(&form),
                problem.status_code(),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct UserPage {
    t: Tr,
    ctx: Ctx,
    user_name: String,
    user_email: String,
    status: String,
    generic: bool,
    is_client: bool,
    is_admin: bool,
    invited: bool,
    can_grant_admin: bool,
    permission_choices: Vec<(&'static str, &'static str, bool)>,
    action: String,
    error: Option<String>,
}

/// A user's profile page.
pub async fn page(
    v: &Viewer,
    p: &Principal,
    user_id: &str,
    side: Side,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(u) = users::get(v.state.store().db(), &p.scope, user_id).await else {
        return v.not_found();
    };
    let perms = u.effective_permissions();
    v.render_status(
        status,
        UserPage {
            t: v.tr,
            ctx: v.ctx(),
            user_name: u.name.clone(),
            user_email: u.email.clone(),
            status: v.tr.t(status_key(u.status)).to_owned(),
            generic: u.generic_warning,
            is_client: u.staff_role.is_none(),
            is_admin: u.is_org_admin,
            invited: u.status == UserStatus::Invited,
            can_grant_admin: p.is_staff() || p.user.is_org_admin,
            permission_choices: Permission::ALL
                .iter()
                .map(|&pm| (pm.code(), v.tr.t(perm_key(pm)), perms.contains(pm)))
                .collect(),
            action: format!("{}/users/{}", side.base, u.id),
            error,
        },
    )
}

/// Saves a profile.
pub async fn save(v: &Viewer, p: &Principal, user_id: &str, side: Side, form: Form) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let Ok(target) = users::get(v.state.store().db(), &p.scope, user_id).await else {
        return v.not_found();
    };
    let client = target.staff_role.is_none();
    let can_grant_admin = p.is_staff() || p.user.is_org_admin;
    let status = match form.get("status") {
        "active" => Some(UserStatus::Active),
        "disabled" => Some(UserStatus::Disabled),
        _ => None,
    };
    let is_admin = (client && can_grant_admin).then(|| form.checked("is_admin"));
    let permissions: Option<Permissions> = client.then(|| form.permissions());
    let change = ProfileChange {
        name: Some(form.get("name").to_owned()),
        is_org_admin: is_admin.filter(|a| *a != target.is_org_admin),
        permissions: permissions.filter(|pm| *pm != target.permissions),
        lang: None,
        status: status.filter(|s| *s != target.status),
        staff_role: None,
    };
    match accounts::update_member(&v.state, p, user_id, change).await {
        Ok(_) => done(&format!("{}/users/{}", side.base, user_id), "users.updated"),
        Err(problem) if problem.status == 404 => v.not_found(),
        Err(problem) => {
            page(
                v,
                p,
                user_id,
                side,
                Some(v.problem_text(&problem)),
                problem.status_code(),
            )
            .await
        }
    }
}

/// Sends the invitation again.
pub async fn resend(v: &Viewer, p: &Principal, user_id: &str, side: Side, form: Form) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match accounts::resend_invitation(&v.state, p, user_id).await {
        Ok(_) => done(&format!("{}/users/{}", side.base, user_id), "users.resent"),
        Err(problem) if problem.status == 404 => v.not_found(),
        Err(problem) => {
            page(
                v,
                p,
                user_id,
                side,
                Some(v.problem_text(&problem)),
                problem.status_code(),
            )
            .await
        }
    }
}
