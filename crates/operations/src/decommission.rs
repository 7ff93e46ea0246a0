//! Decommissioning at a colocation termination (R11.6, CS 2.3.3), as a pure
//! function of the termination's effective date and the facts recorded.
//!
//! ```text
//!  day E (effective date)  ── removal + timestamped photo, at the latest on day E
//!     │ no proof by the end of day E
//!     ├─► NonComplianceNotice (due at the start of E+1): 7 calendar days to regularise
//!     │ no proof by the end of day E+7
//!     ├─► ResumeBilling (due at the start of E+8): billing at the former conditions
//!     │ registered formal notice received on day R, no proof by the end of day R+30
//!     └─► DestructionAllowed (due at the start of R+31), at the client's cost and risk
//! ```
//!
//! Readings:
//! - "avant la date d'effet" (removal) and "au plus tard le jour de la
//!   résiliation" (photo) are read together: the proof is in time when the
//!   photo is taken and uploaded by the end of day E (Paris).
//! - The 7 days run "à compter de la date effective de résiliation": day E
//!   does not count, they end with day E+7 (as every delay in ciel,
//!   [`Operations::delay_end`]). Likewise the 30 days from the receipt of the
//!   registered letter (its acknowledgement date); destruction is never
//!   allowed before the regularisation window has closed, even when the
//!   letter arrived early.
//! - Billing resumes from the end of the window by default
//!   ([`BillingResumesFrom::WindowEnd`], the contract: "à sept jours ... sera
//!   autorisée à reprendre"), or from the effective date when the provider
//!   chooses [`BillingResumesFrom::EffectiveDate`]; it stops again at the
//!   upload of the proof of release.
//! - A proof recorded at any time stops what has not happened yet: no notice
//!   is sent for an emptied space, billing does not resume, destruction is
//!   not allowed.
//!
//! Steps are dated at their due instant, never at the instant the job ran;
//! each applies once ([`DecommissionError::AlreadyApplied`]).

use std::collections::BTreeMap;

use ciel_engine::Step;
use jiff::{Timestamp, civil::Date};
use serde::{Deserialize, Serialize};

use crate::{Decision, Operations, step_of};

/// From when billing resumes at the former conditions (product parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingResumesFrom {
    /// The end of the 7-day regularisation window.
    WindowEnd,
    /// The effective date of the termination (as if not terminated).
    EffectiveDate,
}

/// The timestamped photo proving the space is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoProof {
    /// The photo's own timestamp.
    pub taken_at: Timestamp,
    pub uploaded_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecommissionStep {
    NonComplianceNotice,
    ResumeBilling,
    DestructionAllowed,
}

/// Facts recorded about one termination, and the steps already applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecommissionState {
    pub effective_date: Date,
    pub proof: Option<PhotoProof>,
    /// Acknowledgement date of the registered formal notice.
    pub formal_notice_received_at: Option<Timestamp>,
    /// Steps applied, with the instant each is dated at.
    pub applied: BTreeMap<DecommissionStep, Timestamp>,
}

impl DecommissionState {
    pub fn new(effective_date: Date) -> Self {
        DecommissionState {
            effective_date,
            proof: None,
            formal_notice_received_at: None,
            applied: BTreeMap::new(),
        }
    }
}

/// The dates of a decommissioning, as far as the facts allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The first instant after day E: proof due before it.
    pub removal_deadline: Timestamp,
    pub proof_in_time: bool,
    /// The first instant after day E+7.
    pub regularisation_ends: Timestamp,
    /// Proof after the deadline but within the window.
    pub regularised: bool,
    /// Billing at the former conditions: from, until (the proof's upload).
    pub billing_resumed: Option<(Timestamp, Option<Timestamp>)>,
    /// The first instant destruction is allowed, once a formal notice exists.
    pub destruction_allowed_from: Option<Timestamp>,
}

/// A step due, with the instant it is dated at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueStep {
    pub step: DecommissionStep,
    pub due_at: Timestamp,
    pub reasons: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecommissionError {
    #[error("step {0:?} was already applied")]
    AlreadyApplied(DecommissionStep),
    #[error("step {0:?} is not due")]
    NotDue(DecommissionStep),
}

impl Operations {
    fn due_instant(&self, s: &DecommissionState, step: DecommissionStep) -> Option<Timestamp> {
        let c = &self.terms.colocation;
        let removal = self.end_of(s.effective_date);
        match step {
            DecommissionStep::NonComplianceNotice => Some(removal),
            DecommissionStep::ResumeBilling => {
                Some(self.delay_end(self.start_of(s.effective_date), c.nonconformity_days.value))
            }
            // Never before the regularisation window has closed: a formal
            // notice received early cannot shorten the 7 days the contract
            // gives the client.
            DecommissionStep::DestructionAllowed => s.formal_notice_received_at.map(|r| {
                let window =
                    self.delay_end(self.start_of(s.effective_date), c.nonconformity_days.value);
                self.delay_end(r, c.decommission_after_formal_notice_days.value)
                    .max(window)
            }),
        }
    }

    /// Whether the proof was uploaded (and the photo taken) before `t`.
    fn proof_before(s: &DecommissionState, t: Timestamp) -> bool {
        s.proof.is_some_and(|p| p.uploaded_at < t && p.taken_at < t)
    }

    /// The dates of a decommissioning given the facts recorded.
    pub fn decommission_timeline(&self, s: &DecommissionState) -> Timeline {
        let removal_deadline = self.end_of(s.effective_date);
        let regularisation_ends = self
            .due_instant(s, DecommissionStep::ResumeBilling)
            .unwrap_or(Timestamp::MAX);
        let proof_in_time = Self::proof_before(s, removal_deadline);
        let regularised = !proof_in_time && Self::proof_before(s, regularisation_ends);
        let billing_resumed = (!proof_in_time && !regularised).then(|| {
            let from = match self.product.billing_resumes_from {
                BillingResumesFrom::WindowEnd => regularisation_ends,
                BillingResumesFrom::EffectiveDate => self.start_of(s.effective_date),
            };
            (from, s.proof.map(|p| p.uploaded_at))
        });
        let destruction_allowed_from = self.due_instant(s, DecommissionStep::DestructionAllowed);
        Timeline {
            removal_deadline,
            proof_in_time,
            regularisation_ends,
            regularised,
            billing_resumed,
            destruction_allowed_from,
        }
    }

    /// The steps due at `now` and not yet applied, in due order. A proof
    /// recorded at or before `now` cancels the steps not yet applied.
    pub fn due_decommission_steps(&self, s: &DecommissionState, now: Timestamp) -> Vec<DueStep> {
        let c = &self.terms.colocation;
        let cleared = s.proof.is_some_and(|p| p.uploaded_at <= now);
        let mut out = Vec::new();
        if cleared {
            return out;
        }
        for step in [
            DecommissionStep::NonComplianceNotice,
            DecommissionStep::ResumeBilling,
            DecommissionStep::DestructionAllowed,
        ] {
            if s.applied.contains_key(&step) {
                continue;
            }
            let Some(due_at) = self.due_instant(s, step) else {
                continue;
            };
            if now < due_at {
                continue;
            }
            let e = s.effective_date;
            let reason: Step = match step {
                DecommissionStep::NonComplianceNotice => step_of(&c.nonconformity_days)
                    .input("effective_date", e)
                    .outcome("note:non_compliance_notice")
                    .text(
                        format!(
                            "aucune photo horodatée de l'espace vidé au plus tard le {e} : notification de non-conformité, {} jours calendaires pour régulariser",
                            c.nonconformity_days.value
                        ),
                        format!(
                            "no timestamped photo of the emptied space by {e}: non-compliance notice, {} calendar days to regularise",
                            c.nonconformity_days.value
                        ),
                    ),
                DecommissionStep::ResumeBilling => step_of(&c.nonconformity_days)
                    .input("effective_date", e)
                    .outcome("note:billing_resumed")
                    .text(
                        format!(
                            "pas de retrait ni de preuve de libération {} jours après le {e} : reprise de la facturation aux conditions antérieures",
                            c.nonconformity_days.value
                        ),
                        format!(
                            "no removal nor proof of release {} days after {e}: billing resumes at the former conditions",
                            c.nonconformity_days.value
                        ),
                    ),
                DecommissionStep::DestructionAllowed => {
                    let p = &c.decommission_after_formal_notice_days;
                    let r = s
                        .formal_notice_received_at
                        .map(|r| self.show(r))
                        .unwrap_or_default();
                    step_of(p)
                        .input("formal_notice_received_at", &r)
                        .outcome("note:destruction_allowed")
                        .text(
                            format!(
                                "pas de retrait {} jours calendaires après la réception de la mise en demeure ({r}) : décommissionnement et destruction autorisés, aux frais et risques du client",
                                p.value
                            ),
                            format!(
                                "no removal {} calendar days after the formal notice was received ({r}): decommissioning and destruction allowed, at the client's cost and risk",
                                p.value
                            ),
                        )
                }
            };
            out.push(DueStep {
                step,
                due_at,
                reasons: Decision::from_steps(vec![reason]),
            });
        }
        out
    }

    /// Applies a due step, dated at its due instant. Refused when already
    /// applied or not due at `now`.
    pub fn apply_decommission_step(
        &self,
        s: &mut DecommissionState,
        step: DecommissionStep,
        now: Timestamp,
    ) -> Result<Timestamp, DecommissionError> {
        if s.applied.contains_key(&step) {
            return Err(DecommissionError::AlreadyApplied(step));
        }
        let due = self
            .due_decommission_steps(s, now)
            .into_iter()
            .find(|d| d.step == step)
            .ok_or(DecommissionError::NotDue(step))?;
        s.applied.insert(step, due.due_at);
        Ok(due.due_at)
    }
}
