//! PRA operations around the activations (issue 7, item 6; R10.1-R10.3,
//! R6.2, R6.5), over the pure rules of `ciel_operations::pra`:
//!
//! - **Designations** (R10.2): the client's Administrator names the users
//!   who may trigger a failover and/or change replication and backup
//!   policies; `pra::record` and the backup plan ask
//!   `Operations::check_pra_action` before acting.
//! - **Protected machines** (R10.1, R6.2): each PRA machine service with
//!   its criticality and the RTO/RPO targets of the terms, the provider's
//!   recommended criticality and the client's refusal (R6.5: no SLA on that
//!   machine; an activation records it), and the replication status pushed
//!   by the platform.
//! - **Tests** (R10.3): notified by the client (or recorded by staff from
//!   its letter); `Operations::assess_pra_test` decides whether the notice
//!   is in time and whether the test is billed; a full test without its own
//!   order is refused. Running it records a test activation linked to it,
//!   billed by the month close when the test is (`test_billed`).

use crate::auth::{Principal, require_staff};
use crate::backup::{corrupt, require_designated};
use crate::episodes::{self, Pushed};
use crate::operations::{self, refused};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::Item;
use ciel_domain::{Permission, StaffRole};
use ciel_operations::pra::{PraAction, TestKind};
use ciel_store::pra_ops::{self as store, DesignationRow, MachineFacts, TestRow};
use ciel_store::{Scope, StoreError, idempotency, services};
use jiff::Timestamp;
use serde::Serialize;

fn staff_operator(r: StaffRole) -> bool {
    matches!(r, StaffRole::Admin | StaffRole::Support)
}

fn stored(e: StoreError) -> Problem {
    match e {
        StoreError::Conflict(_) => Problem::moved("PRA machine"),
        e => e.into(),
    }
}

// ---- designations (R10.2) ------------------------------------------------

/// The client's Administrator (or staff from its letter) designates a user
/// of the organisation for some PRA actions.
pub async fn designate(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    user_id: &str,
    actions: Vec<PraAction>,
) -> ApiResult<DesignationRow> {
    let now = state.now();
    if actions.is_empty() {
        return Err(Problem::invalid(
            "actions",
            "R10.2: trigger_failover and/or change_policies",
        ));
    }
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    if p.is_staff() {
        require_staff(p, staff_operator)?;
    } else if !p.can(Permission::ManageUsers) {
        return Err(Problem::forbidden(
            "R10.2: the client's Administrator designates the PRA users",
        ));
    }
    let user = match ciel_store::users::get(&mut *tx, &Scope::Org(org.id.clone()), user_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            return Err(Problem::invalid(
                "user_id",
                "not a user of this organisation",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut actions = actions;
    actions.sort_by_key(|a| *a as u8);
    actions.dedup();
    let row = store::designate(
        &mut tx,
        &p.actor(now),
        &org.id,
        user.id.as_str(),
        &user.email,
        &serde_json::to_string(&actions).map_err(|e| corrupt("actions", e))?,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Ends a designation.
pub async fn revoke(state: &AppState, p: &Principal, id: &str) -> ApiResult<DesignationRow> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = store::designation(&mut tx, &p.scope, id).await?;
    if p.is_staff() {
        require_staff(p, staff_operator)?;
    } else if !p.can(Permission::ManageUsers) {
        return Err(Problem::forbidden(
            "R10.2: the client's Administrator designates the PRA users",
        ));
    }
    let row = store::revoke(&mut tx, &p.actor(now), &before)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                operations::transition("revoked_at", "this designation is already revoked")
            }
            e => e.into(),
        })?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

pub async fn designations(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<DesignationRow>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    crate::auth::require_service_viewer(p, "PRA designations")?;
    Ok(store::designations(&mut tx, &p.scope, org.id.as_str()).await?)
}

// ---- protected machines (R10.1, R6.2, R6.5) -------------------------------

/// One protected machine as the client and staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct MachineView {
    pub service_id: String,
    pub order_id: String,
    pub machine: String,
    /// `c1`..`c3`, from the order (R10.1).
    pub criticality: Option<String>,
    /// R6.2 targets of that criticality, from the terms.
    pub rto_hours: Option<u32>,
    pub rpo_hours: Option<u32>,
    pub facts: MachineFacts,
    /// The client refused the recommended criticality: no SLA (R6.5).
    pub sla_lifted: bool,
}

fn code(c: ciel_terms::MachineCriticality) -> String {
    c.to_string().to_lowercase()
}

/// The protected machines of an organisation.
pub async fn machines(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<MachineView>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    crate::auth::require_service_viewer(p, "PRA machines")?;
    let all = services::of_org_kinds(&mut *tx, &p.scope, org.id.as_str(), &["pra"]).await?;
    machine_views(state, &mut tx, &p.scope, Some(org.id.as_str()), all).await
}

/// Staff: the protected machines of every client (the back office's PRA
/// follow-up).
pub async fn all_machines(state: &AppState, p: &Principal) -> ApiResult<Vec<MachineView>> {
    require_staff(p, staff_operator)?;
    let mut tx = state.store().begin().await?;
    let all = services::of_kinds(&mut *tx, &["pra"]).await?;
    machine_views(state, &mut tx, &p.scope, None, all).await
}

async fn machine_views(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    scope: &Scope,
    org_id: Option<&str>,
    all: Vec<services::ServiceRow>,
) -> ApiResult<Vec<MachineView>> {
    let facts = store::machines_of(tx, scope, org_id).await?;
    let mut out = Vec::with_capacity(all.len());
    for s in all {
        let Item::PraMachine(m) =
            serde_json::from_str::<Item>(&s.item_json).map_err(|e| corrupt("item", e))?
        else {
            continue;
        };
        let terms = crate::orders::engine(state, &s.terms_version)?;
        let target = m
            .criticality
            .and_then(|c| terms.terms().recovery.pra.criticalities.get(&c).cloned());
        let f = facts
            .iter()
            .find(|f| f.service_id == s.id.as_str())
            .cloned()
            .unwrap_or_else(|| MachineFacts {
                service_id: s.id.to_string(),
                org_id: s.org_id.to_string(),
                ..Default::default()
            });
        out.push(MachineView {
            service_id: s.id.to_string(),
            order_id: s.order_id.clone(),
            machine: m.machine,
            criticality: m.criticality.map(code),
            rto_hours: target.as_ref().and_then(|t| t.rto_hours),
            rpo_hours: target.as_ref().and_then(|t| t.rpo_hours),
            sla_lifted: f.refused_at.is_some(),
            facts: f,
        });
    }
    Ok(out)
}

async fn machine_service(
    tx: &mut ciel_store::Tx,
    scope: &Scope,
    service_id: &str,
) -> ApiResult<(services::ServiceRow, Option<MachineFacts>)> {
    let s = services::get(&mut **tx, scope, service_id).await?;
    if s.kind != "pra" {
        return Err(Problem::not_found());
    }
    let f = store::machine(tx, service_id).await?;
    Ok((s, f))
}

/// Staff recommend a criticality for a machine (R6.5); a new
/// recommendation clears an earlier refusal.
pub async fn recommend(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    criticality: &str,
) -> ApiResult<MachineFacts> {
    let now = state.now();
    if !["c1", "c2", "c3"].contains(&criticality) {
        return Err(Problem::invalid("criticality", "R10.1: c1, c2 or c3"));
    }
    let mut tx = state.store().begin().await?;
    let (s, before) = machine_service(&mut tx, &p.scope, service_id).await?;
    require_staff(p, staff_operator)?;
    let actor = p.actor(now);
    let mut new = before.clone().unwrap_or_else(|| MachineFacts {
        service_id: s.id.to_string(),
        org_id: s.org_id.to_string(),
        ..Default::default()
    });
    new.recommended_criticality = Some(criticality.to_owned());
    new.recommended_at = Some(actor.occurred_at);
    new.refused_at = None;
    let row = store::set_machine(&mut tx, &actor, "pra.recommend", before.as_ref(), &new)
        .await
        .map_err(stored)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The client refuses the recommended criticality (R6.5): from then on no
/// SLA applies to the machine. Only a user designated to change policies
/// may (R10.2).
pub async fn refuse(state: &AppState, p: &Principal, service_id: &str) -> ApiResult<MachineFacts> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let (s, before) = machine_service(&mut tx, &p.scope, service_id).await?;
    require_designated(
        state,
        &mut tx,
        p,
        s.org_id.as_str(),
        &s.terms_version,
        PraAction::ChangePolicies,
    )
    .await?;
    let Some(before) = before.filter(|b| b.recommended_criticality.is_some()) else {
        return Err(operations::rule(
            "no_recommendation",
            "service_id",
            "R6.5: the provider has recommended no criticality for this machine",
        ));
    };
    if before.refused_at.is_some() {
        return Err(operations::transition(
            "refused_at",
            "R6.5: this recommendation is already refused",
        ));
    }
    let actor = p.actor(now);
    let mut new = before.clone();
    new.refused_at = Some(actor.occurred_at);
    let row = store::set_machine(&mut tx, &actor, "pra.refuse", Some(&before), &new)
        .await
        .map_err(stored)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// One replication status as pushed.
#[derive(Debug, Clone)]
pub struct Replication {
    pub service_id: String,
    pub status: String,
    pub last_replication_at: Option<Timestamp>,
}

/// What a replication push wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplicationPushed {
    pub received: usize,
    pub updated: usize,
}

/// The replication platform pushes each machine's status (bulk, under an
/// `Idempotency-Key`); the latest report wins, an older one is ignored.
pub async fn push_replication(
    state: &AppState,
    p: &Principal,
    idem_key: &str,
    body_hash: String,
    items: Vec<Replication>,
) -> ApiResult<Pushed> {
    crate::usage::require_metering(p)?;
    episodes::check_idempotency_key(idem_key)?;
    let scope = format!("pra_replication:{}", p.user.id);
    if let Some(first) = idempotency::find(state.store().db(), &scope, idem_key).await? {
        return episodes::replay(first, &body_hash);
    }
    let now = state.now();
    if items.len() > 10_000 {
        return Err(Problem::invalid("statuses", "at most 10 000 a request"));
    }
    for (i, r) in items.iter().enumerate() {
        if !["ok", "lagging", "failed"].contains(&r.status.as_str()) {
            return Err(Problem::invalid(
                &format!("statuses[{i}].status"),
                "ok, lagging or failed",
            ));
        }
        if r.last_replication_at.is_some_and(|t| t > now) {
            return Err(Problem::invalid(
                &format!("statuses[{i}].last_replication_at"),
                "not in the future",
            ));
        }
    }
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let mut updated = 0;
    for (i, r) in items.iter().enumerate() {
        let (s, before) = match machine_service(&mut tx, &Scope::Staff, &r.service_id).await {
            Ok(x) => x,
            Err(_) => {
                return Err(Problem::invalid(
                    &format!("statuses[{i}].service_id"),
                    "no such service of kind pra",
                ));
            }
        };
        if before
            .as_ref()
            .and_then(|b| b.replication_reported_at)
            .is_some_and(|t| t > actor.occurred_at)
        {
            continue;
        }
        let mut new = before.clone().unwrap_or_else(|| MachineFacts {
            service_id: s.id.to_string(),
            org_id: s.org_id.to_string(),
            ..Default::default()
        });
        new.replication_status = Some(r.status.clone());
        new.last_replication_at = r.last_replication_at.or(new.last_replication_at);
        new.replication_reported_at = Some(actor.occurred_at);
        store::set_machine(&mut tx, &actor, "pra.replication", before.as_ref(), &new)
            .await
            .map_err(stored)?;
        updated += 1;
    }
    let out = ReplicationPushed {
        received: items.len(),
        updated,
    };
    let body = serde_json::to_value(&out).map_err(|_| Problem::internal())?;
    episodes::push_answer(tx, &scope, idem_key, body_hash, updated == 0, body, now).await
}

// ---- tests (R10.3) --------------------------------------------------------

/// A notified test with its assessment.
pub type TestDetail = operations::Decided<TestRow>;

fn test_detail(row: TestRow) -> ApiResult<TestDetail> {
    let json = row.decision_json.clone();
    operations::Decided::read(row, &json)
}

/// The client (a designated user) or staff (from its letter, back-dated
/// with `Ciel-Occurred-At`) notifies a test of an order's PRA (R10.3). A
/// late notice is accepted and flagged billed; a full test without its
/// own order is refused.
pub async fn notify_test(
    state: &AppState,
    p: &Principal,
    order_id: &str,
    kind: &str,
    starts_at: Timestamp,
    own_order: Option<String>,
) -> ApiResult<TestDetail> {
    let now = state.now();
    let test_kind = match kind {
        "simple" => TestKind::Simple,
        "full" => TestKind::Full,
        _ => return Err(Problem::invalid("kind", "simple or full (R10.3)")),
    };
    let mut tx = state.store().begin().await?;
    let order = ciel_store::orders::get(&mut *tx, &p.scope, order_id).await?;
    let machines = services::of_order(&mut *tx, &p.scope, order_id).await?;
    let Some(first) = machines.iter().find(|s| s.kind == "pra") else {
        return Err(operations::rule(
            "rule_violated",
            "order_id",
            "R10.3: this order protects no machine",
        ));
    };
    require_designated(
        state,
        &mut tx,
        p,
        order.org_id.as_str(),
        &first.terms_version,
        PraAction::ChangePolicies,
    )
    .await?;
    let own_order = own_order
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty());
    if let Some(o) = &own_order
        && ciel_store::orders::get(&mut *tx, &p.scope, o)
            .await
            .is_err()
    {
        return Err(Problem::invalid(
            "own_order",
            "no such order of this client",
        ));
    }
    let notified_at = p.actor(now).occurred_at;
    let ops = operations::for_version(state, &first.terms_version)?;
    let a = ops
        .assess_pra_test(test_kind, notified_at, starts_at, own_order.is_some())
        .map_err(|e| Problem::invalid("starts_at", format!("R10.3: {e}")))?;
    if !a.decision.allowed {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "own_order",
            &a.decision,
        ));
    }
    let row = store::create_test(
        &mut tx,
        &p.actor(now),
        store::NewTest {
            org_id: order.org_id.clone(),
            order_id: order_id.to_owned(),
            kind: kind.to_owned(),
            notified_at,
            starts_at,
            own_order,
            notice_days: i64::from(a.notice_days),
            billed: a.billed,
            decision_json: serde_json::to_string(&a.decision)
                .map_err(|e| corrupt("decision", e))?,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    test_detail(row)
}

/// How many tests a list shows.
const TESTS: i64 = 500;

pub async fn tests(state: &AppState, p: &Principal, org_id: &str) -> ApiResult<Vec<TestDetail>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    crate::auth::require_service_viewer(p, "PRA tests")?;
    store::tests_of(&mut tx, &p.scope, Some(org.id.as_str()), TESTS)
        .await?
        .into_iter()
        .map(test_detail)
        .collect()
}

/// Staff: the notified tests of every client, the latest start first.
pub async fn all_tests(state: &AppState, p: &Principal) -> ApiResult<Vec<TestDetail>> {
    require_staff(p, staff_operator)?;
    let mut tx = state.store().begin().await?;
    store::tests_of(&mut tx, &p.scope, None, TESTS)
        .await?
        .into_iter()
        .map(test_detail)
        .collect()
}
