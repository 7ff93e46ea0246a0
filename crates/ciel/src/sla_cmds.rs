//! `ciel sla statements --month YYYY-MM` (the monthly statement job on
//! demand, with a progress bar) and `ciel bench statements` (issue 5's
//! target: the job over 50 000 services with a month of episodes, five a
//! service on average, under 30 s).

use ciel_domain::ManualClock;
use ciel_server::AppState;
use ciel_server::sla::evidence::Month;
use ciel_server::sla::statements;
use ciel_store::episodes::{self, NewEpisode};
use ciel_store::seed::{self, SeedService};
use ciel_store::{Actor, Scope, orgs};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Instant;

/// A progress bar of the commands and benchmarks.
pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:40}}] {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// A problem of a workflow as a command-line error.
pub(crate) fn problem(p: ciel_server::problem::Problem) -> anyhow::Error {
    anyhow::anyhow!(
        "{}{}",
        p.field.map(|f| format!("{f}: ")).unwrap_or_default(),
        p.detail.unwrap_or(p.code)
    )
}

/// Counts the services a month's run covers, for the progress bar.
async fn count(state: &AppState, month: &Month) -> anyhow::Result<u64> {
    let mut n = 0u64;
    let mut after: Option<String> = None;
    let last_day = month.last_day.to_string();
    loop {
        let page = ciel_store::sla::services_page(
            state.store().db(),
            &Scope::Staff,
            &last_day,
            after.as_deref(),
            10_000,
        )
        .await?;
        let Some(last) = page.last() else {
            return Ok(n);
        };
        after = Some(last.id.to_string());
        n += page.len() as u64;
    }
}

/// Runs the statement job for `month` (which must have ended).
pub async fn statements(state: &AppState, month: &str) -> anyhow::Result<()> {
    let m = Month::parse(month, "--month").map_err(problem)?;
    anyhow::ensure!(
        m.end <= state.now(),
        "--month: {month} has not ended yet (R5.1: a statement covers a whole calendar month)"
    );
    let pb = bar(count(state, &m).await?, "statements");
    let actor = Actor::system("ciel sla statements", state.now());
    let report = statements::run(state, &m, &actor, &mut |r| pb.set_position(r.services))
        .await
        .map_err(problem)?;
    pb.finish_and_clear();
    println!(
        "{}: {} statements computed, {} written, {} credits proposed; {} frozen (correction period over)",
        report.month, report.services, report.written, report.credits_proposed, report.frozen
    );
    Ok(())
}

/// The benchmark's month and the instant its job runs at (1 July 2026,
/// 00:00 Paris).
const BENCH_MONTH: &str = "2026-06";
const RUN_AT: &str = "2026-06-30T22:00:00Z";

/// A state for the benchmark, its clock at the run instant.
pub fn bench_state(store: ciel_store::Store, c: ciel_server::Config) -> anyhow::Result<AppState> {
    let clock = Arc::new(ManualClock::new(RUN_AT.parse()?));
    Ok(AppState::new(store, c, clock))
}

/// Seeds `count` provisioned Mono Site VMs over the demo clients, 1 000 per
/// order, each with 0 to 10 episodes of June 2026 (5 on average, 2 to 21
/// minutes each, every tenth excluded as a client fault), then times the
/// statement job, and runs it again (nothing changes).
pub async fn bench(state: &AppState, count: usize) -> anyhow::Result<()> {
    ciel_server::bootstrap::load_demo(state).await?;
    let now: Timestamp = RUN_AT.parse()?;
    let month = Month::parse(BENCH_MONTH, "month").map_err(problem)?;
    let terms = ciel_terms::embedded();
    let clients: Vec<_> = orgs::list(state.store().db(), &Scope::Staff, None, 200)
        .await?
        .items
        .into_iter()
        .filter(|o| o.kind == "client")
        .collect();
    anyhow::ensure!(
        !clients.is_empty(),
        "the demo data has client organisations"
    );
    let actor = Actor::system("bench", now);
    let mut tx = state.store().begin().await?;
    let list_id = ciel_store::catalog::new_list_id(now);
    ciel_store::catalog::insert(
        &mut tx,
        &actor,
        ciel_store::catalog::NewPriceList {
            id: list_id.clone(),
            name: "Bench".into(),
            effective_from: "2025-01-01".into(),
            prices_json: "{}".into(),
            notified_at: None,
        },
    )
    .await?;
    tx.commit().await?;

    // One provisioned state (5 January 2026, 12 months) shared by the VMs.
    let params = ciel_catalog::service::ServiceParams::from_terms(terms)?;
    let provisioned = ciel_catalog::service::apply(
        &ciel_catalog::service::ServiceState::ordered(12)?,
        &ciel_catalog::service::ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: vec![],
        },
        "2026-01-05T09:00:00Z".parse()?,
        &params,
    )?;
    let state_json = serde_json::to_string(&provisioned)?;
    let t = Instant::now();
    let pb = bar(count as u64, "seeding");
    let mut done = 0usize;
    let mut episodes_n = 0usize;
    while done < count {
        let n = 1000.min(count - done);
        let org = &clients[(done / 1000) % clients.len()];
        let batch: Vec<SeedService> = (done..done + n)
            .map(|i| SeedService {
                kind: "cloud_vm".into(),
                label: format!("cloud_vm #{i}"),
                item_json: r#"{"kind":"cloud_vm","vcpu":4,"ram_gb":16,"storage_gb":200,"class":"mono_site"}"#.into(),
                monthly_fee: "189.90".into(),
                commitment_months: 12,
                state: "provisioned",
                state_json: state_json.clone(),
                start_date: Some("2026-01-05".into()),
                term_last_day: Some("2027-01-04".into()),
                next_due_at: None,
            })
            .collect();
        let mut tx = state.store().begin().await?;
        let ids = seed::order_with_services(
            &mut tx,
            &org.id,
            list_id.as_str(),
            &terms.version.id,
            "2025-01-01",
            now,
            &batch,
        )
        .await?;
        let mut new = Vec::new();
        for (k, id) in ids.iter().enumerate() {
            let i = done + k;
            for j in 0..(i * 7 + 3) % 11 {
                let start = month
                    .start
                    .checked_add(SignedDuration::from_mins(
                        i64::try_from((i * 131 + j * 4003) % 43_000).unwrap_or(0),
                    ))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let end = start
                    .checked_add(SignedDuration::from_secs(
                        i64::try_from(120 + (i + j * 37) % 1140).unwrap_or(120),
                    ))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                new.push(NewEpisode {
                    kind: "cluster_connectivity".into(),
                    cluster_id: None,
                    service_id: Some(id.to_string()),
                    start,
                    end: Some(end),
                    impacts_service: true,
                    source: "bench".into(),
                    idempotency_key: format!("{id}:{j}"),
                    ticket_id: None,
                });
            }
        }
        episodes_n += new.len();
        episodes::insert_many(&mut tx, &actor, "episode.push", &new).await?;
        tx.commit().await?;
        done += n;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    println!(
        "seeded {count} services and {episodes_n} episodes in {:.2} s ({:?})",
        t.elapsed().as_secs_f64(),
        state.store().backend()
    );

    let t = Instant::now();
    let pb = bar(count as u64, "statements");
    let report = statements::run(state, &month, &actor, &mut |r| pb.set_position(r.services))
        .await
        .map_err(problem)?;
    pb.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "statement job {}: {} services in {secs:.2} s = {:.0} services/s; {} written, {} credits proposed",
        report.month,
        report.services,
        report.services as f64 / secs,
        report.written,
        report.credits_proposed
    );
    anyhow::ensure!(
        report.services == count as u64,
        "every service has a statement"
    );
    let t = Instant::now();
    let again = statements::run(state, &month, &actor, &mut |_| {})
        .await
        .map_err(problem)?;
    println!(
        "second run: {} services in {:.2} s, {} rows written (idempotent)",
        again.services,
        t.elapsed().as_secs_f64(),
        again.written
    );
    Ok(())
}
