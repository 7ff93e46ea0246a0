//! Disaster recovery, PRA (R10, CS 4): who may act, how tests are notified
//! and billed, and how an activation is counted for billing (R2.10).
//!
//! Readings:
//! - R10.2 (CS 4.5): only users the client designated may change
//!   replication or backup policies or trigger a failover. A designation is
//!   effective from its instant, up to (not including) its revocation.
//! - R10.3 (CS 4.7): "prévenir ... quinze (15) jours calendaires avant leur
//!   réalisation" is counted in calendar days between the Paris date of the
//!   notice and the Paris date of the test: a notice on 1 June for a test on
//!   16 June is 15 days ahead (in time), for a test on 15 June 14 days (late).
//!   The hour does not matter: a client cannot be expected to know at which
//!   hour a day of notice starts. A late simple test is accepted but its
//!   resources are billed (the "accepted, but flagged as billed"); a
//!   full test is always billed as an activation (R2.10), needs its own
//!   order (refused without it) and, notified late, is accepted with a flag
//!   that the support resources may not be reserved.
//! - R2.10: the billable days of an activation are the engine's
//!   [`ciel_engine::Engine::failover_days`] (each started calendar day in
//!   Europe/Paris).

use ciel_engine::usage::FailoverDays;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Decision, Operations, OperationsError, cite, step_of};

/// What a designated user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PraAction {
    TriggerFailover,
    ChangePolicies,
}

/// One designation by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    pub user: String,
    pub actions: Vec<PraAction>,
    pub from: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// No service cut, no connectivity switch.
    Simple,
    /// Simulates a complete failover.
    Full,
}

/// The consequence of a test notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestAssessment {
    pub kind: TestKind,
    /// Calendar days between the notice and the test (Paris dates).
    pub notice_days: i32,
    pub notice_in_time: bool,
    /// Resources billed (as an activation, R2.10).
    pub billed: bool,
    /// Accepted (refused only for a full test without its own order).
    pub decision: Decision,
}

impl Operations {
    /// R10.2: may `user` do `action` at `at`, given the client's
    /// designations?
    pub fn check_pra_action(
        &self,
        user: &str,
        action: PraAction,
        at: Timestamp,
        designations: &[Designation],
    ) -> Decision {
        let s = cite::step(cite::DESIGNATION)
            .input("user", user)
            .input("action", format!("{action:?}"))
            .input("at", at);
        let (fr_what, en_what) = match action {
            PraAction::TriggerFailover => ("déclencher la bascule", "trigger the failover"),
            PraAction::ChangePolicies => (
                "modifier les politiques de réplication et de sauvegarde",
                "change the replication and backup policies",
            ),
        };
        let effective = |d: &Designation| d.from <= at && d.revoked_at.is_none_or(|r| at < r);
        let mine: Vec<&Designation> = designations.iter().filter(|d| d.user == user).collect();
        let step = if mine
            .iter()
            .any(|d| effective(d) && d.actions.contains(&action))
        {
            s.outcome("allow:designated_user").text(
                format!("{user} est désigné(e) par le client pour {fr_what}"),
                format!("{user} is designated by the client to {en_what}"),
            )
        } else if mine.iter().any(|d| d.revoked_at.is_some_and(|r| r <= at)) {
            s.outcome("deny:designation_revoked").text(
                format!("la désignation de {user} est révoquée : seul un utilisateur désigné peut {fr_what}"),
                format!("{user}'s designation is revoked: only a designated user may {en_what}"),
            )
        } else {
            s.outcome("deny:not_designated").text(
                format!("{user} n'est pas désigné(e) par le client pour {fr_what}"),
                format!("{user} is not designated by the client to {en_what}"),
            )
        };
        Decision::from_steps(vec![step])
    }

    /// R10.3: the consequence of notifying a test at `notified_at` for a
    /// test starting at `test_start`.
    pub fn assess_pra_test(
        &self,
        kind: TestKind,
        notified_at: Timestamp,
        test_start: Timestamp,
        has_own_order: bool,
    ) -> Result<TestAssessment, OperationsError> {
        if test_start < notified_at {
            return Err(crate::invalid("the test starts before it was notified"));
        }
        let p = &self.terms.pra;
        let (param, fr_kind, en_kind) = match kind {
            TestKind::Simple => (&p.simple_test_notice_days, "test simple", "simple test"),
            TestKind::Full => (&p.full_test_notice_days, "test complet", "full test"),
        };
        let notice_days = self
            .day_of(notified_at)
            .until(self.day_of(test_start))
            .map_err(|e| crate::invalid(e.to_string()))?
            .get_days();
        let required = i32::try_from(param.value).unwrap_or(i32::MAX);
        let notice_in_time = notice_days >= required;
        let billed = match kind {
            TestKind::Simple => !notice_in_time,
            TestKind::Full => true,
        };
        let base = step_of(param)
            .input("notified_at", notified_at)
            .input("test_start", test_start)
            .input("notice_days", notice_days)
            .input("required_days", required);
        let mut steps = vec![if notice_in_time {
            base.outcome("allow:notice_in_time").text(
                format!(
                    "{fr_kind} prévenu {notice_days} jours calendaires avant (au moins {required})"
                ),
                format!(
                    "{en_kind} notified {notice_days} calendar days ahead (at least {required})"
                ),
            )
        } else {
            base.outcome("note:notice_late").text(
                format!("{fr_kind} prévenu {notice_days} jours calendaires avant, moins que les {required} requis"),
                format!("{en_kind} notified {notice_days} calendar days ahead, fewer than the {required} required"),
            )
        }];
        match kind {
            TestKind::Simple => steps.push(
                step_of(param)
                    .outcome(if billed { "note:billed" } else { "note:not_billed" })
                    .text(
                        if billed {
                            "préavis insuffisant : les ressources consommées par le test sont facturées"
                        } else {
                            "préavis respecté : les ressources consommées par le test ne sont pas facturées"
                        },
                        if billed {
                            "notice too short: the resources the test uses are billed"
                        } else {
                            "notice respected: the resources the test uses are not billed"
                        },
                    ),
            ),
            TestKind::Full => {
                steps.push(
                    step_of(&self.terms.billing.pra_usage_unit)
                        .outcome("note:billed_as_activation")
                        .text(
                            "test complet : ressources facturées comme une activation (par jour calendaire entamé)",
                            "full test: resources billed as an activation (per started calendar day)",
                        ),
                );
                if !notice_in_time {
                    steps.push(step_of(param).outcome("note:resources_not_reserved").text(
                        format!("préavis de moins de {required} jours : les ressources de support peuvent ne pas être réservées"),
                        format!("notice under {required} days: the support resources may not be reserved"),
                    ));
                }
                steps.push(if has_own_order {
                    step_of(param).outcome("allow:own_order").text(
                        "bon de commande spécifique du test présent",
                        "the test's own order is present",
                    )
                } else {
                    step_of(param).outcome("deny:own_order_missing").text(
                        "un test complet fait l'objet d'un bon de commande spécifique",
                        "a full test needs its own order",
                    )
                });
            }
        }
        Ok(TestAssessment {
            kind,
            notice_days,
            notice_in_time,
            billed,
            decision: Decision::from_steps(steps),
        })
    }

    /// R2.10: billable days of an activation (or full test) from `start` to
    /// `end`: the engine's count, each started calendar day in Paris.
    pub fn activation_days(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<crate::Explained<FailoverDays>, OperationsError> {
        Ok(self.engine.failover_days(start, end)?)
    }
}
