//! Monthly SLA statements and credits (issue 5, item 6; R5-R7): the
//! evidence assembled from the stored facts ([`evidence`]), the statements
//! computed from it by the engine, their review and the credit handed to
//! billing.

pub mod evidence;
pub mod statements;

#[cfg(test)]
mod evidence_tests;

/// The zone months are counted in (R5.1: Europe/Paris, the terms' zone).
pub fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&ciel_terms::embedded().availability.month_zone.value)
        .unwrap_or(jiff::tz::TimeZone::UTC)
}
