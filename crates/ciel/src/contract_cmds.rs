//! `ciel terms`, `ciel sla`, `ciel support`, `ciel calc`: the contract engine
//! on the command line, for support and sales staff and for clients checking
//! their statements offline.
//!
//! Every command answers in text (default, French unless `--lang en`) or JSON
//! (`--format json`: the result and its explanation steps). The work is done
//! by `ciel-terms` and `ciel-engine`; this module only reads the files named
//! on the command line and formats the answer. Each command has a `render`
//! returning the output (tested without a terminal) and a `run` printing it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ciel_engine::{
    Engine, Explained, Lang,
    ciel_terms::{self, Criticality, Impact, Registry, SupportLevel, Terms},
    contract::EarlyTerminationInput,
    evidence::Evidence,
    interest::EcbTable,
    jiff::{Timestamp, civil::Date},
    rust_decimal::Decimal,
    serde::Serialize,
    serde_json,
    support::{Pause, TicketInput},
};

/// Output format of the contract commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Language of explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    Fr,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Fr => Lang::Fr,
            LangArg::En => Lang::En,
        }
    }
}

/// Output options shared by the computing commands.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Language of the explanation: fr or en.
    #[arg(long, value_enum, default_value = "fr")]
    pub lang: LangArg,
}

/// Where terms versions come from: the embedded one plus files.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TermsSource {
    /// Extra terms version files (TOML) to register; repeatable.
    #[arg(long = "terms-file", value_name = "FILE")]
    pub terms_files: Vec<PathBuf>,
    /// Terms version id to compute with (default: the embedded version).
    #[arg(long = "terms-version", value_name = "ID")]
    pub terms_version: Option<String>,
}

impl TermsSource {
    fn registry(&self) -> Result<Registry> {
        let mut r = Registry::with_embedded();
        for f in &self.terms_files {
            let text = read(f)?;
            r.add_toml(&text)
                .map_err(|e| anyhow!("{}:\n{e}", f.display()))?;
        }
        Ok(r)
    }

    fn engine(&self, ecb_file: Option<&Path>) -> Result<Engine> {
        let r = self.registry()?;
        let id = self
            .terms_version
            .clone()
            .unwrap_or_else(|| ciel_terms::embedded().version.id.clone());
        let terms = r
            .get(&id)
            .ok_or_else(|| anyhow!("unknown terms version {id:?}"))?;
        let mut ecb = EcbTable::embedded().clone();
        if let Some(f) = ecb_file {
            ecb.extend(
                &EcbTable::parse_csv(&read(f)?).map_err(|e| anyhow!("{}: {e}", f.display()))?,
            );
        }
        Ok(Engine::with_ecb(terms, ecb)?)
    }
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}

/// Text or JSON of an explained result. `summary` gives the text head lines.
fn output<T: Serialize>(
    x: &Explained<T>,
    o: &OutputArgs,
    summary: impl FnOnce(Lang) -> String,
) -> Result<String> {
    match o.format {
        Format::Json => Ok(serde_json::to_string_pretty(x)? + "\n"),
        Format::Text => {
            let lang: Lang = o.lang.into();
            let head = match lang {
                Lang::Fr => "Explication :",
                Lang::En => "Explanation:",
            };
            Ok(format!(
                "{}\n{head}\n{}",
                summary(lang),
                x.explanation.render(lang)
            ))
        }
    }
}

// ---------------------------------------------------------------- terms ----

/// `ciel terms ...`: the versions of the contract terms.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TermsCmd {
    /// List the known terms versions (embedded, plus --terms-file).
    List {
        #[command(flatten)]
        source: TermsSource,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print a terms version (default: the embedded one) as TOML or JSON.
    Show {
        /// Version id.
        version: Option<String>,
        #[command(flatten)]
        source: TermsSource,
        /// toml (as written) or json (as parsed).
        #[arg(long, default_value = "toml")]
        format: String,
    },
    /// Validate a terms file; errors name the key path and why.
    Validate {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Parameter-by-parameter differences between two versions (ids or files).
    Diff {
        a: String,
        b: String,
        #[command(flatten)]
        source: TermsSource,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Publish a terms version to the database (R1.2): the clients with
    /// running orders are notified at once (needs the configuration).
    Publish { file: PathBuf },
}

fn load_version(r: &Registry, id_or_file: &str) -> Result<Terms> {
    if let Some(t) = r.get(id_or_file) {
        return Ok(t.clone());
    }
    let p = Path::new(id_or_file);
    if p.exists() {
        return ciel_terms::parse(&read(p)?).map_err(|e| anyhow!("{}:\n{e}", p.display()));
    }
    bail!("{id_or_file:?} is neither a known terms version nor a file")
}

impl TermsCmd {
    pub fn render(self) -> Result<String> {
        match self {
            TermsCmd::List { source, format } => {
                let r = source.registry()?;
                let rows: Vec<serde_json::Value> = r
                    .list()
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "id": t.version.id,
                            "title": t.version.title,
                            "effective_date": t.version.effective_date.to_string(),
                        })
                    })
                    .collect();
                Ok(match format {
                    Format::Json => serde_json::to_string_pretty(&rows)? + "\n",
                    Format::Text => r
                        .list()
                        .iter()
                        .map(|t| {
                            format!(
                                "{}  {}  {}\n",
                                t.version.effective_date, t.version.id, t.version.title
                            )
                        })
                        .collect(),
                })
            }
            TermsCmd::Show {
                version,
                source,
                format,
            } => {
                let r = source.registry()?;
                let id = version.unwrap_or_else(|| ciel_terms::embedded().version.id.clone());
                let t = r
                    .get(&id)
                    .ok_or_else(|| anyhow!("unknown terms version {id:?}"))?;
                match format.as_str() {
                    "json" => Ok(serde_json::to_string_pretty(t)? + "\n"),
                    "toml" if id == ciel_terms::embedded().version.id => {
                        Ok(ciel_terms::EMBEDDED_TOML.to_string())
                    }
                    "toml" => {
                        for f in &source.terms_files {
                            let text = read(f)?;
                            if ciel_terms::parse(&text).is_ok_and(|x| x.version.id == id) {
                                return Ok(text);
                            }
                        }
                        bail!("no TOML source for {id:?}")
                    }
                    other => bail!("unknown format {other:?} (toml or json)"),
                }
            }
            TermsCmd::Validate { file, format } => {
                let text = read(&file)?;
                match (ciel_terms::parse(&text), format) {
                    (Ok(t), Format::Text) => Ok(format!(
                        "{}: valid terms version {} (effective {})\n",
                        file.display(),
                        t.version.id,
                        t.version.effective_date
                    )),
                    (Ok(t), Format::Json) => {
                        Ok(serde_json::to_string_pretty(&serde_json::json!({
                            "valid": true, "id": t.version.id, "effective_date": t.version.effective_date.to_string(),
                        }))? + "\n")
                    }
                    (Err(e), Format::Text) => {
                        bail!("{}: invalid terms document\n{e}", file.display())
                    }
                    (Err(e), Format::Json) => {
                        bail!(
                            "{}",
                            serde_json::to_string_pretty(
                                &serde_json::json!({ "valid": false, "errors": e.0 })
                            )?
                        )
                    }
                }
            }
            TermsCmd::Diff {
                a,
                b,
                source,
                format,
            } => {
                let r = source.registry()?;
                let (ta, tb) = (load_version(&r, &a)?, load_version(&r, &b)?);
                let d = ciel_terms::diff(&ta, &tb);
                Ok(match format {
                    Format::Json => serde_json::to_string_pretty(&d)? + "\n",
                    Format::Text if d.is_empty() => "no differences\n".to_string(),
                    Format::Text => d
                        .iter()
                        .map(|x| {
                            let f = |v: &Option<serde_json::Value>| {
                                v.as_ref().map_or("(absent)".to_string(), |v| v.to_string())
                            };
                            format!("{}: {} -> {}\n", x.path, f(&x.left), f(&x.right))
                        })
                        .collect(),
                })
            }
            TermsCmd::Publish { .. } => {
                bail!("`ciel terms publish` needs the database: run through the ciel binary")
            }
        }
    }

    pub fn run(self) -> Result<()> {
        print!("{}", self.render()?);
        Ok(())
    }
}

// ---------------------------------------------------------------- sla ----

/// `ciel sla ...`: service-level statements.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SlaCmd {
    /// Recompute a service-month statement from its evidence file and check
    /// the provider's claimed figures.
    Verify {
        evidence: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[arg(long, value_enum, default_value = "fr")]
        lang: LangArg,
        #[arg(long = "terms-file", value_name = "FILE")]
        terms_files: Vec<PathBuf>,
    },
    /// Compute the monthly statements of every cloud and PRA service for a
    /// month that has ended (the job of the 1st, on demand; idempotent).
    Statements {
        /// Calendar month, YYYY-MM (Europe/Paris).
        #[arg(long)]
        month: String,
    },
}

impl SlaCmd {
    pub fn render(self) -> Result<String> {
        let SlaCmd::Verify {
            evidence,
            format,
            lang,
            terms_files,
        } = self
        else {
            anyhow::bail!("`ciel sla statements` runs against the database");
        };
        let json = read(&evidence)?;
        let ev: Evidence = serde_json::from_str(&json)
            .with_context(|| format!("{}: not valid evidence", evidence.display()))?;
        let source = TermsSource {
            terms_files,
            terms_version: Some(ev.terms_version.clone()),
        };
        let st = source.engine(None)?.statement(&ev)?;
        let out = output(&st, &OutputArgs { format, lang }, |l| {
            let s = &st.value;
            let a = &s.availability;
            let mut head = match l {
                Lang::Fr => format!(
                    "Relevé {} {} (conditions {})\nDisponibilité {} % (garanti {} %), indisponibilité {} min sur {}\nPénalité de disponibilité {} % ; avoir du mois {} €\n",
                    s.service_id,
                    s.month,
                    s.terms_version,
                    a.rate_display.replace('.', ","),
                    a.guaranteed_percent.to_string().replace('.', ","),
                    a.unavailable_minutes,
                    a.month_minutes,
                    a.penalty_percent,
                    s.credit.to_string().replace('.', ",")
                ),
                Lang::En => format!(
                    "Statement {} {} (terms {})\nAvailability {} % (guaranteed {} %), {} unavailable minutes of {}\nAvailability penalty {} %; credit for the month EUR {}\n",
                    s.service_id,
                    s.month,
                    s.terms_version,
                    a.rate_display,
                    a.guaranteed_percent,
                    a.unavailable_minutes,
                    a.month_minutes,
                    a.penalty_percent,
                    s.credit
                ),
            };
            for c in &s.checks {
                head.push_str(&format!(
                    "{} {}: {} / {}\n",
                    if c.ok { "OK " } else { "KO " },
                    c.field,
                    c.claimed,
                    c.computed
                ));
            }
            for n in &s.not_counted {
                head.push_str(&format!(
                    "  - {} ({}) : {}\n",
                    n.id,
                    n.source,
                    n.status.label(l)
                ));
            }
            head
        })?;
        if !st.value.claims_match {
            // The statement is printed, but the exit status says it differs.
            bail!("{out}claimed figures differ from the recomputation");
        }
        Ok(out)
    }

    pub fn run(self) -> Result<()> {
        print!("{}", self.render()?);
        Ok(())
    }
}

// ---------------------------------------------------------------- support ----

/// `ciel support ...`: ticket clocks.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SupportCmd {
    /// GTI and GTR deadlines of a ticket (and the clocks' state with --at).
    Deadlines {
        /// standard, premium or platinum.
        #[arg(long)]
        level: String,
        /// C1-C4 (client's assessment).
        #[arg(long)]
        criticality: String,
        /// I1-I4 (provider's assessment).
        #[arg(long)]
        impact: String,
        /// Complete notification, RFC 3339 (e.g. 2026-05-07T17:30:00+02:00).
        #[arg(long)]
        notified_at: String,
        /// Clock suspension START/END (RFC 3339); repeatable.
        #[arg(long = "pause", value_name = "START/END")]
        pauses: Vec<String>,
        /// Also give elapsed/remaining time at this instant.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        source: TermsSource,
        #[command(flatten)]
        out: OutputArgs,
    },
}

fn parse_ts(what: &str, s: &str) -> Result<Timestamp> {
    s.parse::<Timestamp>()
        .map_err(|e| anyhow!("{what}: {s:?} is not an RFC 3339 instant with offset: {e}"))
}

fn parse_level(s: &str) -> Result<SupportLevel> {
    SupportLevel::try_from(s.to_ascii_lowercase()).map_err(|e| anyhow!("--level: {e}"))
}

fn parse_crit(s: &str) -> Result<Criticality> {
    Criticality::try_from(s.to_ascii_uppercase()).map_err(|e| anyhow!("--criticality: {e}"))
}

fn parse_impact(s: &str) -> Result<Impact> {
    match s.to_ascii_uppercase().as_str() {
        "I1" => Ok(Impact::I1),
        "I2" => Ok(Impact::I2),
        "I3" => Ok(Impact::I3),
        "I4" => Ok(Impact::I4),
        _ => bail!("--impact: {s:?} is not I1, I2, I3 or I4"),
    }
}

impl SupportCmd {
    pub fn render(self) -> Result<String> {
        let SupportCmd::Deadlines {
            level,
            criticality,
            impact,
            notified_at,
            pauses,
            at,
            source,
            out,
        } = self;
        let engine = source.engine(None)?;
        let mut ps = Vec::new();
        for p in &pauses {
            let (a, b) = p
                .split_once('/')
                .ok_or_else(|| anyhow!("--pause {p:?}: expected START/END"))?;
            let (a, b) = (parse_ts("--pause start", a)?, parse_ts("--pause end", b)?);
            if b < a {
                bail!("--pause {p:?}: ends before it starts");
            }
            ps.push(Pause {
                start: a,
                end: b,
                reason: None,
            });
        }
        let t = TicketInput {
            level: parse_level(&level)?,
            criticality: parse_crit(&criticality)?,
            impact: parse_impact(&impact)?,
            notified_at: parse_ts("--notified-at", &notified_at)?,
            pauses: ps,
            maintenance: vec![],
        };
        if let Some(at) = at {
            let st = engine.ticket_status(&t, parse_ts("--at", &at)?, None, None)?;
            return output(&st, &out, |_| String::new());
        }
        let d = engine.ticket_deadlines(&t)?;
        output(&d, &out, |l| {
            let v = &d.value;
            let mut s = match l {
                Lang::Fr => format!(
                    "Priorité {}{}\n",
                    v.priority.priority,
                    if v.priority.downgraded_from_p1 {
                        " (P1 impossible pour ce niveau)"
                    } else {
                        ""
                    }
                ),
                Lang::En => format!(
                    "Priority {}{}\n",
                    v.priority.priority,
                    if v.priority.downgraded_from_p1 {
                        " (no P1 on this level)"
                    } else {
                        ""
                    }
                ),
            };
            for (name, x) in [("GTI", &v.gti), ("GTR", &v.gtr)] {
                match (x, l) {
                    (Some(x), Lang::Fr) => s.push_str(&format!(
                        "{name} {} : échéance {}\n",
                        x.target, x.due_at_local
                    )),
                    (Some(x), Lang::En) => {
                        s.push_str(&format!("{name} {}: due {}\n", x.target, x.due_at_local))
                    }
                    (None, Lang::Fr) => s.push_str(&format!("{name} : pas d'engagement\n")),
                    (None, Lang::En) => s.push_str(&format!("{name}: no commitment\n")),
                }
            }
            s
        })
    }

    pub fn run(self) -> Result<()> {
        print!("{}", self.render()?);
        Ok(())
    }
}

// ---------------------------------------------------------------- calc ----

/// `ciel calc ...`: contract calculators for sales and billing staff.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CalcCmd {
    /// Early-termination fee (R3.1).
    EarlyTermination {
        /// Provisioning day (YYYY-MM-DD).
        #[arg(long)]
        start: String,
        /// Fixed term in months.
        #[arg(long)]
        term_months: u32,
        /// Last day of service (YYYY-MM-DD).
        #[arg(long)]
        last_day: String,
        /// Monthly fee, EUR excl. VAT (decimal).
        #[arg(long)]
        monthly_fee: String,
        /// Hardware or licences bought for the client.
        #[arg(long)]
        investment: bool,
        /// Cancellation of the order before provisioning.
        #[arg(long)]
        cancellation: bool,
        #[command(flatten)]
        source: TermsSource,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Last day of service after a renewal notice (R3.2).
    NoticeEnd {
        /// Day the registered letter was received (YYYY-MM-DD).
        #[arg(long)]
        received: String,
        /// Last day of the fixed term, if still running (YYYY-MM-DD).
        #[arg(long)]
        term_last_day: Option<String>,
        #[command(flatten)]
        source: TermsSource,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Late-payment interest and indemnity (R2.6).
    LateInterest {
        /// Amount paid late, EUR (decimal).
        #[arg(long)]
        amount: String,
        /// Due date (YYYY-MM-DD).
        #[arg(long)]
        due: String,
        /// Payment date (YYYY-MM-DD).
        #[arg(long)]
        paid: String,
        /// CSV of extra ECB rates (effective_date,rate_percent).
        #[arg(long)]
        ecb_file: Option<PathBuf>,
        #[command(flatten)]
        source: TermsSource,
        #[command(flatten)]
        out: OutputArgs,
    },
}

fn parse_date(what: &str, s: &str) -> Result<Date> {
    s.parse::<Date>()
        .map_err(|e| anyhow!("{what}: {s:?} is not a YYYY-MM-DD date: {e}"))
}

fn parse_dec(what: &str, s: &str) -> Result<Decimal> {
    Decimal::from_str_exact(s.trim()).map_err(|e| anyhow!("{what}: {s:?} is not a decimal: {e}"))
}

impl CalcCmd {
    pub fn render(self) -> Result<String> {
        match self {
            CalcCmd::EarlyTermination {
                start,
                term_months,
                last_day,
                monthly_fee,
                investment,
                cancellation,
                source,
                out,
            } => {
                let i = EarlyTerminationInput {
                    start: parse_date("--start", &start)?,
                    term_months,
                    last_day: parse_date("--last-day", &last_day)?,
                    monthly_fee: parse_dec("--monthly-fee", &monthly_fee)?,
                    investment,
                    cancellation,
                };
                let q = source.engine(None)?.early_termination(&i)?;
                output(&q, &out, |l| match l {
                    Lang::Fr => format!(
                        "Indemnité de résiliation anticipée : {} € HT\n",
                        q.value.fee.to_string().replace('.', ",")
                    ),
                    Lang::En => format!("Early-termination fee: EUR {} excl. VAT\n", q.value.fee),
                })
            }
            CalcCmd::NoticeEnd {
                received,
                term_last_day,
                source,
                out,
            } => {
                let n = parse_date("--received", &received)?;
                let t = term_last_day
                    .map(|t| parse_date("--term-last-day", &t))
                    .transpose()?;
                let r = source.engine(None)?.notice_end(n, t)?;
                output(&r, &out, |l| match l {
                    Lang::Fr => format!("Dernier jour de service : {}\n", r.value.last_day),
                    Lang::En => format!("Last day of service: {}\n", r.value.last_day),
                })
            }
            CalcCmd::LateInterest {
                amount,
                due,
                paid,
                ecb_file,
                source,
                out,
            } => {
                let r = source.engine(ecb_file.as_deref())?.late_interest(
                    parse_dec("--amount", &amount)?,
                    parse_date("--due", &due)?,
                    parse_date("--paid", &paid)?,
                )?;
                output(&r, &out, |l| match l {
                    Lang::Fr => format!(
                        "Intérêts de retard : {} € ; indemnité : {} € ; total {} €\n",
                        r.value.interest.to_string().replace('.', ","),
                        r.value.indemnity.to_string().replace('.', ","),
                        r.value.total.to_string().replace('.', ",")
                    ),
                    Lang::En => format!(
                        "Late interest: EUR {}; indemnity: EUR {}; total EUR {}\n",
                        r.value.interest, r.value.indemnity, r.value.total
                    ),
                })
            }
        }
    }

    pub fn run(self) -> Result<()> {
        print!("{}", self.render()?);
        Ok(())
    }
}
