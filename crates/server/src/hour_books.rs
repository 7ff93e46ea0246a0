//! Prepaid hour books (issue 4, item 7; R8.2-R8.3, CS 5.3): the workflows
//! shared by the API and the portal, over the engine's pure ledger.
//!
//! - Validating an order creates one book per hour-book line, in the
//!   validation's transaction (idempotent by order line).
//! - Staff record interventions (start, end, description, kind; the staff
//!   member recording is who did the work) and the client's written overrun
//!   authorisations. An intervention is charged per R8.2 (R8.3 for a
//!   restoration); the ledger with it included must hold, else 409 naming
//!   R8.2 and nothing is written. An authorised overrun is handed to billing
//!   at the book's hourly rate, once (key: the intervention).
//! - Interventions are recorded in the order of their ends, so an
//!   intervention's overrun, once billed, never changes.
//! - The balance is never stored: it is the ledger read now, with the
//!   month-end lapses of CS 5.3 when no managed-services order is in force.

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::http::StatusCode;
use ciel_catalog::Item;
use ciel_catalog::service::ServiceState;
use ciel_domain::StaffRole;
use ciel_engine::hourledger::{
    Authorisation, Intervention, InterventionKind, Ledger, LedgerError, LedgerInput, ManagedPeriod,
    Purchase,
};
use ciel_engine::{Explanation, Lang};
use ciel_store::hour_books::{
    self, AuthorisationRow, Book, InterventionRow, NewAuthorisation, NewBook, NewIntervention,
};
use ciel_store::orders::{Line, Order};
use ciel_store::{Actor, Scope, StoreError, Tx, charges};
use jiff::Timestamp;
use rust_decimal::Decimal;

/// A book with its ledger read now.
#[derive(Debug, Clone)]
pub struct BookState {
    pub book: Book,
    pub ledger: Ledger,
    /// A managed-services order is in force now (hours carry over).
    pub managed_now: bool,
}

/// A book with everything recorded on it.
#[derive(Debug, Clone)]
pub struct BookDetail {
    pub state: BookState,
    pub interventions: Vec<InterventionRow>,
    pub authorisations: Vec<AuthorisationRow>,
    /// What the ledger was computed from (a new intervention is added to it).
    pub input: LedgerInput,
}

/// An intervention to record.
#[derive(Debug, Clone)]
pub struct InterventionInput {
    pub kind: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub description: String,
}

/// A written overrun authorisation to record.
#[derive(Debug, Clone)]
pub struct AuthorisationInput {
    pub given_by: String,
    pub given_at: Option<Timestamp>,
    pub reference: String,
    pub max_minutes: u32,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "stored {what} cannot be read back");
    Problem::internal()
}

/// Creates the books bought on a validated order, in its transaction. The
/// hourly rate (of an authorised overrun) is what one hour of the book cost
/// on the order's price list, setup excluded.
pub async fn create_for_order(
    tx: &mut Tx,
    actor: &Actor,
    order: &Order,
    lines: &[Line],
) -> ApiResult<()> {
    let books: Vec<(&Line, Item, u32)> = lines
        .iter()
        .filter_map(|l| match serde_json::from_str::<Item>(&l.item_json) {
            Ok(item @ Item::HourBook { hours }) if hours > 0 => Some((l, item, hours)),
            _ => None,
        })
        .collect();
    if books.is_empty() {
        return Ok(());
    }
    let row = ciel_store::catalog::all(&mut **tx)
        .await?
        .into_iter()
        .find(|r| r.id.as_str() == order.price_list_id)
        .ok_or_else(|| corrupt("order price list", &order.price_list_id))?;
    let list = crate::orders::list_of_row(&row)?;
    for (l, item, hours) in books {
        let quote = list
            .quote(&item, 1)
            .map_err(|e| corrupt("hour book price", e))?;
        let paid = quote
            .charges
            .iter()
            .find(|c| c.sku.to_string() == HOUR_SKU)
            .map(|c| c.priced.amount)
            .ok_or_else(|| corrupt("hour book price", HOUR_SKU))?;
        hour_books::create_book(
            tx,
            actor,
            NewBook {
                org_id: order.org_id.clone(),
                order_id: order.id.to_string(),
                order_line_id: l.id.to_string(),
                hours: i64::from(hours) * l.quantity,
                hourly_rate: (paid / Decimal::from(hours)).normalize().to_string(),
                terms_version: order.terms_version.clone(),
                purchased_at: actor.occurred_at,
            },
        )
        .await?;
    }
    Ok(())
}

/// The catalogue's price of one prepaid hour.
const HOUR_SKU: &str = "hour_book.hour";

fn can_read(p: &Principal) -> ApiResult<()> {
    crate::auth::require_service_viewer(p, "hour books")
}

fn managed_periods(rows: &[hour_books::ManagedService]) -> ApiResult<Vec<ManagedPeriod>> {
    rows.iter()
        .map(|m| {
            let s: ServiceState =
                serde_json::from_str(&m.state_json).map_err(|e| corrupt("service state", e))?;
            Ok(ManagedPeriod {
                from: m.created_at,
                until: s
                    .service()
                    .and_then(|s| s.termination.as_ref())
                    .map(|t| t.ends_at),
            })
        })
        .collect()
}

fn ledger_input(
    book: &Book,
    interventions: &[InterventionRow],
    authorisations: &[AuthorisationRow],
    managed: Vec<ManagedPeriod>,
    at: Timestamp,
) -> ApiResult<LedgerInput> {
    Ok(LedgerInput {
        purchases: vec![Purchase {
            id: book.id.to_string(),
            at: book.purchased_at,
            minutes: Decimal::from(book.hours * 60),
        }],
        interventions: interventions
            .iter()
            .map(|i| {
                Ok(Intervention {
                    id: i.id.to_string(),
                    start: i.started_at,
                    end: i.ended_at,
                    kind: InterventionKind::parse(&i.kind)
                        .ok_or_else(|| corrupt("intervention kind", &i.kind))?,
                })
            })
            .collect::<ApiResult<_>>()?,
        authorisations: authorisations
            .iter()
            .map(|a| Authorisation {
                id: a.id.to_string(),
                given_at: a.given_at,
                max_minutes: Decimal::from(a.max_minutes),
            })
            .collect(),
        managed,
        at,
    })
}

/// Reads a book, its records and its ledger now (through the scope).
async fn load(state: &AppState, scope: &Scope, book: Book) -> ApiResult<BookDetail> {
    let db = state.store().db();
    let now = state.now();
    let interventions = hour_books::interventions(db, scope, book.id.as_str()).await?;
    let authorisations = hour_books::authorisations(db, scope, book.id.as_str()).await?;
    let managed =
        managed_periods(&hour_books::managed_services(db, scope, book.org_id.as_str()).await?)?;
    let managed_now = managed
        .iter()
        .any(|m| m.from <= now && m.until.is_none_or(|u| now < u));
    let input = ledger_input(&book, &interventions, &authorisations, managed, now)?;
    let ledger = crate::orders::engine(state, &book.terms_version)?
        .hour_book_ledger(&input)
        .map_err(|e| corrupt("hour book ledger", e))?;
    Ok(BookDetail {
        state: BookState {
            book,
            ledger,
            managed_now,
        },
        interventions,
        authorisations,
        input,
    })
}

/// The books of an organisation with their balances.
pub async fn list_books(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<Vec<BookState>> {
    let org = ciel_store::orgs::get(state.store().db(), &p.scope, org_id).await?;
    can_read(p)?;
    let books = hour_books::list(state.store().db(), &p.scope, org.id.as_str()).await?;
    let mut out = Vec::with_capacity(books.len());
    for b in books {
        out.push(load(state, &p.scope, b).await?.state);
    }
    Ok(out)
}

/// A book with its interventions and authorisations.
pub async fn get_book(state: &AppState, p: &Principal, id: &str) -> ApiResult<BookDetail> {
    let book = hour_books::get(state.store().db(), &p.scope, id).await?;
    can_read(p)?;
    load(state, &p.scope, book).await
}

/// A refusal of the ledger: 409 naming R8.2, nothing written.
fn refused(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid_transition",
        "Invalid transition",
    )
    .field(field)
    .detail(detail)
}

/// Staff record an intervention on a book: charged per R8.2 (R8.3), the
/// overrun (if any) covered by a written authorisation and handed to billing.
pub async fn record_intervention(
    state: &AppState,
    p: &Principal,
    book_id: &str,
    input: InterventionInput,
) -> ApiResult<(InterventionRow, BookDetail)> {
    let book = hour_books::get(state.store().db(), &p.scope, book_id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    let now = state.now();
    let kind = match input.kind.as_deref() {
        None => InterventionKind::Normal,
        Some(k) => InterventionKind::parse(k).ok_or_else(|| {
            Problem::invalid(
                "kind",
                "one of normal, server_restoration, data_recovery (R8.3)",
            )
        })?,
    };
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        return Err(Problem::invalid(
            "description",
            "say what was done, in at most 2000 characters",
        ));
    }
    let eng = crate::orders::engine(state, &book.terms_version)?;
    eng.hour_book_check_intervention(input.start, input.end, now, book.purchased_at)
        .map_err(|r| Problem::invalid(r.field, r.message))?;
    let before = load(state, &p.scope, book).await?;
    if let Some(last) = before.interventions.last()
        && input.end < last.ended_at
    {
        return Err(refused(
            "end",
            format!(
                "R8.2 (CS 5.3): interventions are recorded in the order they end; the last one ended at {}",
                last.ended_at
            ),
        ));
    }
    let book = &before.state.book;
    let id = format!("new:{}", input.end);
    let mut li = before.input.clone();
    li.interventions.push(Intervention {
        id: id.clone(),
        start: input.start,
        end: input.end,
        kind,
    });
    let ledger = eng.hour_book_ledger(&li).map_err(|e| match e {
        LedgerError::OverrunNotAuthorised { .. } => refused("end", e.to_string()),
        other => Problem::invalid("end", other.to_string()),
    })?;
    let entry = ledger.intervention(&id).ok_or_else(Problem::internal)?;
    let ciel_engine::hourledger::EntryKind::Intervention {
        charge,
        overrun_minutes,
        ..
    } = &entry.kind
    else {
        return Err(Problem::internal());
    };
    let overrun = *overrun_minutes;
    let mut explanation = entry.explanation.clone();
    let amount = (overrun > Decimal::ZERO)
        .then(|| -> ApiResult<_> {
            let rate: Decimal = book
                .hourly_rate
                .parse()
                .map_err(|e| corrupt("hourly rate", e))?;
            Ok(eng.hour_book_overrun_amount(overrun, rate))
        })
        .transpose()?;
    if let Some(a) = &amount {
        explanation.extend(a.explanation.clone());
    }
    let explanation_json =
        serde_json::to_string(&explanation).map_err(|e| corrupt("explanation", e))?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let saved = hour_books::add_intervention(
        &mut tx,
        &actor,
        book,
        NewIntervention {
            kind: kind.code().into(),
            started_at: input.start,
            ended_at: input.end,
            description: description.to_owned(),
            staff_id: p.user.id.to_string(),
            staff_label: p.user.email.clone(),
            charged_minutes: charge.charged_minutes.normalize().to_string(),
            overrun_minutes: overrun.normalize().to_string(),
            explanation_json: explanation_json.clone(),
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => refused("book", "the hour book changed meanwhile; reload it"),
        other => other.into(),
    })?;
    if let Some(a) = amount {
        charges::hand_over(
            &mut tx,
            &actor,
            charges::NewCharge {
                org_id: book.org_id.clone(),
                source_kind: "hour_book",
                source_id: book.id.to_string(),
                charge_key: format!("overrun:{}", saved.id),
                rule: "R8.2".into(),
                label: format!(
                    "Dépassement du carnet d'heures / Hour book overrun: {} min",
                    overrun.normalize()
                ),
                amount: a.value.to_string(),
                explanation_json,
                occurred_at: input.end,
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    let book = hour_books::get(state.store().db(), &p.scope, book_id).await?;
    Ok((saved, load(state, &p.scope, book).await?))
}

/// Staff record the client's written agreement to an overrun (R8.2).
pub async fn record_authorisation(
    state: &AppState,
    p: &Principal,
    book_id: &str,
    input: AuthorisationInput,
) -> ApiResult<AuthorisationRow> {
    let book = hour_books::get(state.store().db(), &p.scope, book_id).await?;
    require_staff(p, StaffRole::manages_clients)?;
    let now = state.now();
    let actor = p.actor(now);
    let text = |field: &str, v: &str| -> ApiResult<String> {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > 500 {
            return Err(Problem::invalid(field, "required, at most 500 characters"));
        }
        Ok(v.to_owned())
    };
    let given_by = text("given_by", &input.given_by)?;
    let reference = text("reference", &input.reference)?;
    if input.max_minutes == 0 {
        return Err(Problem::invalid(
            "max_minutes",
            "R8.2 (CS 5.3): an overrun authorisation covers at least one minute",
        ));
    }
    let given_at = input.given_at.unwrap_or(actor.occurred_at);
    if given_at > now {
        return Err(Problem::invalid(
            "given_at",
            "R8.2 (CS 5.3): an authorisation is recorded once given",
        ));
    }
    let mut tx = state.store().begin().await?;
    let saved = hour_books::add_authorisation(
        &mut tx,
        &actor,
        &book,
        NewAuthorisation {
            given_by,
            given_at,
            reference,
            max_minutes: i64::from(input.max_minutes),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(saved)
}

/// An explanation stored as JSON, rendered in a language.
pub fn render_explanation(json: &str, lang: Lang) -> String {
    serde_json::from_str::<Explanation>(json)
        .map(|e| e.render(lang))
        .unwrap_or_default()
}
