//! The commercial vocabulary of ciel: what the provider sells, at what price,
//! under which option rules, and how an order moves from draft to validated.
//!
//! - [`item`]: the offers of the contract as typed catalogue items with their
//!   parameters (cloud VMs and their availability class, PRA machines,
//!   colocation, dedicated servers, backups, Cloud Connect, support levels,
//!   managed services, hour books) and the charges each one generates.
//! - [`price`]: versioned price lists with effective dates and tiered prices
//!   (R2.3), the price-change notice check (R2.2) and the tariff applicable on
//!   a date (R1.5, R2.4).
//! - [`rules`]: the option rules over an order's lines (R9.2, R9.4, R9.7,
//!   R10.1, R12.1 and the catalogue's parameter checks), each violation citing
//!   its rule and clause.
//! - [`order`]: the order state machine of R1.3-R1.4 as a pure function of
//!   (state, event, now).
//!
//! Invariants: no I/O, no clock (every instant is passed in), money is
//! `rust_decimal::Decimal` euros excluding VAT, never a float; the contract's
//! limits (6 months, 30 days...) come from [`ciel_terms::Terms`], never from
//! constants here, so a new terms version changes them without code.

pub mod governance;
pub mod item;
pub mod order;
pub mod price;
pub mod rules;
pub mod service;

pub use item::{
    AvailabilityClass, Charge, ChargeKind, CloudConnect, CloudVm, Colocation,
    DEDICATED_SERVER_SKU_PATTERN, DedicatedServer, ExternalBackup, Item, ItemKind, M365Backup,
    ManagedLevel, PraMachine, catalogue_skus,
};
pub use item::{CalendarDuration, ChargeError, DurationError};
pub use order::{Acceptance, OrderEvent, OrderParams, OrderState, TransitionError, apply};
pub use price::{
    LineQuote, NoticeRule, NoticeTooLate, Price, PriceBook, PriceBookError, PriceError, PriceList,
    PricedQuantity, QuotedCharge, Sku, Tier, TieredPrice,
};
pub use rules::{
    OptionRules, OrderKind, OrderLine, SpecialConditions, Violation, ViolationKind, validate,
};
