//! Usage readings (issue 6, item 2): bandwidth per colocation port (R2.8),
//! power per emplacement (R11.5), backup/PRA storage (R2.9) and bytes
//! exchanged (R3.5), and the month-end outcomes written from them.
//!
//! Readings are provider data (the meters' observations): staff and
//! platform tokens write them; a client reads those of its own services
//! through the [`Scope`] (ports carry their organisation). Bandwidth is the
//! volume (89 million readings a month at 10 000 ports): packed by port and
//! Paris day in [`crate::bandwidth`], the first reading of a slot kept so a
//! replayed reading is stored once.

use crate::audit::{self, Actor, Change};
use crate::sql::Sql;
use crate::{Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use std::collections::HashMap;

/// Rows of the other readings per INSERT statement (3 or 4 bound values).
const ROWS_PER_STATEMENT: usize = 200;

/// A colocation port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The compact key of its readings.
    pub num: i64,
    pub org_id: Id,
    pub service_id: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// One bandwidth reading: port, slot start (UTC ms), in and out bits/s.
pub use crate::bandwidth::Reading as Bandwidth;

/// One reading of a service: power (amps and/or kVA), storage (GB) or
/// traffic (bytes), values as exact decimal text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ServiceReading {
    Power {
        service_id: String,
        at: Timestamp,
        amps: Option<String>,
        kva: Option<String>,
    },
    Storage {
        service_id: String,
        at: Timestamp,
        gb: String,
    },
    Traffic {
        service_id: String,
        at: Timestamp,
        bytes: i64,
    },
}

fn port_from_row(r: &AnyRow) -> Result<Port> {
    Ok(Port {
        num: r.try_get("num")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        service_id: r.try_get("service_id")?,
        name: r.try_get("name")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

const PORT_COLUMNS: &str = "num, org_id, service_id, name, created_at";

/// The ports of the given services visible to `scope`, by service and name.
pub async fn ports_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    service_ids: &[&str],
) -> Result<Vec<Port>> {
    if service_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(&format!(
        "SELECT {PORT_COLUMNS} FROM colocation_ports WHERE service_id IN ("
    ));
    for (i, s) in service_ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*s);
    }
    q.push(")");
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY service_id, name");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(port_from_row)
        .collect()
}

/// Every port, by number (the month close's work list).
pub async fn all_ports<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Port>> {
    Sql::new(&format!(
        "SELECT {PORT_COLUMNS} FROM colocation_ports ORDER BY num"
    ))
    .query()
    .fetch_all(ex)
    .await?
    .iter()
    .map(port_from_row)
    .collect()
}

/// The (org, kind) of each given service that exists (any organisation).
pub async fn service_kinds(
    tx: &mut Tx,
    service_ids: &[&str],
) -> Result<HashMap<String, (Id, String)>> {
    let mut out = HashMap::new();
    for chunk in service_ids.chunks(500) {
        let mut q = Sql::new("SELECT id, org_id, kind FROM services WHERE id IN (");
        for (i, s) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*s);
        }
        q.push(")");
        for r in q.query().fetch_all(&mut **tx).await? {
            out.insert(
                r.try_get("id")?,
                (Id::from_raw(r.try_get("org_id")?), r.try_get("kind")?),
            );
        }
    }
    Ok(out)
}

/// The port numbers of the given (service, port name) pairs, creating the
/// ports not seen yet (audited, one record each). The services must exist
/// and be colocation services: the caller checked them with
/// [`service_kinds`] (`orgs` maps each service to its organisation).
pub async fn resolve_ports(
    tx: &mut Tx,
    actor: &Actor,
    pairs: &[(&str, &str)],
    orgs: &HashMap<String, (Id, String)>,
) -> Result<HashMap<(String, String), i64>> {
    let mut services: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    services.sort_unstable();
    services.dedup();
    let mut out: HashMap<(String, String), i64> = HashMap::new();
    for chunk in services.chunks(500) {
        for p in ports_of(&mut **tx, &Scope::Staff, chunk).await? {
            out.insert((p.service_id, p.name), p.num);
        }
    }
    let mut missing: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(s, n)| !out.contains_key(&((*s).to_owned(), (*n).to_owned())))
        .copied()
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(out);
    }
    let row = Sql::new("SELECT COALESCE(MAX(num), 0) AS n FROM colocation_ports")
        .query()
        .fetch_one(&mut **tx)
        .await?;
    let mut next: i64 = row.try_get("n")?;
    let now = actor.recorded_at;
    let mut created = Vec::with_capacity(missing.len());
    for (service, name) in missing {
        let Some((org, _)) = orgs.get(service) else {
            return Err(StoreError::NotFound);
        };
        next += 1;
        let mut q = Sql::new(&format!(
            "INSERT INTO colocation_ports ({PORT_COLUMNS}) VALUES ("
        ));
        q.bind(next).push(", ").bind(org).push(", ").bind(service);
        q.push(", ").bind(name).push(", ").bind(now).push(")");
        q.query()
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::unique(e, "port"))?;
        out.insert((service.to_owned(), name.to_owned()), next);
        created.push(Port {
            num: next,
            org_id: org.clone(),
            service_id: service.to_owned(),
            name: name.to_owned(),
            created_at: now,
        });
    }
    let nums: Vec<String> = created.iter().map(|p| p.num.to_string()).collect();
    let changes: Vec<Change<'_, (), Port>> = created
        .iter()
        .zip(&nums)
        .map(|(p, n)| Change {
            org_id: Some(&p.org_id),
            action: "usage.port_create",
            entity_kind: "colocation_port",
            entity_id: n,
            before: None,
            after: Some(p),
        })
        .collect();
    audit::record_many(&mut **tx, actor, &changes).await?;
    Ok(out)
}

/// Writes bandwidth readings (packed by port and day, [`crate::bandwidth`]);
/// returns how many were new (a replayed reading is left as it was).
/// `step_ms` is the reading interval of the terms.
pub async fn insert_bandwidth(
    tx: &mut Tx,
    backend: crate::Backend,
    rows: &[Bandwidth],
    step_ms: i64,
) -> Result<u64> {
    crate::bandwidth::insert(tx, backend, rows, step_ms).await
}

/// Writes power, storage or traffic readings (all of one kind); returns
/// how many were new.
pub async fn insert_service_readings(tx: &mut Tx, rows: &[ServiceReading]) -> Result<u64> {
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let Some(first) = chunk.first() else {
            continue;
        };
        let mut q = Sql::new(match first {
            ServiceReading::Power { .. } => {
                "INSERT INTO power_readings (service_id, at, amps, kva) VALUES "
            }
            ServiceReading::Storage { .. } => {
                "INSERT INTO storage_readings (service_id, at, gb) VALUES "
            }
            ServiceReading::Traffic { .. } => {
                "INSERT INTO traffic_readings (service_id, at, bytes) VALUES "
            }
        });
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            match (first, r) {
                (
                    ServiceReading::Power { .. },
                    ServiceReading::Power {
                        service_id,
                        at,
                        amps,
                        kva,
                    },
                ) => {
                    q.push("(").bind(service_id).push(", ").bind(*at);
                    q.push(", ").bind(amps.clone()).push(", ").bind(kva.clone());
                }
                (
                    ServiceReading::Storage { .. },
                    ServiceReading::Storage { service_id, at, gb },
                ) => {
                    q.push("(").bind(service_id).push(", ").bind(*at);
                    q.push(", ").bind(gb);
                }
                (
                    ServiceReading::Traffic { .. },
                    ServiceReading::Traffic {
                        service_id,
                        at,
                        bytes,
                    },
                ) => {
                    q.push("(").bind(service_id).push(", ").bind(*at);
                    q.push(", ").bind(*bytes);
                }
                _ => return Err(StoreError::Corrupt("readings of mixed kinds".into())),
            }
            q.push(")");
        }
        q.push(" ON CONFLICT (service_id, at) DO NOTHING");
        written += q.query().execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

/// Records one ingestion (a bulk request or a file) in the audit log: the
/// readings are too many for a record each.
pub async fn audit_ingestion(
    tx: &mut Tx,
    actor: &Actor,
    kind: &str,
    received: usize,
    written: u64,
) -> Result<()> {
    #[derive(Serialize)]
    struct Batch<'a> {
        kind: &'a str,
        received: usize,
        written: u64,
    }
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: None,
            action: "usage.ingest",
            entity_kind: "usage_readings",
            entity_id: kind,
            before: None,
            after: Some(&Batch {
                kind,
                received,
                written,
            }),
        },
    )
    .await?;
    Ok(())
}

/// Calls `f(port, in, out)` for each of `ports` with its readings in
/// `[from, to)` (bits/s), [`crate::bandwidth::PORTS_PER_READ`] ports a
/// statement, so only one group of ports is in memory at a time.
pub async fn for_each_port_month<'e, E, F>(
    ex: E,
    ports: &[i64],
    from: Timestamp,
    to: Timestamp,
    f: F,
) -> Result<()>
where
    E: Executor<'e, Database = Any> + Copy,
    F: FnMut(i64, &mut Vec<u64>, &mut Vec<u64>),
{
    crate::bandwidth::for_each_port(ex, ports, from, to, f).await
}

/// The readings of one port in `[from, to)`, by instant: (at, in, out).
pub async fn port_readings<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    port: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(Timestamp, i64, i64)>> {
    Ok(crate::bandwidth::of_port(ex, port, from, to)
        .await?
        .into_iter()
        .map(|(at, i, o)| (time::from_db(at), i, o))
        .collect())
}

/// Power readings of one service in `[from, to)`, by instant: (at, amps, kVA).
pub async fn power_readings<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    service_id: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(Timestamp, Option<String>, Option<String>)>> {
    let mut q = Sql::new("SELECT at, amps, kva FROM power_readings WHERE service_id = ");
    q.bind(service_id)
        .push(" AND at >= ")
        .bind(from)
        .push(" AND at < ")
        .bind(to);
    q.push(" ORDER BY at");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((time::from_db(r.try_get(0)?), r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Storage readings of one service in `[from, to)`, by instant: (at, GB).
pub async fn storage_readings<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    service_id: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(Timestamp, String)>> {
    let mut q = Sql::new("SELECT at, gb FROM storage_readings WHERE service_id = ");
    q.bind(service_id)
        .push(" AND at >= ")
        .bind(from)
        .push(" AND at < ")
        .bind(to);
    q.push(" ORDER BY at");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((time::from_db(r.try_get(0)?), r.try_get(1)?)))
        .collect()
}

/// Bytes exchanged in `[from, to)` per service that has readings.
pub async fn traffic_totals<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(String, i64)>> {
    let mut q = Sql::new(
        "SELECT service_id, CAST(SUM(bytes) AS BIGINT) AS total FROM traffic_readings WHERE at >= ",
    );
    q.bind(from).push(" AND at < ").bind(to);
    q.push(" GROUP BY service_id ORDER BY service_id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The R2.9 outcome of one service and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adjustment {
    pub service_id: String,
    /// "YYYY-MM", the month measured.
    pub month: String,
    pub org_id: Id,
    pub subscribed: String,
    pub peak: String,
    pub days_over: i64,
    pub new_level: Option<String>,
    pub old_fee: String,
    pub new_fee: Option<String>,
    /// `YYYY-MM-DD`: the 1st of the next month.
    pub effective_from: String,
    pub explanation_json: String,
    pub created_at: Timestamp,
}

const ADJ_COLUMNS: &str = "service_id, month, org_id, subscribed, peak, days_over, new_level, \
    old_fee, new_fee, effective_from, explanation_json, created_at";

fn adjustment_from_row(r: &AnyRow) -> Result<Adjustment> {
    Ok(Adjustment {
        service_id: r.try_get("service_id")?,
        month: r.try_get("month")?,
        org_id: Id::from_raw(r.try_get("org_id")?),
        subscribed: r.try_get("subscribed")?,
        peak: r.try_get("peak")?,
        days_over: r.try_get("days_over")?,
        new_level: r.try_get("new_level")?,
        old_fee: r.try_get("old_fee")?,
        new_fee: r.try_get("new_fee")?,
        effective_from: r.try_get("effective_from")?,
        explanation_json: r.try_get("explanation_json")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Records an R2.9 outcome unless the (service, month) has one; returns
/// whether it was new (audited when new).
pub async fn record_adjustment(tx: &mut Tx, actor: &Actor, a: &Adjustment) -> Result<bool> {
    let mut q = Sql::new(&format!(
        "INSERT INTO usage_adjustments ({ADJ_COLUMNS}) VALUES ("
    ));
    q.bind(a.service_id.as_str())
        .push(", ")
        .bind(a.month.as_str());
    q.push(", ")
        .bind(&a.org_id)
        .push(", ")
        .bind(a.subscribed.as_str());
    q.push(", ")
        .bind(a.peak.as_str())
        .push(", ")
        .bind(a.days_over);
    q.push(", ").bind(a.new_level.clone()).push(", ");
    q.bind(a.old_fee.as_str())
        .push(", ")
        .bind(a.new_fee.clone());
    q.push(", ").bind(a.effective_from.as_str()).push(", ");
    q.bind(a.explanation_json.as_str())
        .push(", ")
        .bind(a.created_at);
    q.push(") ON CONFLICT (service_id, month) DO NOTHING");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    let key = format!("{}:{}", a.service_id, a.month);
    audit::created(
        &mut **tx,
        actor,
        &a.org_id,
        "usage.adjustment",
        "usage_adjustment",
        &key,
        a,
    )
    .await?;
    Ok(true)
}

/// The R2.9 outcomes of a service visible to `scope`, newest month first.
pub async fn adjustments_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    service_id: &str,
) -> Result<Vec<Adjustment>> {
    let mut q = Sql::new(&format!(
        "SELECT {ADJ_COLUMNS} FROM usage_adjustments WHERE service_id = "
    ));
    q.bind(service_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY month DESC");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(adjustment_from_row)
        .collect()
}

/// Records that a month's usage was closed (the last report wins: a re-run
/// finds everything already handed over).
pub async fn record_close(
    tx: &mut Tx,
    month: &str,
    report_json: &str,
    now: Timestamp,
) -> Result<()> {
    let mut q = Sql::new("INSERT INTO usage_closes (month, report_json, closed_at) VALUES (");
    q.bind(month)
        .push(", ")
        .bind(report_json)
        .push(", ")
        .bind(now);
    q.push(") ON CONFLICT (month) DO UPDATE SET report_json = ");
    q.bind(report_json).push(", closed_at = ").bind(now);
    q.query().execute(&mut **tx).await?;
    Ok(())
}

/// Benchmarks only: the reading of port `p` at slot `k`, deterministic and
/// pseudo-random up to 10 Gbit/s (in, out). The same formula as
/// [`generate_flat_readings`], so both hold the same readings.
fn bench_reading(p: i64, k: i64) -> (i64, i64) {
    (
        (p * 2_654_435_761 + k * 40_503) % 10_000_000_000,
        (p * 40_503 + k * 2_654_435_761) % 10_000_000_000,
    )
}

/// Benchmarks only: stores `slots` readings every 5 minutes from `from`
/// for ports `1..=ports` through [`crate::bandwidth::insert`] (the path of
/// the bulk API), 20 ports a transaction; `progress(ports done)`. No port
/// rows: the percentile reads readings by port number.
pub async fn generate_bench_readings(
    store: &crate::Store,
    ports: i64,
    from: Timestamp,
    slots: i64,
    mut progress: impl FnMut(i64),
) -> Result<u64> {
    const PORTS_PER_TX: i64 = 20;
    let from = time::to_db(from);
    let mut written = 0;
    let mut rows = Vec::new();
    for first in (1..=ports).step_by(PORTS_PER_TX as usize) {
        rows.clear();
        for p in first..(first + PORTS_PER_TX).min(ports + 1) {
            for k in 0..slots {
                let (in_bps, out_bps) = bench_reading(p, k);
                rows.push(Bandwidth {
                    port: p,
                    at_ms: from + k * 300_000,
                    in_bps,
                    out_bps,
                });
            }
        }
        let mut tx = store.begin().await?;
        written += crate::bandwidth::insert(&mut tx, store.backend(), &rows, 300_000).await?;
        tx.commit().await?;
        progress((first + PORTS_PER_TX - 1).min(ports));
    }
    Ok(written)
}

/// Benchmarks only (PostgreSQL): the same readings as
/// [`generate_bench_readings`], one row each in the former table
/// `bandwidth_readings`, generated inside the database: what
/// `percentile_disc` is measured on.
pub async fn generate_flat_readings(
    store: &crate::Store,
    ports: i64,
    from: Timestamp,
    slots: i64,
) -> Result<u64> {
    let from = time::to_db(from);
    let text = format!(
        "INSERT INTO bandwidth_readings (port_num, at, in_bps, out_bps) \
         SELECT p, {from} + k * 300000, ((p * 2654435761 + k * 40503) % 10000000000), \
         ((p * 40503 + k * 2654435761) % 10000000000) \
         FROM generate_series(CAST(1 AS BIGINT), {ports}) AS p, \
         generate_series(CAST(0 AS BIGINT), {slots} - 1) AS k"
    );
    Ok(sqlx::query(&text)
        .persistent(false)
        .execute(store.writer())
        .await?
        .rows_affected())
}

/// Benchmarks only: PostgreSQL's own `percentile_disc(fraction)` of each
/// direction per port over `[from, to)`: (port, in, out).
pub async fn percentile_disc(
    store: &crate::Store,
    fraction: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(i64, i64, i64)>> {
    let mut q = Sql::new(&format!(
        "SELECT port_num, percentile_disc({fraction}) WITHIN GROUP (ORDER BY in_bps) AS i, \
         percentile_disc({fraction}) WITHIN GROUP (ORDER BY out_bps) AS o \
         FROM bandwidth_readings WHERE at >= "
    ));
    q.bind(from)
        .push(" AND at < ")
        .bind(to)
        .push(" GROUP BY port_num ORDER BY port_num");
    q.query()
        .fetch_all(store.db())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Benchmarks only (PostgreSQL): statistics and visibility map of the flat
/// table, as autovacuum would leave them after a month of inserts.
pub async fn analyze_flat(store: &crate::Store) -> Result<()> {
    sqlx::query("VACUUM ANALYZE bandwidth_readings")
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Deletes every bandwidth reading (benchmarks only: the 89 million
/// readings would otherwise stay on disk): `TRUNCATE` on PostgreSQL, which
/// gives the space back at once.
pub async fn purge_bandwidth(store: &crate::Store) -> Result<()> {
    for table in ["bandwidth_readings", "bandwidth_days"] {
        let text = match store.backend() {
            crate::Backend::Postgres => format!("TRUNCATE {table}"),
            crate::Backend::Sqlite => format!("DELETE FROM {table}"),
        };
        sqlx::query(&text).execute(store.writer()).await?;
    }
    Ok(())
}

/// A PRA activation or test overlapping a period, with its machine services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationSpan {
    pub id: String,
    pub org_id: String,
    pub requested_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub test_kind: Option<String>,
    /// A test whose resources are billed (R10.3: notified too late).
    pub test_billed: bool,
    pub machines: Vec<String>,
}

/// The activations and tests running at some point of `[from, to)`
/// (requested before `to`, not closed by `from`), by identifier: a
/// failover across months is in each month it touches (R2.10).
pub async fn activations_overlapping<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ActivationSpan>> {
    let mut q = Sql::new(
        "SELECT a.id, a.org_id, a.requested_at, a.closed_at, a.test_kind, m.service_id, \
         a.test_billed FROM pra_activations a JOIN pra_activation_machines m ON m.activation_id = a.id \
         WHERE a.requested_at < ",
    );
    q.bind(to)
        .push(" AND (a.closed_at IS NULL OR a.closed_at > ")
        .bind(from);
    q.push(") ORDER BY a.id, m.service_id");
    let mut out: Vec<ActivationSpan> = Vec::new();
    for r in q.query().fetch_all(ex).await? {
        let id: String = r.try_get(0)?;
        let machine: String = r.try_get(5)?;
        match out.last_mut() {
            Some(a) if a.id == id => a.machines.push(machine),
            _ => out.push(ActivationSpan {
                id,
                org_id: r.try_get(1)?,
                requested_at: time::from_db(r.try_get(2)?),
                closed_at: time::opt_from_db(r.try_get(3)?),
                test_kind: r.try_get(4)?,
                test_billed: r.try_get::<i64, _>(6)? != 0,
                machines: vec![machine],
            }),
        }
    }
    Ok(out)
}
