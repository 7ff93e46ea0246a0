//! Boundaries of the evidence assembly, worked by hand on June 2026
//! (30 days, all in CEST: M = 43 200 minutes) for a Mono Site VM (99.90 %,
//! R5.4) of 1 000 EUR a month on cluster `c1`.
//!
//! Penalties (R5.5, 99.90 class): 99.50 <= rate < 99.90 gives 5 %; rate <
//! 95 gives 20 %. 60 minutes down: 43 140 / 43 200 = 99.861 % -> 5 % = 50.00.

use std::collections::HashMap;

use ciel_domain::Id;
use ciel_engine::Engine;
use ciel_engine::availability::EpisodeStatus;
use ciel_store::episodes::EpisodeRow;
use ciel_store::maintenance::{NoticeRow, WindowRow};
use ciel_store::sla::SlaService;
use ciel_terms::ExclusionReason;
use jiff::Timestamp;
use rust_decimal::Decimal;

use super::evidence::{Month, MonthFacts, PageFacts, build};

/// An instant given as Paris wall-clock time.
fn paris(s: &str) -> Timestamp {
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s)
        .unwrap()
        .to_zoned(super::zone())
        .unwrap()
        .timestamp()
}

fn service() -> SlaService {
    SlaService {
        id: Id::from_raw("svc_a".into()),
        org_id: Id::from_raw("org_a".into()),
        kind: "cloud_vm".into(),
        label: "VM".into(),
        item_json: r#"{"kind":"cloud_vm","vcpu":2,"ram_gb":4,"storage_gb":50,"class":"mono_site"}"#
            .into(),
        monthly_fee: "1000".into(),
        terms_version: ciel_terms::embedded().version.id.clone(),
        cluster_id: Some("c1".into()),
        state_json: "{}".into(),
    }
}

fn episode(id: &str, on: (&str, &str), start: &str, end: Option<&str>) -> EpisodeRow {
    let (cluster_id, service_id) = match on.0 {
        "cluster" => (Some(on.1.to_owned()), None),
        _ => (None, Some(on.1.to_owned())),
    };
    EpisodeRow {
        id: Id::from_raw(id.into()),
        kind: "cluster_connectivity".into(),
        cluster_id,
        service_id,
        start: paris(start),
        end: end.map(paris),
        impacts_service: true,
        source: "probe".into(),
        idempotency_key: id.into(),
        exclusion: None,
        exclusion_note: None,
        ticket_id: None,
        version: 0,
        created_at: paris(start),
        updated_at: paris(start),
    }
}

fn june() -> Month {
    Month::parse("2026-06", "month").unwrap()
}

fn after_june() -> Timestamp {
    paris("2026-07-01 08:00")
}

struct Case {
    facts: MonthFacts,
    page: PageFacts,
    now: Timestamp,
}

impl Case {
    fn new() -> Case {
        Case {
            facts: MonthFacts::default(),
            page: PageFacts::default(),
            now: after_june(),
        }
    }
    fn own(mut self, e: EpisodeRow) -> Case {
        self.page
            .episodes
            .entry(e.service_id.clone().unwrap())
            .or_default()
            .push(e);
        self
    }
    fn cluster(mut self, e: EpisodeRow) -> Case {
        self.facts
            .cluster_episodes
            .entry(e.cluster_id.clone().unwrap())
            .or_default()
            .push(e);
        self
    }
    /// (unavailable minutes, penalty %, credit, not-counted statuses)
    fn run(&self) -> (i64, Decimal, Decimal, Vec<EpisodeStatus>) {
        let ev = build(&service(), &june(), self.now, &self.facts, &self.page).unwrap();
        let st = Engine::embedded().unwrap().statement(&ev).unwrap().value;
        (
            st.availability.unavailable_minutes,
            st.availability.penalty_percent,
            st.credit,
            st.not_counted.iter().map(|n| n.status).collect(),
        )
    }
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn month_bounds_are_paris_midnights() {
    let m = june();
    assert_eq!(
        m.start,
        "2026-05-31T22:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(m.end, "2026-06-30T22:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(m.last_day.to_string(), "2026-06-30");
}

#[test]
fn a_cluster_episode_reaches_the_services_on_it_only() {
    let on_c1 = Case::new().cluster(episode(
        "e1",
        ("cluster", "c1"),
        "2026-06-10 10:00",
        Some("2026-06-10 11:00"),
    ));
    assert_eq!(on_c1.run(), (60, d("5"), d("50.00"), vec![]));
    let on_c2 = Case::new().cluster(episode(
        "e1",
        ("cluster", "c2"),
        "2026-06-10 10:00",
        Some("2026-06-10 11:00"),
    ));
    assert_eq!(on_c2.run(), (0, d("0"), d("0.00"), vec![]));
}

#[test]
fn own_and_cluster_episodes_merge() {
    // 10:00-11:00 on the cluster, 10:30-11:30 on the service: 90 minutes,
    // 43 110 / 43 200 = 99.79 % -> 5 %.
    let c = Case::new()
        .cluster(episode(
            "e1",
            ("cluster", "c1"),
            "2026-06-10 10:00",
            Some("2026-06-10 11:00"),
        ))
        .own(episode(
            "e2",
            ("service", "svc_a"),
            "2026-06-10 10:30",
            Some("2026-06-10 11:30"),
        ));
    assert_eq!(c.run(), (90, d("5"), d("50.00"), vec![]));
}

#[test]
fn an_open_episode_ends_at_the_month_end_or_now() {
    let open = episode("e1", ("service", "svc_a"), "2026-06-30 23:00", None);
    // Computed after the month: up to July 1 00:00 Paris, 60 minutes.
    assert_eq!(Case::new().own(open.clone()).run().0, 60);
    // Computed during the month at 23:10: 10 minutes so far.
    let mut during = Case::new().own(open);
    during.now = paris("2026-06-30 23:10");
    assert_eq!(during.run().0, 10);
}

#[test]
fn an_episode_across_the_month_boundary_counts_its_june_minutes() {
    // May 31 23:50 -> June 1 00:02: 12 minutes long, so it qualifies (>= 4
    // min whole); June holds 2 of its slots.
    let c = Case::new().own(episode(
        "e1",
        ("service", "svc_a"),
        "2026-05-31 23:50",
        Some("2026-06-01 00:02"),
    ));
    assert_eq!(c.run().0, 2);
    // June 30 23:58 -> July 1 00:01: 3 minutes long, too short anywhere.
    let c = Case::new().own(episode(
        "e1",
        ("service", "svc_a"),
        "2026-06-30 23:58",
        Some("2026-07-01 00:01"),
    ));
    assert_eq!(
        c.run(),
        (0, d("0"), d("0.00"), vec![EpisodeStatus::TooShort])
    );
}

#[test]
fn an_excluded_episode_keeps_its_reason() {
    let mut e = episode(
        "e1",
        ("service", "svc_a"),
        "2026-06-10 10:00",
        Some("2026-06-10 12:00"),
    );
    e.exclusion = Some("client_fault".into());
    assert_eq!(
        Case::new().own(e).run(),
        (
            0,
            d("0"),
            d("0.00"),
            vec![EpisodeStatus::Excluded(ExclusionReason::ClientFault)]
        )
    );
}

/// A two-hour window on cluster c1, June 15 02:00-04:00 Paris, with an
/// episode filling it, and notices to org_a and org_b sent at the given
/// Paris times.
fn maintenance(org_a_notice: &str, org_b_notice: &str) -> Case {
    let mut c = Case::new().cluster(episode(
        "e1",
        ("cluster", "c1"),
        "2026-06-15 02:00",
        Some("2026-06-15 04:00"),
    ));
    let w = WindowRow {
        id: Id::from_raw("mnt_1".into()),
        title: "upgrade".into(),
        start: paris("2026-06-15 02:00"),
        end: paris("2026-06-15 04:00"),
        impact: "cut".into(),
        reason: "upgrade".into(),
        contact: "ops".into(),
        urgent_security_reason: None,
        send_by: paris("2026-06-08 02:00"),
        created_at: paris("2026-06-01 02:00"),
        sequence: 0,
        updated_at: paris("2026-06-01 02:00"),
        cancelled_at: None,
        cancel_reason: None,
        services: vec![],
        clusters: vec!["c1".into()],
    };
    let notice = |org: &str, at: &str| NoticeRow {
        window_id: "mnt_1".into(),
        org_id: Id::from_raw(org.into()),
        notified_at: Some(paris(at)),
        status: "in_time".into(),
        excluded: true,
        services: vec![],
        explanation_json: "{}".into(),
        last_sent_at: Some(paris(at)),
    };
    c.facts.windows = vec![(
        w,
        vec![notice("org_a", org_a_notice), notice("org_b", org_b_notice)],
    )];
    c
}

#[test]
fn maintenance_notified_7_days_ahead_is_excluded_6_days_is_not() {
    // Exactly 7 days before (June 8 02:00): excluded, nothing counted.
    assert_eq!(
        maintenance("2026-06-08 02:00", "2026-06-09 02:00").run().0,
        0
    );
    // 6 days before: the 120 minutes count (43 080 / 43 200 = 99.72 %, 5 %),
    // although another client was notified 7 days ahead.
    assert_eq!(
        maintenance("2026-06-09 02:00", "2026-06-08 02:00").run(),
        (120, d("5"), d("50.00"), vec![])
    );
}

#[test]
fn credits_earlier_in_the_year_hit_the_yearly_cap() {
    // 3 000 minutes down: 40 200 / 43 200 = 93.06 % < 95 -> 20 % = 200.
    let base = || {
        Case::new().own(episode(
            "e1",
            ("service", "svc_a"),
            "2026-06-10 00:00",
            Some("2026-06-12 02:00"),
        ))
    };
    assert_eq!(base().run(), (3000, d("20"), d("200.00"), vec![]));
    // 2 900 already credited this year: only 100 of the 3 000 yearly cap is left.
    let mut capped = base();
    capped.page.credits = HashMap::from([(
        "svc_a".to_owned(),
        vec!["1000.00".into(), "1000.00".into(), "900.00".into()],
    )]);
    assert_eq!(capped.run(), (3000, d("20"), d("100.00"), vec![]));
}

#[test]
fn a_service_ended_before_the_month_has_no_statement() {
    use ciel_catalog::service::{self, ServiceEvent, ServiceParams, ServiceState};
    let params = ServiceParams::from_terms(ciel_terms::embedded()).unwrap();
    let provisioned = service::apply(
        &ServiceState::ordered(12).unwrap(),
        &ServiceEvent::Provision {
            planned_on: None,
            client_delay: false,
            products: vec![],
        },
        paris("2026-01-05 09:00"),
        &params,
    )
    .unwrap();
    // Terminated early on 10 March, last day of service 30 June (R3.1).
    let ended = service::apply(
        &provisioned,
        &ServiceEvent::TerminateEarly {
            last_day: "2026-06-30".parse().unwrap(),
            monthly_fee: d("100"),
            investment: false,
            quoted_fee: None,
        },
        paris("2026-03-10 09:00"),
        &params,
    )
    .unwrap();
    let mut s = service();
    s.state_json = serde_json::to_string(&ended).unwrap();
    // June, its last month, has a statement; July does not.
    assert!(super::evidence::runs_in(&s, &june()).unwrap());
    let july = Month::parse("2026-07", "month").unwrap();
    assert!(!super::evidence::runs_in(&s, &july).unwrap());
}
