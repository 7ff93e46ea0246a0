//! `ciel services pass` (the daily pass on demand, with a progress bar) and
//! `ciel bench services` (issue 4's targets: the daily pass over 100 000
//! services on SQLite, and listing a client's 200 services).

use ciel_catalog::service::{self, Product, ServiceEvent, ServiceParams, ServiceState};
use ciel_domain::ManualClock;
use ciel_server::AppState;
use ciel_store::seed::{self, SeedService};
use ciel_store::users::User;
use ciel_store::{Actor, Scope, orgs, services, tokens, users};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Instant;

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:40}}] {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// Runs the daily pass now; prints what it did.
pub async fn pass(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let due = services::count_due(state.store().db(), now).await?;
    let pb = bar(u64::try_from(due).unwrap_or(0), "services");
    let report = ciel_server::services::run_pass_observed(state, now, &mut |r| {
        pb.set_position(r.services + r.retried);
    })
    .await
    .map_err(|p| anyhow::anyhow!("{}", p.detail.unwrap_or(p.code)))?;
    pb.finish_and_clear();
    println!(
        "{} services moved on ({} skipped, changed meanwhile); steps: {:?}",
        report.services, report.retried, report.steps
    );
    Ok(())
}

/// The instant the benchmark's pass runs at: 7 May 2026, midnight in Paris.
const PASS_AT: &str = "2026-05-06T22:00:00Z";

/// One seeded service, provisioned between January 2025 and April 2026 with
/// a commitment of 1, 12, 24 or 36 months: at the pass, every one has its
/// contest window to close, and the shorter ones their renewal too.
pub(crate) fn seeded(i: usize, params: &ServiceParams) -> anyhow::Result<SeedService> {
    let months = [1u32, 12, 24, 36][i % 4];
    let first: Timestamp = "2025-01-02T09:00:00Z".parse()?;
    let at = first
        .checked_add(SignedDuration::from_mins(
            i64::try_from(i % 480).unwrap_or(0) * 24 * 60 + 7,
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ordered = ServiceState::ordered(months)?;
    let event = ServiceEvent::Provision {
        planned_on: None,
        client_delay: false,
        products: if i.is_multiple_of(10) {
            vec![Product::new(
                format!("SRV-{i}"),
                rust_decimal::Decimal::new(90000, 2),
            )]
        } else {
            vec![]
        },
    };
    let st = service::apply(&ordered, &event, at, params)?;
    let s = st
        .service()
        .ok_or_else(|| anyhow::anyhow!("not provisioned"))?;
    Ok(SeedService {
        kind: "cloud_vm".into(),
        label: format!("cloud_vm (vcpu=4, ram_gb=16, storage_gb=200) #{i}"),
        item_json:
            r#"{"kind":"cloud_vm","vcpu":4,"ram_gb":16,"storage_gb":200,"class":"mono_site"}"#
                .into(),
        monthly_fee: "189.90".into(),
        commitment_months: i64::from(months),
        state: "provisioned",
        state_json: serde_json::to_string(&st)?,
        start_date: Some(s.start().to_string()),
        term_last_day: Some(s.term_last_day.to_string()),
        next_due_at: st.next_due_at(),
    })
}

async fn admin_of(state: &AppState, org: &str) -> anyhow::Result<User> {
    let page = users::list(state.store().db(), &Scope::Staff, org, None, 200).await?;
    page.items
        .into_iter()
        .find(|u| u.is_org_admin)
        .ok_or_else(|| anyhow::anyhow!("organisation {org} has no Administrator"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Seeds `count` services (the first client holding `list_size` of them),
/// runs the daily pass over all of them, runs it again (nothing due), times
/// the list of the first client's services, and prints an API token of
/// that client's Administrator for the HTTP measurement (bench/services.sh).
pub async fn bench(state: &AppState, count: usize, list_size: usize) -> anyhow::Result<()> {
    ciel_server::bootstrap::load_demo(state).await?;
    let now: Timestamp = PASS_AT.parse()?;
    let terms = ciel_terms::embedded();
    let params = ServiceParams::from_terms(terms)?;
    let mut clients: Vec<_> = orgs::list(state.store().db(), &Scope::Staff, None, 200)
        .await?
        .items
        .into_iter()
        .filter(|o| o.kind == "client")
        .collect();
    clients.sort_by(|a, b| a.name.cmp(&b.name));
    anyhow::ensure!(clients.len() >= 2, "the demo data has client organisations");
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

    let t = Instant::now();
    let pb = bar(count as u64, "seeding");
    let mut done = 0usize;
    while done < count {
        // The list client gets its services first, in one order.
        let (org, n) = if done < list_size {
            (&clients[0], list_size.min(count))
        } else {
            (
                &clients[1 + (done / 1000) % (clients.len() - 1)],
                1000.min(count - done),
            )
        };
        let batch = (done..done + n)
            .map(|i| seeded(i, &params))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut tx = state.store().begin().await?;
        seed::order_with_services(
            &mut tx,
            &org.id,
            list_id.as_str(),
            &terms.version.id,
            "2025-01-01",
            now,
            &batch,
        )
        .await?;
        tx.commit().await?;
        done += n;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    println!(
        "seeded {count} services in {:.2} s ({:?})",
        t.elapsed().as_secs_f64(),
        state.store().backend()
    );

    let due = services::count_due(state.store().db(), now).await?;
    let t = Instant::now();
    let pb = bar(u64::try_from(due).unwrap_or(0), "pass");
    let report = ciel_server::services::run_pass_observed(state, now, &mut |r| {
        pb.set_position(r.services + r.retried);
    })
    .await
    .map_err(|p| anyhow::anyhow!("{}", p.detail.unwrap_or(p.code)))?;
    pb.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "daily pass: {} services ({due} due) in {secs:.2} s = {:.0} services/s; steps {:?}",
        report.services,
        report.services as f64 / secs,
        report.steps
    );
    anyhow::ensure!(
        report.services == u64::try_from(due).unwrap_or(0),
        "every due service moved on"
    );
    let t = Instant::now();
    let again = ciel_server::services::run_pass(state, now)
        .await
        .map_err(|p| anyhow::anyhow!("{}", p.detail.unwrap_or(p.code)))?;
    println!(
        "second pass at the same instant: {} services in {:.1} ms (idempotent)",
        again.services,
        t.elapsed().as_secs_f64() * 1000.0
    );

    // The list of the first client's services, as the API builds it.
    let org = &clients[0];
    let admin = admin_of(state, org.id.as_str()).await?;
    let scope = Scope::Org(org.id.clone());
    let mut samples = Vec::with_capacity(1000);
    let limit = i64::try_from(list_size.clamp(1, 200)).unwrap_or(200);
    for _ in 0..1000 {
        let t = Instant::now();
        let page = services::list(state.store().db(), &scope, org.id.as_str(), None, limit).await?;
        let views = page
            .items
            .into_iter()
            .map(|r| ciel_server::api::services::view(r, now))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|p| anyhow::anyhow!("{}", p.code))?;
        let body = serde_json::to_vec(&views)?;
        std::hint::black_box(body);
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "list of {limit} services (store + views + JSON, in process, 1000 runs): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&samples, 50.0),
        percentile(&samples, 99.0)
    );
    let mut tx = state.store().begin().await?;
    let (_, secret) = tokens::create(&mut tx, &actor, &admin.id, &org.id, "bench").await?;
    tx.commit().await?;
    println!("BENCH_ORG={} BENCH_TOKEN={secret}", org.id);
    Ok(())
}

/// A state for the benchmark, its clock stopped at the pass instant.
pub fn bench_state(store: ciel_store::Store, c: ciel_server::Config) -> anyhow::Result<AppState> {
    let clock = Arc::new(ManualClock::new(PASS_AT.parse()?));
    Ok(AppState::new(store, c, clock))
}
