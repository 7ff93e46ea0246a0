//! The audit log and sent notices, as pages.

use super::{Ctx, Viewer};
use crate::api::views::redact_links;
use crate::auth::Principal;
use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_store::{audit, outbox};

pub struct AuditRow {
    pub recorded_at: String,
    pub occurred_at: String,
    pub who: String,
    pub action: String,
    pub entity: String,
    pub diff: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    ctx: Ctx,
    entries: Vec<AuditRow>,
    next_cursor: Option<String>,
}

/// The audit log visible to the principal's scope.
pub async fn audit_page(v: &Viewer, p: &Principal) -> Response {
    let cursor = v.cursor();
    let page = match audit::list(v.state.store().db(), &p.scope, cursor.as_deref(), 100).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "audit list failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let pretty = |j: &Option<serde_json::Value>| {
        j.as_ref()
            .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
            .unwrap_or_else(|| "—".into())
    };
    let entries = page
        .items
        .iter()
        .map(|e| AuditRow {
            recorded_at: v.time(e.recorded_at),
            occurred_at: v.time(e.occurred_at),
            who: format!("{} ({})", e.actor_label, e.actor_kind),
            action: e.action.clone(),
            entity: format!("{} {}", e.entity_kind, e.entity_id),
            diff: format!("{}\n→\n{}", pretty(&e.before), pretty(&e.after)),
        })
        .collect();
    v.render(AuditPage {
        t: v.tr,
        ctx: v.ctx(),
        entries,
        next_cursor: page.next_cursor,
    })
}

pub struct MessageRow {
    pub created_at: String,
    pub sent_at: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    t: Tr,
    ctx: Ctx,
    items: Vec<MessageRow>,
    next_cursor: Option<String>,
}

/// Notices sent, with their send times (evidence, R13).
pub async fn messages_page(v: &Viewer, p: &Principal) -> Response {
    let cursor = v.cursor();
    let page = match outbox::list(v.state.store().db(), &p.scope, cursor.as_deref(), 100).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "outbox list failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let items = page
        .items
        .iter()
        .map(|m| MessageRow {
            created_at: v.time(m.created_at),
            sent_at: m.sent_at.map(|t| v.time(t)).unwrap_or_else(|| "—".into()),
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            body: redact_links(&m.body_text),
            status: m.status.clone(),
        })
        .collect();
    v.render(MessagesPage {
        t: v.tr,
        ctx: v.ctx(),
        items,
        next_cursor: page.next_cursor,
    })
}
