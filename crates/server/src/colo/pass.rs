//! The daily colocation pass (midnight Paris, also `POST
//! /api/v1/colocation/pass` and at start): prevention-plan reminders
//! (R11.2), deadline alerts and breaches (R11.4), decommissioning steps and
//! resumed billing (R11.6). Every step is due at a Paris midnight or
//! reminded on the day, and each is recorded once, so a pass run twice
//! repeats nothing.

use crate::auth::Principal;
use crate::problem::ApiResult;
use crate::state::AppState;
use jiff::Timestamp;
use serde::Serialize;

/// Kind of the pass's job.
pub const JOB: &str = "colocation.pass";

/// What a pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PassReport {
    pub plan_reminders: usize,
    pub deadline_mails: usize,
    pub decommissions_opened: usize,
    pub decommission_steps: usize,
    pub charges: usize,
}

/// Runs the pass at `now`.
pub async fn run_pass(state: &AppState, now: Timestamp) -> ApiResult<PassReport> {
    let plan_reminders = super::access::send_plan_reminders(state, now).await?;
    let deadline_mails = super::work::send_deadline_alerts(state, now).await?;
    let d = super::decommission::run(state, now).await?;
    Ok(PassReport {
        plan_reminders,
        deadline_mails,
        decommissions_opened: d.opened,
        decommission_steps: d.steps,
        charges: d.charges,
    })
}

/// At start: a pass now and the next one at midnight.
pub async fn schedule_passes(state: &AppState) -> anyhow::Result<()> {
    crate::jobs::schedule_daily(state, JOB).await
}

/// The job: runs the pass, then schedules the next one.
pub async fn run_job(state: &AppState) -> ApiResult<PassReport> {
    let now = state.now();
    let report = run_pass(state, now).await?;
    crate::jobs::schedule_next_midnight(state, JOB, now).await?;
    Ok(report)
}

/// Staff operators run the pass now (what the midnight job does).
pub async fn run_now(state: &AppState, p: &Principal) -> ApiResult<PassReport> {
    super::require_operator(p)?;
    run_pass(state, state.now()).await
}
