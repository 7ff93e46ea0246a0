//! Services, end to end (issue 4, items 5 and 9): the workflows shared by
//! the API and the portal over the pure life cycle of
//! `ciel_catalog::service`.
//!
//! - Validating an order creates one service per recurring line, awaiting
//!   provisioning, in the validation's transaction ([`create_for_order`]).
//! - Every staff or client action is one [`ServiceEvent`] applied by
//!   [`act`]: the catalog machine decides (a refusal is a problem naming its
//!   rule, nothing written), the store writes the new state with its audit
//!   record only over the version it was computed from, the R13 notice goes
//!   to the outbox and the one-off amounts go to billing, all in one
//!   transaction.
//! - The time-driven steps (end of the contest window, renewal, end of
//!   service, securing deadline, product-return deadline) are applied by
//!   [`run_pass`], the `services.pass` job that runs every day at midnight in
//!   the terms' zone (every deadline of the machine falls on a midnight
//!   there). It reads only the services whose `next_due_at` has come,
//!   commits in chunks, and is idempotent: a step applied once is never due
//!   again, so a pass re-run after a crash finishes the work and adds
//!   nothing twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::accounts::send_mail;
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::service::{
    self, OneOffCharge, ServiceError, ServiceEvent, ServiceNotice, ServiceParams, ServiceState,
};
use ciel_catalog::{Item, ItemKind};
use ciel_domain::StaffRole;
use ciel_engine::Explained;
use ciel_mail::{Mail, ServiceMail};
use ciel_store::charges::{self, NewCharge};
use ciel_store::orders::{Line, Order};
use ciel_store::services::{self, NewService, ServiceRow, Step};
use ciel_store::users::{User, UserStatus};
use ciel_store::{Actor, Scope, StoreError, Tx, orgs, users};
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

/// Kind of the daily job that applies the time-driven steps.
pub const PASS_JOB: &str = "services.pass";

/// Services read and written per transaction by the pass.
const PASS_CHUNK: i64 = 500;

/// The service parameters of a terms version, built once per version (the
/// engine's calendars are not rebuilt for each of 100 000 services).
pub fn params(state: &AppState, version: &str) -> ApiResult<Arc<ServiceParams>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ServiceParams>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().ok().and_then(|c| c.get(version).cloned()) {
        return Ok(p);
    }
    let registry = crate::orders::registry(state);
    let terms = registry.get(version).ok_or_else(|| {
        tracing::error!(terms = %version, "service pinned to an unknown terms version");
        Problem::internal()
    })?;
    let p = Arc::new(ServiceParams::from_terms(terms).map_err(|e| {
        tracing::error!(error = %e, "terms version cannot drive services");
        Problem::internal()
    })?);
    if let Ok(mut c) = cache.lock() {
        c.insert(version.to_owned(), p.clone());
    }
    Ok(p)
}

fn corrupt(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored service cannot be read back");
    Problem::internal()
}

/// The machine state of a stored service.
pub fn state_of(row: &ServiceRow) -> ApiResult<ServiceState> {
    serde_json::from_str(&row.state_json).map_err(corrupt)
}

/// A refused event: 422 naming the field when the input is at fault, else
/// 409 `invalid_transition`; the detail starts with the rule.
fn refused(e: &ServiceError) -> Problem {
    use ServiceError as E;
    let field = match e {
        E::PlannedDayMissing => Some("planned_on"),
        E::ContestTextMissing => Some("text"),
        E::ResolutionMissing => Some("resolution"),
        E::NoteMissing => Some("note"),
        E::NoticeBeforeStart { .. } | E::NoticeInFuture { .. } => Some("received_on"),
        E::NotInFixedTerm { .. } | E::LastDayInPast { .. } | E::LastDayBeforeStart { .. } => {
            Some("last_day")
        }
        E::FutureMonth { .. } | E::MonthBeforeStart { .. } => Some("month"),
        E::DuplicateProduct { .. } | E::InvalidProduct { .. } => Some("products"),
        E::UnknownProduct { .. } => Some("product"),
        E::ReturnInFuture { .. } => Some("on"),
        E::NonPaymentTooEarly { .. } => Some("informed_at"),
        _ => None,
    };
    let msg = e.to_string();
    let detail = if msg.starts_with(e.rule()) {
        msg
    } else {
        format!("{} {msg}", e.rule())
    };
    match field {
        Some(f) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rule_violated",
            "Refused by the contract",
        )
        .field(f)
        .detail(detail),
        None => Problem::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            "Invalid transition",
        )
        .field(match e {
            E::BeforePrevious { .. } => "occurred_at",
            E::QuoteChanged { .. } => "quoted_fee",
            _ => "state",
        })
        .detail(detail),
    }
}

// ------------------------------------------------------------------ creation

/// Whether a line of this kind becomes a service (an hour book is a
/// purchase, drawn on by interventions: R8.2).
pub fn is_service(kind: ItemKind) -> bool {
    kind != ItemKind::HourBook
}

/// Creates the services of a validated order, in its transaction: one per
/// recurring line, awaiting provisioning, with the line's commitment
/// (R1.6) and monthly fee. Creating them twice is a conflict, never a
/// second service.
pub async fn create_for_order(
    tx: &mut Tx,
    actor: &Actor,
    order: &Order,
    lines: &[Line],
) -> ApiResult<Vec<ServiceRow>> {
    let mut out = Vec::new();
    for l in lines {
        let item: Item = serde_json::from_str(&l.item_json).map_err(corrupt)?;
        if !is_service(item.kind()) {
            continue;
        }
        let months = u32::try_from(l.commitment_months).unwrap_or(0);
        let state = ServiceState::ordered(months).map_err(|e| refused(&e))?;
        let unit: Decimal = l.unit_price.parse().map_err(corrupt)?;
        let fee = unit * Decimal::from(l.quantity);
        let row = services::create(
            tx,
            actor,
            NewService {
                org_id: order.org_id.clone(),
                order_id: order.id.to_string(),
                order_line_id: l.id.to_string(),
                kind: item.kind().code().to_owned(),
                label: crate::orders::item_text(&l.item_json),
                item_json: l.item_json.clone(),
                quantity: l.quantity,
                monthly_fee: fee.normalize().to_string(),
                terms_version: order.terms_version.clone(),
                state_json: serde_json::to_string(&state).map_err(corrupt)?,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Problem::moved("service"),
            other => other.into(),
        })?;
        out.push(row);
    }
    Ok(out)
}

// --------------------------------------------------------------------- reads

/// A service visible to the principal (staff, or users of its organisation
/// who see services).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<ServiceRow> {
    let row = services::get(state.store().db(), &p.scope, id).await?;
    require_viewer(p)?;
    Ok(row)
}

pub(crate) fn require_viewer(p: &Principal) -> ApiResult<()> {
    crate::auth::require_service_viewer(p, "services")
}

/// A page of an organisation's services.
pub async fn list(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<ciel_store::Page<ServiceRow>> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    require_viewer(p)?;
    Ok(services::list(state.store().db(), &p.scope, org.id.as_str(), cursor, limit).await?)
}

/// What terminating the service today would give (R3.1, R3.2): a notice
/// received today, the last day of service it gives, and the
/// early-termination fee when that day falls inside the fixed term.
#[derive(Debug, Clone, Serialize)]
pub struct TerminationToday {
    /// `YYYY-MM-DD`: today in the terms' zone.
    pub notice_received_on: Date,
    pub last_day: Date,
    /// True when the service would end with its fixed term, without fee.
    pub at_term_end: bool,
    /// Exact decimal EUR excluding VAT, rounded to the cent ("0" after the
    /// fixed term).
    pub fee: Decimal,
    /// The engine's steps, each citing its clause (R3.2, then R3.1).
    pub explanation: ciel_engine::Explanation,
}

/// The termination quote of a provisioned service that is still running
/// (None otherwise).
pub fn termination_today(
    state: &AppState,
    row: &ServiceRow,
    st: &ServiceState,
    now: Timestamp,
) -> ApiResult<Option<TerminationToday>> {
    let Some(s) = st.service() else {
        return Ok(None);
    };
    if s.termination.is_some() || s.has_ended_at(now) {
        return Ok(None);
    }
    let params = params(state, &row.terms_version)?;
    let today = params.day_of(now);
    let Explained {
        value: notice,
        mut explanation,
    } = service::notice_last_day(s, today, &params).map_err(|e| refused(&e))?;
    let mut fee = Decimal::ZERO;
    if !notice.at_term_end && notice.last_day < s.term_last_day {
        let monthly: Decimal = row.monthly_fee.parse().map_err(corrupt)?;
        let q = service::quote_early_termination(s, notice.last_day, monthly, false, &params)
            .map_err(|e| refused(&e))?;
        fee = q.value.fee;
        explanation.steps.extend(q.explanation.steps);
    }
    Ok(Some(TerminationToday {
        notice_received_on: today,
        last_day: notice.last_day,
        at_term_end: notice.at_term_end,
        fee,
        explanation,
    }))
}

/// The early-termination quote for a chosen last day (R3.1), as the client
/// is shown it before confirming; without a day, the last day a notice
/// received today would give (R3.2).
pub async fn quote(
    state: &AppState,
    p: &Principal,
    id: &str,
    last_day: Option<&str>,
    investment: bool,
) -> ApiResult<Explained<ciel_engine::contract::EarlyTerminationQuote>> {
    let row = get(state, p, id).await?;
    let st = state_of(&row)?;
    let Some(s) = st.service() else {
        return Err(refused(&ServiceError::NotProvisioned {
            event: "terminate_early",
        }));
    };
    let params = params(state, &row.terms_version)?;
    let last_day = match last_day {
        Some(d) => crate::api::calc::date("last_day", d)?,
        None => {
            service::notice_last_day(s, params.day_of(state.now()), &params)
                .map_err(|e| refused(&e))?
                .value
                .last_day
        }
    };
    let monthly: Decimal = row.monthly_fee.parse().map_err(corrupt)?;
    service::quote_early_termination(s, last_day, monthly, investment, &params)
        .map_err(|e| refused(&e))
}

// ------------------------------------------------------------------ actions

/// Who may apply an event: the rule of the portal and the API alike.
fn authorise(p: &Principal, event: &ServiceEvent) -> ApiResult<()> {
    use ServiceEvent as E;
    match event {
        // The client's written acts: its Administrators, or staff recording
        // a letter received (back-dated with the letter's time).
        E::Contest { .. } | E::RequestReversibility => {
            if p.is_staff() {
                require_staff(p, StaffRole::manages_clients).map(|_| ())
            } else if p.user.is_org_admin {
                Ok(())
            } else {
                Err(Problem::forbidden(
                    "R1.7, R12.2: a contest or a reversibility request is made by an Administrator of the client",
                ))
            }
        }
        // Operations record what happened on the platform.
        E::Provision { .. }
        | E::RecordFirstUse
        | E::RecordMonthlyTraffic { .. }
        | E::RecordProductReturn { .. } => require_staff(p, |r| {
            matches!(
                r,
                StaffRole::Admin | StaffRole::Support | StaffRole::Datacenter
            )
        })
        .map(|_| ()),
        // Contractual decisions belong to the staff who manage clients.
        _ => require_staff(p, StaffRole::manages_clients).map(|_| ()),
    }
}

/// Applies a staff or client event to a service: checked by the machine,
/// stored over the version it read, audited, notified and handed to billing
/// in one transaction. The event's instant is the request's, or the
/// back-dated one staff give (a letter's receipt).
pub async fn act(
    state: &AppState,
    p: &Principal,
    id: &str,
    event: ServiceEvent,
) -> ApiResult<ServiceRow> {
    let row = services::get(state.store().db(), &p.scope, id).await?;
    authorise(p, &event)?;
    if event.is_time_driven() {
        return Err(Problem::forbidden(
            "this step is applied by the daily pass at its deadline",
        ));
    }
    let now = state.now();
    let actor = p.actor(now);
    let at = if p.is_staff() { actor.occurred_at } else { now };
    act_as(state, &actor, &row, &event, at).await
}

/// Applies an event as `actor` at `at`, already authorised (a staff or
/// client request through [`act`], or the system, e.g. the usage close
/// recording a month's traffic, R3.5): checked by the machine, stored over
/// the row's version, audited, notified and handed to billing in one
/// transaction.
pub async fn act_as(
    state: &AppState,
    actor: &Actor,
    row: &ServiceRow,
    event: &ServiceEvent,
    at: Timestamp,
) -> ApiResult<ServiceRow> {
    let params = params(state, &row.terms_version)?;
    let current = state_of(row)?;
    let next = service::apply(&current, event, at, &params).map_err(|e| refused(&e))?;
    let mut tx = state.store().begin().await?;
    let saved = store_step(&mut tx, actor, row, &next, event.name()).await?;
    hand_over_charges(&mut tx, actor, &saved, &next, at).await?;
    notify(state, &mut tx, &saved, &next, event).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

async fn store_step(
    tx: &mut Tx,
    actor: &Actor,
    row: &ServiceRow,
    next: &ServiceState,
    event: &str,
) -> ApiResult<ServiceRow> {
    let s = next.service();
    let action = format!("service.{event}");
    services::apply_step(
        tx,
        actor,
        row,
        Step {
            from_version: row.version,
            state: next.name(),
            state_json: serde_json::to_string(next).map_err(corrupt)?,
            start_date: s.map(|s| s.start().to_string()),
            term_last_day: s.map(|s| s.term_last_day.to_string()),
            next_due_at: next.next_due_at(),
            action: &action,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => Problem::moved("service"),
        other => other.into(),
    })
}

fn charge_label(c: &OneOffCharge) -> String {
    match c.key.as_str() {
        "termination_fee" if c.rule == "R3.4" || c.rule == "R3.3" => {
            "Résiliation pour manquement (CG 9.2) / Termination for cause".into()
        }
        "termination_fee" => {
            "Frais de résiliation anticipée (CG 9.1) / Early termination fee".into()
        }
        "product_return_indemnity" => {
            "Indemnité de non-restitution (CG 10) / Product return indemnity".into()
        }
        k => format!(
            "Produit non restitué {} (CG 10) / Product not returned",
            k.trim_start_matches("product_value:")
        ),
    }
}

/// Hands the service's one-off amounts to billing (R3.1, R3.4, R3.6). Each
/// key is handed once; when a late entry revises an amount already handed
/// over (a product return entered after the check), the difference is
/// handed over under a numbered revision key, which billing turns into a
/// credit note or an extra line (R2.11), never an edit.
async fn hand_over_charges(
    tx: &mut Tx,
    actor: &Actor,
    row: &ServiceRow,
    st: &ServiceState,
    at: Timestamp,
) -> ApiResult<()> {
    // Only a termination opens one-off amounts (R3.1, R3.4, R3.6): without
    // one there is nothing to hand over or revise, and no query to make.
    let Some(s) = st.service().filter(|s| s.termination.is_some()) else {
        return Ok(());
    };
    let existing = charges::of_source(&mut **tx, &Scope::Staff, "service", row.id.as_str()).await?;
    // Sum and count of what was handed over, per base key.
    let mut handed: BTreeMap<String, (Decimal, usize)> = BTreeMap::new();
    for c in &existing {
        let base = c
            .charge_key
            .split('#')
            .next()
            .unwrap_or_default()
            .to_owned();
        let e = handed.entry(base).or_default();
        e.0 += c.amount.parse::<Decimal>().map_err(corrupt)?;
        e.1 += 1;
    }
    let mut current: BTreeMap<String, OneOffCharge> = s
        .one_off_charges()
        .into_iter()
        .map(|c| (c.key.clone(), c))
        .collect();
    // A key handed over earlier and gone now is revised to zero.
    for (key, _) in handed.iter() {
        current.entry(key.clone()).or_insert_with(|| OneOffCharge {
            key: key.clone(),
            rule: "R3.6".into(),
            amount: Decimal::ZERO,
        });
    }
    for (key, c) in current {
        let (sum, n) = handed.get(&key).copied().unwrap_or_default();
        let diff = c.amount - sum;
        if diff.is_zero() {
            continue;
        }
        let charge_key = if n == 0 {
            key.clone()
        } else {
            format!("{key}#{n}")
        };
        charges::hand_over(
            tx,
            actor,
            NewCharge {
                org_id: row.org_id.clone(),
                source_kind: "service",
                source_id: row.id.to_string(),
                charge_key,
                rule: c.rule.clone(),
                label: format!("{} — {}", charge_label(&c), row.label),
                amount: diff.round_dp(2).to_string(),
                explanation_json: serde_json::json!({
                    "rule": c.rule,
                    "service": row.id.as_str(),
                    "amount_now": c.amount.to_string(),
                    "handed_before": sum.to_string(),
                    "termination": s.termination,
                    "product_check": s.product_check,
                })
                .to_string(),
                occurred_at: at,
            },
        )
        .await?;
    }
    Ok(())
}

/// The active Administrators of an organisation.
async fn admins(tx: &mut Tx, org_id: &str) -> ApiResult<Vec<User>> {
    members(tx, org_id, |u| u.is_org_admin).await
}

pub(crate) async fn members(
    tx: &mut Tx,
    org_id: &str,
    keep: fn(&User) -> bool,
) -> ApiResult<Vec<User>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = users::list(&mut **tx, &Scope::Staff, org_id, cursor.as_deref(), 200).await?;
        out.extend(
            page.items
                .into_iter()
                .filter(|u| u.status == UserStatus::Active && keep(u)),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Sends the R13 notice of an event to the client's Administrators, and a
/// contest to the provider's support staff (R1.7).
async fn notify(
    state: &AppState,
    tx: &mut Tx,
    row: &ServiceRow,
    next: &ServiceState,
    event: &ServiceEvent,
) -> ApiResult<()> {
    let Some(s) = next.service() else {
        return Ok(());
    };
    let params = params(state, &row.terms_version)?;
    // A delay ends at the start of the day after its last day: the notice
    // names that last day.
    let last_day_before = |end: Timestamp| {
        params
            .day_of(end)
            .yesterday()
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let (kind, day, until, text, fee) = match (event.notice(), event) {
        (Some(ServiceNotice::Provisioned), _) => (
            ServiceMail::Provisioned,
            s.start().to_string(),
            last_day_before(s.contest_window_end),
            String::new(),
            String::new(),
        ),
        (Some(ServiceNotice::Suspended), ServiceEvent::Suspend { reason }) => (
            ServiceMail::Suspended,
            String::new(),
            s.suspension
                .as_ref()
                .and_then(|x| x.deadline)
                .map(last_day_before)
                .unwrap_or_default(),
            reason_text(reason.name()).to_owned(),
            String::new(),
        ),
        (Some(ServiceNotice::Reopened), ServiceEvent::Reopen { note }) => (
            ServiceMail::Reopened,
            String::new(),
            String::new(),
            note.clone(),
            String::new(),
        ),
        (Some(ServiceNotice::TerminationConfirmed), _) => {
            let t = s.termination.as_ref();
            (
                ServiceMail::Terminated,
                t.map(|t| t.last_day.to_string()).unwrap_or_default(),
                String::new(),
                String::new(),
                t.and_then(|t| t.fee.as_ref())
                    .filter(|f| !f.amount.is_zero())
                    .map(|f| f.amount.to_string())
                    .unwrap_or_default(),
            )
        }
        (None, ServiceEvent::Contest { text }) => (
            ServiceMail::Contested,
            String::new(),
            String::new(),
            text.clone(),
            String::new(),
        ),
        _ => return Ok(()),
    };
    let org = orgs::get(&mut **tx, &Scope::Staff, row.org_id.as_str()).await?;
    let recipients = if kind == ServiceMail::Contested {
        let Some(provider) = orgs::provider(&mut **tx).await? else {
            return Ok(());
        };
        members(tx, provider.id.as_str(), |u| {
            matches!(u.staff_role, Some(StaffRole::Admin | StaffRole::Support))
        })
        .await?
    } else {
        admins(tx, row.org_id.as_str()).await?
    };
    let link = if kind == ServiceMail::Contested {
        state.link(&format!("/back-office/services/{}", row.id))
    } else {
        state.link(&format!("/espace-client/services/{}", row.id))
    };
    for to in recipients {
        let mail = Mail::Service {
            name: to.name.clone(),
            org_name: org.name.clone(),
            service: row.label.clone(),
            reference: row.id.to_string(),
            event: kind,
            day: day.clone(),
            until: until.clone(),
            text: text.clone(),
            fee: fee.clone(),
            link: link.clone(),
        };
        send_mail(state, tx, &to, mail).await?;
    }
    Ok(())
}

/// The suspension reason as the notice prints it (both languages, as the
/// reason is a code of the contract).
fn reason_text(code: &str) -> &'static str {
    match code {
        "non_payment" => "non-paiement / non-payment (CG 3.5)",
        "illicit_use" => "usage illicite / illicit use",
        "hacking" => "piratage / hacking",
        "legal_demand" => "injonction légale / legal demand",
        "security_danger" => "danger pour la plateforme / danger to the platform",
        _ => "",
    }
}

// --------------------------------------------------------------------- pass

/// What a pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PassReport {
    /// Services whose steps were applied.
    pub services: u64,
    /// Steps applied, per step name.
    pub steps: BTreeMap<String, u64>,
    /// Services skipped because a person changed them meanwhile (picked
    /// up by the next chunk).
    pub retried: u64,
}

/// Applies every time-driven step due at `now`, in chunks of one
/// transaction each; idempotent (see the module documentation).
pub async fn run_pass(state: &AppState, now: Timestamp) -> ApiResult<PassReport> {
    run_pass_observed(state, now, &mut |_| {}).await
}

/// [`run_pass`], calling `progress` after each committed chunk (the CLI's
/// progress bar).
pub async fn run_pass_observed(
    state: &AppState,
    now: Timestamp,
    progress: &mut (dyn FnMut(&PassReport) + Send),
) -> ApiResult<PassReport> {
    let actor = Actor::system(PASS_JOB, now);
    let mut report = PassReport::default();
    loop {
        let mut tx = state.store().begin().await?;
        let batch = services::due(&mut *tx, now, PASS_CHUNK).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        // The pure part first: every due step of the chunk.
        let mut computed = Vec::with_capacity(batch.len());
        for row in &batch {
            let params = params(state, &row.terms_version)?;
            let current = state_of(row)?;
            let (next, steps) = service::run_due(&current, now, &params).map_err(|e| {
                tracing::error!(service = %row.id, error = %e, "due step refused");
                Problem::internal()
            })?;
            // No step while next_due_at said one was due cannot happen
            // short of a manual edit: the recomputed instant is stored
            // (`service.reindex`) so the pass moves on.
            let action = if steps.is_empty() {
                "service.reindex".to_owned()
            } else {
                let names: Vec<&str> = steps.iter().map(ServiceEvent::name).collect();
                format!("service.{}", names.join("+"))
            };
            computed.push((row, next, steps, action));
        }
        // Then one batched write for the chunk.
        let mut writes = Vec::with_capacity(computed.len());
        for (row, next, _, action) in &computed {
            let s = next.service();
            writes.push((
                *row,
                Step {
                    from_version: row.version,
                    state: next.name(),
                    state_json: serde_json::to_string(next).map_err(corrupt)?,
                    start_date: s.map(|s| s.start().to_string()),
                    term_last_day: s.map(|s| s.term_last_day.to_string()),
                    next_due_at: next.next_due_at(),
                    action: action.as_str(),
                },
            ));
        }
        let written = services::apply_steps(&mut tx, &actor, writes).await?;
        let written: BTreeMap<&str, &ServiceRow> =
            written.iter().map(|r| (r.id.as_str(), r)).collect();
        for (row, next, steps, _) in &computed {
            let Some(saved) = written.get(row.id.as_str()) else {
                report.retried += 1;
                continue;
            };
            hand_over_charges(&mut tx, &actor, saved, next, now).await?;
            if !steps.is_empty() {
                report.services += 1;
            }
            for s in steps {
                *report.steps.entry(s.name().to_owned()).or_default() += 1;
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        progress(&report);
        if written.is_empty() {
            return Ok(report);
        }
    }
}

/// The terms' zone, where every deadline of the service machine falls on a
/// midnight.
pub(crate) fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&ciel_terms::embedded().version.timezone)
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The first instant of the day after `now`'s, in the terms' zone.
pub(crate) fn next_midnight(now: Timestamp) -> Timestamp {
    let tz = zone();
    now.to_zoned(tz.clone())
        .date()
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(tz).ok())
        .and_then(|z| z.start_of_day().ok())
        .map_or(now, |z| z.timestamp())
}

/// Enqueues the pass at `at` (once per instant, whatever the number of
/// processes: the dedup key is the instant).
pub async fn schedule_pass(state: &AppState, at: Timestamp) -> anyhow::Result<()> {
    crate::jobs::schedule_at(state, PASS_JOB, at).await
}

/// At start: a pass now (catching up on what is due) and the next one at
/// midnight.
pub async fn schedule_passes(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let today = now
        .to_zoned(zone())
        .start_of_day()
        .map_or(now, |z| z.timestamp());
    schedule_pass(state, today).await?;
    schedule_pass(state, next_midnight(now)).await
}

/// The job: runs the pass, then schedules the next one.
pub async fn run_pass_job(state: &AppState) -> ApiResult<PassReport> {
    let now = state.now();
    let report = run_pass(state, now).await?;
    schedule_pass(state, next_midnight(now))
        .await
        .map_err(|e| Problem::internal().detail(e.to_string()))?;
    Ok(report)
}
