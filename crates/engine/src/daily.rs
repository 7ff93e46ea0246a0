//! A month's counted unavailability split per Paris day (R5.1-R5.2), for the
//! daily chart of the SLA page.
//!
//! The split recomputes nothing of its own: it takes the episodes and
//! windows the month's [`AvailabilityResult`] was computed from, keeps the
//! episodes the result counted and the windows it excluded, and assigns each
//! counted minute slot to the Paris day it lies in. Days are 23 h or 25 h on
//! the DST changes; minute slots never straddle a Paris midnight (offsets are
//! whole hours), so the days sum to the month's U exactly, which is checked.

use jiff::ToSpan;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::availability::{
    AvailabilityResult, Episode, EpisodeStatus, Window, covered_slots, floor_s, merge,
    month_bounds, overlap, touched_slots,
};
use crate::evidence::parse_month;
use crate::{Engine, EngineError, invalid};

/// The counted unavailability of one Paris day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigure {
    pub date: Date,
    /// 1 440, or 1 380 / 1 500 on the days the clocks change.
    pub day_minutes: i64,
    pub unavailable_minutes: i64,
    /// (day_minutes − U) / day_minutes × 100, exact.
    pub rate_percent: Decimal,
}

/// `a` less `b`, both sorted and merged.
fn subtract(a: &[(i64, i64)], b: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &(s, e) in a {
        let mut cur = s;
        while j < b.len() && b[j].1 <= cur {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < e {
            if b[k].0 > cur {
                out.push((cur, b[k].0));
            }
            cur = cur.max(b[k].1);
            k += 1;
        }
        if cur < e {
            out.push((cur, e));
        }
    }
    out
}

impl Engine {
    /// Splits the counted unavailable minutes of `result` per Paris day of
    /// its month. `episodes` and `windows` are the inputs `result` came from
    /// (same order); the days sum to `result.unavailable_minutes`, or the
    /// inputs are refused as not being the result's.
    pub fn daily_unavailability(
        &self,
        result: &AvailabilityResult,
        episodes: &[Episode],
        windows: &[Window],
    ) -> Result<Vec<DayFigure>, EngineError> {
        if episodes.len() != result.episodes.len() || windows.len() != result.windows.len() {
            return Err(invalid("episodes and windows are not those of the result"));
        }
        let (year, month) = parse_month(&result.month)?;
        let (ms, me) = month_bounds(&self.month_tz, year, month)?;
        let (ms, me) = (floor_s(ms), floor_s(me));
        let slot = i64::from(self.terms.availability.qualification.slot_seconds.max(1));
        let mut counted: Vec<(i64, i64)> = result
            .episodes
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    EpisodeStatus::Counted | EpisodeStatus::WithinExcludedWindow
                )
            })
            .map(|o| {
                let e = &episodes[o.index as usize];
                touched_slots(e.start, e.end, slot, ms, me)
            })
            .filter(|(a, b)| a < b)
            .collect();
        merge(&mut counted);
        let mut excluded: Vec<(i64, i64)> = result
            .windows
            .iter()
            .filter(|o| o.excluded)
            .map(|o| {
                let w = &windows[o.index as usize];
                covered_slots(w.start, w.end, slot, ms, me)
            })
            .filter(|(a, b)| a < b)
            .collect();
        merge(&mut excluded);
        let down = subtract(&counted, &excluded);

        let first = Date::new(year, month, 1).map_err(|e| invalid(e.to_string()))?;
        let mut days = Vec::with_capacity(31);
        let mut day = first;
        let mut total = 0;
        while day.month() == month {
            let next = day
                .checked_add(1.day())
                .map_err(|e| invalid(e.to_string()))?;
            let at = |d: Date| {
                self.month_tz
                    .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                    .map(floor_s)
                    .map_err(|e| invalid(e.to_string()))
            };
            let (ds, de) = (at(day)?, at(next)?);
            let secs = overlap(&down, &[(ds, de)]);
            let day_minutes = (de - ds) / 60;
            let unavailable_minutes = secs / 60;
            total += secs;
            days.push(DayFigure {
                date: day,
                day_minutes,
                unavailable_minutes,
                rate_percent: Decimal::from(day_minutes - unavailable_minutes)
                    * Decimal::ONE_HUNDRED
                    / Decimal::from(day_minutes),
            });
            day = next;
        }
        if total / 60 != result.unavailable_minutes || total % 60 != 0 {
            return Err(invalid("episodes and windows are not those of the result"));
        }
        Ok(days)
    }
}

#[cfg(test)]
mod tests {
    use super::subtract;

    #[test]
    fn subtract_cuts_holes_and_ends() {
        let a = [(0, 100), (200, 300)];
        let b = [(10, 20), (90, 210), (290, 400)];
        assert_eq!(subtract(&a, &b), vec![(0, 10), (20, 90), (210, 290)]);
        assert_eq!(subtract(&a, &[]), a.to_vec());
        assert_eq!(subtract(&[(5, 6)], &[(0, 10)]), vec![]);
    }
}
