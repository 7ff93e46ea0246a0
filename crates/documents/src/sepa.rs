//! The SEPA direct-debit initiation file, ISO 20022 pain.008.001.08.
//!
//! [`to_pain008_xml`] groups the transactions of a batch into one payment
//! information block per (sequence type, requested collection date), because a
//! bank collects a block on one date under one sequence type; it computes the
//! transaction counts and control sums of the group header and of each block,
//! which the bank checks against the transactions before accepting the file.
//! Addresses are structured (StrtNm, BldgNb, PstCd, TwnNm, Ctry): unstructured
//! addresses are refused since November 2026.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::facturx::PostalAddress;
use crate::money::{format_cents, has_at_most_dp};
use crate::xml::XmlOut;

const NS_PAIN008: &str = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08";

/// The largest amount a SEPA transaction may carry (999 999 999.99 EUR).
fn max_amount() -> Decimal {
    Decimal::new(99_999_999_999, 2)
}

/// Why a batch cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SepaError {
    #[error(
        "{field}: {value:?} is not a valid SEPA identifier (1 to {max} characters of the SEPA set)"
    )]
    InvalidId {
        field: String,
        value: String,
        max: usize,
    },
    #[error("{0}: a required text is empty or too long")]
    InvalidText(String),
    #[error("creditor identifier (ICS) {0:?} is not a valid identifier")]
    InvalidCreditorId(String),
    #[error("{field}: IBAN {value:?} is not valid")]
    InvalidIban { field: String, value: String },
    #[error("{field}: BIC {value:?} is not valid")]
    InvalidBic { field: String, value: String },
    #[error("transaction {0}: the amount must be positive, in cents, at most 999999999.99")]
    InvalidAmount(String),
    #[error(
        "transaction {id}: the mandate was signed on {signed}, after the collection date {collection}"
    )]
    MandateAfterCollection {
        id: String,
        signed: Date,
        collection: Date,
    },
    #[error("end-to-end id {0:?} appears twice in the batch")]
    DuplicateEndToEnd(String),
    #[error("a batch needs at least one transaction")]
    Empty,
}

/// The scheme of the mandates (LclInstrm): CORE for any debtor, B2B for a
/// business that registered the mandate with its bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Core,
    B2b,
}

impl Scheme {
    fn code(self) -> &'static str {
        match self {
            Self::Core => "CORE",
            Self::B2b => "B2B",
        }
    }
}

/// The sequence type of a collection under its mandate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SequenceType {
    /// First collection of a recurrent mandate (optional since 2016, still accepted).
    First,
    Recurrent,
    /// One-off mandate.
    OneOff,
    /// Last collection of a recurrent mandate.
    Final,
}

impl SequenceType {
    pub fn code(self) -> &'static str {
        match self {
            Self::First => "FRST",
            Self::Recurrent => "RCUR",
            Self::OneOff => "OOFF",
            Self::Final => "FNAL",
        }
    }
}

/// One collection from one debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SepaTransaction {
    /// Unique in the batch, at most 35 characters; returned by the bank on a
    /// rejection, so ciel can match it to the invoice.
    pub end_to_end_id: String,
    pub amount: Decimal,
    pub sequence_type: SequenceType,
    pub collection_date: Date,
    /// The mandate reference (RUM), at most 35 characters.
    pub mandate_reference: String,
    pub mandate_signature_date: Date,
    pub debtor_name: String,
    pub debtor_address: PostalAddress,
    pub debtor_iban: String,
    /// Optional since the IBAN-only rule; "NOTPROVIDED" is written without it.
    pub debtor_bic: Option<String>,
    /// Unstructured remittance information: the invoice number.
    pub remittance: String,
}

/// A direct-debit batch: one file for the creditor's bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDebitBatch {
    /// Unique per file, at most 30 characters here (the payment information
    /// ids append "-n" to it and must stay within 35).
    pub message_id: String,
    /// When the file was created; passed in because this crate reads no clock.
    pub created_at: Timestamp,
    pub scheme: Scheme,
    pub creditor_name: String,
    /// Creditor identifier (ICS), e.g. "FR12ZZZ123456".
    pub creditor_id: String,
    pub creditor_iban: String,
    pub creditor_bic: String,
    pub creditor_address: PostalAddress,
    pub transactions: Vec<SepaTransaction>,
}

/// One payment information block as it will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentGroup<'a> {
    pub sequence_type: SequenceType,
    pub collection_date: Date,
    pub control_sum: Decimal,
    pub transactions: Vec<&'a SepaTransaction>,
}

impl DirectDebitBatch {
    /// Total of the batch (GrpHdr/CtrlSum).
    pub fn control_sum(&self) -> Decimal {
        self.transactions.iter().map(|t| t.amount).sum()
    }

    /// The payment information blocks, ordered by collection date then sequence
    /// type, transactions kept in input order inside each block.
    pub fn groups(&self) -> Vec<PaymentGroup<'_>> {
        let mut groups: BTreeMap<(Date, SequenceType), Vec<&SepaTransaction>> = BTreeMap::new();
        for transaction in &self.transactions {
            groups
                .entry((transaction.collection_date, transaction.sequence_type))
                .or_default()
                .push(transaction);
        }
        groups
            .into_iter()
            .map(
                |((collection_date, sequence_type), transactions)| PaymentGroup {
                    sequence_type,
                    collection_date,
                    control_sum: transactions.iter().map(|t| t.amount).sum(),
                    transactions,
                },
            )
            .collect()
    }

    /// Checks what the XSD and the EPC rules require.
    pub fn validate(&self) -> Result<(), SepaError> {
        check_id("message_id", &self.message_id, 30)?;
        check_text("creditor_name", &self.creditor_name, 70)?;
        check_creditor_id(&self.creditor_id)?;
        check_iban("creditor_iban", &self.creditor_iban)?;
        check_bic("creditor_bic", &self.creditor_bic)?;
        check_address("creditor_address", &self.creditor_address)?;
        if self.transactions.is_empty() {
            return Err(SepaError::Empty);
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.transactions {
            let id = &t.end_to_end_id;
            check_id("end_to_end_id", id, 35)?;
            if !seen.insert(id.as_str()) {
                return Err(SepaError::DuplicateEndToEnd(id.clone()));
            }
            if t.amount <= Decimal::ZERO || t.amount > max_amount() || !has_at_most_dp(t.amount, 2)
            {
                return Err(SepaError::InvalidAmount(id.clone()));
            }
            check_id(
                &format!("{id}: mandate_reference"),
                &t.mandate_reference,
                35,
            )?;
            if t.mandate_signature_date > t.collection_date {
                return Err(SepaError::MandateAfterCollection {
                    id: id.clone(),
                    signed: t.mandate_signature_date,
                    collection: t.collection_date,
                });
            }
            check_text(&format!("{id}: debtor_name"), &t.debtor_name, 70)?;
            check_address(&format!("{id}: debtor_address"), &t.debtor_address)?;
            check_iban(&format!("{id}: debtor_iban"), &t.debtor_iban)?;
            if let Some(bic) = &t.debtor_bic {
                check_bic(&format!("{id}: debtor_bic"), bic)?;
            }
            check_text(&format!("{id}: remittance"), &t.remittance, 140)?;
        }
        if self.groups().len() > 9999 {
            return Err(SepaError::InvalidText("too many payment groups".to_owned()));
        }
        Ok(())
    }
}

/// The EPC restricted character set for identifiers: no leading or trailing
/// slash, no double slash (EPC implementation guidelines).
fn check_id(field: &str, value: &str, max: usize) -> Result<(), SepaError> {
    let charset = value.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'-' | b'?' | b':' | b'(' | b')' | b'.' | b',' | b'\'' | b'+' | b' '
            )
    });
    let ok = !value.trim().is_empty()
        && value.len() <= max
        && charset
        && !value.starts_with('/')
        && !value.ends_with('/')
        && !value.contains("//");
    if ok {
        Ok(())
    } else {
        Err(SepaError::InvalidId {
            field: field.to_owned(),
            value: value.to_owned(),
            max,
        })
    }
}

/// Free text converted to the EPC basic Latin character set
/// (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space), the only one every SEPA bank
/// must accept: accents are dropped ("Jaurès" -> "Jaures"), ligatures spelt
/// out, "&" becomes "+", anything else a space; spaces are collapsed and the
/// result cut to the EPC length (the text may grow, "œ" -> "oe"). A bank that
/// meets a character outside the set may reject the whole file.
pub fn sepa_text(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let replacement = match c {
            'a'..='z'
            | 'A'..='Z'
            | '0'..='9'
            | '/'
            | '-'
            | '?'
            | ':'
            | '('
            | ')'
            | '.'
            | ','
            | '\''
            | '+'
            | ' ' => None,
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => Some("a"),
            'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => Some("A"),
            'ç' => Some("c"),
            'Ç' => Some("C"),
            'è' | 'é' | 'ê' | 'ë' => Some("e"),
            'È' | 'É' | 'Ê' | 'Ë' => Some("E"),
            'ì' | 'í' | 'î' | 'ï' => Some("i"),
            'Ì' | 'Í' | 'Î' | 'Ï' => Some("I"),
            'ñ' => Some("n"),
            'Ñ' => Some("N"),
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' => Some("o"),
            'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' | 'Ø' => Some("O"),
            'ù' | 'ú' | 'û' | 'ü' => Some("u"),
            'Ù' | 'Ú' | 'Û' | 'Ü' => Some("U"),
            'ý' | 'ÿ' => Some("y"),
            'Ý' | 'Ÿ' => Some("Y"),
            'æ' => Some("ae"),
            'Æ' => Some("AE"),
            'œ' => Some("oe"),
            'Œ' => Some("OE"),
            'ß' => Some("ss"),
            '&' => Some("+"),
            '’' | '‘' => Some("'"),
            _ => Some(" "),
        };
        match replacement {
            None => out.push(c),
            Some(text) => out.push_str(text),
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// A free text must keep something once converted to the SEPA set (a name of
/// only non-Latin characters would become empty) and fit its EPC length.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), SepaError> {
    if sepa_text(value, max).is_empty() || value.chars().count() > max {
        Err(SepaError::InvalidText(field.to_owned()))
    } else {
        Ok(())
    }
}

/// ICS: 2-letter country, 2 check digits, 3-character business code, national
/// identifier (13 characters in France: `FRkkZZZxxxxxx`); at most 35.
pub(crate) fn check_creditor_id(value: &str) -> Result<(), SepaError> {
    let bytes = value.as_bytes();
    let ok = (8..=35).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes.iter().all(u8::is_ascii_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err(SepaError::InvalidCreditorId(value.to_owned()))
    }
}

/// IBAN structure and ISO 7064 mod 97 check digits, so that a typo is caught
/// here rather than by a rejection days later.
fn check_iban(field: &str, value: &str) -> Result<(), SepaError> {
    let bytes = value.as_bytes();
    let shape = (15..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    let checksum = shape && {
        let rearranged = bytes[4..].iter().chain(&bytes[..4]);
        rearranged.fold(0u32, |acc, &b| {
            if b.is_ascii_digit() {
                (acc * 10 + u32::from(b - b'0')) % 97
            } else {
                (acc * 100 + u32::from(b - b'A' + 10)) % 97
            }
        }) == 1
    };
    if checksum {
        Ok(())
    } else {
        Err(SepaError::InvalidIban {
            field: field.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// BIC: 4 letters (bank), 2 letters (country), 2 alphanumerics (location),
/// optionally 3 alphanumerics (branch), as the XSD pattern says.
fn check_bic(field: &str, value: &str) -> Result<(), SepaError> {
    let bytes = value.as_bytes();
    let ok = matches!(bytes.len(), 8 | 11)
        && bytes[..6].iter().all(u8::is_ascii_uppercase)
        && bytes[6..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(SepaError::InvalidBic {
            field: field.to_owned(),
            value: value.to_owned(),
        })
    }
}

fn check_address(field: &str, address: &PostalAddress) -> Result<(), SepaError> {
    check_text(&format!("{field}.street"), &address.street, 70)?;
    if let Some(number) = &address.building_number {
        check_text(&format!("{field}.building_number"), number, 16)?;
    }
    check_text(&format!("{field}.post_code"), &address.post_code, 16)?;
    check_text(&format!("{field}.town"), &address.town, 35)?;
    if address.country.len() != 2 || !address.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(SepaError::InvalidText(format!("{field}.country")));
    }
    Ok(())
}

/// Writes the pain.008.001.08 file of a checked batch.
pub fn to_pain008_xml(batch: &DirectDebitBatch) -> Result<String, SepaError> {
    batch.validate()?;
    let groups = batch.groups();
    let mut x = XmlOut::new();
    x.open("Document", &[("xmlns", NS_PAIN008)]);
    x.open("CstmrDrctDbtInitn", &[]);

    x.open("GrpHdr", &[]);
    x.leaf("MsgId", &batch.message_id);
    x.leaf(
        "CreDtTm",
        &batch.created_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    x.leaf("NbOfTxs", &batch.transactions.len().to_string());
    x.leaf("CtrlSum", &format_cents(batch.control_sum()));
    x.open("InitgPty", &[]);
    x.leaf("Nm", &sepa_text(&batch.creditor_name, 70));
    x.close("InitgPty");
    x.close("GrpHdr");

    for (index, group) in groups.iter().enumerate() {
        x.open("PmtInf", &[]);
        x.leaf("PmtInfId", &format!("{}-{}", batch.message_id, index + 1));
        x.leaf("PmtMtd", "DD");
        x.leaf("NbOfTxs", &group.transactions.len().to_string());
        x.leaf("CtrlSum", &format_cents(group.control_sum));
        x.open("PmtTpInf", &[]);
        x.open("SvcLvl", &[]);
        x.leaf("Cd", "SEPA");
        x.close("SvcLvl");
        x.open("LclInstrm", &[]);
        x.leaf("Cd", batch.scheme.code());
        x.close("LclInstrm");
        x.leaf("SeqTp", group.sequence_type.code());
        x.close("PmtTpInf");
        x.leaf("ReqdColltnDt", &group.collection_date.to_string());
        x.open("Cdtr", &[]);
        x.leaf("Nm", &sepa_text(&batch.creditor_name, 70));
        write_address(&mut x, &batch.creditor_address);
        x.close("Cdtr");
        x.open("CdtrAcct", &[]);
        x.open("Id", &[]);
        x.leaf("IBAN", &batch.creditor_iban);
        x.close("Id");
        x.close("CdtrAcct");
        x.open("CdtrAgt", &[]);
        x.open("FinInstnId", &[]);
        x.leaf("BICFI", &batch.creditor_bic);
        x.close("FinInstnId");
        x.close("CdtrAgt");
        x.leaf("ChrgBr", "SLEV");
        x.open("CdtrSchmeId", &[]);
        x.open("Id", &[]);
        x.open("PrvtId", &[]);
        x.open("Othr", &[]);
        x.leaf("Id", &batch.creditor_id);
        x.open("SchmeNm", &[]);
        x.leaf("Prtry", "SEPA");
        x.close("SchmeNm");
        x.close("Othr");
        x.close("PrvtId");
        x.close("Id");
        x.close("CdtrSchmeId");
        for transaction in &group.transactions {
            write_transaction(&mut x, transaction);
        }
        x.close("PmtInf");
    }

    x.close("CstmrDrctDbtInitn");
    x.close("Document");
    Ok(x.finish())
}

fn write_address(x: &mut XmlOut, address: &PostalAddress) {
    x.open("PstlAdr", &[]);
    x.leaf("StrtNm", &sepa_text(&address.street, 70));
    if let Some(number) = &address.building_number {
        x.leaf("BldgNb", &sepa_text(number, 16));
    }
    x.leaf("PstCd", &sepa_text(&address.post_code, 16));
    x.leaf("TwnNm", &sepa_text(&address.town, 35));
    x.leaf("Ctry", &address.country);
    x.close("PstlAdr");
}

fn write_transaction(x: &mut XmlOut, t: &SepaTransaction) {
    x.open("DrctDbtTxInf", &[]);
    x.open("PmtId", &[]);
    x.leaf("EndToEndId", &t.end_to_end_id);
    x.close("PmtId");
    x.leaf_with("InstdAmt", &[("Ccy", "EUR")], &format_cents(t.amount));
    x.open("DrctDbtTx", &[]);
    x.open("MndtRltdInf", &[]);
    x.leaf("MndtId", &t.mandate_reference);
    x.leaf("DtOfSgntr", &t.mandate_signature_date.to_string());
    x.close("MndtRltdInf");
    x.close("DrctDbtTx");
    x.open("DbtrAgt", &[]);
    x.open("FinInstnId", &[]);
    match &t.debtor_bic {
        Some(bic) => x.leaf("BICFI", bic),
        None => {
            x.open("Othr", &[]);
            x.leaf("Id", "NOTPROVIDED");
            x.close("Othr");
        }
    }
    x.close("FinInstnId");
    x.close("DbtrAgt");
    x.open("Dbtr", &[]);
    x.leaf("Nm", &sepa_text(&t.debtor_name, 70));
    write_address(x, &t.debtor_address);
    x.close("Dbtr");
    x.open("DbtrAcct", &[]);
    x.open("Id", &[]);
    x.leaf("IBAN", &t.debtor_iban);
    x.close("Id");
    x.close("DbtrAcct");
    x.open("RmtInf", &[]);
    x.leaf("Ustrd", &sepa_text(&t.remittance, 140));
    x.close("RmtInf");
    x.close("DrctDbtTxInf");
}
