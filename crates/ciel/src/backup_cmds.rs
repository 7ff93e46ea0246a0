//! `ciel bench backup-results` (issue 7's target: at least 20 000 backup
//! job results/s through the bulk API on SQLite): a real server on
//! loopback, `--services` backup services seeded, `--count` results pushed
//! over HTTP in bulk requests of `--batch` under their `Idempotency-Key`
//! (bodies serialised before the clock starts), one in `--failure-every`
//! a failure e-mailed to the client in the push's transaction (R9.5).

use ciel_server::backup::results::MAX_RESULTS;
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::time::Instant;

/// `ciel bench backup-results --count N --batch M`.
pub async fn bench_results(
    c: ciel_server::Config,
    count: usize,
    batch: usize,
    services: usize,
    failure_every: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_RESULTS).contains(&batch),
        "--batch: 1 to {MAX_RESULTS}"
    );
    anyhow::ensure!(services >= 1, "--services: at least 1");
    let b = crate::desk_cmds::start(c).await?;
    let item =
        r#"{"kind":"external_backup","storage_gb":500,"immutability":"P6M","recycle_bin":null}"#;
    let ids = crate::usage_cmds::seed_services(b.state(), services, "backup", item).await?;
    let now = b.state().now();
    // Result i: job i of service i % services, ended i seconds before now.
    let result = |i: usize| {
        let ended = now
            .checked_sub(SignedDuration::from_secs(i64::try_from(i).unwrap_or(0) + 1))
            .unwrap_or(now);
        let started = ended
            .checked_sub(SignedDuration::from_mins(20))
            .unwrap_or(ended);
        let failed = failure_every > 0 && i % failure_every == failure_every - 1;
        json!({"service_id": ids[i % ids.len()], "job_id": format!("job-{i}"),
               "started_at": started, "ended_at": ended,
               "status": if failed { "failure" } else { "success" },
               "message": if failed { "repository unreachable" } else { "" },
               "immutable": !failed && i.is_multiple_of(7)})
    };
    let raw: Vec<Vec<u8>> = (0..count)
        .step_by(batch)
        .map(|from| {
            let items: Vec<Value> = (from..(from + batch).min(count)).map(result).collect();
            serde_json::to_vec(&json!({ "results": items }))
        })
        .collect::<Result<_, _>>()?;
    let mb = raw.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    let t = Instant::now();
    let answers = crate::usage_cmds::post_batches(&b, "/api/v1/backup/results", &raw).await?;
    let sum = |k: &str| -> u64 { answers.iter().map(|v| v[k].as_u64().unwrap_or(0)).sum() };
    let (written, mailed) = (sum("written"), sum("failures_notified"));
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{written} backup job results ({services} services, {mailed} failures e-mailed, {mb:.0} MB of JSON) in {} bulk requests of {batch} in {secs:.2} s = {:.0} results/s ({:?})",
        raw.len(),
        written as f64 / secs,
        b.state().store().backend()
    );
    b.stop().await
}
