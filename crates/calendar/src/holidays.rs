//! French public holidays (jours fériés) for any Gregorian year.
//!
//! The list is the one of Code du travail L3133-1: eight fixed dates plus three
//! dates derived from Easter Sunday (Easter Monday = Easter + 1, Ascension =
//! Easter + 39, Whit Monday = Easter + 50). Alsace-Moselle (départements 57, 67,
//! 68) adds Good Friday (Easter − 2) and Saint Stephen's day (26 December); the
//! support calendars of the contract say only "hors jours fériés", so which set
//! applies is a parameter of the terms ([`HolidaySet`]), not a constant here.
//!
//! Everything is computed arithmetically on "epoch days" (days since
//! 1970-01-01): no allocation, no time zone, no table that could go stale. The
//! result is checked in the tests against the independent PyPI `holidays`
//! package for 1990-2100.

use serde::{Deserialize, Serialize};

/// Which set of public holidays closes a service calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HolidaySet {
    /// No holiday closes the calendar (e.g. 24/7 support).
    None,
    /// The 11 national public holidays of Code du travail L3133-1.
    France,
    /// National holidays plus Good Friday and 26 December (Alsace-Moselle).
    FranceAlsaceMoselle,
}

/// One public holiday, with its French and English names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    NewYear,
    GoodFriday,
    EasterMonday,
    LabourDay,
    VictoryInEurope,
    Ascension,
    WhitMonday,
    BastilleDay,
    Assumption,
    AllSaints,
    Armistice,
    Christmas,
    SaintStephen,
}

impl Holiday {
    /// French name, as printed on notices and explanations.
    pub fn name_fr(self) -> &'static str {
        match self {
            Holiday::NewYear => "Jour de l'an",
            Holiday::GoodFriday => "Vendredi saint",
            Holiday::EasterMonday => "Lundi de Pâques",
            Holiday::LabourDay => "Fête du Travail",
            Holiday::VictoryInEurope => "Victoire 1945",
            Holiday::Ascension => "Ascension",
            Holiday::WhitMonday => "Lundi de Pentecôte",
            Holiday::BastilleDay => "Fête nationale",
            Holiday::Assumption => "Assomption",
            Holiday::AllSaints => "Toussaint",
            Holiday::Armistice => "Armistice 1918",
            Holiday::Christmas => "Noël",
            Holiday::SaintStephen => "Saint-Étienne",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Holiday::NewYear => "New Year's Day",
            Holiday::GoodFriday => "Good Friday",
            Holiday::EasterMonday => "Easter Monday",
            Holiday::LabourDay => "Labour Day",
            Holiday::VictoryInEurope => "Victory in Europe Day",
            Holiday::Ascension => "Ascension Day",
            Holiday::WhitMonday => "Whit Monday",
            Holiday::BastilleDay => "Bastille Day",
            Holiday::Assumption => "Assumption Day",
            Holiday::AllSaints => "All Saints' Day",
            Holiday::Armistice => "Armistice Day",
            Holiday::Christmas => "Christmas Day",
            Holiday::SaintStephen => "Saint Stephen's Day",
        }
    }
}

const FIXED: [(u8, u8, Holiday); 8] = [
    (1, 1, Holiday::NewYear),
    (5, 1, Holiday::LabourDay),
    (5, 8, Holiday::VictoryInEurope),
    (7, 14, Holiday::BastilleDay),
    (8, 15, Holiday::Assumption),
    (11, 1, Holiday::AllSaints),
    (11, 11, Holiday::Armistice),
    (12, 25, Holiday::Christmas),
];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
/// Month 1-12, day 1-31; no validation (callers pass real dates).
pub const fn days_from_civil(y: i32, m: u8, d: u8) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub const fn civil_from_days(z: i32) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Weekday of an epoch day, Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday).
pub const fn weekday_from_days(z: i32) -> u8 {
    (z + 3).rem_euclid(7) as u8
}

/// Easter Sunday of a Gregorian year as (month, day), by the anonymous
/// Gregorian computus (Meeus/Jones/Butcher), valid for every year >= 1583.
pub const fn easter_sunday(year: i32) -> (u8, u8) {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    (month as u8, day as u8)
}

/// The holiday falling on a date, if any, for a holiday set.
pub fn holiday_on(set: HolidaySet, y: i32, m: u8, d: u8) -> Option<Holiday> {
    if set == HolidaySet::None {
        return None;
    }
    for (fm, fd, h) in FIXED {
        if fm == m && fd == d {
            return Some(h);
        }
    }
    if set == HolidaySet::FranceAlsaceMoselle && m == 12 && d == 26 {
        return Some(Holiday::SaintStephen);
    }
    // Moveable feasts fall between 20 March (Good Friday) and 14 June (Whit Monday).
    if !(3..=6).contains(&m) {
        return None;
    }
    let (em, ed) = easter_sunday(y);
    let offset = days_from_civil(y, m, d) - days_from_civil(y, em, ed);
    match offset {
        1 => Some(Holiday::EasterMonday),
        39 => Some(Holiday::Ascension),
        50 => Some(Holiday::WhitMonday),
        -2 if set == HolidaySet::FranceAlsaceMoselle => Some(Holiday::GoodFriday),
        _ => None,
    }
}

/// Whether an epoch day is a public holiday of the set.
pub fn is_holiday_day(set: HolidaySet, epoch_day: i32) -> bool {
    if set == HolidaySet::None {
        return false;
    }
    let (y, m, d) = civil_from_days(epoch_day);
    holiday_on(set, y, m, d).is_some()
}

/// All holidays of a year, sorted by date. Two holidays can share a date (e.g.
/// Ascension on 1 May 2008): the fixed one is listed, then the moveable one.
pub fn holidays_of_year(set: HolidaySet, year: i16) -> Vec<(jiff::civil::Date, Holiday)> {
    let mut out = Vec::new();
    if set == HolidaySet::None {
        return out;
    }
    let y = i32::from(year);
    let mk = |z: i32| {
        let (yy, mm, dd) = civil_from_days(z);
        jiff::civil::date(yy as i16, mm as i8, dd as i8)
    };
    for (m, d, h) in FIXED {
        out.push((jiff::civil::date(year, m as i8, d as i8), h));
    }
    let (em, ed) = easter_sunday(y);
    let easter = days_from_civil(y, em, ed);
    out.push((mk(easter + 1), Holiday::EasterMonday));
    out.push((mk(easter + 39), Holiday::Ascension));
    out.push((mk(easter + 50), Holiday::WhitMonday));
    if set == HolidaySet::FranceAlsaceMoselle {
        out.push((mk(easter - 2), Holiday::GoodFriday));
        out.push((jiff::civil::date(year, 12, 26), Holiday::SaintStephen));
    }
    out.sort_by_key(|(date, _)| *date);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for z in days_from_civil(1900, 1, 1)..days_from_civil(2300, 1, 1) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // 2026-03-29 is a Sunday.
        assert_eq!(weekday_from_days(days_from_civil(2026, 3, 29)), 6);
    }

    #[test]
    fn easter_known_dates() {
        // Published Easter Sundays.
        assert_eq!(easter_sunday(2024), (3, 31));
        assert_eq!(easter_sunday(2025), (4, 20));
        assert_eq!(easter_sunday(2026), (4, 5));
        assert_eq!(easter_sunday(2038), (4, 25)); // latest possible
        assert_eq!(easter_sunday(2285), (3, 22)); // earliest possible
    }
}
