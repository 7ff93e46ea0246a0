//! The CII XML of a Factur-X invoice, profile EN 16931, with the French rules.
//!
//! [`to_cii_xml`] checks an [`Invoice`] against the rules a generator can get
//! wrong (the BR-FR number format, SIREN, decimals, exemption reasons, the
//! reference of a credit note), computes the VAT breakdown per rate on the sum of
//! the lines at that rate (EN 16931 BR-CO-17, R2.12) and the totals, and writes
//! the XML the `factur-x.xml` attachment of the PDF/A-3 will carry.
//!
//! Amounts of a credit note (381) are positive, as EN 16931 wants: the type code
//! carries the sign. A negative line (an SLA credit on a monthly invoice, R7.5)
//! is written with a negative quantity and a positive unit price, since BR-FR
//! forbids negative prices.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::money::{format_cents, format_decimal, has_at_most_dp, round_cents};
use crate::xml::XmlOut;

const NS_RSM: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
const NS_RAM: &str =
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
const NS_UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
const NS_QDT: &str = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";

/// BT-24: the EN 16931 profile of Factur-X. MINIMUM and BASIC WL are not full
/// e-invoices, so ciel always emits this one.
pub const PROFILE_EN16931: &str = "urn:cen.eu:en16931:2017";

/// BT-23 "cadre de facturation" S1: a plain invoice for services (the provider
/// sells hosting and services, never goods).
pub const BILLING_FRAME_SERVICES: &str = "S1";

/// Prices are in euros (R2.1). Another currency would need the VAT total in
/// euros as well (BR-FR-CO-12), which ciel never has to write.
const CURRENCY: &str = "EUR";

/// ISO 6523 scheme of a SIREN as legal registration identifier (BT-30-1).
const SCHEME_SIREN: &str = "0002";

/// The EN 16931 schematron sums amounts as floating-point numbers, exact to
/// about 15 significant digits: from 10^12 EUR with cents on, its BR-CO-10
/// check fails on correct sums, so a platform would reject the invoice. No
/// invoice of ciel comes near; the limit turns an absurd input into a named error.
fn max_amount() -> Decimal {
    Decimal::new(1_000_000_000_000, 0)
}

/// VAT rates the French CTC schematron accepts (BR-FR-16), as numbers.
const FRENCH_VAT_RATES: &[&str] = &[
    "0", "10", "13", "20", "8.5", "19.6", "2.1", "5.5", "7", "20.6", "1.05", "0.9", "1.75", "9.2",
    "9.6",
];

/// Why an invoice cannot be written. Each variant names the field so the
/// billing run can report it next to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("invoice number {0:?}: BR-FR-01/02 allow 1 to 35 characters of A-Z a-z 0-9 + - _ /")]
    InvalidNumber(String),
    #[error("{party}: SIREN {value:?} must be 9 digits")]
    InvalidSiren { party: &'static str, value: String },
    #[error("the seller needs a SIREN (BR-FR-10) and a VAT number")]
    SellerIdentity,
    #[error("{0}: a required text is empty")]
    Empty(String),
    #[error("{0}: the country must be an ISO 3166-1 alpha-2 code such as FR")]
    InvalidCountry(String),
    #[error("an invoice needs at least one line")]
    NoLines,
    #[error("line id {0:?} appears twice")]
    DuplicateLineId(String),
    #[error("the invoicing period ends on {end}, before it starts on {start} (BR-29)")]
    PeriodReversed { start: Date, end: Date },
    #[error("the corrected invoice is dated {corrected}, after this credit note ({issue})")]
    CorrectedAfterCreditNote { corrected: Date, issue: Date },
    #[error("line {line}: {field} has more than {max_dp} decimals")]
    TooManyDecimals {
        line: String,
        field: &'static str,
        max_dp: u32,
    },
    #[error(
        "line {0}: the unit price must be positive (BR-FR-DEC-03); put the sign on the quantity"
    )]
    NegativePrice(String),
    #[error("line {line}: VAT rate {rate} is not valid for category {category}")]
    InvalidRate {
        line: String,
        category: &'static str,
        rate: Decimal,
    },
    #[error("VAT category {0} is used without an exemption reason (BR-E-10, BR-AE-10)")]
    MissingExemption(&'static str),
    #[error(
        "an exemption reason is given for VAT category {0}, which no line uses or which takes none"
    )]
    UnusedExemption(&'static str),
    #[error("the due date {due} is before the issue date {issue}")]
    DueBeforeIssue { issue: Date, due: Date },
    #[error(
        "an amount reaches {0} EUR or more: beyond that the official rules cannot check the sums"
    )]
    AmountTooLarge(Decimal),
    #[error("the total to pay is negative: issue a credit note instead")]
    NegativeTotal,
    #[error(
        "a French buyer's electronic address must be scheme 0225 starting with its SIREN (BR-FR-21)"
    )]
    BuyerAddressNotSiren,
    #[error("reverse charge needs the buyer's VAT number (BR-AE-02)")]
    ReverseChargeWithoutBuyerVat,
    #[error("direct debit: {0}")]
    DirectDebit(String),
}

/// An invoice number checked against BR-FR-01/02 (at most 35 characters of
/// `A-Za-z0-9+-_/`), so that an invalid number can never reach a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InvoiceNumber(String);

impl InvoiceNumber {
    /// Checks the BR-FR format; the continuity of the sequence (R2.11) is the
    /// store's business, not this function's.
    pub fn new(value: impl Into<String>) -> Result<Self, InvoiceError> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 35
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'_' | b'/'));
        if ok {
            Ok(Self(value))
        } else {
            Err(InvoiceError::InvalidNumber(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A structured postal address. Unstructured addresses are refused by SEPA
/// since November 2026, so ciel keeps the same shape everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    /// Street name without the number ("rue de la Paix").
    pub street: String,
    /// Building number ("12", "12 bis"), when the address has one.
    pub building_number: Option<String>,
    pub post_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2 ("FR").
    pub country: String,
}

impl PostalAddress {
    /// CII has a single first address line: in French usage the number comes
    /// before the street.
    fn line_one(&self) -> String {
        match &self.building_number {
            Some(number) if !number.trim().is_empty() => {
                format!("{} {}", number.trim(), self.street)
            }
            _ => self.street.clone(),
        }
    }
}

/// An electronic address (BT-34 / BT-49), mandatory under the French rules
/// (BR-FR-12, BR-FR-13): the routing address on the e-invoicing platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicAddress {
    /// The scheme (BT-34-1): "0225" is the French SIREN-based address.
    pub scheme: String,
    pub value: String,
}

impl ElectronicAddress {
    /// The French platform address of a company: its SIREN under scheme 0225
    /// (what BR-FR-21 expects for a French B2B buyer).
    pub fn siren(siren: &str) -> Self {
        Self {
            scheme: "0225".to_owned(),
            value: siren.to_owned(),
        }
    }
}

/// A seller or a buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// SIREN (9 digits): mandatory for the seller (BR-FR-10) and for a French
    /// buyer; a foreign buyer has none, which makes the invoice "B2BINT".
    pub siren: Option<String>,
    /// Intra-community VAT number ("FR32123456789").
    pub vat_number: Option<String>,
    pub address: PostalAddress,
    pub electronic_address: ElectronicAddress,
}

/// Type of the document (BT-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceType {
    /// 380: a commercial invoice.
    Invoice,
    /// 381: a credit note, which always references the invoice it corrects
    /// (R2.11: an issued invoice is never edited).
    CreditNote {
        corrected: InvoiceNumber,
        corrected_issue_date: Date,
    },
}

impl InvoiceType {
    fn code(&self) -> &'static str {
        match self {
            Self::Invoice => "380",
            Self::CreditNote { .. } => "381",
        }
    }
}

/// VAT category (BT-151), limited to what a French provider of services uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VatCategory {
    /// S: standard rate (20 % by default, R2.1).
    Standard,
    /// Z: zero rated.
    ZeroRated,
    /// E: exempt (a reason is mandatory, e.g. "Exonération de TVA, article 261 du CGI").
    Exempt,
    /// AE: reverse charge, e.g. services to an EU business (article 283-2 du CGI).
    ReverseCharge,
}

impl VatCategory {
    pub fn code(self) -> &'static str {
        match self {
            Self::Standard => "S",
            Self::ZeroRated => "Z",
            Self::Exempt => "E",
            Self::ReverseCharge => "AE",
        }
    }

    fn needs_exemption(self) -> bool {
        matches!(self, Self::Exempt | Self::ReverseCharge)
    }
}

/// The reason written on the invoice for an exempt or reverse-charged VAT
/// category (BT-120, BT-121).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatExemption {
    pub category: VatCategory,
    /// The legal mention, e.g. "Autoliquidation - article 283-2 du CGI".
    pub reason: String,
    /// The VATEX code, e.g. "VATEX-EU-AE".
    pub code: Option<String>,
}

/// An invoice line (BG-25).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub id: String,
    pub name: String,
    /// At most 4 decimals (BR-FR-DEC-02); negative for a credit line.
    pub quantity: Decimal,
    /// UN/ECE rec 20 unit code: "C62" (unit), "MON" (month), "DAY", "HUR", "MTQ"...
    pub unit_code: String,
    /// Unit price excluding VAT, positive, at most 6 decimals (BR-FR-DEC-03).
    pub unit_price: Decimal,
    pub vat_category: VatCategory,
    /// Percent, e.g. 20 or 5.5; 0 for categories Z, E and AE.
    pub vat_rate: Decimal,
    /// Net amount excluding VAT, already rounded to the cent by the billing run
    /// (R2.12: pro-rata and interest are rounded once per line, so the net
    /// amount is an input, not always quantity x price). See [`InvoiceLine::net_of`].
    pub net_amount: Decimal,
}

impl InvoiceLine {
    /// quantity x unit price rounded to the cent half away from zero, for the
    /// lines whose amount is simply that product.
    pub fn net_of(quantity: Decimal, unit_price: Decimal) -> Decimal {
        round_cents(quantity * unit_price)
    }
}

/// How the invoice is paid. ciel collects by SEPA direct debit (R2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMeans {
    /// Code 59: SEPA direct debit, with the mandate (RUM, BT-89) and the
    /// debited IBAN (BT-91); the creditor identifier (ICS, BT-90) is the
    /// invoice's `creditor_id`.
    SepaDirectDebit {
        mandate_reference: String,
        debtor_iban: String,
    },
}

/// Everything a French EN 16931 invoice or credit note says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub number: InvoiceNumber,
    pub kind: InvoiceType,
    pub issue_date: Date,
    pub due_date: Date,
    pub seller: Party,
    /// The seller's SEPA creditor identifier (ICS), pre-notified on every
    /// invoice (R2.7).
    pub creditor_id: String,
    pub buyer: Party,
    /// The order (bon de commande) reference (BT-13), a mandatory French
    /// mention whenever the invoice follows an order, as ciel's always do.
    pub order_reference: Option<String>,
    /// Invoicing period (BG-14), e.g. the month billed.
    pub period: Option<(Date, Date)>,
    pub lines: Vec<InvoiceLine>,
    pub exemptions: Vec<VatExemption>,
    pub payment: PaymentMeans,
    /// Payment terms as shown to the client (BT-20), e.g. the SEPA pre-notification.
    pub payment_terms: String,
    /// The late-payment penalty rate as written in the PMD note, e.g.
    /// "taux de refinancement de la BCE majoré de 10 points, soit 12,15 %".
    pub late_penalty_rate: String,
}

/// One row of the VAT breakdown (BG-23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatBreakdown {
    pub category: VatCategory,
    pub rate: Decimal,
    /// Sum of the net amounts of the lines at this category and rate (BT-116).
    pub basis: Decimal,
    /// basis x rate / 100 rounded once, half away from zero (BT-117, BR-CO-17).
    pub tax: Decimal,
}

/// The document totals (BG-22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Sum of line net amounts (BT-106).
    pub lines: Decimal,
    /// Total without VAT (BT-109); equal to `lines` since ciel writes no
    /// document-level allowances or charges.
    pub tax_basis: Decimal,
    /// Total VAT (BT-110): the sum of the rounded breakdown amounts.
    pub tax: Decimal,
    /// Total with VAT (BT-112).
    pub grand: Decimal,
    /// Amount due (BT-115).
    pub due: Decimal,
}

/// The VAT breakdown of a set of lines: one row per (category, rate), computed
/// on the sum of the lines at that rate and rounded once (BR-CO-17, R2.12),
/// never the sum of per-line VAT. Rows are ordered by category then rate.
pub fn vat_breakdown(lines: &[InvoiceLine]) -> Vec<VatBreakdown> {
    let mut groups: BTreeMap<(VatCategory, Decimal), Decimal> = BTreeMap::new();
    for line in lines {
        *groups
            .entry((line.vat_category, line.vat_rate.normalize()))
            .or_default() += line.net_amount;
    }
    groups
        .into_iter()
        .map(|((category, rate), basis)| VatBreakdown {
            category,
            rate,
            basis,
            tax: round_cents(basis * rate / Decimal::ONE_HUNDRED),
        })
        .collect()
}

impl Invoice {
    /// The breakdown and totals the XML will carry.
    pub fn totals(&self) -> (Vec<VatBreakdown>, Totals) {
        let breakdown = vat_breakdown(&self.lines);
        let lines: Decimal = self.lines.iter().map(|l| l.net_amount).sum();
        let tax: Decimal = breakdown.iter().map(|b| b.tax).sum();
        let grand = lines + tax;
        (
            breakdown,
            Totals {
                lines,
                tax_basis: lines,
                tax,
                grand,
                due: grand,
            },
        )
    }

    /// The SEPA pre-notification the invoice must carry (R2.7): due date,
    /// amount, creditor identifier (ICS) and mandate reference (RUM), in French,
    /// for the payment terms (BT-20) and the PDF. Amounts are written the French
    /// way ("1 234,56 €").
    pub fn sepa_prenotification(&self) -> String {
        let PaymentMeans::SepaDirectDebit {
            mandate_reference, ..
        } = &self.payment;
        let due = self.totals().1.due;
        format!(
            "Prélèvement SEPA de {} le {} au titre du mandat {} (créancier ICS {}).",
            french_amount(due),
            self.due_date.strftime("%d/%m/%Y"),
            mandate_reference,
            self.creditor_id,
        )
    }

    /// Checks what the schemas and rules require and the types cannot say.
    pub fn validate(&self) -> Result<(), InvoiceError> {
        check_party("seller", &self.seller)?;
        check_party("buyer", &self.buyer)?;
        if self.seller.siren.is_none() || self.seller.vat_number.is_none() {
            return Err(InvoiceError::SellerIdentity);
        }
        for (field, text) in [
            ("creditor_id", &self.creditor_id),
            ("payment_terms", &self.payment_terms),
            ("late_penalty_rate", &self.late_penalty_rate),
        ] {
            if text.trim().is_empty() {
                return Err(InvoiceError::Empty(field.to_owned()));
            }
        }
        if self.due_date < self.issue_date {
            return Err(InvoiceError::DueBeforeIssue {
                issue: self.issue_date,
                due: self.due_date,
            });
        }
        let PaymentMeans::SepaDirectDebit {
            mandate_reference,
            debtor_iban,
        } = &self.payment;
        if mandate_reference.trim().is_empty() || mandate_reference.len() > 35 {
            return Err(InvoiceError::DirectDebit(format!(
                "mandate reference {mandate_reference:?} must have 1 to 35 characters"
            )));
        }
        if crate::sepa::check_creditor_id(&self.creditor_id).is_err() {
            return Err(InvoiceError::DirectDebit(format!(
                "creditor identifier (ICS) {:?} is not valid",
                self.creditor_id
            )));
        }
        if debtor_iban.trim().is_empty() {
            return Err(InvoiceError::DirectDebit(
                "the debtor IBAN is empty".to_owned(),
            ));
        }
        if let Some(siren) = &self.buyer.siren {
            let address = &self.buyer.electronic_address;
            if address.scheme != "0225" || !address.value.starts_with(siren.as_str()) {
                return Err(InvoiceError::BuyerAddressNotSiren);
            }
        }
        if self.lines.is_empty() {
            return Err(InvoiceError::NoLines);
        }
        let reverse_charged = self
            .lines
            .iter()
            .any(|l| l.vat_category == VatCategory::ReverseCharge);
        if reverse_charged && self.buyer.vat_number.is_none() {
            return Err(InvoiceError::ReverseChargeWithoutBuyerVat);
        }
        let mut ids = std::collections::BTreeSet::new();
        for line in &self.lines {
            check_line(line)?;
            if !ids.insert(line.id.as_str()) {
                return Err(InvoiceError::DuplicateLineId(line.id.clone()));
            }
        }
        if let Some((start, end)) = self.period
            && end < start
        {
            return Err(InvoiceError::PeriodReversed { start, end });
        }
        if let InvoiceType::CreditNote {
            corrected_issue_date,
            ..
        } = &self.kind
            && *corrected_issue_date > self.issue_date
        {
            return Err(InvoiceError::CorrectedAfterCreditNote {
                corrected: *corrected_issue_date,
                issue: self.issue_date,
            });
        }
        for category in [VatCategory::Exempt, VatCategory::ReverseCharge] {
            let used = self.lines.iter().any(|l| l.vat_category == category);
            let reasons = self
                .exemptions
                .iter()
                .filter(|e| e.category == category)
                .count();
            if used && reasons != 1 {
                return Err(InvoiceError::MissingExemption(category.code()));
            }
        }
        for exemption in &self.exemptions {
            let used = self
                .lines
                .iter()
                .any(|l| l.vat_category == exemption.category);
            if !used || !exemption.category.needs_exemption() {
                return Err(InvoiceError::UnusedExemption(exemption.category.code()));
            }
            if exemption.reason.trim().is_empty() {
                return Err(InvoiceError::MissingExemption(exemption.category.code()));
            }
        }
        let (breakdown, totals) = self.totals();
        let limit = max_amount();
        let amounts = self
            .lines
            .iter()
            .map(|l| l.net_amount)
            .chain(breakdown.iter().flat_map(|b| [b.basis, b.tax]))
            .chain([totals.lines, totals.grand]);
        for amount in amounts {
            if amount.abs() >= limit {
                return Err(InvoiceError::AmountTooLarge(limit));
            }
        }
        if totals.due < Decimal::ZERO {
            return Err(InvoiceError::NegativeTotal);
        }
        if let Some(order) = &self.order_reference
            && order.trim().is_empty()
        {
            return Err(InvoiceError::Empty("order_reference".to_owned()));
        }
        Ok(())
    }
}

fn check_party(role: &'static str, party: &Party) -> Result<(), InvoiceError> {
    if let Some(siren) = &party.siren
        && (siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(InvoiceError::InvalidSiren {
            party: role,
            value: siren.clone(),
        });
    }
    let address = &party.address;
    for (field, text) in [
        ("name", &party.name),
        ("address.street", &address.street),
        ("address.post_code", &address.post_code),
        ("address.town", &address.town),
        (
            "electronic_address.scheme",
            &party.electronic_address.scheme,
        ),
        ("electronic_address.value", &party.electronic_address.value),
    ] {
        if text.trim().is_empty() {
            return Err(InvoiceError::Empty(format!("{role}.{field}")));
        }
    }
    if address.country.len() != 2 || !address.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InvoiceError::InvalidCountry(format!(
            "{role}.address.country"
        )));
    }
    Ok(())
}

fn check_line(line: &InvoiceLine) -> Result<(), InvoiceError> {
    let too_many = |field, max_dp| InvoiceError::TooManyDecimals {
        line: line.id.clone(),
        field,
        max_dp,
    };
    if line.id.trim().is_empty() || line.name.trim().is_empty() || line.unit_code.trim().is_empty()
    {
        return Err(InvoiceError::Empty(format!("line {:?}", line.id)));
    }
    if !has_at_most_dp(line.quantity, 4) {
        return Err(too_many("quantity", 4));
    }
    if !has_at_most_dp(line.unit_price, 6) {
        return Err(too_many("unit_price", 6));
    }
    if !has_at_most_dp(line.net_amount, 2) {
        return Err(too_many("net_amount", 2));
    }
    if line.unit_price < Decimal::ZERO {
        return Err(InvoiceError::NegativePrice(line.id.clone()));
    }
    let rate_ok = match line.vat_category {
        VatCategory::Standard => {
            line.vat_rate > Decimal::ZERO
                && FRENCH_VAT_RATES.contains(&line.vat_rate.normalize().to_string().as_str())
        }
        _ => line.vat_rate.is_zero(),
    };
    if !rate_ok {
        return Err(InvoiceError::InvalidRate {
            line: line.id.clone(),
            category: line.vat_category.code(),
            rate: line.vat_rate,
        });
    }
    Ok(())
}

/// "1234.5" -> "1 234,50 €": a narrow no-break space between thousands, a
/// decimal comma, as French readers expect on a pre-notification.
fn french_amount(amount: Decimal) -> String {
    let text = format_cents(amount);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (units, cents) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{cents}\u{a0}€")
}

/// A VAT rate as the French rules accept it (BR-FR-16: "20.00", "5.50", "0.00").
fn format_rate(rate: Decimal) -> String {
    let mut rate = rate.normalize();
    rate.rescale(2);
    rate.to_string()
}

fn date_102(date: Date) -> String {
    date.strftime("%Y%m%d").to_string()
}

/// Writes the CII XML (profile EN 16931, French rules) of a checked invoice.
///
/// The element order follows the Factur-X 1.09 EN 16931 XSD; the mandatory
/// French notes are generated here so that no invoice can leave without them:
/// PMT (the 40 euro recovery indemnity written out), PMD (penalty rate), AAB
/// (no discount), and BAR (B2B, or B2BINT for a buyer without SIREN).
pub fn to_cii_xml(invoice: &Invoice) -> Result<String, InvoiceError> {
    invoice.validate()?;
    let (breakdown, totals) = invoice.totals();
    let mut x = XmlOut::new();
    x.open(
        "rsm:CrossIndustryInvoice",
        &[
            ("xmlns:rsm", NS_RSM),
            ("xmlns:qdt", NS_QDT),
            ("xmlns:ram", NS_RAM),
            ("xmlns:udt", NS_UDT),
        ],
    );

    x.open("rsm:ExchangedDocumentContext", &[]);
    x.open("ram:BusinessProcessSpecifiedDocumentContextParameter", &[]);
    x.leaf("ram:ID", BILLING_FRAME_SERVICES);
    x.close("ram:BusinessProcessSpecifiedDocumentContextParameter");
    x.open("ram:GuidelineSpecifiedDocumentContextParameter", &[]);
    x.leaf("ram:ID", PROFILE_EN16931);
    x.close("ram:GuidelineSpecifiedDocumentContextParameter");
    x.close("rsm:ExchangedDocumentContext");

    x.open("rsm:ExchangedDocument", &[]);
    x.leaf("ram:ID", invoice.number.as_str());
    x.leaf("ram:TypeCode", invoice.kind.code());
    write_date(
        &mut x,
        "ram:IssueDateTime",
        "udt:DateTimeString",
        invoice.issue_date,
    );
    for (subject, content) in french_notes(invoice) {
        x.open("ram:IncludedNote", &[]);
        x.leaf("ram:Content", &content);
        x.leaf("ram:SubjectCode", subject);
        x.close("ram:IncludedNote");
    }
    x.close("rsm:ExchangedDocument");

    x.open("rsm:SupplyChainTradeTransaction", &[]);
    for line in &invoice.lines {
        write_line(&mut x, line);
    }

    x.open("ram:ApplicableHeaderTradeAgreement", &[]);
    write_party(&mut x, "ram:SellerTradeParty", &invoice.seller);
    write_party(&mut x, "ram:BuyerTradeParty", &invoice.buyer);
    if let Some(order) = &invoice.order_reference {
        x.open("ram:BuyerOrderReferencedDocument", &[]);
        x.leaf("ram:IssuerAssignedID", order);
        x.close("ram:BuyerOrderReferencedDocument");
    }
    x.close("ram:ApplicableHeaderTradeAgreement");

    // Services have no delivery: the XSD requires the element and allows it empty
    // (the schematron only warns, PEPPOL-EN16931-R008); a billing period is given instead.
    x.empty("ram:ApplicableHeaderTradeDelivery");

    x.open("ram:ApplicableHeaderTradeSettlement", &[]);
    x.leaf("ram:CreditorReferenceID", &invoice.creditor_id);
    x.leaf("ram:PaymentReference", invoice.number.as_str());
    x.leaf("ram:InvoiceCurrencyCode", CURRENCY);
    let PaymentMeans::SepaDirectDebit {
        mandate_reference,
        debtor_iban,
    } = &invoice.payment;
    x.open("ram:SpecifiedTradeSettlementPaymentMeans", &[]);
    x.leaf("ram:TypeCode", "59");
    x.open("ram:PayerPartyDebtorFinancialAccount", &[]);
    x.leaf("ram:IBANID", debtor_iban);
    x.close("ram:PayerPartyDebtorFinancialAccount");
    x.close("ram:SpecifiedTradeSettlementPaymentMeans");
    for row in &breakdown {
        let exemption = invoice
            .exemptions
            .iter()
            .find(|e| e.category == row.category);
        x.open("ram:ApplicableTradeTax", &[]);
        x.leaf("ram:CalculatedAmount", &format_cents(row.tax));
        x.leaf("ram:TypeCode", "VAT");
        if let Some(exemption) = exemption {
            x.leaf("ram:ExemptionReason", &exemption.reason);
        }
        x.leaf("ram:BasisAmount", &format_cents(row.basis));
        x.leaf("ram:CategoryCode", row.category.code());
        if let Some(code) = exemption.and_then(|e| e.code.as_deref()) {
            x.leaf("ram:ExemptionReasonCode", code);
        }
        x.leaf("ram:RateApplicablePercent", &format_rate(row.rate));
        x.close("ram:ApplicableTradeTax");
    }
    if let Some((start, end)) = invoice.period {
        write_period(&mut x, start, end);
    }
    x.open("ram:SpecifiedTradePaymentTerms", &[]);
    x.leaf("ram:Description", &invoice.payment_terms);
    write_date(
        &mut x,
        "ram:DueDateDateTime",
        "udt:DateTimeString",
        invoice.due_date,
    );
    x.leaf("ram:DirectDebitMandateID", mandate_reference);
    x.close("ram:SpecifiedTradePaymentTerms");
    x.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation", &[]);
    x.leaf("ram:LineTotalAmount", &format_cents(totals.lines));
    x.leaf("ram:TaxBasisTotalAmount", &format_cents(totals.tax_basis));
    x.leaf_with(
        "ram:TaxTotalAmount",
        &[("currencyID", CURRENCY)],
        &format_cents(totals.tax),
    );
    x.leaf("ram:GrandTotalAmount", &format_cents(totals.grand));
    x.leaf("ram:DuePayableAmount", &format_cents(totals.due));
    x.close("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
    if let InvoiceType::CreditNote {
        corrected,
        corrected_issue_date,
    } = &invoice.kind
    {
        x.open("ram:InvoiceReferencedDocument", &[]);
        x.leaf("ram:IssuerAssignedID", corrected.as_str());
        write_date(
            &mut x,
            "ram:FormattedIssueDateTime",
            "qdt:DateTimeString",
            *corrected_issue_date,
        );
        x.close("ram:InvoiceReferencedDocument");
    }
    x.close("ram:ApplicableHeaderTradeSettlement");
    x.close("rsm:SupplyChainTradeTransaction");
    x.close("rsm:CrossIndustryInvoice");
    Ok(x.finish())
}

/// The notes (BG-1) the French rules make mandatory, in a fixed order.
fn french_notes(invoice: &Invoice) -> Vec<(&'static str, String)> {
    let frame = if invoice.buyer.siren.is_some() {
        "B2B"
    } else {
        "B2BINT"
    };
    vec![
        ("BAR", frame.to_owned()),
        (
            "PMT",
            "En cas de retard de paiement, une indemnité forfaitaire pour frais de recouvrement \
             de quarante euros (40 €) est due (article L441-10 du Code de commerce)."
                .to_owned(),
        ),
        (
            "PMD",
            format!(
                "Pénalités de retard dues dès le lendemain de la date d'échéance : {}.",
                invoice.late_penalty_rate.trim().trim_end_matches('.')
            ),
        ),
        ("AAB", "Pas d'escompte pour paiement anticipé.".to_owned()),
    ]
}

fn write_date(x: &mut XmlOut, outer: &str, inner: &str, date: Date) {
    x.open(outer, &[]);
    x.leaf_with(inner, &[("format", "102")], &date_102(date));
    x.close(outer);
}

fn write_period(x: &mut XmlOut, start: Date, end: Date) {
    x.open("ram:BillingSpecifiedPeriod", &[]);
    write_date(x, "ram:StartDateTime", "udt:DateTimeString", start);
    write_date(x, "ram:EndDateTime", "udt:DateTimeString", end);
    x.close("ram:BillingSpecifiedPeriod");
}

fn write_party(x: &mut XmlOut, element: &str, party: &Party) {
    x.open(element, &[]);
    x.leaf("ram:Name", &party.name);
    if let Some(siren) = &party.siren {
        x.open("ram:SpecifiedLegalOrganization", &[]);
        x.leaf_with("ram:ID", &[("schemeID", SCHEME_SIREN)], siren);
        x.close("ram:SpecifiedLegalOrganization");
    }
    let address = &party.address;
    x.open("ram:PostalTradeAddress", &[]);
    x.leaf("ram:PostcodeCode", &address.post_code);
    x.leaf("ram:LineOne", &address.line_one());
    x.leaf("ram:CityName", &address.town);
    x.leaf("ram:CountryID", &address.country);
    x.close("ram:PostalTradeAddress");
    x.open("ram:URIUniversalCommunication", &[]);
    x.leaf_with(
        "ram:URIID",
        &[("schemeID", party.electronic_address.scheme.as_str())],
        &party.electronic_address.value,
    );
    x.close("ram:URIUniversalCommunication");
    if let Some(vat) = &party.vat_number {
        x.open("ram:SpecifiedTaxRegistration", &[]);
        x.leaf_with("ram:ID", &[("schemeID", "VA")], vat);
        x.close("ram:SpecifiedTaxRegistration");
    }
    x.close(element);
}

fn write_line(x: &mut XmlOut, line: &InvoiceLine) {
    x.open("ram:IncludedSupplyChainTradeLineItem", &[]);
    x.open("ram:AssociatedDocumentLineDocument", &[]);
    x.leaf("ram:LineID", &line.id);
    x.close("ram:AssociatedDocumentLineDocument");
    x.open("ram:SpecifiedTradeProduct", &[]);
    x.leaf("ram:Name", &line.name);
    x.close("ram:SpecifiedTradeProduct");
    x.open("ram:SpecifiedLineTradeAgreement", &[]);
    x.open("ram:NetPriceProductTradePrice", &[]);
    x.leaf("ram:ChargeAmount", &format_decimal(line.unit_price, 2));
    x.close("ram:NetPriceProductTradePrice");
    x.close("ram:SpecifiedLineTradeAgreement");
    x.open("ram:SpecifiedLineTradeDelivery", &[]);
    x.leaf_with(
        "ram:BilledQuantity",
        &[("unitCode", line.unit_code.as_str())],
        &format_decimal(line.quantity, 0),
    );
    x.close("ram:SpecifiedLineTradeDelivery");
    x.open("ram:SpecifiedLineTradeSettlement", &[]);
    x.open("ram:ApplicableTradeTax", &[]);
    x.leaf("ram:TypeCode", "VAT");
    x.leaf("ram:CategoryCode", line.vat_category.code());
    x.leaf("ram:RateApplicablePercent", &format_rate(line.vat_rate));
    x.close("ram:ApplicableTradeTax");
    x.open("ram:SpecifiedTradeSettlementLineMonetarySummation", &[]);
    x.leaf("ram:LineTotalAmount", &format_cents(line.net_amount));
    x.close("ram:SpecifiedTradeSettlementLineMonetarySummation");
    x.close("ram:SpecifiedLineTradeSettlement");
    x.close("ram:IncludedSupplyChainTradeLineItem");
}
