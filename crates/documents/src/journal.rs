//! The sales and bank journals of a period as accounting entries, ready for
//! the FEC ([`crate::fec`]): what an accountant would book from ciel's
//! invoices, credit notes and payments, with the account numbers the
//! provider configures (revenue per offer, collected VAT per rate).
//!
//! An invoice debits the customer's receivable (411, with the client's
//! auxiliary account) by its total including VAT and credits revenue (706...)
//! per offer and collected VAT (44571...) per rate; a line with a negative
//! amount (an SLA credit deducted, R7.5) reduces its revenue account, and a
//! revenue account whose lines net to a negative amount is debited. A credit
//! note books the mirror image. A payment debits the bank and credits the
//! receivable; a rejected direct debit and a refund book the reverse.
//! Entries are numbered per journal in date order, so the numbering is
//! continuous (A47 A-1) whatever the order of the input.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::fec::FecLine;
use crate::money::round_cents;

/// The chart of accounts ciel books into. The defaults follow the French
/// plan comptable général; every account can be configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    pub sales_journal: Journal,
    pub bank_journal: Journal,
    /// Trade receivables (411).
    pub customers: Account,
    /// Prefix of each client's auxiliary account (followed by its code).
    pub customer_aux_prefix: String,
    /// The bank account collections land in (512).
    pub bank: Account,
    /// Revenue of an offer without its own account (706).
    pub revenue: Account,
    /// Revenue per offer code (`cloud_vm`, `colocation`...).
    pub revenue_by_offer: BTreeMap<String, Account>,
    /// Collected VAT of a rate without its own account (44571).
    pub vat: Account,
    /// Collected VAT per rate, keyed by the rate as written ("20", "5.5").
    pub vat_by_rate: BTreeMap<String, Account>,
}

/// A journal: its code and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub code: String,
    pub label: String,
}

/// An account: its number and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub number: String,
    pub label: String,
}

impl Account {
    pub fn new(number: &str, label: &str) -> Self {
        Account {
            number: number.to_owned(),
            label: label.to_owned(),
        }
    }
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            sales_journal: Journal {
                code: "VE".into(),
                label: "Ventes".into(),
            },
            bank_journal: Journal {
                code: "BQ".into(),
                label: "Banque".into(),
            },
            customers: Account::new("411000", "Clients"),
            customer_aux_prefix: "C".into(),
            bank: Account::new("512000", "Banque"),
            revenue: Account::new("706000", "Prestations de services"),
            revenue_by_offer: BTreeMap::new(),
            vat: Account::new("445710", "TVA collectée"),
            vat_by_rate: BTreeMap::new(),
        }
    }
}

impl Accounts {
    fn revenue_of(&self, offer: Option<&str>) -> &Account {
        offer
            .and_then(|o| self.revenue_by_offer.get(o))
            .unwrap_or(&self.revenue)
    }

    fn vat_of(&self, rate: Decimal) -> &Account {
        self.vat_by_rate
            .get(&rate.normalize().to_string())
            .unwrap_or(&self.vat)
    }
}

/// The client a document or a payment belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Stable code, the suffix of its auxiliary account.
    pub code: String,
    pub name: String,
}

/// An issued invoice or credit note, amounts as on the document (positive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDocument {
    pub number: String,
    pub date: Date,
    pub credit_note: bool,
    pub customer: Customer,
    pub lines: Vec<SaleLine>,
    /// Collected VAT per rate, as on the document.
    pub vat: Vec<(Decimal, Decimal)>,
    pub total_incl_vat: Decimal,
}

/// One line's net amount excluding VAT (negative for a deduction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleLine {
    pub offer: Option<String>,
    pub amount: Decimal,
}

/// What happened to money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    /// The client paid (a direct debit collected, a transfer received).
    Payment,
    /// A collected direct debit came back.
    Rejection,
    /// ciel paid a credit back to the client (R7.5).
    Refund,
}

/// A payment, a rejection or a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: MovementKind,
    pub reference: String,
    pub date: Date,
    pub customer: Customer,
    pub amount: Decimal,
}

/// The entries of the period, sales journal then bank journal, each in date
/// order and numbered continuously (`VE000001`, `BQ000001`...).
pub fn entries(
    accounts: &Accounts,
    documents: &[SaleDocument],
    movements: &[Movement],
) -> Vec<FecLine> {
    let mut docs: Vec<&SaleDocument> = documents.iter().collect();
    docs.sort_by(|a, b| (a.date, &a.number).cmp(&(b.date, &b.number)));
    let mut moves: Vec<&Movement> = movements.iter().collect();
    moves.sort_by(|a, b| (a.date, &a.reference).cmp(&(b.date, &b.reference)));

    let mut out = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let entry = Entry {
            journal: &accounts.sales_journal,
            num: format!("{}{:06}", accounts.sales_journal.code, i + 1),
            date: d.date,
            piece: &d.number,
            label: format!(
                "{} {} {}",
                if d.credit_note { "Avoir" } else { "Facture" },
                d.number,
                d.customer.name
            ),
        };
        // Signed from the receivable's point of view: + is a debit.
        let sign = if d.credit_note {
            Decimal::NEGATIVE_ONE
        } else {
            Decimal::ONE
        };
        entry.push(
            &mut out,
            &accounts.customers,
            Some((accounts, &d.customer)),
            sign * d.total_incl_vat,
        );
        let mut revenue: BTreeMap<&str, (&Account, Decimal)> = BTreeMap::new();
        for l in &d.lines {
            let account = accounts.revenue_of(l.offer.as_deref());
            revenue
                .entry(account.number.as_str())
                .or_insert((account, Decimal::ZERO))
                .1 += l.amount;
        }
        for (account, amount) in revenue.into_values() {
            entry.push(&mut out, account, None, -sign * amount);
        }
        let mut vat: BTreeMap<&str, (&Account, Decimal)> = BTreeMap::new();
        for (rate, amount) in &d.vat {
            let account = accounts.vat_of(*rate);
            vat.entry(account.number.as_str())
                .or_insert((account, Decimal::ZERO))
                .1 += *amount;
        }
        for (account, amount) in vat.into_values() {
            entry.push(&mut out, account, None, -sign * amount);
        }
    }
    for (i, m) in moves.iter().enumerate() {
        let (word, sign) = match m.kind {
            MovementKind::Payment => ("Règlement", Decimal::ONE),
            MovementKind::Rejection => ("Rejet de prélèvement", Decimal::NEGATIVE_ONE),
            MovementKind::Refund => ("Remboursement", Decimal::NEGATIVE_ONE),
        };
        let entry = Entry {
            journal: &accounts.bank_journal,
            num: format!("{}{:06}", accounts.bank_journal.code, i + 1),
            date: m.date,
            piece: &m.reference,
            label: format!("{word} {} {}", m.reference, m.customer.name),
        };
        entry.push(&mut out, &accounts.bank, None, sign * m.amount);
        entry.push(
            &mut out,
            &accounts.customers,
            Some((accounts, &m.customer)),
            -sign * m.amount,
        );
    }
    out
}

struct Entry<'a> {
    journal: &'a Journal,
    num: String,
    date: Date,
    piece: &'a str,
    label: String,
}

impl Entry<'_> {
    /// One line; `signed` > 0 is a debit, < 0 a credit; a zero is skipped
    /// (an account with nothing to book).
    fn push(
        &self,
        out: &mut Vec<FecLine>,
        account: &Account,
        customer: Option<(&Accounts, &Customer)>,
        signed: Decimal,
    ) {
        let signed = round_cents(signed);
        if signed.is_zero() {
            return;
        }
        let (debit, credit) = if signed > Decimal::ZERO {
            (signed, Decimal::ZERO)
        } else {
            (Decimal::ZERO, -signed)
        };
        out.push(FecLine {
            journal_code: self.journal.code.clone(),
            journal_lib: self.journal.label.clone(),
            entry_num: self.num.clone(),
            entry_date: self.date,
            account: account.number.clone(),
            account_lib: account.label.clone(),
            aux_account: customer.map(|(a, c)| format!("{}{}", a.customer_aux_prefix, c.code)),
            aux_lib: customer.map(|(_, c)| c.name.clone()),
            piece_ref: self.piece.to_owned(),
            piece_date: self.date,
            label: self.label.clone(),
            debit,
            credit,
            valid_date: self.date,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fec;
    use jiff::civil::date;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn client() -> Customer {
        Customer {
            code: "0042".into(),
            name: "Dupont SARL".into(),
        }
    }

    fn accounts() -> Accounts {
        let mut a = Accounts::default();
        a.revenue_by_offer
            .insert("colocation".into(), Account::new("706300", "Colocation"));
        a.vat_by_rate
            .insert("20".into(), Account::new("445711", "TVA collectée 20 %"));
        a
    }

    /// Colocation 1 000.00 + cloud 250.00 − an SLA credit of 50.00 on the
    /// cloud line, all at 20 %: VAT 240.00, total 1 440.00.
    fn invoice() -> SaleDocument {
        SaleDocument {
            number: "F2026-000001".into(),
            date: date(2026, 6, 1),
            credit_note: false,
            customer: client(),
            lines: vec![
                SaleLine {
                    offer: Some("colocation".into()),
                    amount: dec("1000.00"),
                },
                SaleLine {
                    offer: Some("cloud_vm".into()),
                    amount: dec("250.00"),
                },
                SaleLine {
                    offer: Some("cloud_vm".into()),
                    amount: dec("-50.00"),
                },
            ],
            vat: vec![(dec("20"), dec("240.00"))],
            total_incl_vat: dec("1440.00"),
        }
    }

    fn sides(lines: &[FecLine], account: &str) -> (Decimal, Decimal) {
        lines
            .iter()
            .filter(|l| l.account == account)
            .fold((Decimal::ZERO, Decimal::ZERO), |(d, c), l| {
                (d + l.debit, c + l.credit)
            })
    }

    #[test]
    fn an_invoice_debits_the_client_and_credits_revenue_per_offer_and_vat_per_rate() {
        let lines = entries(&accounts(), &[invoice()], &[]);
        assert_eq!(sides(&lines, "411000"), (dec("1440.00"), Decimal::ZERO));
        assert_eq!(sides(&lines, "706300"), (Decimal::ZERO, dec("1000.00")));
        assert_eq!(
            sides(&lines, "706000"),
            (Decimal::ZERO, dec("200.00")),
            "cloud 250 less the 50 credit, on the default revenue account"
        );
        assert_eq!(sides(&lines, "445711"), (Decimal::ZERO, dec("240.00")));
        let receivable = lines.iter().find(|l| l.account == "411000").unwrap();
        assert_eq!(receivable.aux_account.as_deref(), Some("C0042"));
        assert!(lines.iter().all(|l| l.entry_num == "VE000001"));
        fec::write(&lines).expect("balanced");
    }

    #[test]
    fn a_credit_note_books_the_mirror_image_and_payments_go_through_the_bank() {
        let mut credit = invoice();
        credit.number = "F2026-000002".into();
        credit.credit_note = true;
        credit.date = date(2026, 6, 10);
        let pay = |kind, reference: &str, day, amount: &str| Movement {
            kind,
            reference: reference.into(),
            date: date(2026, 6, day),
            customer: client(),
            amount: dec(amount),
        };
        let lines = entries(
            &accounts(),
            &[credit, invoice()],
            &[
                pay(MovementKind::Rejection, "REJ-1", 20, "1440.00"),
                pay(MovementKind::Payment, "PAY-1", 15, "1440.00"),
                pay(MovementKind::Refund, "RMB-1", 25, "100.00"),
            ],
        );
        // The invoice (1 June) comes first whatever the input order.
        assert_eq!(lines[0].piece_ref, "F2026-000001");
        let credit_lines: Vec<_> = lines.iter().filter(|l| l.entry_num == "VE000002").collect();
        assert_eq!(credit_lines[0].credit, dec("1440.00"));
        assert_eq!(
            sides(&lines, "411000").0,
            dec("1440.00") + dec("1440.00") + dec("100.00")
        );
        assert_eq!(sides(&lines, "411000").1, dec("1440.00") + dec("1440.00"));
        assert_eq!(
            sides(&lines, "512000"),
            (dec("1440.00"), dec("1440.00") + dec("100.00"))
        );
        let bank: Vec<&str> = lines
            .iter()
            .filter(|l| l.journal_code == "BQ")
            .map(|l| l.entry_num.as_str())
            .collect();
        assert_eq!(
            bank,
            [
                "BQ000001", "BQ000001", "BQ000002", "BQ000002", "BQ000003", "BQ000003"
            ]
        );
        fec::write(&lines).expect("balanced");
    }

    #[test]
    fn a_document_whose_total_disagrees_with_its_lines_cannot_be_written() {
        let mut wrong = invoice();
        wrong.total_incl_vat = dec("1440.01");
        let lines = entries(&accounts(), &[wrong], &[]);
        assert!(matches!(
            fec::write(&lines),
            Err(fec::FecError::Unbalanced { .. })
        ));
    }

    proptest::proptest! {
        /// Whatever the lines (deductions included) and rates, a document
        /// whose total is its lines plus its VAT gives balanced entries that
        /// the FEC writer accepts, and the receivable moves by the total.
        #[test]
        fn consistent_documents_always_balance(
            cents in proptest::collection::vec((-50_000i64..500_000, 0usize..3, 0usize..3), 1..12),
            credit_note in proptest::bool::ANY,
        ) {
            let offers = [Some("colocation"), Some("cloud_vm"), None];
            let rates = [dec("20"), dec("5.5"), dec("0")];
            let lines: Vec<SaleLine> = cents
                .iter()
                .map(|(c, o, _)| SaleLine { offer: offers[*o].map(str::to_owned), amount: Decimal::new(*c, 2) })
                .collect();
            let mut vat: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
            for (c, _, r) in &cents {
                let e = vat.entry(rates[*r].to_string()).or_insert((rates[*r], Decimal::ZERO));
                e.1 += Decimal::new(*c, 2);
            }
            let vat: Vec<(Decimal, Decimal)> = vat
                .into_values()
                .map(|(rate, base)| (rate, round_cents(base * rate / Decimal::ONE_HUNDRED)))
                .collect();
            let total = lines.iter().map(|l| l.amount).sum::<Decimal>()
                + vat.iter().map(|(_, v)| *v).sum::<Decimal>();
            let doc = SaleDocument {
                number: "F1".into(),
                date: date(2026, 6, 1),
                credit_note,
                customer: client(),
                lines,
                vat,
                total_incl_vat: total,
            };
            let out = entries(&accounts(), &[doc], &[]);
            proptest::prop_assert!(fec::write(&out).is_ok());
            let (d, c) = sides(&out, "411000");
            let moved = if credit_note { c - d } else { d - c };
            proptest::prop_assert_eq!(moved, total);
        }
    }
}
