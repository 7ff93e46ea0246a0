//! The order (Bon de Commande) as a PDF, attached to the "order sent"
//! e-mail (R1.3). One A4 layout in the recipient's language: the parties,
//! the terms version the order is pinned to (R1.2), the acceptance deadline,
//! the lines with their prices excluding VAT and the totals. Text is set in
//! DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`),
//! embedded in the binary and subset by krilla.

use ciel_domain::Lang;
use ciel_store::orders::{Line, Order};
use krilla::Document;
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const LEADING: f32 = 15.0;

/// What the PDF shows besides the stored order.
pub struct OrderDoc<'a> {
    pub order: &'a Order,
    pub lines: &'a [Line],
    pub provider: &'a str,
    pub client: &'a str,
    /// The acceptance deadline, formatted in Paris time.
    pub deadline: &'a str,
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

fn item_text(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let mut out = v
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("?")
        .to_owned();
    if let Some(o) = v.as_object() {
        let params: Vec<String> = o
            .iter()
            .filter(|(k, _)| k.as_str() != "kind")
            .map(|(k, x)| format!("{k}={}", x.as_str().map_or(x.to_string(), str::to_owned)))
            .collect();
        if !params.is_empty() {
            out.push_str(&format!(" ({})", params.join(", ")));
        }
    }
    out
}

/// Renders the order; an error is a bug of the layout or the font.
pub fn render(doc: &OrderDoc<'_>) -> Result<Vec<u8>, String> {
    let font = Font::new(FONT.into(), 0).ok_or("the embedded font cannot be read")?;
    let w = words(doc.lang);
    let (monthly, one_time) = crate::orders::totals(doc.lines);
    let mut text: Vec<(f32, String)> = vec![
        (18.0, format!("{} {}", w[0], doc.order.id)),
        (11.0, String::new()),
        (11.0, format!("{} : {}", w[1], doc.provider)),
        (11.0, format!("{} : {}", w[2], doc.client)),
        (11.0, format!("{} : {}", w[3], doc.order.order_date)),
        (11.0, format!("{} : {}", w[4], doc.order.terms_version)),
        (11.0, format!("{} : {}", w[5], doc.deadline)),
        (11.0, String::new()),
    ];
    for (i, l) in doc.lines.iter().enumerate() {
        text.push((
            10.0,
            format!("{}. {} x {}", i + 1, l.quantity, item_text(&l.item_json)),
        ));
        text.push((
            10.0,
            format!(
                "    {} {} {} EUR, {} {}",
                l.unit_price, w[9], l.setup_fee, l.commitment_months, w[8]
            ),
        ));
    }
    text.push((11.0, String::new()));
    text.push((11.0, format!("{} : {} EUR", w[6], monthly.normalize())));
    text.push((11.0, format!("{} : {} EUR", w[7], one_time.normalize())));

    let mut document = Document::new();
    let per_page = ((HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    for chunk in text.chunks(per_page.max(1)) {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("bad page size")?;
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
            surface.draw_text(
                Point::from_xy(MARGIN, y),
                font.clone(),
                *size,
                &shown,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciel_domain::Id;

    #[test]
    fn an_order_renders_as_a_small_pdf_with_a_subset_font() {
        let t: jiff::Timestamp = "2026-05-07T15:30:00Z".parse().unwrap();
        let order = Order {
            id: Id::from_parts("ord", &"a".repeat(32)),
            org_id: Id::from_parts("org", &"b".repeat(32)),
            kind: "initial".into(),
            amends_order_id: None,
            state: "sent".into(),
            state_json: "{}".into(),
            terms_version: "cgv-csp-v1.0-20250107".into(),
            order_date: "2026-05-07".into(),
            request_received_at: None,
            price_list_id: "prl_x".into(),
            special_conditions: "{}".into(),
            sent_at: Some(t),
            sent_by: None,
            acceptance_deadline: Some(t),
            created_by: None,
            created_at: t,
            updated_at: t,
        };
        let line = Line {
            id: Id::from_parts("orl", &"c".repeat(32)),
            order_id: order.id.clone(),
            position: 0,
            item_json: r#"{"kind":"external_backup","storage_gb":500,"immutability":"P6M"}"#.into(),
            quantity: 2,
            unit_price: "35".into(),
            setup_fee: "100".into(),
            commitment_months: 12,
        };
        let lines = vec![line; 80];
        for lang in [Lang::Fr, Lang::En] {
            let pdf = render(&OrderDoc {
                order: &order,
                lines: &lines,
                provider: "Bytel Cloud",
                client: "Atelier Numérique",
                deadline: "06/06/2026 17:30",
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
