//! A service's usage of one month, as the API and the pages show it: per
//! port the 95th percentiles with the overage and its price (the same
//! [`super::close::price_bandwidth`] the close bills with) and the hourly
//! peaks of the traffic chart; power readings against the subscription;
//! storage daily peaks against the subscription with the R2.9 outcomes;
//! the month's bytes with the fair-use flag (R3.5).

use super::close::{corrupt, price_bandwidth};
use crate::auth::Principal;
use crate::problem::ApiResult;
use crate::sla::evidence::Month;
use crate::state::AppState;
use ciel_catalog::item::Item;
use ciel_engine::percentile::Percentile;
use ciel_store::services::ServiceRow;
use ciel_store::usage;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The catalogue item a service sells.
pub fn item_of(s: &ServiceRow) -> ApiResult<Item> {
    serde_json::from_str(&s.item_json).map_err(corrupt)
}

/// One hour of a port's traffic: the highest reading of each direction,
/// in Mbit/s (the chart's points).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HourPeak {
    /// Paris time, `YYYY-MM-DDTHH`.
    pub hour: String,
    pub in_mbps: String,
    pub out_mbps: String,
}

/// One port's month (R2.8). Figures in Mbit/s (bits/s ÷ 10^6).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortUsage {
    pub port: String,
    pub readings: usize,
    /// Out of the client's port (upload) and into it (download).
    pub upload_p95_mbps: Option<String>,
    pub download_p95_mbps: Option<String>,
    pub billed_p95_mbps: String,
    pub flat_mbps: String,
    pub overage_mbps: String,
    pub price_per_mbps: String,
    /// Exact EUR excluding VAT, rounded to the cent.
    pub amount: String,
    #[schema(value_type = Object)]
    pub explanation: ciel_engine::Explanation,
    pub hours: Vec<HourPeak>,
}

/// Power readings against the subscription (R11.5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PowerUsage {
    pub subscribed_kva: String,
    pub subscribed_amps: String,
    pub peak_kva: Option<String>,
    pub peak_amps: Option<String>,
    /// `normal`, `near` or `above`.
    pub level: String,
    /// kVAh above the subscription.
    pub excess_kvah: String,
    pub readings: usize,
}

/// Storage against the subscription (R2.9).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StorageUsage {
    pub subscribed_gb: String,
    pub peak_gb: String,
    /// Paris days whose peak was above the subscription.
    pub days_over: usize,
    /// (day, peak GB).
    pub daily: Vec<(String, String)>,
}

/// Bytes exchanged in the month and the fair-use flag (R3.5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrafficUsage {
    pub bytes: u64,
    pub exceeded: bool,
    pub limit_mbit_per_s: Option<u32>,
}

/// An R2.9 outcome recorded at a month close.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentView {
    pub month: String,
    pub subscribed: String,
    pub peak: String,
    pub days_over: i64,
    pub new_level: Option<String>,
    pub old_fee: String,
    pub new_fee: Option<String>,
    pub effective_from: String,
}

/// A service's usage of a month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceUsage {
    pub service_id: String,
    pub org_id: String,
    pub label: String,
    pub kind: String,
    /// `YYYY-MM`.
    pub month: String,
    pub ports: Vec<PortUsage>,
    pub power: Option<PowerUsage>,
    pub storage: Option<StorageUsage>,
    /// The month's traffic as recorded by the close (None before it).
    pub traffic: Option<TrafficUsage>,
    pub adjustments: Vec<AdjustmentView>,
}

fn mbps(v: Decimal) -> String {
    v.round_dp(3).normalize().to_string()
}

/// The usage of a service visible to `p` (another organisation's: 404).
pub async fn of_service(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    month: &Month,
) -> ApiResult<ServiceUsage> {
    let s = crate::services::get(state, p, service_id).await?;
    let db = state.store().db();
    let e = crate::orders::engine(state, &s.terms_version)?;
    let tz = e.month_zone().clone();
    let item = item_of(&s)?;
    let mut ports = Vec::new();
    let mut power = None;
    if let Item::Colocation(c) = &item {
        let pct = e.terms().billing.bandwidth_percentile.dropped_top_percent.0;
        let unit = Decimal::from(1_000_000);
        for port in usage::ports_of(db, &p.scope, &[s.id.as_str()]).await? {
            let rows = usage::port_readings(db, port.num, month.start, month.end).await?;
            let mut ins: Vec<u64> = rows
                .iter()
                .map(|r| u64::try_from(r.1).unwrap_or(0))
                .collect();
            let mut outs: Vec<u64> = rows
                .iter()
                .map(|r| u64::try_from(r.2).unwrap_or(0))
                .collect();
            let up = Percentile::of_integers(&mut outs, pct, unit);
            let down = Percentile::of_integers(&mut ins, pct, unit);
            let (bill, amount, explanation) = price_bandwidth(&e, c, up, down)?;
            let mut hours: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for (at, i, o) in &rows {
                let h = at.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H").to_string();
                let v = hours.entry(h).or_insert((0, 0));
                *v = (v.0.max(*i), v.1.max(*o));
            }
            ports.push(PortUsage {
                port: port.name,
                readings: rows.len(),
                upload_p95_mbps: bill.upload_p95.map(mbps),
                download_p95_mbps: bill.download_p95.map(mbps),
                billed_p95_mbps: mbps(bill.billed_p95),
                flat_mbps: bill.flat.normalize().to_string(),
                overage_mbps: mbps(bill.overage),
                price_per_mbps: c.overage_price_per_mbps.get().normalize().to_string(),
                amount: format!("{amount:.2}"),
                explanation,
                hours: hours
                    .into_iter()
                    .map(|(hour, (i, o))| HourPeak {
                        hour,
                        in_mbps: mbps(Decimal::from(i) / unit),
                        out_mbps: mbps(Decimal::from(o) / unit),
                    })
                    .collect(),
            });
        }
        let rows = usage::power_readings(db, s.id.as_str(), month.start, month.end).await?;
        if !rows.is_empty() {
            let dec =
                |v: &Option<String>| v.as_deref().and_then(|t| Decimal::from_str_exact(t).ok());
            let readings: Vec<ciel_operations::power::PowerReading> = rows
                .iter()
                .map(|(at, a, k)| ciel_operations::power::PowerReading {
                    at: *at,
                    amps: dec(a),
                    kva: dec(k),
                })
                .collect();
            let ops =
                ciel_operations::Operations::new(e.terms(), Default::default()).map_err(corrupt)?;
            let a = ops
                .assess_power(
                    &ciel_operations::power::Emplacement {
                        id: c.emplacement.clone(),
                        subscribed_amps: c.max_amperage_a,
                        subscribed_kva: c.power_kva,
                    },
                    &readings,
                    month.end.min(state.now()),
                )
                .map_err(corrupt)?;
            power = Some(PowerUsage {
                subscribed_kva: c.power_kva.normalize().to_string(),
                subscribed_amps: c.max_amperage_a.normalize().to_string(),
                peak_kva: a.peak_kva.map(|d| d.normalize().to_string()),
                peak_amps: a.peak_amps.map(|d| d.normalize().to_string()),
                level: crate::episodes::code(a.level),
                excess_kvah: a.excess.excess_kvah.round_dp(3).normalize().to_string(),
                readings: rows.len(),
            });
        }
    }
    let subscribed = match &item {
        Item::ExternalBackup(b) => Some(Decimal::from(b.storage_gb)),
        Item::M365Backup(m) => m.provisioned_storage_gb.map(Decimal::from),
        _ => None,
    };
    let rows = usage::storage_readings(db, s.id.as_str(), month.start, month.end).await?;
    let storage = if rows.is_empty() {
        None
    } else {
        let mut daily: BTreeMap<String, Decimal> = BTreeMap::new();
        for (at, gb) in &rows {
            let v = Decimal::from_str_exact(gb).map_err(corrupt)?;
            let d = at.to_zoned(tz.clone()).date().to_string();
            let p = daily.entry(d).or_insert(v);
            *p = (*p).max(v);
        }
        let sub = subscribed.unwrap_or_default();
        Some(StorageUsage {
            subscribed_gb: subscribed
                .map(|d| d.normalize().to_string())
                .unwrap_or_default(),
            peak_gb: daily
                .values()
                .max()
                .copied()
                .unwrap_or_default()
                .normalize()
                .to_string(),
            days_over: if subscribed.is_some() {
                daily.values().filter(|v| **v > sub).count()
            } else {
                0
            },
            daily: daily
                .into_iter()
                .map(|(d, v)| (d, v.normalize().to_string()))
                .collect(),
        })
    };
    let st = crate::services::state_of(&s)?;
    let traffic = st
        .service()
        .and_then(|x| x.fair_use_of(month.first_day))
        .map(|m| TrafficUsage {
            bytes: m.bytes,
            exceeded: m.exceeded,
            limit_mbit_per_s: m.limit_mbit_per_s,
        });
    let adjustments = usage::adjustments_of(db, &p.scope, s.id.as_str())
        .await?
        .into_iter()
        .map(|a| AdjustmentView {
            month: a.month,
            subscribed: a.subscribed,
            peak: a.peak,
            days_over: a.days_over,
            new_level: a.new_level,
            old_fee: a.old_fee,
            new_fee: a.new_fee,
            effective_from: a.effective_from,
        })
        .collect();
    Ok(ServiceUsage {
        service_id: s.id.to_string(),
        org_id: s.org_id.to_string(),
        label: s.label.clone(),
        kind: s.kind.clone(),
        month: month.label.clone(),
        ports,
        power,
        storage,
        traffic,
        adjustments,
    })
}
