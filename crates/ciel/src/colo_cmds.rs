//! `ciel bench access` (issue 7's target: an access check under 5 ms at
//! p99 with 10 000 badges and 100 000 past requests). A real server on
//! loopback with the demo data; the store is seeded with 10 000 declared
//! people of one client each holding a badge at PA3, Toulouse or Dijon, and
//! 100 000 past approved MLB requests (two hours each, one an hour back
//! from now), plus prevention plans at MLB, Toulouse and Dijon. Then it
//! times `--runs` checks of random people at random sites through the
//! store and the rules (`colo::access::check_as`, the work of the API
//! without HTTP), and `--runs` `GET /api/v1/colocation/access-check` over
//! HTTP with a staff token.

use crate::desk_cmds::{self, percentile};
use ciel_server::colo::access::{self, Visitor};
use ciel_store::{Actor, Scope, colo_access, orgs};
use std::time::Instant;

pub async fn bench_access(
    c: ciel_server::Config,
    badges: usize,
    requests: usize,
    runs: usize,
) -> anyhow::Result<()> {
    let b = desk_cmds::start(c).await?;
    let state = b.state().clone();
    let now = state.now();
    let client = orgs::list(state.store().db(), &Scope::Staff, None, 200)
        .await?
        .items
        .into_iter()
        .find(|o| o.kind == "client")
        .ok_or_else(|| anyhow::anyhow!("the demo data has a client organisation"))?;
    let t = Instant::now();
    let mut tx = state.store().begin().await?;
    let people = colo_access::seed_bench(
        &mut tx,
        &client.id,
        now,
        badges,
        &["PA3", "TLS", "DIJ"],
        requests,
        "MLB",
    )
    .await?;
    let actor = Actor::system("bench", now);
    for site in ["MLB", "TLS", "DIJ"] {
        colo_access::sign_plan(&mut tx, &actor, &client.id, site, now, "bench", "bench").await?;
    }
    tx.commit().await?;
    println!(
        "seeded {badges} people with badges and {requests} past requests in {:.1} s ({:?})",
        t.elapsed().as_secs_f64(),
        state.store().backend()
    );
    anyhow::ensure!(!people.is_empty(), "--badges must be positive");
    let sites = ["MLB", "PA3", "TLS", "DIJ"];
    // A small deterministic generator: the same people every run.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut samples = Vec::with_capacity(runs);
    let mut allowed = 0;
    for i in 0..runs + 20 {
        let person = &people[usize::try_from(next()).unwrap_or(0) % people.len()];
        let site = sites[usize::try_from(next()).unwrap_or(0) % sites.len()];
        let t = Instant::now();
        let a = access::check_as(
            &state,
            &Scope::Staff,
            &Visitor::Person(person.clone()),
            site,
            None,
        )
        .await
        .map_err(|p| anyhow::anyhow!("check: {}", p.detail.unwrap_or(p.code)))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= 20 {
            samples.push(ms);
            allowed += usize::from(a.allowed);
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "access check, store + rules: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {runs} checks ({allowed} allowed)",
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        samples.last().copied().unwrap_or_default()
    );
    let path = format!(
        "/api/v1/colocation/access-check?site=TLS&person_id={}",
        people[0]
    );
    let (s, bytes) = b.time_get(&path, runs, false).await?;
    println!(
        "access check over HTTP (GET, JSON): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {runs} requests ({bytes} bytes)",
        percentile(&s, 50.0),
        percentile(&s, 99.0),
        s.last().copied().unwrap_or_default()
    );
    b.stop().await
}
