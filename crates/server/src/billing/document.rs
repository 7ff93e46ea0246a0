//! The Factur-X document of an invoice or credit note: the stored figures
//! mapped onto `ciel_documents::facturx::Invoice` with the seller of the
//! configuration and the buyer of the client's profile, rendered as a
//! PDF/A-3b in the client's language with its CII XML (R2.4, R2.7, R2.11).

use ciel_documents::facturx::{
    self, ElectronicAddress, Invoice, InvoiceLine, InvoiceNumber, InvoiceType, Party, PaymentMeans,
    PostalAddress, VatCategory, VatExemption,
};
use ciel_documents::pdf::{self, Lang as PdfLang};
use ciel_engine::Engine;
use ciel_store::clients::Profile;
use ciel_store::invoices::{DocLine, Rendering};
use ciel_store::orgs::Org;
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::config::SellerConfig;

/// Format of a number of the one sequence (R2.11): `F<year>-<n, 6 digits>`,
/// the year of issue for reading only: the counter never restarts.
pub fn number(year: i16, n: i64) -> String {
    format!("F{year:04}-{n:06}")
}

/// The buyer and payment parts of an invoice, from the client's profile;
/// an error names what the profile lacks (the run item fails with it).
#[derive(Debug, Clone)]
pub struct Buyer {
    pub party: Party,
    pub payment: PaymentMeans,
    pub category: VatCategory,
    pub vat_percent: Decimal,
    pub exemption: Option<VatExemption>,
}

/// The seller as the configuration describes it.
pub fn seller(s: &SellerConfig) -> Party {
    Party {
        name: s.name.clone(),
        siren: Some(s.siren.clone()),
        vat_number: Some(s.vat_number.clone()),
        address: PostalAddress {
            street: s.street_name.clone(),
            building_number: s.building_number.clone(),
            post_code: s.post_code.clone(),
            town: s.town.clone(),
            country: s.country.clone(),
        },
        electronic_address: ElectronicAddress::siren(&s.siren),
    }
}

/// The buyer of a client: its organisation's name, SIREN (from the SIRET,
/// else the organisation's) and VAT number, the profile's address, VAT
/// regime and SEPA mandate (R2.7).
pub fn buyer(org: &Org, profile: Option<&Profile>) -> Result<Buyer, String> {
    let p = profile.ok_or("no billing profile (R2.7: address, VAT regime and SEPA mandate)")?;
    let m = p
        .mandate
        .as_ref()
        .ok_or("no SEPA direct-debit mandate on the billing profile (R2.7)")?;
    if m.signed_on.trim().is_empty() {
        return Err("the SEPA mandate has no signature date (R2.7)".into());
    }
    if m.iban.trim().is_empty() {
        return Err("the SEPA mandate has no IBAN (R2.7)".into());
    }
    let siren = p
        .siret
        .as_deref()
        .map(|s| s.chars().take(9).collect::<String>())
        .or_else(|| org.siren.clone());
    let electronic_address = match &siren {
        Some(s) => ElectronicAddress::siren(s),
        None => ElectronicAddress {
            scheme: "EM".into(),
            value: p.billing_email.clone(),
        },
    };
    let rate = Decimal::from_str_exact(p.vat_rate.trim())
        .map_err(|e| format!("VAT rate {:?}: {e}", p.vat_rate))?;
    let mention = p.vat_mention.clone().unwrap_or_default();
    let (category, vat_percent, exemption) = match p.vat_regime.as_str() {
        "exempt" => (
            VatCategory::Exempt,
            Decimal::ZERO,
            Some(VatExemption {
                category: VatCategory::Exempt,
                reason: if mention.trim().is_empty() {
                    "Exonération de TVA".into()
                } else {
                    mention
                },
                code: None,
            }),
        ),
        "reverse_charge" => (
            VatCategory::ReverseCharge,
            Decimal::ZERO,
            Some(VatExemption {
                category: VatCategory::ReverseCharge,
                reason: if mention.trim().is_empty() {
                    "Autoliquidation - article 283-2 du CGI".into()
                } else {
                    mention
                },
                code: Some("VATEX-EU-AE".into()),
            }),
        ),
        _ if rate.is_zero() => (VatCategory::ZeroRated, Decimal::ZERO, None),
        _ => (VatCategory::Standard, rate, None),
    };
    Ok(Buyer {
        party: Party {
            name: org.name.clone(),
            siren,
            vat_number: org.vat_number.clone(),
            address: PostalAddress {
                street: p.street_name.clone(),
                building_number: p.building_number.clone(),
                post_code: p.post_code.clone(),
                town: p.town.clone(),
                country: p.country.clone(),
            },
            electronic_address,
        },
        payment: PaymentMeans::SepaDirectDebit {
            mandate_reference: m.reference.clone(),
            debtor_iban: m.iban.clone(),
        },
        category,
        vat_percent,
        exemption,
    })
}

/// The PMD note (R2.6, L441-10): the ECB rate in force at the start of the
/// half-year of `on` plus the margin points.
pub fn late_penalty_rate(engine: &Engine, on: Date) -> String {
    let lp = &engine.terms().late_payment;
    let h2 = on.month() >= 7;
    let reference = jiff::civil::date(on.year(), if h2 { 7 } else { 1 }, 1);
    match engine.ecb().rate_on(reference) {
        Some((_, ecb)) => format!(
            "taux de refinancement de la BCE en vigueur au {} ({} %) majoré de {} points, soit {} %",
            reference.strftime("%d/%m/%Y"),
            ecb.normalize(),
            lp.margin_points.0.normalize(),
            (ecb + lp.margin_points.0).normalize()
        ),
        None => format!(
            "taux de refinancement de la BCE majoré de {} points",
            lp.margin_points.0.normalize()
        ),
    }
}

/// The UN/ECE unit of a stored line.
fn unit_code(kind: &str) -> &'static str {
    match kind {
        "recurring" => "MON",
        "pro_rata" => "DAY",
        _ => "C62",
    }
}

/// A stored line as a Factur-X line: the sign goes on the quantity (BR-FR
/// forbids negative prices) and the unit price keeps 6 decimals at most.
pub fn facturx_line(l: &DocLine, buyer: &Buyer) -> Result<InvoiceLine, String> {
    let d = |f: &str, v: &str| Decimal::from_str_exact(v).map_err(|e| format!("line {f}: {e}"));
    let amount = d("amount", &l.amount)?;
    let mut quantity = d("quantity", &l.quantity)?;
    let mut price = ciel_engine::round_money_dp(d("unit_price", &l.unit_price)?.abs(), 6);
    if l.kind == "charge" || l.kind == "credit" {
        quantity = if amount < Decimal::ZERO {
            Decimal::NEGATIVE_ONE
        } else {
            Decimal::ONE
        };
        price = amount.abs();
    } else if amount < Decimal::ZERO && quantity > Decimal::ZERO {
        quantity = -quantity;
    }
    let name = match (&l.period_start, &l.period_end) {
        (Some(a), Some(b)) => format!("{} ({a} - {b})", l.label),
        _ => l.label.clone(),
    };
    Ok(InvoiceLine {
        id: l.position.to_string(),
        name,
        quantity,
        unit_code: unit_code(&l.kind).into(),
        unit_price: price,
        vat_category: buyer.category,
        vat_rate: buyer.vat_percent,
        net_amount: amount,
    })
}

/// What a document needs besides its lines.
pub struct Header<'a> {
    pub number: &'a str,
    pub kind: InvoiceType,
    pub issue_date: Date,
    pub due_date: Date,
    pub seller: &'a SellerConfig,
    pub buyer: &'a Buyer,
    pub order_reference: Option<String>,
    pub period: Option<(Date, Date)>,
    pub late_penalty_rate: String,
}

/// The Factur-X invoice of a header and its lines (validated when rendered).
pub fn facturx(h: &Header<'_>, lines: &[DocLine]) -> Result<Invoice, String> {
    let mut inv = Invoice {
        number: InvoiceNumber::new(h.number).map_err(|e| e.to_string())?,
        kind: h.kind.clone(),
        issue_date: h.issue_date,
        due_date: h.due_date,
        seller: seller(h.seller),
        creditor_id: h.seller.creditor_id.clone(),
        buyer: h.buyer.party.clone(),
        order_reference: h.order_reference.clone(),
        period: h.period,
        lines: lines
            .iter()
            .map(|l| facturx_line(l, h.buyer))
            .collect::<Result<_, _>>()?,
        exemptions: h.buyer.exemption.clone().into_iter().collect(),
        payment: h.buyer.payment.clone(),
        payment_terms: String::new(),
        late_penalty_rate: h.late_penalty_rate.clone(),
    };
    inv.payment_terms = inv.sepa_prenotification();
    Ok(inv)
}

/// The language of a PDF from its stored code.
pub fn pdf_lang(code: &str) -> PdfLang {
    if code == "en" {
        PdfLang::En
    } else {
        PdfLang::Fr
    }
}

/// Renders the PDF/A-3b with its XML; the invoice is validated first (an
/// invalid one yields the reason, never a document).
pub fn render(inv: &Invoice, lang: &str) -> Result<Rendering, String> {
    let xml = facturx::to_cii_xml(inv).map_err(|e| e.to_string())?;
    let pdf = pdf::invoice_pdf(inv, pdf_lang(lang)).map_err(|e| e.to_string())?;
    Ok(Rendering { pdf, xml })
}

/// Seller and buyer as written on the document (kept with it, R2.11).
pub fn parties_json(inv: &Invoice) -> String {
    let party = |p: &Party| {
        serde_json::json!({
            "name": p.name,
            "siren": p.siren,
            "vat_number": p.vat_number,
            "address": {
                "street": p.address.street,
                "building_number": p.address.building_number,
                "post_code": p.address.post_code,
                "town": p.address.town,
                "country": p.address.country,
            },
        })
    };
    let PaymentMeans::SepaDirectDebit {
        mandate_reference,
        debtor_iban,
    } = &inv.payment;
    serde_json::json!({
        "seller": party(&inv.seller),
        "buyer": party(&inv.buyer),
        "creditor_id": inv.creditor_id,
        "mandate_reference": mandate_reference,
        "debtor_iban": debtor_iban,
        "order_reference": inv.order_reference,
        "payment_terms": inv.payment_terms,
        "late_penalty_rate": inv.late_penalty_rate,
    })
    .to_string()
}
