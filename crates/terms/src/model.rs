//! The typed shape of a terms document.
//!
//! Every section carries the clause of the French contract it comes from
//! (`clause`, e.g. "A2 II.A.1") and the rule of RULES.md it implements (`rule`,
//! e.g. "R5.5"), so that each figure the engine computes can cite both. A single
//! value is a [`Param`]; a table of values (tiers, matrices) carries its own
//! clause and rule. Every struct rejects unknown keys: a misspelt parameter must
//! fail loudly instead of silently falling back to a default.

use std::collections::BTreeMap;

use ciel_calendar::CalendarSpec;
use serde::{Deserialize, Serialize};

use crate::Dec;
use rust_decimal::Decimal;

/// One parameter with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param<T> {
    pub value: T,
    /// Clause of the contract, e.g. "CG 9.3".
    pub clause: String,
    /// Rule of RULES.md, e.g. "R3.2".
    pub rule: String,
    /// Why this value, when it is a product decision rather than a quotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole terms document of one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub version: VersionInfo,
    pub contract: ContractSection,
    pub billing: BillingSection,
    pub late_payment: LatePayment,
    pub termination: TerminationSection,
    pub support: SupportSection,
    pub maintenance: Maintenance,
    pub availability: AvailabilitySection,
    pub recovery: RecoverySection,
    pub penalties: PenaltyLimits,
    pub hour_book: HourBook,
    pub backup: BackupSection,
    pub pra: PraSection,
    pub colocation: ColocationSection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionInfo {
    /// Stable identifier, e.g. "cgv-csp-v1.0-20250107".
    pub id: String,
    /// Title as printed on the contract.
    pub title: String,
    /// ISO date from which orders are pinned to this version (R1.2).
    pub effective_date: jiff::civil::Date,
    /// Zone in which "days", "months" and opening hours are read.
    pub timezone: String,
    /// Where the text of the contract lives.
    pub source: String,
}

// ---- contract and orders (R1) -------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSection {
    /// Document ranks, lowest first (R1.1).
    pub precedence: Param<Vec<String>>,
    /// Days after notification before a new version applies to running orders (R1.2).
    pub new_version_applies_after_days: Param<u32>,
    /// Default acceptance period of an order before it lapses (R1.3).
    pub order_acceptance_days: Param<u32>,
    /// Days to contest a provisioned service in writing (R1.7).
    pub provisioning_contest_days: Param<u32>,
    /// Warn on generic shared accounts (R1.8).
    pub warn_generic_accounts: Param<bool>,
    /// An option added to a running order is priced at the tariff in force on
    /// the day its written request is received (R1.5).
    pub option_priced_at: Param<OptionPricing>,
    /// Delivery dates are indicative: a late provisioning gives no damages (R1.6).
    pub delivery_dates_indicative: Param<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionPricing {
    WrittenRequestReceived,
}

// ---- billing (R2) -------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingSection {
    pub currency: Param<String>,
    pub default_vat_percent: Param<Dec>,
    pub price_change_notice_days: Param<u32>,
    /// Day of month on which the monthly invoice is issued (R2.4).
    pub invoice_day: Param<u8>,
    pub subscriptions_in_advance: Param<bool>,
    /// Provisioning delayed by the client counts as done at the planned date (R2.5).
    pub client_delay_provisions_at_planned_date: Param<bool>,
    pub prorata_basis: Param<ProrataBasis>,
    pub rounding: Rounding,
    pub invoice_contest_days: Param<u32>,
    pub claims_prescription_months: Param<u32>,
    /// Days from the issue date to the due date of an invoice (R2.7): not
    /// in the contract (CG 3.4 only pre-notifies the debit date), a product
    /// decision within the 60-day cap of Code de commerce L441-10.
    #[serde(default = "default_payment_due_days")]
    pub payment_due_days: Param<u32>,
    pub bandwidth_percentile: BandwidthPercentile,
    pub usage_overage: UsageOverage,
    pub pra_usage_unit: Param<PraUsageUnit>,
    pub fair_use: FairUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProrataBasis {
    CalendarDays,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PraUsageUnit {
    StartedCalendarDay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingStrategy {
    HalfAwayFromZero,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    pub clause: String,
    pub rule: String,
    /// Decimal places kept (2: the cent).
    pub scale: u32,
    pub strategy: RoundingStrategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandwidthPercentile {
    pub clause: String,
    pub rule: String,
    pub reading_interval_minutes: u32,
    /// Share of the highest readings dropped, e.g. "5".
    pub dropped_top_percent: Dec,
    /// How the count of dropped readings is rounded.
    pub drop_count_rounding: DropRounding,
    /// Which direction is billed.
    pub directions: DirectionRule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropRounding {
    Floor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionRule {
    /// Percentile per direction, the higher billed.
    HigherOfPerDirectionPercentiles,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageOverage {
    pub clause: String,
    pub rule: String,
    /// Overage on more than this many days of a month triggers an adjustment.
    pub more_than_days: u32,
    pub adjust_to: OverageAdjust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverageAdjust {
    SmallestTierCoveringPeak,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FairUse {
    pub clause: String,
    pub rule: String,
    /// Bytes exchanged in a calendar month above which bandwidth may be limited.
    pub monthly_bytes: u64,
    pub throttle_mbit_per_s: u32,
}

// ---- late payment (R2.6) ------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatePayment {
    pub clause: String,
    pub rule: String,
    /// Points added to the ECB main refinancing rate.
    pub margin_points: Dec,
    /// Denominator of the day count (actual/365).
    pub day_count_basis: u32,
    /// Which ECB rate applies.
    pub rate_reference: RateReference,
    /// Fixed recovery indemnity per invoice paid late, EUR.
    pub recovery_indemnity_eur: Dec,
    /// Days after a formal-notice email before sanctions may apply.
    pub formal_notice_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateReference {
    /// Rate in force on 1 January / 1 July for each half-year (L441-10).
    HalfYearStart,
}

// ---- termination (R3) ---------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminationSection {
    pub early: EarlyTermination,
    pub renewal_notice: RenewalNotice,
    pub breach_formal_notice_days: Param<u32>,
    pub non_payment_regularise_days: Param<u32>,
    pub secure_infrastructure_days: Param<u32>,
    pub billing_continues_during_suspension: Param<bool>,
    pub product_return_months: Param<u32>,
    pub product_return_indemnity_eur: Param<Dec>,
    pub liability_cap_percent_of_paid: Param<Dec>,
    pub liability_lookback_months: Param<u32>,
    pub liability_prescription_months: Param<u32>,
    pub force_majeure_power_cut_hours: Param<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyTermination {
    pub clause: String,
    pub rule: String,
    /// Share of remaining monthly fees by commitment month.
    pub tiers: Vec<MonthTier>,
    /// Share when hardware or licences were bought for the client.
    pub investment_share_percent: Dec,
    /// Share on cancellation of an order (before provisioning).
    pub cancellation_share_percent: Dec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthTier {
    pub from_month: u32,
    /// Inclusive; absent for the open-ended last tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_month: Option<u32>,
    pub share_percent: Dec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalNotice {
    pub clause: String,
    pub rule: String,
    pub notice_days: u32,
    pub effective: NoticeEffective,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEffective {
    /// Term end if the notice expires by then, else end of the month of expiry.
    TermEndOrEndOfCalendarMonth,
}

// ---- support (R4) -------------------------------------------------------

/// Support level of an order (R4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
#[serde(rename_all = "snake_case")]
pub enum SupportLevel {
    Standard,
    Premium,
    Platinum,
}

impl SupportLevel {
    pub const ALL: [SupportLevel; 3] = [
        SupportLevel::Standard,
        SupportLevel::Premium,
        SupportLevel::Platinum,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SupportLevel::Standard => "standard",
            SupportLevel::Premium => "premium",
            SupportLevel::Platinum => "platinum",
        }
    }
}

/// Client's criticality of an incident (R4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub enum Criticality {
    C1,
    C2,
    C3,
    C4,
}

/// Provider's impact assessment (R4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Impact {
    I1,
    I2,
    I3,
    I4,
}

/// Ticket priority (R4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

/// Map keys of terms files are deserialised through strings so that an error
/// path names the key (`support.levels.premium`), not `?`.
macro_rules! key_enum {
    ($t:ident { $($s:literal => $v:ident),* $(,)? }) => {
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                match s.as_str() {
                    $($s => Ok($t::$v),)*
                    _ => Err(format!("unknown variant `{}`, expected one of {}", s, [$(concat!("`", $s, "`")),*].join(", "))),
                }
            }
        }
    };
}
key_enum!(SupportLevel { "standard" => Standard, "premium" => Premium, "platinum" => Platinum });
key_enum!(Criticality { "C1" => C1, "C2" => C2, "C3" => C3, "C4" => C4 });
key_enum!(Offer {
    "mono_site" => MonoSite, "hd_multi_site" => HdMultiSite, "thd_multi_site" => ThdMultiSite,
    "mono_dc" => MonoDc, "dual_dc" => DualDc, "pra" => Pra,
});
key_enum!(MachineCriticality { "c1" => C1, "c2" => C2, "c3" => C3 });

macro_rules! display_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    )*};
}
display_debug!(Criticality, Impact, Priority);

impl std::fmt::Display for SupportLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportSection {
    /// Named service calendars (R4.1).
    pub calendars: BTreeMap<String, CalendarEntry>,
    /// Per support level: its calendar and the length of its JO (R4.3).
    pub levels: BTreeMap<SupportLevel, LevelEntry>,
    /// Calendar of P1 clocks, whatever the level (R4.3: "à l'exception des tickets P1").
    pub p1_calendar: Param<String>,
    pub priority_matrix: PriorityMatrix,
    pub no_p1: NoP1,
    pub targets: Targets,
    pub clock_pause_reasons: Param<Vec<PauseReason>>,
    pub billable_tickets: BillableTickets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    pub clause: String,
    pub rule: String,
    pub calendar: CalendarSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelEntry {
    pub clause: String,
    pub rule: String,
    /// Name of a calendar of `support.calendars`.
    pub calendar: String,
    /// Length of one JO (jour ouvré) in hours of that calendar.
    pub jo_hours: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityMatrix {
    pub clause: String,
    pub rule: String,
    /// Row per criticality: priorities for impacts I1..I4.
    pub rows: BTreeMap<Criticality, [Priority; 4]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoP1 {
    pub clause: String,
    pub rule: String,
    /// Levels without P1 tickets.
    pub levels: Vec<SupportLevel>,
    /// Priority a would-be P1 ticket is handled as on those levels.
    pub handled_as: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub clause: String,
    pub rule: String,
    pub entries: Vec<TargetEntry>,
}

/// GTI/GTR of one (level, priority); absent = no commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    pub level: SupportLevel,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gti_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtr_hours: Option<u32>,
    /// GTR in JO (business days of the level's calendar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtr_jo: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Written request for site access, until access is given.
    SiteAccessRequest,
    /// Written request for the client or a third party to act, until they act.
    ClientOrThirdPartyAction,
    /// The notification is incomplete.
    IncompleteNotification,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillableTickets {
    pub clause: String,
    pub rule: String,
    /// From the n-th out-of-scope ticket...
    pub from_nth: u32,
    /// ...within this many months.
    pub window_months: u32,
    /// Price of one billable ticket, EUR excluding VAT. CG 14.3 only lets the
    /// provider bill "ces sollicitations" without a price: a product decision.
    pub price_eur: Param<Dec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub clause: String,
    pub rule: String,
    /// Minimum days between the notice email and the start of the works.
    pub notice_days: u32,
    pub urgent_security_excluded: bool,
    /// Whether excluded works also stop the GTI clock (they always stop the
    /// GTR and the availability count).
    pub stops_gti: bool,
    /// How the notice of a window changed after it was notified is judged.
    #[serde(default)]
    pub changed_window_notice: ChangedWindowNotice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which notice R4.6 counts from once a notified window is changed (moved,
/// lengthened, its impact changed): CG 14.5 asks for a notice "at least 7
/// days before" holding the start, expected duration and impact, and is
/// silent on changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangedWindowNotice {
    /// A change that keeps the works inside the window already notified,
    /// with the same impact, keeps that notice (the client was told in time
    /// of every minute it now covers); any other change counts from the
    /// notice of the change.
    #[default]
    WithinKeepsFirst,
    /// Every change counts from the notice of the change.
    NewNotice,
}

// ---- availability (R5) --------------------------------------------------

/// Cloud offer of a service (R5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    MonoSite,
    HdMultiSite,
    ThdMultiSite,
    MonoDc,
    DualDc,
    Pra,
}

impl Offer {
    pub const ALL: [Offer; 6] = [
        Offer::MonoSite,
        Offer::HdMultiSite,
        Offer::ThdMultiSite,
        Offer::MonoDc,
        Offer::DualDc,
        Offer::Pra,
    ];
}

/// Kind of an unavailability episode (R5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeKind {
    ClusterConnectivity,
    VmStorageAccess,
    Vcenter,
    NsxManager,
}

/// Why an episode or window does not count (R5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    NotifiedMaintenance,
    UrgentSecurityMaintenance,
    PraTest,
    ClientChange,
    ClientFault,
    ClientApplication,
    ForceMajeure,
    ThirdParty,
    NotProviderElement,
    RegulatoryChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySection {
    pub month_zone: Param<String>,
    pub qualification: Qualification,
    pub exclusion_reasons: Param<Vec<ExclusionReason>>,
    pub offers: BTreeMap<Offer, OfferSla>,
    pub penalty_classes: BTreeMap<String, PenaltyClass>,
    pub colocation: ColocationAvailability,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub clause: String,
    pub rule: String,
    /// An episode counts when its whole duration is at least this.
    pub min_episode_seconds: u32,
    pub kinds: Vec<EpisodeKind>,
    /// Kinds that count only when they impact the service.
    pub require_service_impact: Vec<EpisodeKind>,
    /// Minute slots touched: [floor(start), ceil(end)).
    pub slot_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferSla {
    pub clause: String,
    pub rule: String,
    pub guaranteed_percent: Dec,
    /// Name of a penalty class; absent = reported without penalty (PRA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty_class: Option<String>,
    pub disaster_on_primary_excluded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PenaltyClass {
    pub clause: String,
    pub rule: String,
    /// Rate from which no penalty is due (upper bound of the first tier).
    pub guaranteed_percent: Dec,
    /// Tiers from the best rate down: lower <= rate < upper.
    pub tiers: Vec<RateTier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTier {
    /// Inclusive lower bound; absent for the last tier (down to 0 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<Dec>,
    /// Exclusive upper bound.
    pub upper: Dec,
    /// Share of the service's monthly fee.
    pub penalty_percent: Dec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColocationAvailability {
    pub clause: String,
    pub rule: String,
    pub datacenters: BTreeMap<String, Dec>,
    /// Whether network, power and ambient temperature make one yearly figure
    /// per datacenter or three (A2 I.A.2 is ambiguous); absent in documents
    /// written before the parameter existed, which read it as `combined`.
    #[serde(default = "default_colocation_measure")]
    pub measure: Param<ColocationMeasure>,
}

/// What is observed in a colocation datacenter (R5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColocationKind {
    Network,
    Power,
    Temperature,
}

impl ColocationKind {
    pub const ALL: [ColocationKind; 3] = [
        ColocationKind::Network,
        ColocationKind::Power,
        ColocationKind::Temperature,
    ];

    /// The stable code (`network`, `power`, `temperature`).
    pub fn as_str(self) -> &'static str {
        match self {
            ColocationKind::Network => "network",
            ColocationKind::Power => "power",
            ColocationKind::Temperature => "temperature",
        }
    }
}

/// How the yearly colocation figure is read (R5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColocationMeasure {
    /// One figure: a minute is unavailable when any of the three fails.
    Combined,
    /// Three figures, each held to the datacenter's rate; met when all are.
    PerKind,
}

fn default_payment_due_days() -> Param<u32> {
    Param {
        value: 30,
        clause: "CG 3.4".into(),
        rule: "R2.7".into(),
        note: Some(
            "Product decision: the contract sets no payment term; 30 days, within the 60-day cap of Code de commerce L441-10."
                .into(),
        ),
    }
}

fn default_colocation_measure() -> Param<ColocationMeasure> {
    Param {
        value: ColocationMeasure::Combined,
        clause: "A2 I.A.2".into(),
        rule: "R5.6".into(),
        note: None,
    }
}

// ---- recovery (R6) ------------------------------------------------------

/// Criticality of a protected machine (R6.2, R10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
#[serde(rename_all = "snake_case")]
pub enum MachineCriticality {
    C1,
    C2,
    C3,
}

impl std::fmt::Display for MachineCriticality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MachineCriticality::C1 => "C1",
            MachineCriticality::C2 => "C2",
            MachineCriticality::C3 => "C3",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySection {
    pub cloud: CloudRecovery,
    pub pra: PraObjectives,
    pub allowance: Allowance,
    pub pra_penalties: PraPenalties,
    pub refused_criticality_voids_sla: Param<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudRecovery {
    pub clause: String,
    pub rule: String,
    pub min_performance_percent: Dec,
    pub offers: BTreeMap<Offer, CloudObjective>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudObjective {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PraObjectives {
    pub clause: String,
    pub rule: String,
    pub criticalities: BTreeMap<MachineCriticality, PraObjective>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PraObjective {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_min_performance_percent: Option<Dec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_min_performance_percent: Option<Dec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    pub clause: String,
    pub rule: String,
    /// Late machines tolerated per activation whatever the performance.
    pub late_machines_allowed: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PraPenalties {
    pub clause: String,
    pub rule: String,
    pub criticalities: BTreeMap<MachineCriticality, Vec<DelayTier>>,
    /// How a machine not reachable again by the statement is counted.
    pub unrestored_machine: UnrestoredMachine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnrestoredMachine {
    /// Late, with a delay beyond every tier (the open-ended last tier applies).
    BeyondEveryTier,
}

/// above < delay <= up_to (hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelayTier {
    pub above_hours: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_hours: Option<u32>,
    pub penalty_percent: Dec,
}

// ---- penalty limits and credits (R7) ------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PenaltyLimits {
    pub sole_remedy: Param<bool>,
    pub caps: Caps,
    pub one_penalty_per_event: Param<Combination>,
    pub exclusion_voids_penalty: Param<bool>,
    pub credits: Credits,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    pub clause: String,
    pub rule: String,
    pub scope: CapScope,
    /// Monthly fees of the service that one calendar month's credits may reach.
    pub per_month_monthly_fees: Dec,
    /// Monthly fees that one calendar year's credits may reach.
    pub per_year_monthly_fees: Dec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    PerService,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// The largest penalty of the event (most favourable to the client).
    MostFavourableToClient,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credits {
    pub clause: String,
    pub rule: String,
    pub require_due_invoices_paid: bool,
    pub refund_when_all_services_ended: bool,
    pub vat_of_compensated_service: bool,
    /// Months after a statement's own during which it stays open to
    /// corrections before it freezes (decision; 1 when a version omits it).
    #[serde(default = "one_month")]
    pub correction_months: u8,
    #[serde(default)]
    pub note: Option<String>,
}

fn one_month() -> u8 {
    1
}

// ---- hour book (R8) -----------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HourBook {
    pub clause: String,
    pub rule: String,
    pub step_minutes: u32,
    pub non_business_multiplier: Dec,
    /// Name of the calendar defining business hours.
    pub business_calendar: String,
    pub rounding: HourBookRounding,
    pub carry_over_while_managed_services: bool,
    /// What becomes of unused hours at a month end (Europe/Paris) when the
    /// client has no managed-services order in force (CS 5.3: hours are
    /// "reportables de mois en mois ... tant que le Client demeure sous
    /// Contrat ... avec au moins une Commande de Services d'infogérance").
    pub without_managed_services: HourBookLapse,
    pub overrun_requires_authorisation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HourBookRounding {
    /// Business and non-business parts each rounded up, then non-business doubled.
    EachPartUpThenMultiply,
}

/// Reading of CS 5.3 for hours left when no managed-services order is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HourBookLapse {
    /// The carry-over is conditional: hours not used by the end of a month
    /// lapse if no managed-services order is in force at that month end.
    LapseAtMonthEnd,
    /// Hours carry over whatever the client's other orders.
    CarryOver,
}

// ---- backup, PRA, colocation (R9-R11) -----------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    pub immutability_max_months: Param<u32>,
    pub immutability_and_recycle_bin_exclusive: Param<bool>,
    pub options_only_on_initial_order: Param<bool>,
    pub regularisation_order_days: Param<u32>,
    /// Ascending shares (%) of the provisioned storage at which the client
    /// sees a capacity alert (R9.5); product decision, the contract names
    /// no figure.
    #[serde(default = "default_storage_alert_percents")]
    pub storage_alert_percents: Param<Vec<Dec>>,
    /// Calendar days before a regularisation order's delay ends that the
    /// client is reminded to sign it (R9.6); product decision, the
    /// contract names no reminder.
    #[serde(default = "default_regularisation_reminder_days")]
    pub regularisation_reminder_days: Param<u32>,
}

fn default_regularisation_reminder_days() -> Param<u32> {
    Param {
        value: 7,
        clause: "CS 3.1".into(),
        rule: "R9.6".into(),
        note: Some(
            "Product decision: the client is reminded 7 calendar days before the delay ends."
                .into(),
        ),
    }
}

fn default_storage_alert_percents() -> Param<Vec<Dec>> {
    Param {
        value: [80, 90, 100]
            .into_iter()
            .map(|p| Dec(rust_decimal::Decimal::from(p)))
            .collect(),
        clause: "CS 3.9".into(),
        rule: "R9.5".into(),
        note: Some(
            "Product decision: alerts at 80, 90 and 100 % of the provisioned storage.".into(),
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PraSection {
    pub simple_test_notice_days: Param<u32>,
    pub full_test_notice_days: Param<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColocationSection {
    pub datacenters: BTreeMap<String, Datacenter>,
    pub prevention_plan_validity_years: Param<u32>,
    pub change_approval_days: Param<u32>,
    pub inventory_days: Param<u32>,
    pub damage_repair_days: Param<u32>,
    pub nonconformity_days: Param<u32>,
    pub decommission_after_formal_notice_days: Param<u32>,
    /// Calendar days before a prevention plan expires that the client is
    /// reminded (R11.2; a product decision, the contract names no lead).
    #[serde(default = "default_prevention_plan_reminder_days")]
    pub prevention_plan_reminder_days: Param<u32>,
    /// Calendar days before a 7-day deadline of R11.4 ends that its owner
    /// is alerted (a product decision).
    #[serde(default = "default_deadline_alert_days")]
    pub deadline_alert_days: Param<u32>,
    /// Share of the subscribed amperage or kVA at or above which a power
    /// reading is "near" (R11.5; a product decision).
    #[serde(default = "default_power_near_percent")]
    pub power_near_percent: Param<Dec>,
}

fn colocation_decision<T>(value: T, clause: &str, rule: &str, note: &str) -> Param<T> {
    Param {
        value,
        clause: clause.into(),
        rule: rule.into(),
        note: Some(note.into()),
    }
}

fn default_prevention_plan_reminder_days() -> Param<u32> {
    colocation_decision(
        60,
        "CS 2.3.3",
        "R11.2",
        "Product decision: 60 days leave time to book the site preventer's visit.",
    )
}

fn default_deadline_alert_days() -> Param<u32> {
    colocation_decision(
        2,
        "CS 2.3.2-2.3.3",
        "R11.4",
        "Product decision: the owner is alerted 2 calendar days before a 7-day deadline ends.",
    )
}

fn default_power_near_percent() -> Param<Dec> {
    colocation_decision(
        Dec(Decimal::from(80)),
        "CS 2.3.3",
        "R11.5",
        "Product decision: a reading at 80 % of the subscribed amperage or kVA is near the limit.",
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datacenter {
    pub clause: String,
    pub rule: String,
    pub name: String,
    pub access: DatacenterAccess,
    pub prevention_plan_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatacenterAccess {
    TemporaryOnly,
    PermanentNominativeBadge,
}
