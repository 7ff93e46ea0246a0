//! The contract engine of ciel: pure computations over a terms version.
//!
//! Each computation returns its result together with an [`Explanation`]: the
//! ordered steps that produced it, each citing its rule (RULES.md) and clause
//! (the French contract), renderable in French and English. Billing, the
//! portal and the `ciel sla verify` command all call these functions, so a
//! client checking its statement offline runs exactly the provider's code.
//!
//! Architecture invariants (checked by tests where possible):
//! * no I/O beyond parsing strings handed in, never the wall clock: "now" is
//!   always a parameter;
//! * money, rates and percentages are `rust_decimal::Decimal`, never floats;
//!   thresholds are compared exactly (by cross-multiplication), rounding
//!   happens once, to the cent, half away from zero (R2.12);
//! * every parameter comes from the [`ciel_terms::Terms`] in use.
//!
//! Entry point: build an [`Engine`] once per terms version (it prepares the
//! support calendars and the ECB table), then call its methods.

pub mod availability;
pub mod billing;
pub mod caps;
pub mod colocation;
pub mod contract;
pub mod daily;
pub mod desk;
pub mod evidence;
pub mod explain;
pub mod hourbook;
pub mod hourledger;
pub mod interest;
pub mod percentile;
pub mod receivables;
pub mod recovery;
pub mod support;
pub mod usage;

use std::collections::BTreeMap;

use ciel_calendar::{CalendarError, ServiceCalendar};
use ciel_terms::Terms;
pub use explain::{Explained, Explanation, Lang, Step};
// Re-exported so that callers (the CLI, the server) use the very versions the
// engine's types are built on.
use jiff::tz::TimeZone;
use rust_decimal::{Decimal, RoundingStrategy};
pub use {ciel_calendar, ciel_terms, jiff, rust_decimal, serde, serde_json};

/// Errors of the engine: bad inputs or an inconsistent terms version.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("terms version {0:?} is not known")]
    UnknownTerms(String),
    #[error("no ECB main refinancing rate in force on {0}: extend the rate table")]
    MissingEcbRate(jiff::civil::Date),
    #[error("terms: {0}")]
    Terms(String),
}

pub(crate) fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// A terms version made ready for computation.
#[derive(Debug, Clone)]
pub struct Engine {
    terms: Terms,
    calendars: BTreeMap<String, ServiceCalendar>,
    month_tz: TimeZone,
    ecb: interest::EcbTable,
}

impl Engine {
    /// Prepare a terms version with the embedded ECB rate table.
    pub fn new(terms: &Terms) -> Result<Self, EngineError> {
        Self::with_ecb(terms, interest::EcbTable::embedded().clone())
    }

    /// Prepare a terms version with a given ECB rate table (e.g. the embedded
    /// one extended by a file).
    pub fn with_ecb(terms: &Terms, ecb: interest::EcbTable) -> Result<Self, EngineError> {
        let mut calendars = BTreeMap::new();
        for (name, entry) in &terms.support.calendars {
            calendars.insert(name.clone(), ServiceCalendar::from_spec(&entry.calendar)?);
        }
        let month_tz = ciel_calendar::load_tz(&terms.availability.month_zone.value)?;
        Ok(Engine {
            terms: terms.clone(),
            calendars,
            month_tz,
            ecb,
        })
    }

    /// The engine of the embedded default terms version.
    pub fn embedded() -> Result<Self, EngineError> {
        Self::new(ciel_terms::embedded())
    }

    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    pub fn ecb(&self) -> &interest::EcbTable {
        &self.ecb
    }

    /// A named calendar of the terms.
    pub fn calendar(&self, name: &str) -> Result<&ServiceCalendar, EngineError> {
        self.calendars
            .get(name)
            .ok_or_else(|| EngineError::Terms(format!("no calendar named {name:?}")))
    }

    /// Zone in which months and days are read (Europe/Paris).
    pub fn month_zone(&self) -> &TimeZone {
        &self.month_tz
    }

    /// Round an amount as R2.12 says (scale and strategy from the terms).
    pub fn round_money(&self, d: Decimal) -> Decimal {
        round_money_dp(d, self.terms.billing.rounding.scale)
    }
}

/// Round half away from zero (never banker's rounding, rust_decimal's default).
pub fn round_money_dp(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifest_has_no_io_runtime_dependency() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest
            .split("[dev-dependencies]")
            .next()
            .unwrap_or_default();
        for banned in ["tokio", "sqlx", "axum"] {
            assert!(
                !manifest.contains(banned),
                "ciel-engine must not depend on {banned}"
            );
        }
        assert!(!deps.contains("clap"), "the CLI lives in the binary crate");
    }

    #[test]
    fn sources_never_read_the_clock() {
        // The engine must take "now" as a parameter; a test that greps is crude
        // but catches the common ways of reading the wall clock.
        let sources = [
            include_str!("lib.rs"),
            include_str!("availability.rs"),
            include_str!("caps.rs"),
            include_str!("colocation.rs"),
            include_str!("daily.rs"),
            include_str!("contract.rs"),
            include_str!("evidence.rs"),
            include_str!("hourbook.rs"),
            include_str!("interest.rs"),
            include_str!("percentile.rs"),
            include_str!("recovery.rs"),
            include_str!("support.rs"),
            include_str!("usage.rs"),
        ];
        let needles = [
            concat!("Timestamp::", "now"),
            concat!("System", "Time"),
            concat!("Zoned::", "now"),
        ];
        for s in sources {
            for n in needles {
                assert!(!s.contains(n), "found {n} in engine sources");
            }
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        use rust_decimal::Decimal;
        let r = |s: &str| super::round_money_dp(s.parse::<Decimal>().unwrap(), 2).to_string();
        assert_eq!(r("0.125"), "0.13"); // banker's would give 0.12
        assert_eq!(r("0.135"), "0.14");
        assert_eq!(r("-0.125"), "-0.13");
        assert_eq!(r("2.674999"), "2.67");
    }
}
