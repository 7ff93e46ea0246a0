//! ciel's HTTP shell around the pure core: the JSON API (`/api/v1`, with its
//! OpenAPI document), the portal (client space and back office), the
//! authentication and tenancy guard, the job runner and the mail outbox.
//!
//! Only this crate knows HTTP. It reads the wall clock in one place
//! ([`clock::SystemClock`]); everything else receives an injected clock.

pub mod accounting;
pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod bootstrap;
pub mod clients;
pub mod clock;
pub mod colo;
pub mod config;
pub mod datacenters;
pub mod disputes;
pub mod dunning;
pub mod episodes;
pub mod hour_books;
pub mod i18n;
pub mod jobs;
pub mod maintenance;
pub mod operations;
pub mod orders;
pub mod password;
pub mod payments;
pub mod portal;
pub mod pra;
pub mod pra_ops;
pub mod problem;
pub mod sepa_batches;
pub mod serve;
pub mod services;
pub mod sla;
pub mod sla_page;
pub mod state;
pub mod terms_versions;
pub mod tickets;
pub mod usage;

pub use config::Config;
pub use state::AppState;
