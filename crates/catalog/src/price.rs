//! Versioned price lists with tiered prices, the price-change notice rule and
//! the tariff applicable on a date.
//!
//! - A [`PriceList`] is one version of the tariff: an id, the date it takes
//!   effect (a civil date in the provider's time zone), and a [`TieredPrice`]
//!   per [`Sku`].
//! - A [`PriceBook`] is the ordered history of lists. Lists are only ever
//!   appended with a later effective date: a past tariff is evidence for the
//!   invoices computed from it and is never rewritten.
//! - **R2.3** tiers are *volume* tiers: the whole quantity is priced at the
//!   tier it reaches ("passage à une tranche supérieure", CG 3.1.3). Tier
//!   bounds are inclusive: with a first tier up to 1 000 GB, 1 000 GB is in the
//!   first tier and 1 000.01 GB in the second. A list is refused when moving
//!   into a higher tier would bill *less* than the tier below at its edge,
//!   because the contract presents the tier change as an increase the client
//!   accepts in advance, never as a discount cliff.
//! - **R2.2** a price change must be notified at least N days (terms:
//!   `billing.price_change_notice_days`) before it applies. Reading (the same
//!   as `maintenance` for "at least 7 days before"): the notice instant must be
//!   at or before the start of the effective day (00:00 in the terms' time
//!   zone) minus N calendar days, same wall-clock time. So a notice sent on
//!   30 January at 00:00 allows 1 March, but one sent at 09:00 that day allows
//!   2 March at the earliest. [`NoticeRule::earliest_effective_date`] tells
//!   staff the first date a notice sent now allows.
//! - **R1.5 / R2.4** an option added to a running order is priced at the list
//!   in force on the day its written request was received; setup fees at the
//!   list in force on the order date. Both are [`PriceBook::in_force_on`] of
//!   the right date; [`PriceBook::for_written_request`] converts the receipt
//!   instant to that day.

use std::collections::BTreeMap;
use std::fmt;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::item::{ChargeError, ChargeKind, Item, is_segment};

/// Why a price, a list or a quote was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("a price cannot be negative ({0} given)")]
    Negative(Decimal),
    #[error("{0:?} is not an exact decimal amount (e.g. \"12.50\")")]
    NotDecimal(String),
    #[error(
        "{0:?} is not a SKU: dot-separated segments of a-z, 0-9 and '_', at most 64 characters"
    )]
    Sku(String),
    #[error("a tiered price needs at least one tier")]
    NoTier,
    #[error("tier {index}: only the last tier is unbounded")]
    UnboundedTier { index: usize },
    #[error("the last tier must be unbounded (no up_to), so that every quantity has a price")]
    BoundedLastTier,
    #[error("tier {index}: up_to must be above the previous tier's ({previous}), {up_to} given")]
    TierOrder {
        index: usize,
        previous: Decimal,
        up_to: Decimal,
    },
    #[error("tier {index}: up_to must be above 0")]
    TierBound { index: usize },
    #[error(
        "tier {index}: moving into it at {edge} would bill {higher}, less than {lower} in the tier below (R2.3: a higher tier never bills less)"
    )]
    TierCliff {
        index: usize,
        edge: Decimal,
        lower: Decimal,
        higher: Decimal,
    },
    #[error("a quantity cannot be negative ({0} given)")]
    NegativeQuantity(Decimal),
    #[error("an amount overflowed")]
    Overflow,
    #[error("a price list needs an id")]
    ListId,
    #[error("price list {id:?} is already in the book")]
    DuplicateList { id: String },
    #[error(
        "price list {id:?} takes effect on {effective_from}, not after the latest list ({latest}): past tariffs are never rewritten"
    )]
    NotAfterLatest {
        id: String,
        effective_from: Date,
        latest: Date,
    },
    #[error(
        "price list {id:?} changes existing prices ({changed}) and needs its notice instant (R2.2)"
    )]
    NoticeMissing { id: String, changed: String },
    #[error(transparent)]
    NoticeTooLate(#[from] NoticeTooLate),
    #[error("price list {list:?} has no price for {sku}")]
    Missing { list: String, sku: Sku },
    #[error(transparent)]
    Charge(#[from] ChargeError),
    #[error("no price list is in force on {0}")]
    NoListInForce(Date),
}

/// An exact amount in euros excluding VAT, never negative: the unit price or
/// flat amount of a tier. Rounding to the cent happens once per invoice line
/// (R2.12), not here: unit prices may have more decimals (0.015 EUR per GB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Price(Decimal);

impl Price {
    pub const ZERO: Price = Price(Decimal::ZERO);

    /// A non-negative amount.
    pub fn new(d: Decimal) -> Result<Self, PriceError> {
        if d.is_sign_negative() && !d.is_zero() {
            return Err(PriceError::Negative(d));
        }
        Ok(Price(d))
    }

    /// Parses an exact decimal ("12.50"); floats never enter.
    pub fn parse(s: &str) -> Result<Self, PriceError> {
        let d =
            Decimal::from_str_exact(s.trim()).map_err(|_| PriceError::NotDecimal(s.to_string()))?;
        Price::new(d)
    }

    /// An amount of whole cents, as stored.
    pub fn from_cents(cents: u64) -> Self {
        Price(Decimal::from(cents) / Decimal::ONE_HUNDRED)
    }

    pub fn get(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Price {
    type Error = PriceError;
    fn try_from(d: Decimal) -> Result<Self, PriceError> {
        Price::new(d)
    }
}

impl From<Price> for Decimal {
    fn from(p: Price) -> Decimal {
        p.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A stock keeping unit of the price list: dot-separated segments of
/// `[a-z0-9_]`, e.g. `cloud_vm.thd_multi_site.vcpu`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(s: &str) -> Result<Self, PriceError> {
        if s.len() > 64 || !s.split('.').all(is_segment) {
            return Err(PriceError::Sku(s.to_string()));
        }
        Ok(Sku(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = PriceError;
    fn try_from(s: String) -> Result<Self, PriceError> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One tier: quantities up to `up_to` (inclusive; `None` = no upper bound)
/// cost `flat + unit_price × quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default)]
    pub up_to: Option<Decimal>,
    #[serde(default = "zero_price")]
    pub unit_price: Price,
    #[serde(default = "zero_price")]
    pub flat: Price,
}

fn zero_price() -> Price {
    Price::ZERO
}

/// A validated list of volume tiers (R2.3); see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Tier>", into = "Vec<Tier>")]
pub struct TieredPrice(Vec<Tier>);

/// The price of a quantity, with what produced it (for explanations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedQuantity {
    pub quantity: Decimal,
    /// Index of the tier reached, from 0.
    pub tier: usize,
    pub unit_price: Price,
    pub flat: Price,
    /// `flat + unit_price × quantity`, exact.
    pub amount: Decimal,
}

impl TieredPrice {
    /// Checks the tiers: at least one, bounds above 0 and strictly
    /// increasing, only the last unbounded, and no cliff at an edge.
    pub fn new(tiers: Vec<Tier>) -> Result<Self, PriceError> {
        let Some(last) = tiers.last() else {
            return Err(PriceError::NoTier);
        };
        if last.up_to.is_some() {
            return Err(PriceError::BoundedLastTier);
        }
        let mut previous: Option<(Decimal, &Tier)> = None;
        for (index, t) in tiers.iter().enumerate() {
            if let Some((edge, below)) = previous {
                let lower = below.flat.0 + below.unit_price.0 * edge;
                let higher = t.flat.0 + t.unit_price.0 * edge;
                if higher < lower {
                    return Err(PriceError::TierCliff {
                        index,
                        edge,
                        lower,
                        higher,
                    });
                }
            }
            if index + 1 == tiers.len() {
                break;
            }
            let Some(up_to) = t.up_to else {
                return Err(PriceError::UnboundedTier { index });
            };
            if up_to <= Decimal::ZERO {
                return Err(PriceError::TierBound { index });
            }
            if let Some((prev, _)) = previous
                && up_to <= prev
            {
                return Err(PriceError::TierOrder {
                    index,
                    previous: prev,
                    up_to,
                });
            }
            previous = Some((up_to, t));
        }
        Ok(TieredPrice(tiers))
    }

    /// A single unbounded tier at `unit_price` per unit.
    pub fn per_unit(unit_price: Price) -> Self {
        TieredPrice(vec![Tier {
            up_to: None,
            unit_price,
            flat: Price::ZERO,
        }])
    }

    pub fn tiers(&self) -> &[Tier] {
        &self.0
    }

    /// The price of `quantity`: the whole quantity at the tier it reaches.
    pub fn price(&self, quantity: Decimal) -> Result<PricedQuantity, PriceError> {
        if quantity.is_sign_negative() && !quantity.is_zero() {
            return Err(PriceError::NegativeQuantity(quantity));
        }
        let (tier, t) = self
            .0
            .iter()
            .enumerate()
            .find(|(_, t)| t.up_to.is_none_or(|u| quantity <= u))
            // The last tier is unbounded: `find` always succeeds.
            .ok_or(PriceError::NoTier)?;
        let amount = t
            .unit_price
            .0
            .checked_mul(quantity)
            .and_then(|v| v.checked_add(t.flat.0))
            .ok_or(PriceError::Overflow)?;
        Ok(PricedQuantity {
            quantity,
            tier,
            unit_price: t.unit_price,
            flat: t.flat,
            amount,
        })
    }
}

impl TryFrom<Vec<Tier>> for TieredPrice {
    type Error = PriceError;
    fn try_from(t: Vec<Tier>) -> Result<Self, PriceError> {
        TieredPrice::new(t)
    }
}

impl From<TieredPrice> for Vec<Tier> {
    fn from(t: TieredPrice) -> Self {
        t.0
    }
}

/// One version of the tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "PriceListInput")]
pub struct PriceList {
    id: String,
    effective_from: Date,
    prices: BTreeMap<Sku, TieredPrice>,
}

/// The fields of a price list as stored; reading goes through [`PriceList::new`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceListInput {
    id: String,
    effective_from: Date,
    prices: BTreeMap<Sku, TieredPrice>,
}

impl TryFrom<PriceListInput> for PriceList {
    type Error = PriceError;
    fn try_from(i: PriceListInput) -> Result<Self, PriceError> {
        PriceList::new(&i.id, i.effective_from, i.prices)
    }
}

/// One priced charge of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotedCharge {
    pub sku: Sku,
    pub kind: ChargeKind,
    pub priced: PricedQuantity,
    /// Number of identical units on the line.
    pub line_quantity: u32,
    /// `priced.amount × line_quantity`, exact (rounded per invoice line later).
    pub amount: Decimal,
}

/// The price of one order line under one list, with its components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineQuote {
    pub price_list: String,
    pub charges: Vec<QuotedCharge>,
    /// Sum of the recurring charges: the monthly fee, billed in advance.
    pub monthly: Decimal,
    /// Sum of the one-time charges (setup fees, hour books), billed at provisioning.
    pub one_time: Decimal,
}

impl PriceList {
    pub fn new(
        id: &str,
        effective_from: Date,
        prices: BTreeMap<Sku, TieredPrice>,
    ) -> Result<Self, PriceError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(PriceError::ListId);
        }
        Ok(PriceList {
            id: id.to_string(),
            effective_from,
            prices,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn effective_from(&self) -> Date {
        self.effective_from
    }

    pub fn get(&self, sku: &Sku) -> Option<&TieredPrice> {
        self.prices.get(sku)
    }

    pub fn prices(&self) -> &BTreeMap<Sku, TieredPrice> {
        &self.prices
    }

    /// The SKUs of `previous` whose price this list changes or removes: what
    /// running orders would see change, hence what needs notice (R2.2). New
    /// SKUs are not changes: nobody subscribes to them yet.
    pub fn changes_from(&self, previous: &PriceList) -> Vec<Sku> {
        previous
            .prices
            .iter()
            .filter(|(sku, p)| self.prices.get(*sku) != Some(*p))
            .map(|(sku, _)| sku.clone())
            .collect()
    }

    /// Prices `line_quantity` units of `item` (tiers apply to one unit's
    /// quantities, e.g. the storage of one backup).
    pub fn quote(&self, item: &Item, line_quantity: u32) -> Result<LineQuote, PriceError> {
        let mut charges = Vec::new();
        let (mut monthly, mut one_time) = (Decimal::ZERO, Decimal::ZERO);
        for c in item.charges()? {
            let price = self.prices.get(&c.sku).ok_or_else(|| PriceError::Missing {
                list: self.id.clone(),
                sku: c.sku.clone(),
            })?;
            let priced = price.price(c.quantity)?;
            let amount = priced
                .amount
                .checked_mul(Decimal::from(line_quantity))
                .ok_or(PriceError::Overflow)?;
            let total = match c.kind {
                ChargeKind::Recurring => &mut monthly,
                ChargeKind::OneTime => &mut one_time,
            };
            *total = total.checked_add(amount).ok_or(PriceError::Overflow)?;
            charges.push(QuotedCharge {
                sku: c.sku,
                kind: c.kind,
                priced,
                line_quantity,
                amount,
            });
        }
        Ok(LineQuote {
            price_list: self.id.clone(),
            charges,
            monthly,
            one_time,
        })
    }
}

/// A price change notified too late (R2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "R2.2 (CG 3.1.1): a price change notified at {notified_at} can take effect on {earliest} at the earliest ({days} days' notice), not on {effective_from}"
)]
pub struct NoticeTooLate {
    pub notified_at: Timestamp,
    pub effective_from: Date,
    pub earliest: Date,
    pub days: u32,
}

/// The price-change notice rule (R2.2), from the terms.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRule {
    /// `billing.price_change_notice_days`.
    pub days: u32,
    /// The zone of effective dates (`version.timezone`, Europe/Paris).
    pub tz: TimeZone,
}

impl NoticeRule {
    /// Reads the notice delay and time zone of a terms version.
    pub fn from_terms(terms: &ciel_terms::Terms) -> Result<Self, jiff::Error> {
        Ok(NoticeRule {
            days: terms.billing.price_change_notice_days.value,
            tz: TimeZone::get(&terms.version.timezone)?,
        })
    }

    /// The first effective date a notice sent at `notified_at` allows: the
    /// first day whose start, minus `days` calendar days, is not before the
    /// notice.
    pub fn earliest_effective_date(&self, notified_at: Timestamp) -> Date {
        let z = notified_at.to_zoned(self.tz.clone());
        let Ok(later) = z.checked_add(jiff::Span::new().days(i64::from(self.days))) else {
            return Date::MAX;
        };
        let day = later.date();
        match day.to_zoned(self.tz.clone()) {
            Ok(start) if later.timestamp() <= start.timestamp() => day,
            _ => day.tomorrow().unwrap_or(Date::MAX),
        }
    }

    /// Checks that a change effective on `effective_from` was notified in time.
    pub fn check(&self, notified_at: Timestamp, effective_from: Date) -> Result<(), NoticeTooLate> {
        let earliest = self.earliest_effective_date(notified_at);
        if effective_from >= earliest {
            Ok(())
        } else {
            Err(NoticeTooLate {
                notified_at,
                effective_from,
                earliest,
                days: self.days,
            })
        }
    }
}

/// The history of price lists, oldest first.
///
/// Stored as the list of its price lists; reading it back checks that it is
/// non-empty, with unique ids and strictly increasing effective dates (the
/// notices were checked when each list was published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<PriceList>", into = "Vec<PriceList>")]
pub struct PriceBook {
    lists: Vec<PriceList>,
}

/// Why a stored price book cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceBookError {
    #[error("a price book holds at least one price list")]
    Empty,
    #[error("price lists {previous:?} and {next:?} are not in strictly increasing effective dates")]
    Order { previous: String, next: String },
    #[error("price list {0:?} appears twice")]
    Duplicate(String),
}

impl TryFrom<Vec<PriceList>> for PriceBook {
    type Error = PriceBookError;
    fn try_from(lists: Vec<PriceList>) -> Result<Self, PriceBookError> {
        if lists.is_empty() {
            return Err(PriceBookError::Empty);
        }
        for (i, pair) in lists.windows(2).enumerate() {
            if pair[1].effective_from <= pair[0].effective_from {
                return Err(PriceBookError::Order {
                    previous: pair[0].id.clone(),
                    next: pair[1].id.clone(),
                });
            }
            if lists[..=i].iter().any(|l| l.id == pair[1].id) {
                return Err(PriceBookError::Duplicate(pair[1].id.clone()));
            }
        }
        Ok(PriceBook { lists })
    }
}

impl From<PriceBook> for Vec<PriceList> {
    fn from(b: PriceBook) -> Self {
        b.lists
    }
}

impl PriceBook {
    /// A book starting with its first list (no notice: nobody had a price).
    pub fn new(first: PriceList) -> Self {
        PriceBook { lists: vec![first] }
    }

    /// Appends a list taking effect after the latest one. When it changes
    /// or removes a price of the list in force before it, the change must
    /// have been notified in time (R2.2); a list that only adds SKUs needs no
    /// notice.
    pub fn publish(
        &mut self,
        list: PriceList,
        notified_at: Option<Timestamp>,
        rule: &NoticeRule,
    ) -> Result<(), PriceError> {
        if self.lists.iter().any(|l| l.id == list.id) {
            return Err(PriceError::DuplicateList { id: list.id });
        }
        // The book is never empty: `new` takes the first list.
        let Some(latest) = self.lists.last() else {
            self.lists.push(list);
            return Ok(());
        };
        if list.effective_from <= latest.effective_from {
            return Err(PriceError::NotAfterLatest {
                id: list.id.clone(),
                effective_from: list.effective_from,
                latest: latest.effective_from,
            });
        }
        let changed = list.changes_from(latest);
        if !changed.is_empty() {
            let Some(at) = notified_at else {
                return Err(PriceError::NoticeMissing {
                    id: list.id.clone(),
                    changed: changed
                        .iter()
                        .map(Sku::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            rule.check(at, list.effective_from)?;
        }
        self.lists.push(list);
        Ok(())
    }

    /// The list in force on a date: the latest effective on or before it.
    pub fn in_force_on(&self, date: Date) -> Option<&PriceList> {
        self.lists.iter().rev().find(|l| l.effective_from <= date)
    }

    /// R1.5 (CG 2.5): the list pricing an option added to a running order,
    /// that of the day (in `tz`) the written request was received.
    pub fn for_written_request(&self, received_at: Timestamp, tz: &TimeZone) -> Option<&PriceList> {
        self.in_force_on(received_at.to_zoned(tz.clone()).date())
    }

    /// Quotes a line at the list in force on `date` (the order date for a new
    /// order and its setup fees, R2.4; the receipt date for an option, R1.5).
    pub fn quote_on(
        &self,
        date: Date,
        item: &Item,
        line_quantity: u32,
    ) -> Result<LineQuote, PriceError> {
        self.in_force_on(date)
            .ok_or(PriceError::NoListInForce(date))?
            .quote(item, line_quantity)
    }

    pub fn lists(&self) -> &[PriceList] {
        &self.lists
    }
}
