//! The clock is injected everywhere: core code receives instants, the shell
//! owns a [`Clock`]. Tests use [`ManualClock`] and move time forward instead of
//! sleeping.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;

/// Source of "now". The production implementation lives in the shell
/// (`ciel-server`), because reading the wall clock is I/O.
pub trait Clock: Send + Sync + 'static {
    /// The current instant (UTC).
    fn now(&self) -> Timestamp;
}

/// A clock that only moves when told to: deterministic tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward (or backward with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    /// Sets the clock to an instant.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let clock = ManualClock::new(t0);
        assert_eq!(clock.now(), t0);
        clock.advance(SignedDuration::from_hours(2));
        assert_eq!(clock.now(), "2026-03-29T02:30:00Z".parse().unwrap());
    }
}
