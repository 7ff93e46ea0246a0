//! The production clock: the one place in ciel that reads the wall clock.

use ciel_domain::Clock;
use jiff::Timestamp;

/// Reads the system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that reads the wall clock.
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
