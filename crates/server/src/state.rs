//! The application state shared by handlers and jobs.

use crate::config::Config;
use ciel_domain::Clock;
use ciel_store::Store;
use jiff::Timestamp;
use std::sync::Arc;

/// Cheap to clone; everything a request or a job needs.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    clock: Arc<dyn Clock>,
    mail_domain: String,
}

impl AppState {
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>) -> AppState {
        let mail_domain = config.mail.domain();
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                clock,
                mail_domain,
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The injected clock's now.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Domain of the Message-IDs of outgoing mail.
    pub fn mail_domain(&self) -> &str {
        &self.inner.mail_domain
    }

    /// An absolute link to a portal path (for e-mails).
    pub fn link(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.inner.config.server.public_url.trim_end_matches('/'),
            path
        )
    }
}
