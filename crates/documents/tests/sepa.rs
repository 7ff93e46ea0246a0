//! Table tests of the pain.008.001.08 generator, expected values worked by hand.

mod common;

use ciel_documents::{Scheme, SepaError, SequenceType, sepa_text, to_pain008_xml};
use common::{dec, mixed_batch};
use jiff::civil::date;

/// 160.01 + 149.70 + 2552.50 + 6.00 = 2868.21 in 4 transactions; blocks by
/// (date, sequence): 15 June FRST 149.70 (1), 15 June RCUR 160.01 + 2552.50 =
/// 2712.51 (2), 30 June RCUR 6.00 (1).
#[test]
fn groups_and_control_sums() {
    let batch = mixed_batch();
    assert_eq!(batch.control_sum(), dec("2868.21"));
    let groups: Vec<_> = batch
        .groups()
        .into_iter()
        .map(|g| {
            let ids: Vec<_> = g
                .transactions
                .iter()
                .map(|t| t.end_to_end_id.as_str())
                .collect();
            (
                g.collection_date,
                g.sequence_type,
                g.control_sum,
                ids.join(","),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            (
                date(2026, 6, 15),
                SequenceType::First,
                dec("149.70"),
                "000124".to_owned()
            ),
            (
                date(2026, 6, 15),
                SequenceType::Recurrent,
                dec("2712.51"),
                "000123,000125".to_owned()
            ),
            (
                date(2026, 6, 30),
                SequenceType::Recurrent,
                dec("6.00"),
                "000126".to_owned()
            ),
        ]
    );
}

#[test]
fn document_fragments() {
    let xml = to_pain008_xml(&mixed_batch()).expect("a valid batch");
    let fragments = [
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08">"#,
        "<MsgId>CIEL-DD-20260601-01</MsgId>\n      <CreDtTm>2026-06-01T04:00:00Z</CreDtTm>\n      <NbOfTxs>4</NbOfTxs>\n      <CtrlSum>2868.21</CtrlSum>",
        "<PmtInfId>CIEL-DD-20260601-01-1</PmtInfId>\n      <PmtMtd>DD</PmtMtd>\n      <NbOfTxs>1</NbOfTxs>\n      <CtrlSum>149.70</CtrlSum>",
        "<PmtInfId>CIEL-DD-20260601-01-2</PmtInfId>\n      <PmtMtd>DD</PmtMtd>\n      <NbOfTxs>2</NbOfTxs>\n      <CtrlSum>2712.51</CtrlSum>",
        "<PmtInfId>CIEL-DD-20260601-01-3</PmtInfId>\n      <PmtMtd>DD</PmtMtd>\n      <NbOfTxs>1</NbOfTxs>\n      <CtrlSum>6.00</CtrlSum>",
        "<LclInstrm>\n          <Cd>CORE</Cd>\n        </LclInstrm>\n        <SeqTp>FRST</SeqTp>\n      </PmtTpInf>\n      <ReqdColltnDt>2026-06-15</ReqdColltnDt>",
        "<ReqdColltnDt>2026-06-30</ReqdColltnDt>",
        "<PstlAdr>\n          <StrtNm>rue de la Paix</StrtNm>\n          <BldgNb>12</BldgNb>\n          <PstCd>75002</PstCd>\n          <TwnNm>Paris</TwnNm>\n          <Ctry>FR</Ctry>\n        </PstlAdr>",
        "<IBAN>FR1420041010050500013M02606</IBAN>",
        "<BICFI>PSSTFRPPPAR</BICFI>",
        "<ChrgBr>SLEV</ChrgBr>",
        "<Othr>\n              <Id>FR12ZZZ123456</Id>\n              <SchmeNm>\n                <Prtry>SEPA</Prtry>",
        "<EndToEndId>000123</EndToEndId>\n        </PmtId>\n        <InstdAmt Ccy=\"EUR\">160.01</InstdAmt>",
        "<MndtId>RUM-000123</MndtId>\n            <DtOfSgntr>2025-01-07</DtOfSgntr>",
        "<Othr>\n              <Id>NOTPROVIDED</Id>",
        "<StrtNm>avenue Jean-Jaures</StrtNm>\n            <BldgNb>3 bis</BldgNb>",
        "<Ustrd>F2026-06/000123</Ustrd>",
    ];
    for fragment in fragments {
        assert!(
            xml.contains(fragment),
            "missing:\n{fragment}\n---in---\n{xml}"
        );
    }
    assert_eq!(xml.matches("<PmtInf>").count(), 3);
    assert_eq!(xml.matches("<DrctDbtTxInf>").count(), 4);
}

#[test]
fn b2b_scheme_and_address_without_number() {
    let mut batch = mixed_batch();
    batch.scheme = Scheme::B2b;
    batch.transactions[0].debtor_address.building_number = None;
    let xml = to_pain008_xml(&batch).expect("valid");
    assert!(xml.contains("<Cd>B2B</Cd>"));
    assert!(!xml.contains("<Cd>CORE</Cd>"));
    assert_eq!(xml.matches("<BldgNb>").count(), 3 + 3); // creditor x3 blocks, 3 debtors
}

#[test]
fn bad_batches_are_refused_with_the_reason() {
    type Case = (
        &'static str,
        fn(&mut ciel_documents::DirectDebitBatch),
        SepaError,
    );
    let cases: Vec<Case> = vec![
        ("empty", |b| b.transactions.clear(), SepaError::Empty),
        (
            "zero amount",
            |b| b.transactions[0].amount = dec("0"),
            SepaError::InvalidAmount("000123".into()),
        ),
        (
            "fractions of a cent",
            |b| b.transactions[0].amount = dec("1.005"),
            SepaError::InvalidAmount("000123".into()),
        ),
        (
            "duplicate end-to-end id",
            |b| b.transactions[1].end_to_end_id = "000123".into(),
            SepaError::DuplicateEndToEnd("000123".into()),
        ),
        (
            "bad IBAN check digits",
            |b| b.transactions[0].debtor_iban = "FR7630001007941234567890186".into(),
            SepaError::InvalidIban {
                field: "000123: debtor_iban".into(),
                value: "FR7630001007941234567890186".into(),
            },
        ),
        (
            "bad BIC",
            |b| b.creditor_bic = "PSST".into(),
            SepaError::InvalidBic {
                field: "creditor_bic".into(),
                value: "PSST".into(),
            },
        ),
        (
            "bad ICS",
            |b| b.creditor_id = "ZZZ".into(),
            SepaError::InvalidCreditorId("ZZZ".into()),
        ),
        (
            "mandate signed after the collection",
            |b| b.transactions[3].mandate_signature_date = date(2026, 7, 1),
            SepaError::MandateAfterCollection {
                id: "000126".into(),
                signed: date(2026, 7, 1),
                collection: date(2026, 6, 30),
            },
        ),
        (
            "mandate reference too long",
            |b| b.transactions[0].mandate_reference = "R".repeat(36),
            SepaError::InvalidId {
                field: "000123: mandate_reference".into(),
                value: "R".repeat(36),
                max: 35,
            },
        ),
        (
            "message id with a double slash",
            |b| b.message_id = "CIEL//1".into(),
            SepaError::InvalidId {
                field: "message_id".into(),
                value: "CIEL//1".into(),
                max: 30,
            },
        ),
        (
            "a name with nothing left in the SEPA set",
            |b| b.transactions[0].debtor_name = "€".into(),
            SepaError::InvalidText("000123: debtor_name".into()),
        ),
        (
            "empty town",
            |b| b.transactions[0].debtor_address.town = String::new(),
            SepaError::InvalidText("000123: debtor_address.town".into()),
        ),
    ];
    for (name, mutate, expected) in cases {
        let mut batch = mixed_batch();
        mutate(&mut batch);
        assert_eq!(to_pain008_xml(&batch), Err(expected), "{name}");
    }
}

/// Free texts are converted to the EPC basic Latin set, which every SEPA bank
/// must accept.
#[test]
fn free_texts_are_converted_to_the_sepa_character_set() {
    let cases = [
        (
            "Dupont & Fils <Industrie> SARL",
            70,
            "Dupont + Fils Industrie SARL",
        ),
        ("avenue Jean-Jaurès", 70, "avenue Jean-Jaures"),
        ("Société Générale", 70, "Societe Generale"),
        ("Cœur d’Alène", 70, "Coeur d'Alene"),
        ("Straße 5 – Düsseldorf", 70, "Strasse 5 Dusseldorf"),
        ("ÉLÉPHANT  ÇA", 70, "ELEPHANT CA"),
        ("F2026-06/000123", 140, "F2026-06/000123"),
        ("abcdef ghij", 7, "abcdef"),
        ("€€€", 70, ""),
    ];
    for (input, max, expected) in cases {
        assert_eq!(sepa_text(input, max), expected, "{input}");
    }
    let xml = to_pain008_xml(&mixed_batch()).expect("valid");
    assert!(xml.contains("<Nm>Dupont + Fils Industrie SARL</Nm>"));
    assert!(xml.contains("<StrtNm>avenue Jean-Jaures</StrtNm>"));
    assert!(xml.contains("<Nm>Ciel Hebergement SAS</Nm>"));
}
