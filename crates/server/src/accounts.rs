//! Account workflows shared by the API and the portal: onboarding a client
//! with its Administrator (R1.8), inviting users and giving them profiles,
//! staff accounts, login with throttling, password reset, API tokens.
//!
//! Each workflow is one transaction: the change, its audit record, and the
//! e-mail in the outbox with the job that delivers it.

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_domain::{
    Email, Id, Lang, Permission, Permissions, StaffRole, company, password as policy,
};
use ciel_mail::{Mail, render};
use ciel_store::orgs::{NewOrg, Org};
use ciel_store::tokens::{ApiToken, OneTimePurpose};
use ciel_store::users::{NewUser, ProfileChange, User, UserStatus};
use ciel_store::{Actor, Scope, StoreError, Tx, orgs, outbox, sessions, throttle, tokens, users};
use jiff::SignedDuration;
use serde::Serialize;
use std::net::IpAddr;

/// A warning that does not stop the change but must be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// R1.8: the address looks like a shared account (`admin@`, `contact@`).
    GenericSharedAccount,
}

/// A member to invite.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub email: String,
    pub lang: Lang,
    pub is_admin: bool,
    pub permissions: Permissions,
}

/// A client company to onboard, with its first Administrator.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address: String,
    pub administrator: NewMember,
}

async fn commit(tx: Tx) -> ApiResult<()> {
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

fn clean_name(field: &str, s: &str) -> ApiResult<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Problem::invalid(field, "required"));
    }
    if s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(Problem::invalid(field, "at most 200 printable characters"));
    }
    Ok(s.to_owned())
}

fn parse_email(field: &str, s: &str) -> ApiResult<Email> {
    Email::parse(s).map_err(|e| Problem::invalid(field, e.to_string()))
}

fn warnings_for(email: &Email) -> Vec<Warning> {
    if email.is_generic_shared() {
        vec![Warning::GenericSharedAccount]
    } else {
        Vec::new()
    }
}

/// Renders a notice in the recipient's language and puts it in the outbox,
/// inside the caller's transaction.
pub async fn send_mail(state: &AppState, tx: &mut Tx, to: &User, mail: Mail) -> ApiResult<Id> {
    let rendered = render(&mail, to.lang);
    let id = outbox::enqueue(
        tx,
        outbox::NewMessage {
            org_id: Some(to.org_id.clone()),
            template: mail.template(),
            lang: to.lang,
            to_addr: to.email.clone(),
            subject: rendered.subject,
            body_text: rendered.text,
        },
        state.now(),
        state.mail_domain(),
    )
    .await?;
    Ok(id)
}

/// Issues an invitation link and e-mails it (R1.8).
async fn invite(state: &AppState, tx: &mut Tx, user: &User, org: &Org, by: &str) -> ApiResult<()> {
    let now = state.now();
    let ttl = SignedDuration::from_hours(state.config().security.invitation_ttl_hours);
    let expires_at = now.saturating_add(ttl).unwrap_or(now);
    let secret =
        tokens::issue_one_time(tx, &user.id, OneTimePurpose::Invite, now, expires_at).await?;
    let mail = Mail::Invitation {
        name: user.name.clone(),
        org_name: org.name.clone(),
        invited_by: by.to_owned(),
        is_admin: user.is_org_admin,
        link: state.link(&format!("/invitation/{secret}")),
        expires_at,
    };
    send_mail(state, tx, user, mail).await?;
    Ok(())
}

fn inviter_label(p: &Principal) -> String {
    if p.is_staff() {
        "Le support / Support".to_owned()
    } else {
        p.user.name.clone()
    }
}

/// Staff onboard a client company and invite its Administrator.
pub async fn create_client(
    state: &AppState,
    p: &Principal,
    new: NewClient,
) -> ApiResult<(Org, User, Vec<Warning>)> {
    require_staff(p, StaffRole::manages_clients)?;
    let name = clean_name("name", &new.name)?;
    let siren = new
        .siren
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| company::parse_siren(s).map_err(|e| Problem::invalid("siren", e)))
        .transpose()?;
    let vat_number = new
        .vat_number
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            company::parse_vat_number(s, siren.as_deref())
                .map_err(|e| Problem::invalid("vat_number", e))
        })
        .transpose()?;
    let address = new.address.trim().to_owned();
    if address.chars().count() > 500 {
        return Err(Problem::invalid("address", "at most 500 characters"));
    }
    let admin_name = clean_name("administrator.name", &new.administrator.name)?;
    let admin_email = parse_email("administrator.email", &new.administrator.email)?;
    let actor = p.actor(state.now());
    let mut tx = state.store().begin().await?;
    let org = orgs::create(
        &mut tx,
        &actor,
        NewOrg {
            kind: "client",
            name,
            siren,
            vat_number,
            address,
        },
    )
    .await?;
    let warnings = warnings_for(&admin_email);
    let admin = users::create(
        &mut tx,
        &actor,
        "user.invite",
        NewUser {
            org_id: org.id.clone(),
            email: admin_email,
            name: admin_name,
            staff_role: None,
            is_org_admin: true,
            permissions: Permissions::all(),
            lang: new.administrator.lang,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| field_conflict(e, "administrator.email"))?;
    invite(state, &mut tx, &admin, &org, &inviter_label(p)).await?;
    commit(tx).await?;
    Ok((org, admin, warnings))
}

fn field_conflict(e: StoreError, field: &str) -> Problem {
    match e {
        StoreError::Conflict(_) => {
            Problem::conflict(field, "a user with this e-mail address already exists")
        }
        other => other.into(),
    }
}

/// Who may manage the users of `org`: staff who manage clients, or a client
/// user of that organisation holding `manage_users`. Others get 404 for an
/// organisation they cannot see, 403 for their own.
async fn check_manage_users(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Org> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    if org.kind != "client" {
        return Err(Problem::not_found());
    }
    let allowed = match p.staff_role() {
        Some(role) => role.manages_clients(),
        None => p.can(Permission::ManageUsers),
    };
    if !allowed {
        return Err(Problem::forbidden(
            "managing users needs the manage_users permission",
        ));
    }
    Ok(org)
}

/// Only an Administrator (or staff) makes or unmakes Administrators (R1.8).
fn check_admin_grant(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.user.is_org_admin {
        Ok(())
    } else {
        Err(
            Problem::forbidden("only an Administrator can make another Administrator")
                .field("is_admin"),
        )
    }
}

/// Invites a user into a client organisation.
pub async fn invite_member(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    new: NewMember,
) -> ApiResult<(User, Vec<Warning>)> {
    let org = check_manage_users(state, p, org_id).await?;
    if new.is_admin {
        check_admin_grant(p)?;
    }
    let name = clean_name("name", &new.name)?;
    let email = parse_email("email", &new.email)?;
    let warnings = warnings_for(&email);
    let actor = p.actor(state.now());
    let mut tx = state.store().begin().await?;
    let user = users::create(
        &mut tx,
        &actor,
        "user.invite",
        NewUser {
            org_id: org.id.clone(),
            email,
            name,
            staff_role: None,
            is_org_admin: new.is_admin,
            permissions: if new.is_admin {
                Permissions::all()
            } else {
                new.permissions
            },
            lang: new.lang,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| field_conflict(e, "email"))?;
    invite(state, &mut tx, &user, &org, &inviter_label(p)).await?;
    commit(tx).await?;
    Ok((user, warnings))
}

/// Sends a new invitation link to a user who has not set a password yet.
pub async fn resend_invitation(state: &AppState, p: &Principal, user_id: &str) -> ApiResult<User> {
    let user = users::get(state.store().db(), &p.scope, user_id).await?;
    let org = if user.staff_role.is_some() {
        require_staff(p, StaffRole::manages_staff)?;
        orgs::get(state.store().db(), &p.scope, user.org_id.as_str()).await?
    } else {
        check_manage_users(state, p, user.org_id.as_str()).await?
    };
    if user.status != UserStatus::Invited {
        return Err(Problem::conflict(
            "status",
            "this user has already set a password",
        ));
    }
    let mut tx = state.store().begin().await?;
    invite(state, &mut tx, &user, &org, &inviter_label(p)).await?;
    ciel_store::audit::record(
        &mut *tx,
        &p.actor(state.now()),
        ciel_store::audit::Change::<(), ()> {
            org_id: Some(&user.org_id),
            action: "user.invitation_resent",
            entity_kind: "user",
            entity_id: user.id.as_str(),
            before: None,
            after: None,
        },
    )
    .await?;
    commit(tx).await?;
    Ok(user)
}

/// Staff admins create staff accounts (invited by e-mail).
pub async fn create_staff(
    state: &AppState,
    p: &Principal,
    name: &str,
    email: &str,
    role: StaffRole,
    lang: Lang,
) -> ApiResult<(User, Vec<Warning>)> {
    require_staff(p, StaffRole::manages_staff)?;
    let name = clean_name("name", name)?;
    let email = parse_email("email", email)?;
    let provider = orgs::provider(state.store().db())
        .await?
        .ok_or_else(Problem::internal)?;
    let warnings = warnings_for(&email);
    let actor = p.actor(state.now());
    let mut tx = state.store().begin().await?;
    let user = users::create(
        &mut tx,
        &actor,
        "staff.create",
        NewUser {
            org_id: provider.id.clone(),
            email,
            name,
            staff_role: Some(role),
            is_org_admin: false,
            permissions: Permissions::NONE,
            lang,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| field_conflict(e, "email"))?;
    invite(state, &mut tx, &user, &provider, &inviter_label(p)).await?;
    commit(tx).await?;
    Ok((user, warnings))
}

/// Changes a user's profile, with the rules of who may change what.
pub async fn update_member(
    state: &AppState,
    p: &Principal,
    user_id: &str,
    change: ProfileChange,
) -> ApiResult<User> {
    let target = users::get(state.store().db(), &p.scope, user_id).await?;
    let is_self = target.id == p.user.id;
    let self_service = is_self
        && change.is_org_admin.is_none()
        && change.permissions.is_none()
        && change.status.is_none()
        && change.staff_role.is_none();
    if !self_service {
        if target.staff_role.is_some() {
            require_staff(p, StaffRole::manages_staff)?;
            if change.is_org_admin.is_some() || change.permissions.is_some() {
                return Err(Problem::invalid(
                    "permissions",
                    "staff have roles, not client permissions",
                ));
            }
        } else {
            check_manage_users(state, p, target.org_id.as_str()).await?;
            if change.staff_role.is_some() {
                return Err(Problem::invalid(
                    "staff_role",
                    "client users have no staff role",
                ));
            }
            if change
                .is_org_admin
                .is_some_and(|a| a != target.is_org_admin)
                || (target.is_org_admin && !p.is_staff())
            {
                check_admin_grant(p)?;
            }
        }
        if is_self && change.status == Some(UserStatus::Disabled) {
            return Err(Problem::invalid(
                "status",
                "you cannot disable your own account",
            ));
        }
    }
    if change.status == Some(UserStatus::Invited) {
        return Err(Problem::invalid(
            "status",
            "a user can only be made active or disabled",
        ));
    }
    let name = change
        .name
        .as_deref()
        .map(|n| clean_name("name", n))
        .transpose()?;
    let loses_admin = target.is_org_admin
        && (change.is_org_admin == Some(false) || change.status == Some(UserStatus::Disabled));
    let actor = p.actor(state.now());
    let mut tx = state.store().begin().await?;
    if loses_admin && users::count_admins(&mut *tx, &target.org_id).await? <= 1 {
        return Err(Problem::conflict(
            "is_admin",
            "an organisation keeps at least one Administrator (R1.8): name another one first",
        ));
    }
    let updated = users::update_profile(
        &mut tx,
        &actor,
        &p.scope,
        user_id,
        ProfileChange { name, ..change },
    )
    .await?;
    commit(tx).await?;
    Ok(updated)
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown address, wrong password or inactive account (never said which).
    Invalid,
    /// Too many failures for this account or address: wait.
    Throttled,
}

fn window(state: &AppState) -> jiff::Timestamp {
    let now = state.now();
    now.saturating_sub(SignedDuration::from_mins(
        state.config().security.throttle_window_minutes,
    ))
    .unwrap_or(now)
}

/// Checks a login and opens a new session (a fresh secret: sessions rotate at
/// login). Failures are counted per account and per client address.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    addr: IpAddr,
) -> Result<(User, String), LoginError> {
    let sec = &state.config().security;
    let email = email.trim().to_ascii_lowercase();
    let acct_key = format!("login:acct:{email}");
    let addr_key = format!("login:addr:{addr}");
    let db = state.store().db();
    let since = window(state);
    let internal = |_| LoginError::Invalid;
    let acct_failures = throttle::count_since(db, &acct_key, since)
        .await
        .map_err(internal)?;
    let addr_failures = throttle::count_since(db, &addr_key, since)
        .await
        .map_err(internal)?;
    if acct_failures >= sec.max_failures_per_account
        || addr_failures >= sec.max_failures_per_address
    {
        return Err(LoginError::Throttled);
    }
    let user = users::find_by_email(db, &email).await.map_err(internal)?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = crate::password::verify(password.to_owned(), hash).await;
    let now = state.now();
    match user {
        Some(user) if ok && user.status == UserStatus::Active => {
            let ttl = SignedDuration::from_mins(sec.session_ttl_minutes);
            let mut tx = state.store().begin().await.map_err(internal)?;
            throttle::clear(&mut *tx, &acct_key)
                .await
                .map_err(internal)?;
            let secret = sessions::create(
                &mut *tx,
                &user.id,
                now,
                now.saturating_add(ttl).unwrap_or(now),
            )
            .await
            .map_err(internal)?;
            audit_session(&mut tx, &user, "session.login", now, addr)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(|_| LoginError::Invalid)?;
            Ok((user, secret))
        }
        _ => {
            let mut tx = state.store().begin().await.map_err(internal)?;
            throttle::record(&mut *tx, &acct_key, now)
                .await
                .map_err(internal)?;
            throttle::record(&mut *tx, &addr_key, now)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(|_| LoginError::Invalid)?;
            Err(LoginError::Invalid)
        }
    }
}

/// Ends a session.
pub async fn logout(state: &AppState, p: &Principal, secret: &str) -> ApiResult<()> {
    let mut tx = state.store().begin().await?;
    sessions::delete(&mut *tx, secret).await?;
    let actor = p.actor(state.now());
    ciel_store::audit::record(
        &mut *tx,
        &actor,
        ciel_store::audit::Change::<(), ()> {
            org_id: Some(&p.user.org_id),
            action: "session.logout",
            entity_kind: "user",
            entity_id: p.user.id.as_str(),
            before: None,
            after: None,
        },
    )
    .await?;
    commit(tx).await
}

/// Records a login in the audit log, with the client address: who entered
/// an organisation's space, and from where, is evidence too.
async fn audit_session(
    tx: &mut Tx,
    user: &User,
    action: &str,
    now: jiff::Timestamp,
    addr: IpAddr,
) -> Result<(), StoreError> {
    let actor = Actor {
        kind: if user.staff_role.is_some() {
            "staff"
        } else {
            "client"
        },
        id: Some(user.id.clone()),
        label: user.email.clone(),
        ..Actor::system("", now)
    };
    ciel_store::audit::record(
        &mut **tx,
        &actor,
        ciel_store::audit::Change::<(), _> {
            org_id: Some(&user.org_id),
            action,
            entity_kind: "user",
            entity_id: user.id.as_str(),
            before: None,
            after: Some(&serde_json::json!({ "address": addr.to_string() })),
        },
    )
    .await?;
    Ok(())
}

/// Sends a reset link if the address belongs to an active account. The
/// answer never tells whether it does; requests are throttled per address.
pub async fn request_reset(state: &AppState, email: &str, addr: IpAddr) -> ApiResult<()> {
    let sec = &state.config().security;
    let email = parse_email("email", email)?;
    let since = window(state);
    let addr_key = format!("reset:addr:{addr}");
    let acct_key = format!("reset:acct:{email}");
    let db = state.store().db();
    if throttle::count_since(db, &addr_key, since).await? >= sec.max_failures_per_address
        || throttle::count_since(db, &acct_key, since).await? >= sec.max_failures_per_account
    {
        return Err(Problem::rate_limited());
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    throttle::record(&mut *tx, &addr_key, now).await?;
    throttle::record(&mut *tx, &acct_key, now).await?;
    if let Some(user) = users::find_by_email(&mut *tx, email.as_str()).await?
        && user.status == UserStatus::Active
    {
        let ttl = SignedDuration::from_mins(sec.reset_ttl_minutes);
        let expires_at = now.saturating_add(ttl).unwrap_or(now);
        let secret =
            tokens::issue_one_time(&mut tx, &user.id, OneTimePurpose::Reset, now, expires_at)
                .await?;
        let link = state.link(&format!("/password/reset/{secret}"));
        send_mail(
            state,
            &mut tx,
            &user,
            Mail::PasswordReset {
                name: user.name.clone(),
                link,
                expires_at,
            },
        )
        .await?;
    }
    commit(tx).await
}

/// Why a one-time link cannot be used, for the page that shows it.
pub fn link_problem(p: tokens::OneTimeProblem) -> Problem {
    let (code, detail) = match p {
        tokens::OneTimeProblem::Unknown => ("link_invalid", "this link is not valid"),
        tokens::OneTimeProblem::Expired => {
            ("link_expired", "this link has expired: ask for a new one")
        }
        tokens::OneTimeProblem::Used => ("link_used", "this link was already used"),
    };
    Problem::new(StatusCode::GONE, code, "Link unusable").detail(detail)
}

/// Sets a password from an invitation or reset link (used once).
pub async fn redeem(
    state: &AppState,
    secret: &str,
    purpose: OneTimePurpose,
    password: &str,
) -> ApiResult<User> {
    let now = state.now();
    let user_id = match tokens::check_one_time(state.store().db(), secret, purpose, now).await? {
        Ok(id) => id,
        Err(p) => return Err(link_problem(p)),
    };
    let user = users::get(state.store().db(), &Scope::Staff, user_id.as_str()).await?;
    policy::check(password, &user.email)
        .map_err(|e| Problem::invalid("password", e.to_string()))?;
    let hash = crate::password::hash(password.to_owned())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            Problem::internal()
        })?;
    let mut tx = state.store().begin().await?;
    if let Err(p) = tokens::consume_one_time(&mut tx, secret, purpose, now).await? {
        return Err(link_problem(p));
    }
    let actor = Actor {
        kind: "client",
        id: Some(user.id.clone()),
        label: user.email.clone(),
        ..Actor::system("", now)
    };
    users::set_password(&mut tx, &actor, &user.id, &hash).await?;
    if purpose == OneTimePurpose::Reset {
        send_mail(
            state,
            &mut tx,
            &user,
            Mail::PasswordChanged {
                name: user.name.clone(),
                at: now,
            },
        )
        .await?;
    }
    commit(tx).await?;
    Ok(users::get(state.store().db(), &Scope::Staff, user.id.as_str()).await?)
}

/// Creates an API token acting as the caller, within the caller's scope.
pub async fn create_token(
    state: &AppState,
    p: &Principal,
    name: &str,
) -> ApiResult<(ApiToken, String)> {
    if !matches!(p.via, crate::auth::Via::Session { .. }) {
        return Err(Problem::forbidden(
            "API tokens are created from a logged-in session, not with another token",
        ));
    }
    let name = clean_name("name", name)?;
    let mut tx = state.store().begin().await?;
    let created = tokens::create(
        &mut tx,
        &p.actor(state.now()),
        &p.user.id,
        &p.user.org_id,
        &name,
    )
    .await?;
    commit(tx).await?;
    Ok(created)
}

/// Revokes a token: a user revokes their own; an Administrator (or
/// `manage_users`) any of the organisation's; staff admins any.
pub async fn revoke_token(state: &AppState, p: &Principal, token_id: &str) -> ApiResult<ApiToken> {
    let token = tokens::get(state.store().db(), &p.scope, token_id).await?;
    let allowed = token.user_id == p.user.id
        || p.staff_role() == Some(StaffRole::Admin)
        || (!p.is_staff() && p.can(Permission::ManageUsers));
    if !allowed {
        return Err(Problem::forbidden("you may revoke only your own tokens"));
    }
    let mut tx = state.store().begin().await?;
    let t = tokens::revoke(&mut tx, &p.actor(state.now()), &p.scope, token_id).await?;
    commit(tx).await?;
    Ok(t)
}
