//! The month close of usage: the readings of a Paris calendar month become
//! charges handed to billing (`store::charges::hand_over`, source kind
//! `usage`), each with its explanation citing the rule. It runs as the
//! `usage.close` job on the 1st at 00:00 Paris, and the billing run calls
//! [`close_month`] first; both are idempotent: every charge has a stable key
//! (`bandwidth:2026-06:<port>`, `power:2026-06`, `pra:<activation>:2026-06`),
//! an R2.9 outcome is written once per service and month, and a month's
//! traffic already recorded is not recorded again.
//!
//! Pricing decisions (what the contract leaves to the price list):
//! - **Bandwidth (R2.8)**: readings are bits/s; the percentile is read in
//!   Mbit/s = bits/s ÷ 10^6 (the SI unit the order's flat tier and
//!   `overage_price_per_mbps` are written in). `out` is the client's
//!   upload, `in` its download. Overage × the colocation order line's own
//!   `overage_price_per_mbps`.
//! - **Power (R11.5)**: `operations::power` gives the excess as measured
//!   (kVAh above the subscribed kVA by default). One kVA for a whole month
//!   costs the unit price of `colocation.<dc>.power_kva` in the order's
//!   price list, so one kVAh costs that price ÷ the hours of the month
//!   (743 in March, 745 in October: Paris hours). With the `peak_power`
//!   basis the excess kVA is priced at the monthly unit price itself.
//! - **PRA (R2.10, R10.3)**: an activation (or a full test, billed as one)
//!   bills, for each protected machine service, its started Paris days
//!   within the month × the machine's monthly fee (priced from the PRA
//!   order's price list, `pra.c1..c3`) ÷ the days of the month. A failover
//!   across months bills each month its own days; one still running at the
//!   month's end bills its days so far. Simple tests are not billed (their
//!   notice time is not recorded, so a late one cannot be told).
//! - **Backup overage (R2.9)**: daily peaks of the storage readings (Paris
//!   days) against the subscribed GB; more than 5 days above → the warning
//!   mail and the new level = the smallest tier bound of the SKU's price
//!   (`backup.storage_gb`, `m365_backup.storage_gb`) covering the peak, or
//!   the peak rounded up to a whole GB past the last bound; the new monthly
//!   fee is the order's price list's quote of the item at that level,
//!   written on the service (audited) at the close, i.e. before the run
//!   that bills the next month in advance. PRA machines have no subscribed
//!   storage level in the catalogue: nothing to adjust.
//! - **Fair use (R3.5)**: the month's bytes are recorded on the service
//!   (`RecordMonthlyTraffic`: its state keeps the flag, shown by the API
//!   and the pages, audited); a newly flagged month mails the staff
//!   administrators and support. No charge.

use super::view::item_of;
use crate::problem::{ApiResult, Problem};
use crate::sla::evidence::Month;
use crate::state::AppState;
use ciel_catalog::item::{Colocation, Item};
use ciel_catalog::price::{PriceList, Sku};
use ciel_catalog::service::ServiceEvent;
use ciel_domain::StaffRole;
use ciel_engine::percentile::{BandwidthBill, Percentile};
use ciel_engine::{Engine, Explanation, Step};
use ciel_operations::power::{Emplacement, ExcessBasis, PowerReading};
use ciel_operations::{Operations, ProductParams};
use ciel_store::charges::{self, NewCharge};
use ciel_store::services::ServiceRow;
use ciel_store::usage::{self, Adjustment};
use ciel_store::{Actor, Scope, StoreError, jobs, orders, orgs};
use jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Kind of the monthly job.
pub const JOB: &str = "usage.close";

/// Source kind of the charges this close hands over.
pub const SOURCE: &str = "usage";

/// What a close did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CloseReport {
    pub month: String,
    /// Ports whose readings were read.
    pub ports: u64,
    /// Charges handed over by this run (a re-run hands over none).
    pub charges_new: u64,
    /// Charges of the month, new or already handed over, per kind.
    pub bandwidth_charges: u64,
    pub power_charges: u64,
    pub pra_charges: u64,
    /// Total of the month's charges, exact EUR excluding VAT.
    pub amount: String,
    /// R2.9 outcomes written by this run, and adjusted fees among them.
    pub adjustments_new: u64,
    pub fees_adjusted: u64,
    /// Services whose month of traffic was recorded, and newly flagged (R3.5).
    pub traffic_recorded: u64,
    pub fair_use_flagged: u64,
}

/// Closes the usage of `year-month` (Paris) as the system: the entry point
/// of the billing run, which calls it before invoicing the next month.
pub async fn close_month(state: &AppState, year: i16, month: i8) -> ApiResult<CloseReport> {
    let m = Month::of(year, month).ok_or_else(|| Problem::invalid("month", "YYYY-MM"))?;
    close(state, &m, &Actor::system(JOB, state.now())).await
}

/// Engines, operations and price lists, built once per close.
struct Ctx<'a> {
    state: &'a AppState,
    month: &'a Month,
    actor: &'a Actor,
    engines: HashMap<String, Arc<Engine>>,
    lists: HashMap<String, PriceList>,
    order_lists: HashMap<String, String>,
    /// The instant the month's charges are dated: its last millisecond.
    dated: Timestamp,
}

impl Ctx<'_> {
    fn engine(&mut self, version: &str) -> ApiResult<Arc<Engine>> {
        if let Some(e) = self.engines.get(version) {
            return Ok(e.clone());
        }
        let e = crate::orders::engine(self.state, version)?;
        self.engines.insert(version.to_owned(), e.clone());
        Ok(e)
    }

    /// The price list the service's order was priced with.
    async fn list_of(&mut self, s: &ServiceRow) -> ApiResult<Option<&PriceList>> {
        if !self.order_lists.contains_key(&s.order_id) {
            let o = orders::get(self.state.store().db(), &Scope::Staff, &s.order_id).await?;
            self.order_lists
                .insert(s.order_id.clone(), o.price_list_id.clone());
        }
        Ok(self
            .order_lists
            .get(&s.order_id)
            .and_then(|id| self.lists.get(id)))
    }

    fn charge(
        &self,
        s: &ServiceRow,
        key: String,
        rule: &str,
        label: String,
        amount: Decimal,
        ex: &Explanation,
    ) -> ApiResult<NewCharge> {
        Ok(NewCharge {
            org_id: s.org_id.clone(),
            source_kind: SOURCE,
            source_id: s.id.to_string(),
            charge_key: key,
            rule: rule.to_owned(),
            label,
            amount: format!("{:.2}", amount),
            explanation_json: serde_json::to_string(ex).map_err(|_| Problem::internal())?,
            occurred_at: self.dated,
        })
    }
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> Problem {
    Problem::internal().detail(format!("stored usage data: {e}"))
}

/// Closes one month as `actor`.
pub async fn close(state: &AppState, month: &Month, actor: &Actor) -> ApiResult<CloseReport> {
    if month.end > state.now() {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "month_not_over",
            "The month is not over",
        )
        .field("month")
        .detail(format!("{} ends at {}", month.label, month.end)));
    }
    let db = state.store().db();
    let mut lists = HashMap::new();
    if let Some((book, _)) = crate::orders::price_book(state).await? {
        for l in book.lists() {
            lists.insert(l.id().to_owned(), l.clone());
        }
    }
    let mut ctx = Ctx {
        state,
        month,
        actor,
        engines: HashMap::new(),
        lists,
        order_lists: HashMap::new(),
        dated: month
            .end
            .checked_sub(jiff::SignedDuration::from_millis(1))
            .map_err(corrupt)?,
    };
    let services =
        ciel_store::services::of_kinds(db, &["colocation", "pra", "backup", "m365_backup"]).await?;
    let by_id: HashMap<&str, &ServiceRow> = services.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut report = CloseReport {
        month: month.label.clone(),
        ..CloseReport::default()
    };
    let mut out: Vec<NewCharge> = Vec::new();
    bandwidth(&mut ctx, &by_id, &mut out, &mut report).await?;
    for s in services.iter().filter(|s| s.kind == "colocation") {
        if let Some(c) = power(&mut ctx, s).await? {
            report.power_charges += 1;
            out.push(c);
        }
    }
    for c in pra(&mut ctx, &by_id).await? {
        report.pra_charges += 1;
        out.push(c);
    }
    let mut total = Decimal::ZERO;
    let mut tx = state.store().begin().await?;
    for c in out {
        total += Decimal::from_str_exact(&c.amount).map_err(corrupt)?;
        if charges::hand_over(&mut tx, actor, c).await? {
            report.charges_new += 1;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    report.amount = format!("{total:.2}");
    for s in services
        .iter()
        .filter(|s| s.kind == "backup" || s.kind == "m365_backup")
    {
        storage(&mut ctx, s, &mut report).await?;
    }
    fair_use(&mut ctx, &mut report).await?;
    let mut tx = state.store().begin().await?;
    let json = serde_json::to_string(&report).map_err(|_| Problem::internal())?;
    usage::record_close(&mut tx, &month.label, &json, actor.recorded_at).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(report)
}

/// R2.8: per port, the percentile of each direction, the higher billed.
async fn bandwidth(
    ctx: &mut Ctx<'_>,
    by_id: &HashMap<&str, &ServiceRow>,
    out: &mut Vec<NewCharge>,
    report: &mut CloseReport,
) -> ApiResult<()> {
    let db = ctx.state.store().db();
    let ports = usage::all_ports(db).await?;
    let mut pct: HashMap<i64, Decimal> = HashMap::new();
    for p in &ports {
        if let Some(s) = by_id.get(p.service_id.as_str()) {
            let e = ctx.engine(&s.terms_version)?;
            pct.insert(
                p.num,
                e.terms().billing.bandwidth_percentile.dropped_top_percent.0,
            );
        }
    }
    let nums: Vec<i64> = ports
        .iter()
        .map(|p| p.num)
        .filter(|n| pct.contains_key(n))
        .collect();
    let unit = Decimal::from(1_000_000);
    let found = port_percentiles(
        ctx.state.store(),
        &nums,
        ctx.month.start,
        ctx.month.end,
        &|num| pct.get(&num).copied().unwrap_or_default(),
        unit,
    )
    .await?;
    report.ports = u64::try_from(found.len()).unwrap_or(0);
    let port_of: HashMap<i64, &usage::Port> = ports.iter().map(|p| (p.num, p)).collect();
    for (num, up, down) in found {
        if up.readings == 0 && down.readings == 0 {
            continue;
        }
        let Some(port) = port_of.get(&num) else {
            continue;
        };
        let Some(s) = by_id.get(port.service_id.as_str()) else {
            continue;
        };
        let Item::Colocation(c) = item_of(s)? else {
            continue;
        };
        let e = ctx.engine(&s.terms_version)?;
        let (_, amount, ex) = price_bandwidth(&e, &c, up, down)?;
        if amount <= Decimal::ZERO {
            continue;
        }
        let b = &e.terms().billing.bandwidth_percentile;
        report.bandwidth_charges += 1;
        out.push(ctx.charge(
            s,
            format!("bandwidth:{}:{}", ctx.month.label, port.name),
            &b.rule,
            format!(
                "Bande passante au 95e centile, port {}, {} / Bandwidth overage (95th percentile)",
                port.name, ctx.month.label
            ),
            amount,
            &ex,
        )?);
    }
    Ok(())
}

/// R2.8 for each of `ports` over `[from, to)`: (port, upload = out,
/// download = in), each direction's percentile dropping the top
/// `dropped_top_percent(port)` %, values divided by `unit`. The two halves
/// of the ports are read on two connections at once (each SQLite
/// connection reads in its own thread while this task decodes), in port
/// order.
pub async fn port_percentiles(
    store: &ciel_store::Store,
    ports: &[i64],
    from: Timestamp,
    to: Timestamp,
    dropped_top_percent: &(dyn Fn(i64) -> Decimal + Sync),
    unit: Decimal,
) -> ApiResult<Vec<(i64, Percentile, Percentile)>> {
    let half = |part: &[i64]| {
        let part = part.to_vec();
        async move {
            let mut found = Vec::with_capacity(part.len());
            usage::for_each_port_month(store.db(), &part, from, to, |num, i, o| {
                let p = dropped_top_percent(num);
                found.push((
                    num,
                    Percentile::of_integers(o, p, unit),
                    Percentile::of_integers(i, p, unit),
                ));
            })
            .await
            .map(|()| found)
        }
    };
    let (a, b) = ports.split_at(ports.len() / 2);
    let (mut a, b) = tokio::try_join!(half(a), half(b))?;
    a.extend(b);
    Ok(a)
}

/// The R2.8 bill of one port's month and its price: overage (Mbit/s) ×
/// the order line's price per Mbit/s, rounded to the cent (R2.12).
pub(crate) fn price_bandwidth(
    e: &Engine,
    c: &Colocation,
    up: Percentile,
    down: Percentile,
) -> ApiResult<(BandwidthBill, Decimal, Explanation)> {
    let bill = e
        .bandwidth_bill(up, down, Decimal::from(c.bandwidth_flat_mbps))
        .map_err(corrupt)?;
    let price = c.overage_price_per_mbps.get();
    let overage = bill.value.overage;
    let amount = e.round_money(overage * price);
    let b = &e.terms().billing.bandwidth_percentile;
    let mut ex = bill.explanation;
    ex.push(
        Step::new(&b.rule, &b.clause)
            .input("overage_mbps", overage)
            .input("price_per_mbps", price)
            .outcome(format!("amount={amount}"))
            .text(
                format!(
                    "{} Mbit/s × {} € = {} € HT (arrondi au centime, R2.12)",
                    overage.normalize(),
                    price.normalize(),
                    amount
                ),
                format!(
                    "{} Mbit/s × EUR {} = EUR {} excl. VAT (rounded to the cent, R2.12)",
                    overage.normalize(),
                    price.normalize(),
                    amount
                ),
            ),
    );
    Ok((bill.value, amount, ex))
}

fn colocation_of(s: &ServiceRow) -> ApiResult<Option<Colocation>> {
    Ok(match item_of(s)? {
        Item::Colocation(c) => Some(c),
        _ => None,
    })
}

/// R11.5: the month's excess above the subscribed power, priced per kVAh.
async fn power(ctx: &mut Ctx<'_>, s: &ServiceRow) -> ApiResult<Option<NewCharge>> {
    let Some(c) = colocation_of(s)? else {
        return Ok(None);
    };
    let rows = usage::power_readings(
        ctx.state.store().db(),
        s.id.as_str(),
        ctx.month.start,
        ctx.month.end,
    )
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let dec = |v: &Option<String>| -> ApiResult<Option<Decimal>> {
        v.as_deref()
            .map(Decimal::from_str_exact)
            .transpose()
            .map_err(corrupt)
    };
    let readings = rows
        .iter()
        .map(|(at, a, k)| {
            Ok(PowerReading {
                at: *at,
                amps: dec(a)?,
                kva: dec(k)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let e = ctx.engine(&s.terms_version)?;
    let ops = Operations::new(e.terms(), ProductParams::default()).map_err(corrupt)?;
    let emplacement = Emplacement {
        id: c.emplacement.clone(),
        subscribed_amps: c.max_amperage_a,
        subscribed_kva: c.power_kva,
    };
    let a = ops
        .assess_power(&emplacement, &readings, ctx.month.end)
        .map_err(corrupt)?;
    if a.excess.quantity <= Decimal::ZERO {
        return Ok(None);
    }
    let sku = format!("colocation.{}.power_kva", c.datacenter.to_ascii_lowercase());
    let month = ctx.month.clone();
    let Some(list) = ctx.list_of(s).await? else {
        return Ok(None);
    };
    let Some(tiers) = Sku::parse(&sku).ok().and_then(|k| list.get(&k).cloned()) else {
        tracing::warn!(service = %s.id, sku, "no price for the power excess");
        return Ok(None);
    };
    let unit = tiers.price(c.power_kva).map_err(corrupt)?.unit_price.get();
    let hours = Decimal::from(month.start.until(month.end).map_err(corrupt)?.get_seconds())
        / Decimal::from(3600);
    let (price, per) = match a.excess.basis {
        ExcessBasis::Energy => (unit / hours, "kVAh"),
        ExcessBasis::PeakPower => (unit, "kVA"),
    };
    let amount = e.round_money(a.excess.quantity * price);
    let mut ex = a.reasons.reasons.clone();
    ex.push(
        Step::new("R11.5", "CS 2.3.5")
            .input("excess", a.excess.quantity)
            .input("sku", &sku)
            .input("monthly_price_per_kva", unit)
            .input("hours_of_month", hours)
            .outcome(format!("amount={amount}"))
            .text(
                format!(
                    "{} {per} × ({} € par kVA et par mois ÷ {} h) = {} € HT",
                    a.excess.quantity.round_dp(4).normalize(),
                    unit.normalize(),
                    hours.normalize(),
                    amount
                ),
                format!(
                    "{} {per} × (EUR {} per kVA a month ÷ {} h) = EUR {} excl. VAT",
                    a.excess.quantity.round_dp(4).normalize(),
                    unit.normalize(),
                    hours.normalize(),
                    amount
                ),
            ),
    );
    if amount <= Decimal::ZERO {
        return Ok(None);
    }
    Ok(Some(ctx.charge(
        s,
        format!("power:{}", month.label),
        "R11.5",
        format!(
            "Dépassement de puissance, {} / Power above the subscription",
            month.label
        ),
        amount,
        &ex,
    )?))
}

/// The part of an activation from `start` to `end` (None: still running)
/// inside `month`: each month bills its own started days (R2.10).
fn within(
    start: Timestamp,
    end: Option<Timestamp>,
    month: &Month,
) -> Option<(Timestamp, Timestamp)> {
    let s = start.max(month.start);
    let e = end.unwrap_or(month.end).min(month.end);
    (s < e).then_some((s, e))
}

/// R2.10 and R10.3: the started Paris days of each activation (or full
/// test) within the month, per machine.
async fn pra(ctx: &mut Ctx<'_>, by_id: &HashMap<&str, &ServiceRow>) -> ApiResult<Vec<NewCharge>> {
    let spans =
        usage::activations_overlapping(ctx.state.store().db(), ctx.month.start, ctx.month.end)
            .await?;
    let days_in_month = Decimal::from(ctx.month.last_day.day());
    let mut out = Vec::new();
    for a in spans {
        // A failover, or a full test billed as one, or a simple test
        // notified too late (R10.3).
        let billed = a.test_billed || matches!(a.test_kind.as_deref(), None | Some("full"));
        if !billed {
            continue;
        }
        let Some((start, end)) = within(a.requested_at, a.closed_at, ctx.month) else {
            continue;
        };
        for m in &a.machines {
            let Some(s) = by_id.get(m.as_str()) else {
                continue;
            };
            let e = ctx.engine(&s.terms_version)?;
            let days = e.failover_days(start, end).map_err(corrupt)?;
            let fee = Decimal::from_str_exact(&s.monthly_fee).map_err(corrupt)?;
            let amount = e.round_money(fee * Decimal::from(days.value.days) / days_in_month);
            if amount <= Decimal::ZERO {
                continue;
            }
            let p = &e.terms().billing.pra_usage_unit;
            let mut ex = Explanation::default();
            if a.test_kind.as_deref() == Some("full") {
                ex.push(
                    Step::new("R10.3", "CS 4.7")
                        .input("activation", &a.id)
                        .outcome("note:billed_as_activation")
                        .text(
                            "test complet : ressources facturées comme une activation",
                            "full test: resources billed as an activation",
                        ),
                );
            } else if a.test_kind.is_some() {
                ex.push(
                    Step::new("R10.3", "CS 4.7")
                        .input("activation", &a.id)
                        .outcome("note:billed")
                        .text(
                            "test simple prévenu trop tard : ressources facturées comme une activation",
                            "simple test notified too late: resources billed as an activation",
                        ),
                );
            }
            ex.extend(days.explanation);
            ex.push(
                Step::new(&p.rule, &p.clause)
                    .input("monthly_fee", fee)
                    .input("days", days.value.days)
                    .input("days_in_month", days_in_month)
                    .outcome(format!("amount={amount}"))
                    .text(
                        format!(
                            "{} € × {} jour(s) ÷ {} jours du mois = {} € HT",
                            fee.normalize(),
                            days.value.days,
                            days_in_month,
                            amount
                        ),
                        format!(
                            "EUR {} × {} day(s) ÷ {} days of the month = EUR {} excl. VAT",
                            fee.normalize(),
                            days.value.days,
                            days_in_month,
                            amount
                        ),
                    ),
            );
            let what = if a.test_kind.as_deref() == Some("full") {
                "Test PRA complet / Full PRA test"
            } else if a.test_kind.is_some() {
                "Test PRA simple, préavis tardif / Simple PRA test, late notice"
            } else {
                "Activation PRA / PRA activation"
            };
            out.push(ctx.charge(
                s,
                format!("pra:{}:{}", a.id, ctx.month.label),
                &p.rule,
                format!("{what}, {} j, {}", days.value.days, ctx.month.label),
                amount,
                &ex,
            )?);
        }
    }
    Ok(out)
}

/// The subscribed storage (GB) of a backup item, and the item at another level.
fn storage_level(item: &Item) -> Option<(Decimal, &'static str)> {
    match item {
        Item::ExternalBackup(b) => Some((Decimal::from(b.storage_gb), "backup.storage_gb")),
        Item::M365Backup(m) => m
            .provisioned_storage_gb
            .map(|g| (Decimal::from(g), "m365_backup.storage_gb")),
        _ => None,
    }
}

fn with_level(item: &Item, gb: u32) -> Item {
    let mut out = item.clone();
    match &mut out {
        Item::ExternalBackup(b) => b.storage_gb = gb,
        Item::M365Backup(m) => m.provisioned_storage_gb = Some(gb),
        _ => {}
    }
    out
}

/// Sets the adjusted level and fee over the service as it is now: the
/// daily pass may have moved it (the end of its contest window, a renewal)
/// since the close listed it, and the level only replaces the storage of
/// the item, whatever else changed. A few re-reads absorb such races.
async fn set_level(
    tx: &mut ciel_store::Tx,
    actor: &Actor,
    s: &ServiceRow,
    gb: u32,
    fee: &str,
) -> ApiResult<()> {
    for _ in 0..3 {
        let fresh = ciel_store::services::get(&mut **tx, &Scope::Staff, s.id.as_str()).await?;
        let json = serde_json::to_string(&with_level(&item_of(&fresh)?, gb))
            .map_err(|_| Problem::internal())?;
        match ciel_store::services::set_fee(tx, actor, &fresh, fee, &json).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::moved("service"))
}

/// R2.9: more than 5 days above the subscription → warning and the fee of
/// the smallest tier covering the peak from the next month.
async fn storage(ctx: &mut Ctx<'_>, s: &ServiceRow, report: &mut CloseReport) -> ApiResult<()> {
    let item = item_of(s)?;
    let Some((subscribed, sku)) = storage_level(&item) else {
        return Ok(());
    };
    let rows = usage::storage_readings(
        ctx.state.store().db(),
        s.id.as_str(),
        ctx.month.start,
        ctx.month.end,
    )
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let e = ctx.engine(&s.terms_version)?;
    let tz = e.month_zone().clone();
    let mut peaks: HashMap<jiff::civil::Date, Decimal> = HashMap::new();
    for (at, gb) in &rows {
        let v = Decimal::from_str_exact(gb).map_err(corrupt)?;
        let d = at.to_zoned(tz.clone()).date();
        let p = peaks.entry(d).or_insert(v);
        *p = (*p).max(v);
    }
    let mut daily: Vec<(jiff::civil::Date, Decimal)> = peaks.into_iter().collect();
    daily.sort_unstable();
    let peak = daily.iter().map(|(_, v)| *v).max().unwrap_or_default();
    let month = ctx.month.clone();
    let list = ctx.list_of(s).await?.cloned();
    let mut tiers: Vec<Decimal> = list
        .as_ref()
        .and_then(|l| Sku::parse(sku).ok().and_then(|k| l.get(&k).cloned()))
        .map(|t| t.tiers().iter().filter_map(|t| t.up_to).collect())
        .unwrap_or_default();
    tiers.push(peak.ceil());
    let outcome = e
        .usage_overage(subscribed, &daily, &tiers)
        .map_err(corrupt)?;
    let o = &outcome.value;
    let new_fee = match (o.adjust, o.new_level, &list) {
        (true, Some(level), Some(l)) => {
            let gb = level.ceil().to_u32().unwrap_or(u32::MAX);
            let quoted = l.quote(&with_level(&item, gb), 1).map_err(corrupt)?;
            Some((
                gb,
                e.round_money(quoted.monthly * Decimal::from(s.quantity)),
            ))
        }
        _ => None,
    };
    let next = month.next().ok_or_else(|| corrupt("no next month"))?;
    let adj = Adjustment {
        service_id: s.id.to_string(),
        month: month.label.clone(),
        org_id: s.org_id.clone(),
        subscribed: subscribed.normalize().to_string(),
        peak: peak.normalize().to_string(),
        days_over: i64::from(o.days_over),
        new_level: new_fee.map(|(gb, _)| gb.to_string()),
        old_fee: s.monthly_fee.clone(),
        new_fee: new_fee.map(|(_, f)| format!("{f:.2}")),
        effective_from: next.first_day.to_string(),
        explanation_json: serde_json::to_string(&outcome.explanation)
            .map_err(|_| Problem::internal())?,
        created_at: ctx.actor.recorded_at,
    };
    let mut tx = ctx.state.store().begin().await?;
    if !usage::record_adjustment(&mut tx, ctx.actor, &adj).await? {
        return Ok(());
    }
    report.adjustments_new += 1;
    if o.adjust {
        if let Some((gb, fee)) = new_fee {
            set_level(&mut tx, ctx.actor, s, gb, &format!("{fee:.2}")).await?;
            report.fees_adjusted += 1;
        }
        let org = orgs::get(&mut *tx, &Scope::Staff, s.org_id.as_str()).await?;
        let link = ctx.state.link(&format!(
            "/espace-client/usage/{}?month={}",
            s.id, month.label
        ));
        for to in crate::services::members(&mut tx, s.org_id.as_str(), |u| u.is_org_admin).await? {
            let mail = ciel_mail::Mail::UsageOverage {
                name: to.name.clone(),
                org_name: org.name.clone(),
                service: format!("{} ({})", s.label, s.id),
                month: month.label.clone(),
                subscribed: adj.subscribed.clone(),
                peak: adj.peak.clone(),
                days_over: o.days_over.to_string(),
                new_level: adj.new_level.clone().unwrap_or_default(),
                new_fee: adj.new_fee.clone().unwrap_or_default(),
                effective_from: adj.effective_from.clone(),
                link: link.clone(),
            };
            crate::accounts::send_mail(ctx.state, &mut tx, &to, mail).await?;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// R3.5: the month's bytes recorded on each service; a newly flagged month
/// mails the staff.
async fn fair_use(ctx: &mut Ctx<'_>, report: &mut CloseReport) -> ApiResult<()> {
    let db = ctx.state.store().db();
    let first = ctx.month.first_day;
    for (id, bytes) in usage::traffic_totals(db, ctx.month.start, ctx.month.end).await? {
        let bytes = u64::try_from(bytes).unwrap_or(0);
        let Some((before, saved)) = record_traffic(ctx, &id, bytes).await? else {
            continue;
        };
        report.traffic_recorded += 1;
        let after = crate::services::state_of(&saved)?;
        let Some(now) = after.service().and_then(|s| s.fair_use_of(first)).cloned() else {
            continue;
        };
        if now.exceeded && !before.is_some_and(|b| b.exceeded) {
            report.fair_use_flagged += 1;
            notify_fair_use(ctx, &saved, &now).await?;
        }
    }
    Ok(())
}

/// Records a month's bytes on a service, once: `None` when it was already
/// recorded (by another close) or the service does not take it. A 409 is
/// read again: the daily pass may have moved the service meanwhile, which
/// must not lose the month's traffic.
async fn record_traffic(
    ctx: &Ctx<'_>,
    id: &str,
    bytes: u64,
) -> ApiResult<Option<(Option<ciel_catalog::service::FairUseMonth>, ServiceRow)>> {
    let db = ctx.state.store().db();
    let first = ctx.month.first_day;
    for _ in 0..3 {
        let row = ciel_store::services::get(db, &Scope::Staff, id).await?;
        let st = crate::services::state_of(&row)?;
        let Some(svc) = st.service() else {
            return Ok(None);
        };
        let before = svc.fair_use_of(first).cloned();
        if before.as_ref().is_some_and(|m| m.bytes == bytes) {
            return Ok(None);
        }
        let event = ServiceEvent::RecordMonthlyTraffic {
            month: first,
            bytes,
        };
        match crate::services::act_as(ctx.state, ctx.actor, &row, &event, ctx.actor.recorded_at)
            .await
        {
            Ok(saved) => return Ok(Some((before, saved))),
            Err(p) if p.status == 409 => continue,
            Err(p) => return Err(p),
        }
    }
    Ok(None)
}

async fn notify_fair_use(
    ctx: &Ctx<'_>,
    s: &ServiceRow,
    m: &ciel_catalog::service::FairUseMonth,
) -> ApiResult<()> {
    let mut tx = ctx.state.store().begin().await?;
    let org = orgs::get(&mut *tx, &Scope::Staff, s.org_id.as_str()).await?;
    let Some(provider) = orgs::provider(&mut *tx).await? else {
        return Ok(());
    };
    let staff = crate::services::members(&mut tx, provider.id.as_str(), |u| {
        matches!(u.staff_role, Some(StaffRole::Admin | StaffRole::Support))
    })
    .await?;
    let link = ctx.state.link(&format!(
        "/back-office/usage/{}?month={}",
        s.id, ctx.month.label
    ));
    let tb = Decimal::from(m.bytes) / Decimal::from(1_000_000_000_000u64);
    for to in staff {
        let mail = ciel_mail::Mail::FairUse {
            name: to.name.clone(),
            org_name: org.name.clone(),
            service: format!("{} ({})", s.label, s.id),
            month: ctx.month.label.clone(),
            terabytes: tb.round_dp(3).normalize().to_string(),
            limit_mbit_per_s: m.limit_mbit_per_s.unwrap_or_default().to_string(),
            link: link.clone(),
        };
        crate::accounts::send_mail(ctx.state, &mut tx, &to, mail).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

// ------------------------------------------------------------------- the job

/// Enqueues the close at `at` (once per instant: the dedup key holds it).
pub async fn schedule(state: &AppState, at: Timestamp) -> anyhow::Result<()> {
    jobs::enqueue(
        state.store().writer(),
        jobs::NewJob {
            kind: JOB,
            payload: serde_json::json!({ "at": at.to_string() }),
            run_at: at,
            dedup_key: Some(format!("{JOB}:{}", at.as_millisecond())),
            max_attempts: 10,
        },
        state.now(),
    )
    .await?;
    Ok(())
}

/// At start: this month's 1st (catching up, idempotent) and the next 1st.
pub async fn schedule_runs(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    if let Some(m) = Month::containing(now) {
        schedule(state, m.start).await?;
        if let Some(next) = m.next() {
            schedule(state, next.start).await?;
        }
    }
    Ok(())
}

/// The job: closes the month before `now`'s, then schedules the next 1st.
pub async fn run_job(state: &AppState) -> ApiResult<CloseReport> {
    let now = state.now();
    let this = Month::containing(now).ok_or_else(|| corrupt("no month"))?;
    let month = this
        .previous()
        .ok_or_else(|| corrupt("no previous month"))?;
    let report = close(state, &month, &Actor::system(JOB, now)).await?;
    if let Some(next) = this.next() {
        schedule(state, next.start)
            .await
            .map_err(|e| Problem::internal().detail(e.to_string()))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Days billed in each month for a failover from `a` to `b`.
    fn days(a: &str, b: Option<&str>, months: &[(i16, i8)]) -> Vec<i32> {
        let e = Engine::embedded().unwrap();
        months
            .iter()
            .map(|(y, m)| {
                let month = Month::of(*y, *m).unwrap();
                within(ts(a), b.map(ts), &month)
                    .map_or(0, |(s, e2)| e.failover_days(s, e2).unwrap().value.days)
            })
            .collect()
    }

    #[test]
    fn a_failover_across_months_bills_each_month_its_days() {
        // 30 June 23:00 Paris → 2 July 01:00 Paris: June 1 day (30),
        // July 2 days (1, 2); nothing in May or August.
        assert_eq!(
            days(
                "2026-06-30T23:00:00+02:00",
                Some("2026-07-02T01:00:00+02:00"),
                &[(2026, 5), (2026, 6), (2026, 7), (2026, 8)]
            ),
            vec![0, 1, 2, 0]
        );
        // Ending exactly at midnight of 1 July starts no day in July.
        assert_eq!(
            days(
                "2026-06-30T23:00:00+02:00",
                Some("2026-07-01T00:00:00+02:00"),
                &[(2026, 6), (2026, 7)]
            ),
            vec![1, 0]
        );
        // Across the March DST night (29 March, a 23-hour day) into April,
        // still running: March 28-31 = 4 days, April all 30 days.
        assert_eq!(
            days("2026-03-28T12:00:00+01:00", None, &[(2026, 3), (2026, 4)]),
            vec![4, 30]
        );
        // 23:30 → 00:30 across the month's midnight: one day in each.
        assert_eq!(
            days(
                "2026-10-31T23:30:00+01:00",
                Some("2026-11-01T00:30:00+01:00"),
                &[(2026, 10), (2026, 11)]
            ),
            vec![1, 1]
        );
    }
}
