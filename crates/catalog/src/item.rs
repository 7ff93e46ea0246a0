//! The offers of the contract as typed catalogue items.
//!
//! An [`Item`] is what one order line sells, with the parameters the Bon de
//! Commande states for it (CS 2-5). Each item turns into [`Charge`]s: a stock
//! keeping unit ([`Sku`]) of the price list, a quantity, and whether it is
//! billed monthly in advance or once at provisioning (R2.4). Keeping that
//! mapping in code and the amounts in data lets a provider change prices
//! without code while the catalogue's structure stays typed.
//!
//! Every item also produces its setup-fee charge (`<kind>.setup`, one time):
//! a price list must price it, at zero when an offer has no setup fee, so a
//! missing price is an error instead of a silently free installation.
//!
//! Parameters that the rules must be able to report as missing (a PRA
//! machine's criticality, Cloud Connect's VPN MPLS reference, Microsoft 365's
//! provisioned storage) are `Option`s here: a line is first checked by
//! [`crate::rules`], which cites the rule, and only then priced.

use std::fmt;

use ciel_terms::{MachineCriticality, Offer, SupportLevel};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::{Price, Sku};

/// Availability class of a cloud VM (CS 2.1, R12.3), which sets its SLA
/// (R5.4) and recovery objectives (R6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityClass {
    MonoSite,
    HdMultiSite,
    ThdMultiSite,
    MonoDc,
    DualDc,
}

impl AvailabilityClass {
    pub const ALL: [AvailabilityClass; 5] = [
        AvailabilityClass::MonoSite,
        AvailabilityClass::HdMultiSite,
        AvailabilityClass::ThdMultiSite,
        AvailabilityClass::MonoDc,
        AvailabilityClass::DualDc,
    ];

    /// The code used in SKUs and in the terms file.
    pub fn code(self) -> &'static str {
        match self {
            AvailabilityClass::MonoSite => "mono_site",
            AvailabilityClass::HdMultiSite => "hd_multi_site",
            AvailabilityClass::ThdMultiSite => "thd_multi_site",
            AvailabilityClass::MonoDc => "mono_dc",
            AvailabilityClass::DualDc => "dual_dc",
        }
    }

    /// The SLA offer of the terms (R5.4, R6.1) this class maps to.
    pub fn offer(self) -> Offer {
        match self {
            AvailabilityClass::MonoSite => Offer::MonoSite,
            AvailabilityClass::HdMultiSite => Offer::HdMultiSite,
            AvailabilityClass::ThdMultiSite => Offer::ThdMultiSite,
            AvailabilityClass::MonoDc => Offer::MonoDc,
            AvailabilityClass::DualDc => Offer::DualDc,
        }
    }

    /// Whether the VM runs on several datacenters (R12.3).
    pub fn is_multi_site(self) -> bool {
        !matches!(
            self,
            AvailabilityClass::MonoSite | AvailabilityClass::MonoDc
        )
    }
}

/// Managed-services level (infogérance, CS 5.1-5.2, R8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedLevel {
    Standard,
    Premium,
}

impl ManagedLevel {
    pub fn code(self) -> &'static str {
        match self {
            ManagedLevel::Standard => "standard",
            ManagedLevel::Premium => "premium",
        }
    }
}

/// A cloud virtual machine (CS 2.1). Sizes are whole units; storage and RAM
/// in GB as the order forms state them ("Go").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudVm {
    pub vcpu: u32,
    pub ram_gb: u32,
    pub storage_gb: u32,
    pub class: AvailabilityClass,
}

/// One machine protected by the PRA (CS 4.2, R10.1): its name in the
/// client's inventory and its criticality, which sets RTO/RPO (R6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PraMachine {
    pub machine: String,
    #[serde(default)]
    pub criticality: Option<MachineCriticality>,
}

/// A colocation emplacement (CS 2.3): where, how big, how much power, and
/// the bandwidth included ("Flat") with the price of the overage billed at
/// the 95th percentile (R2.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colocation {
    /// Datacenter code of the terms (`colocation.datacenters`: MLB, PA3...).
    pub datacenter: String,
    /// The emplacement as the order names it (room, bay, position).
    pub emplacement: String,
    pub rack_units: u32,
    /// Subscribed power; measured excess is billed (R11.5).
    pub power_kva: Decimal,
    /// Maximum amperage of the emplacement (R11.5).
    pub max_amperage_a: Decimal,
    /// Bandwidth included in the monthly rent (R2.8 "flat tier").
    pub bandwidth_flat_mbps: u32,
    /// Price of each Mbit/s of 95th percentile above the flat tier.
    pub overage_price_per_mbps: Price,
}

/// A dedicated physical server (CS 2.4), by model code of the price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedicatedServer {
    /// Model code, one SKU segment (`[a-z0-9_]`), e.g. `r650_2x16c_256g`.
    pub model: String,
}

/// External backup (CS 3.1, 3.3) with its options: immutability (CS 3.6,
/// R9.2) or the admin recycle bin (CS 3.7, R9.3), exclusive (R9.4).
///
/// Durations are [`CalendarDuration`]s (`P6M`, `P30D`): "six months" is
/// compared as months from the order date, not as a number of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalBackup {
    pub storage_gb: u32,
    #[serde(default)]
    pub immutability: Option<CalendarDuration>,
    #[serde(default)]
    pub recycle_bin: Option<CalendarDuration>,
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("{0:?} is not a duration in years, months, weeks or days (e.g. P6M, P30D, 6 months)")]
    Format(String),
    #[error("{0:?}: a duration on an order is not negative")]
    Negative(String),
    #[error("{0:?}: a duration on an order is in years, months, weeks or days, not hours or less")]
    TimeUnits(String),
}

/// A calendar duration stated on an order (backup options): months and
/// days, never hours, never negative. Written in ISO 8601 (`P6M`, `P1Y`,
/// `P2W`, `P6M1D`) or jiff's friendly form (`6 months`, `30 days`); years
/// count 12 months and weeks 7 days; displayed in ISO 8601.
///
/// Months stay months: adding one to a date moves to the same day of the
/// next month (clamped to its end), so "6 months" is compared as the
/// contract says it, not as a number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CalendarDuration {
    months: u32,
    days: u32,
}

impl CalendarDuration {
    pub fn new(months: u32, days: u32) -> Self {
        CalendarDuration { months, days }
    }

    /// Parses an ISO 8601 (or jiff friendly) duration.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        let span: jiff::Span = s
            .trim()
            .parse()
            .map_err(|_| DurationError::Format(s.to_string()))?;
        if span.is_negative() {
            return Err(DurationError::Negative(s.to_string()));
        }
        if span.get_hours() != 0
            || span.get_minutes() != 0
            || span.get_seconds() != 0
            || span.get_milliseconds() != 0
            || span.get_microseconds() != 0
            || span.get_nanoseconds() != 0
        {
            return Err(DurationError::TimeUnits(s.to_string()));
        }
        // Spans are bounded far below u32 for these units; the conversion
        // guards anyway.
        let too_big = || DurationError::Format(s.to_string());
        let months = i64::from(span.get_years()) * 12 + i64::from(span.get_months());
        let days = i64::from(span.get_weeks()) * 7 + i64::from(span.get_days());
        Ok(CalendarDuration {
            months: u32::try_from(months).map_err(|_| too_big())?,
            days: u32::try_from(days).map_err(|_| too_big())?,
        })
    }

    pub fn months(self) -> u32 {
        self.months
    }

    pub fn days(self) -> u32 {
        self.days
    }

    pub fn is_zero(self) -> bool {
        self.months == 0 && self.days == 0
    }

    /// `date` + the months, then + the days; `None` past the calendar's end.
    pub fn after(self, date: jiff::civil::Date) -> Option<jiff::civil::Date> {
        date.checked_add(jiff::Span::new().months(i64::from(self.months)))
            .ok()?
            .checked_add(jiff::Span::new().days(i64::from(self.days)))
            .ok()
    }
}

impl fmt::Display for CalendarDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        if self.months != 0 {
            write!(f, "{}M", self.months)?;
        }
        if self.days != 0 || self.months == 0 {
            write!(f, "{}D", self.days)?;
        }
        Ok(())
    }
}

impl TryFrom<String> for CalendarDuration {
    type Error = DurationError;
    fn try_from(s: String) -> Result<Self, DurationError> {
        CalendarDuration::parse(&s)
    }
}

impl From<CalendarDuration> for String {
    fn from(d: CalendarDuration) -> String {
        d.to_string()
    }
}

/// Microsoft 365 backup (CS 3.2, R9.7), bounded by the storage provisioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct M365Backup {
    #[serde(default)]
    pub provisioned_storage_gb: Option<u32>,
}

/// Cloud Connect (CS 2.2, R12.1): free, but only for a client with an active
/// VPN MPLS contract of the partner operator, whose reference is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudConnect {
    #[serde(default)]
    pub vpn_mpls_contract_ref: Option<String>,
}

/// What one order line sells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    CloudVm(CloudVm),
    PraMachine(PraMachine),
    Colocation(Colocation),
    DedicatedServer(DedicatedServer),
    ExternalBackup(ExternalBackup),
    M365Backup(M365Backup),
    CloudConnect(CloudConnect),
    /// Support level of the order (R4.1).
    Support {
        level: SupportLevel,
    },
    /// Managed services (R8.1).
    ManagedServices {
        level: ManagedLevel,
    },
    /// A prepaid hour book (Carnet de Temps Horaire, R8.2), bought once.
    HourBook {
        hours: u32,
    },
}

/// The kind of an item, without its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    CloudVm,
    PraMachine,
    Colocation,
    DedicatedServer,
    ExternalBackup,
    M365Backup,
    CloudConnect,
    Support,
    ManagedServices,
    HourBook,
}

impl ItemKind {
    /// The code used as the first SKU segment.
    pub fn code(self) -> &'static str {
        match self {
            ItemKind::CloudVm => "cloud_vm",
            ItemKind::PraMachine => "pra",
            ItemKind::Colocation => "colocation",
            ItemKind::DedicatedServer => "dedicated_server",
            ItemKind::ExternalBackup => "backup",
            ItemKind::M365Backup => "m365_backup",
            ItemKind::CloudConnect => "cloud_connect",
            ItemKind::Support => "support",
            ItemKind::ManagedServices => "managed_services",
            ItemKind::HourBook => "hour_book",
        }
    }
}

/// When a charge is billed (R2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// Subscription, billed monthly in advance (terme à échoir).
    Recurring,
    /// Billed once, at provisioning: setup fees, hour books.
    OneTime,
}

/// One priced component of an item: `quantity` units of `sku`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub sku: Sku,
    pub kind: ChargeKind,
    pub quantity: Decimal,
}

/// Why an item cannot be turned into charges (the rules report these first,
/// with their rule; this is the pricing side's own guard).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargeError {
    #[error("a PRA machine needs its criticality before it can be priced (R10.1)")]
    MissingCriticality,
    #[error("a Microsoft 365 backup needs its provisioned storage before it can be priced (R9.7)")]
    MissingM365Storage,
    #[error("{0:?} is not a valid model or datacenter code (letters a-z, digits and '_')")]
    Model(String),
    #[error("{0:?} is not a valid SKU")]
    Sku(String),
}

impl Item {
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::CloudVm(_) => ItemKind::CloudVm,
            Item::PraMachine(_) => ItemKind::PraMachine,
            Item::Colocation(_) => ItemKind::Colocation,
            Item::DedicatedServer(_) => ItemKind::DedicatedServer,
            Item::ExternalBackup(_) => ItemKind::ExternalBackup,
            Item::M365Backup(_) => ItemKind::M365Backup,
            Item::CloudConnect(_) => ItemKind::CloudConnect,
            Item::Support { .. } => ItemKind::Support,
            Item::ManagedServices { .. } => ItemKind::ManagedServices,
            Item::HourBook { .. } => ItemKind::HourBook,
        }
    }

    /// The charges of one unit of this item, setup fee last.
    ///
    /// SKUs, by kind (`<class>` is an [`AvailabilityClass::code`]):
    /// - cloud VM: `cloud_vm.<class>.vcpu`, `.ram_gb`, `.storage_gb` (monthly);
    /// - PRA machine: `pra.c1` / `pra.c2` / `pra.c3` (monthly);
    /// - colocation: `colocation.<dc>.rack_unit`, `colocation.<dc>.power_kva`,
    ///   `colocation.<dc>.bandwidth_mbps` (monthly, flat tier included in the
    ///   rent; overage is billed in arrears at the order's own price);
    /// - dedicated server: `dedicated_server.<model>` (monthly);
    /// - backup: `backup.storage_gb`, plus `backup.immutability_gb` or
    ///   `backup.recycle_bin_gb` on the same storage when the option is set;
    /// - Microsoft 365 backup: `m365_backup.storage_gb`;
    /// - Cloud Connect: `cloud_connect` (free per R12.1: priced 0);
    /// - support: `support.<level>`; managed services: `managed_services.<level>`;
    /// - hour book: `hour_book.hour` (one time);
    /// - every kind: `<kind>.setup`, one time, quantity 1.
    pub fn charges(&self) -> Result<Vec<Charge>, ChargeError> {
        let kind = self.kind();
        let mut out = Vec::new();
        let mut push = |sku: String, ck: ChargeKind, q: Decimal| -> Result<(), ChargeError> {
            let sku = Sku::parse(&sku).map_err(|_| ChargeError::Sku(sku))?;
            out.push(Charge {
                sku,
                kind: ck,
                quantity: q,
            });
            Ok(())
        };
        use ChargeKind::{OneTime, Recurring};
        match self {
            Item::CloudVm(vm) => {
                let c = vm.class.code();
                push(format!("cloud_vm.{c}.vcpu"), Recurring, vm.vcpu.into())?;
                push(format!("cloud_vm.{c}.ram_gb"), Recurring, vm.ram_gb.into())?;
                push(
                    format!("cloud_vm.{c}.storage_gb"),
                    Recurring,
                    vm.storage_gb.into(),
                )?;
            }
            Item::PraMachine(m) => {
                let c = match m.criticality.ok_or(ChargeError::MissingCriticality)? {
                    MachineCriticality::C1 => "c1",
                    MachineCriticality::C2 => "c2",
                    MachineCriticality::C3 => "c3",
                };
                push(format!("pra.{c}"), Recurring, Decimal::ONE)?;
            }
            Item::Colocation(col) => {
                let dc = col.datacenter.to_ascii_lowercase();
                if !is_segment(&dc) {
                    return Err(ChargeError::Model(col.datacenter.clone()));
                }
                push(
                    format!("colocation.{dc}.rack_unit"),
                    Recurring,
                    col.rack_units.into(),
                )?;
                push(
                    format!("colocation.{dc}.power_kva"),
                    Recurring,
                    col.power_kva,
                )?;
                push(
                    format!("colocation.{dc}.bandwidth_mbps"),
                    Recurring,
                    col.bandwidth_flat_mbps.into(),
                )?;
            }
            Item::DedicatedServer(s) => {
                if !is_segment(&s.model) {
                    return Err(ChargeError::Model(s.model.clone()));
                }
                push(
                    format!("dedicated_server.{}", s.model),
                    Recurring,
                    Decimal::ONE,
                )?;
            }
            Item::ExternalBackup(b) => {
                let gb = Decimal::from(b.storage_gb);
                push("backup.storage_gb".into(), Recurring, gb)?;
                if b.immutability.is_some() {
                    push("backup.immutability_gb".into(), Recurring, gb)?;
                }
                if b.recycle_bin.is_some() {
                    push("backup.recycle_bin_gb".into(), Recurring, gb)?;
                }
            }
            Item::M365Backup(m) => {
                let gb = m
                    .provisioned_storage_gb
                    .ok_or(ChargeError::MissingM365Storage)?;
                push("m365_backup.storage_gb".into(), Recurring, gb.into())?;
            }
            Item::CloudConnect(_) => push("cloud_connect".into(), Recurring, Decimal::ONE)?,
            Item::Support { level } => {
                push(
                    format!("support.{}", level.as_str()),
                    Recurring,
                    Decimal::ONE,
                )?;
            }
            Item::ManagedServices { level } => push(
                format!("managed_services.{}", level.code()),
                Recurring,
                Decimal::ONE,
            )?,
            Item::HourBook { hours } => push("hour_book.hour".into(), OneTime, (*hours).into())?,
        }
        push(format!("{}.setup", kind.code()), OneTime, Decimal::ONE)?;
        Ok(out)
    }
}

/// The SKU a dedicated server's price takes, whatever its model.
pub const DEDICATED_SERVER_SKU_PATTERN: &str = "dedicated_server.<model>";

/// Every SKU the catalogue can charge, in catalogue order: what a price list
/// must price for every offer to be orderable (the staff's help when
/// publishing a tariff, and the check of the demo tariff). Colocation SKUs
/// are one per datacenter code of the terms; a dedicated server's depends on
/// its model, listed as [`DEDICATED_SERVER_SKU_PATTERN`].
pub fn catalogue_skus<'a>(datacenters: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut items: Vec<Item> = AvailabilityClass::ALL
        .into_iter()
        .map(|class| {
            Item::CloudVm(CloudVm {
                vcpu: 1,
                ram_gb: 1,
                storage_gb: 1,
                class,
            })
        })
        .collect();
    items.extend(
        [
            MachineCriticality::C1,
            MachineCriticality::C2,
            MachineCriticality::C3,
        ]
        .map(|c| {
            Item::PraMachine(PraMachine {
                machine: String::new(),
                criticality: Some(c),
            })
        }),
    );
    items.extend(datacenters.into_iter().map(|dc| {
        Item::Colocation(Colocation {
            datacenter: dc.to_owned(),
            emplacement: String::new(),
            rack_units: 1,
            power_kva: Decimal::ONE,
            max_amperage_a: Decimal::ONE,
            bandwidth_flat_mbps: 1,
            overage_price_per_mbps: Price::ZERO,
        })
    }));
    items.push(Item::ExternalBackup(ExternalBackup {
        storage_gb: 1,
        immutability: Some(CalendarDuration::new(1, 0)),
        recycle_bin: Some(CalendarDuration::new(1, 0)),
    }));
    items.push(Item::M365Backup(M365Backup {
        provisioned_storage_gb: Some(1),
    }));
    items.push(Item::CloudConnect(CloudConnect {
        vpn_mpls_contract_ref: None,
    }));
    items.extend(SupportLevel::ALL.map(|level| Item::Support { level }));
    items.extend(
        [ManagedLevel::Standard, ManagedLevel::Premium]
            .map(|level| Item::ManagedServices { level }),
    );
    items.push(Item::HourBook { hours: 1 });
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for item in &items {
        for c in item.charges().unwrap_or_default() {
            add(c.sku.as_str().to_owned());
        }
    }
    add(DEDICATED_SERVER_SKU_PATTERN.to_owned());
    add(format!("{}.setup", ItemKind::DedicatedServer.code()));
    out
}

/// One SKU segment: non-empty `[a-z0-9_]`.
pub(crate) fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skus(item: &Item) -> Vec<String> {
        item.charges()
            .unwrap()
            .into_iter()
            .map(|c| c.sku.as_str().to_string())
            .collect()
    }

    #[test]
    fn every_item_has_its_setup_fee_last() {
        let items = [
            Item::CloudVm(CloudVm {
                vcpu: 4,
                ram_gb: 16,
                storage_gb: 200,
                class: AvailabilityClass::ThdMultiSite,
            }),
            Item::CloudConnect(CloudConnect {
                vpn_mpls_contract_ref: None,
            }),
            Item::Support {
                level: SupportLevel::Premium,
            },
            Item::HourBook { hours: 10 },
        ];
        for item in &items {
            let charges = item.charges().unwrap();
            let last = charges.last().unwrap();
            assert_eq!(last.sku.as_str(), format!("{}.setup", item.kind().code()));
            assert_eq!(last.kind, ChargeKind::OneTime);
            assert_eq!(last.quantity, Decimal::ONE);
        }
    }

    #[test]
    fn charges_by_kind() {
        let vm = Item::CloudVm(CloudVm {
            vcpu: 4,
            ram_gb: 16,
            storage_gb: 200,
            class: AvailabilityClass::DualDc,
        });
        assert_eq!(
            skus(&vm),
            [
                "cloud_vm.dual_dc.vcpu",
                "cloud_vm.dual_dc.ram_gb",
                "cloud_vm.dual_dc.storage_gb",
                "cloud_vm.setup"
            ]
        );
        let b = Item::ExternalBackup(ExternalBackup {
            storage_gb: 500,
            immutability: Some(CalendarDuration::new(3, 0)),
            recycle_bin: None,
        });
        assert_eq!(
            skus(&b),
            [
                "backup.storage_gb",
                "backup.immutability_gb",
                "backup.setup"
            ]
        );
        let hb = Item::HourBook { hours: 20 }.charges().unwrap();
        assert_eq!(hb[0].kind, ChargeKind::OneTime);
        assert_eq!(hb[0].quantity, Decimal::from(20));
        let col = Item::Colocation(Colocation {
            datacenter: "PA3".into(),
            emplacement: "Salle 2 baie B12".into(),
            rack_units: 42,
            power_kva: "4.5".parse().unwrap(),
            max_amperage_a: "20".parse().unwrap(),
            bandwidth_flat_mbps: 100,
            overage_price_per_mbps: Price::parse("1.50").unwrap(),
        });
        assert_eq!(
            skus(&col),
            [
                "colocation.pa3.rack_unit",
                "colocation.pa3.power_kva",
                "colocation.pa3.bandwidth_mbps",
                "colocation.setup"
            ]
        );
        assert_eq!(
            Item::PraMachine(PraMachine {
                machine: "srv-erp".into(),
                criticality: None
            })
            .charges(),
            Err(ChargeError::MissingCriticality)
        );
        assert_eq!(
            Item::DedicatedServer(DedicatedServer {
                model: "R650 big".into()
            })
            .charges(),
            Err(ChargeError::Model("R650 big".into()))
        );
    }

    #[test]
    fn the_catalogue_lists_each_sku_once_with_every_setup_fee() {
        let skus = catalogue_skus(["PA3", "MLB"]);
        assert_eq!(
            skus.len(),
            5 * 3 + 3 + 2 * 3 + 3 + 1 + 1 + 3 + 2 + 1 + 1 + 10
        );
        for sku in [
            "cloud_vm.dual_dc.vcpu",
            "pra.c3",
            "colocation.mlb.power_kva",
            "backup.recycle_bin_gb",
            "support.platinum",
            "managed_services.premium",
            "hour_book.hour",
            "hour_book.setup",
            "dedicated_server.<model>",
            "dedicated_server.setup",
        ] {
            assert!(skus.iter().any(|s| s == sku), "{sku}");
        }
    }

    #[test]
    fn classes_map_to_the_terms_offers() {
        assert!(!AvailabilityClass::MonoDc.is_multi_site());
        assert!(AvailabilityClass::HdMultiSite.is_multi_site());
        let terms = ciel_terms::embedded();
        for c in AvailabilityClass::ALL {
            assert!(
                terms.availability.offers.contains_key(&c.offer()),
                "{} has an SLA in the terms",
                c.code()
            );
        }
    }
}
