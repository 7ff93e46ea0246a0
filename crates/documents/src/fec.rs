//! The FEC (Fichier des Écritures Comptables, LPF art. A47 A-1): the file a
//! French tax audit asks for. One header line with the 18 mandatory field
//! names in their legal order, then one line per entry, fields separated by
//! a tab, dates `AAAAMMJJ`, amounts with a decimal comma and no thousands
//! separator, debit and credit in their own columns.
//!
//! The checks an auditor's tool (such as the DGFiP's "Test Compta Demat")
//! applies first are made before anything is written: every entry
//! (`EcritureNum`) balances, entry numbers are continuous within a journal,
//! every account number starts with three digits of the French chart of
//! accounts, no amount is negative, no text carries the separator or a line
//! break. A file that comes out is one those checks accept.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::money::round_cents;

/// The 18 mandatory fields, in the order A47 A-1 sets.
pub const HEADER: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// One line of the file: one side of an accounting entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FecLine {
    pub journal_code: String,
    pub journal_lib: String,
    /// The entry this line belongs to; every line of an entry shares it.
    pub entry_num: String,
    pub entry_date: Date,
    pub account: String,
    pub account_lib: String,
    /// The customer's auxiliary account (on the receivable lines only).
    pub aux_account: Option<String>,
    pub aux_lib: Option<String>,
    /// The supporting document: the invoice or payment reference.
    pub piece_ref: String,
    pub piece_date: Date,
    pub label: String,
    pub debit: Decimal,
    pub credit: Decimal,
    pub valid_date: Date,
}

/// Why a FEC cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FecError {
    #[error("entry {entry}: debits {debit} and credits {credit} differ")]
    Unbalanced {
        entry: String,
        debit: Decimal,
        credit: Decimal,
    },
    #[error("entry {entry}: account {account:?} does not start with three digits")]
    Account { entry: String, account: String },
    #[error("entry {entry}: a line has a negative amount, or both a debit and a credit")]
    Amount { entry: String },
    #[error("journal {journal}: entry {entry} breaks the continuous numbering")]
    Numbering { journal: String, entry: String },
    #[error("entry {entry}: its lines disagree on the journal or the date")]
    Split { entry: String },
}

/// Writes the file: the header, then the lines in the order given (the
/// caller lists them chronologically, entry by entry), each ending in CRLF
/// as the administration's examples do.
pub fn write(lines: &[FecLine]) -> Result<String, FecError> {
    check(lines)?;
    let mut out = String::with_capacity(64 + lines.len() * 160);
    out.push_str(&HEADER.join("\t"));
    out.push_str("\r\n");
    for l in lines {
        let fields: [String; 18] = [
            text(&l.journal_code),
            text(&l.journal_lib),
            text(&l.entry_num),
            day(l.entry_date),
            text(&l.account),
            text(&l.account_lib),
            l.aux_account.as_deref().map(text).unwrap_or_default(),
            l.aux_lib.as_deref().map(text).unwrap_or_default(),
            text(&l.piece_ref),
            day(l.piece_date),
            text(&l.label),
            amount(l.debit),
            amount(l.credit),
            String::new(),
            String::new(),
            day(l.valid_date),
            String::new(),
            String::new(),
        ];
        out.push_str(&fields.join("\t"));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// The file name A47 A-1 sets: SIREN, "FEC", closing date of the period.
pub fn file_name(siren: &str, closing: Date) -> String {
    format!("{siren}FEC{}.txt", day(closing))
}

fn check(lines: &[FecLine]) -> Result<(), FecError> {
    // Per entry: balanced, one journal and one date; per journal: the
    // entries appear as one continuous run each (never interleaved).
    let mut entries: BTreeMap<&str, (Decimal, Decimal, &str, Date)> = BTreeMap::new();
    let mut last_in_journal: BTreeMap<&str, &str> = BTreeMap::new();
    for l in lines {
        let entry = l.entry_num.as_str();
        let digits = l
            .account
            .chars()
            .take(3)
            .filter(char::is_ascii_digit)
            .count();
        if digits < 3 {
            return Err(FecError::Account {
                entry: entry.to_owned(),
                account: l.account.clone(),
            });
        }
        if l.debit < Decimal::ZERO
            || l.credit < Decimal::ZERO
            || (!l.debit.is_zero() && !l.credit.is_zero())
        {
            return Err(FecError::Amount {
                entry: entry.to_owned(),
            });
        }
        match last_in_journal.insert(&l.journal_code, entry) {
            Some(prev) if prev != entry && entries.contains_key(entry) => {
                return Err(FecError::Numbering {
                    journal: l.journal_code.clone(),
                    entry: entry.to_owned(),
                });
            }
            _ => {}
        }
        let e = entries.entry(entry).or_insert((
            Decimal::ZERO,
            Decimal::ZERO,
            &l.journal_code,
            l.entry_date,
        ));
        if e.2 != l.journal_code || e.3 != l.entry_date {
            return Err(FecError::Split {
                entry: entry.to_owned(),
            });
        }
        e.0 += l.debit;
        e.1 += l.credit;
    }
    for (entry, (debit, credit, _, _)) in entries {
        if round_cents(debit) != round_cents(credit) {
            return Err(FecError::Unbalanced {
                entry: entry.to_owned(),
                debit,
                credit,
            });
        }
    }
    Ok(())
}

fn day(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// Two decimals, decimal comma, no thousands separator.
fn amount(a: Decimal) -> String {
    let mut r = round_cents(a);
    r.rescale(2);
    r.to_string().replace('.', ",")
}

/// Tabs and line breaks would shift the columns: they become spaces.
fn text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn line(entry: &str, account: &str, debit: &str, credit: &str) -> FecLine {
        FecLine {
            journal_code: "VE".into(),
            journal_lib: "Ventes".into(),
            entry_num: entry.into(),
            entry_date: date(2026, 6, 1),
            account: account.into(),
            account_lib: "Compte".into(),
            aux_account: None,
            aux_lib: None,
            piece_ref: "F2026-000001".into(),
            piece_date: date(2026, 6, 1),
            label: "Facture\tjuin".into(),
            debit: debit.parse().unwrap(),
            credit: credit.parse().unwrap(),
            valid_date: date(2026, 6, 1),
        }
    }

    #[test]
    fn a_balanced_entry_is_written_with_the_legal_header_and_formats() {
        let out = write(&[
            line("VE1", "411000", "1200.5", "0"),
            line("VE1", "706000", "0", "1000.42"),
            line("VE1", "445710", "0", "200.08"),
        ])
        .unwrap();
        let rows: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(rows[0].split('\t').count(), 18);
        assert!(rows[0].starts_with("JournalCode\tJournalLib\tEcritureNum\tEcritureDate"));
        assert!(rows[0].ends_with("Montantdevise\tIdevise"));
        let first: Vec<&str> = rows[1].split('\t').collect();
        assert_eq!(first.len(), 18);
        assert_eq!(first[3], "20260601");
        assert_eq!(
            first[10], "Facture juin",
            "a tab in a label would shift columns"
        );
        assert_eq!(first[11], "1200,50");
        assert_eq!(first[12], "0,00");
        assert_eq!(rows.len(), 5, "header, three lines, and the final CRLF");
    }

    #[test]
    fn an_unbalanced_entry_is_refused() {
        let err = write(&[
            line("VE1", "411000", "100.00", "0"),
            line("VE1", "706000", "0", "99.99"),
        ])
        .unwrap_err();
        assert!(matches!(err, FecError::Unbalanced { .. }));
    }

    #[test]
    fn accounts_negative_amounts_and_interleaved_entries_are_refused() {
        assert!(matches!(
            write(&[line("VE1", "41X", "1", "0"), line("VE1", "706", "0", "1")]),
            Err(FecError::Account { .. })
        ));
        assert!(matches!(
            write(&[line("VE1", "411", "-1", "0"), line("VE1", "706", "0", "-1")]),
            Err(FecError::Amount { .. })
        ));
        assert!(matches!(
            write(&[
                line("VE1", "411", "1", "0"),
                line("VE2", "411", "1", "0"),
                line("VE1", "706", "0", "1"),
                line("VE2", "706", "0", "1"),
            ]),
            Err(FecError::Numbering { .. })
        ));
    }

    #[test]
    fn the_file_is_named_after_the_siren_and_the_closing_day() {
        assert_eq!(
            file_name("732829320", date(2026, 12, 31)),
            "732829320FEC20261231.txt"
        );
    }
}
