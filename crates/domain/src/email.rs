//! E-mail addresses of users and billing contacts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically valid e-mail address, stored lowercase.
///
/// The check is deliberately conservative (one `@`, a dotted domain, no
/// spaces, at most 254 characters): deliverability is proven by the
/// invitation link, not by a regex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a string is not an e-mail address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("the e-mail address is empty")]
    Empty,
    #[error("the e-mail address is longer than 254 characters")]
    TooLong,
    #[error("the e-mail address must look like name@example.com")]
    Malformed,
}

/// Local parts that name a role or a team rather than a person (R1.8: generic
/// shared accounts are discouraged, so creating one shows a warning).
const GENERIC_LOCAL_PARTS: &[&str] = &[
    "admin",
    "administrateur",
    "administration",
    "accueil",
    "billing",
    "comptabilite",
    "compta",
    "contact",
    "direction",
    "facturation",
    "hello",
    "helpdesk",
    "info",
    "infos",
    "it",
    "informatique",
    "noc",
    "office",
    "ops",
    "postmaster",
    "root",
    "sales",
    "secretariat",
    "service",
    "support",
    "sysadmin",
    "team",
    "tech",
    "webmaster",
];

impl Email {
    /// Parses and normalises an address.
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Malformed)?;
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_domain = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if valid_local && valid_domain {
            Ok(Email(s.to_ascii_lowercase()))
        } else {
            Err(EmailError::Malformed)
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the address names a role or team (`admin@`, `contact@`...)
    /// rather than one person (R1.8).
    pub fn is_generic_shared(&self) -> bool {
        let local = self.0.split('@').next().unwrap_or_default();
        let base = local.split('+').next().unwrap_or_default();
        GENERIC_LOCAL_PARTS.contains(&base)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse("  Jeanne.Martin@Example.FR ")
                .unwrap()
                .as_str(),
            "jeanne.martin@example.fr"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "a",
            "a@b",
            "@b.fr",
            "a@.fr",
            "a@b..fr",
            "a b@c.fr",
            ".a@b.fr",
            "a..b@c.fr",
            "a@-b.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            Email::parse(&format!("{}@b.fr", "a".repeat(260))),
            Err(EmailError::TooLong)
        );
    }

    #[test]
    fn detects_generic_shared_accounts() {
        for generic in ["admin@acme.fr", "Contact@acme.fr", "support+ciel@acme.fr"] {
            assert!(
                Email::parse(generic).unwrap().is_generic_shared(),
                "{generic}"
            );
        }
        for person in ["jeanne.martin@acme.fr", "administrator.jm@acme.fr"] {
            assert!(
                !Email::parse(person).unwrap().is_generic_shared(),
                "{person}"
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,300}") {
            let _ = Email::parse(&s);
        }

        #[test]
        fn parsed_addresses_round_trip(local in "[a-z0-9]{1,20}", domain in "[a-z0-9]{1,20}\\.(fr|com)") {
            let e = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }
    }
}
