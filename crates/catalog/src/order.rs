//! The order state machine of R1.3-R1.4, as a pure function of
//! (state, event, now).
//!
//! ```text
//!  Draft ──Send──► Sent ──AcceptOnline / RecordPaperSignature (now < deadline)──► Accepted
//!                   │                                                              │
//!                   ├──Lapse (time-driven, now >= deadline)──► Lapsed              ├──Validate──► Validated
//!                   │         Lapsed ──RecordPaperSignature (received < deadline)──► Accepted
//!                   └──Decline (client, now < deadline)──► Declined
//!                                                                                  └──Refuse(reason)──► Refused
//! ```
//!
//! - **R1.3 (CG 2.1)**: sending sets the acceptance deadline = sent + the
//!   acceptance period (`contract.order_acceptance_days`, 30 by default; an
//!   order's special conditions may set another, R1.1), in calendar days of
//!   the terms' time zone, same wall-clock time. The period is half-open:
//!   acceptance counts when it reaches the provider strictly before the
//!   deadline; at the deadline itself the order lapses. So the two never
//!   overlap and the outcome never depends on when the lapse job runs.
//! - A paper signature is recorded by staff with its date. `now` is then the
//!   instant the signed order was received (staff may back-date it, as every
//!   staff event, through the audit's occurred-at); it must be before the
//!   deadline like an online acceptance, and the signature date must fall
//!   between the sending day and the receipt day.
//! - **R1.4 (CG 2.2)**: an accepted order binds the provider only once staff
//!   validate it; staff may instead refuse it, with a reason.
//! - The lapse is a time-driven step: [`OrderState::due_step`] tells the job
//!   pass which event is due at `now`, so running the pass twice is harmless.
//!   A lapsed order records the deadline as its lapse instant, not the time
//!   the job happened to run.
//! - The client may also decline a sent order before its deadline (it says
//!   no rather than letting it lapse): the order is closed like a lapsed one,
//!   with the instant and the client's optional reason.
//! - Events never go back in time: an event dated before the previous one
//!   is refused.

use std::fmt;

use jiff::{Span, Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// Parameters of the machine, from the terms.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderParams {
    /// `contract.order_acceptance_days` (R1.3), or the order's own value.
    pub acceptance_days: u32,
    /// `version.timezone`: calendar days are counted there.
    pub tz: TimeZone,
}

impl OrderParams {
    pub fn from_terms(terms: &ciel_terms::Terms) -> Result<Self, jiff::Error> {
        Ok(OrderParams {
            acceptance_days: terms.contract.order_acceptance_days.value,
            tz: TimeZone::get(&terms.version.timezone)?,
        })
    }

    /// The parameters of one order: the terms, overridden by its special
    /// conditions (R1.1).
    pub fn for_order(
        terms: &ciel_terms::Terms,
        special: &crate::rules::SpecialConditions,
    ) -> Result<Self, jiff::Error> {
        let p = OrderParams::from_terms(terms)?;
        Ok(match special.order_acceptance_days {
            Some(days) => p.with_acceptance_days(days),
            None => p,
        })
    }

    /// The same parameters with an acceptance period set by the order's
    /// special conditions (R1.1).
    pub fn with_acceptance_days(mut self, days: u32) -> Self {
        self.acceptance_days = days;
        self
    }

    /// The acceptance deadline of an order sent at `sent_at`.
    pub fn deadline(&self, sent_at: Timestamp) -> Timestamp {
        sent_at
            .to_zoned(self.tz.clone())
            .checked_add(Span::new().days(i64::from(self.acceptance_days)))
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

/// How the client accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Acceptance {
    /// Signed in the client space.
    Online { at: Timestamp },
    /// Signed on paper on `signed_on`; the signed order reached the provider
    /// at `received_at`, when staff recorded it.
    Paper {
        signed_on: Date,
        received_at: Timestamp,
    },
}

impl Acceptance {
    /// The instant the acceptance reached the provider.
    pub fn at(&self) -> Timestamp {
        match self {
            Acceptance::Online { at } => *at,
            Acceptance::Paper { received_at, .. } => *received_at,
        }
    }
}

/// Where an order stands. Each state keeps what led to it (evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OrderState {
    Draft,
    Sent {
        sent_at: Timestamp,
        deadline: Timestamp,
    },
    /// Not accepted before the deadline (caduc); lapsed at `deadline`.
    Lapsed {
        sent_at: Timestamp,
        deadline: Timestamp,
    },
    Accepted {
        sent_at: Timestamp,
        deadline: Timestamp,
        acceptance: Acceptance,
    },
    Validated {
        sent_at: Timestamp,
        deadline: Timestamp,
        acceptance: Acceptance,
        validated_at: Timestamp,
    },
    Refused {
        sent_at: Timestamp,
        deadline: Timestamp,
        acceptance: Acceptance,
        refused_at: Timestamp,
        reason: String,
    },
    /// The client declined the order before its deadline.
    Declined {
        sent_at: Timestamp,
        deadline: Timestamp,
        declined_at: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// What happens to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    /// Staff send the order to the client.
    Send,
    /// The client signs in the client space.
    AcceptOnline,
    /// Staff record a paper signature of `signed_on`, received now.
    RecordPaperSignature { signed_on: Date },
    /// Time-driven: the acceptance deadline has passed.
    Lapse,
    /// Staff accept the accepted order: it binds the provider.
    Validate,
    /// Staff refuse the accepted order for a legitimate reason.
    Refuse { reason: String },
    /// The client declines the sent order, before its deadline.
    Decline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl OrderEvent {
    pub fn name(&self) -> &'static str {
        match self {
            OrderEvent::Send => "send",
            OrderEvent::AcceptOnline => "accept_online",
            OrderEvent::RecordPaperSignature { .. } => "record_paper_signature",
            OrderEvent::Lapse => "lapse",
            OrderEvent::Validate => "validate",
            OrderEvent::Refuse { .. } => "refuse",
            OrderEvent::Decline { .. } => "decline",
        }
    }
}

/// A refused transition, with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("R1.3 (CG 2.1): a {state} order cannot be {event}")]
    NotAllowed {
        state: &'static str,
        event: &'static str,
    },
    #[error(
        "R1.3 (CG 2.1): the order lapsed at its acceptance deadline {deadline}; it can no longer be accepted"
    )]
    Lapsed { deadline: Timestamp },
    #[error("R1.3 (CG 2.1): the acceptance deadline {deadline} has passed (acceptance at {at})")]
    DeadlinePassed { deadline: Timestamp, at: Timestamp },
    #[error("R1.3 (CG 2.1): the order lapses at {deadline}, not before ({now})")]
    NotYetDue { deadline: Timestamp, now: Timestamp },
    #[error("R1.3 (CG 2.1): the order is already accepted")]
    AlreadyAccepted,
    #[error(
        "R1.3 (CG 2.1): a paper signature dated {signed_on} is before the order was sent ({sent_on})"
    )]
    SignedBeforeSending { signed_on: Date, sent_on: Date },
    #[error(
        "R1.3 (CG 2.1): a paper signature dated {signed_on} is after its receipt ({received_on})"
    )]
    SignedAfterReceipt { signed_on: Date, received_on: Date },
    #[error(
        "R1.4 (CG 2.2): the order must be accepted by the client before staff validate or refuse it"
    )]
    NotAccepted,
    #[error("R1.4 (CG 2.2): the order is already validated")]
    AlreadyValidated,
    #[error("R1.4 (CG 2.2): the order is already refused")]
    AlreadyRefused,
    #[error("R1.4 (CG 2.2): refusing an order needs its reason")]
    ReasonMissing,
    #[error("the event at {now} is before the order's previous event ({previous})")]
    BeforePrevious { now: Timestamp, previous: Timestamp },
}

impl TransitionError {
    /// The rule of RULES.md the refusal applies.
    pub fn rule(&self) -> &'static str {
        match self {
            TransitionError::NotAccepted
            | TransitionError::AlreadyValidated
            | TransitionError::AlreadyRefused
            | TransitionError::ReasonMissing => "R1.4",
            _ => "R1.3",
        }
    }
}

impl OrderState {
    pub fn name(&self) -> &'static str {
        match self {
            OrderState::Draft => "draft",
            OrderState::Sent { .. } => "sent",
            OrderState::Lapsed { .. } => "lapsed",
            OrderState::Accepted { .. } => "accepted",
            OrderState::Validated { .. } => "validated",
            OrderState::Refused { .. } => "refused",
            OrderState::Declined { .. } => "declined",
        }
    }

    /// The acceptance deadline, once sent.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self {
            OrderState::Draft => None,
            OrderState::Sent { deadline, .. }
            | OrderState::Lapsed { deadline, .. }
            | OrderState::Accepted { deadline, .. }
            | OrderState::Validated { deadline, .. }
            | OrderState::Refused { deadline, .. }
            | OrderState::Declined { deadline, .. } => Some(*deadline),
        }
    }

    /// The time-driven event due at `now`, if any (the lapse of a sent
    /// order at its deadline).
    pub fn due_step(&self, now: Timestamp) -> Option<OrderEvent> {
        match self {
            OrderState::Sent { deadline, .. } if now >= *deadline => Some(OrderEvent::Lapse),
            _ => None,
        }
    }

    /// The instant of the latest event, for the no-going-back check.
    fn last_event_at(&self) -> Option<Timestamp> {
        match self {
            OrderState::Draft => None,
            OrderState::Sent { sent_at, .. } => Some(*sent_at),
            OrderState::Lapsed { deadline, .. } => Some(*deadline),
            OrderState::Accepted { acceptance, .. } => Some(acceptance.at()),
            OrderState::Validated { validated_at, .. } => Some(*validated_at),
            OrderState::Refused { refused_at, .. } => Some(*refused_at),
            OrderState::Declined { declined_at, .. } => Some(*declined_at),
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies `event` at `now` to `state`: the new state, or why not.
pub fn apply(
    state: &OrderState,
    event: &OrderEvent,
    now: Timestamp,
    params: &OrderParams,
) -> Result<OrderState, TransitionError> {
    use OrderEvent as E;
    use OrderState as S;
    use TransitionError as T;

    if let Some(previous) = state.last_event_at()
        && now < previous
        // A lapse is dated at its deadline, not at `now`.
        && !matches!(event, E::Lapse)
        // A paper signature received before the deadline but entered after
        // the lapse step ran is dated at its receipt, before the lapse.
        && !matches!((state, event), (S::Lapsed { .. }, E::RecordPaperSignature { .. }))
    {
        return Err(T::BeforePrevious { now, previous });
    }
    let not_allowed = || T::NotAllowed {
        state: state.name(),
        event: event.name(),
    };
    match (state, event) {
        (S::Draft, E::Send) => Ok(S::Sent {
            sent_at: now,
            deadline: params.deadline(now),
        }),
        (S::Draft, _) => Err(not_allowed()),

        (S::Sent { sent_at, deadline }, E::AcceptOnline) => {
            if now >= *deadline {
                return Err(T::DeadlinePassed {
                    deadline: *deadline,
                    at: now,
                });
            }
            Ok(S::Accepted {
                sent_at: *sent_at,
                deadline: *deadline,
                acceptance: Acceptance::Online { at: now },
            })
        }
        (S::Sent { sent_at, deadline }, E::RecordPaperSignature { signed_on }) => {
            if now >= *deadline {
                return Err(T::DeadlinePassed {
                    deadline: *deadline,
                    at: now,
                });
            }
            let sent_on = sent_at.to_zoned(params.tz.clone()).date();
            let received_on = now.to_zoned(params.tz.clone()).date();
            if *signed_on < sent_on {
                return Err(T::SignedBeforeSending {
                    signed_on: *signed_on,
                    sent_on,
                });
            }
            if *signed_on > received_on {
                return Err(T::SignedAfterReceipt {
                    signed_on: *signed_on,
                    received_on,
                });
            }
            Ok(S::Accepted {
                sent_at: *sent_at,
                deadline: *deadline,
                acceptance: Acceptance::Paper {
                    signed_on: *signed_on,
                    received_at: now,
                },
            })
        }
        (S::Sent { sent_at, deadline }, E::Lapse) => {
            if now < *deadline {
                return Err(T::NotYetDue {
                    deadline: *deadline,
                    now,
                });
            }
            Ok(S::Lapsed {
                sent_at: *sent_at,
                deadline: *deadline,
            })
        }
        (S::Sent { sent_at, deadline }, E::Decline { reason }) => {
            if now >= *deadline {
                return Err(T::DeadlinePassed {
                    deadline: *deadline,
                    at: now,
                });
            }
            Ok(S::Declined {
                sent_at: *sent_at,
                deadline: *deadline,
                declined_at: now,
                reason: reason
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            })
        }
        (S::Sent { .. }, E::Validate | E::Refuse { .. }) => Err(T::NotAccepted),
        (S::Sent { .. }, E::Send) => Err(not_allowed()),

        // The signed order was received in time (R1.3): the lapse step ran
        // on what ciel knew then, and the receipt undoes it.
        (S::Lapsed { sent_at, deadline }, E::RecordPaperSignature { .. }) if now < *deadline => {
            let sent = S::Sent {
                sent_at: *sent_at,
                deadline: *deadline,
            };
            apply(&sent, event, now, params)
        }
        (
            S::Lapsed { deadline, .. },
            E::AcceptOnline | E::RecordPaperSignature { .. } | E::Decline { .. },
        ) => Err(T::Lapsed {
            deadline: *deadline,
        }),
        (S::Lapsed { .. }, E::Validate | E::Refuse { .. }) => Err(T::NotAccepted),
        (S::Lapsed { .. }, _) => Err(not_allowed()),

        (
            S::Accepted {
                sent_at,
                deadline,
                acceptance,
            },
            E::Validate,
        ) => Ok(S::Validated {
            sent_at: *sent_at,
            deadline: *deadline,
            acceptance: acceptance.clone(),
            validated_at: now,
        }),
        (
            S::Accepted {
                sent_at,
                deadline,
                acceptance,
            },
            E::Refuse { reason },
        ) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(T::ReasonMissing);
            }
            Ok(S::Refused {
                sent_at: *sent_at,
                deadline: *deadline,
                acceptance: acceptance.clone(),
                refused_at: now,
                reason: reason.to_string(),
            })
        }
        (
            S::Accepted { .. },
            E::AcceptOnline | E::RecordPaperSignature { .. } | E::Decline { .. },
        ) => Err(T::AlreadyAccepted),
        (S::Accepted { .. }, _) => Err(not_allowed()),

        (S::Validated { .. }, E::Validate | E::Refuse { .. }) => Err(T::AlreadyValidated),
        (S::Validated { .. }, _) => Err(not_allowed()),
        (S::Refused { .. }, E::Validate | E::Refuse { .. }) => Err(T::AlreadyRefused),
        (S::Refused { .. }, _) => Err(not_allowed()),
        (S::Declined { .. }, E::Validate | E::Refuse { .. }) => Err(T::NotAccepted),
        (S::Declined { .. }, _) => Err(not_allowed()),
    }
}
