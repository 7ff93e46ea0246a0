//! The invoice as a Factur-X PDF: a readable A4 invoice in French (or
//! English) that is also a PDF/A-3b file carrying the CII XML of
//! [`to_cii_xml`] as `factur-x.xml`, profile EN 16931.
//!
//! Why this shape: an e-invoicing platform reads the XML, a person reads the
//! pages, and both must say the same thing. So the figures on the pages come
//! from the same [`Invoice::totals`] as the XML, never from a second
//! computation, and the XML is embedded byte for byte.
//!
//! krilla 0.8 writes the PDF/A-3b file (XMP identification `pdfaid:part` 3,
//! `pdfaid:conformance` B, fonts embedded and subset, an sRGB output intent,
//! the attachment in `/EmbeddedFiles` and in the catalog's `/AF` array with
//! `/AFRelationship /Data` and MIME type `text/xml`). It cannot write custom
//! XMP, so [`add_facturx_xmp`] rewrites the metadata stream with lopdf to add
//! the Factur-X `fx:` schema and its PDF/A extension-schema description, which
//! PDF/A requires for any schema outside the predefined ones.
//!
//! Pure and deterministic: no clock (the document dates are the invoice's
//! issue date at midnight UTC), and krilla derives the document identifiers
//! from a hash of the content, so the same invoice gives the same bytes.
//! Text is set in DejaVu Sans (Bitstream Vera licence,
//! `fonts/LICENSE-DejaVu.txt`), embedded in the binary.

use jiff::civil::Date;
use krilla::Document;
use krilla::configure::{Archival, ConfigurationBuilder, PdfVersion, ValidationError};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{SerializeSettings, color::rgb};
use rust_decimal::Decimal;

use crate::facturx::{Invoice, InvoiceError, InvoiceType, PaymentMeans, VatCategory, to_cii_xml};
use crate::money::{format_cents, format_decimal};

pub(crate) const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The attachment name Factur-X readers look for.
pub const FACTURX_FILENAME: &str = "factur-x.xml";
/// The namespace of the Factur-X XMP extension schema (Factur-X 1.0x).
pub const FACTURX_XMP_NS: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

// A4 in PostScript points; krilla's origin is the top-left corner, y grows down.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const LEFT: f32 = 50.0;
const RIGHT: f32 = WIDTH - 50.0;
const TOP: f32 = 50.0;
/// Content stops here; the footer lives below.
const BOTTOM: f32 = HEIGHT - 60.0;

/// The language of the pages. The XML is the same in both: the French rules
/// want French notes, whatever the reader's language. ciel-documents depends on
/// no other ciel crate, so the server maps its own `Lang` onto this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

/// Why an invoice PDF could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The invoice itself is invalid: nothing is drawn for an invoice whose XML
    /// could not be written.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// The embedded font cannot be read (a build problem, not an input one).
    #[error("the embedded font cannot be read")]
    Font,
    /// A text uses characters DejaVu Sans cannot draw (e.g. CJK). PDF/A
    /// forbids the blank .notdef glyph, and an invoice with blanks in a name
    /// would not say what the XML says, so the PDF is refused: the text must
    /// be transliterated where it is entered.
    #[error("characters the invoice font cannot draw: {0:?}")]
    MissingGlyphs(String),
    /// krilla refused the document for another PDF/A rule (a layout bug).
    #[error("the PDF/A-3b document could not be written: {0}")]
    Pdf(String),
    /// The metadata post-processing failed.
    #[error("the Factur-X metadata could not be added: {0}")]
    Metadata(String),
}

/// Renders the invoice as a Factur-X (EN 16931) PDF/A-3b in `lang`.
///
/// The XML is produced (and the invoice validated) first, so an invoice the
/// official rules would refuse never becomes a PDF either.
pub fn invoice_pdf(invoice: &Invoice, lang: Lang) -> Result<Vec<u8>, PdfError> {
    let xml = to_cii_xml(invoice)?;
    let fonts = Fonts::get()?;
    let pages = layout(invoice, lang, fonts);
    let raw = render(invoice, lang, fonts, &pages, xml.into_bytes())?;
    add_facturx_xmp(&raw)
}

/// The legal mentions printed under the totals, in the order they appear.
/// Exposed so that tests (and the e-mail) can check the very text printed.
pub fn mentions(invoice: &Invoice, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for exemption in &invoice.exemptions {
        out.push(exemption.reason.clone());
    }
    let rate = invoice.late_penalty_rate.trim().trim_end_matches('.');
    // A credit note is refunded or set off, never debited: announcing a
    // direct debit on it would tell the client the wrong thing (R2.7 concerns
    // the debits of invoices).
    let debited = matches!(invoice.kind, InvoiceType::Invoice);
    match lang {
        Lang::Fr => {
            if debited {
                out.push(invoice.sepa_prenotification());
            }
            out.push(format!(
                "Pénalités de retard dues dès le lendemain de la date d'échéance : {rate}."
            ));
            out.push(
                "En cas de retard de paiement, une indemnité forfaitaire pour frais de \
                 recouvrement de 40 euros est due (article L441-10 du Code de commerce)."
                    .to_owned(),
            );
            out.push("Pas d'escompte pour paiement anticipé.".to_owned());
            out.push("Prestations de services.".to_owned());
        }
        Lang::En => {
            let PaymentMeans::SepaDirectDebit {
                mandate_reference, ..
            } = &invoice.payment;
            if debited {
                out.push(format!(
                    "SEPA direct debit of {} on {} under mandate {} (creditor identifier {}).",
                    amount(invoice.totals().1.due, lang),
                    date(invoice.due_date, lang),
                    mandate_reference,
                    invoice.creditor_id,
                ));
            }
            out.push(format!(
                "Late-payment penalties are due from the day after the due date: {rate}."
            ));
            out.push(
                "In case of late payment, a fixed indemnity for recovery costs of 40 euros is \
                 due (article L441-10 of the French Commercial Code)."
                    .to_owned(),
            );
            out.push("No discount for early payment.".to_owned());
            out.push("Supply of services.".to_owned());
        }
    }
    out
}

pub(crate) struct Fonts {
    pub(crate) regular: Font,
    bold: Font,
    regular_face: ttf_parser::Face<'static>,
    bold_face: ttf_parser::Face<'static>,
}

impl Fonts {
    /// The two faces, parsed once per process: every invoice of a billing
    /// run draws with the same fonts (krilla still subsets them per file).
    pub(crate) fn get() -> Result<&'static Self, PdfError> {
        static FONTS: std::sync::OnceLock<Option<Fonts>> = std::sync::OnceLock::new();
        FONTS
            .get_or_init(|| Self::load().ok())
            .as_ref()
            .ok_or(PdfError::Font)
    }

    fn load() -> Result<Self, PdfError> {
        Ok(Self {
            regular: Font::new(REGULAR.into(), 0).ok_or(PdfError::Font)?,
            bold: Font::new(BOLD.into(), 0).ok_or(PdfError::Font)?,
            regular_face: ttf_parser::Face::parse(REGULAR, 0).map_err(|_| PdfError::Font)?,
            bold_face: ttf_parser::Face::parse(BOLD, 0).map_err(|_| PdfError::Font)?,
        })
    }

    /// Width of `text` in points: the sum of the glyph advances, as
    /// [`Fonts::glyphs`] draws them.
    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let units: u32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0, u32::from)
            })
            .sum();
        units as f32 * size / f32::from(face.units_per_em())
    }

    /// The glyphs of `text`, one per character, advanced by the font's
    /// horizontal metrics: the same measure as [`Fonts::width`], so what is
    /// right-aligned ends where it should. Invoices are Latin text that needs
    /// no shaping, and skipping a shaper (which parses the whole font again
    /// for every string) divides the cost of a page. A character the font
    /// lacks becomes glyph 0, which PDF/A validation refuses as .notdef.
    pub(crate) fn glyphs(&self, text: &str, bold: bool) -> Vec<KrillaGlyph> {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let upem = f32::from(face.units_per_em());
        text.char_indices()
            .map(|(i, c)| {
                let g = face.glyph_index(c);
                let advance = g.and_then(|g| face.glyph_hor_advance(g)).unwrap_or(0);
                KrillaGlyph::new(
                    GlyphId::new(u32::from(g.map_or(0, |g| g.0))),
                    f32::from(advance) / upem,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }

    /// Greedy word wrap to `max` points; a word longer than a line is cut.
    fn wrap(&self, text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if self.width(&candidate, size, bold) <= max {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if self.width(&piece, size, bold) > max {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            current = piece;
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        lines
    }
}

#[derive(Debug, Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// One drawing instruction; the layout is computed first so that the footer
/// can say "page i / n".
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        align: Align,
        text: String,
    },
    /// A filled rectangle in a shade of grey (rules and table headers).
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        grey: u8,
    },
}

/// The words of the pages.
struct Words {
    invoice: &'static str,
    credit_note: &'static str,
    number: &'static str,
    issue_date: &'static str,
    due_date: &'static str,
    order: &'static str,
    period: &'static str,
    corrects: &'static str,
    bill_to: &'static str,
    siren: &'static str,
    vat_number: &'static str,
    description: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    vat_rate: &'static str,
    amount: &'static str,
    vat_breakdown: &'static str,
    rate: &'static str,
    basis: &'static str,
    vat: &'static str,
    total_excl: &'static str,
    total_vat: &'static str,
    total_incl: &'static str,
    due: &'static str,
    credited: &'static str,
    page: &'static str,
    continued: &'static str,
    reverse_charge: &'static str,
    exempt: &'static str,
    facturx: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Fr => Words {
            invoice: "FACTURE",
            credit_note: "AVOIR",
            number: "N°",
            issue_date: "Date",
            due_date: "Échéance",
            order: "Commande",
            period: "Période",
            corrects: "Facture corrigée",
            bill_to: "Facturé à",
            siren: "SIREN",
            vat_number: "N° TVA",
            description: "Désignation",
            quantity: "Qté",
            unit_price: "PU HT",
            vat_rate: "TVA",
            amount: "Montant HT",
            vat_breakdown: "Détail de la TVA",
            rate: "Taux",
            basis: "Base HT",
            vat: "TVA",
            total_excl: "Total HT",
            total_vat: "Total TVA",
            total_incl: "Total TTC",
            due: "Net à payer",
            credited: "Montant de l'avoir",
            page: "page",
            continued: "suite",
            reverse_charge: "autoliquidation",
            exempt: "exonéré",
            facturx: "Facture électronique Factur-X (EN 16931) : le fichier factur-x.xml joint fait foi.",
        },
        Lang::En => Words {
            invoice: "INVOICE",
            credit_note: "CREDIT NOTE",
            number: "No.",
            issue_date: "Date",
            due_date: "Due date",
            order: "Order",
            period: "Period",
            corrects: "Corrected invoice",
            bill_to: "Bill to",
            siren: "SIREN",
            vat_number: "VAT no.",
            description: "Description",
            quantity: "Qty",
            unit_price: "Unit price",
            vat_rate: "VAT",
            amount: "Net amount",
            vat_breakdown: "VAT breakdown",
            rate: "Rate",
            basis: "Basis",
            vat: "VAT",
            total_excl: "Total excl. VAT",
            total_vat: "Total VAT",
            total_incl: "Total incl. VAT",
            due: "Amount due",
            credited: "Amount credited",
            page: "page",
            continued: "continued",
            reverse_charge: "reverse charge",
            exempt: "exempt",
            facturx: "Factur-X electronic invoice (EN 16931): the attached factur-x.xml file is authoritative.",
        },
    }
}

fn date(d: Date, lang: Lang) -> String {
    match lang {
        Lang::Fr => d.strftime("%d/%m/%Y").to_string(),
        Lang::En => d.strftime("%d %b %Y").to_string(),
    }
}

/// Groups the integer digits by three with `sep`.
fn group(units: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A decimal as its reader writes it: "1 234,5" in French, "1,234.5" in English.
fn number(text: &str, lang: Lang) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (units, decimals) = match digits.split_once('.') {
        Some((u, d)) => (u, Some(d)),
        None => (digits, None),
    };
    let (sep, point) = match lang {
        Lang::Fr => ('\u{a0}', ','),
        Lang::En => (',', '.'),
    };
    let mut out = format!("{sign}{}", group(units, sep));
    if let Some(d) = decimals {
        out.push(point);
        out.push_str(d);
    }
    out
}

/// An amount to the cent with the euro sign, rounded as the XML is.
fn amount(value: Decimal, lang: Lang) -> String {
    format!("{}\u{a0}€", number(&format_cents(value), lang))
}

fn rate(value: Decimal, lang: Lang) -> String {
    format!(
        "{}\u{a0}%",
        number(&format_decimal(value.normalize(), 0), lang)
    )
}

fn unit(code: &str, lang: Lang) -> String {
    let name = match (code, lang) {
        ("MON", Lang::Fr) => "mois",
        ("MON", Lang::En) => "month",
        ("DAY", Lang::Fr) => "jour",
        ("DAY", Lang::En) => "day",
        ("HUR", _) => "h",
        ("C62", _) | ("H87", _) => "",
        _ => code,
    };
    name.to_owned()
}

// Columns of the lines table (right edges for the numbers).
const COL_QTY: f32 = 330.0;
const COL_PRICE: f32 = 405.0;
const COL_RATE: f32 = 450.0;
const DESC_WIDTH: f32 = 215.0;
const ROW: f32 = 13.0;

/// Lays the invoice out on as many pages as its lines need.
fn layout(invoice: &Invoice, lang: Lang, fonts: &Fonts) -> Vec<Vec<Op>> {
    let w = words(lang);
    let (breakdown, totals) = invoice.totals();
    let mut pages: Vec<Vec<Op>> = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    let text = |ops: &mut Vec<Op>, x, y, size, bold, align, t: String| {
        ops.push(Op::Text {
            x,
            y,
            size,
            bold,
            align,
            text: t,
        });
    };

    // Seller, top left.
    let seller = &invoice.seller;
    let mut y = TOP + 14.0;
    text(
        &mut ops,
        LEFT,
        y,
        15.0,
        true,
        Align::Left,
        seller.name.clone(),
    );
    y += 16.0;
    for line in party_lines(seller, &w) {
        text(&mut ops, LEFT, y, 9.0, false, Align::Left, line);
        y += 12.0;
    }

    // Title and references, top right.
    let title = match invoice.kind {
        InvoiceType::Invoice => w.invoice,
        InvoiceType::CreditNote { .. } => w.credit_note,
    };
    let mut ry = TOP + 14.0;
    text(
        &mut ops,
        RIGHT,
        ry,
        18.0,
        true,
        Align::Right,
        title.to_owned(),
    );
    ry += 20.0;
    let mut refs = vec![
        (w.number, invoice.number.as_str().to_owned()),
        (w.issue_date, date(invoice.issue_date, lang)),
        (w.due_date, date(invoice.due_date, lang)),
    ];
    if let Some(order) = &invoice.order_reference {
        refs.push((w.order, order.clone()));
    }
    if let Some((start, end)) = invoice.period {
        refs.push((
            w.period,
            format!("{} – {}", date(start, lang), date(end, lang)),
        ));
    }
    if let InvoiceType::CreditNote {
        corrected,
        corrected_issue_date,
    } = &invoice.kind
    {
        refs.push((
            w.corrects,
            format!(
                "{} ({})",
                corrected.as_str(),
                date(*corrected_issue_date, lang)
            ),
        ));
    }
    // Labels are right-aligned against the widest value, so a long value (a
    // corrected invoice with its date) never runs into its label.
    let widest = refs
        .iter()
        .map(|(_, value)| fonts.width(value, 9.0, true))
        .fold(120.0_f32, f32::max);
    for (label, value) in refs {
        text(
            &mut ops,
            RIGHT - widest - 8.0,
            ry,
            9.0,
            false,
            Align::Right,
            format!("{label} :"),
        );
        text(&mut ops, RIGHT, ry, 9.0, true, Align::Right, value);
        ry += 12.0;
    }

    // Buyer, in a box on the right (where a window envelope shows it).
    let bx = 310.0;
    let by = y.max(ry) + 14.0;
    let buyer = &invoice.buyer;
    let mut buyer_lines = vec![(true, buyer.name.clone())];
    buyer_lines.extend(party_lines(buyer, &w).into_iter().map(|l| (false, l)));
    let box_h = 22.0 + 12.0 * buyer_lines.len() as f32;
    ops.push(Op::Rect {
        x: bx,
        y: by,
        w: RIGHT - bx,
        h: box_h,
        grey: 240,
    });
    let mut yy = by + 13.0;
    text(
        &mut ops,
        bx + 8.0,
        yy,
        8.0,
        false,
        Align::Left,
        w.bill_to.to_owned(),
    );
    yy += 13.0;
    for (bold, line) in buyer_lines {
        text(&mut ops, bx + 8.0, yy, 9.5, bold, Align::Left, line);
        yy += 12.0;
    }
    y = by + box_h + 28.0;

    // Lines.
    let header = |ops: &mut Vec<Op>, y: f32| -> f32 {
        ops.push(Op::Rect {
            x: LEFT,
            y: y - 11.0,
            w: RIGHT - LEFT,
            h: 16.0,
            grey: 220,
        });
        let cells = [
            (LEFT + 4.0, Align::Left, w.description),
            (COL_QTY, Align::Right, w.quantity),
            (COL_PRICE, Align::Right, w.unit_price),
            (COL_RATE, Align::Right, w.vat_rate),
            (RIGHT - 4.0, Align::Right, w.amount),
        ];
        for (x, align, label) in cells {
            ops.push(Op::Text {
                x,
                y,
                size: 8.5,
                bold: true,
                align,
                text: label.to_owned(),
            });
        }
        y + 18.0
    };
    y = header(&mut ops, y);
    for line in &invoice.lines {
        let desc = fonts.wrap(&line.name, 9.0, false, DESC_WIDTH);
        let needed = ROW * desc.len() as f32 + 4.0;
        if y + needed > BOTTOM {
            pages.push(std::mem::take(&mut ops));
            y = TOP + 14.0;
            text(
                &mut ops,
                LEFT,
                y,
                10.0,
                true,
                Align::Left,
                format!("{title} {} ({})", invoice.number.as_str(), w.continued),
            );
            y = header(&mut ops, y + 26.0);
        }
        let qty = format!(
            "{} {}",
            number(&format_decimal(line.quantity, 0), lang),
            unit(&line.unit_code, lang)
        );
        // The column is narrow: exempt and reverse-charged lines show their
        // category code, which the breakdown and the mention below spell out.
        let vat = match line.vat_category {
            VatCategory::ReverseCharge => "AE".to_owned(),
            VatCategory::Exempt => "E".to_owned(),
            _ => rate(line.vat_rate, lang),
        };
        let cells = [
            (COL_QTY, qty.trim_end().to_owned()),
            (COL_PRICE, number(&format_decimal(line.unit_price, 2), lang)),
            (COL_RATE, vat),
            (RIGHT - 4.0, amount(line.net_amount, lang)),
        ];
        for (x, cell) in cells {
            text(&mut ops, x, y, 9.0, false, Align::Right, cell);
        }
        for (i, part) in desc.into_iter().enumerate() {
            text(
                &mut ops,
                LEFT + 4.0,
                y + ROW * i as f32,
                9.0,
                false,
                Align::Left,
                part,
            );
        }
        y += needed;
        ops.push(Op::Rect {
            x: LEFT,
            y: y - 10.0,
            w: RIGHT - LEFT,
            h: 0.4,
            grey: 200,
        });
    }

    // VAT breakdown (left) and totals (right): kept together on one page.
    let block = 30.0 + ROW * (breakdown.len().max(4) as f32 + 1.0);
    if y + block > BOTTOM {
        pages.push(std::mem::take(&mut ops));
        y = TOP + 14.0;
    }
    y += 12.0;
    let top = y;
    text(
        &mut ops,
        LEFT,
        y,
        9.0,
        true,
        Align::Left,
        w.vat_breakdown.to_owned(),
    );
    y += ROW + 2.0;
    for (x, align, label) in [
        (LEFT, Align::Left, w.rate),
        (LEFT + 175.0, Align::Right, w.basis),
        (LEFT + 255.0, Align::Right, w.vat),
    ] {
        text(&mut ops, x, y, 8.5, true, align, label.to_owned());
    }
    y += ROW;
    for row in &breakdown {
        let label = match row.category {
            VatCategory::Standard => rate(row.rate, lang),
            VatCategory::ZeroRated => format!("{} (Z)", rate(row.rate, lang)),
            VatCategory::Exempt => format!("{} (E)", w.exempt),
            VatCategory::ReverseCharge => format!("{} (AE)", w.reverse_charge),
        };
        text(&mut ops, LEFT, y, 9.0, false, Align::Left, label);
        text(
            &mut ops,
            LEFT + 175.0,
            y,
            9.0,
            false,
            Align::Right,
            amount(row.basis, lang),
        );
        text(
            &mut ops,
            LEFT + 255.0,
            y,
            9.0,
            false,
            Align::Right,
            amount(row.tax, lang),
        );
        y += ROW;
    }
    // A credit note is not paid by the client: its last line says what is
    // credited, not what is due.
    let due_label = match invoice.kind {
        InvoiceType::Invoice => w.due,
        InvoiceType::CreditNote { .. } => w.credited,
    };
    let mut ty = top;
    let total_rows = [
        (w.total_excl, totals.tax_basis, false),
        (w.total_vat, totals.tax, false),
        (w.total_incl, totals.grand, false),
        (due_label, totals.due, true),
    ];
    for (label, value, strong) in total_rows {
        if strong {
            ops.push(Op::Rect {
                x: 330.0,
                y: ty - 12.0,
                w: RIGHT - 330.0,
                h: 18.0,
                grey: 225,
            });
        }
        let size = if strong { 10.5 } else { 9.5 };
        text(
            &mut ops,
            338.0,
            ty,
            size,
            strong,
            Align::Left,
            label.to_owned(),
        );
        text(
            &mut ops,
            RIGHT - 4.0,
            ty,
            size,
            strong,
            Align::Right,
            amount(value, lang),
        );
        ty += ROW + 3.0;
    }
    y = y.max(ty) + 16.0;

    // Mentions, wrapped to the page width.
    let mut paragraphs = mentions(invoice, lang);
    paragraphs.push(w.facturx.to_owned());
    for paragraph in paragraphs {
        let lines = fonts.wrap(&paragraph, 8.5, false, RIGHT - LEFT);
        if y + 11.0 * lines.len() as f32 > BOTTOM {
            pages.push(std::mem::take(&mut ops));
            y = TOP + 14.0;
        }
        for line in lines {
            text(&mut ops, LEFT, y, 8.5, false, Align::Left, line);
            y += 11.0;
        }
        y += 3.0;
    }
    pages.push(ops);

    // Footer: who, which invoice, page i / n.
    let count = pages.len();
    let footer = format!(
        "{} · {} {} · {} {} · {}",
        seller.name,
        w.siren,
        seller.siren.as_deref().unwrap_or(""),
        w.vat_number,
        seller.vat_number.as_deref().unwrap_or(""),
        invoice.number.as_str(),
    );
    for (i, page) in pages.iter_mut().enumerate() {
        page.push(Op::Rect {
            x: LEFT,
            y: HEIGHT - 45.0,
            w: RIGHT - LEFT,
            h: 0.5,
            grey: 160,
        });
        page.push(Op::Text {
            x: LEFT,
            y: HEIGHT - 33.0,
            size: 7.5,
            bold: false,
            align: Align::Left,
            text: footer.clone(),
        });
        page.push(Op::Text {
            x: RIGHT,
            y: HEIGHT - 33.0,
            size: 7.5,
            bold: false,
            align: Align::Right,
            text: format!("{} {}/{count}", w.page, i + 1),
        });
    }
    pages
}

/// The address and identifiers of a party, one printed line each.
fn party_lines(party: &crate::facturx::Party, w: &Words) -> Vec<String> {
    let a = &party.address;
    let street = match &a.building_number {
        Some(n) if !n.trim().is_empty() => format!("{} {}", n.trim(), a.street),
        _ => a.street.clone(),
    };
    let mut lines = vec![street, format!("{} {}", a.post_code, a.town)];
    if a.country != "FR" {
        lines.push(a.country.clone());
    }
    if let Some(siren) = &party.siren {
        lines.push(format!("{} {siren}", w.siren));
    }
    if let Some(vat) = &party.vat_number {
        lines.push(format!("{} {vat}", w.vat_number));
    }
    lines
}

fn pdf_date(d: Date) -> DateTime {
    // Years before 0 or after 65535 cannot be a jiff civil date of an invoice
    // anyway; month and day always fit.
    DateTime::new(u16::try_from(d.year()).unwrap_or(0))
        .month(d.month().unsigned_abs())
        .day(d.day().unsigned_abs())
        .hour(0)
        .minute(0)
        .second(0)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

fn render(
    invoice: &Invoice,
    lang: Lang,
    fonts: &Fonts,
    pages: &[Vec<Op>],
    xml: Vec<u8>,
) -> Result<Vec<u8>, PdfError> {
    let configuration = ConfigurationBuilder::new()
        .with_version(PdfVersion::Pdf17)
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let issued = pdf_date(invoice.issue_date);
    let w = words(lang);
    let title = match invoice.kind {
        InvoiceType::Invoice => w.invoice,
        InvoiceType::CreditNote { .. } => w.credit_note,
    };
    document.set_metadata(
        Metadata::new()
            .title(format!("{title} {}", invoice.number.as_str()))
            .authors(vec![invoice.seller.name.clone()])
            .language(
                match lang {
                    Lang::Fr => "fr-FR",
                    Lang::En => "en-GB",
                }
                .to_owned(),
            )
            .creator("ciel".to_owned())
            .producer("ciel (krilla)".to_owned())
            .creation_date(issued)
            // Stable per invoice: the same invoice in another language is the
            // same document, only its rendering differs.
            .document_id(invoice.number.as_str().to_owned()),
    );
    document
        .embed_file(EmbeddedFile {
            path: FACTURX_FILENAME.to_owned(),
            mime_type: MimeType::new("text/xml"),
            description: Some("Factur-X invoice (CII, EN 16931)".to_owned()),
            association_kind: AssociationKind::Data,
            data: xml.into(),
            modification_date: Some(issued),
            compress: Some(true),
            location: None,
        })
        .ok_or_else(|| PdfError::Pdf("factur-x.xml embedded twice".to_owned()))?;

    for ops in pages {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT)
            .ok_or_else(|| PdfError::Pdf("bad page size".to_owned()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, fonts, op);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|error| match error {
        KrillaError::Validation(errors) => {
            let missing: String = errors
                .iter()
                .filter_map(|(e, _)| match e {
                    ValidationError::ContainsNotDefGlyph(_, _, text) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            if missing.is_empty() {
                PdfError::Pdf(format!("{errors:?}"))
            } else {
                PdfError::MissingGlyphs(missing)
            }
        }
        other => PdfError::Pdf(format!("{other:?}")),
    })
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            align,
            text,
        } => {
            if text.is_empty() {
                return;
            }
            let x = match align {
                Align::Left => *x,
                Align::Right => *x - fonts.width(text, *size, *bold),
            };
            let font = if *bold {
                fonts.bold.clone()
            } else {
                fonts.regular.clone()
            };
            surface.set_fill(None);
            surface.draw_glyphs(
                Point::from_xy(x, *y),
                &fonts.glyphs(text, *bold),
                font,
                text,
                *size,
                false,
            );
        }
        Op::Rect { x, y, w, h, grey } => {
            let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                return;
            };
            let mut builder = PathBuilder::new();
            builder.push_rect(rect);
            if let Some(path) = builder.finish() {
                surface.set_fill(Some(Fill {
                    paint: rgb::Color::new(*grey, *grey, *grey).into(),
                    ..Fill::default()
                }));
                surface.draw_path(&path);
                surface.set_fill(None);
            }
        }
    }
}

/// The PDF/A extension-schema description of the `fx:` properties (one
/// `rdf:li` of `pdfaExtension:schemas`). PDF/A validators reject XMP
/// properties whose schema is not described this way.
fn facturx_schema_description() -> String {
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name>\
             <pdfaProperty:valueType>Text</pdfaProperty:valueType>\
             <pdfaProperty:category>external</pdfaProperty:category>\
             <pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        )
    };
    format!(
        "<rdf:li rdf:parseType=\"Resource\">\
         <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\
         <pdfaSchema:namespaceURI>{FACTURX_XMP_NS}</pdfaSchema:namespaceURI>\
         <pdfaSchema:prefix>fx</pdfaSchema:prefix>\
         <pdfaSchema:property><rdf:Seq>{}{}{}{}</rdf:Seq></pdfaSchema:property></rdf:li>",
        property("DocumentFileName", "The name of the embedded XML document"),
        property(
            "DocumentType",
            "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"
        ),
        property(
            "Version",
            "The actual version of the standard applying to the embedded XML document"
        ),
        property(
            "ConformanceLevel",
            "The conformance level of the embedded XML document"
        ),
    )
}

/// The `fx:` values of a Factur-X 1.0x EN 16931 invoice.
fn facturx_values() -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:fx=\"{FACTURX_XMP_NS}\">\
         <fx:DocumentType>INVOICE</fx:DocumentType>\
         <fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName>\
         <fx:Version>1.0</fx:Version>\
         <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>\
         </rdf:Description>"
    )
}

/// Inserts the `fx:` schema into an XMP packet. krilla already writes a
/// `pdfaExtension:schemas` bag (for `xmpMM` and `pdf`): the Factur-X schema
/// joins that bag, because a second `pdfaExtension:schemas` property on the
/// same resource would be a duplicate property, which XMP forbids.
fn insert_facturx_xmp(xmp: &str) -> Result<String, PdfError> {
    const BAG_END: &str = "</rdf:Bag></pdfaExtension:schemas>";
    let Some(rdf_end) = xmp.rfind("</rdf:RDF>") else {
        return Err(PdfError::Metadata("no </rdf:RDF> in the XMP".to_owned()));
    };
    let (with_schema, rdf_end) = match xmp.find(BAG_END) {
        Some(at) => {
            let schema = facturx_schema_description();
            (
                format!("{}{schema}{}", &xmp[..at], &xmp[at..]),
                rdf_end + schema.len(),
            )
        }
        None => {
            let description = format!(
                "<rdf:Description rdf:about=\"\" \
                 xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" \
                 xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" \
                 xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\
                 <pdfaExtension:schemas><rdf:Bag>{}</rdf:Bag></pdfaExtension:schemas>\
                 </rdf:Description>",
                facturx_schema_description()
            );
            (
                format!("{}{description}{}", &xmp[..rdf_end], &xmp[rdf_end..]),
                rdf_end + description.len(),
            )
        }
    };
    Ok(format!(
        "{}{}{}",
        &with_schema[..rdf_end],
        facturx_values(),
        &with_schema[rdf_end..]
    ))
}

/// Adds the Factur-X schema to the XMP metadata of a krilla PDF.
///
/// The metadata stream is left unfiltered, as PDF/A wants it readable by
/// tools that do not parse PDF. lopdf writes the objects back in a fixed
/// order, so the output stays deterministic.
fn add_facturx_xmp(pdf: &[u8]) -> Result<Vec<u8>, PdfError> {
    let err = |e: lopdf::Error| PdfError::Metadata(e.to_string());
    let mut doc = lopdf::Document::load_mem(pdf).map_err(err)?;
    let metadata_ref = doc
        .catalog()
        .map_err(err)?
        .get(b"Metadata")
        .and_then(lopdf::Object::as_reference)
        .map_err(err)?;
    let stream = doc
        .get_object_mut(metadata_ref)
        .and_then(lopdf::Object::as_stream_mut)
        .map_err(err)?;
    if stream.dict.has(b"Filter") {
        return Err(PdfError::Metadata(
            "the XMP stream is compressed; expected it plain".to_owned(),
        ));
    }
    let xmp = String::from_utf8(stream.content.clone())
        .map_err(|_| PdfError::Metadata("the XMP packet is not UTF-8".to_owned()))?;
    let rewritten = insert_facturx_xmp(&xmp)?;
    stream.set_content(rewritten.into_bytes());
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| PdfError::Metadata(e.to_string()))?;
    Ok(out)
}
