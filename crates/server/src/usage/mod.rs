//! Usage readings and the month's usage charges (issue 6, item 2).
//!
//! - **Ingestion** (this module): bandwidth per colocation port every 5
//!   minutes (R2.8), power per emplacement (R11.5), backup/PRA storage
//!   (R2.9) and bytes exchanged (R3.5), pushed in bulk as JSON (under an
//!   `Idempotency-Key`, like the episodes' bulk push) or imported from CSV
//!   ([`csv`]). A batch is checked whole before anything is written: one bad
//!   reading refuses it with the reading's path (`readings[12].at`) or the
//!   file's line (`lines[7].in_bps`). A bandwidth reading is stored at the
//!   start of its 5-minute slot (`billing.bandwidth_percentile.
//!   reading_interval_minutes`), so a replay, even with a jittered clock,
//!   is stored once. A port is created the first time a reading names it
//!   (service + port name), audited.
//! - **Month close** ([`close`]): the month's readings become charges.
//! - **Reads** ([`view`]): a service's usage of a month for the pages.

pub mod close;
pub mod csv;
pub mod view;

use crate::auth::Principal;
use crate::episodes::{self, Pushed};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_store::usage::{self, Bandwidth, ServiceReading};
use ciel_store::{Actor, idempotency};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Most readings one request may carry (a bulk body or a file).
pub const MAX_READINGS: usize = 500_000;

/// Largest body of a usage push or import: 500 000 readings of ~110 bytes.
pub const BODY_BYTES: usize = 64 * 1024 * 1024;

/// Paths whose body may exceed the server's usual limit.
pub fn is_bulk_path(path: &str) -> bool {
    path.starts_with("/api/v1/usage/") || path == "/api/v1/backup/results"
}

/// The kinds of readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bandwidth,
    Power,
    Storage,
    Traffic,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "bandwidth" => Some(Kind::Bandwidth),
            "power" => Some(Kind::Power),
            "storage" => Some(Kind::Storage),
            "traffic" => Some(Kind::Traffic),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Bandwidth => "bandwidth",
            Kind::Power => "power",
            Kind::Storage => "storage",
            Kind::Traffic => "traffic",
        }
    }

    /// The service kinds (ItemKind codes) a reading of this kind may name.
    fn service_kinds(self) -> &'static [&'static str] {
        match self {
            Kind::Bandwidth | Kind::Power => &["colocation"],
            Kind::Storage => &["backup", "m365_backup", "pra"],
            Kind::Traffic => &[],
        }
    }
}

/// One reading as received (a JSON item or a CSV line).
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Bandwidth {
        service_id: String,
        port: String,
        at: Timestamp,
        in_bps: i64,
        out_bps: i64,
    },
    Power {
        service_id: String,
        at: Timestamp,
        amps: Option<Decimal>,
        kva: Option<Decimal>,
    },
    Storage {
        service_id: String,
        at: Timestamp,
        gb: Decimal,
    },
    Traffic {
        service_id: String,
        at: Timestamp,
        bytes: i64,
    },
}

impl Reading {
    fn service_id(&self) -> &str {
        match self {
            Reading::Bandwidth { service_id, .. }
            | Reading::Power { service_id, .. }
            | Reading::Storage { service_id, .. }
            | Reading::Traffic { service_id, .. } => service_id,
        }
    }

    fn at(&self) -> Timestamp {
        match self {
            Reading::Bandwidth { at, .. }
            | Reading::Power { at, .. }
            | Reading::Storage { at, .. }
            | Reading::Traffic { at, .. } => *at,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Reading::Bandwidth { .. } => Kind::Bandwidth,
            Reading::Power { .. } => Kind::Power,
            Reading::Storage { .. } => Kind::Storage,
            Reading::Traffic { .. } => Kind::Traffic,
        }
    }

    /// The value checks of one reading, naming the field at fault.
    fn check(&self, now: Timestamp) -> Result<(), (&'static str, String)> {
        if self.at() > now {
            return Err(("at", format!("{} is in the future", self.at())));
        }
        let negative = |d: &Option<Decimal>| d.is_some_and(|d| d < Decimal::ZERO);
        match self {
            Reading::Bandwidth {
                port,
                in_bps,
                out_bps,
                ..
            } => {
                if port.is_empty() || port.len() > 100 {
                    return Err(("port", "a port name of 1 to 100 characters".into()));
                }
                if *in_bps < 0 {
                    return Err(("in_bps", "bits/s, not negative".into()));
                }
                if *out_bps < 0 {
                    return Err(("out_bps", "bits/s, not negative".into()));
                }
            }
            Reading::Power { amps, kva, .. } => {
                if amps.is_none() && kva.is_none() {
                    return Err(("kva", "R11.5: amps or kva (or both)".into()));
                }
                if negative(amps) {
                    return Err(("amps", "not negative".into()));
                }
                if negative(kva) {
                    return Err(("kva", "not negative".into()));
                }
            }
            Reading::Storage { gb, .. } => {
                if *gb < Decimal::ZERO {
                    return Err(("gb", "not negative".into()));
                }
            }
            Reading::Traffic { bytes, .. } => {
                if *bytes < 0 {
                    return Err(("bytes", "not negative".into()));
                }
            }
        }
        Ok(())
    }
}

/// What an ingestion wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ingested {
    /// `bandwidth`, `power`, `storage` or `traffic`.
    pub kind: String,
    pub received: usize,
    /// Readings stored now.
    pub written: u64,
    /// Readings already stored (a replay), left as they were.
    pub already_known: u64,
}

/// Staff (a session or a staff user's API token, e.g. the metering
/// platform's): readings are the provider's measurements.
pub fn require_metering(p: &Principal) -> ApiResult<()> {
    episodes::require_monitoring(p)
}

/// The start of the 5-minute slot holding `at` (UTC ms).
fn slot_ms(at: Timestamp, interval_minutes: i64) -> i64 {
    let ms = at.as_millisecond();
    let step = interval_minutes.max(1) * 60_000;
    ms.div_euclid(step) * step
}

/// Checks and writes one batch of readings of one kind in one transaction;
/// `field(i, name)` names the item at fault (JSON path or CSV line). Any
/// error writes nothing.
pub async fn write(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    actor: &Actor,
    kind: Kind,
    readings: &[Reading],
    field: &(dyn Fn(usize, &str) -> String + Sync),
) -> ApiResult<Ingested> {
    if readings.len() > MAX_READINGS {
        return Err(Problem::invalid(
            "readings",
            format!("at most {MAX_READINGS} readings a request"),
        ));
    }
    let now = actor.recorded_at;
    for (i, r) in readings.iter().enumerate() {
        if r.kind() != kind {
            return Err(Problem::invalid(
                &field(i, "kind"),
                format!("a {} reading", kind.code()),
            ));
        }
        r.check(now)
            .map_err(|(f, why)| Problem::invalid(&field(i, f), why))?;
    }
    let mut ids: Vec<&str> = readings.iter().map(Reading::service_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let known = usage::service_kinds(tx, &ids).await?;
    let allowed = kind.service_kinds();
    if let Some(i) = readings.iter().position(|r| {
        known
            .get(r.service_id())
            .is_none_or(|(_, k)| !allowed.is_empty() && !allowed.contains(&k.as_str()))
    }) {
        let why = if allowed.is_empty() {
            "no such service".to_owned()
        } else {
            format!("no such service of kind {}", allowed.join(" or "))
        };
        return Err(Problem::invalid(&field(i, "service_id"), why));
    }
    let written = match kind {
        Kind::Bandwidth => {
            let interval = crate::maintenance::engine(state, now)?
                .terms()
                .billing
                .bandwidth_percentile
                .reading_interval_minutes;
            let pairs: Vec<(&str, &str)> = readings
                .iter()
                .filter_map(|r| match r {
                    Reading::Bandwidth {
                        service_id, port, ..
                    } => Some((service_id.as_str(), port.as_str())),
                    _ => None,
                })
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let ports: HashMap<(String, String), i64> =
                usage::resolve_ports(tx, actor, &pairs, &known).await?;
            // Borrowed keys: no two strings copied per reading.
            let ports: HashMap<(&str, &str), i64> = ports
                .iter()
                .map(|((s, p), n)| ((s.as_str(), p.as_str()), *n))
                .collect();
            let rows: Vec<Bandwidth> = readings
                .iter()
                .filter_map(|r| match r {
                    Reading::Bandwidth {
                        service_id,
                        port,
                        at,
                        in_bps,
                        out_bps,
                    } => Some(Bandwidth {
                        port: *ports.get(&(service_id.as_str(), port.as_str()))?,
                        at_ms: slot_ms(*at, i64::from(interval)),
                        in_bps: *in_bps,
                        out_bps: *out_bps,
                    }),
                    _ => None,
                })
                .collect();
            let step_ms = i64::from(interval).max(1) * 60_000;
            usage::insert_bandwidth(tx, state.store().backend(), &rows, step_ms).await?
        }
        _ => {
            let rows: Vec<ServiceReading> = readings.iter().filter_map(stored).collect();
            usage::insert_service_readings(tx, &rows).await?
        }
    };
    if kind == Kind::Power {
        // R11.5: a crossing of the near or subscribed level is alerted once.
        let power: Vec<_> = readings
            .iter()
            .filter_map(|r| match r {
                Reading::Power {
                    service_id,
                    at,
                    amps,
                    kva,
                } => Some((service_id.clone(), *at, *amps, *kva)),
                _ => None,
            })
            .collect();
        crate::colo::power::after_readings(state, tx, actor, &power).await?;
    }
    usage::audit_ingestion(tx, actor, kind.code(), readings.len(), written).await?;
    Ok(Ingested {
        kind: kind.code().to_owned(),
        received: readings.len(),
        written,
        already_known: u64::try_from(readings.len())
            .unwrap_or(u64::MAX)
            .saturating_sub(written),
    })
}

/// A power, storage or traffic reading as stored (bandwidth goes through
/// its port: `None`).
fn stored(r: &Reading) -> Option<ServiceReading> {
    let text = |d: &Decimal| d.normalize().to_string();
    match r {
        Reading::Power {
            service_id,
            at,
            amps,
            kva,
        } => Some(ServiceReading::Power {
            service_id: service_id.clone(),
            at: *at,
            amps: amps.as_ref().map(text),
            kva: kva.as_ref().map(text),
        }),
        Reading::Storage { service_id, at, gb } => Some(ServiceReading::Storage {
            service_id: service_id.clone(),
            at: *at,
            gb: text(gb),
        }),
        Reading::Traffic {
            service_id,
            at,
            bytes,
        } => Some(ServiceReading::Traffic {
            service_id: service_id.clone(),
            at: *at,
            bytes: *bytes,
        }),
        Reading::Bandwidth { .. } => None,
    }
}

/// A bulk push: under its `Idempotency-Key` (a replay answers the first
/// answer, another body with the same key is refused with 409), checked
/// whole, written in one transaction.
pub async fn push(
    state: &AppState,
    p: &Principal,
    idem_key: &str,
    body_hash: String,
    kind: Kind,
    readings: Vec<Reading>,
) -> ApiResult<Pushed> {
    require_metering(p)?;
    episodes::check_idempotency_key(idem_key)?;
    let scope = format!("usage:{}:{}", kind.code(), p.user.id);
    if let Some(first) = idempotency::find(state.store().db(), &scope, idem_key).await? {
        return episodes::replay(first, &body_hash);
    }
    let now = state.now();
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let field = |i: usize, f: &str| format!("readings[{i}].{f}");
    let out = write(state, &mut tx, &actor, kind, &readings, &field).await?;
    let body = serde_json::to_value(&out).map_err(|_| Problem::internal())?;
    episodes::push_answer(tx, &scope, idem_key, body_hash, out.written == 0, body, now).await
}

/// A CSV file of one kind (API upload or `ciel usage import`): refused
/// whole at its first bad line, else written in one transaction.
pub async fn import(
    state: &AppState,
    actor: &Actor,
    kind: Kind,
    text: &str,
) -> ApiResult<Ingested> {
    let (readings, lines) = csv::parse(kind, text)?;
    let mut tx = state.store().begin().await?;
    let field = |i: usize, f: &str| csv::field(lines.get(i).copied().unwrap_or(0), f);
    let out = write(state, &mut tx, actor, kind, &readings, &field)
        .await
        .map_err(csv::with_line)?;
    tx.commit().await.map_err(ciel_store::StoreError::from)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_stored_at_the_start_of_its_slot() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let base = t("2026-06-01T10:05:00Z").as_millisecond();
        assert_eq!(slot_ms(t("2026-06-01T10:05:00Z"), 5), base);
        assert_eq!(slot_ms(t("2026-06-01T10:09:59.999Z"), 5), base);
        assert_eq!(slot_ms(t("2026-06-01T10:10:00Z"), 5), base + 300_000);
        assert_eq!(slot_ms(t("2026-06-01T10:04:59Z"), 5), base - 300_000);
    }
}
