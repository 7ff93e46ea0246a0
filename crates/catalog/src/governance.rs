//! Which terms version governs a running order today, and why (R1.2, CG 2.4).
//!
//! An order is pinned to the version in force on its order date. A newer
//! version, once notified, applies to running orders when its delay
//! (`contract.new_version_applies_after_days` of the version the client
//! accepted, 30 days) has run, and not before its own effective date, unless
//! the client objected in writing within the delay: then the old version
//! stays until the order's next renewal, and the renewal means acceptance of
//! the version then in force (the latest one notified by then and effective
//! on the renewal day).
//!
//! Days are counted as every day delay of the contract
//! ([`crate::service::delay_end`]): the day of the notice does not count and
//! the delay expires at the end of its last day in the terms' zone.
//!
//! Readings (also in docs/CONTRACT-ENGINE.md): a version never applies
//! before its effective date; a version published while an objection holds
//! the order is notified and applied on its own (the objection named one
//! version); after the tacit renewal of R3.2 the order runs for an indefinite
//! duration, so there is no further renewal and an objection raised then
//! keeps the old version until the order ends or a new order is signed.
//!
//! Pure: no I/O, `now` is a parameter.

use std::cmp::Ordering;

use ciel_engine::explain::{Explanation, Lang, Step};
use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::service::delay_end;

const RULE: &str = "R1.2";
const CLAUSE: &str = "CG 2.4";

/// A version's place in the order of versions: effective date, then id
/// (the order of `ciel_terms::Registry`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VersionKey {
    pub effective_date: Date,
    pub id: String,
}

impl VersionKey {
    pub fn new(id: impl Into<String>, effective_date: Date) -> Self {
        VersionKey {
            effective_date,
            id: id.into(),
        }
    }
}

/// A published version and its notice to the clients with running orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub version: VersionKey,
    /// When the clients were notified (the publication e-mails).
    pub notified_at: Timestamp,
    /// The objection delay in calendar days, from the version the clients
    /// accepted (`contract.new_version_applies_after_days`, 30).
    pub delay_days: u32,
}

impl Notice {
    /// End (exclusive) of the objection delay: the end of its last day.
    pub fn objection_deadline(&self, tz: &TimeZone) -> Timestamp {
        delay_end(tz, self.notified_at, self.delay_days)
    }

    /// When the version applies to running orders without objection: at
    /// the end of the delay, and not before its own effective date.
    pub fn applies_at(&self, tz: &TimeZone) -> Timestamp {
        self.objection_deadline(tz)
            .max(start_of(tz, self.version.effective_date))
    }

    /// Whether an objection received at `at` is in time for this notice.
    pub fn objection_in_time(&self, tz: &TimeZone, at: Timestamp) -> bool {
        at >= self.notified_at && at < self.objection_deadline(tz)
    }
}

/// A written objection of the client to one version, for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    pub version: String,
    pub received_at: Timestamp,
}

/// Everything R1.2 needs about one order.
#[derive(Debug, Clone, Copy)]
pub struct OrderTerms<'a> {
    /// The version the order was pinned to at its order date.
    pub pinned: &'a VersionKey,
    pub order_date: Date,
    /// Every published version with its notice (older ones are ignored).
    pub notices: &'a [Notice],
    pub objections: &'a [Objection],
    /// The order's renewal days (each service's first day after its fixed
    /// term, R3.2), past and future.
    pub renewals: &'a [Date],
}

/// Why a version governs an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The version in force on the order date.
    PinnedAtOrderDate,
    /// A newer version applied at the end of its notice delay.
    AppliedAfterNotice,
    /// A newer version was objected to in time: this one stays until the
    /// next renewal.
    ObjectionHold,
    /// The order renewed: the version then in force was accepted.
    AcceptedAtRenewal,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::PinnedAtOrderDate => "pinned_at_order_date",
            Reason::AppliedAfterNotice => "applied_after_notice",
            Reason::ObjectionHold => "objection_hold",
            Reason::AcceptedAtRenewal => "accepted_at_renewal",
        }
    }
}

/// A notified version that does not govern the order yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub version: String,
    pub notified_at: Timestamp,
    /// End (exclusive) of the objection delay.
    pub objection_deadline: Timestamp,
    /// When it applies if nobody objects.
    pub applies_at: Timestamp,
    /// Whether the client objected in time.
    pub objected: bool,
}

/// The version governing an order at `now`, with why and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    pub version: String,
    pub since: Timestamp,
    pub reason: Reason,
    /// Under an objection hold: the next renewal day, if one is to come.
    pub hold_until: Option<Date>,
    /// Versions notified and not (yet) governing, with their deadlines.
    pub pending: Vec<Pending>,
    pub explanation: Explanation,
}

impl Governance {
    /// The explanation in one language, one sentence per step.
    pub fn explain(&self, lang: Lang) -> String {
        self.explanation.render(lang)
    }
}

enum Event<'a> {
    Renewal(Date),
    Applies(&'a Notice),
}

/// The version that governs the order at `now` (R1.2, CG 2.4).
pub fn governing(order: OrderTerms<'_>, tz: &TimeZone, now: Timestamp) -> Governance {
    let mut current = order.pinned.clone();
    let mut since = start_of(tz, order.order_date);
    let mut reason = Reason::PinnedAtOrderDate;
    let mut held = false;
    let mut ex = Explanation::default();
    ex.push(step("pinned").text(
        format!(
            "commande du {} : rattachée à la version {} en vigueur à cette date",
            order.order_date, current.id
        ),
        format!(
            "order dated {}: pinned to version {}, in force on that date",
            order.order_date, current.id
        ),
    ));

    let newer: Vec<&Notice> = order
        .notices
        .iter()
        .filter(|n| n.version > *order.pinned && n.notified_at <= now)
        .collect();
    let mut events: Vec<(Timestamp, Event<'_>)> = newer
        .iter()
        .map(|n| (n.applies_at(tz), Event::Applies(n)))
        .chain(
            order
                .renewals
                .iter()
                .map(|d| (start_of(tz, *d), Event::Renewal(*d))),
        )
        .filter(|(at, _)| *at <= now)
        .collect();
    // Renewals first on a tie: the renewal accepts the version in force,
    // which is at least as new as any applying that instant.
    events.sort_by(|a, b| match a.0.cmp(&b.0) {
        Ordering::Equal => rank(&a.1).cmp(&rank(&b.1)),
        o => o,
    });

    for (at, event) in events {
        match event {
            Event::Applies(n) => {
                if n.version <= current {
                    continue;
                }
                if let Some(o) = objected(order.objections, n, tz) {
                    held = true;
                    reason = Reason::ObjectionHold;
                    ex.push(step("objection").text(
                        format!(
                            "version {} notifiée le {} : opposition écrite reçue le {}, dans le délai de {} jours ; la version {} reste applicable jusqu'au prochain renouvellement",
                            n.version.id,
                            day(tz, n.notified_at),
                            day(tz, o.received_at),
                            n.delay_days,
                            current.id
                        ),
                        format!(
                            "version {} notified on {}: written objection received on {}, within the {}-day delay; version {} stays until the next renewal",
                            n.version.id,
                            day(tz, n.notified_at),
                            day(tz, o.received_at),
                            n.delay_days,
                            current.id
                        ),
                    ));
                } else {
                    current = n.version.clone();
                    since = at;
                    reason = Reason::AppliedAfterNotice;
                    held = false;
                    ex.push(step("applied").text(
                        format!(
                            "version {} notifiée le {} : applicable depuis le {}, {} jours après la notification, sans opposition",
                            n.version.id,
                            day(tz, n.notified_at),
                            day(tz, at),
                            n.delay_days
                        ),
                        format!(
                            "version {} notified on {}: applies from {}, {} days after the notice, without objection",
                            n.version.id,
                            day(tz, n.notified_at),
                            day(tz, at),
                            n.delay_days
                        ),
                    ));
                }
            }
            Event::Renewal(d) => {
                let in_force = newer
                    .iter()
                    .filter(|n| n.notified_at <= at && n.version.effective_date <= d)
                    .map(|n| &n.version)
                    .max()
                    .filter(|v| **v > current)
                    .cloned();
                if let Some(v) = in_force {
                    current = v;
                    since = at;
                    reason = Reason::AcceptedAtRenewal;
                    held = false;
                    ex.push(step("renewal").text(
                        format!(
                            "renouvellement le {d} : vaut acceptation de la version {} alors en vigueur",
                            current.id
                        ),
                        format!(
                            "renewal on {d}: means acceptance of version {}, then in force",
                            current.id
                        ),
                    ));
                } else if held {
                    held = false;
                    reason = Reason::AcceptedAtRenewal;
                    since = at;
                    ex.push(step("renewal").text(
                        format!(
                            "renouvellement le {d} : la version {} reste en vigueur",
                            current.id
                        ),
                        format!("renewal on {d}: version {} stays in force", current.id),
                    ));
                }
            }
        }
    }

    let hold_until = if held {
        let next = order
            .renewals
            .iter()
            .copied()
            .filter(|d| start_of(tz, *d) > now)
            .min();
        ex.push(match next {
            Some(d) => step("hold").text(
                format!("prochain renouvellement le {d} : la version alors en vigueur s'appliquera"),
                format!("next renewal on {d}: the version then in force will apply"),
            ),
            None => step("hold").text(
                "aucun renouvellement à venir (durée indéterminée, R3.2) : la version reste jusqu'à la fin de la commande",
                "no renewal to come (indefinite duration, R3.2): the version stays until the order ends",
            ),
        });
        next
    } else {
        None
    };

    let pending: Vec<Pending> = newer
        .iter()
        .filter(|n| n.version > current)
        .map(|n| Pending {
            version: n.version.id.clone(),
            notified_at: n.notified_at,
            objection_deadline: n.objection_deadline(tz),
            applies_at: n.applies_at(tz),
            objected: objected(order.objections, n, tz).is_some(),
        })
        .filter(|p| !p.objected || p.applies_at > now)
        .collect();
    for p in pending.iter().filter(|p| p.applies_at > now) {
        ex.push(step("pending").text(
            format!(
                "version {} notifiée le {} : s'appliquera le {} sauf opposition écrite avant le {}",
                p.version,
                day(tz, p.notified_at),
                day(tz, p.applies_at),
                day(tz, p.objection_deadline)
            ),
            format!(
                "version {} notified on {}: will apply on {} unless objected to in writing before {}",
                p.version,
                day(tz, p.notified_at),
                day(tz, p.applies_at),
                day(tz, p.objection_deadline)
            ),
        ));
    }

    Governance {
        version: current.id,
        since,
        reason,
        hold_until,
        pending,
        explanation: ex,
    }
}

/// The first objection to this notice's version received in time.
fn objected<'a>(objections: &'a [Objection], n: &Notice, tz: &TimeZone) -> Option<&'a Objection> {
    objections
        .iter()
        .filter(|o| o.version == n.version.id && n.objection_in_time(tz, o.received_at))
        .min_by_key(|o| o.received_at)
}

fn rank(e: &Event<'_>) -> u8 {
    match e {
        Event::Renewal(_) => 0,
        Event::Applies(_) => 1,
    }
}

fn step(outcome: &str) -> Step {
    Step::new(RULE, CLAUSE).outcome(outcome)
}

fn start_of(tz: &TimeZone, d: Date) -> Timestamp {
    d.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

fn day(tz: &TimeZone, t: Timestamp) -> Date {
    t.to_zoned(tz.clone()).date()
}
