//! `ciel usage import|close` and the usage benchmarks (issue 6's targets):
//!
//! - `ciel bench usage`: a real server on loopback; colocation services
//!   seeded; `--count` bandwidth readings pushed over HTTP in bulk requests
//!   of `--batch` (bodies serialised before the clock starts); readings/s.
//! - `ciel bench p95`: `--ports` ports × `--days` days of 5-minute readings
//!   stored through the ingestion's store path (packed days), then the
//!   month's R2.8 percentile of every port computed in Rust (days streamed
//!   by groups of ports, `select_nth_unstable`), and on PostgreSQL
//!   `percentile_disc(0.95)` on the same readings one row each (the plain
//!   design), compared port by port. The readings are deleted at the end
//!   (`TRUNCATE` on PostgreSQL).

use ciel_server::AppState;
use ciel_server::usage::{self as usage_srv, Kind};
use ciel_store::{Actor, Backend, Scope, orgs, seed, usage};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::time::Instant;

/// `ciel usage import --kind K FILE`: refused whole at the first bad line.
pub async fn import(state: &AppState, kind: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let kind = Kind::parse(kind)
        .ok_or_else(|| anyhow::anyhow!("--kind: bandwidth, power, storage or traffic"))?;
    let text = std::fs::read_to_string(file)?;
    let actor = Actor::system("ciel usage import", state.now());
    match usage_srv::import(state, &actor, kind, &text).await {
        Ok(r) => {
            println!(
                "{}: {} readings, {} written, {} already known",
                r.kind, r.received, r.written, r.already_known
            );
            Ok(())
        }
        Err(p) => anyhow::bail!(
            "refused, nothing written: {} ({})",
            p.detail.unwrap_or(p.code),
            p.field.unwrap_or_default()
        ),
    }
}

/// `ciel usage close --month YYYY-MM`: the month's usage charges, once.
pub async fn close(state: &AppState, month: &str) -> anyhow::Result<()> {
    let (y, m) = ciel_engine::evidence::parse_month(month)
        .map_err(|_| anyhow::anyhow!("--month: YYYY-MM"))?;
    let r = usage_srv::close::close_month(state, y, m)
        .await
        .map_err(|p| anyhow::anyhow!("{}", p.detail.unwrap_or(p.code)))?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(())
}

/// `ciel bench usage --count N --batch M`: bulk ingestion over HTTP.
pub async fn bench_ingest(
    c: ciel_server::Config,
    count: usize,
    batch: usize,
    ports: usize,
    by_port: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=usage_srv::MAX_READINGS).contains(&batch),
        "--batch: 1 to {}",
        usage_srv::MAX_READINGS
    );
    let b = crate::desk_cmds::start(c).await?;
    let services = colocation(b.state(), ports.div_ceil(10)).await?;
    let now = b.state().now();
    let per_port = count.div_ceil(ports.max(1));
    // Readings of port p at slot k: k 5-minute slots before now.
    let reading = |i: usize| {
        let (p, k) = if by_port {
            (i / per_port, i % per_port)
        } else {
            (i % ports, i / ports)
        };
        let at = now
            .checked_sub(SignedDuration::from_mins(
                5 * i64::try_from(k + 1).unwrap_or(0),
            ))
            .unwrap_or(now);
        json!({"service_id": services[p % services.len()], "port": format!("xe-{}", p / services.len()),
               "at": at, "in_bps": (i * 7919) % 10_000_000_000, "out_bps": (i * 104_729) % 10_000_000_000})
    };
    let raw: Vec<Vec<u8>> = (0..count)
        .step_by(batch)
        .map(|from| {
            let items: Vec<Value> = (from..(from + batch).min(count)).map(reading).collect();
            serde_json::to_vec(&json!({ "readings": items }))
        })
        .collect::<Result<_, _>>()?;
    let mb = raw.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    let t = Instant::now();
    let answers = post_batches(&b, "/api/v1/usage/bandwidth", &raw).await?;
    let written: u64 = answers
        .iter()
        .map(|v| v["written"].as_u64().unwrap_or(0))
        .sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{written} bandwidth readings ({ports} ports × {per_port} slots, {}, {mb:.0} MB of JSON) in {} bulk requests of {batch} in {secs:.2} s = {:.0} readings/s ({:?})",
        if by_port {
            "port by port"
        } else {
            "in time order"
        },
        raw.len(),
        written as f64 / secs,
        b.state().store().backend()
    );
    b.stop().await
}

/// Posts each body to `path` with its own `Idempotency-Key` and a staff
/// token, one after the other, as a metering platform does; each must be
/// answered 201. The answers, in order.
pub async fn post_batches(
    b: &crate::desk_cmds::Bench,
    path: &str,
    raw: &[Vec<u8>],
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(raw.len());
    for (n, body) in raw.iter().enumerate() {
        let r = b
            .http
            .post(format!("{}{path}", b.base))
            .bearer_auth(&b.token)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("bench-{n}"))
            .body(body.clone())
            .send()
            .await?;
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == 201, "batch {n}: {status} {v}");
        out.push(v);
    }
    Ok(out)
}

/// `count` colocation services of the first demo client, seeded in the store.
async fn colocation(state: &AppState, count: usize) -> anyhow::Result<Vec<String>> {
    let item = r#"{"kind":"colocation","datacenter":"PA3","emplacement":"bench","rack_units":4,"power_kva":"2","max_amperage_a":"16","bandwidth_flat_mbps":100,"overage_price_per_mbps":"3.50"}"#;
    seed_services(state, count, "colocation", item).await
}

/// `count` services of one item kind (`kind`, `item_json`) of the first
/// demo client, seeded in the store in one order.
pub async fn seed_services(
    state: &AppState,
    count: usize,
    kind: &str,
    item: &str,
) -> anyhow::Result<Vec<String>> {
    let now = state.now();
    let terms = ciel_terms::embedded();
    let params = ciel_catalog::service::ServiceParams::from_terms(terms)?;
    let org = orgs::list(state.store().db(), &Scope::Staff, None, 200)
        .await?
        .items
        .into_iter()
        .find(|o| o.kind == "client")
        .ok_or_else(|| anyhow::anyhow!("no client organisation"))?;
    let batch = (0..count)
        .map(|i| {
            let mut s = crate::service_cmds::seeded(i, &params)?;
            s.kind = kind.into();
            s.label = format!("{kind} bench #{i}");
            s.item_json = item.into();
            Ok(s)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
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
    tx.commit().await?;
    Ok(ids.into_iter().map(|i| i.to_string()).collect())
}

/// `ciel bench p95 --ports N --days D`: the R2.8 percentile of every port
/// in Rust, and `percentile_disc(0.95)` on PostgreSQL, on the same rows.
pub async fn bench_p95(store: ciel_store::Store, ports: i64, days: i64) -> anyhow::Result<()> {
    // 1 May 2026, 00:00 Paris.
    let from: Timestamp = "2026-04-30T22:00:00Z".parse()?;
    let to = from.checked_add(SignedDuration::from_hours(24 * days))?;
    let slots = days * 24 * 12;
    usage::purge_bandwidth(&store).await?;
    let pb = indicatif::ProgressBar::new(u64::try_from(ports).unwrap_or(0));
    let t = Instant::now();
    let n = usage::generate_bench_readings(&store, ports, from, slots, |done| {
        pb.set_position(u64::try_from(done).unwrap_or(0));
    })
    .await?;
    pb.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "stored {n} readings ({ports} ports × {slots}) through the ingestion path in {secs:.1} s = {:.0} readings/s ({:?})",
        n as f64 / secs,
        store.backend()
    );
    if store.backend() == Backend::Postgres {
        let t = Instant::now();
        let flat = usage::generate_flat_readings(&store, ports, from, slots).await?;
        ciel_store::usage::analyze_flat(&store).await?;
        println!(
            "the same {flat} readings one row each (for percentile_disc) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let five = Decimal::from(5);
    let nums: Vec<i64> = (1..=ports).collect();
    let t = Instant::now();
    let found =
        usage_srv::close::port_percentiles(&store, &nums, from, to, &|_| five, Decimal::ONE)
            .await
            .map_err(|p| anyhow::anyhow!("{}", p.detail.unwrap_or(p.code)))?;
    let rust = t.elapsed().as_secs_f64();
    // (port, in, out), as percentile_disc answers.
    let ours: Vec<(i64, Decimal, Decimal)> = found
        .iter()
        .map(|(p, up, down)| {
            (
                *p,
                down.value.unwrap_or_default(),
                up.value.unwrap_or_default(),
            )
        })
        .collect();
    println!(
        "ciel (R2.8, packed days read on 2 connections, select_nth_unstable): {} ports, {} readings, in {rust:.2} s end to end",
        ours.len(),
        found.iter().map(|(_, u, _)| u.readings).sum::<usize>()
    );
    if store.backend() == Backend::Postgres {
        let t = Instant::now();
        let theirs = usage::percentile_disc(&store, "0.95", from, to).await?;
        let pg = t.elapsed().as_secs_f64();
        let differ = ours
            .iter()
            .zip(&theirs)
            .filter(|((p, a, b), (q, i, o))| {
                p != q || *a != Decimal::from(*i) || *b != Decimal::from(*o)
            })
            .count();
        println!(
            "PostgreSQL percentile_disc(0.95): {} ports in {pg:.2} s; ratio PostgreSQL / Rust end to end = {:.2}; ports whose figures differ: {differ}",
            theirs.len(),
            pg / rust
        );
    }
    usage::purge_bandwidth(&store).await?;
    Ok(())
}
