//! A client's monthly invoice plan (R2.4) from what the store holds: its
//! provisioned services, their setup fees, its pending charges and the VAT
//! rate of its profile, computed by the engine of the terms governing its
//! services. Pure: the run reads, this builds, the engine computes.

use std::collections::{BTreeMap, HashSet};

use ciel_catalog::item::Item;
use ciel_catalog::service::ServiceState;
use ciel_engine::billing::{BilledService, InvoicePlan, PendingCharge};
use ciel_engine::{Engine, Explained};
use ciel_store::charges::Charge;
use ciel_store::services::ServiceRow;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

/// What a service row bills (R2.4, R2.5, R9.2).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceBilling {
    pub billed: BilledService,
    /// The item kind code (`cloud_vm`...), for the accounts per offer.
    pub offer: String,
    pub order_id: String,
}

fn dec(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text.trim()).map_err(|e| format!("{field} {text:?}: {e}"))
}

/// The billing view of one provisioned service. The last day billed is the
/// last day of service (termination or end); for an external backup with
/// the immutability option (R9.2) it is extended to `immutable_last_day`,
/// the day the last immutable backup's conservation ends as
/// `ciel_operations` computes it from the recorded job results
/// (`crate::backup::immutable_last_day`); without a recorded immutable
/// backup, by the immutability duration from the last day of service (the
/// latest a backup can be taken). The label says so.
pub fn service_billing(
    row: &ServiceRow,
    setup_fee_unit: &str,
    setup_billed: bool,
    vat_percent: Decimal,
    immutable_last_day: Option<jiff::civil::Date>,
) -> Result<ServiceBilling, String> {
    let state: ServiceState =
        serde_json::from_str(&row.state_json).map_err(|e| format!("service {}: {e}", row.id))?;
    let (start, mut last_day) = match state.service() {
        Some(s) => (
            Some(s.provisioning.start),
            s.ended_on.or(s.termination.as_ref().map(|t| t.last_day)),
        ),
        None => (None, None),
    };
    let mut label = row.label.clone();
    if let (Some(last), Ok(Item::ExternalBackup(b))) =
        (last_day, serde_json::from_str::<Item>(&row.item_json))
        && let Some(d) = b.immutability.filter(|d| !d.is_zero())
        && let Some(until) = immutable_last_day.or_else(|| d.after(last))
        && until > last
    {
        last_day = Some(until);
        label = format!(
            "{label} (R9.2 : rétention immuable jusqu'au {until} / immutable retention until {until})"
        );
    }
    let quantity = Decimal::from(row.quantity);
    Ok(ServiceBilling {
        billed: BilledService {
            id: row.id.to_string(),
            label,
            monthly_fee: dec("monthly_fee", &row.monthly_fee)?,
            vat_percent,
            billing_start: start,
            last_day,
            setup_fee: dec("setup_fee", setup_fee_unit)? * quantity,
            setup_billed,
        },
        offer: row.kind.clone(),
        order_id: row.order_id.clone(),
    })
}

/// A stored charge as billing sees it: its day is read in Paris.
pub fn pending_charge(
    c: &Charge,
    vat_percent: Decimal,
    tz: &TimeZone,
) -> Result<PendingCharge, String> {
    Ok(PendingCharge {
        id: c.id.to_string(),
        label: c.label.clone(),
        amount: dec("charge amount", &c.amount)?,
        vat_percent,
        rule: c.rule.clone(),
        occurred_on: c.occurred_at.to_zoned(tz.clone()).date(),
    })
}

/// The terms version that computes an organisation's invoice: the one its
/// services are pinned to, the most common when they differ (ties: the
/// greatest id); None when it has no service (charges only).
pub fn governing_version(rows: &[(ServiceRow, String)]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, _) in rows {
        *counts.entry(r.terms_version.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(v, n)| (*n, *v))
        .map(|(v, _)| v.to_owned())
}

/// A plan and the credits it carries forward.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Explained<InvoicePlan>,
    /// Credits (negative charges) left pending because the invoice would
    /// otherwise be negative.
    pub carried: Vec<String>,
}

/// The month's plan. French practice forbids a negative invoice (a credit
/// is a credit note, which must correct an invoice): when credits exceed
/// what is billed, the newest credits are left pending, one at a time,
/// until the total is not negative, and are deducted from a later invoice
/// (R7.5: "deducted from the next month's invoice"). A credit no invoice
/// can absorb any more (all services ended) is refunded through the
/// payments side, which sees it pending.
pub fn plan(
    engine: &Engine,
    year: i16,
    month: i8,
    services: &[BilledService],
    charges: &[PendingCharge],
) -> Result<Planned, String> {
    let mut kept: Vec<PendingCharge> = charges.to_vec();
    let mut carried = Vec::new();
    loop {
        let plan = engine
            .monthly_invoice(year, month, services, &kept)
            .map_err(|e| e.to_string())?;
        if plan.value.total_incl_vat >= Decimal::ZERO {
            return Ok(Planned { plan, carried });
        }
        // Drop the newest credit billed on this invoice.
        let billed: HashSet<&str> = plan
            .value
            .lines
            .iter()
            .map(|l| l.source_id.as_str())
            .collect();
        let Some(i) = kept
            .iter()
            .rposition(|c| c.amount < Decimal::ZERO && billed.contains(c.id.as_str()))
        else {
            return Err("the invoice total is negative without any credit".into());
        };
        carried.push(kept.remove(i).id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn svc(fee: &str) -> BilledService {
        BilledService {
            id: "s".into(),
            label: "s".into(),
            monthly_fee: Decimal::from_str_exact(fee).unwrap(),
            vat_percent: Decimal::from(20),
            billing_start: Some(date(2026, 1, 1)),
            last_day: None,
            setup_fee: Decimal::ZERO,
            setup_billed: true,
        }
    }

    fn credit(id: &str, amount: i64, day: i8) -> PendingCharge {
        PendingCharge {
            id: id.into(),
            label: id.into(),
            amount: Decimal::from(amount),
            vat_percent: Decimal::from(20),
            rule: "R7.5".into(),
            occurred_on: date(2026, 5, day),
        }
    }

    /// 100 of fees, credits of 60 and 70: the newest (70) waits for a later
    /// invoice, the invoice is 40 excl. VAT; 100 and 30 + 50: both fit.
    #[test]
    fn credits_beyond_the_fees_are_carried_forward() {
        let e = Engine::embedded().unwrap();
        let p = plan(
            &e,
            2026,
            6,
            &[svc("100")],
            &[credit("a", -60, 2), credit("b", -70, 3)],
        )
        .unwrap();
        assert_eq!(p.carried, vec!["b".to_owned()]);
        assert_eq!(p.plan.value.total_excl_vat, Decimal::from(40));
        let p = plan(
            &e,
            2026,
            6,
            &[svc("100")],
            &[credit("a", -30, 2), credit("b", -50, 3)],
        )
        .unwrap();
        assert!(p.carried.is_empty());
        assert_eq!(p.plan.value.total_excl_vat, Decimal::from(20));
        // No fee at all: every credit waits, nothing is billed.
        let p = plan(&e, 2026, 6, &[], &[credit("a", -30, 2)]).unwrap();
        assert_eq!(p.carried, vec!["a".to_owned()]);
        assert!(p.plan.value.is_empty());
    }
}
