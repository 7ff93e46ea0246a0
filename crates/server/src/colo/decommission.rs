//! Decommissioning at a colocation termination (R11.6), over
//! `operations::decommission`.
//!
//! - The pass opens one for every colocation service whose termination is
//!   recorded (effective date = its last day of service); staff may open it
//!   at once.
//! - The client (or staff) uploads the timestamped photo of the emptied
//!   space: JPEG or PNG, checked by its first bytes, at most
//!   [`MAX_PHOTO_BYTES`]; it is only ever served as a download
//!   (`Content-Disposition: attachment`, `nosniff`), never inline.
//! - Staff record the registered formal notice's acknowledgement date,
//!   refused before the non-compliance notice went out (R11.6).
//! - The pass applies each step due (non-compliance notice, billing
//!   resumed, destruction allowed), dated at its due instant, each with its
//!   mail; while billing is resumed it hands the former monthly fee to
//!   billing per calendar month, pro rata of the started Paris days, once
//!   the month ended or the proof stopped it (key `resumed:<YYYY-MM>`).

use super::{Notice, corrupt, require_operator, require_reader, rule, stored, transition};
use crate::auth::Principal;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_catalog::service::ServiceState;
use ciel_mail::ColocationMail;
use ciel_operations::Operations;
use ciel_operations::decommission::{DecommissionState, DecommissionStep, PhotoProof, Timeline};
use ciel_store::colo_decommission::{self as store, DecommissionRow, PhotoMeta};
use ciel_store::services::{self, ServiceRow};
use ciel_store::{Actor, Scope, StoreError, Tx, charges};
use jiff::{Timestamp, ToSpan, civil::Date};
use rust_decimal::Decimal;
use serde::Serialize;

/// Largest photo accepted (8 MiB).
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;

/// The client space's upload form (multipart).
pub const PHOTO_FORM_PATH: &str = "/espace-client/colocation/photo";

/// Room for a multipart form's framing and text fields around the photo.
pub const PHOTO_FORM_OVERHEAD: usize = 64 * 1024;

/// Whether `path` is a decommissioning's photo upload, whose body may be up
/// to [`MAX_PHOTO_BYTES`] (the server's default limit is smaller), plus
/// the framing of the client space's form.
pub fn is_photo_path(path: &str) -> bool {
    path == PHOTO_FORM_PATH
        || path
            .strip_prefix("/api/v1/services/")
            .and_then(|rest| rest.strip_suffix("/decommissioning/photo"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// A decommissioning with its dates as the rules read them now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecommissionView {
    #[serde(flatten)]
    pub row: DecommissionRow,
    /// The rules' state (notices sent, proof, formal notice).
    #[schema(value_type = Object)]
    pub state: DecommissionState,
    /// Removal deadline, end of regularisation, resumed billing,
    /// destruction allowed (R11.6).
    #[schema(value_type = Object)]
    pub timeline: Timeline,
    pub photo: Option<PhotoMeta>,
}

fn state_of(row: &DecommissionRow) -> ApiResult<DecommissionState> {
    serde_json::from_str(&row.state_json).map_err(|e| corrupt("decommission", e))
}

async fn view(state: &AppState, tx: &mut Tx, row: DecommissionRow) -> ApiResult<DecommissionView> {
    let s = services::get(&mut **tx, &Scope::Staff, &row.service_id).await?;
    let ops = super::ops(state, &s.terms_version)?;
    let st = state_of(&row)?;
    let photo = store::photo_meta(&mut **tx, row.id.as_str()).await?;
    Ok(DecommissionView {
        timeline: ops.decommission_timeline(&st),
        row,
        state: st,
        photo,
    })
}

/// The last day of service of a terminated colocation service.
fn effective_date(s: &ServiceRow) -> ApiResult<Option<Date>> {
    if s.kind != "colocation" {
        return Ok(None);
    }
    match crate::services::state_of(s)? {
        ServiceState::Provisioned(svc) => Ok(svc.termination.map(|t| t.last_day)),
        ServiceState::Ordered { .. } => Ok(None),
    }
}

async fn ensure(
    tx: &mut Tx,
    actor: &Actor,
    s: &ServiceRow,
    day: Date,
) -> ApiResult<(DecommissionRow, bool)> {
    let st = DecommissionState::new(day);
    let json = serde_json::to_string(&st).map_err(|e| corrupt("decommission", e))?;
    Ok(store::open(tx, actor, &s.org_id, s.id.as_str(), &day.to_string(), &json).await?)
}

/// Staff open the decommissioning of a terminated colocation service now
/// (the pass would open it at midnight).
pub async fn open(
    state: &AppState,
    p: &Principal,
    service_id: &str,
) -> ApiResult<DecommissionView> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let s = services::get(&mut *tx, &p.scope, service_id).await?;
    require_operator(p)?;
    let Some(day) = effective_date(&s)? else {
        return Err(rule(
            "service_id",
            "R11.6: only a colocation service whose termination is recorded is decommissioned",
        ));
    };
    let (row, _) = ensure(&mut tx, &p.actor(now), &s, day).await?;
    let v = view(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

/// The decommissioning of a service, as `p` may see it.
pub async fn of_service(
    state: &AppState,
    p: &Principal,
    service_id: &str,
) -> ApiResult<DecommissionView> {
    let mut tx = state.store().begin().await?;
    let row = store::of_service(&mut *tx, &p.scope, service_id).await?;
    require_reader(p)?;
    view(state, &mut tx, row).await
}

/// An organisation's decommissionings.
pub async fn list(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<DecommissionView>> {
    let mut tx = state.store().begin().await?;
    let org = ciel_store::orgs::get(&mut *tx, &p.scope, org_id).await?;
    require_reader(p)?;
    let page = store::list(&mut *tx, &p.scope, org.id.as_str(), None, 200).await?;
    let mut out = Vec::new();
    for row in page.items {
        out.push(view(state, &mut tx, row).await?);
    }
    Ok(out)
}

/// Staff: the decommissionings still running, every client.
pub async fn running(state: &AppState, p: &Principal) -> ApiResult<Vec<DecommissionView>> {
    require_operator(p)?;
    let mut tx = state.store().begin().await?;
    let rows = store::open_ones(&mut *tx).await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(view(state, &mut tx, row).await?);
    }
    Ok(out)
}

/// The media type of a photo, from its first bytes (never from the name or
/// the declared type alone).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Uploads the timestamped photo proving the space is empty (R11.6).
pub async fn upload_photo(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    declared_type: &str,
    taken_at: Option<Timestamp>,
    bytes: &[u8],
) -> ApiResult<DecommissionView> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    // Another organisation's service is not found, whatever the file.
    let before = store::of_service(&mut *tx, &p.scope, service_id).await?;
    require_reader(p)?;
    let taken_at = taken_at
        .ok_or_else(|| Problem::invalid("taken_at", "R11.6: the photo's timestamp (RFC 3339)"))?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Problem::invalid(
            "photo",
            format!("at most {MAX_PHOTO_BYTES} bytes"),
        ));
    }
    let Some(kind) = sniff(bytes) else {
        return Err(Problem::invalid("photo", "a JPEG or PNG photo"));
    };
    if declared_type != kind {
        return Err(Problem::invalid(
            "content_type",
            format!("the file is {kind}, not {declared_type}"),
        ));
    }
    if taken_at > now {
        return Err(Problem::invalid(
            "taken_at",
            "a photo is taken before it is sent",
        ));
    }
    let mut st = state_of(&before)?;
    if st.proof.is_some() {
        return Err(transition(
            "R11.6: the proof of release is already recorded",
        ));
    }
    st.proof = Some(PhotoProof {
        taken_at,
        uploaded_at: now,
    });
    store::put_photo(&mut tx, &before.id, kind, taken_at, now, bytes).await?;
    let json = serde_json::to_string(&st).map_err(|e| corrupt("decommission", e))?;
    // Open until the pass has billed the resumed days up to the proof.
    let row = store::save(
        &mut tx,
        &p.actor(now),
        &before,
        "colocation.decommission.proof",
        &json,
        true,
    )
    .await
    .map_err(stored("decommissioning"))?;
    let v = view(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

/// The photo proof, for a download.
pub async fn photo(
    state: &AppState,
    p: &Principal,
    service_id: &str,
) -> ApiResult<(PhotoMeta, Vec<u8>)> {
    let db = state.store().db();
    let row = store::of_service(db, &p.scope, service_id).await?;
    require_reader(p)?;
    Ok(store::photo(db, row.id.as_str()).await?)
}

/// Staff record the acknowledgement date of the registered formal notice:
/// the 30 days before destruction run from it (R11.6).
pub async fn formal_notice(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    received_at: Timestamp,
) -> ApiResult<DecommissionView> {
    let now = state.now();
    if received_at > now {
        return Err(Problem::invalid(
            "received_at",
            "a letter is recorded once received",
        ));
    }
    let mut tx = state.store().begin().await?;
    let before = store::of_service(&mut *tx, &p.scope, service_id).await?;
    require_operator(p)?;
    let mut st = state_of(&before)?;
    if st.proof.is_some() {
        return Err(transition(
            "R11.6: the space was released; no formal notice",
        ));
    }
    if !st
        .applied
        .contains_key(&DecommissionStep::NonComplianceNotice)
    {
        return Err(rule(
            "received_at",
            "R11.6 (CS 2.3.3): the formal notice follows the non-compliance notice, sent the day after the effective date without proof",
        ));
    }
    if st.formal_notice_received_at.is_some() {
        return Err(transition("R11.6: the formal notice is already recorded"));
    }
    st.formal_notice_received_at = Some(received_at);
    let json = serde_json::to_string(&st).map_err(|e| corrupt("decommission", e))?;
    let row = store::save(
        &mut tx,
        &p.actor(now),
        &before,
        "colocation.decommission.formal_notice",
        &json,
        true,
    )
    .await
    .map_err(stored("decommissioning"))?;
    let v = view(state, &mut tx, row).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(v)
}

/// What the pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecommissionReport {
    pub opened: usize,
    pub steps: usize,
    pub charges: usize,
}

/// The pass: opens the decommissionings of terminated colocation services,
/// applies the steps due with their mails, and bills the resumed months.
pub async fn run(state: &AppState, now: Timestamp) -> ApiResult<DecommissionReport> {
    let actor = Actor::system(super::pass::JOB, now);
    let mut report = DecommissionReport::default();
    let colocations = services::of_kinds(state.store().db(), &["colocation"]).await?;
    for s in &colocations {
        if let Some(day) = effective_date(s)? {
            let mut tx = state.store().begin().await?;
            if ensure(&mut tx, &actor, s, day).await?.1 {
                report.opened += 1;
            }
            tx.commit().await.map_err(StoreError::from)?;
        }
    }
    for row in store::open_ones(state.store().db()).await? {
        let mut tx = state.store().begin().await?;
        let s = services::get(&mut *tx, &Scope::Staff, &row.service_id).await?;
        let ops = super::ops(state, &s.terms_version)?;
        let mut st = state_of(&row)?;
        let due = ops.due_decommission_steps(&st, now);
        let label = super::power::emplacement(&s)?
            .map(|(_, l)| l)
            .unwrap_or_else(|| s.label.clone());
        let mut steps = 0;
        for d in &due {
            let at = ops
                .apply_decommission_step(&mut st, d.step, now)
                .map_err(|e| corrupt("decommission", e))?;
            let (kind, day) = match d.step {
                DecommissionStep::NonComplianceNotice => (
                    ColocationMail::NonCompliance,
                    ops.decommission_timeline(&st).regularisation_ends,
                ),
                DecommissionStep::ResumeBilling => (ColocationMail::BillingResumed, at),
                DecommissionStep::DestructionAllowed => (ColocationMail::DestructionAllowed, at),
            };
            let n = Notice {
                kind,
                org_id: row.org_id.as_str(),
                reference: row.id.as_str(),
                subject: &label,
                day,
                reasons: Some(&d.reasons.reasons),
                extra: "",
                client_path: "/espace-client/colocation/decommissionnement",
                staff_path: "/back-office/colocation/operations",
            };
            super::notify_client(state, &mut tx, &n).await?;
            if d.step == DecommissionStep::DestructionAllowed {
                super::notify_staff(state, &mut tx, &n).await?;
            }
            steps += 1;
        }
        let timeline = ops.decommission_timeline(&st);
        let (billed, settled) =
            bill_resumed(state, &mut tx, &actor, &ops, &s, &timeline, now).await?;

        let cleared = st.proof.is_some_and(|p| p.uploaded_at <= now);
        let open = !(cleared && settled);
        if !due.is_empty() || open != row.open {
            let json = serde_json::to_string(&st).map_err(|e| corrupt("decommission", e))?;
            match store::save(
                &mut tx,
                &actor,
                &row,
                "colocation.decommission.step",
                &json,
                open,
            )
            .await
            {
                Ok(_) => {}
                // Another pass (the midnight job, another process) applied
                // these steps first: this one's notices and charges roll
                // back with its transaction, so each is sent once.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(stored("decommissioning")(e)),
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        report.steps += steps;
        report.charges += billed;
    }
    Ok(report)
}

/// Hands the resumed billing of each finished month to billing: the former
/// monthly fee × started Paris days billed ÷ days of the month. Returns the
/// charges new and whether nothing remains to bill (billing stopped by the
/// proof and its last month billed, or never resumed).
async fn bill_resumed(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    ops: &Operations,
    s: &ServiceRow,
    t: &Timeline,
    now: Timestamp,
) -> ApiResult<(usize, bool)> {
    let Some((from, until)) = t.billing_resumed else {
        return Ok((0, true));
    };
    if from >= now {
        return Ok((0, false));
    }
    let fee = Decimal::from_str_exact(&s.monthly_fee).map_err(|e| corrupt("fee", e))?;
    let engine = crate::orders::engine(state, &s.terms_version)?;
    let stop = until.unwrap_or(now).min(now);
    let mut month = ops.day_of(from).first_of_month();
    let mut new = 0;
    loop {
        let m_start = ops.start_of(month);
        if m_start >= stop {
            break;
        }
        let next = month
            .checked_add(1.month())
            .map_err(|e| corrupt("month", e))?;
        let m_end = ops.start_of(next);
        // A month is billed once it ended, or once the proof stopped billing.
        let finished = m_end <= now || until.is_some_and(|u| u <= now && u < m_end);
        if !finished {
            break;
        }
        let a = from.max(m_start);
        let b = stop.min(m_end);
        // Started Paris days: from the day of `a` to the day of `b` (a
        // stop at midnight does not start its day).
        let first = ops.day_of(a);
        let last = ops.day_of(
            b.checked_sub(jiff::SignedDuration::from_millis(1))
                .unwrap_or(b),
        );
        let days = i64::from(
            first
                .until(last)
                .map_err(|e| corrupt("days", e))?
                .get_days(),
        ) + 1;
        let month_days = i64::from(month.days_in_month());
        let amount = engine.round_money(fee * Decimal::from(days) / Decimal::from(month_days));
        let key = format!("resumed:{}", month.strftime("%Y-%m"));
        let ex = vec![
            ciel_engine::Step::new("R11.6", "CS 2.3.3")
                .input("monthly_fee", &s.monthly_fee)
                .input("from", a)
                .input("until", b)
                .input("days", days)
                .input("days_of_month", month_days)
                .outcome(format!("amount={amount}"))
                .text(
                    format!(
                        "reprise de la facturation aux conditions antérieures : {} € × {days} j ÷ {month_days} j = {amount} € HT",
                        s.monthly_fee
                    ),
                    format!(
                        "billing resumed at the former conditions: EUR {} × {days} d ÷ {month_days} d = EUR {amount} excl. VAT",
                        s.monthly_fee
                    ),
                ),
        ];
        if charges::hand_over(
            tx,
            actor,
            charges::NewCharge {
                org_id: s.org_id.clone(),
                source_kind: super::work::CHARGE_SOURCE,
                source_id: s.id.to_string(),
                charge_key: key,
                rule: "R11.6".into(),
                label: format!(
                    "Reprise de facturation / Billing resumed {}: {}",
                    month.strftime("%Y-%m"),
                    s.label
                ),
                amount: amount.to_string(),
                explanation_json: serde_json::to_string(&ex)
                    .map_err(|e| corrupt("explanation", e))?,
                occurred_at: b,
            },
        )
        .await?
        {
            new += 1;
        }
        month = next;
    }
    let settled = until.is_some_and(|u| u <= now) && ops.start_of(month) >= stop;
    Ok((new, settled))
}
