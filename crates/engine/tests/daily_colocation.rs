//! Boundary tables of the daily split of a month (SLA page chart) and of the
//! yearly colocation figures (R5.6). Expected values are worked by hand in
//! the comments, from RULES.md.

use ciel_engine::{
    Engine, Lang,
    availability::{Episode, Window},
    colocation::{DatacenterEpisode, DatacenterEpisodeStatus},
    explain::num_dp,
};
use ciel_terms::{ColocationKind, ColocationMeasure, EpisodeKind, ExclusionReason, Offer};
use jiff::Timestamp;

fn eng() -> Engine {
    Engine::embedded().unwrap()
}
fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn conn(a: &str, b: &str) -> Episode {
    Episode {
        id: a.to_string(),
        kind: EpisodeKind::ClusterConnectivity,
        start: ts(a),
        end: ts(b),
        impacts_service: true,
        source: "probe".into(),
        exclusion: None,
    }
}

#[test]
fn paris_days_are_23_or_25_hours_on_the_changes() {
    let e = eng();
    // 2026: summer time starts Sunday 29 March (23 h = 1 380 min) and ends
    // Sunday 25 October (25 h = 1 500 min); every other day is 1 440 min.
    for (month, days, short_or_long_day, minutes, month_minutes) in [
        (3, 31, 29, 1_380, 44_580),
        (10, 31, 25, 1_500, 44_700),
        (4, 30, 1, 1_440, 43_200),
        (2, 28, 28, 1_440, 40_320),
    ] {
        let r = e
            .availability(Offer::MonoDc, 2026, month, &[], &[])
            .unwrap();
        let d = e.daily_unavailability(&r.value, &[], &[]).unwrap();
        assert_eq!(d.len(), days, "2026-{month}");
        assert_eq!(
            d[short_or_long_day - 1].day_minutes,
            minutes,
            "2026-{month}"
        );
        assert_eq!(
            d.iter().map(|x| x.day_minutes).sum::<i64>(),
            month_minutes,
            "2026-{month}: the days make the month"
        );
        assert!(d.iter().all(|x| x.unavailable_minutes == 0));
    }
}

#[test]
fn an_hour_lost_across_the_spring_change_is_one_hour_of_a_23_hour_day() {
    let e = eng();
    // 29 March 2026, 01:30 CET (00:30Z) to 03:30 CEST (01:30Z): one real hour
    // although the wall clock shows two. The day has 1 380 minutes:
    // (1 380 − 60) / 1 380 = 95.652173... % → 95.6522.
    let ep = [conn(
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
    )];
    let r = e.availability(Offer::MonoDc, 2026, 3, &ep, &[]).unwrap();
    assert_eq!(r.value.unavailable_minutes, 60);
    let d = e.daily_unavailability(&r.value, &ep, &[]).unwrap();
    assert_eq!(d[28].date.to_string(), "2026-03-29");
    assert_eq!((d[28].day_minutes, d[28].unavailable_minutes), (1_380, 60));
    assert_eq!(num_dp(d[28].rate_percent, 4, Lang::En), "95.6522");
    // 25 October 2026, 02:30 CEST (00:30Z) to 02:30 CET (01:30Z): one hour of
    // a 1 500-minute day: (1 500 − 60) / 1 500 = 96 % exactly.
    let ep = [conn(
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
    )];
    let r = e.availability(Offer::MonoDc, 2026, 10, &ep, &[]).unwrap();
    let d = e.daily_unavailability(&r.value, &ep, &[]).unwrap();
    assert_eq!((d[24].day_minutes, d[24].unavailable_minutes), (1_500, 60));
    assert_eq!(d[24].rate_percent, "96".parse().unwrap());
}

#[test]
fn the_days_sum_to_the_month_with_overlaps_windows_and_month_ends() {
    let e = eng();
    let episodes = [
        // 10 April 23:50 → 11 April 00:20: 10 min on the 10th, 20 on the 11th...
        conn("2026-04-10T23:50:00+02:00", "2026-04-11T00:20:00+02:00"),
        // ...merged with 00:00 → 00:30: the 11th has 30, not 20 + 30.
        conn("2026-04-11T00:00:00+02:00", "2026-04-11T00:30:00+02:00"),
        // 15 April 10:00 → 11:00, a notified window covers 10:30 → 12:00: 30.
        conn("2026-04-15T10:00:00+02:00", "2026-04-15T11:00:00+02:00"),
        // 3 minutes: too short (R5.2), nothing on the 20th.
        conn("2026-04-20T10:00:00+02:00", "2026-04-20T10:03:00+02:00"),
        // 30 April 23:00 → 1 May 01:00: 60 on the 30th, May is another month.
        conn("2026-04-30T23:00:00+02:00", "2026-05-01T01:00:00+02:00"),
    ];
    let windows = [Window {
        id: "mw".into(),
        start: ts("2026-04-15T10:30:00+02:00"),
        end: ts("2026-04-15T12:00:00+02:00"),
        reason: ExclusionReason::NotifiedMaintenance,
        notified_at: Some(ts("2026-04-01T09:00:00+02:00")),
        source: "planning".into(),
    }];
    let r = e
        .availability(Offer::MonoDc, 2026, 4, &episodes, &windows)
        .unwrap();
    // U = 10 + 30 + 30 + 60 = 130.
    assert_eq!(r.value.unavailable_minutes, 130);
    let d = e
        .daily_unavailability(&r.value, &episodes, &windows)
        .unwrap();
    let by_day: Vec<(i8, i64)> = d
        .iter()
        .filter(|x| x.unavailable_minutes > 0)
        .map(|x| (x.date.day(), x.unavailable_minutes))
        .collect();
    assert_eq!(by_day, vec![(10, 10), (11, 30), (15, 30), (30, 60)]);
    assert_eq!(d.iter().map(|x| x.unavailable_minutes).sum::<i64>(), 130);
    // Inputs that are not the result's are refused, never silently split.
    assert!(
        e.daily_unavailability(&r.value, &episodes[..4], &windows)
            .is_err()
    );
    let mut other = episodes.clone();
    other[4] = conn("2026-04-29T23:00:00+02:00", "2026-04-30T01:00:00+02:00");
    other[2] = conn("2026-04-16T10:00:00+02:00", "2026-04-16T11:30:00+02:00");
    assert!(e.daily_unavailability(&r.value, &other, &windows).is_err());
}

fn dc(kind: ColocationKind, a: &str, b: &str) -> DatacenterEpisode {
    DatacenterEpisode {
        id: a.to_string(),
        kind,
        start: ts(a),
        end: ts(b),
        exclusion: None,
    }
}

#[test]
fn colocation_year_merges_kinds_and_clips_to_the_paris_year() {
    use ColocationKind::*;
    let e = eng();
    let mut force_majeure = dc(
        Temperature,
        "2026-06-01T10:00:00+02:00",
        "2026-06-01T12:00:00+02:00",
    );
    force_majeure.exclusion = Some(ExclusionReason::ForceMajeure);
    let episodes = [
        // network 10:00 → 10:30 and power 10:15 → 10:45: 30 + 30, merged 45.
        dc(
            Network,
            "2026-03-01T10:00:00+01:00",
            "2026-03-01T10:30:00+01:00",
        ),
        dc(
            Power,
            "2026-03-01T10:15:00+01:00",
            "2026-03-01T10:45:00+01:00",
        ),
        // Paris New Year's Eve 23:50 → 00:10: only 10 minutes are 2026's.
        dc(
            Network,
            "2025-12-31T23:50:00+01:00",
            "2026-01-01T00:10:00+01:00",
        ),
        // 40 seconds touching two minute slots: 2 (no 4-minute minimum here).
        dc(
            Network,
            "2026-07-01T12:00:30+02:00",
            "2026-07-01T12:01:10+02:00",
        ),
        force_majeure,
        // All in 2025: outside.
        dc(
            Power,
            "2025-05-01T10:00:00+02:00",
            "2025-05-01T11:00:00+02:00",
        ),
    ];
    let r = e.colocation_year("MLB", 2026, &episodes).unwrap();
    let v = &r.value;
    // Y = 365 × 1 440 = 525 600; U = 45 + 10 + 2 = 57;
    // (525 600 − 57) / 525 600 = 99.98915... % ≥ 99.90: met.
    assert_eq!((v.year_minutes, v.unavailable_minutes), (525_600, 57));
    assert_eq!(num_dp(v.rate_percent, 4, Lang::En), "99.9892");
    assert!(v.met);
    assert_eq!(v.measure, ColocationMeasure::Combined);
    let kinds: Vec<i64> = v.per_kind.iter().map(|k| k.unavailable_minutes).collect();
    // network 30 + 10 + 2 = 42, power 30, temperature 0 (excluded).
    assert_eq!(kinds, vec![42, 30, 0]);
    assert_eq!(
        v.episodes[4],
        DatacenterEpisodeStatus::Excluded(ExclusionReason::ForceMajeure)
    );
    assert_eq!(v.episodes[5], DatacenterEpisodeStatus::OutsideYear);
    let fr = r.explanation.render(Lang::Fr);
    assert!(fr.contains("A2 I.A.2 (R5.6)"), "{fr}");
    assert!(fr.contains("force majeure"), "{fr}");
    // A leap year has 366 × 1 440 = 527 040 minutes.
    let r = e.colocation_year("MLB", 2028, &[]).unwrap();
    assert_eq!(r.value.year_minutes, 527_040);
}

#[test]
fn colocation_measure_is_a_terms_parameter() {
    use ColocationKind::*;
    // PA3 guarantees 99.99 %: 525 600 × 0.01 % = 52.56 minutes allowed.
    // Network 30 and power 30 on different days: combined 60 > 52.56, missed;
    // per kind 30 each ≤ 52.56, all met, and the figure is the lowest rate,
    // (525 600 − 30) / 525 600 = 99.99429 %.
    let episodes = [
        dc(
            Network,
            "2026-02-01T10:00:00+01:00",
            "2026-02-01T10:30:00+01:00",
        ),
        dc(
            Power,
            "2026-02-02T10:00:00+01:00",
            "2026-02-02T10:30:00+01:00",
        ),
    ];
    let combined = eng().colocation_year("PA3", 2026, &episodes).unwrap().value;
    assert_eq!(combined.unavailable_minutes, 60);
    assert!(!combined.met);
    let mut terms = ciel_terms::embedded().clone();
    terms.availability.colocation.measure.value = ColocationMeasure::PerKind;
    let per_kind = Engine::new(&terms)
        .unwrap()
        .colocation_year("PA3", 2026, &episodes)
        .unwrap();
    assert!(per_kind.value.met);
    assert_eq!(num_dp(per_kind.value.rate_percent, 5, Lang::En), "99.99429");
    assert!(
        per_kind
            .explanation
            .render(Lang::En)
            .contains("three figures")
    );
    // An unknown datacenter is refused.
    assert!(eng().colocation_year("XYZ", 2026, &[]).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    // 2026-10-01T00:00:00+02:00: October holds the 25-hour day.
    const OCTOBER: i64 = 1_790_805_600;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(OCTOBER + s).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Whatever the episodes and windows (crossing the month's ends,
        /// overlapping, too short, unnotified), the days sum to the month.
        #[test]
        fn the_days_always_sum_to_the_month(
            eps in proptest::collection::vec((-86_400i64..2_800_000, 1i64..20_000, any::<bool>()), 0..40),
            wins in proptest::collection::vec((0i64..2_700_000, 60i64..50_000, any::<bool>()), 0..4),
        ) {
            let e = eng();
            let episodes: Vec<Episode> = eps
                .iter()
                .map(|(s, len, excluded)| {
                    let mut x = conn(&at(*s).to_string(), &at(s + len).to_string());
                    x.exclusion = excluded.then_some(ExclusionReason::ForceMajeure);
                    x
                })
                .collect();
            let windows: Vec<Window> = wins
                .iter()
                .map(|(s, len, notified)| Window {
                    id: String::new(),
                    start: at(*s),
                    end: at(s + len),
                    reason: ExclusionReason::NotifiedMaintenance,
                    notified_at: notified.then(|| at(s - 30 * 86_400)),
                    source: String::new(),
                })
                .collect();
            let r = e.availability(Offer::DualDc, 2026, 10, &episodes, &windows).unwrap().value;
            let d = e.daily_unavailability(&r, &episodes, &windows).unwrap();
            prop_assert_eq!(d.len(), 31);
            prop_assert_eq!(d.iter().map(|x| x.unavailable_minutes).sum::<i64>(), r.unavailable_minutes);
            prop_assert_eq!(d.iter().map(|x| x.day_minutes).sum::<i64>(), r.month_minutes);
            prop_assert!(d.iter().all(|x| x.unavailable_minutes <= x.day_minutes));
        }
    }
}
