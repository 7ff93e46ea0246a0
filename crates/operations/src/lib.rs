//! The operational rules of the specific terms (R9 backup, R10 PRA, R11
//! colocation), as pure functions over a terms version.
//!
//! The datacenter, backup and PRA teams decide every day whether a person
//! may enter a site, whether a deadline is breached, whether a power reading
//! calls for an alert, which step of a decommissioning is due, until when an
//! immutable backup is billed, or whether a PRA test is billed. Each answer
//! here comes with its reasons, each a [`ciel_engine::Step`] citing the rule
//! of RULES.md and the clause of the contract, with a machine-readable
//! outcome and French and English sentences, so the reception desk's screen,
//! the API and the emails all say the same thing for the same facts.
//!
//! Design choices, and why:
//!
//! - **Pure.** No I/O, no clock: every instant (`now`, `at`) is a parameter,
//!   facts are handed in as plain values. A later session wires these
//!   functions to storage, jobs, API and portal; keeping them pure lets the
//!   boundary tables of `tests/` pin every edge without a database.
//! - **Every figure comes from the terms.** Delays (7 days, 30 days, 4 years,
//!   15/30 days of notice), datacenter policies and backup limits are read
//!   from [`ciel_terms::Terms`]. The few values the contract leaves to the
//!   provider and the terms file does not hold yet (reminder leads, alert
//!   thresholds) are [`ProductParams`], each documented with the terms key
//!   it should move to.
//! - **Days are calendar days in the terms' zone (Europe/Paris)**, counted as
//!   the rest of ciel counts them (the catalogue's service machine, French
//!   procedure art. 641-642 CPC): the day of the event does not count and a
//!   delay of N days expires at the end of its N-th day. "Within 7 days" of
//!   a request made on 1 March runs until 8 March 23:59:59 Paris: an answer on
//!   day 7 (8 March) is in time, on day 8 (9 March) it is late. See
//!   [`Operations::delay_end`].
//! - **Durations in years, months or days of an order** (prevention plan
//!   validity, immutability, recycle bin, retention) are added to the
//!   instant at the same wall-clock time in Paris ([`Operations::add_calendar`]):
//!   a month end clamps (31 August + 6 months = 28 February), a time falling
//!   in the spring gap moves forward, an ambiguous autumn time takes the
//!   earlier offset (jiff's "compatible" disambiguation).
//! - **Validity periods are half-open instants** `[from, until)`: a prevention
//!   plan signed at S is valid from S up to, not including, S + 4 years (same
//!   wall-clock time in Paris). At exactly S + 4 years it has expired: the
//!   fifth year has begun. This is the reading the engine uses for its tiers
//!   (`lower <= x < upper`).

//!
//! Entry points (all on [`Operations`], built once per terms version):
//!
//! ```text
//! access        datacenters(), check_access(person, site, at, &facts),
//!               check_access_request(&request, &facts), check_badge_issue(person, site, &facts),
//!               prevention_plan_status / _expiry / _reminder_at / _reminders_due      R11.1-R11.2
//! deadlines     deadline_status(&deadline, at), breached_deadlines, deadline_alerts_due  R11.4
//! power         power_level(&emplacement, &reading), assess_power(.., period_end)    R11.5
//! decommission  decommission_timeline(&state), due_decommission_steps(&state, now),
//!               apply_decommission_step(&mut state, step, now)                      R11.6
//! backup        check_backup_options, check_immutable_deletion,
//!               immutable_billing_after_termination, check_recycle_bin_restore,
//!               storage_alert, history_after_termination, regularisation_order,
//!               check_backup_scope                                                R9
//! pra           check_pra_action(user, action, at, &designations),
//!               assess_pra_test(kind, notified_at, test_start, has_order),
//!               activation_days(start, end) (the engine's failover_days)            R10, R2.10
//! ```

pub mod access;
pub mod backup;
pub mod deadlines;
pub mod decommission;
pub mod power;
pub mod pra;

use ciel_engine::{Engine, Explanation, Step};
use ciel_terms::Terms;
use jiff::{Span, Timestamp, ToSpan, civil::Date, tz::TimeZone};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use ciel_engine::{Explained, Lang};

/// Errors: bad inputs or a terms version that lacks something.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OperationsError {
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("terms: {0}")]
    Terms(String),
    #[error("engine: {0}")]
    Engine(#[from] ciel_engine::EngineError),
    #[error("calendar: {0}")]
    Calendar(#[from] ciel_calendar::CalendarError),
}

pub(crate) fn invalid(msg: impl Into<String>) -> OperationsError {
    OperationsError::Invalid(msg.into())
}

/// A yes-or-no answer and why.
///
/// `reasons` lists every rule that was checked, in order, not only the one
/// that refused: the desk must see "badge valid, prevention plan valid, ID
/// to check" as well as "badge revoked". A step whose outcome starts with
/// `deny:` is a reason for refusal; `allow:` a condition met; `note:` a
/// reminder that does not change the answer (the official ID check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reasons: Explanation,
}

impl Decision {
    /// Builds the decision from its steps: allowed when none denies.
    pub fn from_steps(steps: Vec<Step>) -> Self {
        let allowed = !steps.iter().any(|s| s.outcome.starts_with("deny:"));
        Decision {
            allowed,
            reasons: Explanation { steps },
        }
    }

    /// Machine codes of the refusals, e.g. `["prevention_plan_expired"]`.
    pub fn denials(&self) -> Vec<&str> {
        self.codes("deny:")
    }

    /// Machine codes of the reminders, e.g. `["official_id_check"]`.
    pub fn notes(&self) -> Vec<&str> {
        self.codes("note:")
    }

    fn codes(&self, prefix: &str) -> Vec<&str> {
        self.reasons
            .steps
            .iter()
            .filter_map(|s| s.outcome.strip_prefix(prefix))
            .collect()
    }
}

/// Values the contract leaves to the provider and the terms file does not
/// hold yet. Each is a product default, named after the terms key it should
/// move to when the terms file grows it (then [`Operations::new`] should read
/// it from there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductParams {
    /// Terms key `colocation.prevention_plan_reminder_days`: how many
    /// calendar days before a prevention plan expires the client is reminded
    /// (R11.2). 60 days leaves time to book a preventer's visit.
    pub prevention_plan_reminder_days: u32,
    /// Terms key `colocation.deadline_alert_days`: how many calendar days
    /// before a 7-day deadline of R11.4 expires the owner is alerted.
    pub deadline_alert_days: u32,
    /// Terms key `colocation.power_near_percent`: a reading at or above this
    /// share of the subscribed amperage or kVA is "near" (R11.5).
    pub power_near_percent: Decimal,
    /// Future key `colocation.power_excess_basis`: what billing receives for
    /// a power excess (R11.5, CS 2.3.3 and 2.3.5).
    pub power_excess_basis: power::ExcessBasis,
    /// Future key `colocation.billing_resumes_from`: from when billing
    /// resumes at the former conditions after the regularisation window
    /// (R11.6).
    pub billing_resumes_from: decommission::BillingResumesFrom,
    /// Ascending shares of the provisioned storage that raise an alert
    /// (R9.5); overridden by the terms key `backup.storage_alert_percents`
    /// in [`Operations::new`].
    pub storage_alert_percents: Vec<Decimal>,
}

impl Default for ProductParams {
    fn default() -> Self {
        ProductParams {
            prevention_plan_reminder_days: 60,
            deadline_alert_days: 2,
            power_near_percent: Decimal::from(80),
            power_excess_basis: power::ExcessBasis::Energy,
            billing_resumes_from: decommission::BillingResumesFrom::WindowEnd,
            storage_alert_percents: vec![Decimal::from(80), Decimal::from(90), Decimal::from(100)],
        }
    }
}

impl ProductParams {
    /// The defaults, with the values the terms version holds taken from it
    /// (`colocation.prevention_plan_reminder_days`, `deadline_alert_days`,
    /// `power_near_percent`): a provider changes them without code.
    pub fn from_terms(terms: &Terms) -> Self {
        let c = &terms.colocation;
        ProductParams {
            prevention_plan_reminder_days: c.prevention_plan_reminder_days.value,
            deadline_alert_days: c.deadline_alert_days.value,
            power_near_percent: c.power_near_percent.value.get(),
            ..ProductParams::default()
        }
    }
}

/// A terms version made ready for the operational rules.
#[derive(Debug, Clone)]
pub struct Operations {
    terms: Terms,
    engine: Engine,
    tz: TimeZone,
    product: ProductParams,
}

impl Operations {
    /// Prepares a terms version with the given product parameters.
    pub fn new(terms: &Terms, product: ProductParams) -> Result<Self, OperationsError> {
        // The terms file now holds the storage thresholds (R9.5): they win.
        let product = ProductParams {
            storage_alert_percents: terms
                .backup
                .storage_alert_percents
                .value
                .iter()
                .map(|d| d.get())
                .collect(),
            ..product
        };
        let mut storage = product.storage_alert_percents.clone();
        storage.sort_unstable();
        if storage != product.storage_alert_percents
            || storage.windows(2).any(|w| w[0] == w[1])
            || storage.iter().any(|p| *p <= Decimal::ZERO)
        {
            return Err(invalid(
                "storage_alert_percents must be positive and strictly ascending",
            ));
        }
        if product.power_near_percent <= Decimal::ZERO
            || product.power_near_percent > Decimal::from(100)
        {
            return Err(invalid("power_near_percent must be in ]0, 100]"));
        }
        let tz = ciel_calendar::load_tz(&terms.version.timezone)?;
        Ok(Operations {
            terms: terms.clone(),
            engine: Engine::new(terms)?,
            tz,
            product,
        })
    }

    /// A terms version with the product parameters it holds
    /// ([`ProductParams::from_terms`]).
    pub fn for_terms(terms: &Terms) -> Result<Self, OperationsError> {
        Self::new(terms, ProductParams::from_terms(terms))
    }

    /// The embedded terms version with the default product parameters.
    pub fn embedded() -> Result<Self, OperationsError> {
        Self::new(ciel_terms::embedded(), ProductParams::default())
    }

    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    pub fn product(&self) -> &ProductParams {
        &self.product
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The zone in which days are counted (`version.timezone`).
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The calendar day of an instant, in the terms' zone.
    pub fn day_of(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The first instant of a day in the terms' zone (a day starting in a
    /// DST gap starts at the gap's end).
    pub fn start_of(&self, d: Date) -> Timestamp {
        d.to_zoned(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant a day ends (the start of the next one).
    pub fn end_of(&self, d: Date) -> Timestamp {
        d.tomorrow()
            .map(|n| self.start_of(n))
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant a delay of `days` calendar days opened at `from` expires:
    /// the start of the day after its last day, the day of `from` not
    /// counting. Anything strictly before it is within the delay.
    pub fn delay_end(&self, from: Timestamp, days: u32) -> Timestamp {
        self.day_of(from)
            .checked_add(i64::from(days).days())
            .map(|d| self.end_of(d))
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant `span` (years, months, days) after `t` at the same
    /// wall-clock time in the terms' zone: 4 years after 10 March 2025 10:00
    /// Paris is 10 March 2029 10:00 Paris, whatever the DST offsets; 29
    /// February plus one year is 28 February.
    pub fn add_calendar(&self, t: Timestamp, span: Span) -> Timestamp {
        t.to_zoned(self.tz.clone())
            .checked_add(span)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant `span` before `t` at the same wall-clock time.
    pub fn sub_calendar(&self, t: Timestamp, span: Span) -> Timestamp {
        t.to_zoned(self.tz.clone())
            .checked_sub(span)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MIN)
    }

    /// An instant as shown to people: "2026-03-29 02:30 (Europe/Paris)".
    pub(crate) fn show(&self, t: Timestamp) -> String {
        if t == Timestamp::MAX {
            return "∞".to_string();
        }
        let z = t.to_zoned(self.tz.clone());
        format!("{}", z.strftime("%Y-%m-%d %H:%M:%S %:z"))
    }
}

/// Citations of rules that hold no figure, hence no parameter of the terms
/// file to take the rule and clause from. When the terms file grows a section
/// for one of them, the step should cite the parameter instead.
pub(crate) mod cite {
    /// R9.3, the admin recycle bin (its duration is on the order).
    pub const RECYCLE_BIN: (&str, &str) = ("R9.3", "CS 3.7");
    /// R9.5, storage use and alerts visible to the client.
    pub const STORAGE: (&str, &str) = ("R9.5", "CS 3.9");
    /// R9.7, what a backup covers and the licence it needs.
    pub const SCOPE: (&str, &str) = ("R9.7", "CS 3.2-3.3");
    /// R9.8, history kept for the retention after termination.
    pub const HISTORY: (&str, &str) = ("R9.8", "CS 3.10");
    /// R10.2, users designated by the client.
    pub const DESIGNATION: (&str, &str) = ("R10.2", "CS 4.5");
    /// R11.5, the subscribed amperage and kVA (on the order).
    pub const POWER: (&str, &str) = ("R11.5", "CS 2.3.3");
    /// R11.5, excess electricity settled as measured.
    pub const POWER_EXCESS: (&str, &str) = ("R11.5", "CS 2.3.5");

    pub fn step(c: (&str, &str)) -> ciel_engine::Step {
        ciel_engine::Step::new(c.0, c.1)
    }
}

/// A step citing a [`ciel_terms::Param`]'s rule and clause.
pub(crate) fn step_of<T>(p: &ciel_terms::Param<T>) -> Step {
    Step::new(&p.rule, &p.clause)
}
