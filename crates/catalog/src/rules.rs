//! The option rules over an order's lines, as one pure validator.
//!
//! [`validate`] checks every line and returns *all* violations at once (a
//! form shows each next to its field), each citing its rule of RULES.md and
//! its clause of the contract:
//!
//! - R9.2 (CS 3.6): backup immutability at most `backup.immutability_max_months`
//!   months. Reading: the duration is a [`CalendarDuration`] on the order,
//!   compared from the order date: `P6M` is allowed and `P6M1D` is not, and a
//!   day count such as `P183D` is allowed only when the order date plus 183
//!   days does not pass the order date plus 6 months (181 to 184 days
//!   depending on the months crossed).
//! - R9.4 (CS 3.8): immutability and the admin recycle bin exclude each other
//!   (`backup.immutability_and_recycle_bin_exclusive`) and are chosen only on
//!   the initial order (`backup.options_only_on_initial_order`). Reading: an
//!   amendment of a running order may resize a backup but cannot carry either
//!   option: the options of the initial order stay as they were.
//! - R12.1 (CS 2.2.2): Cloud Connect needs the reference of the client's
//!   active VPN MPLS contract.
//! - R10.1 (CS 4.2): each PRA machine has a criticality.
//! - R9.7 (CS 3.2): a Microsoft 365 backup states its provisioned storage.
//! - R11.1 (CS 2.3.3): a colocation emplacement is in a datacenter of the
//!   terms (`colocation.datacenters`); R11.5 (CS 2.3.3): it states its
//!   power (kVA) and maximum amperage.
//! - R1.3 (CG 2.1), with the clause describing the offer: the order's own
//!   parameters make sense (at least one unit, sizes above zero, names given,
//!   one support level per order).

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::item::{CalendarDuration, Item, ItemKind, is_segment};

/// The parameters of the option rules, read from the terms (an order's
/// special conditions may override them, R1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRules {
    /// `backup.immutability_max_months` (R9.2).
    pub immutability_max_months: u32,
    /// `backup.immutability_and_recycle_bin_exclusive` (R9.4).
    pub immutability_and_recycle_bin_exclusive: bool,
    /// `backup.options_only_on_initial_order` (R9.4).
    pub options_only_on_initial_order: bool,
    /// Keys of `colocation.datacenters` (R11.1).
    pub datacenters: BTreeSet<String>,
}

impl OptionRules {
    pub fn from_terms(terms: &ciel_terms::Terms) -> Self {
        let b = &terms.backup;
        OptionRules {
            immutability_max_months: b.immutability_max_months.value,
            immutability_and_recycle_bin_exclusive: b.immutability_and_recycle_bin_exclusive.value,
            options_only_on_initial_order: b.options_only_on_initial_order.value,
            datacenters: terms.colocation.datacenters.keys().cloned().collect(),
        }
    }
}

/// Parameters that an order's special conditions ("accords particuliers")
/// set for that order only. R1.1 (CG 1.1): the order ranks above the terms,
/// so a value here overrides the terms version's for this order. Field names
/// are those of the terms file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialConditions {
    /// Overrides `contract.order_acceptance_days` (R1.3).
    #[serde(default)]
    pub order_acceptance_days: Option<u32>,
    /// Overrides `backup.immutability_max_months` (R9.2).
    #[serde(default)]
    pub immutability_max_months: Option<u32>,
}

impl OptionRules {
    /// The rules of one order: the terms, overridden by its special
    /// conditions (R1.1).
    pub fn for_order(terms: &ciel_terms::Terms, special: &SpecialConditions) -> Self {
        let mut r = OptionRules::from_terms(terms);
        if let Some(m) = special.immutability_max_months {
            r.immutability_max_months = m;
        }
        r
    }
}

/// Whether an order creates services or amends a running order (R1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// The order that creates its services (the "commande initiale" of CS 3.8).
    Initial,
    /// A written change of a running order (options added, sizes changed).
    Amendment,
}

/// One line of an order: `quantity` identical units of `item`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub item: Item,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ViolationKind {
    /// R9.2: the immutability ends after the maximum.
    ImmutabilityTooLong {
        max_months: u32,
        /// Order date + the duration asked.
        until: Date,
        /// Order date + the maximum.
        limit: Date,
    },
    /// R9.2 / R9.3: an option's duration is not zero.
    DurationZero,
    /// R9.4: both options on one backup.
    ImmutabilityWithRecycleBin,
    /// R9.4: an option outside the initial order.
    OptionOnAmendment,
    /// R12.1.
    CloudConnectWithoutVpnMpls,
    /// R10.1.
    PraWithoutCriticality,
    /// R9.7.
    M365WithoutStorage,
    /// R11.1.
    UnknownDatacenter {
        datacenter: String,
        known: Vec<String>,
    },
    /// R1.3: a line sells at least one unit.
    ZeroQuantity,
    /// R1.3: a parameter of the offer is empty or zero.
    InvalidParameter { reason: String },
    /// R1.3: an order has one support level.
    SeveralSupportLevels { first_line: usize },
}

/// One violation: which line and field, what is wrong, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Index of the line in the order, from 0.
    pub line: usize,
    /// Path of the field inside the line, e.g. `item.immutability`.
    pub field: &'static str,
    #[serde(flatten)]
    pub kind: ViolationKind,
    /// Rule of RULES.md, e.g. "R9.2".
    pub rule: &'static str,
    /// Clause of the contract, e.g. "CS 3.6".
    pub clause: &'static str,
}

impl ViolationKind {
    fn message(&self) -> String {
        match self {
            ViolationKind::ImmutabilityTooLong {
                max_months,
                until,
                limit,
            } => format!(
                "immutability is at most {max_months} months: from the order date it would last until {until}, after {limit}"
            ),
            ViolationKind::DurationZero => "the duration is not zero".into(),
            ViolationKind::ImmutabilityWithRecycleBin => {
                "immutability and the admin recycle bin exclude each other".into()
            }
            ViolationKind::OptionOnAmendment => {
                "immutability and the admin recycle bin can only be chosen on the initial order"
                    .into()
            }
            ViolationKind::CloudConnectWithoutVpnMpls => {
                "Cloud Connect needs the reference of the client's active VPN MPLS contract".into()
            }
            ViolationKind::PraWithoutCriticality => {
                "each machine protected by the PRA needs a criticality (c1, c2 or c3)".into()
            }
            ViolationKind::M365WithoutStorage => {
                "a Microsoft 365 backup needs its provisioned storage (above 0 GB)".into()
            }
            ViolationKind::UnknownDatacenter { datacenter, known } => {
                format!(
                    "{datacenter:?} is not a datacenter of the terms ({})",
                    known.join(", ")
                )
            }
            ViolationKind::ZeroQuantity => "a line sells at least one unit".into(),
            ViolationKind::InvalidParameter { reason } => reason.clone(),
            ViolationKind::SeveralSupportLevels { first_line } => {
                format!("an order has one support level, already set on line {first_line}")
            }
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): lines[{}].{}: {}",
            self.rule,
            self.clause,
            self.line,
            self.field,
            self.kind.message()
        )
    }
}

/// The clause describing an offer, cited with R1.3 for its parameter checks.
fn offer_clause(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::CloudVm => "CS 2.1",
        ItemKind::CloudConnect => "CS 2.2",
        ItemKind::Colocation => "CS 2.3",
        ItemKind::DedicatedServer => "CS 2.4",
        ItemKind::ExternalBackup => "CS 3.1",
        ItemKind::M365Backup => "CS 3.2",
        ItemKind::PraMachine => "CS 4.2",
        ItemKind::ManagedServices => "CS 5.1",
        ItemKind::HourBook => "CS 5.3",
        ItemKind::Support => "CG 14.1",
    }
}

/// Checks every line of an order dated `order_date`; all violations, in
/// line order.
pub fn validate(
    lines: &[OrderLine],
    kind: OrderKind,
    order_date: Date,
    rules: &OptionRules,
) -> Result<(), Vec<Violation>> {
    let mut r = Report(Vec::new());
    let mut support_line: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let item_kind = line.item.kind();
        if line.quantity == 0 {
            r.add(i, "quantity", ViolationKind::ZeroQuantity, "R1.3", "CG 2.1");
        }
        match &line.item {
            Item::CloudVm(vm) => {
                if vm.vcpu == 0 {
                    r.param(i, item_kind, "item.vcpu", "a VM has at least one vCPU");
                }
                if vm.ram_gb == 0 {
                    r.param(i, item_kind, "item.ram_gb", "a VM has some RAM");
                }
                if vm.storage_gb == 0 {
                    r.param(i, item_kind, "item.storage_gb", "a VM has some storage");
                }
            }
            Item::PraMachine(m) => {
                if m.machine.trim().is_empty() {
                    r.param(
                        i,
                        item_kind,
                        "item.machine",
                        "the protected machine is named",
                    );
                }
                if m.criticality.is_none() {
                    r.add(
                        i,
                        "item.criticality",
                        ViolationKind::PraWithoutCriticality,
                        "R10.1",
                        "CS 4.2",
                    );
                }
            }
            Item::Colocation(c) => {
                if !rules.datacenters.contains(&c.datacenter) {
                    r.add(
                        i,
                        "item.datacenter",
                        ViolationKind::UnknownDatacenter {
                            datacenter: c.datacenter.clone(),
                            known: rules.datacenters.iter().cloned().collect(),
                        },
                        "R11.1",
                        "CS 2.3.3",
                    );
                }
                if c.emplacement.trim().is_empty() {
                    r.param(i, item_kind, "item.emplacement", "the emplacement is named");
                }
                if c.rack_units == 0 {
                    r.param(
                        i,
                        item_kind,
                        "item.rack_units",
                        "an emplacement has at least one rack unit",
                    );
                }
                if c.power_kva <= rust_decimal::Decimal::ZERO {
                    r.add(
                        i,
                        "item.power_kva",
                        ViolationKind::InvalidParameter {
                            reason: "the subscribed power is above 0 kVA".into(),
                        },
                        "R11.5",
                        "CS 2.3.3",
                    );
                }
                if c.max_amperage_a <= rust_decimal::Decimal::ZERO {
                    r.add(
                        i,
                        "item.max_amperage_a",
                        ViolationKind::InvalidParameter {
                            reason: "the maximum amperage is above 0 A".into(),
                        },
                        "R11.5",
                        "CS 2.3.3",
                    );
                }
            }
            Item::DedicatedServer(s) => {
                if !is_segment(&s.model) {
                    r.param(
                        i,
                        item_kind,
                        "item.model",
                        "the model is a catalogue code (a-z, 0-9, '_')",
                    );
                }
            }
            Item::ExternalBackup(b) => {
                if b.storage_gb == 0 {
                    r.param(i, item_kind, "item.storage_gb", "a backup has some storage");
                }
                if let Some(d) = b.immutability {
                    let max = CalendarDuration::new(rules.immutability_max_months, 0);
                    let until = d.after(order_date);
                    let limit = max.after(order_date);
                    if d.is_zero() {
                        r.add(
                            i,
                            "item.immutability",
                            ViolationKind::DurationZero,
                            "R9.2",
                            "CS 3.6",
                        );
                    } else if until.is_none() || until > limit {
                        r.add(
                            i,
                            "item.immutability",
                            ViolationKind::ImmutabilityTooLong {
                                max_months: rules.immutability_max_months,
                                until: until.unwrap_or(Date::MAX),
                                limit: limit.unwrap_or(Date::MAX),
                            },
                            "R9.2",
                            "CS 3.6",
                        );
                    }
                }
                if b.recycle_bin.is_some_and(CalendarDuration::is_zero) {
                    r.add(
                        i,
                        "item.recycle_bin",
                        ViolationKind::DurationZero,
                        "R9.3",
                        "CS 3.7",
                    );
                }
                if rules.immutability_and_recycle_bin_exclusive
                    && b.immutability.is_some()
                    && b.recycle_bin.is_some()
                {
                    r.add(
                        i,
                        "item.recycle_bin",
                        ViolationKind::ImmutabilityWithRecycleBin,
                        "R9.4",
                        "CS 3.8",
                    );
                }
                if rules.options_only_on_initial_order && kind == OrderKind::Amendment {
                    if b.immutability.is_some() {
                        r.add(
                            i,
                            "item.immutability",
                            ViolationKind::OptionOnAmendment,
                            "R9.4",
                            "CS 3.8",
                        );
                    }
                    if b.recycle_bin.is_some() {
                        r.add(
                            i,
                            "item.recycle_bin",
                            ViolationKind::OptionOnAmendment,
                            "R9.4",
                            "CS 3.8",
                        );
                    }
                }
            }
            Item::M365Backup(m) => {
                if m.provisioned_storage_gb.unwrap_or(0) == 0 {
                    r.add(
                        i,
                        "item.provisioned_storage_gb",
                        ViolationKind::M365WithoutStorage,
                        "R9.7",
                        "CS 3.2",
                    );
                }
            }
            Item::CloudConnect(c) => {
                if c.vpn_mpls_contract_ref
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty())
                {
                    r.add(
                        i,
                        "item.vpn_mpls_contract_ref",
                        ViolationKind::CloudConnectWithoutVpnMpls,
                        "R12.1",
                        "CS 2.2.2",
                    );
                }
            }
            Item::Support { .. } => match support_line {
                Some(first_line) => r.add(
                    i,
                    "item.level",
                    ViolationKind::SeveralSupportLevels { first_line },
                    "R1.3",
                    "CG 14.1",
                ),
                None => support_line = Some(i),
            },
            Item::ManagedServices { .. } => {}
            Item::HourBook { hours } => {
                if *hours == 0 {
                    r.param(
                        i,
                        item_kind,
                        "item.hours",
                        "an hour book holds at least one hour",
                    );
                }
            }
        }
    }
    if r.0.is_empty() { Ok(()) } else { Err(r.0) }
}

/// The violations found so far.
struct Report(Vec<Violation>);

impl Report {
    fn add(
        &mut self,
        line: usize,
        field: &'static str,
        kind: ViolationKind,
        rule: &'static str,
        clause: &'static str,
    ) {
        self.0.push(Violation {
            line,
            field,
            kind,
            rule,
            clause,
        });
    }

    /// An offer's own parameter is empty or zero (R1.3 with the offer's clause).
    fn param(&mut self, line: usize, item: ItemKind, field: &'static str, reason: &str) {
        self.add(
            line,
            field,
            ViolationKind::InvalidParameter {
                reason: reason.to_string(),
            },
            "R1.3",
            offer_clause(item),
        );
    }
}
