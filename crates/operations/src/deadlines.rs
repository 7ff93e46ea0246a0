//! The 7-day deadlines of colocation (R11.4, CS 2.3.2-2.3.3), and the remote
//! hands orders they sit next to (R11.3).
//!
//! - A client change request (modification, intervention, move...) needs the
//!   provider's written answer within `colocation.change_approval_days`; the
//!   provider owes it.
//! - Inventory and cabling details requested by the provider are due from
//!   the client within `colocation.inventory_days`.
//! - Damage caused by the client is repaired within
//!   `colocation.damage_repair_days` of the client's receipt of the notice;
//!   after that the provider may repair at the client's cost.
//!
//! Each deadline opens at an instant and ends with the calendar-day reading
//! of [`Operations::delay_end`]: opened on day 0, the answer on day 7 is in
//! time, on day 8 it is late. The alert is due `deadline_alert_days` (a
//! product parameter) calendar days before the end, at the start of that day.
//! Remote-hands orders (R11.3) are ordered per intervention; their price and
//! time spent are the catalogue's and the hour book's business, so only
//! their kinds are named here.

use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::{Decision, Operations, step_of};

/// The remote hands ("gestes de proximité") of CS 2.3.1, each ordered on its
/// own order (R11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteHands {
    Racking,
    Unracking,
    Patching,
    Reset,
    PowerOn,
    HardwareReception,
    HardwareRemoval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The provider's written answer to a client change request.
    ChangeAnswer,
    /// The client's inventory and cabling details.
    Inventory,
    /// The client's repair of damage it caused.
    DamageRepair,
}

/// Who must act before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Provider,
    Client,
}

impl DeadlineKind {
    pub fn owner(self) -> Owner {
        match self {
            DeadlineKind::ChangeAnswer => Owner::Provider,
            DeadlineKind::Inventory | DeadlineKind::DamageRepair => Owner::Client,
        }
    }
}

/// One tracked deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub id: String,
    pub kind: DeadlineKind,
    /// The request's receipt (change, inventory) or the client's receipt of
    /// the damage notice.
    pub opened_at: Timestamp,
    /// When the owner did what was due (answer sent, details received,
    /// repair done).
    pub done_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Open, the alert not yet due.
    Running,
    /// Open, the alert due.
    AlertDue,
    /// Open and past its end.
    Breached,
    MetInTime,
    MetLate,
}

/// A deadline's dates and state at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineStatus {
    pub id: String,
    pub kind: DeadlineKind,
    pub owner: Owner,
    /// The first instant past the delay.
    pub ends_at: Timestamp,
    pub alert_at: Timestamp,
    pub state: DeadlineState,
    /// Damage not repaired in time: the provider may repair at the client's
    /// cost.
    pub repair_at_client_cost: bool,
    pub reasons: Decision,
}

impl Operations {
    fn deadline_param(&self, kind: DeadlineKind) -> &ciel_terms::Param<u32> {
        let c = &self.terms.colocation;
        match kind {
            DeadlineKind::ChangeAnswer => &c.change_approval_days,
            DeadlineKind::Inventory => &c.inventory_days,
            DeadlineKind::DamageRepair => &c.damage_repair_days,
        }
    }

    /// The first instant past a deadline opened at `opened_at`.
    pub fn deadline_end(&self, kind: DeadlineKind, opened_at: Timestamp) -> Timestamp {
        self.delay_end(opened_at, self.deadline_param(kind).value)
    }

    /// When the alert of a deadline is due: `deadline_alert_days` days
    /// before its end (the start of that day), never before it opens.
    pub fn deadline_alert_at(&self, kind: DeadlineKind, opened_at: Timestamp) -> Timestamp {
        let end = self.deadline_end(kind, opened_at);
        let alert = self.sub_calendar(end, i64::from(self.product.deadline_alert_days).days());
        alert.max(opened_at)
    }

    /// The state of one deadline at `at`.
    pub fn deadline_status(&self, d: &Deadline, at: Timestamp) -> DeadlineStatus {
        let p = self.deadline_param(d.kind);
        let ends_at = self.deadline_end(d.kind, d.opened_at);
        let alert_at = self.deadline_alert_at(d.kind, d.opened_at);
        let done = d.done_at.filter(|t| *t <= at);
        let state = match done {
            Some(t) if t < ends_at => DeadlineState::MetInTime,
            Some(_) => DeadlineState::MetLate,
            None if at >= ends_at => DeadlineState::Breached,
            None if at >= alert_at => DeadlineState::AlertDue,
            None => DeadlineState::Running,
        };
        let repair_at_client_cost = d.kind == DeadlineKind::DamageRepair
            && matches!(state, DeadlineState::Breached | DeadlineState::MetLate);
        let (what_fr, what_en) = match d.kind {
            DeadlineKind::ChangeAnswer => (
                "réponse écrite du prestataire à la demande de modification",
                "provider's written answer to the change request",
            ),
            DeadlineKind::Inventory => (
                "inventaire et détail des câblages par le client",
                "client's inventory and cabling details",
            ),
            DeadlineKind::DamageRepair => (
                "réparation des dommages par le client",
                "client's repair of the damage",
            ),
        };
        let last_day = self
            .day_of(d.opened_at)
            .checked_add(i64::from(p.value).days());
        let last_day = last_day.map(|x| x.to_string()).unwrap_or_default();
        let (code, fr, en) = match state {
            DeadlineState::Running => ("running", "en cours", "running"),
            DeadlineState::AlertDue => ("alert_due", "échéance proche", "deadline near"),
            DeadlineState::Breached => ("breached", "délai dépassé", "deadline breached"),
            DeadlineState::MetInTime => ("met_in_time", "fait dans le délai", "done in time"),
            DeadlineState::MetLate => ("met_late", "fait hors délai", "done late"),
        };
        let breached = matches!(state, DeadlineState::Breached | DeadlineState::MetLate);
        let mut steps = vec![
            step_of(p)
                .input("opened_at", d.opened_at)
                .input("days", p.value)
                .input("at", at)
                .outcome(if breached {
                    format!("deny:{code}")
                } else {
                    format!("allow:{code}")
                })
                .text(
                    format!(
                        "{what_fr} : {} jours à compter du {}, dernier jour le {last_day} → {fr}",
                        p.value,
                        self.show(d.opened_at)
                    ),
                    format!(
                        "{what_en}: {} days from {}, last day {last_day} → {en}",
                        p.value,
                        self.show(d.opened_at)
                    ),
                ),
        ];
        if repair_at_client_cost {
            steps.push(
                step_of(p)
                    .outcome("note:repair_at_client_cost")
                    .text(
                        "à défaut de réparation dans le délai, le prestataire peut procéder aux travaux aux frais du client",
                        "not repaired in time: the provider may carry out the works at the client's cost",
                    ),
            );
        }
        DeadlineStatus {
            id: d.id.clone(),
            kind: d.kind,
            owner: d.kind.owner(),
            ends_at,
            alert_at,
            state,
            repair_at_client_cost,
            reasons: Decision::from_steps(steps),
        }
    }

    /// The deadlines breached at `at` (open and past their end).
    pub fn breached_deadlines(&self, deadlines: &[Deadline], at: Timestamp) -> Vec<DeadlineStatus> {
        deadlines
            .iter()
            .map(|d| self.deadline_status(d, at))
            .filter(|s| s.state == DeadlineState::Breached)
            .collect()
    }

    /// The deadlines whose alert is due at `at` (open, not yet breached).
    pub fn deadline_alerts_due(
        &self,
        deadlines: &[Deadline],
        at: Timestamp,
    ) -> Vec<DeadlineStatus> {
        deadlines
            .iter()
            .map(|d| self.deadline_status(d, at))
            .filter(|s| s.state == DeadlineState::AlertDue)
            .collect()
    }
}
