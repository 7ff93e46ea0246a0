//! Records API: the audit log and the notices sent (evidence, R13).

use super::views::{AuditList, MessageList};
use super::{ApiQuery, ListParams};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ciel_domain::Permission;
use ciel_store::{audit, outbox};

/// Staff, or a client user who manages its organisation's users.
fn require_oversight(p: &Principal) -> ApiResult<()> {
    if p.is_staff() || p.can(Permission::ManageUsers) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "the audit log is shown to Administrators and staff",
        ))
    }
}

/// The audit log, newest first (staff: all; an Administrator: its
/// organisation's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "records", params(ListParams),
    responses((status = 200, body = AuditList), (status = 403, body = Problem)))]
pub async fn list_audit(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<AuditList>> {
    require_oversight(&p)?;
    let page = audit::list(s.store().db(), &p.scope, q.cursor()?, q.limit()?).await?;
    Ok(Json(page.into()))
}

/// Notices e-mailed by ciel with their send times, newest first.
#[utoipa::path(get, path = "/api/v1/messages", tag = "records", params(ListParams),
    responses((status = 200, body = MessageList), (status = 403, body = Problem)))]
pub async fn list_messages(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<MessageList>> {
    require_oversight(&p)?;
    let page = outbox::list(s.store().db(), &p.scope, q.cursor()?, q.limit()?).await?;
    Ok(Json(page.into()))
}
