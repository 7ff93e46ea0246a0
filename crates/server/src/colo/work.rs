//! Remote hands and the 7-day deadlines of colocation (R11.3-R11.4).
//!
//! - Remote hands are ordered per intervention, on a colocation service,
//!   at the price of `colocation.remote_hands.<kind>` in the price list in
//!   force the day the request is received (R1.5). Done, the price goes to
//!   `charges` once (`source_kind = colocation`, key `remote_hands:<id>`).
//! - A change request of the client opens the provider's 7-day written
//!   answer; an inventory request of the provider and a damage notice open
//!   the client's 7 days. States are `operations::deadlines`' at the
//!   instant asked, never stored; the pass mails the owner when the alert is
//!   due and when the deadline has passed, each once.
//! - Damage left unrepaired after its 7 days may be repaired by the
//!   provider at the client's cost: the cost goes to `charges` (key
//!   `damage:<id>`), refused before the deadline has passed (R11.4).

use super::{Notice, corrupt, require_operator, require_reader, rule, stored, transition};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_mail::ColocationMail;
use ciel_operations::Operations;
use ciel_operations::deadlines::{
    Deadline, DeadlineKind, DeadlineState, DeadlineStatus, Owner, RemoteHands,
};
use ciel_store::colo_work::{self as store, DeadlineChange, DeadlineRow, RemoteHandsRow};
use ciel_store::services::{self, ServiceRow};
use ciel_store::{Page, Scope, StoreError, Tx, charges};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// Source kind of the charges handed over here.
pub const CHARGE_SOURCE: &str = "colocation";

fn text(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(Problem::invalid(
            field,
            format!("between 1 and {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// A colocation service visible to `p` (404 otherwise), provisioned.
async fn colocation_service(tx: &mut Tx, p: &Principal, id: &str) -> ApiResult<ServiceRow> {
    let s = services::get(&mut **tx, &p.scope, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => Problem::not_found().field("service_id"),
            e => e.into(),
        })?;
    if s.kind != "colocation" {
        return Err(Problem::invalid("service_id", "not a colocation service"));
    }
    if s.state != "provisioned" {
        return Err(rule(
            "service_id",
            "R11.3: this colocation service is not provisioned",
        ));
    }
    Ok(s)
}

fn kind_code(k: RemoteHands) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

// ---- remote hands -----------------------------------------------------------

/// Orders remote hands on a colocation service at today's price.
pub async fn order_remote_hands(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    kind: &str,
    description: &str,
) -> ApiResult<RemoteHandsRow> {
    let k: RemoteHands = serde_json::from_value(serde_json::Value::String(kind.to_owned()))
        .map_err(|_| {
            Problem::invalid(
                "kind",
                "R11.3 (CS 2.3.1): racking, unracking, patching, reset, power_on, hardware_reception or hardware_removal",
            )
        })?;
    let description = text("description", description, 4000)?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let s = colocation_service(&mut tx, p, service_id).await?;
    require_reader(p)?;
    let sku = format!("colocation.remote_hands.{}", kind_code(k));
    let book = crate::orders::price_book(state).await?;
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let price = book
        .as_ref()
        .and_then(|(b, _)| b.for_written_request(now, &tz))
        .and_then(|l| {
            ciel_catalog::Sku::parse(&sku)
                .ok()
                .and_then(|k| l.get(&k).cloned())
        })
        .ok_or_else(|| {
            rule(
                "kind",
                format!("R11.3: the price list in force has no price for {sku}"),
            )
        })?
        .price(Decimal::ONE)
        .map_err(|e| corrupt("price", e))?
        .amount;
    let engine = crate::orders::engine(state, &s.terms_version)?;
    let price = engine.round_money(price);
    let row = store::order_remote_hands(
        &mut tx,
        &p.actor(now),
        &s.org_id,
        s.id.as_str(),
        &kind_code(k),
        &description,
        &price.to_string(),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Staff record remote hands done (with the minutes spent: the price is
/// per intervention, the time is kept as evidence) and hand the price to
/// billing, or cancel them.
pub async fn finish_remote_hands(
    state: &AppState,
    p: &Principal,
    id: &str,
    done: bool,
    minutes_spent: Option<i64>,
) -> ApiResult<RemoteHandsRow> {
    let now = state.now();
    if done && !minutes_spent.is_some_and(|m| (1..=10_000).contains(&m)) {
        return Err(Problem::invalid(
            "minutes_spent",
            "R11.3: the time spent, 1 to 10000 minutes",
        ));
    }
    let mut tx = state.store().begin().await?;
    let before = store::get_remote_hands(&mut *tx, &p.scope, id).await?;
    require_operator(p)?;
    if before.status != "ordered" {
        return Err(transition(format!(
            "R11.3: remote hands {} are {}",
            before.id, before.status
        )));
    }
    let actor = p.actor(now);
    let status = if done { "done" } else { "cancelled" };
    let row = store::finish_remote_hands(&mut tx, &actor, &before, status, minutes_spent)
        .await
        .map_err(stored("remote hands"))?;
    if done {
        let explanation = ciel_engine::Explanation {
            steps: vec![
                ciel_engine::Step::new("R11.3", "CS 2.3.1")
                    .input("kind", &row.kind)
                    .input("minutes_spent", minutes_spent.unwrap_or_default())
                    .outcome(format!("amount={}", row.price))
                    .text(
                        format!(
                            "geste de proximité « {} » commandé à l'intervention : {} € HT",
                            row.kind, row.price
                        ),
                        format!(
                            "remote hands \"{}\" ordered per intervention: EUR {} excl. VAT",
                            row.kind, row.price
                        ),
                    ),
            ],
        };
        charges::hand_over(
            &mut tx,
            &actor,
            charges::NewCharge {
                org_id: row.org_id.clone(),
                source_kind: CHARGE_SOURCE,
                source_id: row.service_id.clone(),
                charge_key: format!("remote_hands:{}", row.id),
                rule: "R11.3".into(),
                label: format!("Gestes de proximité / Remote hands: {}", row.kind),
                amount: row.price.clone(),
                explanation_json: serde_json::to_string(&explanation)
                    .map_err(|e| corrupt("explanation", e))?,
                occurred_at: actor.occurred_at,
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

pub async fn list_remote_hands(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<RemoteHandsRow>> {
    let db = state.store().db();
    let org = ciel_store::orgs::get(db, &p.scope, org_id).await?;
    require_reader(p)?;
    Ok(store::list_remote_hands(db, &p.scope, org.id.as_str(), cursor, limit).await?)
}

// ---- deadlines --------------------------------------------------------------

/// A deadline with its state at the instant asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    #[serde(flatten)]
    pub row: DeadlineRow,
    /// Owner, end, state (running, done in time, breached...) and reasons.
    #[schema(value_type = Object)]
    pub status: DeadlineStatus,
}

pub fn parse_kind(kind: &str) -> Option<DeadlineKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned())).ok()
}

fn engine_deadline(r: &DeadlineRow) -> ApiResult<Deadline> {
    Ok(Deadline {
        id: r.id.to_string(),
        kind: parse_kind(&r.kind).ok_or_else(|| corrupt("deadline kind", &r.kind))?,
        opened_at: r.opened_at,
        done_at: r.done_at,
    })
}

fn view(ops: &Operations, row: DeadlineRow, at: Timestamp) -> ApiResult<DeadlineView> {
    let status = ops.deadline_status(&engine_deadline(&row)?, at);
    Ok(DeadlineView { row, status })
}

async fn ops_of(
    state: &AppState,
    tx: &mut Tx,
    service_id: &str,
) -> ApiResult<std::sync::Arc<Operations>> {
    let s = services::get(&mut **tx, &Scope::Staff, service_id).await?;
    super::ops(state, &s.terms_version)
}

/// Opens a deadline: a client's change request (`change_answer`, by the
/// client or staff recording it), or the provider's inventory request or
/// damage notice (`inventory`, `damage_repair`, staff; the client is told).
/// Staff may back-date the receipt with `Ciel-Occurred-At`.
pub async fn open(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    kind: &str,
    subject: &str,
    detail: &str,
) -> ApiResult<DeadlineView> {
    let Some(k) = parse_kind(kind) else {
        return Err(Problem::invalid(
            "kind",
            "R11.4: change_answer, inventory or damage_repair",
        ));
    };
    let subject = text("subject", subject, 200)?;
    let detail = text("detail", detail, 4000)?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let s = colocation_service(&mut tx, p, service_id).await?;
    match k.owner() {
        // The client asks; staff may record a request received otherwise.
        Owner::Provider => require_reader(p)?,
        Owner::Client => require_operator(p)?,
    }
    let actor = p.actor(now);
    let row = store::open_deadline(
        &mut tx,
        &actor,
        &s.org_id,
        s.id.as_str(),
        kind,
        &subject,
        &detail,
        actor.occurred_at,
    )
    .await?;
    let ops = super::ops(state, &s.terms_version)?;
    let v = view(&ops, row, now)?;
    let n = Notice {
        kind: ColocationMail::ClientActionRequested,
        org_id: v.row.org_id.as_str(),
        reference: v.row.id.as_str(),
        subject: &v.row.subject,
        day: v.status.ends_at,
        reasons: Some(&v.status.reasons.reasons),
        extra: &v.row.detail,
        client_path: "/espace-client/colocation/travaux",
        staff_path: "/back-office/colocation/operations",
    };
    match k.owner() {
        Owner::Client => super::notify_client(state, &mut tx, &n).await?,
        Owner::Provider => {
            super::notify_staff(
                state,
                &mut tx,
                &Notice {
                    kind: ColocationMail::DeadlineNear,
                    ..n
                },
            )
            .await?
        }
    };
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

/// What the owner of a deadline did.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// Change requests: `approved` or `refused`.
    pub decision: Option<String>,
    pub answer: String,
}

/// The owner acts: staff answer a change request in writing (the client is
/// mailed the answer); the client sends its inventory or reports the
/// damage repaired (staff may record it for the client).
pub async fn complete(
    state: &AppState,
    p: &Principal,
    id: &str,
    c: Completion,
) -> ApiResult<DeadlineView> {
    let now = state.now();
    let answer = text("answer", &c.answer, 8000)?;
    let mut tx = state.store().begin().await?;
    let before = store::get_deadline(&mut *tx, &p.scope, id).await?;
    let k = parse_kind(&before.kind).ok_or_else(|| corrupt("deadline kind", &before.kind))?;
    match k.owner() {
        Owner::Provider => require_operator(p)?,
        Owner::Client => require_reader(p)?,
    }
    let decision = match (k, c.decision.as_deref()) {
        (DeadlineKind::ChangeAnswer, Some(d @ ("approved" | "refused"))) => Some(d),
        (DeadlineKind::ChangeAnswer, _) => {
            return Err(Problem::invalid(
                "decision",
                "R11.4 (CS 2.3.2): the written answer approves or refuses the change",
            ));
        }
        (_, None) => None,
        (_, Some(_)) => {
            return Err(Problem::invalid(
                "decision",
                "only a change request is decided",
            ));
        }
    };
    if before.done_at.is_some() {
        return Err(transition(format!("R11.4: {} is already done", before.id)));
    }
    let actor = p.actor(now);
    let row = store::change_deadline(
        &mut tx,
        &actor,
        &before,
        &format!("colocation.{}.done", before.kind),
        DeadlineChange {
            done_at: Some(actor.occurred_at),
            decision,
            answer: Some(&answer),
            ..DeadlineChange::default()
        },
    )
    .await
    .map_err(stored("deadline"))?;
    let ops = ops_of(state, &mut tx, &row.service_id).await?;
    let v = view(&ops, row, now)?;
    if k == DeadlineKind::ChangeAnswer {
        let extra = format!("\n{} — {}", decision.unwrap_or_default(), v.row.answer);
        super::notify_client(
            state,
            &mut tx,
            &Notice {
                kind: ColocationMail::ChangeAnswered,
                org_id: v.row.org_id.as_str(),
                reference: v.row.id.as_str(),
                subject: &v.row.subject,
                day: v.row.done_at.unwrap_or(now),
                reasons: Some(&v.status.reasons.reasons),
                extra: &extra,
                client_path: "/espace-client/colocation/travaux",
                staff_path: "/back-office/colocation/operations",
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

/// Staff charge the repair of damage the client left unrepaired past its
/// 7 days (R11.4): refused before the deadline has passed.
pub async fn charge_repair(
    state: &AppState,
    p: &Principal,
    id: &str,
    amount: &str,
) -> ApiResult<DeadlineView> {
    let now = state.now();
    let cost = Decimal::from_str(amount.trim())
        .ok()
        .filter(|d| *d > Decimal::ZERO && d.scale() <= 2)
        .ok_or_else(|| {
            Problem::invalid("amount", "a positive amount in euros, at most 2 decimals")
        })?;
    let mut tx = state.store().begin().await?;
    let before = store::get_deadline(&mut *tx, &p.scope, id).await?;
    require_operator(p)?;
    if before.kind != "damage_repair" {
        return Err(Problem::invalid(
            "kind",
            "only damage is repaired at the client's cost",
        ));
    }
    if before.repair_cost.is_some() {
        return Err(transition(format!(
            "R11.4: the repair of {} was already charged",
            before.id
        )));
    }
    let ops = ops_of(state, &mut tx, &before.service_id).await?;
    let status = ops.deadline_status(&engine_deadline(&before)?, now);
    if !status.repair_at_client_cost {
        return Err(rule(
            "amount",
            format!(
                "R11.4 (CS 2.3.3): the client has until {} to repair; the provider repairs at its cost only after",
                status.ends_at
            ),
        ));
    }
    let actor = p.actor(now);
    let cost = cost.to_string();
    let row = store::change_deadline(
        &mut tx,
        &actor,
        &before,
        "colocation.damage_repair.charge",
        DeadlineChange {
            repair_cost: Some(&cost),
            ..DeadlineChange::default()
        },
    )
    .await
    .map_err(stored("deadline"))?;
    let mut ex = status.reasons.reasons.clone();
    ex.push(
        ciel_engine::Step::new("R11.4", "CS 2.3.3")
            .input("cost", &cost)
            .outcome(format!("amount={cost}"))
            .text(
                format!(
                    "réparation effectuée par le prestataire aux frais du client : {cost} € HT"
                ),
                format!(
                    "repair carried out by the provider at the client's cost: EUR {cost} excl. VAT"
                ),
            ),
    );
    charges::hand_over(
        &mut tx,
        &actor,
        charges::NewCharge {
            org_id: row.org_id.clone(),
            source_kind: CHARGE_SOURCE,
            source_id: row.service_id.clone(),
            charge_key: format!("damage:{}", row.id),
            rule: "R11.4".into(),
            label: format!("Réparation des dommages / Damage repair: {}", row.subject),
            amount: cost.clone(),
            explanation_json: serde_json::to_string(&ex).map_err(|e| corrupt("explanation", e))?,
            occurred_at: actor.occurred_at,
        },
    )
    .await?;
    let v = view(&ops, row, now)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<DeadlineView> {
    let mut tx = state.store().begin().await?;
    let row = store::get_deadline(&mut *tx, &p.scope, id).await?;
    require_reader(p)?;
    let ops = ops_of(state, &mut tx, &row.service_id).await?;
    view(&ops, row, state.now())
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<DeadlineView>> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    require_reader(p)?;
    let page = store::list_deadlines(&mut *tx, &p.scope, org.id.as_str(), cursor, limit).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        let ops = ops_of(state, &mut tx, &row.service_id).await?;
        items.push(view(&ops, row, now)?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// The staff queue: open deadlines, the nearest end first.
pub async fn queue(state: &AppState, p: &Principal) -> ApiResult<Vec<DeadlineView>> {
    require_operator(p)?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let rows = store::open_deadlines(&mut *tx, 500).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let ops = ops_of(state, &mut tx, &row.service_id).await?;
        out.push(view(&ops, row, now)?);
    }
    out.sort_by_key(|v| (v.status.ends_at, v.row.id.to_string()));
    Ok(out)
}

/// The pass: mails the owner of each open deadline once when its alert is
/// due, and once when it has passed. Returns the mails sent.
pub async fn send_deadline_alerts(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let mut tx = state.store().begin().await?;
    let rows = store::open_deadlines(&mut *tx, 10_000).await?;
    let actor = ciel_store::Actor::system(super::pass::JOB, now);
    let mut sent = 0;
    for row in rows {
        let ops = ops_of(state, &mut tx, &row.service_id).await?;
        let v = view(&ops, row, now)?;
        let (kind, change, action) = match v.status.state {
            DeadlineState::AlertDue if v.row.alert_sent_at.is_none() => (
                ColocationMail::DeadlineNear,
                DeadlineChange {
                    alert_sent_at: Some(now),
                    ..DeadlineChange::default()
                },
                "alert",
            ),
            DeadlineState::Breached if v.row.breach_sent_at.is_none() => (
                ColocationMail::DeadlineBreached,
                DeadlineChange {
                    breach_sent_at: Some(now),
                    // A breach without an alert (the pass did not run in
                    // between) is not alerted afterwards.
                    alert_sent_at: v.row.alert_sent_at.or(Some(now)),
                    ..DeadlineChange::default()
                },
                "breach",
            ),
            _ => continue,
        };
        let row = store::change_deadline(
            &mut tx,
            &actor,
            &v.row,
            &format!("colocation.{}.{action}", v.row.kind),
            change,
        )
        .await
        .map_err(stored("deadline"))?;
        let n = Notice {
            kind,
            org_id: row.org_id.as_str(),
            reference: row.id.as_str(),
            subject: &row.subject,
            day: v.status.ends_at,
            reasons: Some(&v.status.reasons.reasons),
            extra: "",
            client_path: "/espace-client/colocation/travaux",
            staff_path: "/back-office/colocation/operations",
        };
        sent += match v.status.owner {
            Owner::Provider => super::notify_staff(state, &mut tx, &n).await?,
            Owner::Client => {
                // The provider follows the client's deadlines too.
                super::notify_client(state, &mut tx, &n).await?
                    + super::notify_staff(state, &mut tx, &n).await?
            }
        };
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(sent)
}
