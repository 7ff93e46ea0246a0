//! Monthly statements (R5-R7): computed by the engine from the assembled
//! evidence, stored per service and month, recomputed while open, frozen
//! after review or after the correction period, reviewed by staff (R7.5)
//! and, once approved, handed to billing as a negative charge.
//!
//! - **The job** (`sla.statements`, on the 1st at midnight, Paris) computes
//!   the month just ended for every cloud and PRA service, by pages of
//!   [`PAGE`] services (one transaction each), and freezes the statements
//!   whose correction period ended. Re-running it writes nothing new: a row
//!   changes only when its statement or evidence changed (see
//!   `ciel_store::statements::upsert_many`).
//! - **Correction period** (terms `penalties.credits.correction_months`,
//!   1 in the embedded version): a statement stays open
//!   to corrections (late episodes, exclusions, windows) until the end of the
//!   month after its own. Reading of A2 II.C: credits are "deducted from the
//!   invoices of the month following their issue", so the figures must be
//!   settled within that following month; staff may freeze earlier by
//!   reviewing.

use std::collections::HashMap;
use std::sync::Arc;

use ciel_engine::evidence::{Claimed, Evidence, Statement};
use ciel_engine::{Engine, Explained};
use ciel_store::charges::{self, NewCharge};
use ciel_store::sla::{self, SlaService};
use ciel_store::statements::{self, Figures, Review, StatementRow};
use ciel_store::{Actor, Scope, StoreError, invoices, jobs, orgs};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;

use super::evidence::{self, Month};
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_domain::StaffRole;

/// Kind of the monthly job.
pub const JOB: &str = "sla.statements";

/// Services computed per page (one read per table, one transaction).
pub const PAGE: i64 = 1000;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub month: String,
    /// Services whose statement was computed.
    pub services: u64,
    /// Rows inserted or changed.
    pub written: u64,
    /// Statements frozen because their correction period ended.
    pub frozen: u64,
    /// Statements of this run proposing a credit.
    pub credits_proposed: u64,
}

fn corrupt(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "SLA statement cannot be computed");
    Problem::internal()
}

/// Engines per terms version, built once per run.
#[derive(Default)]
struct Engines(HashMap<String, Arc<Engine>>);

impl Engines {
    fn get(&mut self, state: &AppState, version: &str) -> ApiResult<Arc<Engine>> {
        if let Some(e) = self.0.get(version) {
            return Ok(e.clone());
        }
        let registry = crate::orders::registry(state);
        let terms = registry
            .get(version)
            .ok_or_else(|| corrupt(format!("unknown terms version {version}")))?;
        let e = Arc::new(Engine::new(terms).map_err(corrupt)?);
        self.0.insert(version.to_owned(), e.clone());
        Ok(e)
    }
}

/// The instant the correction period of `month` ends, `months` after it
/// (the terms' `penalties.credits.correction_months`).
pub fn correctable_until(month: &Month, months: u8) -> ApiResult<Timestamp> {
    let mut m = month.clone();
    for _ in 0..=months {
        m = m.next().ok_or_else(|| corrupt("month out of range"))?;
    }
    Ok(m.start)
}

/// The stored figures of a computed statement (pure).
pub fn figures(
    s: &SlaService,
    ev: &Evidence,
    st: &Explained<Statement>,
    correctable_until: Timestamp,
) -> Result<Figures, serde_json::Error> {
    let v = &st.value;
    let a = &v.availability;
    let mut caps = Vec::new();
    if v.caps.month_cap_applied {
        caps.push("month");
    }
    if v.caps.year_cap_applied {
        caps.push("year");
    }
    let pra: Vec<Decimal> = v.activations.iter().map(|a| a.penalty_percent).collect();
    Ok(Figures {
        org_id: s.org_id.clone(),
        service_id: s.id.to_string(),
        month: v.month.clone(),
        terms_version: v.terms_version.clone(),
        offer: serde_json::to_value(a.offer)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        monthly_fee: ev.service.monthly_fee.to_string(),
        month_minutes: a.month_minutes,
        unavailable_minutes: a.unavailable_minutes,
        rate: a.rate_display.clone(),
        guaranteed_rate: a.guaranteed_percent.to_string(),
        penalty_tier: a.tier.as_ref().map(|t| match t.lower {
            Some(l) => format!("{l} <= rate < {}", t.upper),
            None => format!("rate < {}", t.upper),
        }),
        penalty_percent: a.penalty_percent.to_string(),
        raw_penalty: v.caps.gross.round_dp(2).to_string(),
        caps_applied: serde_json::to_string(&caps)?,
        pra_penalties: serde_json::to_string(&pra)?,
        combination_rule: "R7.3".into(),
        credit: v.credit.to_string(),
        statement_json: serde_json::to_string(v)?,
        evidence_json: serde_json::to_string(ev)?,
        explanation_json: serde_json::to_string(&st.explanation)?,
        correctable_until,
        review: if v.credit > Decimal::ZERO {
            "proposed".into()
        } else {
            "none".into()
        },
    })
}

/// Computes and stores the statements of `services` (sorted by id).
async fn compute_page(
    state: &AppState,
    actor: &Actor,
    month: &Month,
    facts: &evidence::MonthFacts,
    services: &[SlaService],
    engines: &mut Engines,
    report: &mut RunReport,
) -> ApiResult<()> {
    let mut running = Vec::with_capacity(services.len());
    for s in services {
        if evidence::runs_in(s, month).map_err(corrupt)? {
            running.push(s.clone());
        }
    }
    let services = &running[..];
    let page = evidence::page_facts(state, month, services).await?;
    let mut rows = Vec::with_capacity(services.len());
    for s in services {
        let ev = evidence::build(s, month, actor.recorded_at, facts, &page).map_err(corrupt)?;
        let engine = engines.get(state, &s.terms_version)?;
        let st = engine.statement(&ev).map_err(corrupt)?;
        let until = correctable_until(month, engine.terms().penalties.credits.correction_months)?;
        if st.value.credit > Decimal::ZERO {
            report.credits_proposed += 1;
        }
        rows.push(figures(s, &ev, &st, until).map_err(corrupt)?);
    }
    let mut tx = state.store().begin().await?;
    report.written += statements::upsert_many(&mut tx, actor, &rows).await?;
    tx.commit().await.map_err(StoreError::from)?;
    report.services += services.len() as u64;
    Ok(())
}

/// Computes the statements of `month` for every cloud and PRA service and
/// freezes those past their correction period; `progress` is called after
/// each page.
pub async fn run(
    state: &AppState,
    month: &Month,
    actor: &Actor,
    progress: &mut (dyn FnMut(&RunReport) + Send),
) -> ApiResult<RunReport> {
    let mut report = RunReport {
        month: month.label.clone(),
        ..RunReport::default()
    };
    let mut tx = state.store().begin().await?;
    report.frozen = statements::freeze_due(&mut tx, actor, actor.recorded_at).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let facts = evidence::month_facts(state, month).await?;
    let mut engines = Engines::default();
    let last_day = month.last_day.to_string();
    let mut after: Option<String> = None;
    loop {
        let services = sla::services_page(
            state.store().db(),
            &Scope::Staff,
            &last_day,
            after.as_deref(),
            PAGE,
        )
        .await?;
        let Some(last) = services.last() else {
            return Ok(report);
        };
        after = Some(last.id.to_string());
        compute_page(
            state,
            actor,
            month,
            &facts,
            &services,
            &mut engines,
            &mut report,
        )
        .await?;
        progress(&report);
    }
}

/// Staff run (API, CLI): computes `month`; refused for a month not ended.
pub async fn run_month(state: &AppState, p: &Principal, month: &str) -> ApiResult<RunReport> {
    require_staff(p, StaffRole::manages_clients)?;
    let m = Month::parse(month, "month")?;
    if m.end > state.now() {
        return Err(Problem::invalid(
            "month",
            "R5.1: a statement covers a calendar month that has ended",
        ));
    }
    run(state, &m, &p.actor(state.now()), &mut |_| {}).await
}

/// Staff recompute one statement while it is open (after a correction).
pub async fn recompute(state: &AppState, p: &Principal, id: &str) -> ApiResult<StatementRow> {
    // Read through the scope first: another organisation's is not found.
    let db = state.store().db();
    let before = statements::get(db, &p.scope, id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    if before.state != "open" || !matches!(before.figures.review.as_str(), "none" | "proposed") {
        return Err(Problem::conflict(
            "state",
            "R7.5: a reviewed or frozen statement is no longer recomputed",
        ));
    }
    let m = Month::parse(&before.figures.month, "month")?;
    let s = sla::service(db, &Scope::Staff, &before.figures.service_id).await?;
    let facts = evidence::month_facts(state, &m).await?;
    let mut report = RunReport::default();
    let actor = p.actor(state.now());
    compute_page(
        state,
        &actor,
        &m,
        &facts,
        std::slice::from_ref(&s),
        &mut Engines::default(),
        &mut report,
    )
    .await?;
    Ok(statements::get(db, &p.scope, id).await?)
}

/// Recomputes the open statements an episode's change touches (its
/// service's, or those of the services on its cluster, for every month
/// the episode covered before or after the change); returns how many
/// services were recomputed. Runs after the change committed: a failure
/// leaves the statements as they were, for staff to recompute.
pub async fn after_episode_change(
    state: &AppState,
    p: &Principal,
    before: &ciel_store::episodes::EpisodeRow,
    after: &ciel_store::episodes::EpisodeRow,
) -> ApiResult<u64> {
    let now = state.now();
    let from = before.start.min(after.start);
    let to = before.end.unwrap_or(now).max(after.end.unwrap_or(now));
    let (Some(first), Some(last)) = (Month::containing(from), Month::containing(to)) else {
        return Ok(0);
    };
    let db = state.store().db();
    let touched = sla::open_statements_touching(
        db,
        after.service_id.as_deref(),
        after.cluster_id.as_deref(),
        &first.label,
        &last.label,
    )
    .await?;
    let actor = p.actor(now);
    let mut engines = Engines::default();
    let mut report = RunReport::default();
    let mut i = 0;
    while i < touched.len() {
        let month_label = &touched[i].0;
        let mut services = Vec::new();
        while i < touched.len() && &touched[i].0 == month_label {
            services.push(sla::service(db, &Scope::Staff, &touched[i].1).await?);
            i += 1;
        }
        let m = Month::parse(month_label, "month")?;
        let facts = evidence::month_facts(state, &m).await?;
        compute_page(
            state,
            &actor,
            &m,
            &facts,
            &services,
            &mut engines,
            &mut report,
        )
        .await?;
    }
    Ok(report.services)
}

/// A review decision (R7.5).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `approve` or `reject`.
    pub decision: String,
    /// Required to reject.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approves or rejects a proposed credit. Approval requires every invoice
/// already due to be paid (R7.5), hands the credit to billing once (a
/// negative charge referencing the statement) and mails the client's
/// Administrators; rejection requires a reason. Audited.
pub async fn review(
    state: &AppState,
    p: &Principal,
    id: &str,
    input: ReviewInput,
) -> ApiResult<StatementRow> {
    // Read through the scope first: another organisation's is not found.
    let db = state.store().db();
    let before = statements::get(db, &p.scope, id).await?;
    require_staff(p, |r| matches!(r, StaffRole::Admin | StaffRole::Billing))?;
    let approve = match input.decision.trim() {
        "approve" => true,
        "reject" => false,
        _ => return Err(Problem::invalid("decision", "one of approve, reject")),
    };
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(Problem::invalid(
            "reason",
            "R7.5: a rejected credit states why",
        ));
    }
    let now = state.now();
    if before.figures.review != "proposed" {
        return Err(Problem::conflict(
            "decision",
            format!(
                "R7.5: only a proposed credit is reviewed (this one is {})",
                before.figures.review
            ),
        ));
    }
    let org_id = before.figures.org_id.clone();
    if approve {
        let overdue = invoices::overdue(db, &Scope::Staff, org_id.as_str(), now).await?;
        if !overdue.is_empty() {
            let list: Vec<String> = overdue
                .iter()
                .map(|i| {
                    format!(
                        "{} (due {})",
                        i.number,
                        i.due_at.to_zoned(super::zone()).date()
                    )
                })
                .collect();
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rule_violated",
                "Refused by the contract",
            )
            .field("decision")
            .detail(format!(
                "R7.5 (A2 II.C): a credit is issued only when every invoice already due is paid; unpaid: {}",
                list.join(", ")
            )));
        }
    }
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let mut charge_id = None;
    if approve {
        let credit = Decimal::from_str_exact(&before.figures.credit).map_err(corrupt)?;
        charges::hand_over(
            &mut tx,
            &actor,
            NewCharge {
                org_id: org_id.clone(),
                source_kind: "sla_statement",
                source_id: before.id.to_string(),
                charge_key: "credit".into(),
                rule: "R7.5".into(),
                label: format!(
                    "Avoir SLA / SLA credit {} ({})",
                    before.figures.month, before.figures.service_id
                ),
                amount: (-credit).to_string(),
                explanation_json: before.figures.explanation_json.clone(),
                occurred_at: actor.occurred_at,
            },
        )
        .await?;
        charge_id =
            charges::of_source(&mut *tx, &Scope::Staff, "sla_statement", before.id.as_str())
                .await?
                .into_iter()
                .find(|c| c.charge_key == "credit")
                .map(|c| c.id.to_string());
    }
    let after = statements::review(
        &mut tx,
        &actor,
        &before,
        Review {
            review: if approve { "approved" } else { "rejected" },
            reason,
            charge_id: charge_id.as_deref(),
        },
    )
    .await?;
    if approve {
        notify_credit(state, &mut tx, &after).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(after)
}

/// Mails the approved credit to the client's Administrators (FR/EN).
async fn notify_credit(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    st: &StatementRow,
) -> ApiResult<()> {
    let f = &st.figures;
    let org = orgs::get(&mut **tx, &Scope::Staff, f.org_id.as_str()).await?;
    let label = ciel_store::services::get(&mut **tx, &Scope::Staff, &f.service_id)
        .await?
        .label;
    let link = state.link(&format!("/espace-client/sla/statements/{}", st.id));
    for to in crate::services::members(tx, f.org_id.as_str(), |u| u.is_org_admin).await? {
        let mail = ciel_mail::Mail::SlaCredit {
            name: to.name.clone(),
            org_name: org.name.clone(),
            service: format!("{label} ({})", f.service_id),
            month: f.month.clone(),
            rate: f.rate.clone(),
            credit: f.credit.clone(),
            link: link.clone(),
        };
        crate::accounts::send_mail(state, tx, &to, mail).await?;
    }
    Ok(())
}

/// The evidence document of a statement with the provider's figures as
/// `claimed` (format `ciel-sla-evidence/1`, docs/EVIDENCE.md): what
/// `ciel sla verify` recomputes.
pub async fn evidence_download(state: &AppState, p: &Principal, id: &str) -> ApiResult<Evidence> {
    let st = statements::get(state.store().db(), &p.scope, id).await?;
    let mut ev: Evidence = serde_json::from_str(&st.figures.evidence_json).map_err(corrupt)?;
    ev.claimed = Some(Claimed {
        unavailable_minutes: Some(st.figures.unavailable_minutes),
        penalty_percent: Some(
            Decimal::from_str_exact(&st.figures.penalty_percent).map_err(corrupt)?,
        ),
        credit: Some(Decimal::from_str_exact(&st.figures.credit).map_err(corrupt)?),
    });
    Ok(ev)
}

// ------------------------------------------------------------------- the job

/// The first instant of the month after `now`'s (Paris).
fn next_first(now: Timestamp) -> Option<Timestamp> {
    Some(Month::containing(now)?.next()?.start)
}

/// Enqueues the job at `at` (once per instant: the dedup key holds it).
pub async fn schedule(state: &AppState, at: Timestamp) -> anyhow::Result<()> {
    jobs::enqueue(
        state.store().writer(),
        jobs::NewJob {
            kind: JOB,
            payload: serde_json::json!({ "at": at.to_string() }),
            run_at: at,
            dedup_key: Some(format!("{JOB}:{}", at.as_millisecond())),
            max_attempts: 10,
        },
        state.now(),
    )
    .await?;
    Ok(())
}

/// At start: the run of this month's 1st (catching up, idempotent) and the
/// next 1st.
pub async fn schedule_runs(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    if let Some(m) = Month::containing(now) {
        schedule(state, m.start).await?;
    }
    if let Some(next) = next_first(now) {
        schedule(state, next).await?;
    }
    Ok(())
}

/// The job: computes the month before `now`'s, then schedules the next 1st.
pub async fn run_job(state: &AppState) -> ApiResult<RunReport> {
    let now = state.now();
    let month = Month::containing(now)
        .and_then(|m| m.previous())
        .ok_or_else(|| corrupt("no previous month"))?;
    let report = run(state, &month, &Actor::system(JOB, now), &mut |_| {}).await?;
    if let Some(next) = next_first(now) {
        schedule(state, next)
            .await
            .map_err(|e| Problem::internal().detail(e.to_string()))?;
    }
    Ok(report)
}

// ------------------------------------------------------------------- reads

/// A statement visible to `p` (a client user who sees services, or staff).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<StatementRow> {
    crate::services::require_viewer(p)?;
    Ok(statements::get(state.store().db(), &p.scope, id).await?)
}

/// Statements visible to `p`, newest first.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &statements::Filter,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<ciel_store::Page<StatementRow>> {
    crate::services::require_viewer(p)?;
    Ok(statements::list(state.store().db(), &p.scope, filter, cursor, limit).await?)
}

/// The statement and explanation documents of a row.
pub fn documents(st: &StatementRow) -> ApiResult<(Statement, ciel_engine::Explanation)> {
    Ok((
        serde_json::from_str(&st.figures.statement_json).map_err(corrupt)?,
        serde_json::from_str(&st.figures.explanation_json).map_err(corrupt)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The correction period: a statement of June stays open through July and
    /// freezes at 1 August 00:00 Paris (22:00 UTC the day before, CEST); one
    /// of December through January, at 1 February 00:00 (23:00 UTC, CET).
    #[test]
    fn correction_period_ends_with_the_following_month() {
        let june = Month::parse("2026-06", "month").unwrap();
        assert_eq!(
            correctable_until(&june, 1).unwrap(),
            "2026-07-31T22:00:00Z".parse::<Timestamp>().unwrap()
        );
        let december = Month::parse("2026-12", "month").unwrap();
        assert_eq!(
            correctable_until(&december, 1).unwrap(),
            "2027-01-31T23:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn the_job_of_the_1st_computes_the_month_before() {
        // 1 March 2026 00:00 Paris is 28 February 23:00 UTC.
        let at: Timestamp = "2026-02-28T23:00:00Z".parse().unwrap();
        let m = Month::containing(at).unwrap().previous().unwrap();
        assert_eq!(m.label, "2026-02");
        // The next run is on 1 April 00:00 Paris (CEST since 29 March).
        assert_eq!(
            next_first(at).unwrap(),
            "2026-03-31T22:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
