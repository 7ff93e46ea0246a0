//! Backup job results pushed by the backup platform (R9.5), in bulk under
//! an `Idempotency-Key` (the episodes' framing, as the usage readings use
//! it): a batch is checked whole, then written in one transaction with one
//! audit record; a replayed job (same service and job id) is stored once.
//!
//! Each new failure is e-mailed to the client in that transaction, one
//! message per failed job: R9.5 says failures are notified, and R13 keeps
//! each notice as evidence of that failure; a digest would make one
//! failure's notice depend on others and arrive later than the failure.

use crate::auth::Principal;
use crate::episodes::{self, Pushed};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_domain::Permission;
use ciel_store::backup::{self as store, JobResult};
use ciel_store::{Actor, Scope, idempotency};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// Most results one request may carry.
pub const MAX_RESULTS: usize = 100_000;

/// One result as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub service_id: String,
    pub job_id: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub success: bool,
    pub immutable: bool,
    pub message: String,
}

/// What an ingestion wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestedResults {
    pub received: usize,
    /// Results stored now.
    pub written: u64,
    /// Results already stored (a replay), left as they were.
    pub already_known: u64,
    /// New failures, each e-mailed to the client (R9.5).
    pub failures_notified: usize,
}

fn check(r: &Incoming, now: Timestamp) -> Result<(), (&'static str, String)> {
    if r.job_id.is_empty() || r.job_id.len() > 200 {
        return Err(("job_id", "a job id of 1 to 200 characters".into()));
    }
    if r.ended_at > now {
        return Err(("ended_at", format!("{} is in the future", r.ended_at)));
    }
    if r.ended_at < r.started_at {
        return Err(("ended_at", "a job ends after it starts".into()));
    }
    if !r.success && r.message.trim().is_empty() {
        return Err((
            "message",
            "R9.5: a failure carries its message, which the client is sent".into(),
        ));
    }
    if r.message.len() > 4000 {
        return Err(("message", "at most 4000 characters".into()));
    }
    if r.immutable && !r.success {
        return Err(("immutable", "only a successful backup is immutable".into()));
    }
    Ok(())
}

/// Checks and writes one batch in the transaction; any error writes
/// nothing.
pub async fn write(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    actor: &Actor,
    results: &[Incoming],
) -> ApiResult<IngestedResults> {
    if results.len() > MAX_RESULTS {
        return Err(Problem::invalid(
            "results",
            format!("at most {MAX_RESULTS} results a request"),
        ));
    }
    let now = actor.recorded_at;
    for (i, r) in results.iter().enumerate() {
        check(r, now).map_err(|(f, why)| Problem::invalid(&format!("results[{i}].{f}"), why))?;
    }
    let mut ids: Vec<&str> = results.iter().map(|r| r.service_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let known = ciel_store::usage::service_kinds(tx, &ids).await?;
    if let Some(i) = results.iter().position(|r| {
        known
            .get(&r.service_id)
            .is_none_or(|(_, k)| !super::BACKUP_KINDS.contains(&k.as_str()))
    }) {
        return Err(Problem::invalid(
            &format!("results[{i}].service_id"),
            "no such service of kind backup or m365_backup",
        ));
    }
    let rows: Vec<JobResult> = results
        .iter()
        .filter_map(|r| {
            let (org, _) = known.get(&r.service_id)?;
            Some(JobResult {
                service_id: r.service_id.clone(),
                job_id: r.job_id.clone(),
                org_id: org.clone(),
                started_at: r.started_at,
                ended_at: r.ended_at,
                status: if r.success { "success" } else { "failure" }.to_owned(),
                immutable: r.immutable,
                message: r.message.trim().to_owned(),
                received_at: now,
            })
        })
        .collect();
    let (written, failures) = store::insert_results(tx, &rows).await?;
    notify_failures(state, tx, &failures).await?;
    store::audit_results(tx, actor, results.len(), written, failures.len()).await?;
    Ok(IngestedResults {
        received: results.len(),
        written,
        already_known: u64::try_from(results.len())
            .unwrap_or(u64::MAX)
            .saturating_sub(written),
        failures_notified: failures.len(),
    })
}

/// R9.5: one e-mail per new failure to the client's users who see its
/// services (Administrators included), in their language.
async fn notify_failures(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    failures: &[JobResult],
) -> ApiResult<()> {
    let mut recipients: HashMap<String, Vec<ciel_store::users::User>> = HashMap::new();
    let mut services: HashMap<String, ciel_store::services::ServiceRow> = HashMap::new();
    for f in failures {
        let org = f.org_id.to_string();
        if !recipients.contains_key(&org) {
            let users = crate::services::members(tx, &org, |u| {
                u.effective_permissions().contains(Permission::ViewServices)
            })
            .await?;
            recipients.insert(org.clone(), users);
        }
        if !services.contains_key(&f.service_id) {
            let s = ciel_store::services::get(&mut **tx, &Scope::Staff, &f.service_id).await?;
            services.insert(f.service_id.clone(), s);
        }
        let Some(s) = services.get(&f.service_id) else {
            continue;
        };
        for to in recipients.get(&org).into_iter().flatten() {
            let mail = ciel_mail::Mail::BackupFailed {
                name: to.name.clone(),
                service: s.label.clone(),
                job_id: f.job_id.clone(),
                started_at: f.started_at,
                ended_at: f.ended_at,
                message: f.message.clone(),
                link: state.link(&format!("/espace-client/sauvegardes/{}", f.service_id)),
            };
            crate::accounts::send_mail(state, tx, to, mail).await?;
        }
    }
    Ok(())
}

/// A bulk push: under its `Idempotency-Key` (a replay answers the first
/// answer, another body with the same key is refused with 409), checked
/// whole, written in one transaction.
pub async fn push(
    state: &AppState,
    p: &Principal,
    idem_key: &str,
    body_hash: String,
    results: Vec<Incoming>,
) -> ApiResult<Pushed> {
    crate::usage::require_metering(p)?;
    episodes::check_idempotency_key(idem_key)?;
    let scope = format!("backup_results:{}", p.user.id);
    if let Some(first) = idempotency::find(state.store().db(), &scope, idem_key).await? {
        return episodes::replay(first, &body_hash);
    }
    let now = state.now();
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let out = write(state, &mut tx, &actor, &results).await?;
    let body = serde_json::to_value(&out).map_err(|_| Problem::internal())?;
    episodes::push_answer(tx, &scope, idem_key, body_hash, out.written == 0, body, now).await
}
