//! Random but valid inputs, shared by the property tests and the validator
//! test (which sends a deterministic sample of them to the independent
//! validators).

use ciel_documents::{
    DirectDebitBatch, Invoice, InvoiceLine, InvoiceNumber, SepaTransaction, SequenceType,
    VatCategory, VatExemption,
};
use jiff::civil::date;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Free text with the characters XML must escape, accents and the euro sign;
/// not blank.
pub fn text() -> impl Strategy<Value = String> {
    "[A-Za-zéèàç€&<>'\" 0-9.,;:/()-]{0,30}[A-Za-z0-9]".prop_map(|s| s.trim_start().to_owned())
}

pub fn amount(max_cents: i64) -> impl Strategy<Value = Decimal> {
    (1..=max_cents).prop_map(|cents| Decimal::new(cents, 2))
}

pub fn invoice_line(index: usize) -> impl Strategy<Value = InvoiceLine> {
    let category = prop_oneof![
        4 => Just((VatCategory::Standard, "20")),
        1 => Just((VatCategory::Standard, "5.5")),
        1 => Just((VatCategory::Standard, "10")),
        1 => Just((VatCategory::Standard, "2.1")),
        1 => Just((VatCategory::ZeroRated, "0")),
        1 => Just((VatCategory::Exempt, "0")),
        1 => Just((VatCategory::ReverseCharge, "0")),
    ];
    (
        text(),
        1i64..=10_000,
        0u32..=4,
        1i64..=10_000_000,
        0u32..=6,
        category,
    )
        .prop_map(move |(name, q, q_dp, p, p_dp, (vat_category, rate))| {
            let quantity = Decimal::new(q, q_dp);
            let unit_price = Decimal::new(p, p_dp);
            InvoiceLine {
                id: (index + 1).to_string(),
                name,
                quantity,
                unit_code: "C62".to_owned(),
                unit_price,
                vat_category,
                vat_rate: rate.parse().expect("a rate"),
                net_amount: InvoiceLine::net_of(quantity, unit_price),
            }
        })
}

pub fn invoice() -> impl Strategy<Value = Invoice> {
    let lines = (1usize..12).prop_flat_map(|n| (0..n).map(invoice_line).collect::<Vec<_>>());
    (lines, text(), "[A-Za-z0-9+_/-]{1,35}").prop_map(|(lines, buyer_name, number)| {
        let mut invoice = super::standard_invoice();
        invoice.number = InvoiceNumber::new(number).expect("generated from the allowed set");
        invoice.buyer.name = buyer_name;
        invoice.lines = lines;
        for (category, reason) in [
            (VatCategory::Exempt, "Exonération, article 261 du CGI"),
            (
                VatCategory::ReverseCharge,
                "Autoliquidation <art. 283-2> & 196",
            ),
        ] {
            if invoice.lines.iter().any(|l| l.vat_category == category) {
                invoice.exemptions.push(VatExemption {
                    category,
                    reason: reason.to_owned(),
                    code: None,
                });
            }
        }
        invoice
    })
}

pub fn batch() -> impl Strategy<Value = DirectDebitBatch> {
    let sequence = prop_oneof![
        Just(SequenceType::First),
        Just(SequenceType::Recurrent),
        Just(SequenceType::OneOff),
        Just(SequenceType::Final),
    ];
    let transaction = (
        amount(99_999_999_999),
        sequence,
        1i8..=4,
        text(),
        "[A-Z0-9-]{1,35}",
    );
    proptest::collection::vec(transaction, 1..30).prop_map(|rows| {
        let mut batch = super::mixed_batch();
        batch.transactions = rows
            .into_iter()
            .enumerate()
            .map(
                |(i, (amount, sequence, day, name, mandate))| SepaTransaction {
                    end_to_end_id: format!("E2E-{i}"),
                    amount,
                    sequence_type: sequence,
                    collection_date: date(2026, 6, day * 7),
                    mandate_reference: mandate,
                    debtor_name: name.chars().take(70).collect(),
                    ..super::transaction("x", "1", sequence, 1, None)
                },
            )
            .collect();
        batch
    })
}
