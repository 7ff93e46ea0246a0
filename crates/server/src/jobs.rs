//! The job runner: workers claim due jobs from the database queue and run
//! their handler. Handlers are idempotent, because a job whose worker died is
//! run again when its lease expires.

use crate::state::AppState;
use ciel_mail::{Mailer, Outgoing};
use ciel_store::jobs::{self, Job};
use ciel_store::{outbox, sessions, throttle};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Kind of the daily housekeeping job.
pub const HOUSEKEEPING_JOB: &str = "housekeeping";

/// Outcome of a handler.
pub enum Outcome {
    Done,
    /// Try again later (with backoff).
    Retry(String),
    /// Give up: retrying cannot help.
    Fail(String),
}

/// Runs jobs until `shutdown` turns true.
pub struct Runner {
    state: AppState,
    mailer: Arc<Mailer>,
    worker: String,
}

impl Runner {
    pub fn new(state: AppState, mailer: Arc<Mailer>, worker: String) -> Runner {
        Runner {
            state,
            mailer,
            worker,
        }
    }

    /// Claims and runs one due job; returns whether there was one.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let now = self.state.now();
        let lease = SignedDuration::from_secs(self.state.config().jobs.lease_seconds);
        let Some(job) = jobs::claim(self.state.store(), &self.worker, now, lease).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", job.id = %job.id, job.kind = %job.kind, job.attempt = job.attempts);
        let _enter = span.enter();
        let outcome = self.handle(&job).await;
        let now = self.state.now();
        match outcome {
            Outcome::Done => {
                jobs::complete(self.state.store(), &job.id, &self.worker, now).await?;
                metrics::counter!("ciel_jobs_total", "kind" => job.kind.clone(), "outcome" => "done").increment(1);
            }
            Outcome::Retry(e) => {
                // Exponential backoff: 30 s, 1 min, 2 min... capped at 1 h.
                let secs = (30i64 << (job.attempts - 1).clamp(0, 7)).min(3600);
                let at = now
                    .saturating_add(SignedDuration::from_secs(secs))
                    .unwrap_or(now);
                tracing::warn!(error = %e, retry_in_s = secs, "job failed, will retry");
                jobs::fail(self.state.store(), &job, &self.worker, &e, now, Some(at)).await?;
                metrics::counter!("ciel_jobs_total", "kind" => job.kind.clone(), "outcome" => "retry").increment(1);
            }
            Outcome::Fail(e) => {
                tracing::error!(error = %e, "job failed permanently");
                jobs::fail(self.state.store(), &job, &self.worker, &e, now, None).await?;
                metrics::counter!("ciel_jobs_total", "kind" => job.kind.clone(), "outcome" => "failed").increment(1);
            }
        }
        Ok(true)
    }

    async fn handle(&self, job: &Job) -> Outcome {
        match job.kind.as_str() {
            outbox::DELIVER_JOB => self.deliver(job).await,
            HOUSEKEEPING_JOB => self.housekeeping().await,
            crate::orders::LAPSE_JOB => self.lapse(job).await,
            crate::tickets::ALERT_JOB => self.ticket_alert(job).await,
            crate::services::PASS_JOB => self.services_pass().await,
            crate::terms_versions::APPLY_JOB => self.apply_terms().await,
            crate::sla::statements::JOB => self.sla_statements().await,
            crate::dunning::JOB => self.dunning().await,
            crate::billing::run::JOB => self.billing_run(job).await,
            crate::usage::close::JOB => self.usage_close().await,
            crate::colo::pass::JOB => self.colocation_pass().await,
            crate::backup::reminders::JOB => self.regularisation_pass().await,
            other => Outcome::Fail(format!("unknown job kind {other}")),
        }
    }

    /// Sends one outbox message; a message already sent is not sent again.
    async fn deliver(&self, job: &Job) -> Outcome {
        let Some(id) = job.payload.get("message").and_then(|v| v.as_str()) else {
            return Outcome::Fail("payload without message id".into());
        };
        let db = self.state.store().writer();
        let msg = match outbox::get(db, id).await {
            Ok(m) => m,
            Err(ciel_store::StoreError::NotFound) => {
                return Outcome::Fail(format!("message {id} not found"));
            }
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        if msg.status != "pending" {
            return Outcome::Done;
        }
        let files: Vec<ciel_mail::Attachment> = match outbox::attachments(db, &msg.id).await {
            Ok(files) => files
                .into_iter()
                .map(|f| ciel_mail::Attachment {
                    filename: f.filename,
                    content_type: f.content_type,
                    data: f.data,
                })
                .collect(),
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let sent = self
            .mailer
            .send_with(
                Outgoing {
                    to: &msg.to_addr,
                    subject: &msg.subject,
                    text: &msg.body_text,
                    message_id: &msg.message_id,
                    date: self.state.now(),
                },
                &files,
            )
            .await;
        let now = self.state.now();
        match sent {
            Ok(()) => match outbox::mark_sent(db, &msg.id, now).await {
                Ok(()) => {
                    tracing::info!(mail.id = %msg.id, mail.template = %msg.template, "mail sent");
                    Outcome::Done
                }
                Err(e) => Outcome::Retry(e.to_string()),
            },
            Err(e) => {
                let last = e.permanent || job.attempts >= job.max_attempts;
                let _ = outbox::mark_error(db, &msg.id, &e.message, last).await;
                if e.permanent {
                    Outcome::Fail(e.message)
                } else {
                    Outcome::Retry(e.message)
                }
            }
        }
    }

    /// Lapses an order still unaccepted at its deadline (R1.3); idempotent.
    async fn lapse(&self, job: &Job) -> Outcome {
        let Some(id) = job.payload.get("order").and_then(|v| v.as_str()) else {
            return Outcome::Fail("payload without order id".into());
        };
        match crate::orders::run_lapse(&self.state, id).await {
            Ok(lapsed) => {
                tracing::info!(order.id = %id, lapsed, "order lapse checked");
                Outcome::Done
            }
            Err(p) if p.status == 409 => Outcome::Done,
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Alerts support staff before a ticket deadline; idempotent.
    async fn ticket_alert(&self, job: &Job) -> Outcome {
        let field = |k: &str| job.payload.get(k).and_then(|v| v.as_str());
        let (Some(id), Some(clock)) = (field("ticket"), field("clock")) else {
            return Outcome::Fail("payload without ticket and clock".into());
        };
        match crate::tickets::run_alert(&self.state, id, clock).await {
            Ok(sent) => {
                tracing::info!(ticket.id = %id, clock, sent, "ticket alert checked");
                Outcome::Done
            }
            Err(p) if p.status == 404 => Outcome::Done,
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Applies the services' time-driven steps due now; idempotent.
    async fn services_pass(&self) -> Outcome {
        match crate::services::run_pass_job(&self.state).await {
            Ok(r) => {
                tracing::info!(services = r.services, retried = r.retried, steps = ?r.steps, "services pass done");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Closes the usage of the month just ended (R2.8-R2.10, R3.5, R11.5);
    /// idempotent.
    async fn usage_close(&self) -> Outcome {
        match crate::usage::close::run_job(&self.state).await {
            Ok(r) => {
                tracing::info!(month = %r.month, ports = r.ports, charges = r.charges_new, amount = %r.amount, "usage closed");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Colocation reminders, deadline alerts and decommissioning steps
    /// (R11.2, R11.4, R11.6); idempotent.
    async fn colocation_pass(&self) -> Outcome {
        match crate::colo::pass::run_job(&self.state).await {
            Ok(r) => {
                tracing::info!(
                    reminders = r.plan_reminders,
                    deadline_mails = r.deadline_mails,
                    steps = r.decommission_steps,
                    "colocation pass done"
                );
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Reminds unsigned regularisation orders and flags overdue ones
    /// (R9.6); idempotent.
    async fn regularisation_pass(&self) -> Outcome {
        match crate::backup::reminders::run_job(&self.state).await {
            Ok(r) => {
                tracing::info!(
                    reminded = r.reminded,
                    overdue = r.overdue,
                    "regularisation pass done"
                );
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Computes the monthly SLA statements of the month just ended (R5-R7);
    /// idempotent.
    async fn sla_statements(&self) -> Outcome {
        match crate::sla::statements::run_job(&self.state).await {
            Ok(r) => {
                tracing::info!(month = %r.month, services = r.services, written = r.written, frozen = r.frozen, "SLA statements computed");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Sends the formal notices of invoices past due (R2.6); idempotent.
    async fn dunning(&self) -> Outcome {
        match crate::dunning::run_job(&self.state).await {
            Ok(r) => {
                tracing::info!(notices = r.notices, "dunning pass done");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Processes a billing run's pending items (resumes where it stopped).
    async fn billing_run(&self, job: &Job) -> Outcome {
        match crate::billing::run::run_job(&self.state, &job.payload).await {
            Ok(r) => {
                tracing::info!(period = %r.period, invoices = r.invoices, items = r.total_items, "billing run done");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Records the terms versions that began to govern running orders
    /// (R1.2); idempotent.
    async fn apply_terms(&self) -> Outcome {
        match crate::terms_versions::run_apply(&self.state).await {
            Ok(n) => {
                tracing::info!(applied = n, "terms versions applied");
                Outcome::Done
            }
            Err(p) => Outcome::Retry(p.detail.unwrap_or(p.code)),
        }
    }

    /// Purges expired sessions and old throttling records.
    async fn housekeeping(&self) -> Outcome {
        let now = self.state.now();
        let db = self.state.store().writer();
        let day_ago = now
            .saturating_sub(SignedDuration::from_hours(24))
            .unwrap_or(now);
        match (
            sessions::purge_expired(db, now).await,
            throttle::purge_before(db, day_ago).await,
        ) {
            (Ok(s), Ok(t)) => {
                tracing::info!(sessions = s, throttle_records = t, "housekeeping done");
                Outcome::Done
            }
            (Err(e), _) | (_, Err(e)) => Outcome::Retry(e.to_string()),
        }
    }

    /// Loops until shutdown: runs jobs while there are due ones, else waits
    /// for the poll interval.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.state.config().jobs.poll_interval_ms.max(10));
        loop {
            if *shutdown.borrow() {
                return;
            }
            let busy = match self.run_once().await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "job runner error");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// Enqueues a `kind` job at `at`, once per instant whatever the number of
/// processes (the dedup key is `<kind>:<ms>`): the daily passes' schedule.
pub async fn schedule_at(
    state: &AppState,
    kind: &'static str,
    at: jiff::Timestamp,
) -> anyhow::Result<()> {
    jobs::enqueue(
        state.store().writer(),
        jobs::NewJob {
            kind,
            payload: serde_json::json!({ "at": at.to_string() }),
            run_at: at,
            dedup_key: Some(format!("{kind}:{}", at.as_millisecond())),
            max_attempts: 10,
        },
        state.now(),
    )
    .await?;
    Ok(())
}

/// A daily pass at start: one now (catching up on what fell due while no
/// process ran) and the next at Paris midnight.
pub async fn schedule_daily(state: &AppState, kind: &'static str) -> anyhow::Result<()> {
    let now = state.now();
    schedule_at(state, kind, now).await?;
    schedule_at(state, kind, crate::services::next_midnight(now)).await
}

/// After a daily pass ran at `now`: the next one at Paris midnight.
pub async fn schedule_next_midnight(
    state: &AppState,
    kind: &'static str,
    now: jiff::Timestamp,
) -> crate::problem::ApiResult<()> {
    schedule_at(state, kind, crate::services::next_midnight(now))
        .await
        .map_err(|e| crate::problem::Problem::internal().detail(e.to_string()))
}

/// Enqueues today's housekeeping (once per day, whatever the number of
/// processes: the dedup key is the date).
pub async fn schedule_housekeeping(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    jobs::enqueue(
        state.store().writer(),
        jobs::NewJob {
            kind: HOUSEKEEPING_JOB,
            payload: serde_json::json!({}),
            run_at: now,
            dedup_key: Some(format!("housekeeping:{day}")),
            max_attempts: 3,
        },
        now,
    )
    .await?;
    Ok(())
}
