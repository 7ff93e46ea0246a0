//! Starting and stopping a ciel process: storage, migrations, the HTTP
//! server and the job workers, with a graceful shutdown.

use crate::config::Config;
use crate::state::AppState;
use ciel_domain::Clock;
use ciel_mail::Mailer;
use ciel_store::Store;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running ciel process.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
}

/// Connects to the database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database.url.expose_secret();
    let store = Store::connect(url, config.database.max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("database {}: {e}", crate::config::redact_url(url)))?;
    store.migrate().await?;
    Ok(store)
}

/// Starts the server on `config.server.listen` (port 0 picks a free port)
/// and the configured number of job workers.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let store = open_store(&config).await?;
    start_with_store(config, clock, store).await
}

/// Like [`start`], on an already opened store.
pub async fn start_with_store(
    mut config: Config,
    clock: Arc<dyn Clock>,
    store: Store,
) -> anyhow::Result<Running> {
    let mailer = Arc::new(
        Mailer::new(&config.mail.transport_settings(), &config.mail.from)
            .map_err(anyhow::Error::msg)?,
    );
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("server.listen {}: {e}", config.server.listen))?;
    let addr = listener.local_addr()?;
    // Links in e-mails must reach this process: with the default public URL
    // and another listening address, the listening address is the public one.
    if config.server.public_url == crate::config::ServerConfig::default().public_url
        && addr != crate::config::ServerConfig::default().listen
    {
        config.server.public_url = format!("http://{addr}");
    }
    config.accounting.accounts().map_err(anyhow::Error::msg)?;
    let workers_n = config.jobs.workers;
    let state = AppState::new(store, config, clock);
    crate::bootstrap::ensure_provider(&state).await?;
    crate::terms_versions::load(&state).await.map_err(|p| {
        anyhow::anyhow!("loading the terms versions: {}", p.detail.unwrap_or(p.code))
    })?;
    crate::jobs::schedule_housekeeping(&state).await?;
    crate::services::schedule_passes(&state).await?;
    crate::sla::statements::schedule_runs(&state).await?;
    crate::dunning::schedule_passes(&state).await?;
    crate::usage::close::schedule_runs(&state).await?;
    crate::colo::pass::schedule_passes(&state).await?;
    crate::backup::reminders::schedule_passes(&state).await?;
    let (shutdown, rx) = watch::channel(false);
    let app = crate::app::build(state.clone());
    let mut server_rx = rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    let host = hostname();
    let workers = (0..workers_n)
        .map(|i| {
            let runner = crate::jobs::Runner::new(
                state.clone(),
                mailer.clone(),
                format!("{host}:{}:{i}", std::process::id()),
            );
            tokio::spawn(runner.run(rx.clone()))
        })
        .collect();
    Ok(Running {
        addr,
        state,
        shutdown,
        server,
        workers,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "ciel".into())
}

impl Running {
    /// Stops accepting requests, lets running requests and jobs finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        self.server.await??;
        self.state.store().close().await;
        Ok(())
    }
}
