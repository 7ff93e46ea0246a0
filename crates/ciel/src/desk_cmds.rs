//! `ciel bench tickets` and `ciel bench episodes` (issue 5's targets): a
//! real server on loopback, driven over HTTP by a reqwest client, as the
//! back office and monitoring use it.
//!
//! - tickets: seeds `--open` open tickets through the API (staff opening
//!   them from calls back-dated over the last days, a mix of criticalities,
//!   complete and incomplete notifications, so the queue holds breached,
//!   running and suspended clocks), then times `GET /back-office/tickets`
//!   (the HTML queue, first page) and `GET /api/v1/tickets` (p50/p99).
//! - episodes: pushes `--count` episodes in bulk batches (`--batch`, at
//!   most 10 000) to `POST /api/v1/episodes/bulk` and reports episodes/s.

use ciel_domain::ManualClock;
use ciel_server::AppState;
use ciel_store::{Actor, Scope, orgs, seed, sessions, tokens, users};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// The four episode kinds of R5.2, pushed in turn.
const KINDS: [&str; 4] = [
    "cluster_connectivity",
    "vm_storage_access",
    "vcenter",
    "nsx_manager",
];

/// The instant the benchmarks run at: Thursday 7 May 2026, 10:00 Paris.
const NOW: &str = "2026-05-07T08:00:00Z";

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A started server with the demo data, its clock stopped at [`NOW`], and
/// a staff API token and session secret.
pub(crate) struct Bench {
    running: ciel_server::serve::Running,
    pub(crate) base: String,
    pub(crate) token: String,
    session: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) async fn start(mut c: ciel_server::Config) -> anyhow::Result<Bench> {
    c.server.listen = "127.0.0.1:0".parse()?;
    c.jobs.workers = 0;
    let store = ciel_server::serve::open_store(&c).await?;
    let clock = Arc::new(ManualClock::new(NOW.parse()?));
    let running = ciel_server::serve::start_with_store(c, clock, store).await?;
    let state = running.state.clone();
    ciel_server::bootstrap::load_demo(&state).await?;
    let now = state.now();
    let provider = orgs::provider(state.store().db())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no provider organisation"))?;
    let staff = users::list(
        state.store().db(),
        &Scope::Staff,
        provider.id.as_str(),
        None,
        200,
    )
    .await?
    .items
    .into_iter()
    .find(|u| u.staff_role == Some(ciel_domain::StaffRole::Admin))
    .ok_or_else(|| anyhow::anyhow!("no staff administrator"))?;
    let actor = Actor::system("bench", now);
    let mut tx = state.store().begin().await?;
    let (_, token) = tokens::create(&mut tx, &actor, &staff.id, &provider.id, "bench").await?;
    tx.commit().await?;
    let session = sessions::create(
        state.store().db(),
        &staff.id,
        now,
        now.checked_add(SignedDuration::from_hours(24))?,
    )
    .await?;
    Ok(Bench {
        base: format!("http://{}", running.addr),
        running,
        token,
        session,
        http: reqwest::Client::builder().build()?,
    })
}

impl Bench {
    pub(crate) fn state(&self) -> &AppState {
        &self.running.state
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
        extra: &[(&str, String)],
    ) -> anyhow::Result<(u16, Value)> {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        for (k, v) in extra {
            r = r.header(*k, v);
        }
        let r = r.send().await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// Times `n` GETs of `path` (after 10 warm-up ones), in milliseconds.
    pub(crate) async fn time_get(
        &self,
        path: &str,
        n: usize,
        cookie: bool,
    ) -> anyhow::Result<(Vec<f64>, usize)> {
        let mut samples = Vec::with_capacity(n);
        let mut bytes = 0;
        for i in 0..n + 10 {
            let mut r = self.http.get(format!("{}{path}", self.base));
            r = if cookie {
                r.header("cookie", format!("ciel_session={}", self.session))
            } else {
                r.bearer_auth(&self.token)
            };
            let t = Instant::now();
            let resp = r.send().await?;
            anyhow::ensure!(resp.status().is_success(), "GET {path}: {}", resp.status());
            let body = resp.bytes().await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if i >= 10 {
                samples.push(ms);
                bytes = body.len();
            }
        }
        samples.sort_by(f64::total_cmp);
        Ok((samples, bytes))
    }

    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await
    }
}

/// The demo's client organisations, each given one validated order of
/// `per_org` cloud services (seeded in the store, as `ciel bench services`).
async fn services(state: &AppState, per_org: usize) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let now = state.now();
    let terms = ciel_terms::embedded();
    let params = ciel_catalog::service::ServiceParams::from_terms(terms)?;
    let clients: Vec<_> = orgs::list(state.store().db(), &Scope::Staff, None, 200)
        .await?
        .items
        .into_iter()
        .filter(|o| o.kind == "client")
        .collect();
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
    let mut out = Vec::new();
    for (n, org) in clients.iter().enumerate() {
        let batch = (0..per_org)
            .map(|i| crate::service_cmds::seeded(n * per_org + i, &params))
            .collect::<anyhow::Result<Vec<_>>>()?;
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
        out.push((
            org.id.to_string(),
            ids.into_iter().map(|i| i.to_string()).collect(),
        ));
    }
    tx.commit().await?;
    Ok(out)
}

/// `ciel bench tickets --open N`: the back-office queue with N open tickets.
pub async fn bench_tickets(c: ciel_server::Config, open: usize, runs: usize) -> anyhow::Result<()> {
    let b = start(c).await?;
    let orgs = services(b.state(), 20).await?;
    anyhow::ensure!(!orgs.is_empty(), "the demo data has client organisations");
    let now: Timestamp = NOW.parse()?;
    let t = Instant::now();
    let pb = indicatif::ProgressBar::new(open as u64);
    for i in 0..open {
        let (org, svcs) = &orgs[i % orgs.len()];
        // Calls over the last 72 hours, one every ~26 s.
        let at = now.checked_sub(SignedDuration::from_secs(
            i64::try_from(i).unwrap_or(0) * 259_200 / i64::try_from(open.max(1)).unwrap_or(1),
        ))?;
        let criticality = ["C1", "C2", "C3", "C4"][i % 4];
        let mut body = json!({
            "service_ids": [svcs[i % svcs.len()]],
            "criticality": criticality,
            "description": format!("Incident {i}"),
            "caller": "Jeanne Martin", "caller_authorisation": "administratrice",
            "sites": "PAR1", "service_type": "cloud", "consequences": "VM injoignables",
        });
        // One ticket in five is incomplete: its clocks are suspended.
        if i % 5 != 0 {
            body["contact"] = json!("noc@client.example");
        }
        let (status, v) = b
            .post(
                &format!("/api/v1/organizations/{org}/tickets"),
                &body,
                &[("ciel-occurred-at", at.to_string())],
            )
            .await?;
        anyhow::ensure!(status == 201, "opening ticket {i}: {status} {v}");
        pb.inc(1);
    }
    pb.finish_and_clear();
    println!(
        "opened {open} tickets through the API in {:.1} s ({:?})",
        t.elapsed().as_secs_f64(),
        b.state().store().backend()
    );
    for (what, path, cookie) in [
        (
            "back-office queue page (HTML, 50 tickets)",
            "/back-office/tickets",
            true,
        ),
        (
            "back-office queue, filtered (premium/standard P2 open)",
            "/back-office/tickets?level=standard&priority=P2&state=open",
            true,
        ),
        (
            "API queue (JSON, 50 tickets)",
            "/api/v1/tickets?per_page=50",
            false,
        ),
    ] {
        let (s, bytes) = b.time_get(path, runs, cookie).await?;
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {runs} requests ({bytes} bytes)",
            percentile(&s, 50.0),
            percentile(&s, 99.0),
            s.last().copied().unwrap_or(0.0)
        );
    }
    b.stop().await
}

/// `ciel bench episodes --count N --batch M`: bulk ingestion over HTTP.
pub async fn bench_episodes(
    c: ciel_server::Config,
    count: usize,
    batch: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=ciel_server::episodes::MAX_BULK).contains(&batch),
        "--batch: 1 to {}",
        ciel_server::episodes::MAX_BULK
    );
    let b = start(c).await?;
    let orgs = services(b.state(), 50).await?;
    let svcs: Vec<&String> = orgs.iter().flat_map(|(_, s)| s).collect();
    anyhow::ensure!(!svcs.is_empty(), "services to report on");
    let first: Timestamp = "2026-04-01T00:00:00Z".parse()?;
    // Bodies built and serialised before the clock starts: the server's
    // work is timed, not the client's JSON encoding.
    let bodies: Vec<Value> = (0..count)
        .step_by(batch)
        .map(|from| {
            let items: Vec<Value> = (from..(from + batch).min(count))
                .map(|i| {
                    let kind = KINDS[i % 4];
                    let start = first
                        .checked_add(SignedDuration::from_secs(
                            i64::try_from(i).unwrap_or(0) * 60,
                        ))
                        .unwrap_or(first);
                    let end = start
                        .checked_add(SignedDuration::from_secs(300))
                        .unwrap_or(start);
                    json!({"kind": kind,
                        "service_id": svcs[i % svcs.len()], "start": start, "end": end,
                        "source": "bench", "key": format!("b{i}")})
                })
                .collect();
            json!({"episodes": items})
        })
        .collect();
    let raw: Vec<Vec<u8>> = bodies
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<_, _>>()?;
    let t = Instant::now();
    let mut written = 0u64;
    let mut per_batch = Vec::with_capacity(bodies.len());
    for (n, body) in raw.iter().enumerate() {
        let tb = Instant::now();
        let r = b
            .http
            .post(format!("{}/api/v1/episodes/bulk", b.base))
            .bearer_auth(&b.token)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("bench-{n}"))
            .body(body.clone())
            .send()
            .await?;
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == 201, "batch {n}: {status} {v}");
        written += v["created"].as_u64().unwrap_or(0);
        per_batch.push(tb.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = t.elapsed().as_secs_f64();
    per_batch.sort_by(f64::total_cmp);
    println!(
        "{written} episodes in {} bulk requests of {batch} in {secs:.2} s = {:.0} episodes/s ({:?}); per request p50 {:.1} ms, p99 {:.1} ms",
        bodies.len(),
        written as f64 / secs,
        b.state().store().backend(),
        percentile(&per_batch, 50.0),
        percentile(&per_batch, 99.0)
    );
    // A replay of the first batch answers the stored answer.
    let t = Instant::now();
    let (status, _) = b
        .post(
            "/api/v1/episodes/bulk",
            &bodies[0],
            &[("idempotency-key", "bench-0".to_owned())],
        )
        .await?;
    println!(
        "replay of the first batch: {status} in {:.1} ms (idempotent, nothing written)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    b.stop().await
}
