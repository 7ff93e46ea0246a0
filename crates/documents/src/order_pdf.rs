//! The order (Bon de Commande) as a PDF, attached to the "order sent"
//! e-mail (R1.3): one A4 layout in the recipient's language with the
//! parties, the terms version the order is pinned to (R1.2), the acceptance
//! deadline, the lines with their prices excluding VAT and the totals. Set in
//! the invoice's DejaVu Sans, subset by krilla.

use crate::pdf::{Fonts, Lang, PdfError};
use krilla::Document;
use krilla::geom::Point;
use krilla::page::PageSettings;
use rust_decimal::Decimal;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const LEADING: f32 = 15.0;

/// One line of the order, as printed.
#[derive(Debug, Clone)]
pub struct OrderSheetLine {
    /// What is ordered, with its parameters.
    pub description: String,
    pub quantity: i64,
    /// Monthly fee of one unit, EUR excluding VAT.
    pub unit_price: Decimal,
    /// One-time fee of one unit, EUR excluding VAT.
    pub setup_fee: Decimal,
    pub commitment_months: i64,
}

/// An order, as printed.
#[derive(Debug, Clone)]
pub struct OrderSheet<'a> {
    pub reference: &'a str,
    pub provider: &'a str,
    pub client: &'a str,
    /// `YYYY-MM-DD`.
    pub order_date: &'a str,
    pub terms_version: &'a str,
    /// The acceptance deadline, formatted in Paris time.
    pub deadline: &'a str,
    pub lines: &'a [OrderSheetLine],
    pub lang: Lang,
}

fn words(lang: Lang) -> [&'static str; 10] {
    match lang {
        Lang::Fr => [
            "Bon de commande",
            "Fournisseur",
            "Client",
            "Date de commande",
            "Conditions applicables",
            "À accepter avant le",
            "Total mensuel HT",
            "Frais uniques HT",
            "mois",
            "EUR HT / mois, mise en service",
        ],
        Lang::En => [
            "Order",
            "Provider",
            "Client",
            "Order date",
            "Terms",
            "Accept before",
            "Monthly total excl. VAT",
            "One-time fees excl. VAT",
            "months",
            "EUR excl. VAT / month, setup",
        ],
    }
}

/// Monthly and one-time totals of the lines.
pub fn order_totals(lines: &[OrderSheetLine]) -> (Decimal, Decimal) {
    lines
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(m, o), l| {
            let q = Decimal::from(l.quantity);
            (m + l.unit_price * q, o + l.setup_fee * q)
        })
}

/// Renders the order.
pub fn order_pdf(sheet: &OrderSheet<'_>) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::get()?;
    let w = words(sheet.lang);
    let (monthly, one_time) = order_totals(sheet.lines);
    let mut text: Vec<(f32, String)> = vec![
        (18.0, format!("{} {}", w[0], sheet.reference)),
        (11.0, String::new()),
        (11.0, format!("{} : {}", w[1], sheet.provider)),
        (11.0, format!("{} : {}", w[2], sheet.client)),
        (11.0, format!("{} : {}", w[3], sheet.order_date)),
        (11.0, format!("{} : {}", w[4], sheet.terms_version)),
        (11.0, format!("{} : {}", w[5], sheet.deadline)),
        (11.0, String::new()),
    ];
    for (i, l) in sheet.lines.iter().enumerate() {
        text.push((
            10.0,
            format!("{}. {} x {}", i + 1, l.quantity, l.description),
        ));
        text.push((
            10.0,
            format!(
                "    {} {} {} EUR, {} {}",
                l.unit_price.normalize(),
                w[9],
                l.setup_fee.normalize(),
                l.commitment_months,
                w[8]
            ),
        ));
    }
    text.push((11.0, String::new()));
    text.push((11.0, format!("{} : {} EUR", w[6], monthly.normalize())));
    text.push((11.0, format!("{} : {} EUR", w[7], one_time.normalize())));

    let mut document = Document::new();
    let per_page = ((HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    for chunk in text.chunks(per_page.max(1)) {
        let settings =
            PageSettings::from_wh(WIDTH, HEIGHT).ok_or(PdfError::Pdf("bad page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let mut y = MARGIN;
        for (size, line) in chunk {
            y += LEADING;
            if line.is_empty() {
                continue;
            }
            // Long lines are cut rather than run off the page.
            let shown: String = line.chars().take(95).collect();
            surface.draw_glyphs(
                Point::from_xy(MARGIN, y),
                &fonts.glyphs(&shown, false),
                fonts.regular.clone(),
                &shown,
                *size,
                false,
            );
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_renders_as_a_small_pdf_with_a_subset_font() {
        let line = OrderSheetLine {
            description: "external_backup (storage_gb=500, immutability=P6M)".into(),
            quantity: 2,
            unit_price: Decimal::new(35, 0),
            setup_fee: Decimal::new(100, 0),
            commitment_months: 12,
        };
        let lines = vec![line; 80];
        // 80 lines x 2 units x 35 EUR = 5 600 EUR a month; x 100 EUR = 16 000 EUR once.
        assert_eq!(
            order_totals(&lines),
            (Decimal::new(5600, 0), Decimal::new(16000, 0))
        );
        for lang in [Lang::Fr, Lang::En] {
            let pdf = order_pdf(&OrderSheet {
                reference: "ord_0193",
                provider: "Bytel Cloud",
                client: "Atelier Numérique",
                order_date: "2026-05-07",
                terms_version: "cgv-csp-v1.0-20250107",
                deadline: "06/06/2026 17:30",
                lines: &lines,
                lang,
            })
            .unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
            assert!(
                pdf.len() < 150_000,
                "{} bytes: the font is subset",
                pdf.len()
            );
        }
    }
}
