//! The vocabulary of ciel: identifiers, e-mail addresses, roles, permissions,
//! languages and the injected clock.
//!
//! Invariant: this crate does no I/O and never reads the wall clock. Values are
//! built through `parse` constructors, so a value that exists is valid.

pub mod access;
pub mod clock;
pub mod company;
pub mod email;
pub mod id;
pub mod identity;
pub mod lang;
pub mod password;

pub use access::{Permission, Permissions, StaffRole};
pub use clock::{Clock, ManualClock};
pub use email::Email;
pub use id::Id;
pub use lang::Lang;
