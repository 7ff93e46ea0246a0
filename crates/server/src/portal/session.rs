//! Logging in and out, password reset, invitation acceptance, language, and
//! the static assets.

use super::{Ctx, Form, Viewer};
use crate::accounts::{self, LoginError};
use crate::auth::{self, CSRF_COOKIE, SESSION_COOKIE, Via};
use crate::i18n::Tr;
use crate::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ciel_domain::Lang;
use ciel_store::tokens::{self, OneTimeProblem, OneTimePurpose};
use ciel_store::users::ProfileChange;
use ciel_store::{Scope, users};
use std::collections::HashMap;
use std::net::SocketAddr;

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

pub async fn htmx() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/htmx.min.js"),
    )
}

/// `/`: the visitor's home.
pub async fn home(v: Viewer) -> Response {
    match &v.principal {
        None => Redirect::to("/login").into_response(),
        Some(p) if p.is_staff() => Redirect::to("/back-office").into_response(),
        Some(_) => Redirect::to("/espace-client").into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    ctx: Ctx,
    next: String,
    email: String,
    error: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

pub async fn login_page(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    if v.principal.is_some() {
        return Redirect::to("/").into_response();
    }
    let next = safe_next(q.get("next").map(String::as_str).unwrap_or("/"));
    v.render(LoginPage {
        t: v.tr,
        ctx: v.ctx(),
        next,
        email: String::new(),
        error: None,
    })
}

pub async fn login(
    v: Viewer,
    State(s): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    form: Form,
) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let email = form.get("email").to_owned();
    match accounts::login(&s, &email, form.get("password"), addr.ip()).await {
        Ok((_, secret)) => {
            let mut res = Redirect::to(&safe_next(form.get("next"))).into_response();
            let cookies = [
                auth::set_cookie(&s, SESSION_COOKIE, &secret, None),
                // The anonymous CSRF token is retired: the session has its own.
                auth::set_cookie(&s, CSRF_COOKIE, "", Some(0)),
            ];
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => {
            let (status, key) = match e {
                LoginError::Invalid => (StatusCode::UNAUTHORIZED, "login.invalid"),
                LoginError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
            };
            let next = safe_next(form.get("next"));
            v.render_status(
                status,
                LoginPage {
                    t: v.tr,
                    ctx: v.ctx(),
                    next,
                    email,
                    error: Some(v.tr.t(key).to_owned()),
                },
            )
        }
    }
}

pub async fn logout(v: Viewer, State(s): State<AppState>, form: Form) -> Response {
    if let Some(p) = &v.principal {
        if let Err(r) = v.check_csrf(&form) {
            return r;
        }
        if let Via::Session { secret, .. } = &p.via
            && let Err(e) = accounts::logout(&s, p, secret).await
        {
            tracing::error!(error = ?e, "logout failed");
        }
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(c) = HeaderValue::from_str(&auth::set_cookie(&s, SESSION_COOKIE, "", Some(0))) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Changes the language: the visitor's cookie, and the profile of a
/// logged-in user (so e-mails follow).
pub async fn set_lang(v: Viewer, State(s): State<AppState>, form: Form) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let lang = Lang::parse(form.get("lang")).unwrap_or_default();
    if let Some(p) = &v.principal {
        let change = ProfileChange {
            lang: Some(lang),
            ..Default::default()
        };
        if let Err(e) = accounts::update_member(&s, p, p.user.id.as_str(), change).await {
            tracing::warn!(error = ?e, "language change failed");
        }
    }
    let mut res = Redirect::to(&safe_next(form.get("next"))).into_response();
    let cookie = format!(
        "{}; Max-Age=31536000",
        auth::set_cookie(&s, "ciel_lang", lang.code(), None)
    );
    if let Ok(c) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    t: Tr,
    ctx: Ctx,
    error: Option<String>,
}

pub async fn forgot_page(v: Viewer) -> Response {
    v.render(ForgotPage {
        t: v.tr,
        ctx: v.ctx(),
        error: None,
    })
}

pub async fn forgot(
    v: Viewer,
    State(s): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    form: Form,
) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match accounts::request_reset(&s, form.get("email"), addr.ip()).await {
        Ok(()) => v.message(
            StatusCode::OK,
            "forgot.sent_title",
            v.tr.t("forgot.sent"),
            None,
        ),
        Err(p) => v.render_status(
            p.status_code(),
            ForgotPage {
                t: v.tr,
                ctx: v.ctx(),
                error: Some(v.problem_text(&p)),
            },
        ),
    }
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    t: Tr,
    ctx: Ctx,
    title: String,
    action: String,
    email: String,
    error: Option<String>,
}

fn link_text(v: &Viewer, p: OneTimeProblem) -> &'static str {
    v.tr.t(match p {
        OneTimeProblem::Unknown => "set_password.link_invalid",
        OneTimeProblem::Expired => "set_password.link_expired",
        OneTimeProblem::Used => "set_password.link_used",
    })
}

fn token_ok(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn set_password_page(
    v: Viewer,
    s: AppState,
    token: String,
    purpose: OneTimePurpose,
) -> Response {
    let (title_key, base) = match purpose {
        OneTimePurpose::Invite => ("set_password.invitation_title", "/invitation/"),
        OneTimePurpose::Reset => ("set_password.reset_title", "/password/reset/"),
    };
    let checked = if token_ok(&token) {
        tokens::check_one_time(s.store().db(), &token, purpose, s.now()).await
    } else {
        Ok(Err(OneTimeProblem::Unknown))
    };
    match checked {
        Ok(Ok(user_id)) => {
            match users::get(s.store().db(), &Scope::Staff, user_id.as_str()).await {
                Ok(user) => {
                    // The invited user's own language, before any login.
                    let t = Tr::new(user.lang);
                    v.render(SetPasswordPage {
                        t,
                        ctx: v.ctx(),
                        title: t.t(title_key).to_owned(),
                        action: format!("{base}{token}"),
                        email: user.email,
                        error: None,
                    })
                }
                Err(_) => v.not_found(),
            }
        }
        Ok(Err(p)) => v.message(
            StatusCode::GONE,
            title_key,
            link_text(&v, p),
            Some(("/password/forgot".into(), v.tr.t("forgot.title").into())),
        ),
        Err(e) => {
            tracing::error!(error = %e, "one-time token lookup failed");
            v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            )
        }
    }
}

async fn set_password(
    v: Viewer,
    s: AppState,
    token: String,
    purpose: OneTimePurpose,
    form: Form,
) -> Response {
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    if !token_ok(&token) {
        return v.not_found();
    }
    let title_key = match purpose {
        OneTimePurpose::Invite => "set_password.invitation_title",
        OneTimePurpose::Reset => "set_password.reset_title",
    };
    // The whole exchange speaks the invitee's language, as the form did.
    let invitee = match tokens::check_one_time(s.store().db(), &token, purpose, s.now()).await {
        Ok(Ok(id)) => users::get(s.store().db(), &Scope::Staff, id.as_str())
            .await
            .ok(),
        _ => None,
    };
    let v = match &invitee {
        Some(u) => Viewer {
            tr: Tr::new(u.lang),
            ..v
        },
        None => v,
    };
    let email = invitee.map(|u| u.email).unwrap_or_default();
    let again = |error: String| async {
        let email = email.clone();
        v.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            SetPasswordPage {
                t: v.tr,
                ctx: v.ctx(),
                title: v.tr.t(title_key).to_owned(),
                action: v.path.clone(),
                email,
                error: Some(error),
            },
        )
    };
    if form.get("password") != form.get("confirm") {
        return again(v.tr.t("set_password.mismatch").to_owned()).await;
    }
    match accounts::redeem(&s, &token, purpose, form.get("password")).await {
        Ok(_) => v.message(
            StatusCode::OK,
            "set_password.done_title",
            v.tr.t("set_password.done"),
            Some(("/login".into(), v.tr.t("common.login").into())),
        ),
        Err(p) if p.status == 410 => {
            let problem = match p.code.as_str() {
                "link_expired" => OneTimeProblem::Expired,
                "link_used" => OneTimeProblem::Used,
                _ => OneTimeProblem::Unknown,
            };
            v.message(StatusCode::GONE, title_key, link_text(&v, problem), None)
        }
        Err(p) => again(v.problem_text(&p)).await,
    }
}

pub async fn reset_page(
    v: Viewer,
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    set_password_page(v, s, token, OneTimePurpose::Reset).await
}

pub async fn reset(
    v: Viewer,
    State(s): State<AppState>,
    Path(token): Path<String>,
    form: Form,
) -> Response {
    set_password(v, s, token, OneTimePurpose::Reset, form).await
}

pub async fn invitation_page(
    v: Viewer,
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    set_password_page(v, s, token, OneTimePurpose::Invite).await
}

pub async fn invitation(
    v: Viewer,
    State(s): State<AppState>,
    Path(token): Path<String>,
    form: Form,
) -> Response {
    set_password(v, s, token, OneTimePurpose::Invite, form).await
}
