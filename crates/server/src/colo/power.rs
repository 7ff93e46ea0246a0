//! Power alerts (R11.5): each power reading ingested is levelled by
//! `Operations::power_level` against the emplacement's subscribed amperage
//! and kVA (on the colocation item); a reading that raises the level above
//! the previous reading's (normal → near, near or normal → above) is a
//! crossing, recorded once (unique per service, instant and level) and
//! mailed once to the client's Administrators and the datacenter staff. A
//! reading back under the threshold rearms it. Readings older than the
//! latest one already levelled (a late replay) raise nothing.

use super::{Notice, corrupt};
use crate::problem::ApiResult;
use crate::state::AppState;
use ciel_catalog::Item;
use ciel_mail::ColocationMail;
use ciel_operations::power::{Emplacement, PowerLevel, PowerReading};
use ciel_store::colo_work as store;
use ciel_store::{Actor, Scope, Tx, services};
use jiff::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

fn code(l: PowerLevel) -> &'static str {
    match l {
        PowerLevel::Normal => "normal",
        PowerLevel::Near => "near",
        PowerLevel::Above => "above",
    }
}

fn parse(l: &str) -> PowerLevel {
    match l {
        "near" => PowerLevel::Near,
        "above" => PowerLevel::Above,
        _ => PowerLevel::Normal,
    }
}

/// The emplacement of a colocation service, from its item.
pub fn emplacement(s: &services::ServiceRow) -> ApiResult<Option<(Emplacement, String)>> {
    match serde_json::from_str::<Item>(&s.item_json).map_err(|e| corrupt("item", e))? {
        Item::Colocation(c) => Ok(Some((
            Emplacement {
                id: c.emplacement.clone(),
                subscribed_amps: c.max_amperage_a,
                subscribed_kva: c.power_kva,
            },
            format!("{} {}", c.datacenter, c.emplacement),
        ))),
        _ => Ok(None),
    }
}

/// Levels the power readings just written (in the ingestion's
/// transaction) and records and mails each crossing. Returns the alerts.
pub async fn after_readings(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    readings: &[(String, Timestamp, Option<Decimal>, Option<Decimal>)],
) -> ApiResult<usize> {
    let mut by_service: BTreeMap<&str, Vec<PowerReading>> = BTreeMap::new();
    for (s, at, amps, kva) in readings {
        by_service.entry(s).or_default().push(PowerReading {
            at: *at,
            amps: *amps,
            kva: *kva,
        });
    }
    let mut alerts = 0;
    for (service_id, mut rs) in by_service {
        rs.sort_by_key(|r| r.at);
        let s = services::get(&mut **tx, &Scope::Staff, service_id).await?;
        let Some((e, label)) = emplacement(&s)? else {
            continue;
        };
        let ops = super::ops(state, &s.terms_version)?;
        let (mut level, last) = match store::power_state(tx, service_id).await? {
            Some((l, at)) => (parse(&l), Some(at)),
            None => (PowerLevel::Normal, None),
        };
        let mut latest = last;
        for r in rs.iter().filter(|r| last.is_none_or(|l| r.at > l)) {
            let now_level = ops.power_level(&e, r);
            if now_level > level {
                let a = ops
                    .assess_power(&e, std::slice::from_ref(r), r.at)
                    .map_err(|x| corrupt("power", x))?;
                let ex = &a.reasons.reasons;
                let new = store::record_power_alert(
                    tx,
                    actor,
                    &s.org_id,
                    service_id,
                    r.at,
                    code(now_level),
                    r.amps.map(|d| d.normalize().to_string()),
                    r.kva.map(|d| d.normalize().to_string()),
                    serde_json::to_string(ex).map_err(|x| corrupt("explanation", x))?,
                )
                .await?;
                if let Some(alert) = new {
                    let n = Notice {
                        kind: ColocationMail::PowerAlert,
                        org_id: s.org_id.as_str(),
                        reference: alert.id.as_str(),
                        subject: &label,
                        day: r.at,
                        reasons: Some(ex),
                        extra: "",
                        client_path: "/espace-client/colocation/travaux",
                        staff_path: "/back-office/colocation/operations",
                    };
                    super::notify_client(state, tx, &n).await?;
                    super::notify_staff(state, tx, &n).await?;
                    alerts += 1;
                }
            }
            level = now_level;
            latest = Some(r.at);
        }
        if let Some(at) = latest {
            store::set_power_state(tx, service_id, code(level), at).await?;
        }
    }
    Ok(alerts)
}

/// An organisation's power alerts, newest first.
pub async fn list_alerts(
    state: &AppState,
    p: &crate::auth::Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<ciel_store::Page<store::PowerAlertRow>> {
    let db = state.store().db();
    let org = ciel_store::orgs::get(db, &p.scope, org_id).await?;
    super::require_reader(p)?;
    Ok(store::list_power_alerts(db, &p.scope, org.id.as_str(), cursor, limit).await?)
}
