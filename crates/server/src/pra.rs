//! PRA activations and tests (issue 5, item 5; R6, R10.3-R10.4): the
//! workflows shared by the API and the portal, over the engine's pure
//! [`ciel_engine::Engine::activation`].
//!
//! - An activation concerns the protected machines of one PRA order (one
//!   service per machine, CS 4.2): R6.3 counts a criticality's performance
//!   over all of them, and R6.4's penalty is a share of each machine
//!   service's monthly fee (the statements apply it service by service).
//! - Staff record it from the client's request (its real time, who asked);
//!   a client user holding the `trigger_pra_failover` permission (R10.2)
//!   requests a failover itself, timed now. A test (`simple` or `full`,
//!   R10.3) is excluded from availability and the RTO commitments.
//! - Staff then record, per machine, when it was reachable again and the
//!   replication point it came back from, and close the activation at the
//!   return to nominal. RTO/RPO results are computed whenever shown, under
//!   the terms version governing the machines, never stored.

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::Item;
use ciel_domain::StaffRole;
use ciel_engine::recovery::{Activation, ActivationOutcome, Machine};
use ciel_engine::{Explained, Explanation};
use ciel_store::pra::{self, ActivationRow, MachineRow, NewActivation};
use ciel_store::{Page, Scope, StoreError, services};
use ciel_terms::{ExclusionReason, MachineCriticality};
use jiff::Timestamp;

/// An activation with its RTO/RPO results as they stand.
#[derive(Debug, Clone)]
pub struct ActivationDetail {
    pub row: ActivationRow,
    /// The terms version the results were computed under.
    pub terms_version: String,
    pub outcome: ActivationOutcome,
    pub explanation: Explanation,
}

/// An activation to record.
#[derive(Debug, Clone, Default)]
pub struct ActivationInput {
    /// When the client asked (staff; a client's request is timed now).
    pub requested_at: Option<Timestamp>,
    /// Who asked (staff; a client's request names the user).
    pub requester: Option<String>,
    /// `simple` or `full` for a test (R10.3).
    pub test_kind: Option<String>,
    pub note: Option<String>,
    /// The machine services concerned (default: every provisioned PRA
    /// machine of the order).
    pub services: Option<Vec<String>>,
    /// Machines whose recommended criticality the client refused (R6.5);
    /// a refusal recorded on the machine (`pra_ops::refuse`) counts too.
    pub criticality_refused: Vec<String>,
    /// Staff: the notified test this activation runs (R10.3); its kind is
    /// the test's, and its resources are billed when the test is.
    pub test_id: Option<String>,
}

/// Staff who run failovers with the client: the support desk.
fn staff_operator(r: StaffRole) -> bool {
    matches!(r, StaffRole::Admin | StaffRole::Support)
}

fn can_read(p: &Principal) -> ApiResult<()> {
    crate::auth::require_service_viewer(p, "PRA activations")
}

fn rule(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_violated",
        "Refused by the contract",
    )
    .field(field)
    .detail(detail)
}

fn transition(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field("state")
    .detail(detail)
}

fn stored(e: StoreError) -> Problem {
    match e {
        StoreError::Conflict("version") => Problem::moved("activation"),
        e => e.into(),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

fn criticality(code: &str) -> ApiResult<MachineCriticality> {
    MachineCriticality::try_from(code.to_owned()).map_err(|e| corrupt("criticality", e))
}

fn code(c: MachineCriticality) -> String {
    c.to_string().to_lowercase()
}

/// The engine's view of a stored activation.
pub fn engine_activation(row: &ActivationRow) -> ApiResult<Activation> {
    Ok(Activation {
        id: row.id.to_string(),
        requested_at: row.requested_at,
        test: row.test_kind.is_some(),
        machines: row
            .machines
            .iter()
            .map(|m| {
                Ok(Machine {
                    name: m.machine.clone(),
                    criticality: criticality(&m.criticality)?,
                    reachable_at: m.reachable_at,
                    recovery_point_at: m.recovery_point_at,
                    criticality_refused: m.criticality_refused,
                })
            })
            .collect::<ApiResult<_>>()?,
    })
}

/// The availability window a closed test excludes (R5.3 "tests de PRA").
pub fn test_window(row: &ActivationRow) -> Option<ciel_engine::availability::Window> {
    match (&row.test_kind, row.closed_at) {
        (Some(kind), Some(end)) if end > row.requested_at => {
            Some(ciel_engine::availability::Window {
                id: row.id.to_string(),
                start: row.requested_at,
                end,
                reason: ExclusionReason::PraTest,
                notified_at: None,
                source: format!("pra_test:{kind}"),
            })
        }
        _ => None,
    }
}

async fn detail(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    row: ActivationRow,
) -> ApiResult<ActivationDetail> {
    let first = row
        .machines
        .first()
        .ok_or_else(|| corrupt("activation", "no machine"))?;
    let version = services::get(&mut **tx, &Scope::Staff, &first.service_id)
        .await?
        .terms_version;
    let engine = crate::orders::engine(state, &version)?;
    let Explained { value, explanation } = engine
        .activation(&engine_activation(&row)?)
        .map_err(|e| corrupt("activation", e))?;
    Ok(ActivationDetail {
        row,
        terms_version: version,
        outcome: value,
        explanation,
    })
}

/// Records a failover request or a test on an order's machines.
pub async fn record(
    state: &AppState,
    p: &Principal,
    order_id: &str,
    input: ActivationInput,
) -> ApiResult<ActivationDetail> {
    let now = state.now();
    let (requested_at, requester) = if p.is_staff() {
        require_staff(p, staff_operator)?;
        let requester = input.requester.unwrap_or_default().trim().to_owned();
        if requester.is_empty() || requester.len() > 200 {
            return Err(Problem::invalid(
                "requester",
                "R10.4: name the client's user who requested the failover",
            ));
        }
        (input.requested_at.unwrap_or(now), requester)
    } else {
        if input.requested_at.is_some() || input.requester.is_some() {
            return Err(Problem::invalid(
                "requested_at",
                "a failover you request is timed now, in your name",
            ));
        }
        if input.test_id.is_some() {
            return Err(Problem::invalid(
                "test_id",
                "R10.3: tests are run by the provider, which records them",
            ));
        }
        // Whether this user is designated (R10.2) is asked once the order
        // is read (another organisation's order is not found first).
        (now, p.user.email.clone())
    };
    if requested_at > now {
        return Err(Problem::invalid(
            "requested_at",
            "a request is recorded once made, not in the future",
        ));
    }
    let test_kind = match input.test_kind.as_deref() {
        None => None,
        Some(k @ ("simple" | "full")) if p.is_staff() => Some(k.to_owned()),
        Some("simple" | "full") => {
            return Err(Problem::invalid(
                "test_kind",
                "R10.3: tests are planned with the provider, which records them",
            ));
        }
        Some(_) => return Err(Problem::invalid("test_kind", "simple or full (R10.3)")),
    };
    let note = input.note.unwrap_or_default();
    if note.len() > 4000 {
        return Err(Problem::invalid("note", "at most 4000 characters"));
    }
    let mut tx = state.store().begin().await?;
    let order = ciel_store::orders::get(&mut *tx, &p.scope, order_id).await?;
    let all = services::of_order(&mut *tx, &p.scope, order_id).await?;
    let protected: Vec<_> = all.iter().filter(|s| s.kind == "pra").collect();
    if protected.is_empty() {
        return Err(rule("order_id", "R10.4: this order protects no machine"));
    }
    if !p.is_staff() {
        crate::backup::require_designated(
            state,
            &mut tx,
            p,
            order.org_id.as_str(),
            &protected[0].terms_version,
            ciel_operations::pra::PraAction::TriggerFailover,
        )
        .await?;
    }
    // A notified test run now: its kind is the test's (R10.3).
    let test = match &input.test_id {
        None => None,
        Some(id) => {
            let t = match ciel_store::pra_ops::test(&mut tx, &p.scope, id).await {
                Ok(t) => t,
                Err(StoreError::NotFound) => {
                    return Err(Problem::invalid("test_id", "no such test of this client"));
                }
                Err(e) => return Err(e.into()),
            };
            if t.order_id != order_id {
                return Err(Problem::invalid("test_id", "a test of another order"));
            }
            if t.activation_id.is_some() {
                return Err(transition("R10.3: this test has already been run"));
            }
            if test_kind.as_deref().is_some_and(|k| k != t.kind) {
                return Err(Problem::invalid("test_kind", "the notified test's kind"));
            }
            Some(t)
        }
    };
    let test_kind = test.as_ref().map(|t| t.kind.clone()).or(test_kind);
    let chosen: Vec<&services::ServiceRow> = match &input.services {
        None => protected
            .iter()
            .copied()
            .filter(|s| s.state == "provisioned")
            .collect(),
        Some(ids) => {
            let mut out = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let Some(s) = protected.iter().find(|s| s.id.as_str() == id) else {
                    return Err(Problem::invalid(
                        &format!("services[{i}]"),
                        "not a protected machine of this order",
                    ));
                };
                if s.state != "provisioned" {
                    return Err(rule(
                        &format!("services[{i}]"),
                        "R10.4: this machine is not provisioned yet",
                    ));
                }
                if out.iter().any(|o: &&services::ServiceRow| o.id == s.id) {
                    return Err(Problem::invalid(&format!("services[{i}]"), "named twice"));
                }
                out.push(*s);
            }
            out
        }
    };
    if chosen.is_empty() {
        return Err(rule(
            "services",
            "R10.4: no machine of this order is provisioned yet",
        ));
    }
    for (i, id) in input.criticality_refused.iter().enumerate() {
        if !chosen.iter().any(|s| s.id.as_str() == id) {
            return Err(Problem::invalid(
                &format!("criticality_refused[{i}]"),
                "not a machine of this activation",
            ));
        }
    }
    let mut machines = Vec::with_capacity(chosen.len());
    for s in &chosen {
        let Item::PraMachine(m) =
            serde_json::from_str::<Item>(&s.item_json).map_err(|e| corrupt("item", e))?
        else {
            return Err(corrupt("PRA item", &s.id));
        };
        let Some(c) = m.criticality else {
            return Err(rule(
                "services",
                format!("R10.1: machine {} has no criticality", m.machine),
            ));
        };
        // R6.5: a refusal recorded on the machine before the request.
        let refused_on_record = ciel_store::pra_ops::machine(&mut tx, s.id.as_str())
            .await?
            .and_then(|f| f.refused_at)
            .is_some_and(|t| t <= requested_at);
        machines.push(MachineRow {
            service_id: s.id.to_string(),
            machine: m.machine,
            criticality: code(c),
            criticality_refused: refused_on_record
                || input.criticality_refused.iter().any(|r| r == s.id.as_str()),
            reachable_at: None,
            recovery_point_at: None,
        });
    }
    if let Some(a) = pra::running(&mut tx, order_id).await? {
        return Err(transition(format!(
            "R10.4: activation {} of this order is running; close it at the return to nominal first",
            a.id
        )));
    }
    let actor = p.actor(now);
    let row = pra::create(
        &mut tx,
        &actor,
        NewActivation {
            org_id: order.org_id.clone(),
            order_id: order_id.to_owned(),
            requested_at,
            requester,
            test_kind,
            note,
            machines,
        },
    )
    .await?;
    if let Some(t) = &test {
        ciel_store::pra_ops::start_test(&mut tx, &actor, t, &row.id)
            .await
            .map_err(|_| transition("R10.3: this test has already been run"))?;
    }
    if !p.is_staff() {
        alert_support(state, &mut tx, &row).await?;
    }
    let out = detail(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// A client triggered a failover: the provider's support staff are told at
/// once, in the activation's transaction (the RTO runs from the request).
async fn alert_support(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    row: &ActivationRow,
) -> ApiResult<()> {
    let Some(provider) = ciel_store::orgs::provider(&mut **tx).await? else {
        return Ok(());
    };
    let org = ciel_store::orgs::get(&mut **tx, &Scope::Staff, row.org_id.as_str()).await?;
    let machines = row
        .machines
        .iter()
        .map(|m| format!("- {} ({})", m.machine, m.criticality.to_uppercase()))
        .collect::<Vec<_>>()
        .join("\n");
    let staff = crate::services::members(tx, provider.id.as_str(), |u| {
        matches!(u.staff_role, Some(StaffRole::Admin | StaffRole::Support))
    })
    .await?;
    for to in staff {
        let mail = ciel_mail::Mail::PraRequested {
            name: to.name.clone(),
            org_name: org.name.clone(),
            reference: row.id.to_string(),
            requester: row.requester.clone(),
            requested_at: row.requested_at,
            machines: machines.clone(),
            link: state.link(&format!("/back-office/pra-activations/{}", row.id)),
        };
        crate::accounts::send_mail(state, tx, &to, mail).await?;
    }
    Ok(())
}

/// One activation with its results, as `p` may see it.
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<ActivationDetail> {
    can_read(p)?;
    let mut tx = state.store().begin().await?;
    let row = pra::get(&mut tx, &p.scope, id).await?;
    detail(state, &mut tx, row).await
}

/// An organisation's activations, newest first.
pub async fn list(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<ActivationDetail>> {
    let mut tx = state.store().begin().await?;
    // Another organisation is not found, whoever asks.
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    can_read(p)?;
    let page = pra::list(&mut tx, &p.scope, org.id.as_str(), cursor, limit).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        items.push(detail(state, &mut tx, row).await?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// Staff: the activations of every client not yet returned to nominal,
/// the oldest request first, each machine with its restoration so far.
pub async fn running(state: &AppState, p: &Principal) -> ApiResult<Vec<ActivationDetail>> {
    require_staff(p, staff_operator)?;
    let mut tx = state.store().begin().await?;
    let rows = pra::open_activations(&mut tx, 200).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(detail(state, &mut tx, row).await?);
    }
    Ok(out)
}

async fn open_for_staff(
    p: &Principal,
    tx: &mut ciel_store::Tx,
    id: &str,
) -> ApiResult<ActivationRow> {
    // Another organisation's activation is not found before anything else.
    let row = pra::get(tx, &p.scope, id).await?;
    require_staff(p, staff_operator)?;
    if let Some(at) = row.closed_at {
        return Err(transition(format!(
            "R10.4: activation {} returned to nominal at {at}",
            row.id
        )));
    }
    Ok(row)
}

/// Records when a machine was reachable again (R6.2: the RTO runs from the
/// request to it) and the replication point it came back from (RPO).
pub async fn restore(
    state: &AppState,
    p: &Principal,
    id: &str,
    service_id: &str,
    reachable_at: Timestamp,
    recovery_point_at: Option<Timestamp>,
) -> ApiResult<ActivationDetail> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = open_for_staff(p, &mut tx, id).await?;
    if !before.machines.iter().any(|m| m.service_id == service_id) {
        return Err(Problem::invalid(
            "service_id",
            "not a machine of this activation",
        ));
    }
    if reachable_at < before.requested_at {
        return Err(rule(
            "reachable_at",
            format!(
                "R6.2: the RTO runs from the failover request ({}); a machine is not reachable again before it",
                before.requested_at
            ),
        ));
    }
    if reachable_at > now {
        return Err(Problem::invalid(
            "reachable_at",
            "a restoration is recorded once it happened",
        ));
    }
    if recovery_point_at.is_some_and(|r| r > reachable_at) {
        return Err(rule(
            "recovery_point_at",
            "R6.2: the replication point a machine came back from precedes its restoration",
        ));
    }
    let row = pra::restore(
        &mut tx,
        &p.actor(now),
        &before,
        service_id,
        reachable_at,
        recovery_point_at,
    )
    .await
    .map_err(stored)?;
    let out = detail(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// Closes the activation at the return to nominal.
pub async fn close(
    state: &AppState,
    p: &Principal,
    id: &str,
    closed_at: Option<Timestamp>,
) -> ApiResult<ActivationDetail> {
    let now = state.now();
    let closed_at = closed_at.unwrap_or(now);
    let mut tx = state.store().begin().await?;
    let before = open_for_staff(p, &mut tx, id).await?;
    if closed_at > now {
        return Err(Problem::invalid(
            "closed_at",
            "the return to nominal is recorded once it happened",
        ));
    }
    let last = before
        .machines
        .iter()
        .filter_map(|m| m.reachable_at)
        .chain([before.requested_at])
        .max()
        .unwrap_or(before.requested_at);
    if closed_at < last {
        return Err(Problem::invalid(
            "closed_at",
            format!("the return to nominal comes after the request and every restoration ({last})"),
        ));
    }
    let row = pra::close(&mut tx, &p.actor(now), &before, closed_at)
        .await
        .map_err(stored)?;
    let out = detail(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}
