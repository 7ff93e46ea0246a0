//! Who is calling: a browser session (cookie) or an API token (bearer).
//! Authentication yields a [`Principal`], which carries the tenancy
//! [`Scope`] every store call receives.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use ciel_domain::{Permission, StaffRole};
use ciel_store::users::{User, UserStatus};
use ciel_store::{Actor, Scope, sessions, tokens, users};
use jiff::{SignedDuration, Timestamp};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ciel_session";
/// Name of the anonymous CSRF cookie (double-submit, forms before login).
pub const CSRF_COOKIE: &str = "ciel_csrf";
/// Header carrying the CSRF token for cookie-authenticated API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Header by which staff give the actual time of an event they record late.
pub const OCCURRED_AT_HEADER: &str = "ciel-occurred-at";

/// How the principal authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    Session { secret: String, csrf: String },
    Token { id: ciel_domain::Id, name: String },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The name of the user's organisation (shown in the portal's header).
    pub org_name: String,
    pub scope: Scope,
    pub via: Via,
    pub request_id: Option<String>,
    /// When staff back-date the event they record (`Ciel-Occurred-At`).
    pub occurred_at: Option<Timestamp>,
}

impl Principal {
    /// The staff role, if the caller is provider staff.
    pub fn staff_role(&self) -> Option<StaffRole> {
        match self.scope {
            Scope::Staff => self.user.staff_role,
            Scope::Org(_) => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        self.staff_role().is_some()
    }

    /// Whether a client user holds a permission (Administrators hold all).
    pub fn can(&self, p: Permission) -> bool {
        !self.is_staff() && self.user.effective_permissions().contains(p)
    }

    /// The audit actor for a change made now by this principal.
    pub fn actor(&self, now: Timestamp) -> Actor {
        let (kind, id, label) = match &self.via {
            Via::Token { id, name } => (
                "token",
                Some(id.clone()),
                format!("{} ({name})", self.user.email),
            ),
            Via::Session { .. } if self.is_staff() => {
                ("staff", Some(self.user.id.clone()), self.user.email.clone())
            }
            Via::Session { .. } => (
                "client",
                Some(self.user.id.clone()),
                self.user.email.clone(),
            ),
        };
        Actor {
            kind,
            id,
            label,
            recorded_at: now,
            occurred_at: self.occurred_at.unwrap_or(now),
            request_id: self.request_id.clone(),
        }
    }

    /// The CSRF token of the session (empty for tokens, which need none).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Builds a `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure behind TLS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if state.config().server.is_https() {
        c.push_str("; Secure");
    }
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    c
}

fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Authenticates a request from its bearer token or session cookie.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Option<Principal>, Problem> {
    let now = state.now();
    let db = state.store().db();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let (member, via) = if let Some(secret) = bearer {
        let Some(token) = tokens::authenticate(db, secret.trim()).await? else {
            return Err(Problem::unauthenticated().detail("unknown or revoked API token"));
        };
        let stale = token
            .last_used_at
            .is_none_or(|t| now.duration_since(t) > SignedDuration::from_mins(1));
        if stale {
            tokens::mark_used(state.store().writer(), &token.id, now).await?;
        }
        let member = users::get_member(db, token.user_id.as_str()).await?;
        (
            member,
            Via::Token {
                id: token.id,
                name: token.name,
            },
        )
    } else if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
        let Some((session, member)) = sessions::find_member(db, secret, now).await? else {
            return Ok(None);
        };
        if now.duration_since(session.last_seen_at) > SignedDuration::from_mins(1) {
            let ttl = SignedDuration::from_mins(state.config().security.session_ttl_minutes);
            let expires_at = now.saturating_add(ttl).unwrap_or(now);
            sessions::touch(state.store().writer(), secret, now, expires_at).await?;
        }
        (
            Some(member),
            Via::Session {
                secret: secret.to_owned(),
                csrf: session.csrf_token,
            },
        )
    } else {
        return Ok(None);
    };
    let member = match member {
        Some(m) if m.user.status == UserStatus::Active => m,
        _ => return Ok(None),
    };
    // Staff are members of the provider organisation; a staff role on a
    // client user (which the API never creates) grants nothing.
    let scope = if member.user.staff_role.is_some() && member.org_kind == "provider" {
        Scope::Staff
    } else {
        Scope::Org(member.user.org_id.clone())
    };
    let mut principal = Principal {
        user: member.user,
        org_name: member.org_name,
        scope,
        via,
        request_id: request_id(parts),
        occurred_at: None,
    };
    principal.occurred_at = occurred_at(&principal, &parts.headers, now)?;
    Ok(Some(principal))
}

/// Parses `Ciel-Occurred-At`: staff only, RFC 3339, not in the future.
fn occurred_at(
    p: &Principal,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Option<Timestamp>, Problem> {
    let Some(v) = headers.get(OCCURRED_AT_HEADER) else {
        return Ok(None);
    };
    if !p.is_staff() {
        return Err(
            Problem::forbidden("only staff may back-date an event").field(OCCURRED_AT_HEADER)
        );
    }
    parse_occurred_at(v.to_str().unwrap_or_default(), now)
        .map(Some)
        .map_err(|d| Problem::invalid(OCCURRED_AT_HEADER, d))
}

/// Parses the actual time of an event recorded late (RFC 3339 with offset);
/// it cannot be in the future.
pub fn parse_occurred_at(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t: Timestamp = s
        .trim()
        .parse()
        .map_err(|_| "expected an RFC 3339 instant such as 2026-05-07T17:30:00+02:00".to_owned())?;
    if t > now {
        return Err("the event cannot have happened in the future".into());
    }
    Ok(t)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let p = authenticate(state, parts)
            .await?
            .ok_or_else(Problem::unauthenticated)?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let Via::Session { csrf, .. } = &p.via {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if unsafe_method && sent != Some(csrf.as_str()) {
                return Err(Problem::forbidden(
                    "a cookie-authenticated API call must send the session's X-CSRF-Token header",
                )
                .field(CSRF_HEADER));
            }
        }
        Ok(p)
    }
}

/// Staff with a role satisfying `allowed`, else 403.
pub fn require_staff(p: &Principal, allowed: fn(StaffRole) -> bool) -> Result<StaffRole, Problem> {
    match p.staff_role() {
        Some(r) if allowed(r) => Ok(r),
        _ => Err(Problem::forbidden(
            "this action is reserved to provider staff with the right role",
        )),
    }
}

/// Staff, or a client user who sees services: the readers of what is
/// attached to services (hour books, PRA activations...). `what` names it
/// in the refusal.
pub fn require_service_viewer(p: &Principal, what: &str) -> Result<(), Problem> {
    if p.is_staff() || p.can(ciel_domain::Permission::ViewServices) {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "{what} are shown to users who see services"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_lookup() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; ciel_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "ciel_session"), Some("abc"));
        assert_eq!(cookie(&h, "ciel"), None);
    }

    #[test]
    fn occurred_at_must_be_past_rfc3339() {
        let now: Timestamp = "2026-05-07T16:00:00Z".parse().unwrap();
        assert_eq!(
            parse_occurred_at("2026-05-07T17:30:00+02:00", now).unwrap(),
            "2026-05-07T15:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_occurred_at("2026-05-07T18:30:01+02:00", now).is_err());
        assert!(parse_occurred_at("07/05/2026 17:30", now).is_err());
    }
}
