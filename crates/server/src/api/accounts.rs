//! Accounts API: the caller, organisations, users and their profiles, staff,
//! API tokens and password reset.

use super::views::*;
use super::{ApiJson, ApiQuery, ListParams};
use crate::accounts::{self, NewClient, NewMember};
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use ciel_domain::{Lang, Permission, Permissions, StaffRole};
use ciel_store::users::{ProfileChange, UserStatus};
use ciel_store::{Scope, orgs, tokens, users};
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa::ToSchema;

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
pub async fn me(p: Principal) -> Json<UserView> {
    Json(p.user.into())
}

/// Lists client organisations (a client sees its own).
#[utoipa::path(get, path = "/api/v1/organizations", tag = "accounts", params(ListParams),
    responses((status = 200, body = OrgList), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list_orgs(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<OrgList>> {
    let page = orgs::list(s.store().db(), &p.scope, q.cursor()?, q.limit()?).await?;
    Ok(Json(page.into()))
}

/// A member to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    pub name: String,
    pub email: String,
    /// Language of the invitation and of the portal (default `fr`).
    pub lang: Option<Lang>,
}

/// A client company to onboard.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// Legal name.
    pub name: String,
    /// SIREN, 9 digits (Luhn-checked).
    pub siren: Option<String>,
    /// Intra-EU VAT number; a French one must match the SIREN.
    pub vat_number: Option<String>,
    pub address: Option<String>,
    /// Its first Administrator (R1.8), invited by e-mail.
    pub administrator: MemberRequest,
}

/// Onboards a client company and invites its Administrator (staff).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "accounts", request_body = CreateOrgRequest,
    params(("Ciel-Occurred-At" = Option<String>, Header, description = "Staff: actual time of the event (RFC 3339)")),
    responses((status = 201, body = CreatedOrg), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_org(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<CreatedOrg>)> {
    let (org, admin, warnings) = accounts::create_client(
        &s,
        &p,
        NewClient {
            name: r.name,
            siren: r.siren,
            vat_number: r.vat_number,
            address: r.address.unwrap_or_default(),
            administrator: NewMember {
                name: r.administrator.name,
                email: r.administrator.email,
                lang: r.administrator.lang.unwrap_or_default(),
                is_admin: true,
                permissions: Permissions::all(),
            },
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOrg {
            organization: org.into(),
            administrator: admin.into(),
            warnings,
        }),
    ))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}", tag = "accounts",
    params(("org_id" = String, Path)),
    responses((status = 200, body = OrgView), (status = 404, body = Problem)))]
pub async fn get_org(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(
        orgs::get(s.store().db(), &p.scope, &org_id).await?.into(),
    ))
}

/// Users of an organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/users", tag = "accounts",
    params(("org_id" = String, Path), ListParams),
    responses((status = 200, body = UserList), (status = 404, body = Problem)))]
pub async fn list_users(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<UserList>> {
    let org = orgs::get(s.store().db(), &p.scope, &org_id).await?;
    let page = users::list(
        s.store().db(),
        &p.scope,
        org.id.as_str(),
        q.cursor()?,
        q.limit()?,
    )
    .await?;
    Ok(Json(page.into()))
}

/// A user to invite into an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUserRequest {
    pub name: String,
    pub email: String,
    pub lang: Option<Lang>,
    /// Make an Administrator (only an Administrator or staff may).
    #[serde(default)]
    pub is_admin: bool,
    /// The profile's permissions (ignored for an Administrator, who has all).
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// Invites a user (Administrator or `manage_users`, or staff).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/users", tag = "accounts",
    params(("org_id" = String, Path)), request_body = InviteUserRequest,
    responses((status = 201, body = CreatedUser), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn invite_user(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<InviteUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let (user, warnings) = accounts::invite_member(
        &s,
        &p,
        &org_id,
        NewMember {
            name: r.name,
            email: r.email,
            lang: r.lang.unwrap_or_default(),
            is_admin: r.is_admin,
            permissions: r.permissions.into_iter().collect(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user.into(),
            warnings,
        }),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "accounts",
    params(("user_id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    p: Principal,
    Path(user_id): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        users::get(s.store().db(), &p.scope, &user_id).await?.into(),
    ))
}

/// A settable account state.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SettableStatus {
    Active,
    Disabled,
}

/// Changes to a user; absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub is_admin: Option<bool>,
    pub permissions: Option<Vec<Permission>>,
    pub lang: Option<Lang>,
    pub status: Option<SettableStatus>,
    /// Staff accounts only (staff admins).
    pub staff_role: Option<StaffRole>,
}

/// Changes a user's profile.
#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "accounts",
    params(("user_id" = String, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    State(s): State<AppState>,
    p: Principal,
    Path(user_id): Path<String>,
    ApiJson(r): ApiJson<UpdateUserRequest>,
) -> ApiResult<Json<UserView>> {
    let change = ProfileChange {
        name: r.name,
        is_org_admin: r.is_admin,
        permissions: r.permissions.map(|v| v.into_iter().collect()),
        lang: r.lang,
        status: r.status.map(|s| match s {
            SettableStatus::Active => UserStatus::Active,
            SettableStatus::Disabled => UserStatus::Disabled,
        }),
        staff_role: r.staff_role,
    };
    Ok(Json(
        accounts::update_member(&s, &p, &user_id, change)
            .await?
            .into(),
    ))
}

/// Sends a new invitation link to a user who has not set a password yet.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/invitation", tag = "accounts",
    params(("user_id" = String, Path)),
    responses((status = 202, body = UserView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn resend_invitation(
    State(s): State<AppState>,
    p: Principal,
    Path(user_id): Path<String>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let u = accounts::resend_invitation(&s, &p, &user_id).await?;
    Ok((StatusCode::ACCEPTED, Json(u.into())))
}

/// Provider staff (staff only).
#[utoipa::path(get, path = "/api/v1/staff", tag = "accounts", params(ListParams),
    responses((status = 200, body = UserList), (status = 403, body = Problem)))]
pub async fn list_staff(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<UserList>> {
    require_staff(&p, |_| true)?;
    let provider = orgs::provider(s.store().db())
        .await?
        .ok_or_else(Problem::internal)?;
    let page = users::list(
        s.store().db(),
        &Scope::Staff,
        provider.id.as_str(),
        q.cursor()?,
        q.limit()?,
    )
    .await?;
    Ok(Json(page.into()))
}

/// A staff account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffRequest {
    pub name: String,
    pub email: String,
    pub role: StaffRole,
    pub lang: Option<Lang>,
}

/// Creates a staff account, invited by e-mail (staff admins).
#[utoipa::path(post, path = "/api/v1/staff", tag = "accounts", request_body = CreateStaffRequest,
    responses((status = 201, body = CreatedUser), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_staff(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<CreateStaffRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let (user, warnings) = accounts::create_staff(
        &s,
        &p,
        &r.name,
        &r.email,
        r.role,
        r.lang.unwrap_or_default(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user.into(),
            warnings,
        }),
    ))
}

/// The API tokens the caller may see: its own; all of its organisation's
/// for an Administrator; all for staff admins.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", params(ListParams),
    responses((status = 200, body = TokenList)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<TokenList>> {
    let sees_all = p.staff_role() == Some(StaffRole::Admin) || p.can(Permission::ManageUsers);
    let only = (!sees_all).then_some(&p.user.id);
    let page = tokens::list(s.store().db(), &p.scope, only, q.cursor()?, q.limit()?).await?;
    Ok(Json(page.into()))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for (e.g. "monitoring").
    pub name: String,
}

/// Creates an API token acting as the caller (from a session).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, secret) = accounts::create_token(&s, &p, &r.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    ))
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "accounts",
    params(("token_id" = String, Path)),
    responses((status = 200, body = TokenView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    Path(token_id): Path<String>,
) -> ApiResult<Json<TokenView>> {
    Ok(Json(
        accounts::revoke_token(&s, &p, &token_id).await?.into(),
    ))
}

/// A password reset request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// Sends a reset link if the address has an account (the answer is the
/// same either way). Throttled per address.
#[utoipa::path(post, path = "/api/v1/password-reset", tag = "accounts", request_body = PasswordResetRequest,
    security(()),
    responses((status = 202), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn request_password_reset(
    State(s): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(r): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    accounts::request_reset(&s, &r.email, addr.ip()).await?;
    Ok(StatusCode::ACCEPTED)
}
