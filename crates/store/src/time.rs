//! Instants in storage: milliseconds since the Unix epoch, UTC.

use jiff::Timestamp;

/// Converts an instant to its storage form.
pub fn to_db(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Converts a stored value back; out-of-range values (a corrupt row) clamp to
/// the representable range rather than panic.
pub fn from_db(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Optional variant of [`from_db`].
pub fn opt_from_db(ms: Option<i64>) -> Option<Timestamp> {
    ms.map(from_db)
}
