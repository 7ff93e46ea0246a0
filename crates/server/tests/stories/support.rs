//! The test harness: a real ciel server on a free loopback port, on a fresh
//! SQLite file or a fresh PostgreSQL database, with a manual clock and a real
//! SMTP sink.

use super::smtp::{Sink, decode_qp};
use ciel_domain::ManualClock;
use ciel_server::config::{Config, MailTransport};
use ciel_server::serve::{self, Running};
use jiff::{SignedDuration, Timestamp};
use reqwest::redirect::Policy;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

/// Which database a story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const START: &str = "2026-05-07T15:30:00Z";

pub struct TestApp {
    pub running: Option<Running>,
    config: Config,
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub sink: Sink,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

/// The administrative URL of the test PostgreSQL, if configured.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("CIEL_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

async fn fresh_pg_database(admin: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("ciel_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to CIEL_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin).unwrap();
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("ciel.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = pg_admin_url().expect("CIEL_TEST_DATABASE_URL");
                let (url, name) = fresh_pg_database(&admin).await;
                (url, Some((admin, name)))
            }
        };
        let (sink, port) = Sink::start().await;
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.database.url = SecretString::from(url);
        config.database.max_connections = 4;
        config.mail.transport = MailTransport::Smtp;
        config.mail.smtp.port = port;
        config.mail.smtp.tls = ciel_mail::TlsMode::None;
        config.mail.from = "ciel <noreply@ciel.test>".into();
        config.jobs.workers = 1;
        config.jobs.poll_interval_ms = 20;
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
        let running = serve::start(config.clone(), clock.clone())
            .await
            .expect("server starts");
        ciel_server::bootstrap::load_demo(&running.state)
            .await
            .expect("demo data");
        let base = format!("http://{}", running.addr);
        TestApp {
            running: Some(running),
            config,
            base,
            clock,
            sink,
            _dir: dir,
            pg,
        }
    }

    /// Another ciel process on the same database and SMTP sink, with
    /// `workers` job workers (a second `ciel serve` of a deployment).
    pub async fn another_server(&self, workers: usize) -> Running {
        let mut config = self.config.clone();
        config.jobs.workers = workers;
        serve::start(config, self.clock.clone())
            .await
            .expect("second server starts")
    }

    pub fn state(&self) -> &ciel_server::AppState {
        &self.running.as_ref().unwrap().state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn advance(&self, by: SignedDuration) {
        self.clock.advance(by);
    }

    pub fn now(&self) -> Timestamp {
        use ciel_domain::Clock;
        self.clock.now()
    }

    /// A browser-like client: cookies kept, redirects not followed.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Logs in through the portal's form; returns the client and the
    /// session's CSRF token.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let s = self.try_login(email, password).await;
        assert_eq!(s.status, 303, "login of {email} failed");
        s
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Session {
        Session::open(&self.base, email, password).await
    }

    /// Waits (bounded) until `n` messages reached `to`; returns the last one,
    /// decoded.
    pub async fn mail(&self, to: &str, n: usize) -> String {
        for _ in 0..250 {
            let got = self.sink.to(to);
            if got.len() >= n {
                return decode_qp(&got[n - 1].data);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "no mail #{n} for {to} within 5 s; got {:?}",
            self.sink.to(to).len()
        );
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
        if let Some((admin, name)) = self.pg.take() {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// A logged-in browser.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub status: u16,
    base: String,
}

impl Session {
    /// Logs in through the login form of the server at `base`, as a browser
    /// does (the form's CSRF token, then the session's from a page).
    pub async fn open(base: &str, email: &str, password: &str) -> Session {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let page = c
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "_csrf");
        let form = [
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ];
        let res = c
            .post(format!("{base}/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let mut csrf = String::new();
        if status == 303 {
            let page = c
                .get(format!("{base}/account"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            csrf = hidden(&page, "_csrf");
        }
        Session {
            client: c,
            csrf,
            status,
            base: base.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A JSON API call with the session's CSRF header.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Submits a portal form with the session's CSRF token.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    page.split(&marker)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The first link of a mail that contains `path`.
pub fn link(mail: &str, path: &str) -> String {
    mail.split_whitespace()
        .find(|w| w.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in {mail}"))
        .to_owned()
}

pub const DEMO_PASSWORD: &str = ciel_server::bootstrap::DEMO_PASSWORD;
pub const STAFF_ADMIN: &str = "claire.morel@bytel-cloud.example";
pub const STAFF_SUPPORT: &str = "hugo.lefevre@bytel-cloud.example";
pub const ADMIN_A: &str = "jeanne.martin@atelier-numerique.example";
pub const USER_A: &str = "paul.durand@atelier-numerique.example";
pub const ADMIN_B: &str = "sophie.laurent@transports-garonne.example";

/// The organisation of the session's user.
pub async fn org_of(s: &Session) -> String {
    s.get_json("/api/v1/me").await.1["org_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A JSON POST with the session's CSRF header.
pub async fn post(
    s: &Session,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    s.api(reqwest::Method::POST, path, body).await
}

/// Waits (bounded) for a mail to `to` whose text contains `needle`.
pub async fn mail_with(app: &TestApp, to: &str, needle: &str) -> String {
    for _ in 0..250 {
        if let Some(m) = app
            .sink
            .to(to)
            .iter()
            .map(|m| crate::smtp::decode_qp(&m.data))
            .find(|m| m.contains(needle))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no mail to {to} containing {needle:?} within 5 s");
}

/// Takes a drafted order through sending (staff), acceptance (the client's
/// Administrator) and validation (staff), each answering 200.
pub async fn send_accept_validate(staff: &Session, admin: &Session, id: &str) {
    for (who, step) in [(staff, "send"), (admin, "accept"), (staff, "validate")] {
        let (status, o) = post(who, &format!("/api/v1/orders/{id}/{step}"), None).await;
        assert_eq!(status, 200, "{step}: {o}");
    }
}
