//! The life of a service (R1.6-R1.7, R2.5, R3.1-R3.6, R12.2), as a pure
//! function of (state, event, now), with the time-driven steps the daily job
//! pass runs.
//!
//! ```text
//!  Ordered ──Provision──► Provisioned ─┬─ contest window (R1.7): Pending ──Contest──► Contested ──ResolveContest──► Accepted
//!                                      │                          ├──RecordFirstUse──► Accepted (first use)
//!                                      │                          └──EndContestWindow (due)──► Accepted (window ended)
//!                                      ├─ fixed term (R1.6): start .. term_last_day ──Renew (due)──► indefinite term (R3.2)
//!                                      ├─ GiveNotice (R3.2) / TerminateEarly (R3.1) / TerminateForCause (R3.4)
//!                                      │        └──End (due, the day after the last day of service)──► ended
//!                                      ├─ Suspend(reason) ──Reopen──► (R3.4; billing continues)
//!                                      │        └──SecurityDeadline (due, 15 days after the email)──► termination for cause open
//!                                      ├─ RecordMonthlyTraffic (R3.5 fair-use flag)
//!                                      └─ after a termination: RecordProductReturn, ProductReturnDeadline (due, R3.6),
//!                                         RequestReversibility (R12.2)
//! ```
//!
//! Design choices, and why:
//!
//! - **Facts follow dates, not the job.** Every deadline is stored as an
//!   instant when the event that opens it is recorded, and every check (can
//!   the client still contest? is the fixed term over? has the service
//!   ended?) compares `now` with those instants, never with whether the job
//!   pass has already run. So a staff action recorded after a deadline but
//!   before the job ran gets the same answer as after it, and a time-driven
//!   step is dated at its deadline, not at the time the job happened to run.
//!   Two late entries revise what a step concluded, because the contract
//!   counts from the day of the fact, not of its entry: a registered letter
//!   received in time but recorded after the term undoes the renewal (R3.2),
//!   and a product return dated before the deadline but entered after the
//!   check removes it from the late list (R3.6). The wiring must then
//!   retract the renewal notice or credit the indemnity (R2.11).
//! - **Time-driven steps are independent.** Each of the five steps
//!   ([`ServiceState::due_steps`]) reads and writes its own part of the state
//!   only, so the steps due at one instant give the same state in any order,
//!   and none of them makes another one due. Applying a step a second time is
//!   refused ([`ServiceError::AlreadyApplied`]), so a job run twice never
//!   produces a second effect.
//! - **Delays in days count whole calendar days in Europe/Paris** (the terms'
//!   zone), as French procedure counts them (Code de procédure civile
//!   art. 641-642): the day of the event does not count and the delay expires
//!   at the end of its last day. "Within 5 days" of a provisioning on
//!   1 March thus runs until 6 March 23:59:59 Paris; a contest on day 5 is in
//!   time, on day 6 it is not. The same reading gives the 15 days of R2.6 and
//!   R3.4 and the month of R3.6 (its last day included).
//! - **The contract arithmetic is the engine's.** The last day of service of
//!   a notice ([`ciel_engine::Engine::notice_end`], R3.2) and the
//!   early-termination fee ([`ciel_engine::Engine::early_termination`], R3.1)
//!   are computed there, so the portal's quote, the termination and the
//!   `ciel calc` command always agree.
//! - Staff and client events never go back in time: an event dated before
//!   the service's previous one is refused. Time-driven steps are exempt
//!   (they are dated at their deadline).

use std::fmt;

use ciel_engine::{
    Engine, EngineError, Explained,
    contract::{EarlyTerminationInput, EarlyTerminationQuote},
};
use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

// ---- parameters -----------------------------------------------------------

/// Parameters of the service machine. Every field comes from the terms
/// version the order is pinned to, except the three marked *not in the
/// terms*: the contract gives no value for them, so they are product
/// defaults here, to move into the terms file when it grows them.
#[derive(Debug, Clone)]
pub struct ServiceParams {
    /// `version.timezone`: days and months are counted there.
    pub tz: TimeZone,
    /// `contract.provisioning_contest_days` (R1.7, CG 2.6): 5.
    pub contest_days: u32,
    /// `billing.client_delay_provisions_at_planned_date` (R2.5, CG 3.3).
    pub client_delay_provisions_at_planned_date: bool,
    /// `late_payment.formal_notice_days` (R2.6, CG 3.5): a suspension for
    /// non-payment needs the client informed that many days before (R3.4).
    pub non_payment_notice_days: u32,
    /// `termination.secure_infrastructure_days` (R3.4, CG 9.2): 15.
    pub secure_infrastructure_days: u32,
    /// `termination.billing_continues_during_suspension` (R3.4): true.
    pub billing_continues_during_suspension: bool,
    /// `billing.fair_use.monthly_bytes` (R3.5, CG 9.2): 5 TB = 10^12 x 5.
    pub fair_use_monthly_bytes: u64,
    /// `billing.fair_use.throttle_mbit_per_s` (R3.5): 10.
    pub fair_use_throttle_mbit_per_s: u32,
    /// `termination.product_return_months` (R3.6, CG 10): 1.
    pub product_return_months: u32,
    /// `termination.product_return_indemnity_eur` (R3.6): 700.00.
    pub product_return_indemnity: Decimal,
    /// *Not in the terms.* Whether a month of exactly the threshold counts
    /// (R3.5). Default `true`: CG 9.2 says "atteignant 5 téraoctets"
    /// (reaching), while RULES.md says "above"; the contract's text wins.
    pub fair_use_threshold_inclusive: bool,
    /// *Not in the terms.* Share of the remaining monthly fees due when the
    /// provider terminates after an unremedied security danger (R3.4).
    /// Default 100: CG 9.2 says the client "demeurera redevable des sommes
    /// restantes à devoir", all the sums still to be paid until the end of
    /// the fixed term, not the reduced shares of a client's own early
    /// termination (R3.1).
    pub cause_termination_share_percent: Decimal,
    /// *Not in the terms.* Days after the last day of service during which
    /// a reversibility request is still taken (R12.2). Default 30: CS 2.1.4
    /// promises the copy "aux termes du Contrat" without a delay; the data
    /// must still exist to be copied, and 30 days matches the month the
    /// client has to return products (R3.6).
    pub reversibility_days_after_end: u32,
    /// The engine of the same terms version (R3.1, R3.2 arithmetic).
    pub engine: Engine,
}

/// Why parameters could not be built from a terms version.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    #[error("terms time zone: {0}")]
    TimeZone(String),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
}

impl ServiceParams {
    /// Default for [`ServiceParams::reversibility_days_after_end`].
    pub const DEFAULT_REVERSIBILITY_DAYS: u32 = 30;

    pub fn from_terms(terms: &ciel_terms::Terms) -> Result<Self, ParamsError> {
        let t = &terms.termination;
        Ok(ServiceParams {
            tz: TimeZone::get(&terms.version.timezone)
                .map_err(|e| ParamsError::TimeZone(e.to_string()))?,
            contest_days: terms.contract.provisioning_contest_days.value,
            client_delay_provisions_at_planned_date: terms
                .billing
                .client_delay_provisions_at_planned_date
                .value,
            non_payment_notice_days: terms.late_payment.formal_notice_days,
            secure_infrastructure_days: t.secure_infrastructure_days.value,
            billing_continues_during_suspension: t.billing_continues_during_suspension.value,
            fair_use_monthly_bytes: terms.billing.fair_use.monthly_bytes,
            fair_use_throttle_mbit_per_s: terms.billing.fair_use.throttle_mbit_per_s,
            product_return_months: t.product_return_months.value,
            product_return_indemnity: t.product_return_indemnity_eur.value.0,
            fair_use_threshold_inclusive: true,
            cause_termination_share_percent: Decimal::ONE_HUNDRED,
            reversibility_days_after_end: Self::DEFAULT_REVERSIBILITY_DAYS,
            engine: Engine::new(terms)?,
        })
    }

    /// The calendar day of an instant, in the terms' zone.
    pub fn day_of(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The first instant of a day, in the terms' zone (a day that starts in
    /// a DST gap starts at the gap's end).
    pub fn start_of(&self, d: Date) -> Timestamp {
        d.to_zoned(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant a delay of `days` calendar days opened at `from` expires:
    /// the start of the day after its last day (the day of `from` does not
    /// count). Anything strictly before it is within the delay.
    pub fn delay_end(&self, from: Timestamp, days: u32) -> Timestamp {
        delay_end(&self.tz, from, days)
    }

    /// The instant after the last moment of day `d`.
    pub fn end_of(&self, d: Date) -> Timestamp {
        d.tomorrow()
            .map(|n| self.start_of(n))
            .unwrap_or(Timestamp::MAX)
    }

    /// Whether a month's traffic crosses the fair-use threshold (R3.5).
    pub fn fair_use_exceeded(&self, bytes: u64) -> bool {
        if self.fair_use_threshold_inclusive {
            bytes >= self.fair_use_monthly_bytes
        } else {
            bytes > self.fair_use_monthly_bytes
        }
    }
}

/// The instant a delay of `days` calendar days opened at `from` expires, days
/// read in `tz`: the start of the day after its last day (the day of `from`
/// does not count). Anything strictly before it is within the delay. Shared
/// by every day delay of the contract (R1.2, R1.7, R3.4...).
pub fn delay_end(tz: &TimeZone, from: Timestamp, days: u32) -> Timestamp {
    from.to_zoned(tz.clone())
        .date()
        .checked_add(i64::from(days).days())
        .and_then(|d| d.tomorrow())
        .and_then(|d| d.to_zoned(tz.clone()))
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

// ---- state ------------------------------------------------------------------

/// Who sends a termination notice (R3.2: either party).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Client,
    Provider,
}

/// How the service was provisioned (R1.6, R2.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioning {
    /// The instant the service was made available and the client told so
    /// (the notice of R13 with the contest window): the contest window
    /// runs from it, since a client cannot contest what it does not have.
    pub made_available_at: Timestamp,
    /// The planned provisioning day, if the order had one.
    pub planned_on: Option<Date>,
    /// Staff recorded that the delay is the client's fault (R2.5).
    pub client_delay: bool,
    /// The day the commitment (R1.6) and billing (R2.4) start: the day
    /// made available, or the planned day when the client caused the delay.
    pub start: Date,
}

/// Where the client's acceptance of the provisioned service stands (R1.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AcceptanceStatus {
    /// Inside the contest window.
    Pending,
    /// A written contest received in the window; routed to staff.
    Contested { at: Timestamp, text: String },
    /// Accepted without reserve.
    Accepted { at: Timestamp, by: AcceptedBy },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum AcceptedBy {
    /// The window ended without a contest.
    WindowEnded,
    /// The client used the service inside the window.
    FirstUse,
    /// Staff resolved the client's contest.
    ContestResolved {
        contested_at: Timestamp,
        text: String,
        resolution: String,
    },
}

/// What ends the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TerminationKind {
    /// A registered letter received on `received_on` (R3.2).
    Notice {
        by: Party,
        received_on: Date,
        /// received_on + the notice days.
        expires_on: Date,
        /// True when the service ends with its fixed term (no renewal).
        at_term_end: bool,
    },
    /// The client leaves during the fixed term (R3.1).
    Early,
    /// The provider terminates after an unremedied security danger (R3.4).
    SecurityNotRemedied,
    /// The provider terminates a service suspended for an unpaid sum whose
    /// formal notice was left without effect (R3.3).
    NonPaymentNotRemedied,
}

/// A fee handed to billing once the termination is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationFee {
    /// The rule the fee applies: "R3.1" or "R3.4".
    pub rule: String,
    /// Commitment month of the last day of service (R3.1).
    pub commitment_month: Option<u32>,
    pub share_percent: Decimal,
    /// Remaining monthly fees, as a number of months, exact.
    pub remaining_months: Decimal,
    pub monthly_fee: Decimal,
    /// Exact fee.
    pub exact: Decimal,
    /// Fee to invoice, rounded once to the cent (R2.12).
    pub amount: Decimal,
}

/// A recorded termination and the deadlines it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    pub kind: TerminationKind,
    pub recorded_at: Timestamp,
    /// Last day of service (the termination date of R3.1's decision).
    pub last_day: Date,
    /// Start of the day after the last day: the service has ended then.
    pub ends_at: Timestamp,
    pub fee: Option<TerminationFee>,
    /// Last day to return the products: last_day + the return months
    /// (R3.6), clamped at month ends (31 Jan + 1 month = 28/29 Feb).
    pub products_due_by: Date,
    /// Start of the day after `products_due_by`.
    pub products_deadline_at: Timestamp,
    /// End of the window for a reversibility request (R12.2).
    pub reversibility_until: Timestamp,
}

/// Why a service is suspended (R3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SuspensionReason {
    /// An unpaid sum; the client was informed at `informed_at` (the formal
    /// notice email of R2.6). Access reopens on payment.
    NonPayment { informed_at: Timestamp },
    /// Illicit use or use against the contract: at once.
    IllicitUse,
    /// Hacking of the client's infrastructure: at once.
    Hacking,
    /// A legal, regulatory, administrative or judicial demand: at once.
    LegalDemand,
    /// The client's infrastructure endangers the platform: at once, with the
    /// email of the suspension sent at the same instant; the client has the
    /// securing delay to fix it, else termination at its cost.
    SecurityDanger,
}

impl SuspensionReason {
    pub fn name(&self) -> &'static str {
        match self {
            SuspensionReason::NonPayment { .. } => "non_payment",
            SuspensionReason::IllicitUse => "illicit_use",
            SuspensionReason::Hacking => "hacking",
            SuspensionReason::LegalDemand => "legal_demand",
            SuspensionReason::SecurityDanger => "security_danger",
        }
    }
}

/// One suspension (R3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub reason: SuspensionReason,
    pub since: Timestamp,
    /// Security danger: the end of the securing delay.
    pub deadline: Option<Timestamp>,
    /// Security danger: the deadline passed while suspended (set by the
    /// time-driven step); termination at the client's cost is open.
    pub deadline_passed: bool,
    pub reopened_at: Option<Timestamp>,
    pub reopen_note: Option<String>,
}

/// A month's traffic and its fair-use flag (R3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairUseMonth {
    /// First day of the calendar month.
    pub month: Date,
    pub bytes: u64,
    /// The month reached the threshold: the bandwidth may be limited.
    pub exceeded: bool,
    /// The rate it may be limited to (R3.5: 10 Mbit/s), when exceeded; the
    /// network side decides whether to apply it.
    pub limit_mbit_per_s: Option<u32>,
}

/// What happened to a product to return (R3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReturnOutcome {
    Returned { on: Date },
    Refused,
    Destroyed,
    Lost,
}

/// A product of the provider lent with the service (R3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    /// Its value on the day the order was placed.
    pub value_at_order: Decimal,
    pub outcome: Option<ReturnOutcome>,
}

impl Product {
    pub fn new(id: impl Into<String>, value_at_order: Decimal) -> Self {
        Product {
            id: id.into(),
            value_at_order,
            outcome: None,
        }
    }

    /// The value owed for a product refused, destroyed or lost (R3.6).
    pub fn value_due(&self) -> Decimal {
        match self.outcome {
            Some(ReturnOutcome::Refused | ReturnOutcome::Destroyed | ReturnOutcome::Lost) => {
                self.value_at_order
            }
            _ => Decimal::ZERO,
        }
    }

    fn returned_by(&self, day: Date) -> bool {
        matches!(self.outcome, Some(ReturnOutcome::Returned { on }) if on <= day)
    }
}

/// The product-return check made at the deadline (R3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCheck {
    /// Products not back by the deadline.
    pub late: Vec<String>,
    /// 700 EUR when any product is late, else zero: one indemnity per
    /// service, as CG 10 names "une indemnité" for the products of the
    /// order, without prejudice to the value of products refused,
    /// destroyed or lost.
    pub indemnity: Decimal,
}

/// An amount billing must invoice once (see [`Service::one_off_charges`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneOffCharge {
    /// Stable within the service: `termination_fee`,
    /// `product_return_indemnity`, `product_value:<product id>`.
    pub key: String,
    pub rule: String,
    /// Euros excluding VAT, already rounded to the cent.
    pub amount: Decimal,
}

/// A provisioned service (also once ended: its history is evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub commitment_months: u32,
    pub provisioning: Provisioning,
    /// Last day of the fixed term: start + commitment months - 1 day.
    pub term_last_day: Date,
    /// Start of the day after the term: the indefinite term starts then.
    pub renewal_at: Timestamp,
    /// End of the contest window (R1.7), exclusive.
    pub contest_window_end: Timestamp,
    pub acceptance: AcceptanceStatus,
    /// First day of the indefinite term, once renewed (R3.2).
    pub renewed_on: Option<Date>,
    pub termination: Option<Termination>,
    /// The last day of service, once the end step ran.
    pub ended_on: Option<Date>,
    /// The current or last suspension; earlier ones in `past_suspensions`.
    pub suspension: Option<Suspension>,
    pub past_suspensions: Vec<Suspension>,
    pub fair_use: Vec<FairUseMonth>,
    pub products: Vec<Product>,
    pub product_check: Option<ProductCheck>,
    pub reversibility_requested_at: Option<Timestamp>,
    /// Instant of the latest staff or client event (no going back).
    pub last_event_at: Timestamp,
}

/// Where a service stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServiceState {
    /// The order line is validated; the service awaits provisioning.
    Ordered {
        commitment_months: u32,
    },
    Provisioned(Box<Service>),
}

/// A summary for lists and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ordered,
    /// In its contest window, or contested.
    InContest,
    FixedTerm,
    Indefinite,
    /// A termination is recorded; the last day has not passed.
    Terminating,
    Suspended,
    Ended,
}

// ---- events -------------------------------------------------------------------

/// What happens to a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServiceEvent {
    /// Staff make the service available now (R1.6), with the planned day and
    /// whether the client caused the delay (R2.5), and the products lent.
    Provision {
        planned_on: Option<Date>,
        client_delay: bool,
        products: Vec<Product>,
    },
    /// A written contest received now (R1.7).
    Contest {
        text: String,
    },
    /// The client used the service (R1.7). Repeating it is a no-op: usage
    /// reports are many.
    RecordFirstUse,
    /// Staff settle a contest.
    ResolveContest {
        resolution: String,
    },
    /// Time-driven: the contest window ended (R1.7).
    EndContestWindow,
    /// Time-driven: the fixed term ended without a notice ending it (R3.2).
    Renew,
    /// A termination notice by registered letter received on `received_on`
    /// (R3.2), recorded now. The receipt day governs, not the recording: a
    /// letter recorded late may give a last day already past, and the end
    /// step is then due at once, dated that day.
    GiveNotice {
        by: Party,
        received_on: Date,
    },
    /// The client terminates during the fixed term, its last day of service
    /// being `last_day` (R3.1); the quote becomes the fee. `quoted_fee` is
    /// the amount the client was shown and confirmed: when given, a
    /// different amount today (a fee changed in between) is refused rather
    /// than charged.
    TerminateEarly {
        last_day: Date,
        monthly_fee: Decimal,
        investment: bool,
        #[serde(default)]
        quoted_fee: Option<Decimal>,
    },
    Suspend {
        reason: SuspensionReason,
    },
    Reopen {
        note: String,
    },
    /// Time-driven: the securing delay after a security suspension passed.
    SecurityDeadline,
    /// The provider terminates after the security deadline (R3.4), or a
    /// service suspended for non-payment (R3.3).
    TerminateForCause {
        last_day: Date,
        monthly_fee: Decimal,
    },
    /// Time-driven: the last day of service is over.
    End,
    /// The metered traffic of a calendar month (`month` = any day of it).
    RecordMonthlyTraffic {
        month: Date,
        bytes: u64,
    },
    RecordProductReturn {
        product: String,
        outcome: ReturnOutcome,
    },
    /// Time-driven: the product-return month passed (R3.6).
    ProductReturnDeadline,
    /// The client asks for its data (R12.2).
    RequestReversibility,
}

impl ServiceEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ServiceEvent::Provision { .. } => "provision",
            ServiceEvent::Contest { .. } => "contest",
            ServiceEvent::RecordFirstUse => "record_first_use",
            ServiceEvent::ResolveContest { .. } => "resolve_contest",
            ServiceEvent::EndContestWindow => "end_contest_window",
            ServiceEvent::Renew => "renew",
            ServiceEvent::GiveNotice { .. } => "give_notice",
            ServiceEvent::TerminateEarly { .. } => "terminate_early",
            ServiceEvent::Suspend { .. } => "suspend",
            ServiceEvent::Reopen { .. } => "reopen",
            ServiceEvent::SecurityDeadline => "security_deadline",
            ServiceEvent::TerminateForCause { .. } => "terminate_for_cause",
            ServiceEvent::End => "end",
            ServiceEvent::RecordMonthlyTraffic { .. } => "record_monthly_traffic",
            ServiceEvent::RecordProductReturn { .. } => "record_product_return",
            ServiceEvent::ProductReturnDeadline => "product_return_deadline",
            ServiceEvent::RequestReversibility => "request_reversibility",
        }
    }

    /// The notice of R13 the client must get when this event is applied,
    /// if any (rendered and put in the outbox in the same transaction).
    pub fn notice(&self) -> Option<ServiceNotice> {
        match self {
            ServiceEvent::Provision { .. } => Some(ServiceNotice::Provisioned),
            ServiceEvent::Suspend { .. } => Some(ServiceNotice::Suspended),
            ServiceEvent::Reopen { .. } => Some(ServiceNotice::Reopened),
            ServiceEvent::GiveNotice { .. }
            | ServiceEvent::TerminateEarly { .. }
            | ServiceEvent::TerminateForCause { .. } => Some(ServiceNotice::TerminationConfirmed),
            _ => None,
        }
    }

    /// Whether the job pass (not a person) applies this event.
    pub fn is_time_driven(&self) -> bool {
        matches!(
            self,
            ServiceEvent::EndContestWindow
                | ServiceEvent::Renew
                | ServiceEvent::SecurityDeadline
                | ServiceEvent::End
                | ServiceEvent::ProductReturnDeadline
        )
    }
}

/// The client notices of R13 a service event gives rise to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceNotice {
    /// "Service provisioned (with the 5-day contest window)".
    Provisioned,
    /// "Suspension" (with its reason; for a security danger, the email
    /// that starts the securing delay).
    Suspended,
    /// "Reopening".
    Reopened,
    /// "Termination confirmation with effective date and fees".
    TerminationConfirmed,
}

// ---- errors -------------------------------------------------------------------

/// A refused event, with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("R1.6 (CG 2.6): a commitment is at least one month")]
    NoCommitment,
    #[error("R1.6 (CG 2.6): the service is not provisioned yet; it cannot be {event}")]
    NotProvisioned { event: &'static str },
    #[error("R1.6 (CG 2.6): the service is already provisioned (since {start})")]
    AlreadyProvisioned { start: Date },
    #[error("R2.5 (CG 3.3): a client delay needs the planned provisioning day")]
    PlannedDayMissing,
    #[error("R1.7 (CG 2.6): the contest window closed at {window_end}; a contest at {at} is void")]
    ContestAfterWindow {
        window_end: Timestamp,
        at: Timestamp,
    },
    #[error("R1.7 (CG 2.6): the service was accepted without reserve at {at}")]
    AlreadyAccepted { at: Timestamp },
    #[error("R1.7 (CG 2.6): the service is already contested (at {at})")]
    AlreadyContested { at: Timestamp },
    #[error("R1.7 (CG 2.6): there is no contest to resolve")]
    NotContested,
    #[error("R1.7 (CG 2.6): a contest must be written; its text is empty")]
    ContestTextMissing,
    #[error("R1.7 (CG 2.6): settling a contest needs its resolution")]
    ResolutionMissing,
    #[error("{rule}: the step {step} is due at {due_at}, not before ({now})")]
    NotYetDue {
        rule: &'static str,
        step: &'static str,
        due_at: Timestamp,
        now: Timestamp,
    },
    #[error("{rule}: the step {step} was already applied or is not applicable")]
    AlreadyApplied {
        rule: &'static str,
        step: &'static str,
    },
    #[error(
        "R3.2 (CG 9.3): a notice received on {received_on} is before the service started ({start})"
    )]
    NoticeBeforeStart { received_on: Date, start: Date },
    #[error("R3.2 (CG 9.3): a notice cannot be received on {received_on}, after today ({today})")]
    NoticeInFuture { received_on: Date, today: Date },
    #[error("R3.2 (CG 9.3): a termination is already recorded (last day of service {last_day})")]
    AlreadyTerminating { last_day: Date },
    #[error("R3.2 (CG 9.3): the service ended on {last_day}")]
    Ended { last_day: Date },
    #[error(
        "R3.1 (CG 9.1): the fixed term ends on {term_last_day}; a last day of service on {last_day} is not an early termination (give a notice, R3.2)"
    )]
    NotInFixedTerm { last_day: Date, term_last_day: Date },
    #[error("R3.1 (CG 9.1): the last day of service {last_day} is before today ({today})")]
    LastDayInPast { last_day: Date, today: Date },
    #[error("R3.1 (CG 9.1): the last day of service {last_day} is before the start ({start})")]
    LastDayBeforeStart { last_day: Date, start: Date },
    #[error("R3.1 (CG 9.1): the fee is now {fee}, not the {quoted} quoted; quote again")]
    QuoteChanged { quoted: Decimal, fee: Decimal },
    /// The engine refused the computation (a negative fee, a date out of
    /// range); `rule` is R3.1 for a fee, R3.2 for a notice.
    #[error("{rule}: {message}")]
    Arithmetic { rule: &'static str, message: String },
    #[error("R3.4 (CG 9.2): the service is already suspended ({reason} since {since})")]
    AlreadySuspended {
        reason: &'static str,
        since: Timestamp,
    },
    #[error("R3.4 (CG 9.2): the service is not suspended")]
    NotSuspended,
    #[error(
        "R3.4 (CG 9.2, R2.6): suspension for non-payment is possible from {allowed_from}, {days} days after informing the client ({informed_at})"
    )]
    NonPaymentTooEarly {
        informed_at: Timestamp,
        allowed_from: Timestamp,
        days: u32,
    },
    #[error(
        "R3.4 (CG 9.2): termination at the client's cost needs a suspension for non-payment (R3.3) or a security suspension whose securing delay has passed"
    )]
    NoSecurityCause,
    #[error("R3.4 (CG 9.2): the client has until {deadline} to secure its infrastructure")]
    SecurityDelayRunning { deadline: Timestamp },
    #[error("R3.4 (CG 9.2): reopening needs a note (payment received, infrastructure secured...)")]
    NoteMissing,
    #[error("R3.5 (CG 9.2): the month of {month} has not begun on {today}")]
    FutureMonth { month: Date, today: Date },
    #[error("R3.5 (CG 9.2): the month of {month} is before the service started ({start})")]
    MonthBeforeStart { month: Date, start: Date },
    #[error("R3.6 (CG 10): products are returned after a termination; none is recorded")]
    NoTerminationForReturn,
    #[error("R3.6 (CG 10): product {id:?} is listed twice")]
    DuplicateProduct { id: String },
    #[error(
        "R3.6 (CG 10): product {id:?} needs a non-negative value at the order date and no outcome yet"
    )]
    InvalidProduct { id: String },
    #[error("R3.6 (CG 10): no product {id:?} was lent with this service")]
    UnknownProduct { id: String },
    #[error("R3.6 (CG 10): the outcome of product {id:?} is already recorded")]
    ProductAlreadyRecorded { id: String },
    #[error("R3.6 (CG 10): a return on {on} cannot be recorded before it happened (today {today})")]
    ReturnInFuture { on: Date, today: Date },
    #[error(
        "R12.2 (CS 2.1.4): reversibility is requested at the end of the contract; no termination is recorded"
    )]
    NoTerminationForReversibility,
    #[error("R12.2 (CS 2.1.4): reversibility was already requested at {at}")]
    ReversibilityAlreadyRequested { at: Timestamp },
    #[error("R12.2 (CS 2.1.4): reversibility requests closed at {until}")]
    ReversibilityClosed { until: Timestamp },
    #[error("the event at {now} is before the service's previous event ({previous})")]
    BeforePrevious { now: Timestamp, previous: Timestamp },
}

impl ServiceError {
    /// The rule of RULES.md the refusal applies.
    pub fn rule(&self) -> &'static str {
        use ServiceError as E;
        match self {
            E::NoCommitment | E::NotProvisioned { .. } | E::AlreadyProvisioned { .. } => "R1.6",
            E::PlannedDayMissing => "R2.5",
            E::ContestAfterWindow { .. }
            | E::AlreadyAccepted { .. }
            | E::AlreadyContested { .. }
            | E::NotContested
            | E::ContestTextMissing
            | E::ResolutionMissing => "R1.7",
            E::NotYetDue { rule, .. } | E::AlreadyApplied { rule, .. } => rule,
            E::NoticeBeforeStart { .. }
            | E::NoticeInFuture { .. }
            | E::AlreadyTerminating { .. }
            | E::Ended { .. } => "R3.2",
            E::NotInFixedTerm { .. }
            | E::LastDayInPast { .. }
            | E::LastDayBeforeStart { .. }
            | E::QuoteChanged { .. } => "R3.1",
            E::Arithmetic { rule, .. } => rule,
            E::AlreadySuspended { .. }
            | E::NotSuspended
            | E::NonPaymentTooEarly { .. }
            | E::NoSecurityCause
            | E::SecurityDelayRunning { .. }
            | E::NoteMissing => "R3.4",
            E::FutureMonth { .. } | E::MonthBeforeStart { .. } => "R3.5",
            E::NoTerminationForReturn
            | E::DuplicateProduct { .. }
            | E::InvalidProduct { .. }
            | E::UnknownProduct { .. }
            | E::ProductAlreadyRecorded { .. }
            | E::ReturnInFuture { .. } => "R3.6",
            E::NoTerminationForReversibility
            | E::ReversibilityAlreadyRequested { .. }
            | E::ReversibilityClosed { .. } => "R12.2",
            // Events are evidence (R13): their chronology cannot be rewritten.
            E::BeforePrevious { .. } => "R13",
        }
    }
}

// ---- queries ------------------------------------------------------------------

impl ServiceState {
    /// A service awaiting provisioning, with its commitment (R1.6).
    pub fn ordered(commitment_months: u32) -> Result<Self, ServiceError> {
        if commitment_months == 0 {
            return Err(ServiceError::NoCommitment);
        }
        Ok(ServiceState::Ordered { commitment_months })
    }

    pub fn service(&self) -> Option<&Service> {
        match self {
            ServiceState::Ordered { .. } => None,
            ServiceState::Provisioned(s) => Some(s),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ServiceState::Ordered { .. } => "ordered",
            ServiceState::Provisioned(_) => "provisioned",
        }
    }

    /// Where the service stands at `now`, read from the dates (a step not
    /// yet run by the job does not change the answer).
    pub fn status(&self, now: Timestamp) -> Status {
        let ServiceState::Provisioned(s) = self else {
            return Status::Ordered;
        };
        if s.has_ended_at(now) {
            return Status::Ended;
        }
        if s.suspension
            .as_ref()
            .is_some_and(|x| x.reopened_at.is_none())
        {
            return Status::Suspended;
        }
        if s.termination.is_some() {
            return Status::Terminating;
        }
        match s.acceptance {
            AcceptanceStatus::Contested { .. } => return Status::InContest,
            AcceptanceStatus::Pending if now < s.contest_window_end => return Status::InContest,
            _ => {}
        }
        if now >= s.renewal_at {
            Status::Indefinite
        } else {
            Status::FixedTerm
        }
    }

    /// The time-driven steps the daily job pass must apply at `now`. They
    /// are independent: applying them in any order gives the same state,
    /// and once applied none of them is due again.
    pub fn due_steps(&self, now: Timestamp) -> Vec<ServiceEvent> {
        let ServiceState::Provisioned(s) = self else {
            return vec![];
        };
        let mut steps = Vec::new();
        if s.contest_window_due(now) {
            steps.push(ServiceEvent::EndContestWindow);
        }
        if s.renewal_due(now) {
            steps.push(ServiceEvent::Renew);
        }
        if s.security_deadline_due(now) {
            steps.push(ServiceEvent::SecurityDeadline);
        }
        if s.end_due(now) {
            steps.push(ServiceEvent::End);
        }
        if s.product_deadline_due(now) {
            steps.push(ServiceEvent::ProductReturnDeadline);
        }
        steps
    }
}

impl ServiceState {
    /// The first instant at which a time-driven step becomes due, if any:
    /// the store keeps it as an indexed column so the daily pass reads only
    /// the services with something to do (issue 4's 100 000-service target).
    /// Strictly before it, [`ServiceState::due_steps`] is empty; at it, it
    /// is not. It changes only when an event is applied.
    pub fn next_due_at(&self) -> Option<Timestamp> {
        let ServiceState::Provisioned(s) = self else {
            return None;
        };
        let mut at: Vec<Timestamp> = Vec::new();
        if matches!(s.acceptance, AcceptanceStatus::Pending) {
            at.push(s.contest_window_end);
        }
        if s.renewed_on.is_none()
            && s.termination
                .as_ref()
                .is_none_or(|t| t.last_day > s.term_last_day)
        {
            at.push(s.renewal_at);
        }
        if let Some(cur) = &s.suspension
            && cur.reopened_at.is_none()
            && !cur.deadline_passed
            && let Some(d) = cur.deadline
        {
            at.push(d);
        }
        if let Some(t) = &s.termination {
            if s.ended_on.is_none() {
                at.push(t.ends_at);
            }
            if s.product_check.is_none() && !s.products.is_empty() {
                at.push(t.products_deadline_at);
            }
        }
        at.into_iter().min()
    }
}

/// The time-driven steps due at `now` (see [`ServiceState::due_steps`]).
pub fn due_steps(state: &ServiceState, now: Timestamp) -> Vec<ServiceEvent> {
    state.due_steps(now)
}

/// Applies every step due at `now`, as the job pass does: the new state and
/// the steps applied (each to be audited and, where R13 says so, notified).
pub fn run_due(
    state: &ServiceState,
    now: Timestamp,
    params: &ServiceParams,
) -> Result<(ServiceState, Vec<ServiceEvent>), ServiceError> {
    let steps = state.due_steps(now);
    let mut s = state.clone();
    for step in &steps {
        s = apply(&s, step, now, params)?;
    }
    Ok((s, steps))
}

impl Service {
    pub fn start(&self) -> Date {
        self.provisioning.start
    }

    /// The service has ended at `now` (its last day is over), whether or
    /// not the end step ran.
    pub fn has_ended_at(&self, now: Timestamp) -> bool {
        self.termination.as_ref().is_some_and(|t| now >= t.ends_at)
    }

    /// The service is billed on `day` (R2.4, R3.4): from its start to its
    /// last day, suspended or not.
    pub fn billable_on(&self, day: Date, params: &ServiceParams) -> bool {
        if day < self.start() {
            return false;
        }
        if self.termination.as_ref().is_some_and(|t| day > t.last_day) {
            return false;
        }
        params.billing_continues_during_suspension || !self.suspended_on(day, params)
    }

    fn suspended_on(&self, day: Date, params: &ServiceParams) -> bool {
        let at = params.start_of(day);
        self.past_suspensions
            .iter()
            .chain(self.suspension.iter())
            .any(|s| s.since <= at && s.reopened_at.is_none_or(|r| at < r))
    }

    /// Whether the client may contest at `now` (R1.7).
    pub fn contest_open_at(&self, now: Timestamp) -> bool {
        matches!(self.acceptance, AcceptanceStatus::Pending) && now < self.contest_window_end
    }

    /// The fair-use record of the month containing `day`, if metered.
    pub fn fair_use_of(&self, day: Date) -> Option<&FairUseMonth> {
        let first = day.first_of_month();
        self.fair_use.iter().find(|m| m.month == first)
    }

    /// What the client owes for products at the end (R3.6): the indemnity,
    /// once the deadline passed with products late, plus the value of each
    /// product refused, destroyed or lost.
    pub fn product_charges(&self) -> Decimal {
        let values: Decimal = self.products.iter().map(Product::value_due).sum();
        values
            + self
                .product_check
                .as_ref()
                .map_or(Decimal::ZERO, |c| c.indemnity)
    }

    /// The one-off amounts this service hands to billing (R3.1, R3.4,
    /// R3.6), each under a stable key: billing invoices a key once, and when
    /// a late entry revises an amount under a key already invoiced (a
    /// product return entered after the check), it invoices the difference
    /// as a credit note (R2.11). Zero amounts are left out.
    pub fn one_off_charges(&self) -> Vec<OneOffCharge> {
        let mut out = Vec::new();
        if let Some(t) = &self.termination
            && let Some(fee) = &t.fee
            && !fee.amount.is_zero()
        {
            out.push(OneOffCharge {
                key: "termination_fee".to_string(),
                rule: fee.rule.clone(),
                amount: fee.amount,
            });
        }
        if let Some(c) = &self.product_check
            && !c.indemnity.is_zero()
        {
            out.push(OneOffCharge {
                key: "product_return_indemnity".to_string(),
                rule: "R3.6".to_string(),
                amount: c.indemnity,
            });
        }
        for p in &self.products {
            let v = p.value_due();
            if !v.is_zero() {
                out.push(OneOffCharge {
                    key: format!("product_value:{}", p.id),
                    rule: "R3.6".to_string(),
                    amount: v,
                });
            }
        }
        out
    }

    fn contest_window_due(&self, now: Timestamp) -> bool {
        matches!(self.acceptance, AcceptanceStatus::Pending) && now >= self.contest_window_end
    }

    /// Renewal: the term is over and no recorded termination ends the
    /// service by the term's last day.
    fn renewal_due(&self, now: Timestamp) -> bool {
        self.renewed_on.is_none()
            && now >= self.renewal_at
            && self
                .termination
                .as_ref()
                .is_none_or(|t| t.last_day > self.term_last_day)
    }

    fn security_deadline_due(&self, now: Timestamp) -> bool {
        self.suspension.as_ref().is_some_and(|s| {
            s.reopened_at.is_none() && !s.deadline_passed && s.deadline.is_some_and(|d| now >= d)
        })
    }

    fn end_due(&self, now: Timestamp) -> bool {
        self.ended_on.is_none() && self.has_ended_at(now)
    }

    fn product_deadline_due(&self, now: Timestamp) -> bool {
        self.product_check.is_none()
            && !self.products.is_empty()
            && self
                .termination
                .as_ref()
                .is_some_and(|t| now >= t.products_deadline_at)
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---- contract arithmetic --------------------------------------------------------

/// The last day of service a notice received on `received_on` would give
/// (R3.2), computed by the engine with the service's term. Used both to
/// record a notice and to show the client what a notice today would give.
pub fn notice_last_day(
    service: &Service,
    received_on: Date,
    params: &ServiceParams,
) -> Result<Explained<ciel_engine::contract::NoticeEnd>, ServiceError> {
    if received_on < service.start() {
        return Err(ServiceError::NoticeBeforeStart {
            received_on,
            start: service.start(),
        });
    }
    params
        .engine
        .notice_end(received_on, Some(service.term_last_day))
        .map_err(|e| ServiceError::Arithmetic {
            rule: "R3.2",
            message: e.to_string(),
        })
}

/// What an early termination with `last_day` as last day of service would
/// cost (R3.1): the engine's quote. The portal shows it before the client
/// confirms; [`ServiceEvent::TerminateEarly`] records the same figure.
pub fn quote_early_termination(
    service: &Service,
    last_day: Date,
    monthly_fee: Decimal,
    investment: bool,
    params: &ServiceParams,
) -> Result<Explained<EarlyTerminationQuote>, ServiceError> {
    if last_day < service.start() {
        return Err(ServiceError::LastDayBeforeStart {
            last_day,
            start: service.start(),
        });
    }
    if last_day >= service.term_last_day {
        return Err(ServiceError::NotInFixedTerm {
            last_day,
            term_last_day: service.term_last_day,
        });
    }
    params
        .engine
        .early_termination(&EarlyTerminationInput {
            start: service.start(),
            term_months: service.commitment_months,
            last_day,
            monthly_fee,
            investment,
            cancellation: false,
        })
        .map_err(|e| ServiceError::Arithmetic {
            rule: "R3.1",
            message: e.to_string(),
        })
}

fn add_months(d: Date, months: u32) -> Date {
    d.checked_add(i64::from(months).months())
        .unwrap_or(Date::MAX)
}

fn term_last_day(start: Date, months: u32) -> Date {
    add_months(start, months).yesterday().unwrap_or(Date::MAX)
}

fn termination(
    kind: TerminationKind,
    now: Timestamp,
    last_day: Date,
    fee: Option<TerminationFee>,
    params: &ServiceParams,
) -> Termination {
    let products_due_by = add_months(last_day, params.product_return_months);
    let reversibility_last = last_day
        .checked_add(i64::from(params.reversibility_days_after_end).days())
        .unwrap_or(Date::MAX);
    Termination {
        kind,
        recorded_at: now,
        last_day,
        ends_at: params.end_of(last_day),
        fee,
        products_due_by,
        products_deadline_at: params.end_of(products_due_by),
        reversibility_until: params.end_of(reversibility_last),
    }
}

// ---- the machine ------------------------------------------------------------------

/// Applies `event` at `now` to `state`: the new state, or why not.
pub fn apply(
    state: &ServiceState,
    event: &ServiceEvent,
    now: Timestamp,
    params: &ServiceParams,
) -> Result<ServiceState, ServiceError> {
    use ServiceError as X;
    use ServiceEvent as E;

    let s = match state {
        ServiceState::Ordered { commitment_months } => {
            return match event {
                E::Provision {
                    planned_on,
                    client_delay,
                    products,
                } => provision(
                    *commitment_months,
                    *planned_on,
                    *client_delay,
                    products,
                    now,
                    params,
                ),
                other => Err(X::NotProvisioned {
                    event: other.name(),
                }),
            };
        }
        ServiceState::Provisioned(s) => s,
    };
    if !event.is_time_driven() && now < s.last_event_at {
        return Err(X::BeforePrevious {
            now,
            previous: s.last_event_at,
        });
    }
    let today = params.day_of(now);
    let mut n: Service = (**s).clone();
    if !event.is_time_driven() {
        n.last_event_at = now;
    }
    // Events that only make sense while the service runs.
    let running_only = matches!(
        event,
        E::Contest { .. }
            | E::RecordFirstUse
            | E::GiveNotice { .. }
            | E::TerminateEarly { .. }
            | E::Suspend { .. }
            | E::Reopen { .. }
            | E::TerminateForCause { .. }
    );
    if running_only
        && let Some(t) = &s.termination
        && now >= t.ends_at
    {
        return Err(X::Ended {
            last_day: t.last_day,
        });
    }

    match event {
        E::Provision { .. } => {
            return Err(X::AlreadyProvisioned { start: s.start() });
        }

        // ---- R1.7 contest window ----
        E::Contest { text } => {
            let text = text.trim();
            if text.is_empty() {
                return Err(X::ContestTextMissing);
            }
            if let AcceptanceStatus::Contested { at, .. } = &s.acceptance {
                return Err(X::AlreadyContested { at: *at });
            }
            // The window is read from its date, whether or not the job
            // already recorded its end.
            if now >= s.contest_window_end {
                return Err(X::ContestAfterWindow {
                    window_end: s.contest_window_end,
                    at: now,
                });
            }
            if let AcceptanceStatus::Accepted { at, .. } = &s.acceptance {
                return Err(X::AlreadyAccepted { at: *at });
            }
            n.acceptance = AcceptanceStatus::Contested {
                at: now,
                text: text.to_string(),
            };
        }
        E::RecordFirstUse => {
            // Usage after a written contest does not withdraw it: the
            // contest was made in time and staff settle it.
            if matches!(s.acceptance, AcceptanceStatus::Pending) {
                n.acceptance = if now >= s.contest_window_end {
                    // The window already ended: acceptance dates from then,
                    // whether or not the job ran, and the use is no new
                    // event (as when the job already ran).
                    n.last_event_at = s.last_event_at;
                    AcceptanceStatus::Accepted {
                        at: s.contest_window_end,
                        by: AcceptedBy::WindowEnded,
                    }
                } else {
                    AcceptanceStatus::Accepted {
                        at: now,
                        by: AcceptedBy::FirstUse,
                    }
                };
            } else {
                // A no-op, but not a new event.
                n.last_event_at = s.last_event_at;
            }
        }
        E::ResolveContest { resolution } => {
            let resolution = resolution.trim();
            if resolution.is_empty() {
                return Err(X::ResolutionMissing);
            }
            let AcceptanceStatus::Contested { at, text } = &s.acceptance else {
                return Err(X::NotContested);
            };
            n.acceptance = AcceptanceStatus::Accepted {
                at: now,
                by: AcceptedBy::ContestResolved {
                    contested_at: *at,
                    text: text.clone(),
                    resolution: resolution.to_string(),
                },
            };
        }
        E::EndContestWindow => {
            if !matches!(s.acceptance, AcceptanceStatus::Pending) {
                return Err(X::AlreadyApplied {
                    rule: "R1.7",
                    step: event.name(),
                });
            }
            if now < s.contest_window_end {
                return Err(X::NotYetDue {
                    rule: "R1.7",
                    step: event.name(),
                    due_at: s.contest_window_end,
                    now,
                });
            }
            n.acceptance = AcceptanceStatus::Accepted {
                at: s.contest_window_end,
                by: AcceptedBy::WindowEnded,
            };
        }

        // ---- R3.2 renewal and notices ----
        E::Renew => {
            if s.renewed_on.is_some()
                || s.termination
                    .as_ref()
                    .is_some_and(|t| t.last_day <= s.term_last_day)
            {
                return Err(X::AlreadyApplied {
                    rule: "R3.2",
                    step: event.name(),
                });
            }
            if now < s.renewal_at {
                return Err(X::NotYetDue {
                    rule: "R3.2",
                    step: event.name(),
                    due_at: s.renewal_at,
                    now,
                });
            }
            n.renewed_on = s.term_last_day.tomorrow().ok();
        }
        E::GiveNotice { by, received_on } => {
            if let Some(t) = &s.termination {
                return Err(X::AlreadyTerminating {
                    last_day: t.last_day,
                });
            }
            if *received_on > today {
                return Err(X::NoticeInFuture {
                    received_on: *received_on,
                    today,
                });
            }
            let end = notice_last_day(s, *received_on, params)?.value;
            // A letter received in time to end the service with its term but
            // recorded after the term: the renewal the job recorded in the
            // meantime never happened, the receipt day governs.
            if end.last_day <= s.term_last_day {
                n.renewed_on = None;
            }
            n.termination = Some(termination(
                TerminationKind::Notice {
                    by: *by,
                    received_on: *received_on,
                    expires_on: end.expires,
                    at_term_end: end.at_term_end,
                },
                now,
                end.last_day,
                None,
                params,
            ));
        }

        // ---- R3.1 early termination ----
        E::TerminateEarly {
            last_day,
            monthly_fee,
            investment,
            quoted_fee,
        } => {
            if let Some(t) = &s.termination {
                return Err(X::AlreadyTerminating {
                    last_day: t.last_day,
                });
            }
            if *last_day < today {
                return Err(X::LastDayInPast {
                    last_day: *last_day,
                    today,
                });
            }
            let q = quote_early_termination(s, *last_day, *monthly_fee, *investment, params)?.value;
            if let Some(quoted) = quoted_fee
                && *quoted != q.fee
            {
                return Err(X::QuoteChanged {
                    quoted: *quoted,
                    fee: q.fee,
                });
            }
            let fee = TerminationFee {
                rule: "R3.1".to_string(),
                commitment_month: q.commitment_month,
                share_percent: q.share_percent,
                remaining_months: q.remaining_months,
                monthly_fee: *monthly_fee,
                exact: q.fee_exact,
                amount: q.fee,
            };
            n.termination = Some(termination(
                TerminationKind::Early,
                now,
                *last_day,
                Some(fee),
                params,
            ));
        }

        // ---- R3.4 suspension ----
        E::Suspend { reason } => {
            if let Some(cur) = &s.suspension
                && cur.reopened_at.is_none()
            {
                return Err(X::AlreadySuspended {
                    reason: cur.reason.name(),
                    since: cur.since,
                });
            }
            let deadline = match reason {
                SuspensionReason::NonPayment { informed_at } => {
                    let allowed_from =
                        params.delay_end(*informed_at, params.non_payment_notice_days);
                    if now < allowed_from {
                        return Err(X::NonPaymentTooEarly {
                            informed_at: *informed_at,
                            allowed_from,
                            days: params.non_payment_notice_days,
                        });
                    }
                    None
                }
                SuspensionReason::SecurityDanger => {
                    Some(params.delay_end(now, params.secure_infrastructure_days))
                }
                SuspensionReason::IllicitUse
                | SuspensionReason::Hacking
                | SuspensionReason::LegalDemand => None,
            };
            if let Some(prev) = n.suspension.take() {
                n.past_suspensions.push(prev);
            }
            n.suspension = Some(Suspension {
                reason: reason.clone(),
                since: now,
                deadline,
                deadline_passed: false,
                reopened_at: None,
                reopen_note: None,
            });
        }
        E::Reopen { note } => {
            let note = note.trim();
            if note.is_empty() {
                return Err(X::NoteMissing);
            }
            let Some(cur) = n.suspension.as_mut().filter(|c| c.reopened_at.is_none()) else {
                return Err(X::NotSuspended);
            };
            // The deadline step reads the dates: a deadline that passed
            // before the reopening is recorded as passed, so reopening and
            // the job commute.
            if cur.deadline.is_some_and(|d| now >= d) {
                cur.deadline_passed = true;
            }
            cur.reopened_at = Some(now);
            cur.reopen_note = Some(note.to_string());
        }
        E::SecurityDeadline => {
            let Some(cur) = n.suspension.as_mut() else {
                return Err(X::AlreadyApplied {
                    rule: "R3.4",
                    step: event.name(),
                });
            };
            let Some(deadline) = cur.deadline else {
                return Err(X::AlreadyApplied {
                    rule: "R3.4",
                    step: event.name(),
                });
            };
            if cur.deadline_passed || cur.reopened_at.is_some_and(|r| r < deadline) {
                return Err(X::AlreadyApplied {
                    rule: "R3.4",
                    step: event.name(),
                });
            }
            if now < deadline {
                return Err(X::NotYetDue {
                    rule: "R3.4",
                    step: event.name(),
                    due_at: deadline,
                    now,
                });
            }
            cur.deadline_passed = true;
        }
        E::TerminateForCause {
            last_day,
            monthly_fee,
        } => {
            if let Some(t) = &s.termination {
                return Err(X::AlreadyTerminating {
                    last_day: t.last_day,
                });
            }
            let Some(cur) = s.suspension.as_ref().filter(|c| c.reopened_at.is_none()) else {
                return Err(X::NoSecurityCause);
            };
            // Non-payment (R3.3): the suspension itself needed the formal
            // notice left without effect; a security danger (R3.4) needs its
            // securing delay passed.
            let (kind, rule) = match (&cur.reason, cur.deadline) {
                (SuspensionReason::NonPayment { .. }, _) => {
                    (TerminationKind::NonPaymentNotRemedied, "R3.3")
                }
                (_, Some(deadline)) if now < deadline => {
                    return Err(X::SecurityDelayRunning { deadline });
                }
                (_, Some(_)) => (TerminationKind::SecurityNotRemedied, "R3.4"),
                (_, None) => return Err(X::NoSecurityCause),
            };
            if *last_day < today {
                return Err(X::LastDayInPast {
                    last_day: *last_day,
                    today,
                });
            }
            if *monthly_fee < Decimal::ZERO {
                return Err(X::Arithmetic {
                    rule: "R3.4",
                    message: "monthly fee must not be negative".to_string(),
                });
            }
            let fee = if *last_day < s.term_last_day {
                let q = quote_early_termination(s, *last_day, *monthly_fee, false, params)?.value;
                let share = params.cause_termination_share_percent;
                let exact = q.remaining_fees * share / Decimal::ONE_HUNDRED;
                Some(TerminationFee {
                    rule: rule.to_string(),
                    commitment_month: q.commitment_month,
                    share_percent: share,
                    remaining_months: q.remaining_months,
                    monthly_fee: *monthly_fee,
                    exact,
                    amount: params.engine.round_money(exact),
                })
            } else {
                None
            };
            n.termination = Some(termination(kind, now, *last_day, fee, params));
            if let Some(cur) = n.suspension.as_mut() {
                cur.deadline_passed = true;
            }
        }

        // ---- end of service ----
        E::End => {
            let Some(t) = &s.termination else {
                return Err(X::AlreadyApplied {
                    rule: "R3.2",
                    step: event.name(),
                });
            };
            if s.ended_on.is_some() {
                return Err(X::AlreadyApplied {
                    rule: "R3.2",
                    step: event.name(),
                });
            }
            if now < t.ends_at {
                return Err(X::NotYetDue {
                    rule: "R3.2",
                    step: event.name(),
                    due_at: t.ends_at,
                    now,
                });
            }
            n.ended_on = Some(t.last_day);
        }

        // ---- R3.5 fair use ----
        E::RecordMonthlyTraffic { month, bytes } => {
            let first = month.first_of_month();
            if first > today {
                return Err(X::FutureMonth {
                    month: first,
                    today,
                });
            }
            if first < s.start().first_of_month() {
                return Err(X::MonthBeforeStart {
                    month: first,
                    start: s.start(),
                });
            }
            let exceeded = params.fair_use_exceeded(*bytes);
            let record = FairUseMonth {
                month: first,
                bytes: *bytes,
                exceeded,
                limit_mbit_per_s: exceeded.then_some(params.fair_use_throttle_mbit_per_s),
            };
            // A meter's monthly total only grows more exact: the latest
            // reading replaces the previous one.
            match n.fair_use.iter_mut().find(|m| m.month == first) {
                Some(m) => *m = record,
                None => {
                    n.fair_use.push(record);
                    n.fair_use.sort_by_key(|m| m.month);
                }
            }
        }

        // ---- R3.6 products ----
        E::RecordProductReturn { product, outcome } => {
            if s.termination.is_none() {
                return Err(X::NoTerminationForReturn);
            }
            if let ReturnOutcome::Returned { on } = outcome
                && *on > today
            {
                return Err(X::ReturnInFuture { on: *on, today });
            }
            let Some(p) = n.products.iter_mut().find(|p| p.id == *product) else {
                return Err(X::UnknownProduct {
                    id: product.clone(),
                });
            };
            if p.outcome.is_some() {
                return Err(X::ProductAlreadyRecorded {
                    id: product.clone(),
                });
            }
            p.outcome = Some(outcome.clone());
            // A return recorded after the deadline check (the receipt was
            // entered late) revises it: the return day governs, not the
            // day it was typed in.
            if n.product_check.is_some()
                && let Some(t) = &s.termination
            {
                n.product_check = Some(check_products(&n.products, t.products_due_by, params));
            }
        }
        E::ProductReturnDeadline => {
            let Some(t) = &s.termination else {
                return Err(X::AlreadyApplied {
                    rule: "R3.6",
                    step: event.name(),
                });
            };
            if s.product_check.is_some() || s.products.is_empty() {
                return Err(X::AlreadyApplied {
                    rule: "R3.6",
                    step: event.name(),
                });
            }
            if now < t.products_deadline_at {
                return Err(X::NotYetDue {
                    rule: "R3.6",
                    step: event.name(),
                    due_at: t.products_deadline_at,
                    now,
                });
            }
            n.product_check = Some(check_products(&s.products, t.products_due_by, params));
        }

        // ---- R12.2 reversibility ----
        E::RequestReversibility => {
            let Some(t) = &s.termination else {
                return Err(X::NoTerminationForReversibility);
            };
            if let Some(at) = s.reversibility_requested_at {
                return Err(X::ReversibilityAlreadyRequested { at });
            }
            if now >= t.reversibility_until {
                return Err(X::ReversibilityClosed {
                    until: t.reversibility_until,
                });
            }
            n.reversibility_requested_at = Some(now);
        }
    }
    Ok(ServiceState::Provisioned(Box::new(n)))
}

/// The products not back by `due_by` and the indemnity they cost (R3.6).
fn check_products(products: &[Product], due_by: Date, params: &ServiceParams) -> ProductCheck {
    let late: Vec<String> = products
        .iter()
        .filter(|p| !p.returned_by(due_by))
        .map(|p| p.id.clone())
        .collect();
    let indemnity = if late.is_empty() {
        Decimal::ZERO
    } else {
        params.product_return_indemnity
    };
    ProductCheck { late, indemnity }
}

fn provision(
    commitment_months: u32,
    planned_on: Option<Date>,
    client_delay: bool,
    products: &[Product],
    now: Timestamp,
    params: &ServiceParams,
) -> Result<ServiceState, ServiceError> {
    if commitment_months == 0 {
        return Err(ServiceError::NoCommitment);
    }
    if client_delay && planned_on.is_none() {
        return Err(ServiceError::PlannedDayMissing);
    }
    for (i, p) in products.iter().enumerate() {
        if products[..i].iter().any(|q| q.id == p.id) {
            return Err(ServiceError::DuplicateProduct { id: p.id.clone() });
        }
        if p.value_at_order < Decimal::ZERO || p.outcome.is_some() {
            return Err(ServiceError::InvalidProduct { id: p.id.clone() });
        }
    }
    let available_on = params.day_of(now);
    // R2.5: the client's delay moves the start back to the planned day; a
    // planned day still ahead changes nothing (the service is there now).
    let start = match planned_on {
        Some(p) if client_delay && params.client_delay_provisions_at_planned_date => {
            p.min(available_on)
        }
        _ => available_on,
    };
    let term_last = term_last_day(start, commitment_months);
    Ok(ServiceState::Provisioned(Box::new(Service {
        commitment_months,
        provisioning: Provisioning {
            made_available_at: now,
            planned_on,
            client_delay,
            start,
        },
        term_last_day: term_last,
        renewal_at: params.end_of(term_last),
        contest_window_end: params.delay_end(now, params.contest_days),
        acceptance: AcceptanceStatus::Pending,
        renewed_on: None,
        termination: None,
        ended_on: None,
        suspension: None,
        past_suspensions: vec![],
        fair_use: vec![],
        products: products.to_vec(),
        product_check: None,
        reversibility_requested_at: None,
        last_event_at: now,
    })))
}
