//! The application state shared by handlers and jobs.

use crate::config::Config;
use ciel_domain::Clock;
use ciel_store::Store;
use jiff::Timestamp;
use std::sync::{Arc, RwLock};

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
    /// The terms versions known to this process (R1.2): the embedded one
    /// plus those published in the database, loaded at start
    /// (`terms_versions::load`) and added when published. Readers take a
    /// snapshot; a publication swaps in a new registry.
    terms: RwLock<Arc<ciel_terms::Registry>>,
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
                terms: RwLock::new(Arc::new(ciel_terms::Registry::with_embedded())),
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

    /// A snapshot of the terms versions known to this process (R1.2).
    pub fn terms(&self) -> Arc<ciel_terms::Registry> {
        match self.inner.terms.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the registry (after loading or publishing a version).
    pub fn set_terms(&self, registry: ciel_terms::Registry) {
        let mut w = match self.inner.terms.write() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        *w = Arc::new(registry);
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
