//! Support desk rules that sit around the ticket clocks of [`crate::support`]
//! (issue 5): billable out-of-scope tickets (R4.5), staff alerts before a GTI
//! or GTR deadline, maintenance notice validity per affected client (R4.6),
//! and the interruption duration told to the client at closure (R4.4).
//!
//! Like the rest of the engine these are pure: every instant ("now", send
//! times) is an argument, every parameter comes from the terms or is an
//! argument with a documented default, and each result carries its
//! explanation citing the rule and clause it applies.
//!
//! Readings chosen (see the docs of each function):
//! * R4.5 "à partir du troisième ticket sur les 12 derniers mois": the ticket
//!   being judged counts, so it is billable when it is itself the 3rd (or
//!   later) out-of-scope ticket whose complete notification lies in
//!   [N − 12 months, N], months counted on the Europe/Paris wall clock from its
//!   notification N (both ends included; ties at the same instant are ordered
//!   by ticket id).
//! * Alerts are not in the contract: the share of the allowed business time
//!   after which staff are alerted is an argument (default
//!   [`DEFAULT_ALERT_SHARE_PERCENT`], 75 %); the alert instant is counted on
//!   the clock's own business calendar with its pauses, like the deadline.
//! * R4.6 validity reuses [`Engine::window_exclusion`]; this module only adds
//!   the "send by" instant per window, the urgent-security exception with its
//!   reason, and the per-client outcome (each client's notice has its own
//!   send time, so one window can be excluded for one client and not for
//!   another).
//! * R4.4 interruption: wall-clock time from the complete notification to the
//!   end notification, less suspensions (R4.4) and properly notified or
//!   urgent maintenance (R4.6), each moment deducted once; instants are taken
//!   to the second.

use ciel_terms::ExclusionReason;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    availability::{Window, local},
    explain::{Lang, hms, num},
    invalid,
    support::{ClockState, TicketInput},
};

// ---- R4.5 out-of-scope tickets -------------------------------------------------

/// Cause of a ticket, as staff classify it (R4.5, CG 14.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketCause {
    /// The cause lies within the provider's scope.
    ProviderScope,
    /// The client's equipment.
    ClientEquipment,
    /// Abnormal use of the service.
    AbnormalUse,
    /// Fraudulent use of the service.
    FraudulentUse,
}

impl TicketCause {
    /// Whether the cause lies outside the provider's scope (counts for R4.5).
    pub fn out_of_scope(self) -> bool {
        !matches!(self, TicketCause::ProviderScope)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (TicketCause::ProviderScope, Lang::Fr) => "périmètre du prestataire",
            (TicketCause::ProviderScope, Lang::En) => "provider's scope",
            (TicketCause::ClientEquipment, Lang::Fr) => "équipement du client",
            (TicketCause::ClientEquipment, Lang::En) => "client's equipment",
            (TicketCause::AbnormalUse, Lang::Fr) => "utilisation anormale",
            (TicketCause::AbnormalUse, Lang::En) => "abnormal use",
            (TicketCause::FraudulentUse, Lang::Fr) => "utilisation frauduleuse",
            (TicketCause::FraudulentUse, Lang::En) => "fraudulent use",
        }
    }
}

/// A ticket of the client with its classified cause (`None`: not classified
/// yet, which never counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedTicket {
    pub id: String,
    /// Complete notification (R4.4): the instant the 12 months are read from.
    pub notified_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<TicketCause>,
}

/// An earlier out-of-scope ticket counted for R4.5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedTicket {
    pub id: String,
    pub notified_at: Timestamp,
    pub cause: TicketCause,
}

/// Whether a ticket may be billed (R4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillableOutcome {
    /// The provider may bill the ticket ("peuvent être facturés": a right).
    pub billable: bool,
    pub cause: Option<TicketCause>,
    /// Rank of this ticket among the out-of-scope tickets of the window
    /// (itself included); 0 when the ticket itself is not out of scope.
    pub rank: u32,
    /// "From the n-th ticket" (`support.billable_tickets.from_nth`).
    pub from_nth: u32,
    /// First instant of the window (N − `window_months` months, Paris wall clock).
    pub window_start: Timestamp,
    /// Earlier out-of-scope tickets in the window, oldest first.
    pub counted: Vec<CountedTicket>,
    /// Earlier out-of-scope tickets left out because they are older than the window.
    pub older_than_window: u32,
}

fn ordinal(n: u32, lang: Lang) -> String {
    match lang {
        Lang::Fr if n == 1 => "1er".to_owned(),
        Lang::Fr => format!("{n}e"),
        Lang::En => {
            let suffix = match (n % 10, n % 100) {
                (1, x) if x != 11 => "st",
                (2, x) if x != 12 => "nd",
                (3, x) if x != 13 => "rd",
                _ => "th",
            };
            format!("{n}{suffix}")
        }
    }
}

impl Engine {
    /// First instant of the R4.5 window of a ticket notified at `n`: the same
    /// wall-clock time `window_months` months earlier in Europe/Paris (a day
    /// that does not exist in the shorter month is clamped to its last day,
    /// 29 Feb → 28 Feb; a wall time skipped by DST moves forward).
    pub fn billable_window_start(&self, n: Timestamp) -> Result<Timestamp, EngineError> {
        let months = i64::from(self.terms.support.billable_tickets.window_months);
        n.to_zoned(self.month_tz.clone())
            .checked_sub(months.months())
            .map(|z| z.timestamp())
            .map_err(|e| invalid(format!("R4.5 window before {n}: {e}")))
    }

    /// Whether `ticket` may be billed (R4.5, CG 14.3): "from the third ticket
    /// within the last 12 months whose cause lies outside the provider's
    /// scope".
    ///
    /// Reading: the ticket being judged counts ("à partir du troisième" makes
    /// the third itself billable); the window is [N − 12 months, N] with N its
    /// complete notification, months on the Paris wall clock, both ends
    /// included; `history` may hold the ticket itself (ignored by id), later
    /// tickets (ignored) and unclassified ones (never counted); tickets
    /// notified at the same instant are ordered by id so that exactly one of
    /// them is the third. Adding an earlier out-of-scope ticket can only raise
    /// the rank, never make a billable ticket not billable.
    pub fn ticket_billable(
        &self,
        ticket: &ClassifiedTicket,
        history: &[ClassifiedTicket],
    ) -> Result<Explained<BillableOutcome>, EngineError> {
        let bt = &self.terms.support.billable_tickets;
        let (rule, clause) = (bt.rule.as_str(), bt.clause.as_str());
        let n = ticket.notified_at;
        let start = self.billable_window_start(n)?;
        let tz = &self.month_tz;
        let mut ex = Explanation::default();
        ex.push(
            Step::new(rule, clause)
                .input("notified_at", n)
                .input("window_months", bt.window_months)
                .outcome(format!("window_start={start}"))
                .text(
                    format!(
                        "fenêtre de {} mois avant la notification complète du ticket {} : du {} au {} inclus (heure de Paris)",
                        bt.window_months, ticket.id, local(start, tz), local(n, tz)
                    ),
                    format!(
                        "{}-month window before the complete notification of ticket {}: from {} to {} inclusive (Paris time)",
                        bt.window_months, ticket.id, local(start, tz), local(n, tz)
                    ),
                ),
        );
        let key = (n, ticket.id.as_str());
        let mut counted: Vec<CountedTicket> = Vec::new();
        let mut older = 0u32;
        for h in history {
            if h.id == ticket.id || (h.notified_at, h.id.as_str()) >= key {
                continue;
            }
            let Some(cause) = h.cause.filter(|c| c.out_of_scope()) else {
                continue;
            };
            if h.notified_at < start {
                older += 1;
            } else {
                counted.push(CountedTicket {
                    id: h.id.clone(),
                    notified_at: h.notified_at,
                    cause,
                });
            }
        }
        counted.sort_by(|a, b| (a.notified_at, &a.id).cmp(&(b.notified_at, &b.id)));
        let list = |lang: Lang| -> String {
            counted
                .iter()
                .map(|c| {
                    format!(
                        "{} ({}, {})",
                        c.id,
                        local(c.notified_at, tz),
                        c.cause.label(lang)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let k = counted.len();
        let (older_fr, older_en) = if older == 0 {
            (String::new(), String::new())
        } else {
            (
                format!(" ; {older} plus ancien(s), non compté(s)"),
                format!("; {older} older, not counted"),
            )
        };
        ex.push(
            Step::new(rule, clause)
                .input("earlier_out_of_scope", k)
                .input("older_than_window", older)
                .outcome(format!("earlier_in_window={k}"))
                .text(
                    if k == 0 {
                        format!("aucun ticket hors périmètre antérieur dans la fenêtre{older_fr}")
                    } else {
                        format!(
                            "{k} ticket(s) hors périmètre antérieur(s) dans la fenêtre : {}{older_fr}",
                            list(Lang::Fr)
                        )
                    },
                    if k == 0 {
                        format!("no earlier out-of-scope ticket in the window{older_en}")
                    } else {
                        format!(
                            "{k} earlier out-of-scope ticket(s) in the window: {}{older_en}",
                            list(Lang::En)
                        )
                    },
                ),
        );
        let (rank, billable) = match ticket.cause {
            None => {
                ex.push(Step::new(rule, clause).outcome("billable=false").text(
                    "cause du ticket non encore qualifiée : non facturable à ce stade",
                    "the ticket's cause is not classified yet: not billable for now",
                ));
                (0, false)
            }
            Some(c) if !c.out_of_scope() => {
                ex.push(
                    Step::new(rule, clause)
                        .input("cause", c.label(Lang::En))
                        .outcome("billable=false")
                        .text(
                            format!("cause : {} → ticket non facturable", c.label(Lang::Fr)),
                            format!("cause: {} → the ticket is not billable", c.label(Lang::En)),
                        ),
                );
                (0, false)
            }
            Some(c) => {
                let rank = u32::try_from(k).unwrap_or(u32::MAX).saturating_add(1);
                let billable = rank >= bt.from_nth;
                let (fr, en) = if billable {
                    ("facturable", "billable")
                } else {
                    ("non facturable", "not billable")
                };
                ex.push(
                    Step::new(rule, clause)
                        .input("cause", c.label(Lang::En))
                        .input("rank", rank)
                        .input("from_nth", bt.from_nth)
                        .outcome(format!("billable={billable}"))
                        .text(
                            format!(
                                "cause : {} → {} ticket hors périmètre en {} mois ; facturable à partir du {} → {fr}",
                                c.label(Lang::Fr), ordinal(rank, Lang::Fr), bt.window_months, ordinal(bt.from_nth, Lang::Fr)
                            ),
                            format!(
                                "cause: {} → {} out-of-scope ticket in {} months; billable from the {} → {en}",
                                c.label(Lang::En), ordinal(rank, Lang::En), bt.window_months, ordinal(bt.from_nth, Lang::En)
                            ),
                        ),
                );
                (rank, billable)
            }
        };
        Ok(Explained {
            value: BillableOutcome {
                billable,
                cause: ticket.cause,
                rank,
                from_nth: bt.from_nth,
                window_start: start,
                counted,
                older_than_window: older,
            },
            explanation: ex,
        })
    }
}

// ---- deadline alerts --------------------------------------------------------

/// Share of a clock's allowed business time after which staff are alerted,
/// when the caller has no setting. Not a contract term (the contract only
/// sets the deadlines); it should become the terms key
/// `support.alert_share_percent = { value = "75", clause = "CG 14.2", rule = "R4.3" }`.
pub const DEFAULT_ALERT_SHARE_PERCENT: u32 = 75;

/// Which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    Gti,
    Gtr,
}

impl ClockKind {
    fn name(self) -> &'static str {
        match self {
            ClockKind::Gti => "GTI",
            ClockKind::Gtr => "GTR",
        }
    }
}

/// Where an alert stands at the instant asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The alert instant is still ahead.
    Pending,
    /// The alert instant is reached and the deadline is not passed: alert now.
    Due,
    /// The deadline is passed and the clock still runs.
    Breached,
    /// The clock was stopped (acknowledged or restored): no alert.
    Stopped,
}

/// The staff alert of one clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineAlert {
    pub clock: ClockKind,
    pub share_percent: Decimal,
    /// Business time allowed by the commitment.
    pub business_seconds: i64,
    /// floor(business_seconds × share / 100): the business time after which
    /// the alert is due (floored, so that an alert is never late).
    pub threshold_seconds: i64,
    pub alert_at: Timestamp,
    pub due_at: Timestamp,
    /// Business time elapsed at the instant asked about (pauses deducted).
    pub elapsed_seconds: i64,
    pub state: AlertState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineAlerts {
    pub at: Timestamp,
    /// One per clock with a commitment (none for P4).
    pub alerts: Vec<DeadlineAlert>,
}

type Interval = (Timestamp, Timestamp);

impl Engine {
    /// Stopped intervals of the GTI and GTR clocks, as `ticket_deadlines`
    /// uses them: R4.4 pauses stop both; maintenance windows that
    /// [`Engine::window_exclusion`] excludes stop the GTR, and the GTI when
    /// `maintenance.stops_gti`. (The property test "an alert at 100 % is the
    /// deadline" keeps this in step with `support`.)
    fn clock_pauses(&self, t: &TicketInput) -> (Vec<Interval>, Vec<Interval>) {
        let pauses: Vec<Interval> = t.pauses.iter().map(|p| (p.start, p.end)).collect();
        let (mut gti, mut gtr) = (pauses.clone(), pauses);
        for w in &t.maintenance {
            if self.window_exclusion(w).0 {
                gtr.push((w.start, w.end));
                if self.terms.maintenance.stops_gti {
                    gti.push((w.start, w.end));
                }
            }
        }
        (gti, gtr)
    }

    /// When staff must be alerted before each deadline of a ticket, and
    /// whether that is now (`at`).
    ///
    /// The alert is due once `share_percent` of the allowed business time has
    /// elapsed (pass [`DEFAULT_ALERT_SHARE_PERCENT`] without a setting); its
    /// instant is computed on the clock's calendar with the same pauses as
    /// the deadline (calendar arithmetic, never minute stepping), so it is
    /// never after the deadline and moves with it. `acknowledged_at` stops
    /// the GTI, `restored_at` the GTR, as in [`Engine::ticket_status`].
    pub fn deadline_alerts(
        &self,
        t: &TicketInput,
        at: Timestamp,
        acknowledged_at: Option<Timestamp>,
        restored_at: Option<Timestamp>,
        share_percent: Decimal,
    ) -> Result<Explained<DeadlineAlerts>, EngineError> {
        if share_percent <= Decimal::ZERO || share_percent > Decimal::ONE_HUNDRED {
            return Err(invalid(format!(
                "alert share {share_percent} % must be in ]0, 100]"
            )));
        }
        let Explained {
            value: deadlines,
            explanation: mut ex,
        } = self.ticket_deadlines(t)?;
        let status = self
            .ticket_status(t, at, acknowledged_at, restored_at)?
            .value;
        let (_, cal) = self.clock_calendar(t.level, deadlines.priority.priority)?;
        let (gti_pauses, gtr_pauses) = self.clock_pauses(t);
        let targets = &self.terms.support.targets;
        let mut alerts = Vec::new();
        for (kind, dl, st, pauses) in [
            (ClockKind::Gti, &deadlines.gti, &status.gti, &gti_pauses),
            (ClockKind::Gtr, &deadlines.gtr, &status.gtr, &gtr_pauses),
        ] {
            let (Some(dl), Some(st)) = (dl, st) else {
                continue;
            };
            let threshold =
                (Decimal::from(dl.business_seconds) * share_percent / Decimal::ONE_HUNDRED).floor();
            let threshold =
                i64::try_from(threshold).map_err(|_| invalid("alert threshold out of range"))?;
            let alert_at =
                cal.deadline(t.notified_at, SignedDuration::from_secs(threshold), pauses)?;
            let state = match st.state {
                ClockState::Met => AlertState::Stopped,
                ClockState::Breached
                    if matches!(
                        (kind, acknowledged_at, restored_at),
                        (ClockKind::Gti, Some(s), _) | (ClockKind::Gtr, _, Some(s)) if s <= at
                    ) =>
                {
                    AlertState::Stopped
                }
                ClockState::Breached => AlertState::Breached,
                ClockState::Running if at >= alert_at => AlertState::Due,
                ClockState::Running => AlertState::Pending,
            };
            let name = kind.name();
            let tz = cal.time_zone();
            let (sfr, sen) = match state {
                AlertState::Pending => ("à venir", "pending"),
                AlertState::Due => ("à envoyer maintenant", "due now"),
                AlertState::Breached => ("échéance dépassée", "deadline passed"),
                AlertState::Stopped => ("horloge arrêtée, pas d'alerte", "clock stopped, no alert"),
            };
            ex.push(
                Step::new(&targets.rule, &targets.clause)
                    .input("clock", name)
                    .input("share_percent", share_percent)
                    .input("at", at)
                    .outcome(format!("{name}_alert_at={alert_at} state={sen}"))
                    .text(
                        format!(
                            "alerte interne {name} à {} % du délai : {} ouvrées sur {} → {} (échéance {}) ; écoulé {} → {sfr}",
                            num(share_percent, Lang::Fr),
                            hms(threshold),
                            hms(dl.business_seconds),
                            local(alert_at, tz),
                            local(dl.due_at, tz),
                            hms(st.elapsed_seconds)
                        ),
                        format!(
                            "internal {name} alert at {} % of the allowed time: {} of business time out of {} → {} (due {}); elapsed {} → {sen}",
                            num(share_percent, Lang::En),
                            hms(threshold),
                            hms(dl.business_seconds),
                            local(alert_at, tz),
                            local(dl.due_at, tz),
                            hms(st.elapsed_seconds)
                        ),
                    ),
            );
            alerts.push(DeadlineAlert {
                clock: kind,
                share_percent,
                business_seconds: dl.business_seconds,
                threshold_seconds: threshold,
                alert_at,
                due_at: dl.due_at,
                elapsed_seconds: st.elapsed_seconds,
                state,
            });
        }
        Ok(Explained {
            value: DeadlineAlerts { at, alerts },
            explanation: ex,
        })
    }
}

// ---- R4.6 maintenance notices ------------------------------------------------

/// A planned maintenance window, before its notices are judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWindow {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Set when staff mark the works urgent security maintenance: why (the
    /// vulnerability, the advisory). Required to use the exception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent_security_reason: Option<String>,
}

/// The notice of one affected client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientNotice {
    pub client: String,
    /// Send time of the notice email to this client (R13 evidence); `None`
    /// while not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<Timestamp>,
}

/// How a client's notice stands against the contractual notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Sent at or before the "send by" instant.
    InTime,
    /// Sent after it.
    Late,
    /// Not sent.
    NotSent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientNoticeOutcome {
    pub client: String,
    pub notified_at: Option<Timestamp>,
    pub status: NoticeStatus,
    /// Excluded from interruption, restoration and availability counting for
    /// this client (in time, or urgent security maintenance).
    pub excluded: bool,
    /// The window as the availability and ticket computations take it for
    /// this client (reason and send time set).
    pub window: Window,
}

/// The notices of one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticePlan {
    pub window_id: String,
    pub notice_days: u32,
    /// Last instant a notice may be sent for the window to be properly
    /// notified: the start's Paris wall-clock time `notice_days` days earlier.
    pub send_by: Timestamp,
    pub send_by_local: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent_security_reason: Option<String>,
    pub clients: Vec<ClientNoticeOutcome>,
}

impl Engine {
    /// Last instant a notice of works starting at `start` may be sent (R4.6):
    /// the same Paris wall-clock time `maintenance.notice_days` calendar days
    /// earlier, the reading [`Engine::window_exclusion`] applies (a notice
    /// sent at that very instant is in time).
    pub fn maintenance_send_by(&self, start: Timestamp) -> Result<Timestamp, EngineError> {
        let days = i64::from(self.terms.maintenance.notice_days);
        start
            .to_zoned(self.month_tz.clone())
            .checked_sub(days.days())
            .map(|z| z.timestamp())
            .map_err(|e| invalid(format!("R4.6 notice before {start}: {e}")))
    }

    /// The notice deadline of a window and, for each affected client, whether
    /// its notice makes the window excluded (R4.6, CG 14.5).
    ///
    /// A window marked urgent security maintenance is excluded whatever the
    /// notice when the terms say so (`maintenance.urgent_security_excluded`),
    /// and needs its reason; the notice status is reported anyway. The
    /// exclusion itself is decided by [`Engine::window_exclusion`], the very
    /// function availability and ticket clocks use.
    pub fn maintenance_notices(
        &self,
        w: &PlannedWindow,
        clients: &[ClientNotice],
    ) -> Result<Explained<NoticePlan>, EngineError> {
        if w.end <= w.start {
            return Err(invalid(format!(
                "window {}: it must end after it starts",
                w.id
            )));
        }
        let urgent = match &w.urgent_security_reason {
            Some(r) if r.trim().is_empty() => {
                return Err(invalid(format!(
                    "window {}: urgent security maintenance needs its reason",
                    w.id
                )));
            }
            Some(r) => Some(r.trim().to_owned()),
            None => None,
        };
        let m = &self.terms.maintenance;
        let tz = &self.month_tz;
        let send_by = self.maintenance_send_by(w.start)?;
        let send_by_local = local(send_by, tz);
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&m.rule, &m.clause)
                .input("window", &w.id)
                .input("start", w.start)
                .input("notice_days", m.notice_days)
                .outcome(format!("send_by={send_by}"))
                .text(
                    format!(
                        "travaux {} débutant le {} : préavis d'au moins {} jours → avis à envoyer au plus tard le {send_by_local}",
                        w.id, local(w.start, tz), m.notice_days
                    ),
                    format!(
                        "works {} starting on {}: at least {} days' notice → notice to be sent by {send_by_local}",
                        w.id, local(w.start, tz), m.notice_days
                    ),
                ),
        );
        if let Some(r) = &urgent {
            ex.push(
                Step::new(&m.rule, &m.clause)
                    .input("urgent_security_reason", r)
                    .outcome(format!(
                        "urgent_security_excluded={}",
                        m.urgent_security_excluded
                    ))
                    .text(
                        format!(
                            "maintenance urgente de sécurité ({r}) : {}",
                            if m.urgent_security_excluded {
                                "exclue du décompte quel que soit le préavis"
                            } else {
                                "non exclue selon les conditions en vigueur"
                            }
                        ),
                        format!(
                            "urgent security maintenance ({r}): {}",
                            if m.urgent_security_excluded {
                                "excluded from counting whatever the notice"
                            } else {
                                "not excluded under the terms in force"
                            }
                        ),
                    ),
            );
        }
        let mut out = Vec::with_capacity(clients.len());
        for c in clients {
            let status = match c.notified_at {
                None => NoticeStatus::NotSent,
                Some(n) if n <= send_by => NoticeStatus::InTime,
                Some(_) => NoticeStatus::Late,
            };
            let window = Window {
                id: w.id.clone(),
                start: w.start,
                end: w.end,
                reason: if urgent.is_some() {
                    ExclusionReason::UrgentSecurityMaintenance
                } else {
                    ExclusionReason::NotifiedMaintenance
                },
                notified_at: c.notified_at,
                source: format!("maintenance:{}:{}", w.id, c.client),
            };
            let (excluded, why_fr, why_en) = self.window_exclusion(&window);
            let (sfr, sen) = match status {
                NoticeStatus::InTime => ("avis dans les délais", "notice in time"),
                NoticeStatus::Late => ("avis tardif", "late notice"),
                NoticeStatus::NotSent => ("avis non envoyé", "notice not sent"),
            };
            ex.push(
                Step::new(&m.rule, &m.clause)
                    .input("client", &c.client)
                    .input(
                        "notified_at",
                        c.notified_at.map_or("-".to_owned(), |n| n.to_string()),
                    )
                    .outcome(format!("excluded={excluded}"))
                    .text(
                        format!("client {} : {sfr} ; {why_fr}", c.client),
                        format!("client {}: {sen}; {why_en}", c.client),
                    ),
            );
            out.push(ClientNoticeOutcome {
                client: c.client.clone(),
                notified_at: c.notified_at,
                status,
                excluded,
                window,
            });
        }
        Ok(Explained {
            value: NoticePlan {
                window_id: w.id.clone(),
                notice_days: m.notice_days,
                send_by,
                send_by_local,
                urgent_security_reason: urgent,
                clients: out,
            },
            explanation: ex,
        })
    }
}

/// What a client was told of a window: the works' span and impact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticedWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub impact: String,
}

/// Which notice R4.6 counts from once a window is changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedNotice {
    /// The send time the window's R4.6 notice now counts from.
    pub counts_from: Timestamp,
    /// The earlier notice still holds (the change stays inside it).
    pub kept: bool,
}

impl Engine {
    /// The notice a changed window counts from for one client (R4.6, CG
    /// 14.5), per `maintenance.changed_window_notice`: with
    /// `within_keeps_first`, a change that keeps the works inside the window
    /// the client was notified of, with the same impact, keeps the earlier
    /// notice `previous`; any other change (moved, lengthened, impact
    /// changed), and every change with `new_notice`, counts from the notice
    /// of the change sent at `sent_at`. A client never notified before counts
    /// from `sent_at`.
    pub fn changed_notice(
        &self,
        before: &NoticedWindow,
        after: &NoticedWindow,
        previous: Option<Timestamp>,
        sent_at: Timestamp,
    ) -> Explained<ChangedNotice> {
        use ciel_terms::ChangedWindowNotice as P;
        let m = &self.terms.maintenance;
        let tz = &self.month_tz;
        let inside = after.start >= before.start && after.end <= before.end;
        let same_impact = after.impact.trim() == before.impact.trim();
        let keep = match (m.changed_window_notice, previous) {
            (P::WithinKeepsFirst, Some(_)) => inside && same_impact,
            _ => false,
        };
        let counts_from = match previous {
            Some(p) if keep => p,
            _ => sent_at,
        };
        let (fr, en) = match (keep, previous) {
            (true, Some(p)) => (
                format!(
                    "modification à l'intérieur de la fenêtre notifiée le {} ({} → {}), même impact : l'avis initial vaut",
                    local(p, tz),
                    local(before.start, tz),
                    local(before.end, tz)
                ),
                format!(
                    "change inside the window notified on {} ({} → {}), same impact: the first notice holds",
                    local(p, tz),
                    local(before.start, tz),
                    local(before.end, tz)
                ),
            ),
            (_, None) => (
                format!("premier avis, envoyé le {}", local(sent_at, tz)),
                format!("first notice, sent on {}", local(sent_at, tz)),
            ),
            (false, Some(_)) => {
                let why_fr = if !inside {
                    "travaux déplacés ou allongés"
                } else {
                    "impact modifié"
                };
                let why_en = if !inside {
                    "works moved or lengthened"
                } else {
                    "impact changed"
                };
                (
                    format!(
                        "{why_fr} : le préavis se compte depuis l'avis de la modification, envoyé le {}",
                        local(sent_at, tz)
                    ),
                    format!(
                        "{why_en}: the notice counts from the notice of the change, sent on {}",
                        local(sent_at, tz)
                    ),
                )
            }
        };
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&m.rule, &m.clause)
                .input(
                    "changed_window_notice",
                    format!("{:?}", m.changed_window_notice),
                )
                .input("start", after.start)
                .input("end", after.end)
                .outcome(format!("counts_from={counts_from}"))
                .text(fr, en),
        );
        Explained {
            value: ChangedNotice {
                counts_from,
                kept: keep,
            },
            explanation: ex,
        }
    }
}

// ---- R4.4 interruption duration at closure ----------------------------------

/// The interruption told to the client when its ticket is closed (R4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptionDuration {
    pub notified_at: Timestamp,
    /// Send time of the email notifying the end of the interruption.
    pub ended_at: Timestamp,
    /// Wall-clock time between the two, in seconds.
    pub gross_seconds: i64,
    /// Part deducted for R4.4 suspensions (site access, client or third-party
    /// action, incomplete notification).
    pub suspended_seconds: i64,
    /// Part deducted for excluded maintenance (R4.6) not already suspended.
    pub maintenance_seconds: i64,
    /// gross − suspended − maintenance: the duration the email states.
    pub net_seconds: i64,
}

/// Total length of the union of intervals clipped to [a, b), in seconds.
fn covered(a: i64, b: i64, iv: &[(i64, i64)]) -> i64 {
    let mut v: Vec<(i64, i64)> = iv
        .iter()
        .map(|&(s, e)| (s.max(a), e.min(b)))
        .filter(|(s, e)| s < e)
        .collect();
    v.sort_unstable();
    let (mut total, mut cur): (i64, Option<(i64, i64)>) = (0, None);
    for (s, e) in v {
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = cur {
        total += ce - cs;
    }
    total
}

impl Engine {
    /// The interruption's duration for the end-of-interruption email (R4.4,
    /// CG 14.4): from the complete notification (`t.notified_at`) to the send
    /// time of the email notifying its end, less the suspensions of R4.4
    /// (`t.pauses`) and the maintenance windows R4.6 excludes from
    /// interruption counting (`t.maintenance`, judged by
    /// [`Engine::window_exclusion`]); a moment covered by both is deducted
    /// once. Elapsed (wall-clock) time, not business time: the clause measures
    /// the interruption, the business calendars only govern the GTI/GTR.
    /// Instants are taken to the second (floor).
    pub fn interruption_duration(
        &self,
        t: &TicketInput,
        end_notified_at: Timestamp,
    ) -> Result<Explained<InterruptionDuration>, EngineError> {
        let (a, b) = (t.notified_at.as_second(), end_notified_at.as_second());
        if b < a {
            return Err(invalid(format!(
                "end of interruption {end_notified_at} before its notification {}",
                t.notified_at
            )));
        }
        let pauses: Vec<(i64, i64)> = t
            .pauses
            .iter()
            .map(|p| (p.start.as_second(), p.end.as_second()))
            .collect();
        let mut ex = Explanation::default();
        let m = &self.terms.maintenance;
        let mut all = pauses.clone();
        for w in &t.maintenance {
            let (excluded, fr, en) = self.window_exclusion(w);
            ex.push(
                Step::new(&m.rule, &m.clause)
                    .input("window", &w.id)
                    .outcome(format!("excluded={excluded}"))
                    .text(
                        format!("travaux programmés {} : {fr}", w.id),
                        format!("scheduled works {}: {en}", w.id),
                    ),
            );
            if excluded {
                all.push((w.start.as_second(), w.end.as_second()));
            }
        }
        let gross = b - a;
        let suspended = covered(a, b, &pauses);
        let maintenance = covered(a, b, &all) - suspended;
        let net = gross - suspended - maintenance;
        let tz = &self.month_tz;
        ex.push(
            Step::new("R4.4", "CG 14.4")
                .input("notified_at", t.notified_at)
                .input("ended_at", end_notified_at)
                .input("pauses", t.pauses.len())
                .outcome(format!("interruption_seconds={net}"))
                .text(
                    format!(
                        "interruption du {} (notification complète) au {} (notification de fin) : {} − suspensions {} − travaux exclus {} = {}",
                        local(t.notified_at, tz), local(end_notified_at, tz), hms(gross), hms(suspended), hms(maintenance), hms(net)
                    ),
                    format!(
                        "interruption from {} (complete notification) to {} (end notification): {} − suspensions {} − excluded works {} = {}",
                        local(t.notified_at, tz), local(end_notified_at, tz), hms(gross), hms(suspended), hms(maintenance), hms(net)
                    ),
                ),
        );
        Ok(Explained {
            value: InterruptionDuration {
                notified_at: t.notified_at,
                ended_at: end_notified_at,
                gross_seconds: gross,
                suspended_seconds: suspended,
                maintenance_seconds: maintenance,
                net_seconds: net,
            },
            explanation: ex,
        })
    }
}
