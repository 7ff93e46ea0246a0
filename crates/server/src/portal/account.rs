//! "My account": profile and API tokens.

use super::{Ctx, Form, Viewer, done};
use crate::accounts;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_store::tokens;

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used: String,
    pub status: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    t: Tr,
    ctx: Ctx,
    me_name: String,
    me_email: String,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    error: Option<String>,
}

async fn render(
    v: &Viewer,
    new_secret: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = match v.require_login() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let list = match tokens::list(v.state.store().db(), &p.scope, Some(&p.user.id), None, 200).await
    {
        Ok(page) => page.items,
        Err(e) => {
            tracing::error!(error = %e, "token list failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let rows = list
        .iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            created_at: v.time(t.created_at),
            last_used: t
                .last_used_at
                .map(|x| v.time(x))
                .unwrap_or_else(|| "—".into()),
            status: v
                .tr
                .t(if t.revoked_at.is_some() {
                    "tokens.revoked_status"
                } else {
                    "tokens.active"
                })
                .to_owned(),
            active: t.revoked_at.is_none(),
        })
        .collect();
    v.render_status(
        status,
        AccountPage {
            t: v.tr,
            ctx: v.ctx(),
            me_name: p.user.name.clone(),
            me_email: p.user.email.clone(),
            tokens: rows,
            new_secret,
            error,
        },
    )
}

pub async fn page(v: Viewer) -> Response {
    render(&v, None, None, StatusCode::OK).await
}

/// Creates a token and shows its secret once, on this response only.
pub async fn create_token(v: Viewer, form: Form) -> Response {
    let p = match v.require_login() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match accounts::create_token(&v.state, p, form.get("name")).await {
        Ok((_, secret)) => render(&v, Some(secret), None, StatusCode::CREATED).await,
        Err(problem) => {
            render(
                &v,
                None,
                Some(v.problem_text(&problem)),
                problem.status_code(),
            )
            .await
        }
    }
}

pub async fn revoke_token(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_login() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    match accounts::revoke_token(&v.state, p, &id).await {
        Ok(_) => done("/account", "tokens.revoked"),
        Err(problem) if problem.status == 404 => v.not_found(),
        Err(problem) => {
            render(
                &v,
                None,
                Some(v.problem_text(&problem)),
                problem.status_code(),
            )
            .await
        }
    }
}
