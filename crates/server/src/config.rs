//! Configuration: defaults, then a TOML file, then `CIEL_SECTION__KEY`
//! variables, then command-line flags (loaded by the binary). Unknown keys are
//! rejected; secrets are wrapped so that `Debug` never prints them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub mail: MailConfig,
    pub security: SecurityConfig,
    pub jobs: JobsConfig,
    pub log: LogConfig,
    pub desk: DeskConfig,
    pub seller: SellerConfig,
    pub accounting: AccountingConfig,
}

/// The chart of accounts the FEC export books into (issue 6, item 8): the
/// provider's own, so every number is configurable; the defaults follow the
/// French plan comptable général.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountingConfig {
    pub sales_journal: String,
    pub bank_journal: String,
    /// Trade receivables.
    pub customers: String,
    /// Prefix of each client's auxiliary account.
    pub customer_aux_prefix: String,
    pub bank: String,
    /// Revenue of an offer without its own account.
    pub revenue: String,
    /// Revenue per offer code (`cloud_vm`, `colocation`, `pra`...).
    pub revenue_by_offer: std::collections::BTreeMap<String, String>,
    /// Collected VAT of a rate without its own account.
    pub vat: String,
    /// Collected VAT per rate ("20", "5.5").
    pub vat_by_rate: std::collections::BTreeMap<String, String>,
}

impl Default for AccountingConfig {
    fn default() -> Self {
        AccountingConfig {
            sales_journal: "VE".into(),
            bank_journal: "BQ".into(),
            customers: "411000".into(),
            customer_aux_prefix: "C".into(),
            bank: "512000".into(),
            revenue: "706000".into(),
            revenue_by_offer: Default::default(),
            vat: "445710".into(),
            vat_by_rate: Default::default(),
        }
    }
}

impl AccountingConfig {
    /// The accounts as the journal uses them; refuses a number that does not
    /// start with the three digits of the French chart (the FEC's rule), so
    /// a typo is caught at start rather than in a tax audit.
    pub fn accounts(&self) -> Result<ciel_documents::journal::Accounts, String> {
        use ciel_documents::journal::{Account, Accounts, Journal};
        let check = |key: &str, number: &str| {
            if number.len() >= 3 && number.chars().take(3).all(|c| c.is_ascii_digit()) {
                Ok(())
            } else {
                Err(format!(
                    "[accounting] {key} = {number:?}: an account number starts with three digits"
                ))
            }
        };
        check("customers", &self.customers)?;
        check("bank", &self.bank)?;
        check("revenue", &self.revenue)?;
        check("vat", &self.vat)?;
        let mut revenue_by_offer = std::collections::BTreeMap::new();
        for (offer, number) in &self.revenue_by_offer {
            check(&format!("revenue_by_offer.{offer}"), number)?;
            let label = format!("Prestations de services ({offer})");
            revenue_by_offer.insert(offer.clone(), Account::new(number, &label));
        }
        let mut vat_by_rate = std::collections::BTreeMap::new();
        for (rate, number) in &self.vat_by_rate {
            check(&format!("vat_by_rate.{rate}"), number)?;
            let key = rate
                .parse::<rust_decimal::Decimal>()
                .map_err(|_| format!("[accounting] vat_by_rate: {rate:?} is not a rate"))?
                .normalize()
                .to_string();
            let label = format!("TVA collectée {rate} %");
            vat_by_rate.insert(key, Account::new(number, &label));
        }
        let journal = |code: &str, label: &str| Journal {
            code: code.to_owned(),
            label: label.to_owned(),
        };
        Ok(Accounts {
            sales_journal: journal(&self.sales_journal, "Ventes"),
            bank_journal: journal(&self.bank_journal, "Banque"),
            customers: Account::new(&self.customers, "Clients"),
            customer_aux_prefix: self.customer_aux_prefix.clone(),
            bank: Account::new(&self.bank, "Banque"),
            revenue: Account::new(&self.revenue, "Prestations de services"),
            revenue_by_offer,
            vat: Account::new(&self.vat, "TVA collectée"),
            vat_by_rate,
        })
    }
}

/// The provider as it appears on invoices and direct-debit files (R2.7):
/// legal identity, address, SEPA creditor identifier (ICS) and the account
/// collections are paid into. Not contract terms: facts about the company.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SellerConfig {
    pub name: String,
    /// Legal form and share capital, a mandatory French mention ("SAS au
    /// capital de 100 000 EUR").
    pub legal_form: String,
    /// Trade register, e.g. "RCS Paris".
    pub registry: String,
    pub siren: String,
    pub vat_number: String,
    pub street_name: String,
    pub building_number: Option<String>,
    pub post_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Where invoices say questions go.
    pub billing_email: String,
    /// SEPA creditor identifier (ICS).
    pub creditor_id: String,
    /// The account direct debits are collected into.
    pub iban: String,
    pub bic: Option<String>,
}

impl Default for SellerConfig {
    /// A fictitious but valid identity (checksums hold), for demos and tests.
    fn default() -> Self {
        SellerConfig {
            name: "Ciel Hébergement SAS".into(),
            legal_form: "SAS au capital de 100 000 EUR".into(),
            registry: "RCS Paris".into(),
            siren: "732829320".into(),
            vat_number: "FR44732829320".into(),
            street_name: "rue de la Paix".into(),
            building_number: Some("12".into()),
            post_code: "75002".into(),
            town: "Paris".into(),
            country: "FR".into(),
            billing_email: "facturation@ciel.example".into(),
            creditor_id: "FR12ZZZ123456".into(),
            iban: "FR7630006000011234567890189".into(),
            bic: Some("AGRIFRPP".into()),
        }
    }
}

/// The support desk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskConfig {
    /// Share (%) of a GTI/GTR's business time after which support staff are
    /// alerted (not a contract term: the contract sets only the deadlines).
    pub alert_share_percent: u32,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            alert_share_percent: ciel_engine::desk::DEFAULT_ALERT_SHARE_PERCENT,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Public base URL, used in links sent by e-mail. An `https` URL also
    /// turns on `Secure` cookies and HSTS.
    pub public_url: String,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl ServerConfig {
    /// Whether the service is reached through TLS.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://ciel.db` (default, created if missing) or `postgres://...`.
    /// May hold a password: never printed.
    pub url: SecretString,
    /// Connections in the pool.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: SecretString::from("sqlite://ciel.db"),
            max_connections: 8,
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// A database URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("REDACTED"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Mail delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp` or `file`.
    pub transport: MailTransport,
    /// Sender of every message.
    pub from: String,
    /// Folder of `.eml` files for the `file` transport.
    pub file_dir: PathBuf,
    pub smtp: SmtpConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Smtp,
    File,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransport::File,
            from: "ciel <noreply@ciel.localhost>".into(),
            file_dir: PathBuf::from("outbox"),
            smtp: SmtpConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: ciel_mail::TlsMode,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            tls: ciel_mail::TlsMode::Starttls,
            username: None,
            password: None,
            timeout_secs: 10,
        }
    }
}

impl MailConfig {
    /// The transport settings of the mail crate.
    pub fn transport_settings(&self) -> ciel_mail::TransportSettings {
        match self.transport {
            MailTransport::File => ciel_mail::TransportSettings::File(self.file_dir.clone()),
            MailTransport::Smtp => ciel_mail::TransportSettings::Smtp(ciel_mail::SmtpSettings {
                host: self.smtp.host.clone(),
                port: self.smtp.port,
                tls: self.smtp.tls,
                username: self.smtp.username.clone(),
                password: self.smtp.password.clone(),
                timeout: std::time::Duration::from_secs(self.smtp.timeout_secs),
            }),
        }
    }

    /// Domain of generated Message-IDs: the sender's domain.
    pub fn domain(&self) -> String {
        let addr = self.from.rsplit('<').next().unwrap_or(&self.from);
        addr.rsplit('@')
            .next()
            .unwrap_or("ciel.localhost")
            .trim_end_matches('>')
            .to_owned()
    }
}

/// Sessions, links and throttling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Idle lifetime of a session (sliding).
    pub session_ttl_minutes: i64,
    /// Lifetime of an invitation link.
    pub invitation_ttl_hours: i64,
    /// Lifetime of a password-reset link.
    pub reset_ttl_minutes: i64,
    /// Failed logins per account within the window before it is throttled.
    pub max_failures_per_account: i64,
    /// Failed logins or reset requests per client address within the window.
    pub max_failures_per_address: i64,
    /// Sliding window of the throttling, in minutes.
    pub throttle_window_minutes: i64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            session_ttl_minutes: 8 * 60,
            invitation_ttl_hours: 7 * 24,
            reset_ttl_minutes: 60,
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            throttle_window_minutes: 15,
        }
    }
}

/// The job runner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Concurrent workers in this process (0: this process runs no job).
    pub workers: usize,
    /// Idle polling interval.
    pub poll_interval_ms: u64,
    /// How long a claimed job is reserved before another worker may retry it.
    pub lease_seconds: i64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 2,
            poll_interval_ms: 500,
            lease_seconds: 300,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `ciel_server=debug,info`; sqlx's
    /// notices are quiet by default.
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info,sqlx=warn".into(),
        }
    }
}

/// The documented configuration file printed by `ciel default-config`; a
/// test checks that it parses to [`Config::default`].
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../ciel.default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounting_numbers_must_start_with_three_digits_and_rates_are_normalised() {
        let mut c = AccountingConfig::default();
        c.vat_by_rate.insert("20.0".into(), "445711".into());
        c.revenue_by_offer
            .insert("colocation".into(), "706300".into());
        let accounts = c.accounts().expect("valid");
        assert_eq!(accounts.vat_by_rate["20"].number, "445711");
        assert_eq!(accounts.revenue_by_offer["colocation"].number, "706300");
        c.bank = "BQ512".into();
        let err = c.accounts().unwrap_err();
        assert!(err.contains("[accounting] bank"), "{err}");
    }
}
