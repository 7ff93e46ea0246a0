//! Datacenter access (R11.1-R11.2, CS 2.3.3): who may enter which site, when,
//! and why not.
//!
//! The policy of each site comes from `colocation.datacenters` of the terms:
//! MLB (Montigny-le-Bretonneux) grants temporary access only, PA3 (Equinix),
//! Toulouse and Dijon permanent nominative badges; MLB, Toulouse and Dijon
//! require a prevention plan. A datacenter added to the terms is handled
//! without code.
//!
//! Readings:
//! - A temporary request covers `[window_start, window_end)`: a person
//!   arriving at exactly `window_end` is refused, at `window_start` allowed.
//! - A badge's state at an instant is the replay of its events up to and
//!   including that instant (issued, suspended, reactivated, revoked); a
//!   revocation is final, a reactivation after it is ignored. A badge issued
//!   with an end of validity expires at exactly that instant.
//! - Companions (third parties, not declared by the client) enter only when
//!   announced beforehand: at a temporary-access site in the approved
//!   request, at a badge site by a [`CompanionNotice`] sent before the
//!   window starts. The client's prevention plan covers them (the signatory
//!   "s'engage à faire respecter" it).
//! - The prevention plan is "signé ... à la première intervention": before
//!   the first intervention no plan exists, so the check refuses with
//!   `prevention_plan_to_sign` and the desk signs it with the site's
//!   preventer, then checks again. A plan signed at S is valid on
//!   `[S, S + validity_years)` (same wall-clock time in Paris).
//! - The official ID check is always required (CS 2.3.3): the decision
//!   carries it as a note, it never replaces the desk's check.

use ciel_engine::Step;
use ciel_terms::{Datacenter, DatacenterAccess};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::{Decision, Operations, OperationsError, step_of};

/// A temporary access request (MLB-type sites).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: String,
    /// Datacenter code of the terms ("MLB").
    pub site: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    /// The client's declared people who will come.
    pub people: Vec<String>,
    /// Third parties announced with them.
    pub companions: Vec<String>,
    pub purpose: String,
    pub status: RequestStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Refused,
    Cancelled,
}

/// A permanent nominative badge and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Badge {
    pub id: String,
    pub person: String,
    pub site: String,
    /// In any order; replayed by instant.
    pub events: Vec<BadgeEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeEvent {
    pub at: Timestamp,
    pub kind: BadgeEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadgeEventKind {
    /// Issued (or re-issued), valid until `valid_until` when given.
    Issued {
        valid_until: Option<Timestamp>,
    },
    Suspended,
    Reactivated,
    /// Final.
    Revoked,
}

/// The state of a badge at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadgeState {
    NotIssued,
    Active,
    Suspended,
    Expired,
    Revoked,
}

impl Badge {
    /// Replays the events up to `at` included.
    pub fn state_at(&self, at: Timestamp) -> BadgeState {
        let mut events: Vec<&BadgeEvent> = self.events.iter().filter(|e| e.at <= at).collect();
        events.sort_by_key(|e| e.at);
        let mut state = BadgeState::NotIssued;
        let mut until: Option<Timestamp> = None;
        for e in events {
            state = match (state, e.kind) {
                (BadgeState::Revoked, _) => BadgeState::Revoked,
                (_, BadgeEventKind::Revoked) => BadgeState::Revoked,
                (_, BadgeEventKind::Issued { valid_until }) => {
                    until = valid_until;
                    BadgeState::Active
                }
                (BadgeState::NotIssued, _) => BadgeState::NotIssued,
                (_, BadgeEventKind::Suspended) => BadgeState::Suspended,
                (_, BadgeEventKind::Reactivated) => BadgeState::Active,
            };
        }
        match (state, until) {
            (BadgeState::Active | BadgeState::Suspended, Some(u)) if u <= at => BadgeState::Expired,
            (s, _) => s,
        }
    }
}

/// A companion announced for a badge site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanionNotice {
    pub site: String,
    pub companion: String,
    /// The declared person the companion comes with.
    pub host: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub notified_at: Timestamp,
}

/// A prevention plan signed by the client and the site's approved preventer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreventionPlan {
    pub site: String,
    pub signed_at: Timestamp,
}

/// What the desk knows about one client.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessFacts {
    pub client: String,
    /// People the client named as allowed to come (R11.1).
    pub declared_people: Vec<String>,
    pub requests: Vec<AccessRequest>,
    pub badges: Vec<Badge>,
    pub companion_notices: Vec<CompanionNotice>,
    pub prevention_plans: Vec<PreventionPlan>,
}

/// Validity of a prevention plan at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PlanStatus {
    /// No plan signed at or before the instant: to sign at the intervention.
    ToSign,
    Valid {
        signed_at: Timestamp,
        expires_at: Timestamp,
        reminder_at: Timestamp,
    },
    Expired {
        signed_at: Timestamp,
        expired_at: Timestamp,
    },
}

/// One datacenter as the terms describe it (R11.1, R11.2, R5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatacenterInfo {
    /// Code in the terms ("MLB", "PA3", "TLS", "DIJ").
    pub code: String,
    pub name: String,
    pub access: DatacenterAccess,
    pub prevention_plan_required: bool,
    /// Yearly availability target of network, power and temperature, in
    /// percent (R5.6), when the terms give one.
    pub availability_percent: Option<rust_decimal::Decimal>,
}

impl Operations {
    /// The datacenters of the terms with their access policies, in code
    /// order: what the back office lists and the desk's screen offers.
    pub fn datacenters(&self) -> Vec<DatacenterInfo> {
        let targets = &self.terms.availability.colocation.datacenters;
        self.terms
            .colocation
            .datacenters
            .iter()
            .map(|(code, dc)| DatacenterInfo {
                code: code.clone(),
                name: dc.name.clone(),
                access: dc.access,
                prevention_plan_required: dc.prevention_plan_required,
                availability_percent: targets.get(code).map(|d| d.get()),
            })
            .collect()
    }

    /// The policy of a datacenter, by its code in the terms.
    pub fn datacenter(&self, site: &str) -> Result<&Datacenter, OperationsError> {
        self.terms.colocation.datacenters.get(site).ok_or_else(|| {
            OperationsError::Invalid(format!(
                "unknown datacenter {site:?} (known: {})",
                self.terms
                    .colocation
                    .datacenters
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The instant a plan signed at `signed_at` expires (R11.2).
    pub fn prevention_plan_expiry(&self, signed_at: Timestamp) -> Timestamp {
        let years = self.terms.colocation.prevention_plan_validity_years.value;
        self.add_calendar(signed_at, i64::from(years).years())
    }

    /// The instant the expiry reminder of a plan is due: the product's
    /// `prevention_plan_reminder_days` before its expiry, same wall-clock
    /// time.
    pub fn prevention_plan_reminder_at(&self, signed_at: Timestamp) -> Timestamp {
        let days = self.product.prevention_plan_reminder_days;
        self.sub_calendar(
            self.prevention_plan_expiry(signed_at),
            i64::from(days).days(),
        )
    }

    /// The client's plan for a site at an instant: the latest signed at or
    /// before it (a renewal replaces the previous plan).
    pub fn prevention_plan_status(
        &self,
        plans: &[PreventionPlan],
        site: &str,
        at: Timestamp,
    ) -> PlanStatus {
        let latest = plans
            .iter()
            .filter(|p| p.site == site && p.signed_at <= at)
            .map(|p| p.signed_at)
            .max();
        match latest {
            None => PlanStatus::ToSign,
            Some(signed_at) => {
                let expires_at = self.prevention_plan_expiry(signed_at);
                if at < expires_at {
                    PlanStatus::Valid {
                        signed_at,
                        expires_at,
                        reminder_at: self.prevention_plan_reminder_at(signed_at),
                    }
                } else {
                    PlanStatus::Expired {
                        signed_at,
                        expired_at: expires_at,
                    }
                }
            }
        }
    }

    /// Sites whose plan's expiry reminder is due at `now`: the reminder
    /// instant has come, the plan has not expired, and no later plan
    /// replaced it. The job sends each once (the wiring keys it by site and
    /// signature instant).
    pub fn prevention_plan_reminders_due(
        &self,
        plans: &[PreventionPlan],
        now: Timestamp,
    ) -> Vec<PreventionPlan> {
        let mut sites: Vec<&str> = plans.iter().map(|p| p.site.as_str()).collect();
        sites.sort_unstable();
        sites.dedup();
        let mut out = Vec::new();
        for site in sites {
            if let PlanStatus::Valid {
                signed_at,
                reminder_at,
                ..
            } = self.prevention_plan_status(plans, site, now)
                && reminder_at <= now
            {
                out.push(PreventionPlan {
                    site: site.to_string(),
                    signed_at,
                });
            }
        }
        out
    }

    /// May issuing a permanent badge at this site go ahead? Refused where the
    /// site grants temporary access only (a badge at MLB), or for a person
    /// the client has not declared.
    pub fn check_badge_issue(
        &self,
        person: &str,
        site: &str,
        facts: &AccessFacts,
    ) -> Result<Decision, OperationsError> {
        let dc = self.datacenter(site)?;
        let mut steps = vec![self.declared_step(dc, person, facts)];
        steps.push(match dc.access {
            DatacenterAccess::PermanentNominativeBadge => Step::new(&dc.rule, &dc.clause)
                .input("site", site)
                .outcome("allow:badge_site")
                .text(
                    format!("{} délivre des badges nominatifs permanents", dc.name),
                    format!("{} grants permanent nominative badges", dc.name),
                ),
            DatacenterAccess::TemporaryOnly => Step::new(&dc.rule, &dc.clause)
                .input("site", site)
                .outcome("deny:badge_not_offered_at_site")
                .text(
                    format!(
                        "{} n'accorde que des accès temporaires : pas de badge permanent",
                        dc.name
                    ),
                    format!(
                        "{} grants temporary access only: no permanent badge",
                        dc.name
                    ),
                ),
        });
        Ok(Decision::from_steps(steps))
    }

    /// May a temporary access request be recorded? The site must grant
    /// temporary access, the window must be non-empty, and every person must
    /// be declared by the client (companions are third parties and need not
    /// be).
    pub fn check_access_request(
        &self,
        request: &AccessRequest,
        facts: &AccessFacts,
    ) -> Result<Decision, OperationsError> {
        let dc = self.datacenter(&request.site)?;
        let mut steps = Vec::new();
        if dc.access != DatacenterAccess::TemporaryOnly {
            steps.push(
                Step::new(&dc.rule, &dc.clause)
                    .input("site", &request.site)
                    .outcome("deny:temporary_access_not_offered_at_site")
                    .text(
                        format!(
                            "{} fonctionne par badges nominatifs permanents, pas par accès temporaires",
                            dc.name
                        ),
                        format!(
                            "{} works with permanent nominative badges, not temporary access",
                            dc.name
                        ),
                    ),
            );
        }
        if request.window_end <= request.window_start {
            steps.push(
                Step::new(&dc.rule, &dc.clause)
                    .input("window_start", request.window_start)
                    .input("window_end", request.window_end)
                    .outcome("deny:empty_window")
                    .text(
                        "la plage horaire demandée est vide",
                        "the requested time window is empty",
                    ),
            );
        }
        if request.people.is_empty() {
            steps.push(
                Step::new(&dc.rule, &dc.clause)
                    .outcome("deny:no_person_named")
                    .text(
                        "la demande ne nomme aucune personne",
                        "the request names nobody",
                    ),
            );
        }
        for p in &request.people {
            steps.push(self.declared_step(dc, p, facts));
        }
        Ok(Decision::from_steps(steps))
    }

    /// The reception desk's question: may `person` enter `site` at `at`?
    ///
    /// Every applicable rule is listed in the reasons; the answer is yes when
    /// none refuses. Always ends with the official ID reminder.
    pub fn check_access(
        &self,
        person: &str,
        site: &str,
        at: Timestamp,
        facts: &AccessFacts,
    ) -> Result<Decision, OperationsError> {
        let dc = self.datacenter(site)?;
        let declared = facts.declared_people.iter().any(|p| p == person);
        let mut steps = Vec::new();
        match dc.access {
            DatacenterAccess::TemporaryOnly => {
                steps.push(self.temporary_step(dc, person, site, at, facts, declared));
            }
            DatacenterAccess::PermanentNominativeBadge => {
                if declared {
                    steps.push(self.badge_step(dc, person, site, at, facts));
                } else {
                    steps.push(self.companion_step(dc, person, site, at, facts));
                }
            }
        }
        if dc.prevention_plan_required {
            steps.push(self.plan_step(dc, site, at, facts));
        }
        steps.push(self.id_step(dc));
        Ok(Decision::from_steps(steps))
    }

    fn declared_step(&self, dc: &Datacenter, person: &str, facts: &AccessFacts) -> Step {
        let base = Step::new(&dc.rule, &dc.clause).input("person", person);
        if facts.declared_people.iter().any(|d| d == person) {
            base.outcome("allow:person_declared").text(
                format!("{person} est déclaré(e) par le client"),
                format!("{person} is declared by the client"),
            )
        } else {
            base.outcome("deny:person_not_declared").text(
                format!("{person} n'est pas déclaré(e) par le client"),
                format!("{person} is not declared by the client"),
            )
        }
    }

    fn temporary_step(
        &self,
        dc: &Datacenter,
        person: &str,
        site: &str,
        at: Timestamp,
        facts: &AccessFacts,
        declared: bool,
    ) -> Step {
        let base = Step::new(&dc.rule, &dc.clause)
            .input("person", person)
            .input("site", site)
            .input("at", at);
        let named = |r: &&AccessRequest| {
            r.site == site
                && ((declared && r.people.iter().any(|p| p == person))
                    || r.companions.iter().any(|c| c == person))
        };
        let covering = |r: &&AccessRequest| r.window_start <= at && at < r.window_end;
        let ok = facts
            .requests
            .iter()
            .filter(named)
            .filter(covering)
            .find(|r| r.status == RequestStatus::Approved);
        if let Some(r) = ok {
            let companion = !r.people.iter().any(|p| p == person);
            return base
                .input("request", &r.id)
                .outcome(if companion {
                    "allow:announced_companion"
                } else {
                    "allow:approved_request"
                })
                .text(
                    format!(
                        "demande d'accès temporaire {} approuvée, du {} au {}{}",
                        r.id,
                        self.show(r.window_start),
                        self.show(r.window_end),
                        if companion {
                            " (accompagnant annoncé)"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "temporary access request {} approved, from {} to {}{}",
                        r.id,
                        self.show(r.window_start),
                        self.show(r.window_end),
                        if companion {
                            " (announced companion)"
                        } else {
                            ""
                        }
                    ),
                );
        }
        if !declared && !facts.requests.iter().any(|r| named(&r)) {
            return base
                .outcome("deny:person_not_declared")
                .text(
                    format!(
                        "{person} n'est ni déclaré(e) par le client ni accompagnant annoncé : {} n'accorde que des accès temporaires nominatifs",
                        dc.name
                    ),
                    format!(
                        "{person} is neither declared by the client nor an announced companion: {} grants named temporary access only",
                        dc.name
                    ),
                );
        }
        let in_window: Vec<&AccessRequest> = facts
            .requests
            .iter()
            .filter(named)
            .filter(covering)
            .collect();
        if let Some(r) = in_window.first() {
            let status = match r.status {
                RequestStatus::Pending => ("en attente", "pending"),
                RequestStatus::Refused => ("refusée", "refused"),
                RequestStatus::Cancelled => ("annulée", "cancelled"),
                RequestStatus::Approved => ("approuvée", "approved"),
            };
            return base
                .input("request", &r.id)
                .outcome("deny:request_not_approved")
                .text(
                    format!("la demande {} couvrant cet instant est {}", r.id, status.0),
                    format!("request {} covering this time is {}", r.id, status.1),
                );
        }
        if facts.requests.iter().any(|r| named(&r)) {
            return base.outcome("deny:outside_request_window").text(
                format!(
                    "aucune demande approuvée ne couvre le {} : {} n'accorde que des accès temporaires",
                    self.show(at),
                    dc.name
                ),
                format!(
                    "no approved request covers {}: {} grants temporary access only",
                    self.show(at),
                    dc.name
                ),
            );
        }
        base.outcome("deny:no_approved_request").text(
            format!(
                "aucune demande d'accès temporaire pour {person} : {} n'accorde que des accès temporaires",
                dc.name
            ),
            format!(
                "no temporary access request for {person}: {} grants temporary access only",
                dc.name
            ),
        )
    }

    fn badge_step(
        &self,
        dc: &Datacenter,
        person: &str,
        site: &str,
        at: Timestamp,
        facts: &AccessFacts,
    ) -> Step {
        let base = Step::new(&dc.rule, &dc.clause)
            .input("person", person)
            .input("site", site)
            .input("at", at);
        let badges: Vec<(&Badge, BadgeState)> = facts
            .badges
            .iter()
            .filter(|b| b.person == person && b.site == site)
            .map(|b| (b, b.state_at(at)))
            .collect();
        // The most favourable state wins: one active badge is enough.
        let rank = |s: BadgeState| match s {
            BadgeState::Active => 0,
            BadgeState::Suspended => 1,
            BadgeState::Expired => 2,
            BadgeState::Revoked => 3,
            BadgeState::NotIssued => 4,
        };
        let best = badges.iter().min_by_key(|(_, s)| rank(*s));
        let (code, fr, en) = match best {
            Some((b, BadgeState::Active)) => {
                return base
                    .input("badge", &b.id)
                    .outcome("allow:badge_active")
                    .text(
                        format!("badge nominatif {} actif", b.id),
                        format!("nominative badge {} active", b.id),
                    );
            }
            Some((_, BadgeState::Suspended)) => {
                ("badge_suspended", "badge suspendu", "badge suspended")
            }
            Some((_, BadgeState::Expired)) => ("badge_expired", "badge expiré", "badge expired"),
            Some((_, BadgeState::Revoked)) => ("badge_revoked", "badge révoqué", "badge revoked"),
            Some((_, BadgeState::NotIssued)) | None => {
                ("no_badge", "aucun badge délivré", "no badge issued")
            }
        };
        base.outcome(format!("deny:{code}")).text(
            format!(
                "{fr} pour {person} : {} exige un badge nominatif permanent valide",
                dc.name
            ),
            format!(
                "{en} for {person}: {} requires a valid permanent nominative badge",
                dc.name
            ),
        )
    }

    fn companion_step(
        &self,
        dc: &Datacenter,
        person: &str,
        site: &str,
        at: Timestamp,
        facts: &AccessFacts,
    ) -> Step {
        let base = Step::new(&dc.rule, &dc.clause)
            .input("person", person)
            .input("site", site)
            .input("at", at);
        let notice = facts.companion_notices.iter().find(|n| {
            n.site == site
                && n.companion == person
                && n.notified_at <= n.window_start
                && n.window_start <= at
                && at < n.window_end
        });
        match notice {
            Some(n) => base
                .input("host", &n.host)
                .outcome("allow:announced_companion")
                .text(
                    format!(
                        "accompagnant annoncé de {} le {}, accès avec son hôte badgé",
                        n.host,
                        self.show(n.notified_at)
                    ),
                    format!(
                        "companion of {} announced on {}, enters with the badge holder",
                        n.host,
                        self.show(n.notified_at)
                    ),
                ),
            None => base.outcome("deny:person_not_declared").text(
                format!(
                    "{person} n'est ni déclaré(e) par le client ni accompagnant annoncé au préalable"
                ),
                format!(
                    "{person} is neither declared by the client nor a companion announced beforehand"
                ),
            ),
        }
    }

    fn plan_step(&self, dc: &Datacenter, site: &str, at: Timestamp, facts: &AccessFacts) -> Step {
        let p = &self.terms.colocation.prevention_plan_validity_years;
        let base = step_of(p)
            .input("client", &facts.client)
            .input("site", site)
            .input("validity_years", p.value);
        match self.prevention_plan_status(&facts.prevention_plans, site, at) {
            PlanStatus::ToSign => base.outcome("deny:prevention_plan_to_sign").text(
                format!(
                    "aucun plan de prévention signé pour {} : à signer avec le préventeur agréé du site avant la première intervention",
                    dc.name
                ),
                format!(
                    "no prevention plan signed for {}: to be signed with the site's approved preventer before the first intervention",
                    dc.name
                ),
            ),
            PlanStatus::Valid {
                signed_at,
                expires_at,
                ..
            } => base
                .input("signed_at", signed_at)
                .outcome("allow:prevention_plan_valid")
                .text(
                    format!(
                        "plan de prévention signé le {}, valable jusqu'au {} (exclu), à présenter sous format numérique",
                        self.show(signed_at),
                        self.show(expires_at)
                    ),
                    format!(
                        "prevention plan signed on {}, valid until {} (excluded), to be shown in digital form",
                        self.show(signed_at),
                        self.show(expires_at)
                    ),
                ),
            PlanStatus::Expired {
                signed_at,
                expired_at,
            } => base
                .input("signed_at", signed_at)
                .outcome("deny:prevention_plan_expired")
                .text(
                    format!(
                        "plan de prévention signé le {} expiré le {} ({} ans) : à renouveler",
                        self.show(signed_at),
                        self.show(expired_at),
                        p.value
                    ),
                    format!(
                        "prevention plan signed on {} expired on {} ({} years): to be renewed",
                        self.show(signed_at),
                        self.show(expired_at),
                        p.value
                    ),
                ),
        }
    }

    fn id_step(&self, dc: &Datacenter) -> Step {
        Step::new(&dc.rule, &dc.clause)
            .outcome("note:official_id_check")
            .text(
                "contrôle de sécurité : présentation d'une pièce d'identité officielle en cours de validité",
                "security check: a valid official identity document must be shown",
            )
    }
}
