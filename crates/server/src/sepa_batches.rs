//! SEPA direct-debit batches (issue 6 item 5; R2.7): for the unpaid
//! invoices due on a day whose client has a mandate, the pain.008.001.08
//! file (structured addresses, the ICS, each RUM and signature date, FRST
//! for a mandate's first collection, RCUR after), stored with the invoices
//! it collects and downloadable. A mandate without signature date refuses
//! the whole batch, naming the client and the field; nothing is written.
//! Clients without a mandate pay by transfer and are left out.

use crate::auth::Principal;
use crate::payments::{dec, require_billing, start_of};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_documents::{
    DirectDebitBatch, PostalAddress, Scheme, SepaTransaction, SequenceType, sepa_text,
    to_pain008_xml,
};
use ciel_store::sepa_batches::{self, Batch, Item};
use ciel_store::{Scope, StoreError, clients, orgs, payments};
use jiff::civil::Date;
use rust_decimal::Decimal;

/// An end-to-end id from an invoice number: the EPC identifier set has no
/// `_` and forbids `//` and slashes at the ends, so those become `-`.
fn end_to_end_id(number: &str) -> String {
    let s: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '+' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.chars().take(35).collect()
}

/// Staff build the batch of the invoices due on `collection_date`.
pub async fn create(
    state: &AppState,
    p: &Principal,
    collection_date: &str,
) -> ApiResult<(Batch, Vec<Item>)> {
    require_billing(p)?;
    let db = state.store().db();
    let now = state.now();
    let today = now.to_zoned(crate::services::zone()).date();
    let date: Date = collection_date
        .trim()
        .parse()
        .map_err(|_| Problem::invalid("collection_date", "expected a date YYYY-MM-DD"))?;
    if date < today {
        return Err(Problem::invalid(
            "collection_date",
            format!("{date} is before today ({today}): a bank collects on a future day"),
        ));
    }
    let next = date
        .tomorrow()
        .map_err(|_| Problem::invalid("collection_date", "out of range"))?;
    let invoices = sepa_batches::collectable(db, start_of(date), start_of(next)).await?;
    let mut transactions = Vec::new();
    let mut items = Vec::new();
    let mut first_in_batch = std::collections::BTreeSet::new();
    let mut schemes = std::collections::BTreeSet::new();
    for inv in invoices {
        let Some(profile) = clients::get(db, &Scope::Staff, inv.org_id.as_str()).await? else {
            continue;
        };
        let Some(m) = profile.mandate.clone() else {
            continue;
        };
        let org = orgs::get(db, &Scope::Staff, inv.org_id.as_str()).await?;
        let signed: Date = m.signed_on.trim().parse().map_err(|_| {
            Problem::invalid(
                "mandate_signed_on",
                format!(
                    "client {} ({}): the mandate {} has no signature date (mandate_signed_on); complete its billing profile, nothing was written",
                    org.name, org.id, m.reference
                ),
            )
        })?;
        let settled: Decimal = payments::allocations(db, &Scope::Staff, inv.org_id.as_str())
            .await?
            .iter()
            .filter(|a| a.invoice_id == inv.id.as_str())
            .map(|a| dec("allocation", &a.amount))
            .sum::<ApiResult<Decimal>>()?;
        let amount = dec("invoice total", &inv.total)? - settled;
        if amount <= Decimal::ZERO {
            continue;
        }
        schemes.insert(m.scheme.clone());
        let used = sepa_batches::mandate_used(db, &m.reference).await?;
        let sequence_type = if used || !first_in_batch.insert(m.reference.clone()) {
            SequenceType::Recurrent
        } else {
            SequenceType::First
        };
        let e2e = end_to_end_id(&inv.number);
        transactions.push(SepaTransaction {
            end_to_end_id: e2e.clone(),
            amount,
            sequence_type,
            collection_date: date,
            mandate_reference: m.reference.clone(),
            mandate_signature_date: signed,
            debtor_name: sepa_text(&org.name, 70),
            debtor_address: PostalAddress {
                street: sepa_text(&profile.street_name, 70),
                building_number: profile.building_number.as_deref().map(|b| sepa_text(b, 16)),
                post_code: sepa_text(&profile.post_code, 16),
                town: sepa_text(&profile.town, 35),
                country: profile.country.clone(),
            },
            debtor_iban: m.iban.clone(),
            debtor_bic: m.bic.clone(),
            remittance: sepa_text(&format!("Facture {}", inv.number), 140),
        });
        items.push(Item {
            invoice_id: inv.id.to_string(),
            org_id: inv.org_id.to_string(),
            end_to_end_id: e2e,
            amount: amount.to_string(),
            sequence_type: sequence_type.code().to_owned(),
            mandate_reference: m.reference.clone(),
        });
    }
    if transactions.is_empty() {
        return Err(Problem::invalid(
            "collection_date",
            format!("no unpaid invoice of a client with a direct-debit mandate is due on {date}"),
        ));
    }
    // A file carries one scheme (LclInstrm): mandates of both schemes due
    // on one day need two files, which this batch does not guess.
    let scheme = match (schemes.contains("core"), schemes.contains("b2b")) {
        (true, true) => {
            return Err(Problem::invalid(
                "collection_date",
                format!("CORE and B2B mandates are due on {date}: a file carries one scheme"),
            ));
        }
        (false, true) => Scheme::B2b,
        _ => Scheme::Core,
    };
    let existing = sepa_batches::list(db)
        .await?
        .iter()
        .filter(|b| b.collection_date == date.to_string())
        .count();
    let message_id = format!("CIEL-DD-{}-{:02}", date.strftime("%Y%m%d"), existing + 1);
    let seller = &state.config().seller;
    let batch = DirectDebitBatch {
        message_id: message_id.clone(),
        created_at: now,
        scheme,
        creditor_name: sepa_text(&seller.name, 70),
        creditor_id: seller.creditor_id.clone(),
        creditor_iban: seller.iban.clone(),
        creditor_bic: seller.bic.clone().unwrap_or_default(),
        creditor_address: PostalAddress {
            street: sepa_text(&seller.street_name, 70),
            building_number: seller.building_number.clone(),
            post_code: seller.post_code.clone(),
            town: sepa_text(&seller.town, 35),
            country: seller.country.clone(),
        },
        transactions,
    };
    let total = batch.control_sum();
    let xml = to_pain008_xml(&batch)
        .map_err(|e| Problem::invalid("batch", format!("{e}; nothing was written")))?;
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let saved = sepa_batches::insert(
        &mut tx,
        &actor,
        &date.to_string(),
        &message_id,
        &total.to_string(),
        &xml,
        &items,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => Problem::conflict(
            "collection_date",
            "another batch was created meanwhile; retry",
        ),
        other => other.into(),
    })?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((saved, items))
}

/// Every batch (staff).
pub async fn list(state: &AppState, p: &Principal) -> ApiResult<Vec<Batch>> {
    require_billing(p)?;
    Ok(sepa_batches::list(state.store().db()).await?)
}

/// One batch with its XML and items (staff; anyone else: not found, the
/// batch is the provider's file).
pub async fn get(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> ApiResult<(Batch, String, Vec<Item>)> {
    if !p.is_staff() {
        return Err(Problem::not_found());
    }
    require_billing(p)?;
    let (b, xml) = sepa_batches::get(state.store().db(), id).await?;
    let items = sepa_batches::items(state.store().db(), id).await?;
    Ok((b, xml, items))
}
