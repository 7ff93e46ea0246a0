//! Table tests of the Factur-X generator with expected values worked by hand.

mod common;

use ciel_documents::{
    ElectronicAddress, InvoiceError, InvoiceNumber, InvoiceType, VatCategory, VatExemption,
    to_cii_xml, vat_breakdown,
};
use common::{dec, line};
use jiff::civil::date;

/// R2.12 / BR-CO-17: 100.00 + 33.33 + 0.01 = 133.34 at 20 % -> 26.668 -> 26.67.
/// (Per-line VAT happens to give 26.67 here too; the next test tells the two
/// readings apart.)
#[test]
fn vat_breakdown_of_the_worked_example() {
    let invoice = common::standard_invoice();
    let breakdown = vat_breakdown(&invoice.lines);
    assert_eq!(breakdown.len(), 1);
    assert_eq!(breakdown[0].basis, dec("133.34"));
    assert_eq!(breakdown[0].tax, dec("26.67"));
    let (_, totals) = invoice.totals();
    assert_eq!(totals.lines, dec("133.34"));
    assert_eq!(totals.tax, dec("26.67"));
    assert_eq!(totals.grand, dec("160.01"));
    assert_eq!(totals.due, dec("160.01"));
}

/// Three lines of 0.02 at 20 %: per line 0.004 -> 0.00 each, 0.00 in all; on
/// the sum 0.06 x 20 % = 0.012 -> 0.01. The generator must say 0.01.
#[test]
fn vat_is_computed_on_the_sum_not_per_line() {
    let lines: Vec<_> = (1..=3)
        .map(|i| {
            line(
                &i.to_string(),
                "Micro-usage",
                "1",
                "C62",
                "0.02",
                VatCategory::Standard,
                "20",
            )
        })
        .collect();
    let breakdown = vat_breakdown(&lines);
    assert_eq!(breakdown[0].basis, dec("0.06"));
    assert_eq!(breakdown[0].tax, dec("0.01"));
}

/// Half away from zero, not banker's rounding: 0.25 at 10 % = 0.025 -> 0.03
/// (banker's would give 0.02); 1.25 at 20 % = 0.25 exactly.
#[test]
fn vat_rounds_half_away_from_zero() {
    let cases = [
        ("0.25", "10", "0.03"),
        ("12.25", "10", "1.23"),  // 1.225 -> 1.23
        ("0.45", "5.5", "0.02"),  // 0.02475 -> 0.02
        ("-0.25", "10", "-0.03"), // a credit line alone: -0.025 -> -0.03
        ("1.25", "20", "0.25"),
    ];
    for (amount, rate, expected) in cases {
        let mut l = line("1", "x", "1", "C62", "1", VatCategory::Standard, rate);
        l.net_amount = dec(amount);
        assert_eq!(
            vat_breakdown(&[l])[0].tax,
            dec(expected),
            "{amount} at {rate} %"
        );
    }
}

/// One breakdown row per (category, rate), ordered by category then rate.
#[test]
fn breakdown_groups_by_category_and_rate() {
    let lines = vec![
        line("1", "a", "1", "C62", "10.00", VatCategory::Standard, "20"),
        line("2", "b", "2", "C62", "10.00", VatCategory::Standard, "5.5"),
        line("3", "c", "1", "C62", "7.50", VatCategory::Standard, "20.00"),
        line("4", "d", "1", "C62", "3.00", VatCategory::Exempt, "0"),
    ];
    let rows: Vec<_> = vat_breakdown(&lines)
        .into_iter()
        .map(|r| (r.category.code(), r.rate, r.basis, r.tax))
        .collect();
    let expected = vec![
        ("S", dec("5.5"), dec("20.00"), dec("1.10")),
        ("S", dec("20"), dec("17.50"), dec("3.50")),
        ("E", dec("0"), dec("3.00"), dec("0")),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn invoice_numbers_follow_br_fr_01_and_02() {
    let good = ["F2026-06/000123", "A+1", "a_b-c/d", &"9".repeat(35)];
    for number in good {
        assert!(InvoiceNumber::new(number).is_ok(), "{number}");
    }
    let bad = ["", "F 2026", "F2026.06", "Fé1", "F#1", &"9".repeat(36)];
    for number in bad {
        assert_eq!(
            InvoiceNumber::new(number),
            Err(InvoiceError::InvalidNumber(number.to_owned())),
            "{number}"
        );
    }
}

/// Fragments of the standard invoice, written by hand from the EN 16931 CII
/// binding and the Factur-X 1.09 XSD.
#[test]
fn standard_invoice_fragments() {
    let xml = to_cii_xml(&common::standard_invoice()).expect("a valid invoice");
    let fragments = [
        r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">"#,
        "<ram:BusinessProcessSpecifiedDocumentContextParameter>\n      <ram:ID>S1</ram:ID>",
        "<ram:GuidelineSpecifiedDocumentContextParameter>\n      <ram:ID>urn:cen.eu:en16931:2017</ram:ID>",
        "<ram:ID>F2026-06/000123</ram:ID>\n    <ram:TypeCode>380</ram:TypeCode>",
        r#"<udt:DateTimeString format="102">20260601</udt:DateTimeString>"#,
        "quarante euros (40 €)",
        "<ram:SubjectCode>PMT</ram:SubjectCode>",
        "<ram:SubjectCode>PMD</ram:SubjectCode>",
        "<ram:Content>Pas d'escompte pour paiement anticipé.</ram:Content>\n      <ram:SubjectCode>AAB</ram:SubjectCode>",
        "<ram:Content>B2B</ram:Content>\n      <ram:SubjectCode>BAR</ram:SubjectCode>",
        "<ram:Name>Dupont &amp; Fils &lt;Industrie&gt; SARL</ram:Name>",
        r#"<ram:ID schemeID="0002">732829320</ram:ID>"#,
        r#"<ram:URIID schemeID="0225">552100554</ram:URIID>"#,
        r#"<ram:ID schemeID="VA">FR44732829320</ram:ID>"#,
        "<ram:LineOne>3 bis avenue Jean-Jaurès</ram:LineOne>",
        "<ram:IssuerAssignedID>BC-2025-0042</ram:IssuerAssignedID>",
        "<ram:ApplicableHeaderTradeDelivery/>",
        "<ram:CreditorReferenceID>FR12ZZZ123456</ram:CreditorReferenceID>",
        "<ram:TypeCode>59</ram:TypeCode>\n        <ram:PayerPartyDebtorFinancialAccount>\n          <ram:IBANID>FR7630006000011234567890189</ram:IBANID>",
        "<ram:CalculatedAmount>26.67</ram:CalculatedAmount>\n        <ram:TypeCode>VAT</ram:TypeCode>\n        <ram:BasisAmount>133.34</ram:BasisAmount>\n        <ram:CategoryCode>S</ram:CategoryCode>\n        <ram:RateApplicablePercent>20.00</ram:RateApplicablePercent>",
        "<ram:DirectDebitMandateID>RUM-CIEL-000042</ram:DirectDebitMandateID>",
        r#"<ram:LineTotalAmount>133.34</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>133.34</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">26.67</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>160.01</ram:GrandTotalAmount>
        <ram:DuePayableAmount>160.01</ram:DuePayableAmount>"#,
        r#"<ram:BilledQuantity unitCode="MON">1</ram:BilledQuantity>"#,
        "<ram:ChargeAmount>33.33</ram:ChargeAmount>",
    ];
    for fragment in fragments {
        assert!(
            xml.contains(fragment),
            "missing:\n{fragment}\n---in---\n{xml}"
        );
    }
    assert!(!xml.contains("InvoiceReferencedDocument"));
}

#[test]
fn exempt_and_reverse_charge_carry_their_reason() {
    let exempt = to_cii_xml(&common::exempt_invoice()).expect("valid");
    assert!(exempt.contains(
        "<ram:CalculatedAmount>0.00</ram:CalculatedAmount>\n        <ram:TypeCode>VAT</ram:TypeCode>\n        <ram:ExemptionReason>Exonération de TVA, article 261-7-1° du CGI</ram:ExemptionReason>\n        <ram:BasisAmount>149.70</ram:BasisAmount>\n        <ram:CategoryCode>E</ram:CategoryCode>\n        <ram:RateApplicablePercent>0.00</ram:RateApplicablePercent>"
    ), "{exempt}");
    let reverse = to_cii_xml(&common::reverse_charge_invoice()).expect("valid");
    // 2500.00 + 12.5 x 4.20 = 2500.00 + 52.50 = 2552.50, no VAT.
    assert!(reverse.contains("<ram:BasisAmount>2552.50</ram:BasisAmount>\n        <ram:CategoryCode>AE</ram:CategoryCode>\n        <ram:ExemptionReasonCode>VATEX-EU-AE</ram:ExemptionReasonCode>"), "{reverse}");
    assert!(reverse.contains("<ram:Content>B2BINT</ram:Content>"));
    assert!(reverse.contains(r#"<ram:BilledQuantity unitCode="C62">12.5</ram:BilledQuantity>"#));
    assert!(reverse.contains("<ram:GrandTotalAmount>2552.50</ram:GrandTotalAmount>"));
}

#[test]
fn credit_note_references_the_corrected_invoice() {
    let xml = to_cii_xml(&common::credit_note()).expect("valid");
    assert!(xml.contains("<ram:TypeCode>381</ram:TypeCode>"));
    assert!(xml.contains(
        "<ram:InvoiceReferencedDocument>\n        <ram:IssuerAssignedID>F2026-05/000098</ram:IssuerAssignedID>\n        <ram:FormattedIssueDateTime>\n          <qdt:DateTimeString format=\"102\">20260501</qdt:DateTimeString>"
    ), "{xml}");
    // 5.00 + 20 % = 6.00, positive: the type code carries the sign.
    assert!(xml.contains("<ram:DuePayableAmount>6.00</ram:DuePayableAmount>"));
}

/// A credit line on a monthly invoice (an SLA credit, R7.5): negative quantity,
/// positive price, and VAT on the sum of the rate.
#[test]
fn negative_line_nets_against_the_rate() {
    let mut invoice = common::standard_invoice();
    let mut credit = line(
        "4",
        "Avoir SLA",
        "-1",
        "C62",
        "10.00",
        VatCategory::Standard,
        "20",
    );
    credit.net_amount = dec("-10.00");
    invoice.lines.push(credit);
    let (breakdown, totals) = invoice.totals();
    assert_eq!(breakdown[0].basis, dec("123.34"));
    assert_eq!(breakdown[0].tax, dec("24.67")); // 24.668
    assert_eq!(totals.grand, dec("148.01"));
    let xml = to_cii_xml(&invoice).expect("valid");
    assert!(xml.contains(r#"<ram:BilledQuantity unitCode="C62">-1</ram:BilledQuantity>"#));
    assert!(xml.contains("<ram:LineTotalAmount>-10.00</ram:LineTotalAmount>"));
}

#[test]
fn bad_invoices_are_refused_with_the_reason() {
    type Case = (&'static str, fn(&mut ciel_documents::Invoice), InvoiceError);
    let cases: Vec<Case> = vec![
        ("no lines", |i| i.lines.clear(), InvoiceError::NoLines),
        (
            "bad seller SIREN",
            |i| i.seller.siren = Some("12345".into()),
            InvoiceError::InvalidSiren {
                party: "seller",
                value: "12345".into(),
            },
        ),
        (
            "seller without SIREN",
            |i| i.seller.siren = None,
            InvoiceError::SellerIdentity,
        ),
        (
            "exempt line without reason",
            |i| {
                i.lines[0].vat_category = VatCategory::Exempt;
                i.lines[0].vat_rate = dec("0");
            },
            InvoiceError::MissingExemption("E"),
        ),
        (
            "reason for an unused category",
            |i| {
                i.exemptions.push(VatExemption {
                    category: VatCategory::ReverseCharge,
                    reason: "Autoliquidation".into(),
                    code: None,
                })
            },
            InvoiceError::UnusedExemption("AE"),
        ),
        (
            "standard rate not French",
            |i| i.lines[0].vat_rate = dec("21"),
            InvoiceError::InvalidRate {
                line: "1".into(),
                category: "S",
                rate: dec("21"),
            },
        ),
        (
            "exempt with a rate",
            |i| {
                i.lines[0].vat_category = VatCategory::Exempt;
                i.lines[0].vat_rate = dec("20");
            },
            InvoiceError::InvalidRate {
                line: "1".into(),
                category: "E",
                rate: dec("20"),
            },
        ),
        (
            "fractions of a cent",
            |i| i.lines[0].net_amount = dec("100.001"),
            InvoiceError::TooManyDecimals {
                line: "1".into(),
                field: "net_amount",
                max_dp: 2,
            },
        ),
        (
            "quantity with 5 decimals",
            |i| i.lines[0].quantity = dec("1.00001"),
            InvoiceError::TooManyDecimals {
                line: "1".into(),
                field: "quantity",
                max_dp: 4,
            },
        ),
        (
            "negative price",
            |i| i.lines[0].unit_price = dec("-1"),
            InvoiceError::NegativePrice("1".into()),
        ),
        (
            "due before issue",
            |i| i.due_date = date(2026, 5, 31),
            InvoiceError::DueBeforeIssue {
                issue: date(2026, 6, 1),
                due: date(2026, 5, 31),
            },
        ),
        (
            "negative total",
            |i| {
                i.lines[0].quantity = dec("-2");
                i.lines[0].net_amount = dec("-200.00");
            },
            InvoiceError::NegativeTotal,
        ),
        (
            "empty mandate",
            |i| {
                i.payment = ciel_documents::PaymentMeans::SepaDirectDebit {
                    mandate_reference: String::new(),
                    debtor_iban: "FR7630006000011234567890189".into(),
                }
            },
            InvoiceError::DirectDebit("mandate reference \"\" must have 1 to 35 characters".into()),
        ),
        (
            "empty buyer name",
            |i| i.buyer.name = " ".into(),
            InvoiceError::Empty("buyer.name".into()),
        ),
        (
            "bad ICS",
            |i| i.creditor_id = "ICS".into(),
            InvoiceError::DirectDebit("creditor identifier (ICS) \"ICS\" is not valid".into()),
        ),
        (
            "an absurd amount",
            |i| {
                i.lines[0].quantity = dec("10000");
                i.lines[0].unit_price = dec("100000000");
                i.lines[0].net_amount = dec("1000000000000.00");
            },
            InvoiceError::AmountTooLarge(dec("1000000000000")),
        ),
        (
            "French buyer routed elsewhere",
            |i| i.buyer.electronic_address = ElectronicAddress::siren("999999999"),
            InvoiceError::BuyerAddressNotSiren,
        ),
    ];
    for (name, mutate, expected) in cases {
        let mut invoice = common::standard_invoice();
        mutate(&mut invoice);
        assert_eq!(to_cii_xml(&invoice), Err(expected), "{name}");
    }
}

#[test]
fn credit_note_type_code_depends_on_kind() {
    let mut invoice = common::standard_invoice();
    invoice.kind = InvoiceType::CreditNote {
        corrected: InvoiceNumber::new("F1").expect("valid"),
        corrected_issue_date: date(2026, 5, 1),
    };
    let xml = to_cii_xml(&invoice).expect("valid");
    assert!(xml.contains("<ram:TypeCode>381</ram:TypeCode>"));
}

#[test]
fn reverse_charge_needs_the_buyer_vat_number() {
    let mut invoice = common::reverse_charge_invoice();
    invoice.buyer.vat_number = None;
    assert_eq!(
        to_cii_xml(&invoice),
        Err(InvoiceError::ReverseChargeWithoutBuyerVat)
    );
}

/// The figures of `common::mixed_rates_invoice`, worked by hand.
#[test]
fn mixed_rates_totals() {
    let (breakdown, totals) = common::mixed_rates_invoice().totals();
    let rows: Vec<_> = breakdown
        .iter()
        .map(|r| (r.category.code(), r.rate, r.basis, r.tax))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("S", dec("5.5"), dec("19.98"), dec("1.10")),
            ("S", dec("20"), dec("70.00"), dec("14.00")),
            ("Z", dec("0"), dec("5.00"), dec("0")),
        ]
    );
    assert_eq!(totals.lines, dec("94.98"));
    assert_eq!(totals.tax, dec("15.10"));
    assert_eq!(totals.grand, dec("110.08"));
}

/// R2.7: the pre-notification says amount, due date, RUM and ICS, the amount
/// written the French way.
#[test]
fn sepa_prenotification_text() {
    assert_eq!(
        common::standard_invoice().sepa_prenotification(),
        "Prélèvement SEPA de 160,01\u{a0}€ le 15/06/2026 au titre du mandat RUM-CIEL-000042 \
         (créancier ICS FR12ZZZ123456)."
    );
    let reverse = common::reverse_charge_invoice();
    assert!(
        reverse
            .sepa_prenotification()
            .starts_with("Prélèvement SEPA de 2\u{202f}552,50\u{a0}€ le 15/06/2026 au titre du mandat RUM-CIEL-000077"),
        "{}",
        reverse.sepa_prenotification()
    );
    let xml = to_cii_xml(&common::standard_invoice()).expect("valid");
    assert!(xml.contains("<ram:Description>Prélèvement SEPA de 160,01\u{a0}€ le 15/06/2026"));
}

#[test]
fn structural_mistakes_are_refused() {
    let mut invoice = common::standard_invoice();
    invoice.lines[1].id = "1".to_owned();
    assert_eq!(
        to_cii_xml(&invoice),
        Err(InvoiceError::DuplicateLineId("1".into()))
    );

    let mut invoice = common::standard_invoice();
    invoice.period = Some((date(2026, 6, 30), date(2026, 6, 1)));
    assert_eq!(
        to_cii_xml(&invoice),
        Err(InvoiceError::PeriodReversed {
            start: date(2026, 6, 30),
            end: date(2026, 6, 1)
        })
    );

    let mut invoice = common::credit_note();
    invoice.kind = InvoiceType::CreditNote {
        corrected: InvoiceNumber::new("F2026-07/000001").expect("valid"),
        corrected_issue_date: date(2026, 7, 1),
    };
    assert_eq!(
        to_cii_xml(&invoice),
        Err(InvoiceError::CorrectedAfterCreditNote {
            corrected: date(2026, 7, 1),
            issue: date(2026, 6, 3)
        })
    );

    let mut invoice = common::standard_invoice();
    invoice.buyer.address.country = "France".to_owned();
    assert_eq!(
        to_cii_xml(&invoice),
        Err(InvoiceError::InvalidCountry("buyer.address.country".into()))
    );
}
