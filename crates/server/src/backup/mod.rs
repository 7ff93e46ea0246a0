//! Backup operations (issue 7, item 5; R9): the workflows shared by the
//! API and the portal, over the pure rules of `ciel_operations::backup`.
//!
//! - **Plan** (R9.1, R9.7): frequency, type, retention and scopes of a
//!   backup service, set by staff or by a user the client designated to
//!   change policies (R10.2); each scope is checked against the Veeam
//!   licence (R9.7) and Microsoft 365 scopes only on a Microsoft 365 backup.
//! - **Options** (R9.2-R9.4) are those of the order line, already checked
//!   when the order was drafted (`catalog::rules`); the view shows them with
//!   the run-time check of `Operations::check_backup_options`.
//! - **Storage** (R9.5): the latest storage reading against the provisioned
//!   storage, with the alert level of `backup.storage_alert_percents`.
//! - **Job results** ([`results`]): pushed in bulk; each new failure is
//!   e-mailed (R9.5).
//! - **Restore requests** (R9.3): asked of support before the recycle bin
//!   period expires; refused at once after it, citing the rule.
//! - **Termination** (R9.2, R9.8): the history plan (each restore point's
//!   deletion, the end of data) and the immutable data's billing.
//! - **Regularisation orders** (R9.6): the 30-day delay and its state;
//!   [`reminders`] is the daily pass that reminds the client before the
//!   delay ends and flags the order overdue after it.

pub mod reminders;
pub mod results;

use crate::auth::{Principal, require_staff};
use crate::operations::{self, refused};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::Item;
use ciel_catalog::service::ServiceState;
use ciel_domain::{Permission, StaffRole};
use ciel_operations::Operations;
use ciel_operations::backup::{
    BackupOptions, BackupScope, HistoryPlan, ImmutableBilling, Regularisation, StorageAlert,
    VeeamLicence,
};
use ciel_operations::pra::PraAction;
use ciel_store::backup::{self as store, JobResult, PlanRow, RegularisationRow, RestoreRow};
use ciel_store::services::{self, ServiceRow};
use ciel_store::{Page, Scope, StoreError, Tx};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;

/// How many restore points the termination view reads (R9.8): a daily
/// backup kept a year is 366.
const HISTORY_POINTS: i64 = 2000;

/// The item kinds that are backups.
pub const BACKUP_KINDS: [&str; 2] = ["backup", "m365_backup"];

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

fn stored(e: StoreError) -> Problem {
    match e {
        StoreError::Conflict(_) => Problem::moved("backup"),
        e => e.into(),
    }
}

/// Staff who run backups with the client: administrators and support.
fn staff_operator(r: StaffRole) -> bool {
    matches!(r, StaffRole::Admin | StaffRole::Support)
}

/// A backup service visible to `scope` and its item.
pub async fn backup_service(
    tx: &mut Tx,
    scope: &Scope,
    service_id: &str,
) -> ApiResult<(ServiceRow, Item)> {
    let s = services::get(&mut **tx, scope, service_id).await?;
    if !BACKUP_KINDS.contains(&s.kind.as_str()) {
        return Err(Problem::not_found());
    }
    let item: Item = serde_json::from_str(&s.item_json).map_err(|e| corrupt("item", e))?;
    Ok((s, item))
}

/// The options of the order line (R9.2-R9.3), as the rules take them.
pub fn options_of(item: &Item) -> BackupOptions {
    match item {
        Item::ExternalBackup(b) => BackupOptions {
            immutability_months: b.immutability.filter(|d| !d.is_zero()).map(|d| d.months()),
            // Presence only: the rules check that an option is set and not
            // zero; the restore check takes the months and days as stated.
            recycle_bin_days: b
                .recycle_bin
                .filter(|d| !d.is_zero())
                .map(|d| d.days().max(1)),
        },
        _ => BackupOptions::default(),
    }
}

/// The provisioned storage of a backup item, in GB.
pub fn provisioned_gb(item: &Item) -> Option<Decimal> {
    match item {
        Item::ExternalBackup(b) => Some(Decimal::from(b.storage_gb)),
        Item::M365Backup(m) => m.provisioned_storage_gb.map(Decimal::from),
        _ => None,
    }
}

/// The last day of service of a terminated (or ended) service.
fn last_day_of(row: &ServiceRow) -> ApiResult<Option<jiff::civil::Date>> {
    let state: ServiceState =
        serde_json::from_str(&row.state_json).map_err(|e| corrupt("service state", e))?;
    Ok(state
        .service()
        .and_then(|s| s.ended_on.or(s.termination.as_ref().map(|t| t.last_day))))
}

/// The client's designations, as the rules take them (R10.2).
pub async fn designations(
    tx: &mut Tx,
    org_id: &str,
) -> ApiResult<Vec<ciel_operations::pra::Designation>> {
    ciel_store::pra_ops::designations(tx, &Scope::Staff, org_id)
        .await?
        .into_iter()
        .map(|d| {
            Ok(ciel_operations::pra::Designation {
                user: d.email,
                actions: serde_json::from_str(&d.actions_json)
                    .map_err(|e| corrupt("designation", e))?,
                from: d.designated_at,
                revoked_at: d.revoked_at,
            })
        })
        .collect()
}

/// R10.2: a client user acts on policies or failovers only if designated;
/// staff operators always may. The refusal is a 403 naming the rule.
pub async fn require_designated(
    state: &AppState,
    tx: &mut Tx,
    p: &Principal,
    org_id: &str,
    version: &str,
    action: PraAction,
) -> ApiResult<()> {
    if p.is_staff() {
        require_staff(p, staff_operator)?;
        return Ok(());
    }
    let ops = operations::for_version(state, version)?;
    let d = ops.check_pra_action(
        &p.user.email,
        action,
        state.now(),
        &designations(tx, org_id).await?,
    );
    if d.allowed {
        Ok(())
    } else {
        Err(refused(StatusCode::FORBIDDEN, "user", &d))
    }
}

// ---- plans ----------------------------------------------------------------

/// A plan to set (R9.1).
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub frequency: String,
    pub backup_type: String,
    pub retention_days: i64,
    pub scopes: Vec<BackupScope>,
    pub veeam_licence: VeeamLicence,
}

/// Plan frequencies (R9.1).
pub const FREQUENCIES: [&str; 4] = ["hourly", "daily", "weekly", "monthly"];
/// Backup types (R9.1).
pub const TYPES: [&str; 4] = ["full", "incremental", "differential", "synthetic_full"];

/// Sets the backup plan of a service (R9.1, R9.7, R10.2).
pub async fn set_plan(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    input: PlanInput,
) -> ApiResult<PlanRow> {
    if !FREQUENCIES.contains(&input.frequency.as_str()) {
        return Err(Problem::invalid(
            "frequency",
            format!("R9.1: one of {}", FREQUENCIES.join(", ")),
        ));
    }
    if !TYPES.contains(&input.backup_type.as_str()) {
        return Err(Problem::invalid(
            "backup_type",
            format!("R9.1: one of {}", TYPES.join(", ")),
        ));
    }
    if !(1..=3650).contains(&input.retention_days) {
        return Err(Problem::invalid(
            "retention_days",
            "R9.1: a retention of 1 to 3650 days",
        ));
    }
    if input.scopes.is_empty() {
        return Err(Problem::invalid("scopes", "R9.1: at least one scope"));
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let (s, _) = backup_service(&mut tx, &p.scope, service_id).await?;
    require_designated(
        state,
        &mut tx,
        p,
        s.org_id.as_str(),
        &s.terms_version,
        PraAction::ChangePolicies,
    )
    .await?;
    let ops = operations::for_version(state, &s.terms_version)?;
    let m365 = s.kind == "m365_backup";
    let mut steps = Vec::new();
    for (i, scope) in input.scopes.iter().enumerate() {
        if input.scopes[..i].contains(scope) {
            return Err(Problem::invalid(&format!("scopes[{i}]"), "named twice"));
        }
        if scope.is_microsoft_365() != m365 {
            return Err(operations::rule(
                "scope_not_in_service",
                &format!("scopes[{i}]"),
                if m365 {
                    "R9.7 (CS 3.2): a Microsoft 365 backup covers Exchange, Teams, SharePoint and OneDrive only"
                } else {
                    "R9.7 (CS 3.2): Microsoft 365 scopes are backed up by a Microsoft 365 backup service"
                },
            ));
        }
        let d = ops.check_backup_scope(*scope, input.veeam_licence);
        if !d.allowed {
            return Err(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("scopes[{i}]"),
                &d,
            ));
        }
        steps.extend(d.reasons.steps);
    }
    let before = store::plan(&mut *tx, &Scope::Staff, service_id).await?;
    let new = PlanRow {
        service_id: s.id.to_string(),
        org_id: s.org_id.clone(),
        frequency: input.frequency,
        backup_type: input.backup_type,
        retention_days: input.retention_days,
        scopes_json: serde_json::to_string(&input.scopes).map_err(|e| corrupt("scopes", e))?,
        veeam_licence: serde_json::to_value(input.veeam_licence)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        decision_json: serde_json::to_string(&ciel_operations::Decision::from_steps(steps))
            .map_err(|e| corrupt("decision", e))?,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let row = store::set_plan(&mut tx, &p.actor(now), before.as_ref(), &new)
        .await
        .map_err(stored)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

// ---- the client's view of a backup ---------------------------------------

/// Storage use and its alert (R9.5).
#[derive(Debug, Clone, Serialize)]
pub struct Storage {
    pub at: Timestamp,
    pub used_gb: Decimal,
    pub provisioned_gb: Decimal,
    pub alert: StorageAlert,
    pub explanation: ciel_engine::Explanation,
}

/// What happens at and after the termination (R9.2, R9.8).
#[derive(Debug, Clone, Serialize)]
pub struct AfterTermination {
    pub last_day: jiff::civil::Date,
    pub effective_at: Timestamp,
    pub history: Option<HistoryPlan>,
    pub immutable_billing: Option<ImmutableBilling>,
    pub immutable_explanation: Option<ciel_engine::Explanation>,
}

/// Everything the client sees of one backup service.
#[derive(Debug, Clone, Serialize)]
pub struct BackupView {
    pub service_id: String,
    pub org_id: String,
    pub kind: String,
    pub label: String,
    pub terms_version: String,
    pub plan: Option<PlanRow>,
    pub options: BackupOptions,
    pub options_decision: ciel_operations::Decision,
    pub storage: Option<Storage>,
    pub last_success_at: Option<Timestamp>,
    pub last_immutable_at: Option<Timestamp>,
    pub results: Vec<JobResult>,
    pub termination: Option<AfterTermination>,
}

/// One backup service as `p` may see it, at now.
pub async fn view(state: &AppState, p: &Principal, service_id: &str) -> ApiResult<BackupView> {
    crate::auth::require_service_viewer(p, "backups")?;
    let mut tx = state.store().begin().await?;
    let (s, item) = backup_service(&mut tx, &p.scope, service_id).await?;
    let ops = operations::for_version(state, &s.terms_version)?;
    let plan = store::plan(&mut *tx, &p.scope, service_id).await?;
    let options = options_of(&item);
    let storage = match (
        store::latest_storage(&mut tx, service_id).await?,
        provisioned_gb(&item),
    ) {
        (Some((at, gb)), Some(prov)) => {
            let used = Decimal::from_str_exact(&gb).map_err(|e| corrupt("storage", e))?;
            let a = ops
                .storage_alert(used, prov)
                .map_err(|e| corrupt("storage", e))?;
            Some(Storage {
                at,
                used_gb: used,
                provisioned_gb: prov,
                alert: a.value,
                explanation: a.explanation,
            })
        }
        _ => None,
    };
    let (last_success_at, last_immutable_at) = store::last_successes(&mut *tx, service_id).await?;
    let results = store::results_of(&mut tx, &p.scope, service_id, 50).await?;
    let termination = match last_day_of(&s)? {
        None => None,
        Some(last_day) => Some(
            after_termination(
                &mut tx,
                &ops,
                &s,
                &plan,
                options,
                last_day,
                last_immutable_at,
            )
            .await?,
        ),
    };
    Ok(BackupView {
        service_id: s.id.to_string(),
        org_id: s.org_id.to_string(),
        kind: s.kind.clone(),
        label: s.label.clone(),
        terms_version: s.terms_version.clone(),
        plan,
        options,
        options_decision: ops.check_backup_options(options, true),
        storage,
        last_success_at,
        last_immutable_at,
        results,
        termination,
    })
}

/// R9.8 and R9.2 at the termination of a backup service: each restore
/// point's deletion under the plan's retention, and until when the
/// immutable data is billed.
async fn after_termination(
    tx: &mut Tx,
    ops: &Operations,
    s: &ServiceRow,
    plan: &Option<PlanRow>,
    options: BackupOptions,
    last_day: jiff::civil::Date,
    last_immutable_at: Option<Timestamp>,
) -> ApiResult<AfterTermination> {
    let effective_at = ops.end_of(last_day);
    let retention = plan
        .as_ref()
        .and_then(|p| u32::try_from(p.retention_days).ok());
    let history = match retention {
        Some(days) => {
            let points =
                store::restore_points(tx, s.id.as_str(), effective_at, HISTORY_POINTS).await?;
            Some(
                ops.history_after_termination(
                    &points,
                    days,
                    options.immutability_months,
                    effective_at,
                )
                .map_err(|e| corrupt("history", e))?,
            )
        }
        None => None,
    };
    let (immutable_billing, immutable_explanation) =
        match (options.immutability_months, last_immutable_at) {
            (Some(months), Some(last)) => {
                let b = ops.immutable_billing_after_termination(
                    effective_at,
                    last.min(effective_at),
                    months,
                    retention.unwrap_or(0),
                );
                (b.value, Some(b.explanation))
            }
            _ => (None, None),
        };
    Ok(AfterTermination {
        last_day,
        effective_at,
        history,
        immutable_billing,
        immutable_explanation,
    })
}

/// R9.2 for billing: the last day the monthly fee of a terminated backup
/// service with the immutability option is due, from its last immutable
/// backup (`None`: no immutable backup recorded, billing keeps its own
/// reading from the last day of service).
pub async fn immutable_last_day(
    state: &AppState,
    s: &ServiceRow,
) -> ApiResult<Option<jiff::civil::Date>> {
    let db = state.store().db();
    let item: Item = serde_json::from_str(&s.item_json).map_err(|e| corrupt("item", e))?;
    let options = options_of(&item);
    let (Some(months), Some(last_day)) = (options.immutability_months, last_day_of(s)?) else {
        return Ok(None);
    };
    let (_, Some(last_immutable)) = store::last_successes(db, s.id.as_str()).await? else {
        return Ok(None);
    };
    let ops = operations::for_version(state, &s.terms_version)?;
    let plan = store::plan(db, &Scope::Staff, s.id.as_str()).await?;
    let retention = plan
        .and_then(|p| u32::try_from(p.retention_days).ok())
        .unwrap_or(0);
    let effective = ops.end_of(last_day);
    let b = ops.immutable_billing_after_termination(
        effective,
        last_immutable.min(effective),
        months,
        retention,
    );
    Ok(Some(b.value.map(|b| b.last_day).unwrap_or(last_day)))
}

/// The backup services of an organisation with their plans.
pub async fn of_org(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<(ServiceRow, Option<PlanRow>)>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    crate::auth::require_service_viewer(p, "backups")?;
    let plans = store::plans_of(&mut tx, &p.scope, org.id.as_str()).await?;
    let all = services::of_org_kinds(&mut *tx, &p.scope, org.id.as_str(), &BACKUP_KINDS).await?;
    Ok(all
        .into_iter()
        .map(|s| {
            let plan = plans
                .iter()
                .find(|p| p.service_id == s.id.as_str())
                .cloned();
            (s, plan)
        })
        .collect())
}

// ---- recycle-bin restore requests (R9.3) ---------------------------------

/// A restore request with where it stands.
pub type RestoreDetail = operations::Decided<RestoreRow>;

fn restore_detail(row: RestoreRow) -> ApiResult<RestoreDetail> {
    let json = row.decision_json.clone();
    operations::Decided::read(row, &json)
}

/// The client asks support to restore data deleted at `deleted_at` from the
/// admin recycle bin (R9.3): refused after the bin period, citing the rule.
pub async fn request_restore(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    what: &str,
    deleted_at: Timestamp,
) -> ApiResult<RestoreDetail> {
    let now = state.now();
    let what = what.trim();
    if what.is_empty() || what.len() > 1000 {
        return Err(Problem::invalid(
            "what",
            "name the data to restore (1 to 1000 characters)",
        ));
    }
    if deleted_at > now {
        return Err(Problem::invalid(
            "deleted_at",
            "the deletion happened before the request",
        ));
    }
    if !(p.is_staff() || p.can(Permission::OpenTickets)) {
        return Err(Problem::forbidden(
            "R9.3: restores are asked of support by users who may open tickets",
        ));
    }
    let mut tx = state.store().begin().await?;
    let (s, item) = backup_service(&mut tx, &p.scope, service_id).await?;
    let bin = match &item {
        Item::ExternalBackup(b) => b.recycle_bin.filter(|d| !d.is_zero()),
        _ => None,
    };
    let Some(bin) = bin else {
        return Err(operations::rule(
            "no_recycle_bin",
            "service_id",
            "R9.3 (CS 3.7): this backup has no admin recycle bin option",
        ));
    };
    let ops = operations::for_version(state, &s.terms_version)?;
    let requested_at = p.actor(now).occurred_at;
    let d = ops.check_recycle_bin_restore_span(deleted_at, bin.months(), bin.days(), requested_at);
    if !d.allowed {
        return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "deleted_at", &d));
    }
    let expires_at = ops.recycle_bin_expiry(deleted_at, bin.months(), bin.days());
    let row = store::create_restore(
        &mut tx,
        &p.actor(now),
        store::NewRestore {
            org_id: s.org_id.clone(),
            service_id: s.id.to_string(),
            what: what.to_owned(),
            deleted_at,
            expires_at,
            requested_at,
            requested_by: p.user.email.clone(),
            decision_json: serde_json::to_string(&d).map_err(|e| corrupt("decision", e))?,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    restore_detail(row)
}

/// Support answers a restore request: `restored` (before the bin period
/// expires, R9.3) or `refused` with a reason.
pub async fn answer_restore(
    state: &AppState,
    p: &Principal,
    id: &str,
    restored: bool,
    answer: &str,
) -> ApiResult<RestoreDetail> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = store::restore(&mut tx, &p.scope, id).await?;
    require_staff(p, staff_operator)?;
    if before.state != "requested" {
        return Err(operations::transition(
            "state",
            format!("this request was already {}", before.state),
        ));
    }
    let actor = p.actor(now);
    if restored && actor.occurred_at >= before.expires_at {
        return Err(operations::rule(
            "recycle_bin_expired",
            "state",
            format!(
                "R9.3 (CS 3.7): the recycle bin period ended at {}; the data is gone",
                before.expires_at
            ),
        ));
    }
    let answer = answer.trim();
    if !restored && answer.is_empty() {
        return Err(Problem::invalid("answer", "say why the restore is refused"));
    }
    if answer.len() > 4000 {
        return Err(Problem::invalid("answer", "at most 4000 characters"));
    }
    let row = store::answer_restore(
        &mut tx,
        &actor,
        &before,
        if restored { "restored" } else { "refused" },
        answer,
    )
    .await
    .map_err(stored)?;
    tx.commit().await.map_err(StoreError::from)?;
    restore_detail(row)
}

pub async fn restores_of(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Page<RestoreDetail>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    crate::auth::require_service_viewer(p, "backups")?;
    let page = store::restores_of(&mut tx, &p.scope, org.id.as_str(), cursor, limit).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(restore_detail)
            .collect::<ApiResult<_>>()?,
        next_cursor: page.next_cursor,
    })
}

// ---- regularisation orders (R9.6) ----------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct RegularisationDetail {
    pub row: RegularisationRow,
    pub status: Regularisation,
}

async fn regularisation_detail(
    state: &AppState,
    tx: &mut Tx,
    row: RegularisationRow,
) -> ApiResult<RegularisationDetail> {
    let s = services::get(&mut **tx, &Scope::Staff, &row.service_id).await?;
    let ops = operations::for_version(state, &s.terms_version)?;
    let status = ops.regularisation_order(row.sent_at, row.signed_at, state.now());
    Ok(RegularisationDetail { row, status })
}

/// Staff send a regularisation order for a backup service whose resources
/// turned out insufficient at deployment (R9.6); the 30 days run from it.
pub async fn send_regularisation(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    reason: &str,
) -> ApiResult<RegularisationDetail> {
    let now = state.now();
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 4000 {
        return Err(Problem::invalid(
            "reason",
            "R9.6: say which resources are insufficient (1 to 4000 characters)",
        ));
    }
    let mut tx = state.store().begin().await?;
    // Another organisation's service is not found before anything else.
    let (s, _) = backup_service(&mut tx, &p.scope, service_id).await?;
    require_staff(p, staff_operator)?;
    let actor = p.actor(now);
    let row = store::create_regularisation(
        &mut tx,
        &actor,
        &s.org_id,
        s.id.as_str(),
        reason,
        actor.occurred_at,
    )
    .await?;
    let out = regularisation_detail(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// Records the signature of a regularisation order (staff, back-dating
/// the paper with `Ciel-Occurred-At`, or the client's Administrator). A
/// signature after the delay is recorded; the state says the order may be
/// cancelled (R9.6).
pub async fn sign_regularisation(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> ApiResult<RegularisationDetail> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = store::regularisation(&mut tx, &p.scope, id).await?;
    if !(p.is_staff() || p.can(Permission::ManageUsers)) {
        return Err(Problem::forbidden(
            "R9.6: the client's Administrator signs a regularisation order",
        ));
    }
    if p.is_staff() {
        require_staff(p, staff_operator)?;
    }
    let actor = p.actor(now);
    if before.signed_at.is_some() {
        return Err(operations::transition(
            "signed_at",
            "this regularisation order is already signed",
        ));
    }
    if actor.occurred_at < before.sent_at {
        return Err(Problem::invalid(
            "Ciel-Occurred-At",
            "a signature comes after the order was sent",
        ));
    }
    let row = store::sign_regularisation(&mut tx, &actor, &before, actor.occurred_at)
        .await
        .map_err(stored)?;
    let out = regularisation_detail(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// Regularisation orders of an organisation (or of all, staff with None).
pub async fn regularisations(
    state: &AppState,
    p: &Principal,
    org_id: Option<&str>,
) -> ApiResult<Vec<RegularisationDetail>> {
    let mut tx = state.store().begin().await?;
    if let Some(o) = org_id {
        ciel_store::orgs::get(&mut *tx, &p.scope, o).await?;
        crate::auth::require_service_viewer(p, "backups")?;
    } else {
        require_staff(p, staff_operator)?;
    }
    let rows = store::regularisations(&mut tx, &p.scope, org_id, 200).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(regularisation_detail(state, &mut tx, r).await?);
    }
    Ok(out)
}

/// Back office: the latest failed jobs and the open restore requests.
pub async fn desk(state: &AppState, p: &Principal) -> ApiResult<(Vec<JobResult>, Vec<RestoreRow>)> {
    require_staff(p, staff_operator)?;
    let mut tx = state.store().begin().await?;
    Ok((
        store::failures(&mut tx, 100).await?,
        store::open_restores(&mut tx, 100).await?,
    ))
}
