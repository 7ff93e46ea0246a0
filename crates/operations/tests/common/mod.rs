//! Helpers shared by the test files: instants written as Paris wall-clock
//! times, so the expected values read like the contract's days.

#![allow(dead_code)]

use ciel_operations::Operations;
use jiff::{Timestamp, tz::TimeZone};

pub fn ops() -> Operations {
    Operations::embedded().unwrap()
}

/// "2026-03-01 15:00:00" in Europe/Paris (an ambiguous autumn time takes the
/// earlier offset).
pub fn paris(s: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = s.parse().unwrap();
    dt.to_zoned(TimeZone::get("Europe/Paris").unwrap())
        .unwrap()
        .timestamp()
}

pub fn secs(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(n)
}
