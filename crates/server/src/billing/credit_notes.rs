//! Credit notes (R2.11): an issued invoice is never edited; staff correct it
//! with a credit note taking its number from the same sequence, referencing
//! it (type 381, BR-FR), for all or some of its lines or an amount, with a
//! reason, rendered, stored and e-mailed like an invoice.

use ciel_documents::facturx::InvoiceType;
use ciel_store::invoices::{self, DocLine, Document, NewDocument};
use ciel_store::{Scope, StoreError, clients, orgs};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::document::{self, Header};
use super::{billing_staff, corrupt, run};
use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// What a credit note credits.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteInput {
    /// Why (printed on the e-mail, kept with the credit note).
    pub reason: String,
    /// Positions of the invoice's lines to credit in full; all when absent.
    #[serde(default)]
    pub lines: Option<Vec<i64>>,
    /// Or one amount excluding VAT (exact, at most 2 decimals), at the VAT
    /// rate of the invoice's first line.
    #[serde(default)]
    pub amount: Option<String>,
}

fn dec(field: &str, v: &str) -> ApiResult<Decimal> {
    Decimal::from_str_exact(v.trim()).map_err(|_| Problem::invalid(field, "an exact decimal"))
}

/// The lines a credit note carries (pure): the chosen lines of the invoice
/// as they were, or one line of `amount`.
pub fn credit_lines(
    invoice: &Document,
    lines: &[DocLine],
    input: &CreditNoteInput,
) -> ApiResult<Vec<DocLine>> {
    if input.lines.is_some() && input.amount.is_some() {
        return Err(Problem::invalid(
            "amount",
            "give lines or an amount, not both",
        ));
    }
    if let Some(a) = &input.amount {
        let amount = dec("amount", a)?;
        if amount <= Decimal::ZERO || amount.scale() > 2 {
            return Err(Problem::invalid(
                "amount",
                "a positive amount in euros with at most 2 decimals",
            ));
        }
        let vat = lines
            .first()
            .map(|l| l.vat_percent.clone())
            .unwrap_or_else(|| "20".into());
        return Ok(vec![DocLine {
            position: 1,
            kind: "credit".into(),
            source_kind: "invoice".into(),
            source_id: invoice.id.to_string(),
            offer: None,
            label: format!(
                "Avoir sur la facture {} / Credit on invoice {}",
                invoice.number, invoice.number
            ),
            period_start: None,
            period_end: None,
            quantity: "1".into(),
            unit_price: amount.to_string(),
            amount: run::cents(amount),
            vat_percent: vat,
            rule: "R2.11".into(),
            explanation_json: "{\"steps\":[]}".into(),
        }]);
    }
    let chosen: Vec<&DocLine> = match &input.lines {
        None => lines.iter().collect(),
        Some(positions) => {
            let mut out = Vec::new();
            for p in positions {
                match lines.iter().find(|l| l.position == *p) {
                    Some(l) if !out.iter().any(|x: &&DocLine| x.position == *p) => out.push(l),
                    Some(_) => {
                        return Err(Problem::invalid(
                            "lines",
                            format!("line {p} is given twice"),
                        ));
                    }
                    None => {
                        return Err(Problem::invalid(
                            "lines",
                            format!("the invoice has no line {p}"),
                        ));
                    }
                }
            }
            if out.is_empty() {
                return Err(Problem::invalid("lines", "at least one line"));
            }
            out
        }
    };
    Ok(chosen
        .into_iter()
        .enumerate()
        .map(|(i, l)| DocLine {
            position: i as i64 + 1,
            source_kind: "invoice_line".into(),
            source_id: format!("{}:{}", invoice.id, l.position),
            ..l.clone()
        })
        .collect())
}

/// Issues a credit note correcting `invoice_id` (staff admin or billing).
/// Refused when the invoice is a credit note itself, or when the credits
/// would exceed what the invoice billed (earlier credit notes included).
pub async fn issue(
    state: &AppState,
    p: &Principal,
    invoice_id: &str,
    input: CreditNoteInput,
) -> ApiResult<Document> {
    let db = state.store().db();
    let invoice = invoices::get(db, &p.scope, invoice_id).await?;
    require_staff(p, billing_staff)?;
    if invoice.kind != "invoice" {
        return Err(Problem::conflict(
            "invoice_id",
            "R2.11: a credit note corrects an invoice, not another credit note",
        ));
    }
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Problem::invalid(
            "reason",
            "R2.11: a credit note states why",
        ));
    }
    let lines = invoices::lines(db, invoice.id.as_str()).await?;
    let credit = credit_lines(&invoice, &lines, &input)?;
    let total_excl: Decimal = credit
        .iter()
        .map(|l| dec("amount", &l.amount))
        .sum::<ApiResult<Decimal>>()?;
    let mut credited = Decimal::ZERO;
    for c in invoices::credit_notes_of(db, invoice.id.as_str()).await? {
        credited += dec("total_excl_vat", &c.total_excl_vat)?;
    }
    let billed = dec("total_excl_vat", &invoice.total_excl_vat)?;
    if total_excl <= Decimal::ZERO || credited + total_excl > billed {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "rule_violated",
            "Refused by the contract",
        )
        .field(if input.amount.is_some() { "amount" } else { "lines" })
        .detail(format!(
            "R2.11: a credit note credits a positive amount within what the invoice billed ({billed} excl. VAT, {credited} already credited; this one {total_excl})"
        )));
    }
    let org = orgs::get(db, &Scope::Staff, invoice.org_id.as_str()).await?;
    let profile = clients::get(db, &Scope::Staff, invoice.org_id.as_str()).await?;
    let buyer = document::buyer(&org, profile.as_ref()).map_err(|e| {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "profile_incomplete",
            "Billing profile incomplete",
        )
        .field("invoice_id")
        .detail(e)
    })?;
    let now = state.now();
    let zone = crate::sla::zone();
    let today = now.to_zoned(zone.clone()).date();
    let corrected_issue_date = invoice.issued_at.to_zoned(zone.clone()).date();
    let engine = crate::orders::engine(
        state,
        &crate::orders::registry(state)
            .in_force_on(today)
            .map(|t| t.version.id.clone())
            .unwrap_or_else(|| ciel_terms::embedded().version.id.clone()),
    )?;
    let late = document::late_penalty_rate(&engine, today);
    let actor = p.actor(now);
    let mut tx = state.store().begin().await?;
    let n = invoices::take_number(&mut tx, invoices::SEQUENCE).await?;
    let number = document::number(today.year(), n);
    let header = Header {
        number: &number,
        kind: InvoiceType::CreditNote {
            corrected: ciel_documents::facturx::InvoiceNumber::new(invoice.number.clone())
                .map_err(corrupt)?,
            corrected_issue_date,
        },
        issue_date: today,
        due_date: today,
        seller: &state.config().seller,
        buyer: &buyer,
        order_reference: None,
        period: None,
        late_penalty_rate: late,
    };
    let inv = document::facturx(&header, &credit).map_err(corrupt)?;
    let (_, totals) = inv.totals();
    let rendering = document::render(&inv, &invoice.lang).map_err(|e| {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "document_invalid",
            "Document refused",
        )
        .field("invoice_id")
        .detail(e)
    })?;
    let at = today.to_zoned(zone).map_err(corrupt)?.timestamp();
    let new = NewDocument {
        org_id: invoice.org_id.clone(),
        kind: "credit_note",
        corrects_invoice_id: Some(invoice.id.to_string()),
        period: None,
        run_id: None,
        lang: invoice.lang.clone(),
        issued_at: at,
        due_at: at,
        total_excl_vat: run::cents(totals.tax_basis),
        total_vat: run::cents(totals.tax),
        total: run::cents(totals.grand),
        reason: Some(reason.clone()),
        parties_json: document::parties_json(&inv),
        lines: credit,
        charge_ids: vec![],
    };
    let doc = invoices::issue(&mut tx, &actor, &number, &new, &rendering).await?;
    let email = profile.map(|p| p.billing_email).unwrap_or_default();
    let corrects = if doc.lang == "en" {
        format!("It corrects invoice {}: {reason}", invoice.number)
    } else {
        format!("Il corrige la facture {} : {reason}", invoice.number)
    };
    let parts = run::MailParts {
        to: &email,
        org_name: &org.name,
        prenotification: "",
        corrects: &corrects,
    };
    run::queue_mail(state, &mut tx, &doc, parts).await?;
    crate::payments::settle_if_covered(
        &mut tx,
        &actor,
        invoice.org_id.as_str(),
        invoice.id.as_str(),
        at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(doc)
}
