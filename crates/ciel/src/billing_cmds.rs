//! `ciel billing run --period YYYY-MM` (the month's billing run on demand,
//! with a progress bar; running it again continues or finishes the same
//! run) and `ciel bench billing` (issue 6's target: 10 000 clients with 5
//! services each, invoices with their Factur-X PDFs, under 60 s).

use crate::sla_cmds::{bar, problem};
use ciel_domain::{Id, ManualClock};
use ciel_server::AppState;
use ciel_server::billing::{Period, run};
use ciel_store::charges::{self, NewCharge};
use ciel_store::clients::{self, CompanyIds, Mandate, Profile};
use ciel_store::seed::{self, SeedService};
use ciel_store::{Actor, Scope, orgs};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Instant;

/// Starts (or resumes) the run of `period` and processes its pending
/// items here, with a progress bar; prints the failed clients.
/// `ciel billing fec`: writes the period's FEC file into `output`.
pub async fn fec(
    state: &AppState,
    from: &str,
    to: &str,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let day = |flag: &str, v: &str| {
        v.parse::<jiff::civil::Date>()
            .map_err(|_| anyhow::anyhow!("{flag}: expected a day, YYYY-MM-DD"))
    };
    let file = ciel_server::accounting::books(state, day("--from", from)?, day("--to", to)?)
        .await
        .map_err(problem)?;
    let path = output.join(&file.file_name);
    std::fs::write(&path, &file.text)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    println!("{}: {} lines", path.display(), file.lines);
    Ok(())
}

pub async fn run(state: &AppState, period: &str) -> anyhow::Result<()> {
    let p = Period::parse(period, "--period").map_err(problem)?;
    let actor = Actor::system("ciel billing run", state.now());
    let (started, created) = run::start(state, &actor, &p, false)
        .await
        .map_err(problem)?;
    let before =
        ciel_store::billing_runs::progress(state.store().db(), started.id.as_str()).await?;
    println!(
        "{} run {} of {}: {} clients, {} left",
        if created { "new" } else { "resumed" },
        started.id,
        p.label,
        before.total(),
        before.pending
    );
    let pb = bar(before.total() as u64, "invoices");
    pb.set_position((before.total() - before.pending) as u64);
    let done = run::process(state, started.id.as_str(), &actor, &mut |pr| {
        pb.set_position((pr.total() - pr.pending) as u64)
    })
    .await
    .map_err(problem)?;
    pb.finish_and_clear();
    let pr = ciel_store::billing_runs::progress(state.store().db(), done.id.as_str()).await?;
    println!(
        "{}: {} invoices ({} EUR incl. VAT), {} with nothing to bill, {} failed",
        done.period, pr.invoiced, done.amount, pr.empty, pr.failed
    );
    for i in
        ciel_store::billing_runs::items(state.store().db(), done.id.as_str(), Some("failed"), 20)
            .await?
    {
        println!("  failed {}: {}", i.org_id, i.error.unwrap_or_default());
    }
    Ok(())
}

/// The benchmark's run instant: 1 June 2026, 10:00 Paris.
const RUN_AT: &str = "2026-06-01T08:00:00Z";

/// A state for the benchmark, its clock at the run instant.
pub fn bench_state(store: ciel_store::Store, c: ciel_server::Config) -> anyhow::Result<AppState> {
    let clock = Arc::new(ManualClock::new(RUN_AT.parse()?));
    Ok(AppState::new(store, c, clock))
}

/// A SIREN whose Luhn key holds, from a number.
fn siren(n: usize) -> String {
    let base = format!("{:08}", 10_000_000 + n % 89_999_999);
    (0..10)
        .map(|k| format!("{base}{k}"))
        .find(|s| {
            let sum: u32 = s
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u32::from(b - b'0');
                    if i % 2 == 1 {
                        let x = d * 2;
                        if x > 9 { x - 9 } else { x }
                    } else {
                        d
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        })
        .unwrap_or_else(|| format!("{base}0"))
}

/// Seeds `count` clients with a valid profile and SEPA mandate, 5 services
/// each provisioned on 10 May 2026 (a pro-rata of May and June in advance)
/// and one charge of May, then times the run of June 2026, and runs it
/// again (nothing new).
pub async fn bench(state: &AppState, count: usize) -> anyhow::Result<()> {
    ciel_server::bootstrap::load_demo(state).await?;
    let now: Timestamp = RUN_AT.parse()?;
    let terms = ciel_terms::embedded();
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
    let params = ciel_catalog::service::ServiceParams::from_terms(terms)?;
    let provisioned = ciel_catalog::service::apply(
        &ciel_catalog::service::ServiceState::ordered(12)?,
        &ciel_catalog::service::ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: vec![],
        },
        "2026-05-10T08:00:00Z".parse()?,
        &params,
    )?;
    let state_json = serde_json::to_string(&provisioned)?;
    let t = Instant::now();
    let pb = bar(count as u64, "seeding");
    let per_tx = 200;
    let mut done = 0;
    while done < count {
        let n = per_tx.min(count - done);
        let mut tx = state.store().begin().await?;
        for i in done..done + n {
            let siren = siren(i);
            let org = orgs::create(
                &mut tx,
                &actor,
                orgs::NewOrg {
                    kind: "client",
                    name: format!("Client {i} SAS"),
                    siren: Some(siren.clone()),
                    vat_number: None,
                    address: "1 rue du Banc, 69002 Lyon".into(),
                },
            )
            .await?;
            clients::put(
                &mut tx,
                &actor,
                &Scope::Staff,
                CompanyIds {
                    siren: Some(siren),
                    vat_number: None,
                },
                Profile {
                    org_id: org.id.clone(),
                    siret: None,
                    billing_email: format!("compta{i}@client.example"),
                    street_name: "rue du Banc".into(),
                    building_number: Some("1".into()),
                    post_code: "69002".into(),
                    town: "Lyon".into(),
                    country: "FR".into(),
                    vat_regime: "standard".into(),
                    vat_rate: "20".into(),
                    vat_mention: None,
                    mandate: Some(Mandate {
                        reference: format!("RUM-BENCH-{i:06}"),
                        iban: "FR7630006000011234567890189".into(),
                        bic: Some("AGRIFRPP".into()),
                        signed_on: "2026-01-05".into(),
                        scheme: "core".into(),
                    }),
                    updated_at: now,
                },
            )
            .await?;
            let batch: Vec<SeedService> = (0..5)
                .map(|k| SeedService {
                    kind: "cloud_vm".into(),
                    label: format!("cloud_vm #{i}-{k}"),
                    item_json: r#"{"kind":"cloud_vm","vcpu":4,"ram_gb":16,"storage_gb":200,"class":"mono_site"}"#.into(),
                    monthly_fee: "189.90".into(),
                    commitment_months: 12,
                    state: "provisioned",
                    state_json: state_json.clone(),
                    start_date: Some("2026-05-10".into()),
                    term_last_day: Some("2027-05-09".into()),
                    next_due_at: None,
                })
                .collect();
            seed::order_with_services(
                &mut tx,
                &org.id,
                list_id.as_str(),
                &terms.version.id,
                "2026-05-01",
                now,
                &batch,
            )
            .await?;
            charges::hand_over(
                &mut tx,
                &actor,
                NewCharge {
                    org_id: Id::from_raw(org.id.to_string()),
                    source_kind: "ticket",
                    source_id: format!("bench-{i}"),
                    charge_key: "fee".into(),
                    rule: "R4.5".into(),
                    label: "Ticket facturable / Billable ticket".into(),
                    amount: "45.00".into(),
                    explanation_json: "{\"steps\":[]}".into(),
                    occurred_at: "2026-05-20T10:00:00Z".parse()?,
                },
            )
            .await?;
        }
        tx.commit().await?;
        done += n;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    println!(
        "seeded {count} clients, {} services in {:.2} s ({:?})",
        count * 5,
        t.elapsed().as_secs_f64(),
        state.store().backend()
    );
    let t = Instant::now();
    run(state, "2026-06").await?;
    let secs = t.elapsed().as_secs_f64();
    let db = state.store().db();
    let page = ciel_store::billing_runs::list(db, None, 1).await?;
    let r = page
        .items
        .first()
        .ok_or_else(|| anyhow::anyhow!("no run"))?;
    println!(
        "billing run {}: {} invoices with their PDFs in {secs:.2} s = {:.0} invoices/s",
        r.period,
        r.invoices,
        r.invoices as f64 / secs
    );
    let t = Instant::now();
    run(state, "2026-06").await?;
    println!(
        "second run: {:.2} s, nothing written (idempotent)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
