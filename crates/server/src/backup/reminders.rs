//! The daily regularisation pass (R9.6; midnight Paris, at start, and
//! `POST /api/v1/backup/regularisations/pass`): an unsigned regularisation
//! order is reminded to the client's Administrators once its reminder is
//! due (`backup.regularisation_reminder_days` before its 30-day delay
//! ends), and flagged overdue once the delay has ended, with a notice.
//! Each mark is a conditional update (`reminded_at IS NULL`,
//! `overdue_at IS NULL`) in the notice's transaction: a pass run twice, or
//! by two processes, mails each order's notice once.

use crate::auth::{Principal, require_staff};
use crate::problem::ApiResult;
use crate::state::AppState;
use ciel_mail::Mail;
use ciel_store::backup::{self as store, RegularisationMark, RegularisationRow};
use ciel_store::{Scope, StoreError, Tx};
use jiff::Timestamp;
use serde::Serialize;

/// Kind of the pass's job.
pub const JOB: &str = "backup.regularisations";

/// Orders one pass reads at a time.
const CHUNK: i64 = 200;

/// What a pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RegularisationPassReport {
    /// Orders reminded now (each once).
    pub reminded: usize,
    /// Orders flagged overdue now (each once).
    pub overdue: usize,
    /// Notices queued.
    pub mails: usize,
}

/// Runs the pass at `now`, a chunk of open orders per transaction.
pub async fn run_pass(state: &AppState, now: Timestamp) -> ApiResult<RegularisationPassReport> {
    let mut report = RegularisationPassReport::default();
    let mut last: Option<RegularisationRow> = None;
    loop {
        let mut tx = state.store().begin().await?;
        let rows = store::open_regularisations(&mut tx, last.as_ref(), CHUNK).await?;
        for r in &rows {
            let s = ciel_store::services::get(&mut *tx, &Scope::Staff, &r.service_id).await?;
            let ops = crate::operations::for_version(state, &s.terms_version)?;
            let status = ops.regularisation_order(r.sent_at, r.signed_at, now);
            let mark = if now >= status.ends_at {
                RegularisationMark::Overdue
            } else if now >= status.remind_from && r.reminded_at.is_none() {
                RegularisationMark::Reminded
            } else {
                continue;
            };
            let actor = ciel_store::Actor::system(JOB, now);
            let Some(marked) = store::mark_regularisation(&mut tx, &actor, r, mark, now).await?
            else {
                continue;
            };
            let overdue = mark == RegularisationMark::Overdue;
            if overdue {
                report.overdue += 1;
            } else {
                report.reminded += 1;
            }
            report.mails +=
                notify(state, &mut tx, &marked, &s.label, status.ends_at, overdue).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        if rows.len() < CHUNK as usize {
            break;
        }
        last = rows.into_iter().last();
    }
    Ok(report)
}

/// The notice to the client's Administrators, who sign (R9.6).
async fn notify(
    state: &AppState,
    tx: &mut Tx,
    r: &RegularisationRow,
    service: &str,
    ends_at: Timestamp,
    overdue: bool,
) -> ApiResult<usize> {
    let org = ciel_store::orgs::get(&mut **tx, &Scope::Staff, r.org_id.as_str()).await?;
    let to = crate::services::members(tx, r.org_id.as_str(), |u| u.is_org_admin).await?;
    for u in &to {
        let mail = Mail::BackupRegularisation {
            name: u.name.clone(),
            org_name: org.name.clone(),
            service: format!("{service} ({})", r.service_id),
            reference: r.id.to_string(),
            reason: r.reason.clone(),
            sent_at: r.sent_at,
            ends_at,
            overdue,
            link: state.link("/espace-client/sauvegardes"),
        };
        crate::accounts::send_mail(state, tx, u, mail).await?;
    }
    Ok(to.len())
}

/// At start: a pass now and the next one at midnight.
pub async fn schedule_passes(state: &AppState) -> anyhow::Result<()> {
    crate::jobs::schedule_daily(state, JOB).await
}

/// The job: runs the pass, then schedules the next one.
pub async fn run_job(state: &AppState) -> ApiResult<RegularisationPassReport> {
    let now = state.now();
    let report = run_pass(state, now).await?;
    crate::jobs::schedule_next_midnight(state, JOB, now).await?;
    Ok(report)
}

/// Staff operators run the pass now (what the midnight job does).
pub async fn run_now(state: &AppState, p: &Principal) -> ApiResult<RegularisationPassReport> {
    require_staff(p, super::staff_operator)?;
    run_pass(state, state.now()).await
}
