//! Service calendars and business-time arithmetic for ciel.
//!
//! A [`ServiceCalendar`] says when a support level is "open" (R4.1, CG 14.1):
//! weekdays with opening hours in a civil time zone, closed on a set of public
//! holidays, or open around the clock. Two operations serve the ticket clocks of
//! R4.3/R4.4 and the hour book of R8.2:
//!
//! * [`ServiceCalendar::add_business`]: the instant at which a business duration
//!   elapses from a start (optionally with pause intervals, see
//!   [`ServiceCalendar::deadline`]);
//! * [`ServiceCalendar::business_between`]: the business time between two instants.
//!
//! Conventions, chosen to match the contract's wording:
//! * a start outside opening hours starts at the next opening;
//! * a deadline that falls exactly on a closing time *is* that closing time (it
//!   is not pushed to the next opening);
//! * business time is measured in real elapsed seconds inside opening hours,
//!   so a DST change inside an open interval (possible only for calendars open at
//!   02:00-03:00) counts the hour actually lived, never a wall-clock hour;
//! * opening hours are wall-clock times in the calendar's zone, converted with
//!   jiff's tz database (bundled, so Europe/Paris works on every target).
//!
//! Performance: days are walked with integer "epoch day" arithmetic (no
//! allocation) and whole weeks are skipped arithmetically when the remaining
//! duration exceeds a week, so a GTR deadline costs a handful of tz conversions.
//!
//! This crate does no I/O and never reads the clock.

pub mod holidays;

pub use holidays::{Holiday, HolidaySet, easter_sunday, holiday_on, holidays_of_year};
use holidays::{civil_from_days, days_from_civil, is_holiday_day, weekday_from_days};
use jiff::{SignedDuration, Timestamp, civil, tz::TimeZone};
use serde::{Deserialize, Serialize};

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: u32 = 86_400;

/// Errors building a calendar or computing with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("invalid time of day {0:?} (expected HH:MM, 00:00 to 24:00)")]
    InvalidTimeOfDay(String),
    #[error("opening time {opens} is not before closing time {closes}")]
    EmptyOpening { opens: String, closes: String },
    #[error("a weekly calendar needs at least one opening day")]
    NoOpeningDay,
    #[error("instant out of the supported range")]
    OutOfRange,
    #[error("negative duration {0}")]
    NegativeDuration(SignedDuration),
}

/// Day of the week, as written in terms files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday = 0 ... Sunday = 6.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The serialisable description of a calendar, as found in a terms file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum CalendarSpec {
    /// Open every instant (Platinum support, the P1 clock).
    Always { timezone: String },
    /// Open on some weekdays between two wall-clock times, outside holidays.
    Weekly {
        timezone: String,
        days: Vec<Weekday>,
        /// "HH:MM" local wall-clock time.
        opens: String,
        /// "HH:MM" local wall-clock time; "24:00" means midnight at the end of the day.
        closes: String,
        holidays: HolidaySet,
    },
}

/// Parse "HH:MM" (00:00 to 24:00) into seconds after midnight.
pub fn parse_time_of_day(s: &str) -> Result<u32, CalendarError> {
    let err = || CalendarError::InvalidTimeOfDay(s.to_string());
    let (h, m) = s.split_once(':').ok_or_else(err)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(err());
    }
    let h: u32 = h.parse().map_err(|_| err())?;
    let m: u32 = m.parse().map_err(|_| err())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(err());
    }
    Ok(h * 3600 + m * 60)
}

/// A service calendar, ready for arithmetic. Cheap to clone (the zone is shared).
#[derive(Debug, Clone)]
pub struct ServiceCalendar {
    tz: TimeZone,
    always: bool,
    /// Opening (seconds after local midnight) per weekday, Monday first.
    hours: [Option<(u32, u32)>; 7],
    holidays: HolidaySet,
    /// Nominal open seconds of a week without holiday nor DST change.
    week_secs: i128,
}

impl ServiceCalendar {
    /// A calendar open at every instant.
    pub fn always_open(tz: TimeZone) -> Self {
        ServiceCalendar {
            tz,
            always: true,
            hours: [Some((0, SECS_PER_DAY)); 7],
            holidays: HolidaySet::None,
            week_secs: 7 * i128::from(SECS_PER_DAY),
        }
    }

    /// A weekly calendar: `days` open from `opens` to `closes` (seconds after
    /// local midnight), closed on the `holidays`.
    pub fn weekly(
        tz: TimeZone,
        days: &[Weekday],
        opens: u32,
        closes: u32,
        holidays: HolidaySet,
    ) -> Result<Self, CalendarError> {
        if days.is_empty() {
            return Err(CalendarError::NoOpeningDay);
        }
        if opens >= closes || closes > SECS_PER_DAY {
            return Err(CalendarError::EmptyOpening {
                opens: fmt_secs(opens),
                closes: fmt_secs(closes),
            });
        }
        let mut hours = [None; 7];
        for d in days {
            hours[d.index()] = Some((opens, closes));
        }
        let week_secs = hours.iter().flatten().map(|(o, c)| i128::from(c - o)).sum();
        Ok(ServiceCalendar {
            tz,
            always: false,
            hours,
            holidays,
            week_secs,
        })
    }

    /// Build a calendar from its terms-file description.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, CalendarError> {
        match spec {
            CalendarSpec::Always { timezone } => Ok(Self::always_open(load_tz(timezone)?)),
            CalendarSpec::Weekly {
                timezone,
                days,
                opens,
                closes,
                holidays,
            } => Self::weekly(
                load_tz(timezone)?,
                days,
                parse_time_of_day(opens)?,
                parse_time_of_day(closes)?,
                *holidays,
            ),
        }
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether the calendar is open around the clock.
    pub fn is_always_open(&self) -> bool {
        self.always
    }

    /// Length of one full opening day, i.e. one "jour ouvré" (JO) of R4.3: the
    /// longest daily opening of the calendar (24 h for an always-open one).
    pub fn full_day(&self) -> SignedDuration {
        let secs = self
            .hours
            .iter()
            .flatten()
            .map(|(o, c)| c - o)
            .max()
            .unwrap_or(0);
        SignedDuration::from_secs(i64::from(secs))
    }

    /// Whether the calendar is open at `t` (opening instant included, closing excluded).
    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always {
            return true;
        }
        let tn = t.as_nanosecond();
        let day = self.local_day(t);
        match self.open_interval(day) {
            Some((o, c)) => o <= tn && tn < c,
            None => false,
        }
    }

    /// The first instant at or after `t` at which the calendar is open.
    pub fn next_opening(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        self.add_business(t, SignedDuration::ZERO)
    }

    /// The instant at which `duration` of business time has elapsed from `start`.
    ///
    /// A start outside opening hours starts at the next opening; a result
    /// landing exactly on a closing time is that closing time.
    pub fn add_business(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if duration.is_negative() {
            return Err(CalendarError::NegativeDuration(duration));
        }
        let rem = duration.as_nanos();
        let r = self.add_nanos(start.as_nanosecond(), rem, self.local_day(start))?;
        to_ts(r)
    }

    /// Deadline of a business `duration` from `start` with the clock suspended
    /// during `pauses` (R4.4): each pause moves the deadline by the business
    /// time it covers. Pauses may overlap, be unsorted, start before `start`
    /// (only their part after `start` counts) or be empty (ignored).
    pub fn deadline(
        &self,
        start: Timestamp,
        duration: SignedDuration,
        pauses: &[(Timestamp, Timestamp)],
    ) -> Result<Timestamp, CalendarError> {
        if duration.is_negative() {
            return Err(CalendarError::NegativeDuration(duration));
        }
        let s = start.as_nanosecond();
        let merged = merge_pauses(s, pauses);
        let mut cur = s;
        let mut rem = duration.as_nanos();
        for (ps, pe) in merged {
            let candidate = self.add_nanos(cur, rem, self.local_day_n(cur))?;
            if candidate <= ps {
                return to_ts(candidate);
            }
            rem -= self.between_nanos(cur, ps);
            cur = cur.max(pe);
        }
        to_ts(self.add_nanos(cur, rem, self.local_day_n(cur))?)
    }

    /// Business time between `from` and `to` (zero when `to <= from`).
    pub fn business_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        dur(self.between_nanos(from.as_nanosecond(), to.as_nanosecond()))
    }

    /// Business time between `from` and `to`, less the business time covered by
    /// `pauses` (the elapsed time of a suspended clock).
    pub fn business_between_paused(
        &self,
        from: Timestamp,
        to: Timestamp,
        pauses: &[(Timestamp, Timestamp)],
    ) -> SignedDuration {
        let (f, t) = (from.as_nanosecond(), to.as_nanosecond());
        let mut total = self.between_nanos(f, t);
        for (ps, pe) in merge_pauses(f, pauses) {
            total -= self.between_nanos(ps.max(f), pe.min(t));
        }
        dur(total.max(0))
    }

    /// Public holidays that closed an otherwise open day of this calendar
    /// between two instants (local days, at most 1 000 days are scanned): what
    /// an explanation cites when a deadline jumps over a holiday.
    pub fn closed_holidays_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(civil::Date, Holiday)> {
        let mut out = Vec::new();
        if self.always || self.holidays == HolidaySet::None || to <= from {
            return out;
        }
        let (first, last) = (self.local_day(from), self.local_day(to));
        for day in first..=last.min(first + 1000) {
            if self.hours[weekday_from_days(day) as usize].is_none() {
                continue;
            }
            let (y, m, d) = civil_from_days(day);
            if let Some(h) = holiday_on(self.holidays, y, m, d) {
                out.push((civil::date(y as i16, m as i8, d as i8), h));
            }
        }
        out
    }

    // ---- internals -------------------------------------------------------

    fn local_day(&self, t: Timestamp) -> i32 {
        let dt = self.tz.to_datetime(t);
        days_from_civil(i32::from(dt.year()), dt.month() as u8, dt.day() as u8)
    }

    fn local_day_n(&self, n: i128) -> i32 {
        match Timestamp::from_nanosecond(n) {
            Ok(t) => self.local_day(t),
            Err(_) => 0,
        }
    }

    /// Instant (ns) of local wall time `secs` after midnight of epoch day `day`.
    fn local_instant(&self, day: i32, secs: u32) -> i128 {
        let (day, secs) = if secs >= SECS_PER_DAY {
            (day + 1, secs - SECS_PER_DAY)
        } else {
            (day, secs)
        };
        let (y, m, d) = civil_from_days(day);
        let dt = civil::DateTime::new(
            y as i16,
            m as i8,
            d as i8,
            (secs / 3600) as i8,
            ((secs / 60) % 60) as i8,
            (secs % 60) as i8,
            0,
        );
        match dt {
            Ok(dt) => match self.tz.to_ambiguous_timestamp(dt).compatible() {
                Ok(ts) => ts.as_nanosecond(),
                Err(_) => i128::MAX / 4,
            },
            Err(_) => i128::MAX / 4,
        }
    }

    fn is_open_day(&self, day: i32) -> Option<(u32, u32)> {
        let hours = self.hours[weekday_from_days(day) as usize]?;
        if is_holiday_day(self.holidays, day) {
            return None;
        }
        Some(hours)
    }

    /// Open interval of a local day as instants, if the day is open.
    fn open_interval(&self, day: i32) -> Option<(i128, i128)> {
        let (o, c) = self.is_open_day(day)?;
        Some((self.local_instant(day, o), self.local_instant(day, c)))
    }

    /// Business seconds of the week starting at local day `monday`, if no UTC
    /// offset change happens in it (else `None`: walk it day by day).
    fn week_nanos(&self, monday: i32) -> Option<i128> {
        let a = self.local_instant(monday, 0);
        let b = self.local_instant(monday + 7, 0);
        if b - a != 7 * i128::from(SECS_PER_DAY) * NANOS_PER_SEC {
            return None;
        }
        let mut secs = self.week_secs;
        if self.holidays != HolidaySet::None {
            for d in monday..monday + 7 {
                if let Some((o, c)) = self.hours[weekday_from_days(d) as usize]
                    && is_holiday_day(self.holidays, d)
                {
                    secs -= i128::from(c - o);
                }
            }
        }
        Some(secs * NANOS_PER_SEC)
    }

    fn add_nanos(&self, start: i128, mut rem: i128, first_day: i32) -> Result<i128, CalendarError> {
        if self.always {
            return Ok(start + rem);
        }
        let mut day = first_day;
        // First, the partial day (or days) up to the next Monday, day by day.
        let mut guard = 0u32;
        loop {
            if weekday_from_days(day) == 0
                && day > first_day
                && rem > self.week_secs * NANOS_PER_SEC
            {
                // Skip whole weeks while the deadline lies beyond them.
                while let Some(w) = self.week_nanos(day) {
                    if w >= rem {
                        break;
                    }
                    rem -= w;
                    day += 7;
                    guard += 1;
                    if guard > 1_000_000 {
                        return Err(CalendarError::OutOfRange);
                    }
                }
            }
            if let Some((o, c)) = self.open_interval(day) {
                let s = start.max(o);
                if s < c {
                    let avail = c - s;
                    if rem <= avail {
                        return Ok(s + rem);
                    }
                    rem -= avail;
                }
            }
            day += 1;
            guard += 1;
            if guard > 4_000_000 {
                return Err(CalendarError::OutOfRange);
            }
        }
    }

    fn between_nanos(&self, from: i128, to: i128) -> i128 {
        if to <= from {
            return 0;
        }
        if self.always {
            return to - from;
        }
        let Ok(ft) = Timestamp::from_nanosecond(from) else {
            return 0;
        };
        let Ok(tt) = Timestamp::from_nanosecond(to) else {
            return 0;
        };
        let first = self.local_day(ft);
        let last = self.local_day(tt);
        let mut total = 0i128;
        let mut day = first;
        while day <= last {
            if weekday_from_days(day) == 0
                && day > first
                && day + 7 <= last
                && let Some(w) = self.week_nanos(day)
            {
                total += w;
                day += 7;
                continue;
            }
            if let Some((o, c)) = self.open_interval(day) {
                let s = from.max(o);
                let e = to.min(c);
                if s < e {
                    total += e - s;
                }
            }
            day += 1;
        }
        total
    }
}

/// Sort, clip (to at or after `start`) and merge pause intervals.
fn merge_pauses(start: i128, pauses: &[(Timestamp, Timestamp)]) -> Vec<(i128, i128)> {
    let mut v: Vec<(i128, i128)> = pauses
        .iter()
        .map(|(a, b)| (a.as_nanosecond().max(start), b.as_nanosecond()))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort_unstable();
    let mut out: Vec<(i128, i128)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn to_ts(n: i128) -> Result<Timestamp, CalendarError> {
    Timestamp::from_nanosecond(n).map_err(|_| CalendarError::OutOfRange)
}

fn dur(n: i128) -> SignedDuration {
    let secs = (n / NANOS_PER_SEC) as i64;
    let nanos = (n % NANOS_PER_SEC) as i32;
    SignedDuration::new(secs, nanos)
}

fn fmt_secs(s: u32) -> String {
    format!("{:02}:{:02}", s / 3600, (s / 60) % 60)
}

/// Look up an IANA time zone in jiff's (bundled) database.
pub fn load_tz(name: &str) -> Result<TimeZone, CalendarError> {
    TimeZone::get(name).map_err(|_| CalendarError::UnknownTimeZone(name.to_string()))
}

/// The Europe/Paris zone; infallible because jiff bundles the tz database
/// (`tzdb-bundle-always`), so a missing zone is a build defect.
pub fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_has_no_io_runtime_dependency() {
        let manifest = include_str!("../Cargo.toml");
        for banned in ["tokio", "sqlx", "axum"] {
            assert!(
                !manifest.contains(banned),
                "ciel-calendar must not depend on {banned}"
            );
        }
    }

    #[test]
    fn time_of_day_parsing() {
        assert_eq!(parse_time_of_day("09:00"), Ok(32_400));
        assert_eq!(parse_time_of_day("24:00"), Ok(86_400));
        assert!(parse_time_of_day("24:01").is_err());
        assert!(parse_time_of_day("9:00").is_err());
        assert!(parse_time_of_day("12:60").is_err());
    }
}
