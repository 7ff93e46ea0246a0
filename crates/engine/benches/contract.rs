//! Benchmarks for the three targets of issue 3 (figures in BENCHMARKS.md):
//! 1. one GTR deadline on a business calendar: >= 1 million per second on one core;
//! 2. availability of a service-month with 10 000 episodes: < 1 ms;
//! 3. 100 000 service-month statements (availability, penalty, caps): < 2 s.
//!
//! Inputs are generated deterministically (a small LCG), so runs are comparable.

use std::hint::black_box;

use ciel_calendar::ServiceCalendar;
use ciel_engine::{
    Engine,
    availability::Episode,
    evidence::{EVIDENCE_FORMAT, Evidence, ServiceInfo},
};
use ciel_terms::{EpisodeKind, Offer, SupportLevel};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const APRIL_2026: i64 = 1_775_001_600; // 2026-04-01T00:00:00Z

fn episodes(rng: &mut Lcg, n: usize) -> Vec<Episode> {
    let kinds = [
        EpisodeKind::ClusterConnectivity,
        EpisodeKind::VmStorageAccess,
        EpisodeKind::Vcenter,
        EpisodeKind::NsxManager,
    ];
    (0..n)
        .map(|i| {
            let start = APRIL_2026 + rng.below(30 * 86_400) as i64;
            let len = 60 + rng.below(900) as i64;
            Episode {
                id: format!("ep-{i}"),
                kind: kinds[rng.below(4) as usize],
                start: Timestamp::from_second(start).unwrap(),
                end: Timestamp::from_second(start + len).unwrap(),
                impacts_service: rng.below(4) != 0,
                source: String::new(),
                exclusion: None,
            }
        })
        .collect()
}

fn gtr_deadlines(c: &mut Criterion) {
    let engine = Engine::embedded().unwrap();
    let standard: &ServiceCalendar = engine.calendar("standard").unwrap();
    let premium: &ServiceCalendar = engine.calendar("premium").unwrap();
    let mut rng = Lcg(42);
    // Starts spread over 2026 (weekends, nights, holidays, DST days included).
    let starts: Vec<Timestamp> = (0..4096)
        .map(|_| Timestamp::from_second(1_767_225_600 + rng.below(365 * 86_400) as i64).unwrap())
        .collect();
    // Standard P3: GTR 3 JO = 27 business hours.
    let gtr_std = SignedDuration::from_hours(27);
    // Premium P2: GTR 1 JO = 10 business hours.
    let gtr_prem = SignedDuration::from_hours(10);
    let mut g = c.benchmark_group("gtr_deadline");
    g.throughput(criterion::Throughput::Elements(starts.len() as u64));
    g.bench_function("standard_3JO_x4096", |b| {
        b.iter(|| {
            for s in &starts {
                black_box(standard.add_business(black_box(*s), gtr_std).unwrap());
            }
        })
    });
    g.bench_function("premium_1JO_x4096", |b| {
        b.iter(|| {
            for s in &starts {
                black_box(premium.add_business(black_box(*s), gtr_prem).unwrap());
            }
        })
    });
    g.finish();
}

fn availability_10k(c: &mut Criterion) {
    let engine = Engine::embedded().unwrap();
    let mut rng = Lcg(7);
    let eps = episodes(&mut rng, 10_000);
    c.bench_function("availability_10000_episodes", |b| {
        b.iter(|| {
            black_box(
                engine
                    .availability(Offer::MonoDc, 2026, 4, black_box(&eps), &[])
                    .unwrap(),
            )
        })
    });
}

fn statements_100k(c: &mut Criterion) {
    let engine = Engine::embedded().unwrap();
    let mut rng = Lcg(99);
    let offers = [
        Offer::MonoSite,
        Offer::HdMultiSite,
        Offer::ThdMultiSite,
        Offer::MonoDc,
        Offer::DualDc,
    ];
    let evidence: Vec<Evidence> = (0..100_000)
        .map(|i| {
            let n = rng.below(6) as usize;
            Evidence {
                format: EVIDENCE_FORMAT.into(),
                terms_version: engine.terms().version.id.clone(),
                service: ServiceInfo {
                    id: format!("svc-{i}"),
                    offer: offers[rng.below(5) as usize],
                    monthly_fee: Decimal::new(10_000 + rng.below(500_000) as i64, 2),
                    support_level: SupportLevel::Premium,
                },
                month: "2026-04".into(),
                episodes: episodes(&mut rng, n),
                windows: vec![],
                pra_activations: vec![],
                credits_this_year: Decimal::new(rng.below(100_000) as i64, 2),
                claimed: None,
            }
        })
        .collect();
    let mut g = c.benchmark_group("statements");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(evidence.len() as u64));
    g.bench_function("100000_service_months", |b| {
        b.iter(|| {
            let mut total = Decimal::ZERO;
            for e in &evidence {
                total += engine.statement(black_box(e)).unwrap().value.credit;
            }
            black_box(total)
        })
    });
    g.finish();
}

criterion_group!(benches, gtr_deadlines, availability_10k, statements_100k);
criterion_main!(benches);
