//! Orders and price lists, end to end (issue 4, items 2-4): the workflows
//! shared by the API and the portal, over the pure rules of `ciel-catalog`.
//!
//! - Staff draft an order for a client: its lines are checked by the option
//!   rules of the terms version in force on the order date (R1.2), overridden
//!   by the order's special conditions (R1.1), and priced from the price list
//!   in force on the order date (R2.4), or, for an amendment of a running
//!   order, on the day its written request was received (R1.5).
//! - Every step of the order (send, online acceptance, paper signature,
//!   validation, refusal, lapse) is the catalog state machine's
//!   `order::apply`; a refused transition is a 409 naming its rule and writes
//!   nothing. Sending e-mails the client's Administrators (R13) and enqueues
//!   the `order.lapse` job at the deadline (dedup key `order.lapse:<id>`).
//! - Publishing a price list that changes a price checks the notice (R2.2)
//!   with the publication instant as the notice instant, and e-mails the
//!   notice to every client Administrator in the same transaction.

use ciel_documents::order_pdf::{OrderSheet, OrderSheetLine, order_pdf};
use ciel_documents::pdf::Lang as PdfLang;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use crate::accounts::send_mail;
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::{
    Item, NoticeRule, OptionRules, OrderEvent, OrderKind, OrderLine, OrderParams, OrderState,
    PriceBook, PriceError, PriceList, Sku, SpecialConditions, TieredPrice, TransitionError,
};
use ciel_domain::StaffRole;
use ciel_mail::Mail;
use ciel_store::catalog::{self, NewPriceList, PriceListRow};
use ciel_store::orders::{self, Line, NewLine, NewOrder, Order, Step};
use ciel_store::users::{User, UserStatus};
use ciel_store::{Actor, Scope, StoreError, jobs, orgs, outbox, users};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

/// Kind of the job that lapses an unaccepted order at its deadline.
pub const LAPSE_JOB: &str = "order.lapse";

/// A snapshot of the terms versions known to this process (R1.2): the
/// embedded one and those published (`crate::terms_versions`).
pub fn registry(state: &AppState) -> std::sync::Arc<ciel_terms::Registry> {
    state.terms()
}

/// The contract engine of a terms version, built once per version and
/// process (its calendars are costly to build; a version id always names
/// the same text).
pub fn engine(state: &AppState, version: &str) -> ApiResult<Arc<ciel_engine::Engine>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ciel_engine::Engine>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(e) = cache.lock().ok().and_then(|c| c.get(version).cloned()) {
        return Ok(e);
    }
    let registry = registry(state);
    let terms = registry.get(version).ok_or_else(|| {
        tracing::error!(terms = %version, "pinned to an unknown terms version");
        Problem::internal()
    })?;
    let e = Arc::new(ciel_engine::Engine::new(terms).map_err(|e| corrupt("terms", e))?);
    if let Ok(mut c) = cache.lock() {
        c.insert(version.to_owned(), e.clone());
    }
    Ok(e)
}

fn tz_of(terms: &ciel_terms::Terms) -> TimeZone {
    TimeZone::get(&terms.version.timezone).unwrap_or(TimeZone::UTC)
}

/// The terms version in force on a date, or a problem naming R1.2.
fn terms_on(state: &AppState, date: Date) -> ApiResult<ciel_terms::Terms> {
    registry(state).in_force_on(date).cloned().ok_or_else(|| {
        Problem::invalid(
            "order_date",
            format!("R1.2 (CG 2.4): no terms version is in force on {date}"),
        )
    })
}

fn terms_of(state: &AppState, order: &Order) -> ApiResult<ciel_terms::Terms> {
    registry(state).get(&order.terms_version).cloned().ok_or_else(|| {
        tracing::error!(terms = %order.terms_version, "order pinned to an unknown terms version");
        Problem::internal()
    })
}

/// Deserialises a JSON value, naming the failing field under `prefix`.
fn parse_value<T: DeserializeOwned>(v: serde_json::Value, prefix: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{path}")
        };
        let code = if e.inner().to_string().starts_with("unknown field `") {
            "unknown_field"
        } else {
            "validation_failed"
        };
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, "Invalid value")
            .field(field)
            .detail(e.inner().to_string())
    })
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

/// A refused transition: 409 naming the rule, nothing written.
fn invalid_transition(e: &TransitionError) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field("state")
    .detail({
        let msg = e.to_string();
        if msg.starts_with(e.rule()) {
            msg
        } else {
            format!("{} {msg}", e.rule())
        }
    })
}

// ---------------------------------------------------------------- price lists

/// The price book as published (oldest first), read back through the
/// catalog crate's checks.
pub async fn price_book(state: &AppState) -> ApiResult<Option<(PriceBook, Vec<PriceListRow>)>> {
    let rows = catalog::all(state.store().db()).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let lists = rows
        .iter()
        .map(list_of_row)
        .collect::<ApiResult<Vec<_>>>()?;
    let book = PriceBook::try_from(lists).map_err(|e| corrupt("price book", e))?;
    Ok(Some((book, rows)))
}

pub(crate) fn list_of_row(r: &PriceListRow) -> ApiResult<PriceList> {
    let date: Date = r
        .effective_from
        .parse()
        .map_err(|e| corrupt("price list", e))?;
    let prices: BTreeMap<Sku, TieredPrice> =
        serde_json::from_str(&r.prices_json).map_err(|e| corrupt("price list", e))?;
    PriceList::new(r.id.as_str(), date, prices).map_err(|e| corrupt("price list", e))
}

/// A price list version to publish.
#[derive(Debug, Clone)]
pub struct PriceListInput {
    pub name: String,
    pub effective_from: String,
    /// SKU -> tiers, as the catalog reads them.
    pub prices: serde_json::Value,
}

/// What a publication did.
#[derive(Debug, Clone)]
pub struct Published {
    pub list: PriceListRow,
    /// The SKUs whose price changed (notified, R2.2).
    pub changed: Vec<String>,
    /// Number of notices put in the outbox.
    pub notices: usize,
}

/// Publishes a price list version (staff who manage clients). A version
/// that changes an existing price is notified now to every client
/// Administrator, and refused when it would take effect less than the
/// notice delay after now (R2.2).
pub async fn publish_price_list(
    state: &AppState,
    p: &Principal,
    input: PriceListInput,
) -> ApiResult<Published> {
    require_staff(p, StaffRole::manages_clients)?;
    publish_as(state, p.actor(state.now()), input).await
}

/// Publishes a price list version for `actor` once authorised (staff
/// through [`publish_price_list`], or the demo loader as the system): the
/// same checks and notices either way.
pub async fn publish_as(
    state: &AppState,
    actor: Actor,
    input: PriceListInput,
) -> ApiResult<Published> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Problem::invalid("name", "1 to 100 printable characters"));
    }
    let effective_from: Date = input
        .effective_from
        .trim()
        .parse()
        .map_err(|_| Problem::invalid("effective_from", "expected a date YYYY-MM-DD"))?;
    let prices: BTreeMap<Sku, TieredPrice> = parse_value(input.prices, "prices")?;
    if prices.is_empty() {
        return Err(Problem::invalid(
            "prices",
            "a price list prices at least one SKU",
        ));
    }
    let now = state.now();
    let terms = terms_on(state, now.to_zoned(TimeZone::UTC).date())?;
    let rule = NoticeRule::from_terms(&terms).map_err(|e| corrupt("terms", e))?;
    let id = catalog::new_list_id(now);
    let list = PriceList::new(id.as_str(), effective_from, prices.clone())
        .map_err(|e| Problem::invalid("name", e.to_string()))?;
    let changed: Vec<String> = match price_book(state).await? {
        None => Vec::new(),
        Some((mut book, _)) => {
            let latest = book.lists().last().cloned();
            book.publish(list.clone(), Some(now), &rule)
                .map_err(|e| match e {
                    PriceError::NoticeTooLate(n) => Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "notice_too_late",
                        "Price change notified too late",
                    )
                    .field("effective_from")
                    .detail(format!("{n} [rule R2.2]")),
                    other => Problem::invalid("effective_from", other.to_string()),
                })?;
            latest
                .map(|l| {
                    list.changes_from(&l)
                        .iter()
                        .map(|s| s.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let prices_json = serde_json::to_string(&prices).map_err(|e| corrupt("prices", e))?;
    let mut tx = state.store().begin().await?;
    let row = catalog::insert(
        &mut tx,
        &actor,
        NewPriceList {
            id,
            name: name.to_owned(),
            effective_from: effective_from.to_string(),
            prices_json,
            notified_at: (!changed.is_empty()).then_some(now),
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(f) => {
            Problem::conflict(f, "a price list already takes effect on this date")
        }
        other => other.into(),
    })?;
    let mut notices = 0;
    if !changed.is_empty() {
        let admins = all_client_admins(state).await?;
        let changes = changed.join(", ");
        for admin in &admins {
            let mail = Mail::PriceChange {
                name: admin.name.clone(),
                list_name: row.name.clone(),
                effective_from: row.effective_from.clone(),
                changes: changes.clone(),
                days: rule.days,
            };
            send_mail(state, &mut tx, admin, mail).await?;
            notices += 1;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Published {
        list: row,
        changed,
        notices,
    })
}

/// The active or invited Administrators of one organisation.
pub(crate) async fn admins_of(state: &AppState, org_id: &str) -> ApiResult<Vec<User>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = users::list(
            state.store().db(),
            &Scope::Staff,
            org_id,
            cursor.as_deref(),
            200,
        )
        .await?;
        out.extend(
            page.items
                .into_iter()
                .filter(|u| u.is_org_admin && u.status != UserStatus::Disabled),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every client Administrator (the recipients of a price-change notice).
async fn all_client_admins(state: &AppState) -> ApiResult<Vec<User>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = orgs::list(state.store().db(), &Scope::Staff, cursor.as_deref(), 200).await?;
        for org in &page.items {
            out.extend(admins_of(state, org.id.as_str()).await?);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

// --------------------------------------------------------------------- orders

/// One line as entered.
#[derive(Debug, Clone)]
pub struct LineInput {
    /// The catalogue item (`{"kind": "cloud_vm", ...}`).
    pub item: serde_json::Value,
    pub quantity: u32,
    pub commitment_months: u32,
}

/// An order as entered by staff.
#[derive(Debug, Clone)]
pub struct DraftInput {
    /// `initial` (default) or `amendment`.
    pub kind: Option<String>,
    /// The running order an amendment changes.
    pub amends: Option<String>,
    /// R1.5: when the written request of an amendment was received.
    pub written_request_received_at: Option<Timestamp>,
    pub special_conditions: Option<serde_json::Value>,
    pub lines: Vec<LineInput>,
}

/// Drafts an order for a client (staff who manage clients). The order date
/// is the day (in the terms' zone) of the event, back-dated if staff say so.
pub async fn draft_order(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: DraftInput,
) -> ApiResult<(Order, Vec<Line>)> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    if org.kind != "client" {
        return Err(Problem::not_found());
    }
    require_staff(p, StaffRole::manages_clients)?;
    let now = state.now();
    let actor = p.actor(now);
    let paris = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
    let order_date = actor.occurred_at.to_zoned(paris).date();
    let terms = terms_on(state, order_date)?;
    let tz = tz_of(&terms);
    let order_date = actor.occurred_at.to_zoned(tz.clone()).date();
    let kind = match input.kind.as_deref().unwrap_or("initial") {
        "initial" => OrderKind::Initial,
        "amendment" => OrderKind::Amendment,
        _ => return Err(Problem::invalid("kind", "initial or amendment")),
    };
    let special: SpecialConditions = match input.special_conditions {
        None | Some(serde_json::Value::Null) => SpecialConditions::default(),
        Some(v) => parse_value(v, "special_conditions")?,
    };
    if special
        .order_acceptance_days
        .is_some_and(|d| !(1..=365).contains(&d))
    {
        return Err(Problem::invalid(
            "special_conditions.order_acceptance_days",
            "R1.3: an acceptance period of 1 to 365 days",
        ));
    }
    if special
        .immutability_max_months
        .is_some_and(|m| !(1..=120).contains(&m))
    {
        return Err(Problem::invalid(
            "special_conditions.immutability_max_months",
            "R9.2: a maximum of 1 to 120 months",
        ));
    }
    OrderParams::for_order(&terms, &special).map_err(|e| corrupt("terms", e))?;
    if input.lines.is_empty() {
        return Err(Problem::invalid("lines", "an order has at least one line"));
    }
    if input.lines.len() > 200 {
        return Err(Problem::invalid("lines", "at most 200 lines"));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, l) in input.lines.iter().enumerate() {
        let item: Item = parse_value(l.item.clone(), &format!("lines[{i}].item"))?;
        if l.commitment_months > 120 {
            return Err(Problem::invalid(
                &format!("lines[{i}].commitment_months"),
                "at most 120 months",
            ));
        }
        if l.commitment_months == 0 && crate::services::is_service(item.kind()) {
            return Err(Problem::invalid(
                &format!("lines[{i}].commitment_months"),
                "R1.6 (CG 2.6): a service is committed for at least one month",
            ));
        }
        lines.push(OrderLine {
            item,
            quantity: l.quantity,
        });
    }
    // R1.5: an amendment is priced on the day its written request was received.
    let (amends, received_at) = match kind {
        OrderKind::Initial => {
            if input.amends.is_some() {
                return Err(Problem::invalid(
                    "amends",
                    "only an amendment amends an order",
                ));
            }
            (None, None)
        }
        OrderKind::Amendment => {
            let Some(parent) = input.amends.as_deref() else {
                return Err(Problem::invalid(
                    "amends",
                    "R1.5 (CG 2.3): an amendment names the running order it changes",
                ));
            };
            let parent = orders::get(state.store().db(), &p.scope, parent)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => Problem::invalid("amends", "no such order"),
                    other => other.into(),
                })?;
            if parent.org_id != org.id || parent.state != "validated" {
                return Err(Problem::invalid(
                    "amends",
                    "R1.5 (CG 2.3): only a validated order of this client can be amended",
                ));
            }
            let Some(at) = input.written_request_received_at else {
                return Err(Problem::invalid(
                    "written_request_received_at",
                    "R1.5 (CG 2.5): an option is priced on the day its written request was received",
                ));
            };
            if at > now {
                return Err(Problem::invalid(
                    "written_request_received_at",
                    "a request cannot be received in the future",
                ));
            }
            (Some(parent.id.to_string()), Some(at))
        }
    };
    let rules = OptionRules::for_order(&terms, &special);
    if let Err(violations) = ciel_catalog::validate(&lines, kind, order_date, &rules) {
        let first = &violations[0];
        let detail = violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "option_rule_violated",
            "An option rule is violated",
        )
        .field(format!("lines[{}].{}", first.line, first.field))
        .detail(detail));
    }
    let Some((book, _)) = price_book(state).await? else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_price_list",
            "No price list",
        )
        .field("lines")
        .detail("no price list is published yet"));
    };
    let list = match received_at {
        Some(at) => book.for_written_request(at, &tz),
        None => book.in_force_on(order_date),
    };
    let Some(list) = list else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_price_list",
            "No price list",
        )
        .field("lines")
        .detail("no price list is in force on the pricing date (R1.5, R2.4)"));
    };
    let mut new_lines = Vec::with_capacity(lines.len());
    for (i, (l, input)) in lines.iter().zip(&input.lines).enumerate() {
        let quote = list.quote(&l.item, 1).map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "price_missing",
                "No price for this item",
            )
            .field(format!("lines[{i}].item"))
            .detail(e.to_string())
        })?;
        new_lines.push(NewLine {
            item_json: serde_json::to_string(&l.item).map_err(|e| corrupt("item", e))?,
            quantity: i64::from(l.quantity),
            unit_price: quote.monthly.normalize().to_string(),
            setup_fee: quote.one_time.normalize().to_string(),
            commitment_months: i64::from(input.commitment_months),
        });
    }
    let new = NewOrder {
        org_id: org.id.clone(),
        kind: match kind {
            OrderKind::Initial => "initial",
            OrderKind::Amendment => "amendment",
        },
        amends_order_id: amends,
        state_json: serde_json::to_string(&OrderState::Draft).map_err(|e| corrupt("state", e))?,
        terms_version: terms.version.id.clone(),
        order_date: order_date.to_string(),
        request_received_at: received_at,
        price_list_id: list.id().to_owned(),
        special_conditions: serde_json::to_string(&special)
            .map_err(|e| corrupt("special conditions", e))?,
    };
    let mut tx = state.store().begin().await?;
    let out = orders::create(&mut tx, &actor, &p.scope, new, new_lines).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(out)
}

/// An order and its lines, as `p` may see them.
pub async fn get_order(state: &AppState, p: &Principal, id: &str) -> ApiResult<(Order, Vec<Line>)> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    let lines = orders::lines(state.store().db(), &p.scope, id).await?;
    Ok((order, lines))
}

/// The state machine's view of a stored order, with its parameters.
fn machine(state: &AppState, order: &Order) -> ApiResult<(OrderState, OrderParams)> {
    let current: OrderState =
        serde_json::from_str(&order.state_json).map_err(|e| corrupt("order state", e))?;
    let special: SpecialConditions = serde_json::from_str(&order.special_conditions)
        .map_err(|e| corrupt("special conditions", e))?;
    let params = OrderParams::for_order(&terms_of(state, order)?, &special)
        .map_err(|e| corrupt("terms", e))?;
    Ok((current, params))
}

/// Applies one event at `at` in one transaction with its audit record; the
/// caller adds its own effects (mails, jobs) through `then`.
async fn step(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    order: &Order,
    event: OrderEvent,
    at: Timestamp,
) -> ApiResult<(Order, OrderState, ciel_store::Tx)> {
    let (current, params) = machine(state, order)?;
    let next =
        ciel_catalog::apply(&current, &event, at, &params).map_err(|e| invalid_transition(&e))?;
    let action = format!("order.{}", event.name());
    let sent = match (&current, &next) {
        (OrderState::Draft, OrderState::Sent { sent_at, .. }) => {
            Some((*sent_at, actor.id.as_ref().map(ToString::to_string)))
        }
        _ => None,
    };
    let mut tx = state.store().begin().await?;
    let saved = orders::apply_step(
        &mut tx,
        actor,
        scope,
        order.id.as_str(),
        Step {
            from_state: current.name(),
            to_state: next.name(),
            state_json: serde_json::to_string(&next).map_err(|e| corrupt("state", e))?,
            action: &action,
            sent,
            acceptance_deadline: next.deadline(),
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => Problem::moved("order"),
        other => other.into(),
    })?;
    Ok((saved, next, tx))
}

fn summary(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let kind = serde_json::from_str::<serde_json::Value>(&l.item_json)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_default();
            format!(
                "- {} x {kind}: {} EUR HT / month, setup {} EUR HT, {} months",
                l.quantity, l.unit_price, l.setup_fee, l.commitment_months
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Staff send a draft: the acceptance deadline is set from the terms (or
/// the order's special conditions), the client's Administrators are e-mailed
/// and the lapse job is enqueued at the deadline.
pub async fn send_order(state: &AppState, p: &Principal, id: &str) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    let now = state.now();
    let actor = p.actor(now);
    let lines = orders::lines(state.store().db(), &p.scope, id).await?;
    let (saved, next, mut tx) = step(
        state,
        &actor,
        &p.scope,
        &order,
        OrderEvent::Send,
        actor.occurred_at,
    )
    .await?;
    let deadline = next.deadline().unwrap_or(now);
    let org = orgs::get(&mut *tx, &Scope::Staff, order.org_id.as_str()).await?;
    let provider = orgs::provider(&mut *tx)
        .await?
        .map(|o| o.name)
        .unwrap_or_else(|| "ciel".into());
    let text = summary(&lines);
    let sheet_lines: Vec<OrderSheetLine> = lines.iter().map(sheet_line).collect();
    for admin in admins_of(state, order.org_id.as_str()).await? {
        let mail = Mail::OrderSent {
            name: admin.name.clone(),
            org_name: org.name.clone(),
            provider: provider.clone(),
            reference: saved.id.to_string(),
            summary: text.clone(),
            terms_version: saved.terms_version.clone(),
            deadline,
            link: state.link(&format!("/espace-client/orders/{}", saved.id)),
        };
        let msg = send_mail(state, &mut tx, &admin, mail).await?;
        // The order itself, as a PDF in the recipient's language.
        let deadline_text = crate::portal::fmt_time(deadline, admin.lang);
        let pdf = order_pdf(&OrderSheet {
            reference: saved.id.as_str(),
            provider: &provider,
            client: &org.name,
            order_date: &saved.order_date,
            terms_version: &saved.terms_version,
            deadline: &deadline_text,
            lines: &sheet_lines,
            lang: match admin.lang {
                ciel_domain::Lang::Fr => PdfLang::Fr,
                ciel_domain::Lang::En => PdfLang::En,
            },
        })
        .map_err(|e| corrupt("order PDF", e))?;
        outbox::attach(
            &mut tx,
            &msg,
            0,
            &outbox::Attachment {
                filename: format!("{}.pdf", saved.id),
                content_type: "application/pdf".into(),
                data: pdf,
            },
            now,
        )
        .await?;
    }
    jobs::enqueue(
        &mut *tx,
        jobs::NewJob {
            kind: LAPSE_JOB,
            payload: serde_json::json!({ "order": saved.id }),
            run_at: deadline,
            dedup_key: Some(format!("order.lapse:{}", saved.id)),
            max_attempts: 10,
        },
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// The client's Administrator accepts the order online, before its deadline.
pub async fn accept_order(state: &AppState, p: &Principal, id: &str) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    if p.is_staff() || !p.user.is_org_admin {
        return Err(Problem::forbidden(
            "R1.3: an order is accepted by an Administrator of the client",
        ));
    }
    let now = state.now();
    let actor = p.actor(now);
    let (saved, _, mut tx) = step(
        state,
        &actor,
        &p.scope,
        &order,
        OrderEvent::AcceptOnline,
        now,
    )
    .await?;
    tell_sender(state, &mut tx, p, &saved, true, "").await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// Tells the staff member who sent the order that the client answered, in
/// the answer's transaction (nobody when the sender left).
async fn tell_sender(
    state: &AppState,
    tx: &mut ciel_store::Tx,
    p: &Principal,
    order: &Order,
    accepted: bool,
    reason: &str,
) -> ApiResult<()> {
    let Some(sender) = &order.sent_by else {
        return Ok(());
    };
    let Ok(to) = users::get(state.store().db(), &Scope::Staff, sender).await else {
        return Ok(());
    };
    if to.status == UserStatus::Disabled {
        return Ok(());
    }
    let mail = Mail::OrderAnswered {
        name: to.name.clone(),
        org_name: p.org_name.clone(),
        reference: order.id.to_string(),
        by: p.user.name.clone(),
        accepted,
        reason: reason.trim().to_owned(),
        at: state.now(),
        link: state.link(&format!("/back-office/orders/{}", order.id)),
    };
    send_mail(state, tx, &to, mail).await?;
    Ok(())
}

/// The client's Administrator declines a sent order before its deadline,
/// with an optional reason: the order is closed and will not lapse.
pub async fn decline_order(
    state: &AppState,
    p: &Principal,
    id: &str,
    reason: Option<&str>,
) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    if p.is_staff() || !p.user.is_org_admin {
        return Err(Problem::forbidden(
            "R1.3: an order is declined by an Administrator of the client",
        ));
    }
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(Problem::invalid("reason", "at most 2000 characters"));
    }
    let now = state.now();
    let actor = p.actor(now);
    let event = OrderEvent::Decline {
        reason: reason.map(str::to_owned),
    };
    let (saved, _, mut tx) = step(state, &actor, &p.scope, &order, event, now).await?;
    tell_sender(state, &mut tx, p, &saved, false, reason.unwrap_or_default()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// Staff record a paper signature of `signed_on`, received at the event's
/// (possibly back-dated) instant.
pub async fn record_signature(
    state: &AppState,
    p: &Principal,
    id: &str,
    signed_on: &str,
) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    let signed_on: Date = signed_on
        .trim()
        .parse()
        .map_err(|_| Problem::invalid("signed_on", "expected a date YYYY-MM-DD"))?;
    let now = state.now();
    let actor = p.actor(now);
    let (saved, _, tx) = step(
        state,
        &actor,
        &p.scope,
        &order,
        OrderEvent::RecordPaperSignature { signed_on },
        actor.occurred_at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// Staff validate an accepted order (R1.4): it now binds the provider.
pub async fn validate_order(state: &AppState, p: &Principal, id: &str) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    let now = state.now();
    let actor = p.actor(now);
    let (saved, _, mut tx) = step(
        state,
        &actor,
        &p.scope,
        &order,
        OrderEvent::Validate,
        actor.occurred_at,
    )
    .await?;
    let lines = orders::lines(&mut *tx, &p.scope, id).await?;
    crate::services::create_for_order(&mut tx, &actor, &saved, &lines).await?;
    crate::hour_books::create_for_order(&mut tx, &actor, &saved, &lines).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// Staff refuse an accepted order for a legitimate reason (R1.4).
pub async fn refuse_order(
    state: &AppState,
    p: &Principal,
    id: &str,
    reason: &str,
) -> ApiResult<Order> {
    let order = orders::get(state.store().db(), &p.scope, id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    if reason.trim().is_empty() {
        return Err(Problem::invalid(
            "reason",
            "R1.4 (CG 2.2): refusing an order needs its reason",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(Problem::invalid("reason", "at most 2000 characters"));
    }
    let now = state.now();
    let actor = p.actor(now);
    let (saved, _, tx) = step(
        state,
        &actor,
        &p.scope,
        &order,
        OrderEvent::Refuse {
            reason: reason.to_owned(),
        },
        actor.occurred_at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// The `order.lapse` job: lapses the order if it is still unaccepted at its
/// deadline and tells both sides. Returns whether it lapsed it; running it
/// again (or after an acceptance) does nothing.
pub async fn run_lapse(state: &AppState, id: &str) -> ApiResult<bool> {
    let order = match orders::get(state.store().db(), &Scope::Staff, id).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let now = state.now();
    let (current, _) = machine(state, &order)?;
    if current.due_step(now) != Some(OrderEvent::Lapse) {
        return Ok(false);
    }
    let actor = Actor::system(LAPSE_JOB, now);
    let (saved, next, mut tx) =
        step(state, &actor, &Scope::Staff, &order, OrderEvent::Lapse, now).await?;
    let deadline = next.deadline().unwrap_or(now);
    let org = orgs::get(&mut *tx, &Scope::Staff, order.org_id.as_str()).await?;
    let mut to: Vec<(User, bool)> = admins_of(state, order.org_id.as_str())
        .await?
        .into_iter()
        .map(|u| (u, false))
        .collect();
    if let Some(sender) = &order.sent_by
        && let Ok(u) = users::get(state.store().db(), &Scope::Staff, sender).await
        && u.status != UserStatus::Disabled
    {
        to.push((u, true));
    }
    for (user, staff) in to {
        let mail = Mail::OrderLapsed {
            name: user.name.clone(),
            org_name: org.name.clone(),
            reference: saved.id.to_string(),
            deadline,
            staff,
        };
        send_mail(state, &mut tx, &user, mail).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(true)
}

/// Totals of an order's lines: (monthly, one-time), exact.
/// A stored line as the order PDF prints it.
fn sheet_line(l: &Line) -> OrderSheetLine {
    OrderSheetLine {
        description: item_text(&l.item_json),
        quantity: l.quantity,
        unit_price: l.unit_price.parse().unwrap_or_default(),
        setup_fee: l.setup_fee.parse().unwrap_or_default(),
        commitment_months: l.commitment_months,
    }
}

/// A catalogue item (stored as JSON) as one readable line: its kind and its
/// parameters.
pub fn item_text(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let mut out = v
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("?")
        .to_owned();
    if let Some(o) = v.as_object() {
        let params: Vec<String> = o
            .iter()
            .filter(|(k, x)| k.as_str() != "kind" && !x.is_null())
            .map(|(k, x)| format!("{k}={}", x.as_str().map_or(x.to_string(), str::to_owned)))
            .collect();
        if !params.is_empty() {
            out.push_str(&format!(" ({})", params.join(", ")));
        }
    }
    out
}

pub fn totals(lines: &[Line]) -> (Decimal, Decimal) {
    lines
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(m, o), l| {
            let q = Decimal::from(l.quantity);
            let unit: Decimal = l.unit_price.parse().unwrap_or_default();
            let setup: Decimal = l.setup_fee.parse().unwrap_or_default();
            (m + unit * q, o + setup * q)
        })
}
