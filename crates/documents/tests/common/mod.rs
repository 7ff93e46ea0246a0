//! Realistic inputs shared by the test files: the provider, three kinds of
//! clients (French standard 20 %, French VAT-exempt, reverse-charged EU
//! business), a credit note, and a mixed FRST/RCUR batch over two dates.

#![allow(dead_code)]

pub mod strategies;

use ciel_documents::{
    DirectDebitBatch, ElectronicAddress, Invoice, InvoiceLine, InvoiceNumber, InvoiceType, Party,
    PaymentMeans, PostalAddress, Scheme, SepaTransaction, SequenceType, VatCategory, VatExemption,
};
use jiff::civil::date;
use rust_decimal::Decimal;

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal literal")
}

pub fn address(
    number: Option<&str>,
    street: &str,
    post_code: &str,
    town: &str,
    country: &str,
) -> PostalAddress {
    PostalAddress {
        street: street.to_owned(),
        building_number: number.map(str::to_owned),
        post_code: post_code.to_owned(),
        town: town.to_owned(),
        country: country.to_owned(),
    }
}

pub fn seller() -> Party {
    Party {
        name: "Ciel Hébergement SAS".to_owned(),
        siren: Some("732829320".to_owned()),
        vat_number: Some("FR44732829320".to_owned()),
        address: address(Some("12"), "rue de la Paix", "75002", "Paris", "FR"),
        electronic_address: ElectronicAddress::siren("732829320"),
    }
}

pub fn french_client() -> Party {
    Party {
        name: "Dupont & Fils <Industrie> SARL".to_owned(),
        siren: Some("552100554".to_owned()),
        vat_number: Some("FR96552100554".to_owned()),
        address: address(Some("3 bis"), "avenue Jean-Jaurès", "69007", "Lyon", "FR"),
        electronic_address: ElectronicAddress::siren("552100554"),
    }
}

pub fn exempt_client() -> Party {
    Party {
        name: "Association Santé Solidaire".to_owned(),
        siren: Some("443061841".to_owned()),
        vat_number: None,
        address: address(None, "place du Marché", "33000", "Bordeaux", "FR"),
        electronic_address: ElectronicAddress::siren("443061841"),
    }
}

pub fn eu_client() -> Party {
    Party {
        name: "Rheinwerk Cloud GmbH".to_owned(),
        siren: None,
        vat_number: Some("DE123456789".to_owned()),
        address: address(Some("5"), "Königsallee", "40212", "Düsseldorf", "DE"),
        electronic_address: ElectronicAddress {
            scheme: "9930".to_owned(),
            value: "DE123456789".to_owned(),
        },
    }
}

pub fn line(
    id: &str,
    name: &str,
    quantity: &str,
    unit: &str,
    price: &str,
    category: VatCategory,
    rate: &str,
) -> InvoiceLine {
    let quantity = dec(quantity);
    let unit_price = dec(price);
    InvoiceLine {
        id: id.to_owned(),
        name: name.to_owned(),
        quantity,
        unit_code: unit.to_owned(),
        unit_price,
        vat_category: category,
        vat_rate: dec(rate),
        net_amount: InvoiceLine::net_of(quantity, unit_price),
    }
}

fn base(number: &str, buyer: Party, lines: Vec<InvoiceLine>) -> Invoice {
    Invoice {
        number: InvoiceNumber::new(number).expect("a valid number"),
        kind: InvoiceType::Invoice,
        issue_date: date(2026, 6, 1),
        due_date: date(2026, 6, 15),
        seller: seller(),
        creditor_id: "FR12ZZZ123456".to_owned(),
        buyer,
        order_reference: Some("BC-2025-0042".to_owned()),
        period: Some((date(2026, 6, 1), date(2026, 6, 30))),
        lines,
        exemptions: Vec::new(),
        payment: PaymentMeans::SepaDirectDebit {
            mandate_reference: "RUM-CIEL-000042".to_owned(),
            debtor_iban: "FR7630006000011234567890189".to_owned(),
        },
        payment_terms: String::new(),
        late_penalty_rate: "taux de refinancement de la BCE majoré de 10 points (12,15 %)"
            .to_owned(),
    }
}

/// The payment terms of the fixtures are the SEPA pre-notification (R2.7),
/// written once the fixture's due date, mandate and lines are final.
fn prenotified(mut invoice: Invoice) -> Invoice {
    invoice.payment_terms = invoice.sepa_prenotification();
    invoice
}

/// The worked example of R2.12: 100.00 + 33.33 + 0.01 at 20 %, VAT on 133.34.
pub fn standard_invoice() -> Invoice {
    prenotified(base(
        "F2026-06/000123",
        french_client(),
        vec![
            line(
                "1",
                "Cloud privé Mono Site - juin 2026",
                "1",
                "MON",
                "100.00",
                VatCategory::Standard,
                "20",
            ),
            line(
                "2",
                "Sauvegarde 1 To - prorata du 21 au 31 mai",
                "1",
                "C62",
                "33.33",
                VatCategory::Standard,
                "20",
            ),
            line(
                "3",
                "Arrondi de consommation électrique",
                "1",
                "C62",
                "0.01",
                VatCategory::Standard,
                "20",
            ),
        ],
    ))
}

pub fn exempt_invoice() -> Invoice {
    let mut invoice = base(
        "F2026-06/000124",
        exempt_client(),
        vec![line(
            "1",
            "Hébergement mutualisé",
            "3",
            "MON",
            "49.90",
            VatCategory::Exempt,
            "0",
        )],
    );
    invoice.exemptions.push(VatExemption {
        category: VatCategory::Exempt,
        reason: "Exonération de TVA, article 261-7-1° du CGI".to_owned(),
        code: Some("VATEX-FR-FRANCHISE".to_owned()).filter(|_| false),
    });
    prenotified(invoice)
}

pub fn reverse_charge_invoice() -> Invoice {
    let mut invoice = base(
        "F2026-06/000125",
        eu_client(),
        vec![
            line(
                "1",
                "Dual DC - juin 2026",
                "1",
                "MON",
                "2500.00",
                VatCategory::ReverseCharge,
                "0",
            ),
            line(
                "2",
                "Bande passante au-delà du forfait (95e percentile)",
                "12.5",
                "C62",
                "4.20",
                VatCategory::ReverseCharge,
                "0",
            ),
        ],
    );
    invoice.payment = PaymentMeans::SepaDirectDebit {
        mandate_reference: "RUM-CIEL-000077".to_owned(),
        debtor_iban: "DE89370400440532013000".to_owned(),
    };
    invoice.exemptions.push(VatExemption {
        category: VatCategory::ReverseCharge,
        reason: "Autoliquidation - article 283-2 du CGI / article 196 de la directive 2006/112/CE"
            .to_owned(),
        code: Some("VATEX-EU-AE".to_owned()),
    });
    prenotified(invoice)
}

pub fn credit_note() -> Invoice {
    let mut invoice = base(
        "A2026-06/000007",
        french_client(),
        vec![line(
            "1",
            "Avoir SLA mai 2026 - disponibilité 99,42 % (R5.5)",
            "1",
            "C62",
            "5.00",
            VatCategory::Standard,
            "20",
        )],
    );
    invoice.kind = InvoiceType::CreditNote {
        corrected: InvoiceNumber::new("F2026-05/000098").expect("a valid number"),
        corrected_issue_date: date(2026, 5, 1),
    };
    invoice.issue_date = date(2026, 6, 3);
    invoice.due_date = date(2026, 6, 3);
    invoice.period = None;
    prenotified(invoice)
}

pub fn all_invoices() -> Vec<(&'static str, Invoice)> {
    vec![
        ("standard", standard_invoice()),
        ("exempt", exempt_invoice()),
        ("reverse-charge", reverse_charge_invoice()),
        ("credit-note", credit_note()),
    ]
}

pub fn transaction(
    id: &str,
    amount: &str,
    sequence: SequenceType,
    day: i8,
    bic: Option<&str>,
) -> SepaTransaction {
    SepaTransaction {
        end_to_end_id: id.to_owned(),
        amount: dec(amount),
        sequence_type: sequence,
        collection_date: date(2026, 6, day),
        mandate_reference: format!("RUM-{id}"),
        mandate_signature_date: date(2025, 1, 7),
        debtor_name: "Dupont & Fils <Industrie> SARL".to_owned(),
        debtor_address: address(Some("3 bis"), "avenue Jean-Jaurès", "69007", "Lyon", "FR"),
        debtor_iban: "FR7630001007941234567890185".to_owned(),
        debtor_bic: bic.map(str::to_owned),
        remittance: format!("F2026-06/{id}"),
    }
}

/// FRST and RCUR collections on two dates: three payment information blocks.
pub fn mixed_batch() -> DirectDebitBatch {
    DirectDebitBatch {
        message_id: "CIEL-DD-20260601-01".to_owned(),
        created_at: "2026-06-01T04:00:00Z".parse().expect("an instant"),
        scheme: Scheme::Core,
        creditor_name: "Ciel Hébergement SAS".to_owned(),
        creditor_id: "FR12ZZZ123456".to_owned(),
        creditor_iban: "FR1420041010050500013M02606".to_owned(),
        creditor_bic: "PSSTFRPPPAR".to_owned(),
        creditor_address: address(Some("12"), "rue de la Paix", "75002", "Paris", "FR"),
        transactions: vec![
            transaction(
                "000123",
                "160.01",
                SequenceType::Recurrent,
                15,
                Some("BDFEFRPP"),
            ),
            transaction("000124", "149.70", SequenceType::First, 15, None),
            transaction(
                "000125",
                "2552.50",
                SequenceType::Recurrent,
                15,
                Some("BDFEFRPPXXX"),
            ),
            transaction("000126", "6.00", SequenceType::Recurrent, 30, None),
        ],
    }
}

/// Every category ciel writes on one invoice, two standard rates, a credit
/// line: 20 %: 80.00 - 10.00 = 70.00 -> 14.00; 5.5 %: 2 x 9.99 = 19.98 ->
/// 1.0989 -> 1.10; Z: 5.00; total 94.98 + 15.10 = 110.08.
pub fn mixed_rates_invoice() -> Invoice {
    let mut credit = line(
        "4",
        "Avoir SLA avril",
        "-1",
        "C62",
        "10.00",
        VatCategory::Standard,
        "20",
    );
    credit.net_amount = dec("-10.00");
    let mut invoice = base(
        "F2026-06/000126",
        french_client(),
        vec![
            line(
                "1",
                "Infogérance",
                "1",
                "MON",
                "80.00",
                VatCategory::Standard,
                "20",
            ),
            line(
                "2",
                "Livre numérique d'exploitation",
                "2",
                "C62",
                "9.99",
                VatCategory::Standard,
                "5.5",
            ),
            line(
                "3",
                "Refacturation au taux zéro",
                "1",
                "C62",
                "5.00",
                VatCategory::ZeroRated,
                "0",
            ),
            credit,
        ],
    );
    invoice.order_reference = None;
    prenotified(invoice)
}
