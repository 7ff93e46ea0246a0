//! The contract as data: the terms document of ciel.
//!
//! RULES.md turns the French contract ("CGV et CSP v1.0 20250107") into
//! numbered rules; this crate turns each number and product decision of those
//! rules into a named, typed parameter of a TOML document that carries its
//! clause and rule id ([`model`]). The default version is embedded in the
//! binary (`terms/cgv-csp-v1.0-20250107.toml`); other versions are loaded from
//! strings (the CLI reads the files) into a [`Registry`].
//!
//! Loading is strict: unknown keys are rejected, every error names the path of
//! the bad key and why, and [`validate`] checks the semantics (tiers that leave
//! a gap or overlap, priorities missing from the matrix, calendars that do not
//! exist...). Amounts and rates are exact decimals written as strings
//! ("99.90"): TOML floats are refused, because a binary float cannot hold
//! 99.9 exactly and the contract compares rates exactly.
//!
//! No I/O, no clock.

pub mod model;
mod validate;

use std::{fmt, str::FromStr, sync::OnceLock};

pub use model::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
pub use validate::validate;

/// The embedded default terms document.
pub const EMBEDDED_TOML: &str = include_str!("../../../terms/cgv-csp-v1.0-20250107.toml");

/// An exact decimal written as a string in terms files ("99.90", "40.00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

impl Dec {
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Self {
        Dec(d)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Dec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an exact decimal written as a string, e.g. \"99.90\" (floats are refused)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dec, E> {
                Decimal::from_str_exact(v.trim())
                    .map(Dec)
                    .map_err(|e| E::custom(format!("invalid decimal {v:?}: {e}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

impl FromStr for Dec {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str_exact(s).map(Dec)
    }
}

/// One problem in a terms document: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermsError {
    /// Dotted path of the offending key, e.g. `availability.penalty_classes.p9990.tiers[1].lower`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for TermsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// All problems found in a terms document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct TermsErrors(pub Vec<TermsError>);

impl fmt::Display for TermsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parse and fully validate a terms document.
pub fn parse(text: &str) -> Result<Terms, TermsErrors> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        TermsErrors(vec![TermsError {
            path: String::new(),
            message: format!("TOML syntax{}: {}", at_line(text, e.span()), e.message()),
        }])
    })?;
    let terms: Terms = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        TermsErrors(vec![TermsError {
            path: if path == "." { String::new() } else { path },
            message: format!("{}{}", inner.message(), at_line(text, inner.span())),
        }])
    })?;
    validate(&terms).map_err(TermsErrors)?;
    Ok(terms)
}

/// " (line L, column C)" of a byte span, for error messages.
fn at_line(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" (line {line}, column {col})")
}

/// The embedded default version, parsed once.
pub fn embedded() -> &'static Terms {
    static CELL: OnceLock<Terms> = OnceLock::new();
    CELL.get_or_init(|| match parse(EMBEDDED_TOML) {
        Ok(t) => t,
        // The embedded document is validated by the test suite; reaching this
        // means a broken build, not a user error.
        Err(e) => panic!("embedded terms document is invalid:\n{e}"),
    })
}

/// The versions known to this process: the embedded one plus any added.
#[derive(Debug, Clone)]
pub struct Registry {
    versions: Vec<Terms>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_embedded()
    }
}

impl Registry {
    /// A registry holding only the embedded version.
    pub fn with_embedded() -> Self {
        Registry {
            versions: vec![embedded().clone()],
        }
    }

    /// Add a version parsed from text; its id must be new. Returns the id.
    pub fn add_toml(&mut self, text: &str) -> Result<String, TermsErrors> {
        let t = parse(text)?;
        self.add(t)
    }

    /// Add a parsed version; its id must be new. Returns the id.
    pub fn add(&mut self, terms: Terms) -> Result<String, TermsErrors> {
        let id = terms.version.id.clone();
        if self.get(&id).is_some() {
            return Err(TermsErrors(vec![TermsError {
                path: "version.id".into(),
                message: format!("version {id:?} is already registered"),
            }]));
        }
        self.versions.push(terms);
        self.versions.sort_by(|a, b| {
            (a.version.effective_date, &a.version.id)
                .cmp(&(b.version.effective_date, &b.version.id))
        });
        Ok(id)
    }

    /// A version by id.
    pub fn get(&self, id: &str) -> Option<&Terms> {
        self.versions.iter().find(|t| t.version.id == id)
    }

    /// The version in force on a date (latest effective date on or before it).
    pub fn in_force_on(&self, date: jiff::civil::Date) -> Option<&Terms> {
        self.versions
            .iter()
            .rev()
            .find(|t| t.version.effective_date <= date)
    }

    /// All versions, oldest first.
    pub fn list(&self) -> &[Terms] {
        &self.versions
    }
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffEntry {
    pub path: String,
    pub left: Option<serde_json::Value>,
    pub right: Option<serde_json::Value>,
}

/// Parameter-by-parameter differences between two versions (paths in dotted form).
pub fn diff(a: &Terms, b: &Terms) -> Vec<DiffEntry> {
    let va = serde_json::to_value(a).unwrap_or(serde_json::Value::Null);
    let vb = serde_json::to_value(b).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    diff_values("", &va, &vb, &mut out);
    out
}

fn diff_values(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<DiffEntry>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => diff_values(&p, x, y, out),
                    (x, y) => out.push(DiffEntry {
                        path: p,
                        left: x.cloned(),
                        right: y.cloned(),
                    }),
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) if xa.len() == xb.len() => {
            for (i, (x, y)) in xa.iter().zip(xb).enumerate() {
                diff_values(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if a != b => out.push(DiffEntry {
            path: path.to_string(),
            left: Some(a.clone()),
            right: Some(b.clone()),
        }),
        _ => {}
    }
}
