//! Properties over random invoices and batches: the XML always parses back,
//! escaped texts come back unchanged, the totals read back from the XML agree
//! with each other as EN 16931 and ISO 20022 require, and identifiers never
//! exceed 35 characters.

mod common;

use ciel_documents::money::round_cents;
use ciel_documents::{InvoiceNumber, to_cii_xml, to_pain008_xml};
use common::strategies::{batch, invoice};
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use rust_decimal::Decimal;

/// A parsed element: enough of a DOM to read documents back in tests.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Node>) {
        if self.name == name {
            out.push(self);
        }
        for child in &self.children {
            child.all(name, out);
        }
    }

    /// Every descendant (or self) named `name`, in document order.
    fn find(&self, name: &str) -> Vec<&Node> {
        let mut out = Vec::new();
        self.all(name, &mut out);
        out
    }

    fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{} has no {name}", self.name))
    }

    fn dec(&self) -> Decimal {
        self.text
            .parse()
            .unwrap_or_else(|_| panic!("{} = {:?} is not a decimal", self.name, self.text))
    }
}

/// Parses a whole document with quick-xml's reader, failing on any error or
/// unbalanced tag; entity references are resolved back to their characters.
fn parse(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let node = element(&e);
                stack.last_mut().expect("a parent").children.push(node);
            }
            Event::End(e) => {
                let node = stack.pop().expect("an open element");
                assert_eq!(node.name.as_str(), e.name().as_ref(), "balanced tags");
                stack.last_mut().expect("a parent").children.push(node);
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                stack.last_mut().expect("open").text.push_str(&text);
            }
            Event::GeneralRef(r) => {
                let reference = format!("&{};", &*r);
                let resolved = quick_xml::escape::unescape(&reference).expect("a known entity");
                stack.last_mut().expect("open").text.push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "every element closed");
    let mut root = stack.pop().expect("the document");
    assert_eq!(root.children.len(), 1, "one root element");
    let mut node = root.children.remove(0);
    trim(&mut node);
    node
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Node {
    Node {
        name: e.name().as_ref().to_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (a.key.as_ref().to_owned(), a.value.clone().into_owned())
            })
            .collect(),
        ..Node::default()
    }
}

/// Indentation is insignificant: leaf texts are compared trimmed of the
/// indentation the writer adds around child elements only.
fn trim(node: &mut Node) {
    if !node.children.is_empty() {
        node.text = node.text.trim().to_owned();
    }
    for child in &mut node.children {
        trim(child);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The XML parses back; texts and totals read from it are consistent:
    /// BR-CO-10 (sum of lines), BR-CO-14 (sum of VAT), BR-CO-15 (grand total),
    /// and each rate's VAT is its basis x rate rounded once (BR-CO-17, R2.12).
    #[test]
    fn invoice_xml_parses_back_with_consistent_totals(invoice in invoice()) {
        let xml = to_cii_xml(&invoice).expect("a valid generated invoice");
        let doc = parse(&xml);

        let id = &doc.child("rsm:ExchangedDocument").child("ram:ID").text;
        prop_assert!(id.len() <= 35);
        prop_assert_eq!(id, invoice.number.as_str());
        let buyer = doc.find("ram:BuyerTradeParty")[0].child("ram:Name");
        prop_assert_eq!(&buyer.text, &invoice.buyer.name);
        let names: Vec<_> = doc.find("ram:SpecifiedTradeProduct").iter().map(|p| p.child("ram:Name").text.clone()).collect();
        let expected: Vec<_> = invoice.lines.iter().map(|l| l.name.clone()).collect();
        prop_assert_eq!(names, expected);

        let line_totals: Decimal = doc
            .find("ram:SpecifiedTradeSettlementLineMonetarySummation")
            .iter()
            .map(|s| s.child("ram:LineTotalAmount").dec())
            .sum();
        let summation = doc.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation")[0];
        let header_lines = summation.child("ram:LineTotalAmount").dec();
        let basis_total = summation.child("ram:TaxBasisTotalAmount").dec();
        let tax_total = summation.child("ram:TaxTotalAmount").dec();
        let grand = summation.child("ram:GrandTotalAmount").dec();
        let due = summation.child("ram:DuePayableAmount").dec();
        prop_assert_eq!(line_totals, header_lines);
        prop_assert_eq!(basis_total, header_lines);
        prop_assert_eq!(grand, basis_total + tax_total);
        prop_assert_eq!(due, grand);

        let settlement = doc.find("ram:ApplicableHeaderTradeSettlement")[0];
        let rows: Vec<_> = settlement
            .children
            .iter()
            .filter(|c| c.name == "ram:ApplicableTradeTax")
            .collect();
        let mut tax_sum = Decimal::ZERO;
        let mut basis_sum = Decimal::ZERO;
        for row in &rows {
            let basis = row.child("ram:BasisAmount").dec();
            let rate = row.child("ram:RateApplicablePercent").dec();
            let tax = row.child("ram:CalculatedAmount").dec();
            prop_assert_eq!(tax, round_cents(basis * rate / Decimal::ONE_HUNDRED));
            let category = &row.child("ram:CategoryCode").text;
            if category == "E" || category == "AE" {
                prop_assert!(!row.child("ram:ExemptionReason").text.is_empty());
            }
            tax_sum += tax;
            basis_sum += basis;
        }
        prop_assert_eq!(tax_sum, tax_total);
        prop_assert_eq!(basis_sum, basis_total);
        // The sum of rounded per-line VAT can differ from the VAT on the sum,
        // but never by more than half a cent per line.
        let per_line: Decimal = invoice
            .lines
            .iter()
            .map(|l| round_cents(l.net_amount * l.vat_rate / Decimal::ONE_HUNDRED))
            .sum();
        prop_assert!((per_line - tax_total).abs() <= Decimal::new(5, 3) * Decimal::from(invoice.lines.len()));
    }

    /// BR-FR-01/02: exactly the strings of 1 to 35 characters of the allowed set
    /// are accepted as invoice numbers.
    #[test]
    fn invoice_numbers_accept_exactly_the_br_fr_set(candidate in "[A-Za-z0-9+_/ .é#-]{0,40}") {
        let allowed = !candidate.is_empty()
            && candidate.chars().count() <= 35
            && candidate.chars().all(|c| c.is_ascii_alphanumeric() || "+-_/".contains(c));
        prop_assert_eq!(InvoiceNumber::new(candidate.clone()).is_ok(), allowed);
    }

    /// The batch parses back; counts and control sums agree at both levels; a
    /// block holds one (date, sequence type); identifiers stay within 35.
    #[test]
    fn batch_xml_parses_back_with_consistent_sums(batch in batch()) {
        let xml = to_pain008_xml(&batch).expect("a valid generated batch");
        let doc = parse(&xml);
        let header = doc.find("GrpHdr")[0];
        let transactions = doc.find("DrctDbtTxInf");
        prop_assert_eq!(header.child("NbOfTxs").text.parse::<usize>().ok(), Some(transactions.len()));
        prop_assert_eq!(transactions.len(), batch.transactions.len());
        let all: Decimal = transactions.iter().map(|t| t.child("InstdAmt").dec()).sum();
        prop_assert_eq!(header.child("CtrlSum").dec(), all);
        prop_assert_eq!(all, batch.control_sum());

        let mut keys = std::collections::BTreeSet::new();
        let mut block_sums = Decimal::ZERO;
        for block in doc.find("PmtInf") {
            let own = block.find("DrctDbtTxInf");
            let sum: Decimal = own.iter().map(|t| t.child("InstdAmt").dec()).sum();
            prop_assert_eq!(block.child("CtrlSum").dec(), sum);
            prop_assert_eq!(block.child("NbOfTxs").text.parse::<usize>().ok(), Some(own.len()));
            let key = (
                block.child("ReqdColltnDt").text.clone(),
                block.find("SeqTp")[0].text.clone(),
            );
            prop_assert!(keys.insert(key), "one block per (date, sequence type)");
            prop_assert!(block.child("PmtInfId").text.len() <= 35);
            block_sums += sum;
            for t in own {
                prop_assert!(t.find("EndToEndId")[0].text.len() <= 35);
                prop_assert!(t.find("MndtId")[0].text.len() <= 35);
                prop_assert_eq!(&t.child("InstdAmt").attrs, &vec![("Ccy".to_owned(), "EUR".to_owned())]);
            }
        }
        prop_assert_eq!(block_sums, all);
        // Free texts stay in the EPC basic Latin set.
        for name in ["Nm", "StrtNm", "BldgNb", "PstCd", "TwnNm", "Ustrd"] {
            for node in doc.find(name) {
                prop_assert!(
                    node.text.chars().all(|c| c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)),
                    "{} = {:?}", name, node.text
                );
            }
        }
        prop_assert!(header.child("MsgId").text.len() <= 35);
    }
}
