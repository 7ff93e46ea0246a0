//! `ciel`: the one binary. Subcommands run the server, the migrations, the
//! demo data, account bootstrap and the contract tools. This file only parses
//! the command line, loads the configuration and calls the library crates.

mod backup_cmds;
mod billing_cmds;
mod colo_cmds;
mod config;
mod contract_cmds;
mod desk_cmds;
mod service_cmds;
mod sla_cmds;
mod usage_cmds;

use ciel_domain::StaffRole;
use ciel_server::clock::SystemClock;
use ciel_server::config::LogFormat;
use ciel_server::{AppState, Config, bootstrap, serve};
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

/// ciel — operations and billing platform of a cloud and hosting provider.
///
/// Configuration comes from defaults, then --config FILE, then CIEL_SECTION__KEY
/// environment variables (e.g. CIEL_DATABASE__URL), then these flags.
#[derive(Debug, Parser)]
#[command(name = "ciel", version, propagate_version = true)]
struct Cli {
    /// TOML configuration file (see `ciel default-config`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://FILE (default sqlite://ciel.db) or postgres://...
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web portal, the API and the job workers.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Load the demo data (provider, three client companies, staff) and
        /// print the demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the pending database migrations and exit.
    Migrate,
    /// Load the demo data into the database and print the demo logins.
    Demo,
    /// Print the documented default configuration file.
    DefaultConfig,
    /// Manage accounts from the shell.
    #[command(subcommand)]
    User(UserCmd),
    /// Services: the daily pass.
    #[command(subcommand)]
    Services(ServicesCmd),
    /// Usage readings: import a CSV file, close a month (R2.8-R2.10, R3.5, R11.5).
    #[command(subcommand)]
    Usage(UsageCmd),
    /// Benchmarks of the issues' targets (figures in BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// The terms documents (contract as code): list, show, validate, diff.
    #[command(subcommand)]
    Terms(contract_cmds::TermsCmd),
    /// SLA statements: recompute one from its evidence file; compute a month's.
    #[command(subcommand)]
    Sla(contract_cmds::SlaCmd),
    /// Billing: the monthly run.
    #[command(subcommand)]
    Billing(BillingCmd),
    /// Support desk calculators (ticket deadlines).
    #[command(subcommand)]
    Support(contract_cmds::SupportCmd),
    /// Contract calculators (early termination, notice, late interest).
    #[command(subcommand)]
    Calc(contract_cmds::CalcCmd),
}

#[derive(Debug, Subcommand)]
enum ServicesCmd {
    /// Apply the time-driven steps due now (end of contest windows,
    /// renewals, ends of service, securing and product-return deadlines):
    /// the daily pass the job queue runs at midnight, on demand. Idempotent.
    Pass,
}

#[derive(Debug, Subcommand)]
enum BillingCmd {
    /// Write the invoices of a month (dated its 1st, R2.4), one per client,
    /// with their Factur-X PDFs and e-mails. Resumable: running it again
    /// continues the same run, or retries its failed clients once done.
    Run {
        /// The month, `YYYY-MM`; its invoice date must not be in the future.
        #[arg(long)]
        period: String,
    },
    /// Write the FEC (Fichier des Écritures Comptables) of a period: the
    /// sales and bank journals, booked into `[accounting]`'s accounts.
    Fec {
        /// First day, `YYYY-MM-DD`.
        #[arg(long)]
        from: String,
        /// Last day, `YYYY-MM-DD`.
        #[arg(long)]
        to: String,
        /// Folder to write `<SIREN>FEC<AAAAMMJJ>.txt` into.
        #[arg(long, default_value = ".")]
        output: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Seed services, time the daily pass over all of them and the list of
    /// one client's services (issue 4's targets). Uses a temporary SQLite
    /// database unless --database-url is given.
    Services {
        /// Services to seed.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Services of the client whose list is timed.
        #[arg(long, default_value_t = 200)]
        list_size: usize,
    },
    /// Seed services with a month of episodes and time the monthly
    /// statement job (issue 5's target). Temporary SQLite database unless
    /// --database-url is given.
    Statements {
        /// Services to seed.
        #[arg(long, default_value_t = 50_000)]
        services: usize,
    },
    /// Open tickets through the API of a server on loopback, then time the
    /// back-office queue page over HTTP (issue 5's target: 10 000 open
    /// tickets, under 50 ms). Temporary SQLite unless --database-url.
    Tickets {
        /// Open tickets to seed.
        #[arg(long, default_value_t = 10_000)]
        open: usize,
        /// Timed requests per page.
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Seed clients with profiles, mandates, 5 services and a charge each,
    /// then time the billing run of a month with its PDFs (issue 6's
    /// target: 10 000 clients under 60 s). Temporary SQLite unless
    /// --database-url.
    Billing {
        /// Clients to seed.
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
    },
    /// Push episodes in bulk over HTTP to a server on loopback and report
    /// episodes/s (issue 5's target: 50 000/s on SQLite).
    Episodes {
        /// Episodes to push.
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        /// Episodes a bulk request (at most 10 000).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
    },
    /// Push backup job results in bulk over HTTP to a server on loopback
    /// and report results/s (issue 7's target: 20 000/s on SQLite).
    BackupResults {
        /// Results to push.
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        /// Results a bulk request (at most 100 000).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Backup services the results are spread over.
        #[arg(long, default_value_t = 100)]
        services: usize,
        /// One result in this many is a failure (e-mailed, R9.5); 0: none.
        #[arg(long, default_value_t = 1000)]
        failure_every: usize,
    },
    /// Push bandwidth readings in bulk over HTTP to a server on loopback
    /// and report readings/s (issue 6's target: 200 000/s on SQLite).
    Usage {
        /// Readings to push.
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
        /// Readings a bulk request.
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        /// Ports the readings are spread over.
        #[arg(long, default_value_t = 1_000)]
        ports: usize,
        /// Readings in port order (a backfill, a file exported per port)
        /// instead of time order (a collector pushing every port's latest
        /// slots).
        #[arg(long)]
        by_port: bool,
    },
    /// Generate a month of 5-minute readings and time the R2.8 percentile
    /// of every port in Rust, and PostgreSQL's percentile_disc(0.95) on the
    /// same rows (issue 6's target: 10 000 ports × 31 days under 5 s).
    P95 {
        #[arg(long, default_value_t = 10_000)]
        ports: i64,
        #[arg(long, default_value_t = 31)]
        days: i64,
    },
    /// Seed badges and past access requests, then time the access check
    /// through the store and rules and over HTTP (issue 7's target: under
    /// 5 ms at p99 with 10 000 badges and 100 000 past requests).
    /// Temporary SQLite unless --database-url.
    Access {
        /// Declared people, each with a badge.
        #[arg(long, default_value_t = 10_000)]
        badges: usize,
        /// Past approved MLB requests.
        #[arg(long, default_value_t = 100_000)]
        requests: usize,
        /// Timed checks of each kind.
        #[arg(long, default_value_t = 2_000)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
enum UsageCmd {
    /// Import a CSV file of readings; a bad line refuses the whole file
    /// (its line number and reason are printed), nothing is written.
    Import {
        /// bandwidth (service_id,port,at,in_bps,out_bps), power
        /// (service_id,at,amps,kva), storage (service_id,at,gb) or traffic
        /// (service_id,at,bytes).
        #[arg(long)]
        kind: String,
        file: PathBuf,
    },
    /// Close a month's usage: its charges are handed to billing once.
    Close {
        /// YYYY-MM, a month already over (Paris).
        #[arg(long)]
        month: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Create a staff account with a password (the way in on a new install).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, support, billing or datacenter.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from the first line of standard input instead of
        /// generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli, listen: Option<String>) -> anyhow::Result<Config> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let flags = config::Overrides {
        listen,
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.clone(),
    };
    config::load(cli.config.as_deref(), &env, &flags)
}

fn init_logs(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&c.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match c.log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::DefaultConfig => {
            print!("{}", ciel_server::config::DEFAULT_CONFIG_TOML);
            Ok(())
        }
        Command::Terms(contract_cmds::TermsCmd::Publish { ref file }) => {
            let toml = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                let actor = ciel_store::Actor::system("ciel terms publish", state.now());
                let out = ciel_server::terms_versions::publish_as(&state, actor, &toml)
                    .await
                    .map_err(|p| {
                        anyhow::anyhow!(
                            "{}{}",
                            p.field.map(|f| format!("{f}: ")).unwrap_or_default(),
                            p.detail.unwrap_or(p.code)
                        )
                    })?;
                println!(
                    "terms version {} published; applies to running orders from {}; {} client notice(s) queued",
                    out.version.id, out.version.applies_to_running_from, out.notices
                );
                state.store().close().await;
                Ok(())
            })
        }
        Command::Terms(cmd) => cmd.run(),
        Command::Sla(contract_cmds::SlaCmd::Statements { ref month }) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                sla_cmds::statements(&state, month).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Sla(cmd) => cmd.run(),
        Command::Billing(BillingCmd::Run { ref period }) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                billing_cmds::run(&state, period).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Billing(BillingCmd::Fec {
            ref from,
            ref to,
            ref output,
        }) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                billing_cmds::fec(&state, from, to, output).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Support(cmd) => cmd.run(),
        Command::Calc(cmd) => cmd.run(),
        Command::Serve { ref listen, demo } => {
            let c = load_config(&cli, listen.clone())?;
            init_logs(&c);
            runtime()?.block_on(serve_cmd(c, demo))
        }
        Command::Migrate => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let store = serve::open_store(&c).await?;
                println!("database migrated ({:?})", store.backend());
                store.close().await;
                Ok(())
            })
        }
        Command::Demo => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                let logins = bootstrap::load_demo(&state).await?;
                print_logins(&logins);
                state.store().close().await;
                Ok(())
            })
        }
        Command::Services(ServicesCmd::Pass) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                service_cmds::pass(&state).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Bench(BenchCmd::Services { count, list_size }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(async {
                let store = serve::open_store(&c).await?;
                let state = service_cmds::bench_state(store, c)?;
                service_cmds::bench(&state, count, list_size).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Bench(BenchCmd::Statements { services }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(async {
                let store = serve::open_store(&c).await?;
                let state = sla_cmds::bench_state(store, c)?;
                sla_cmds::bench(&state, services).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Bench(BenchCmd::Billing { clients }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(async {
                let store = serve::open_store(&c).await?;
                let state = billing_cmds::bench_state(store, c)?;
                billing_cmds::bench(&state, clients).await?;
                state.store().close().await;
                Ok(())
            })
        }
        Command::Bench(BenchCmd::Tickets { open, runs }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(desk_cmds::bench_tickets(c, open, runs))
        }
        Command::Bench(BenchCmd::BackupResults {
            count,
            batch,
            services,
            failure_every,
        }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(backup_cmds::bench_results(
                c,
                count,
                batch,
                services,
                failure_every,
            ))
        }
        Command::Bench(BenchCmd::Usage {
            count,
            batch,
            ports,
            by_port,
        }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(usage_cmds::bench_ingest(c, count, batch, ports, by_port))
        }
        Command::Bench(BenchCmd::Access {
            badges,
            requests,
            runs,
        }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(colo_cmds::bench_access(c, badges, requests, runs))
        }
        Command::Bench(BenchCmd::P95 { ports, days }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(async {
                let store = serve::open_store(&c).await?;
                usage_cmds::bench_p95(store.clone(), ports, days).await?;
                store.close().await;
                Ok(())
            })
        }
        Command::Usage(ref cmd) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            runtime()?.block_on(async {
                let state = state(c).await?;
                match cmd {
                    UsageCmd::Import { kind, file } => {
                        usage_cmds::import(&state, kind, file).await?
                    }
                    UsageCmd::Close { month } => usage_cmds::close(&state, month).await?,
                }
                state.store().close().await;
                Ok(())
            })
        }
        Command::Bench(BenchCmd::Episodes { count, batch }) => {
            let (c, _tmp) = bench_config(cli)?;
            runtime()?.block_on(desk_cmds::bench_episodes(c, count, batch))
        }
        Command::User(UserCmd::Create {
            ref email,
            ref name,
            ref role,
            password_stdin,
        }) => {
            let c = load_config(&cli, None)?;
            init_logs(&c);
            let role = StaffRole::parse(role).ok_or_else(|| {
                anyhow::anyhow!("--role: expected admin, support, billing or datacenter")
            })?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (ciel_store::secrets::new_secret("")[..20].to_owned(), true)
            };
            runtime()?.block_on(async {
                let state = state(c).await?;
                let user =
                    bootstrap::create_staff_user(&state, email, name, role, &password).await?;
                println!(
                    "staff account created: {} ({}, role {})",
                    user.email,
                    user.id,
                    role.code()
                );
                if generated {
                    println!("password (shown once): {password}");
                }
                state.store().close().await;
                Ok(())
            })
        }
    }
}

async fn state(c: Config) -> anyhow::Result<AppState> {
    let store = serve::open_store(&c).await?;
    let state = AppState::new(store, c, Arc::new(SystemClock));
    ciel_server::terms_versions::load(&state)
        .await
        .map_err(|p| {
            anyhow::anyhow!("loading the terms versions: {}", p.detail.unwrap_or(p.code))
        })?;
    Ok(state)
}

fn print_logins(logins: &[bootstrap::DemoLogin]) {
    println!(
        "Demo logins (password for all: {}):",
        bootstrap::DEMO_PASSWORD
    );
    for l in logins {
        println!("  {:<48} {}", l.email, l.who);
    }
}

async fn serve_cmd(c: Config, demo: bool) -> anyhow::Result<()> {
    let clock = Arc::new(SystemClock);
    let store = serve::open_store(&c).await?;
    // The demo data is in place before the first request is accepted.
    if demo {
        let state = AppState::new(store.clone(), c.clone(), clock.clone());
        let logins = bootstrap::load_demo(&state).await?;
        print_logins(&logins);
    }
    let running = serve::start_with_store(c, clock, store).await?;
    println!(
        "ciel is listening on http://{} (public URL {})",
        running.addr,
        running.state.config().server.public_url
    );
    tracing::info!(addr = %running.addr, "ready");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The configuration of a benchmark: a temporary SQLite database unless
/// `--database-url` names one (the folder lives as long as the guard).
fn bench_config(mut cli: Cli) -> anyhow::Result<(Config, tempfile::TempDir)> {
    let tmp = tempfile::tempdir()?;
    if cli.database_url.is_none() {
        cli.database_url = Some(format!(
            "sqlite://{}",
            tmp.path().join("bench.db").display()
        ));
    }
    let mut c = load_config(&cli, None)?;
    c.log.level = "warn".into();
    init_logs(&c);
    Ok((c, tmp))
}
