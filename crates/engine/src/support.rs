//! Ticket clocks (R4.2-R4.4, R4.6): priority, GTI and GTR deadlines, pauses,
//! excluded maintenance, and the state of a clock at any instant.
//!
//! * Priority comes from the matrix of CG 14.2 (criticality x impact); on a
//!   level without P1 ("pas de ticket P1", Standard) a would-be P1 is handled
//!   as the configured priority (P2) and the result says so.
//! * P1 clocks run on the P1 calendar (24/7); other priorities on the level's
//!   calendar. A GTR in JO is JO x the level's JO length, counted in that
//!   calendar.
//! * Clocks start at the complete notification. Pauses (R4.4) and properly
//!   notified maintenance windows (R4.6) suspend them: the deadline moves by
//!   the business time they cover.

use ciel_calendar::ServiceCalendar;
use ciel_terms::{Criticality, Impact, Priority, SupportLevel};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step, availability::Window, explain::hms,
};

/// A suspension of the clock (R4.4), with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ciel_terms::PauseReason>,
}

/// What a ticket's clocks need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketInput {
    pub level: SupportLevel,
    pub criticality: Criticality,
    pub impact: Impact,
    /// Complete notification by the client: the clocks' start.
    pub notified_at: Timestamp,
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// Maintenance windows touching the ticket; only properly notified ones
    /// (or urgent security ones) stop the clocks.
    #[serde(default)]
    pub maintenance: Vec<Window>,
}

/// The priority of a ticket and how it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityOutcome {
    /// What the matrix gives.
    pub matrix: Priority,
    /// What the ticket is handled as.
    pub priority: Priority,
    /// True when the level has no P1 and the ticket was handled as `priority`.
    pub downgraded_from_p1: bool,
}

/// One deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// Commitment as written: "4 h", "2 JO".
    pub target: String,
    /// Business time allowed, in seconds of the calendar.
    pub business_seconds: i64,
    /// Name of the calendar the clock runs on.
    pub calendar: String,
    /// The instant the commitment expires.
    pub due_at: Timestamp,
    /// The same instant in the calendar's zone, RFC 3339 with offset.
    pub due_at_local: String,
}

/// GTI and GTR of a ticket (absent when there is no commitment, e.g. P4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDeadlines {
    pub priority: PriorityOutcome,
    pub gti: Option<Deadline>,
    pub gtr: Option<Deadline>,
}

/// State of a clock at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Met,
    Breached,
}

/// Elapsed and remaining business time of one clock at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockStatus {
    pub elapsed_seconds: i64,
    pub remaining_seconds: i64,
    pub state: ClockState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStatus {
    pub at: Timestamp,
    pub gti: Option<ClockStatus>,
    pub gtr: Option<ClockStatus>,
}

/// A half-open interval of instants during which a clock is stopped.
type Interval = (Timestamp, Timestamp);

fn level_fr(l: SupportLevel) -> &'static str {
    match l {
        SupportLevel::Standard => "Standard",
        SupportLevel::Premium => "Premium",
        SupportLevel::Platinum => "Platinum",
    }
}

impl Engine {
    /// Priority of a ticket (R4.2) with the Standard no-P1 rule.
    pub fn priority(
        &self,
        level: SupportLevel,
        c: Criticality,
        i: Impact,
    ) -> Explained<PriorityOutcome> {
        let s = &self.terms.support;
        let row = s
            .priority_matrix
            .rows
            .get(&c)
            .copied()
            .unwrap_or([Priority::P4; 4]);
        let matrix = row[i as usize];
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&s.priority_matrix.rule, &s.priority_matrix.clause)
                .input("criticality", c)
                .input("impact", i)
                .outcome(format!("priority={matrix}"))
                .text(
                    format!("criticité {c} × impact {i} → priorité {matrix}"),
                    format!("criticality {c} × impact {i} → priority {matrix}"),
                ),
        );
        let downgrade = matrix == Priority::P1 && s.no_p1.levels.contains(&level);
        let priority = if downgrade {
            s.no_p1.handled_as
        } else {
            matrix
        };
        if downgrade {
            ex.push(
                Step::new(&s.no_p1.rule, &s.no_p1.clause)
                    .input("level", level)
                    .outcome(format!("priority={priority}"))
                    .text(
                        format!(
                            "support {} : « pas de ticket P1 » → ticket traité en {priority}",
                            level_fr(level)
                        ),
                        format!(
                            "{} support has no P1 tickets → handled as {priority}",
                            level_fr(level)
                        ),
                    ),
            );
        }
        Explained {
            value: PriorityOutcome {
                matrix,
                priority,
                downgraded_from_p1: downgrade,
            },
            explanation: ex,
        }
    }

    /// The calendar a clock of this level and priority runs on, and its name.
    pub fn clock_calendar(
        &self,
        level: SupportLevel,
        p: Priority,
    ) -> Result<(&str, &ServiceCalendar), EngineError> {
        let s = &self.terms.support;
        let name = if p == Priority::P1 {
            s.p1_calendar.value.as_str()
        } else {
            s.levels
                .get(&level)
                .map(|l| l.calendar.as_str())
                .ok_or_else(|| EngineError::Terms(format!("no support level {level}")))?
        };
        Ok((name, self.calendar(name)?))
    }

    /// Pauses of a ticket plus the maintenance windows that stop its clocks.
    /// Pauses of the GTI and of the GTR clocks: R4.4 suspensions stop both;
    /// excluded maintenance (R4.6) stops the GTR, and the GTI only when the
    /// terms say so (CG 14.5 names the interruption and restoration counts).
    fn effective_pauses(
        &self,
        t: &TicketInput,
        ex: &mut Explanation,
    ) -> (Vec<Interval>, Vec<Interval>) {
        let mut out: Vec<(Timestamp, Timestamp)> =
            t.pauses.iter().map(|p| (p.start, p.end)).collect();
        let mut gti = out.clone();
        if !t.pauses.is_empty() {
            let ps = &self.terms.support.clock_pause_reasons;
            ex.push(
                Step::new(&ps.rule, &ps.clause)
                    .input("pauses", t.pauses.len())
                    .outcome(format!("pauses={}", t.pauses.len()))
                    .text(
                        format!("{} suspension(s) du décompte (accès au site, action du client ou d'un tiers, notification incomplète)", t.pauses.len()),
                        format!("{} clock suspension(s) (site access, client or third-party action, incomplete notification)", t.pauses.len()),
                    ),
            );
        }
        let m = &self.terms.maintenance;
        for w in &t.maintenance {
            let (excluded, why_fr, why_en) = self.window_exclusion(w);
            ex.push(
                Step::new(&m.rule, &m.clause)
                    .input("window", format!("{} → {}", w.start, w.end))
                    .outcome(format!("excluded={excluded}"))
                    .text(
                        format!("travaux programmés {} : {why_fr}", w.id),
                        format!("scheduled works {}: {why_en}", w.id),
                    ),
            );
            if excluded {
                out.push((w.start, w.end));
                if m.stops_gti {
                    gti.push((w.start, w.end));
                }
            }
        }
        (gti, out)
    }

    /// GTI and GTR deadlines of a ticket (R4.3), moved by its pauses (R4.4)
    /// and excluded maintenance (R4.6).
    pub fn ticket_deadlines(
        &self,
        t: &TicketInput,
    ) -> Result<Explained<TicketDeadlines>, EngineError> {
        let Explained {
            value: prio,
            explanation: mut ex,
        } = self.priority(t.level, t.criticality, t.impact);
        let s = &self.terms.support;
        let (gti_pauses, gtr_pauses) = self.effective_pauses(t, &mut ex);
        let entry = s
            .targets
            .entries
            .iter()
            .find(|e| e.level == t.level && e.priority == prio.priority);
        let (cal_name, cal) = self.clock_calendar(t.level, prio.priority)?;
        let jo_hours = s.levels.get(&t.level).map_or(0, |l| l.jo_hours);
        let mut mk = |kind: &str, target: String, secs: i64| -> Result<Deadline, EngineError> {
            let pauses = if kind == "GTI" {
                &gti_pauses
            } else {
                &gtr_pauses
            };
            let due = cal.deadline(t.notified_at, SignedDuration::from_secs(secs), pauses)?;
            let local = due
                .to_zoned(cal.time_zone().clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string();
            ex.push(
                Step::new(&s.targets.rule, &s.targets.clause)
                    .input("level", t.level)
                    .input("priority", prio.priority)
                    .input("notified_at", t.notified_at)
                    .input("calendar", cal_name)
                    .outcome(format!("{kind}_due={due}"))
                    .text(
                        format!(
                            "{kind} {} {} = {target} ({}) sur le calendrier « {cal_name} » depuis la notification → échéance {local}",
                            level_fr(t.level), prio.priority, hms(secs)
                        ),
                        format!(
                            "{kind} {} {} = {target} ({}) on calendar \"{cal_name}\" from the notification → due {local}",
                            level_fr(t.level), prio.priority, hms(secs)
                        ),
                    ),
            );
            Ok(Deadline {
                target,
                business_seconds: secs,
                calendar: cal_name.to_string(),
                due_at: due,
                due_at_local: local,
            })
        };
        let gti = match entry.and_then(|e| e.gti_hours) {
            Some(h) => Some(mk("GTI", format!("{h} h"), i64::from(h) * 3600)?),
            None => None,
        };
        let gtr = match entry.map(|e| (e.gtr_hours, e.gtr_jo)) {
            Some((Some(h), _)) => Some(mk("GTR", format!("{h} h"), i64::from(h) * 3600)?),
            Some((None, Some(jo))) => Some(mk(
                "GTR",
                format!("{jo} JO"),
                i64::from(jo) * i64::from(jo_hours) * 3600,
            )?),
            _ => None,
        };
        let last_due = gtr.iter().chain(gti.iter()).map(|d| d.due_at).max();
        if let Some(last) = last_due {
            let closed = cal.closed_holidays_between(t.notified_at, last);
            if !closed.is_empty() {
                let entry = s.calendars.get(cal_name);
                let (rule, clause) = entry.map_or(("R4.1", "CG 14.1"), |c| {
                    (c.rule.as_str(), c.clause.as_str())
                });
                let fr: Vec<String> = closed
                    .iter()
                    .map(|(d, h)| format!("{d} ({})", h.name_fr()))
                    .collect();
                let en: Vec<String> = closed
                    .iter()
                    .map(|(d, h)| format!("{d} ({})", h.name_en()))
                    .collect();
                ex.push(
                    Step::new(rule, clause)
                        .input("calendar", cal_name)
                        .outcome(format!("holidays_skipped={}", closed.len()))
                        .text(
                            format!(
                                "jour(s) férié(s) non ouvré(s) sur la période : {}",
                                fr.join(", ")
                            ),
                            format!(
                                "public holiday(s) closed during the period: {}",
                                en.join(", ")
                            ),
                        ),
                );
            }
        }
        if gti.is_none() && gtr.is_none() {
            ex.push(
                Step::new(&s.targets.rule, &s.targets.clause)
                    .input("priority", prio.priority)
                    .outcome("no_commitment")
                    .text(
                        format!(
                            "aucun engagement GTI/GTR pour {} {}",
                            level_fr(t.level),
                            prio.priority
                        ),
                        format!(
                            "no GTI/GTR commitment for {} {}",
                            level_fr(t.level),
                            prio.priority
                        ),
                    ),
            );
        }
        Ok(Explained {
            value: TicketDeadlines {
                priority: prio,
                gti,
                gtr,
            },
            explanation: ex,
        })
    }

    /// State of the clocks at `at`: elapsed business time (pauses deducted),
    /// remaining, and met/breached once stopped (`acknowledged_at` stops the
    /// GTI, `restored_at` the GTR; the notification email's send time, R4.4).
    pub fn ticket_status(
        &self,
        t: &TicketInput,
        at: Timestamp,
        acknowledged_at: Option<Timestamp>,
        restored_at: Option<Timestamp>,
    ) -> Result<Explained<TicketStatus>, EngineError> {
        let Explained {
            value: d,
            explanation: mut ex,
        } = self.ticket_deadlines(t)?;
        let (gti_pauses, gtr_pauses) = self.effective_pauses(t, &mut Explanation::default());
        let (_, cal) = self.clock_calendar(t.level, d.priority.priority)?;
        let status =
            |dl: &Option<Deadline>, stop: Option<Timestamp>, pauses: &[(Timestamp, Timestamp)]| {
                dl.as_ref().map(|dl| {
                    let end = stop.map_or(at, |s| s.min(at));
                    let elapsed = cal
                        .business_between_paused(t.notified_at, end, pauses)
                        .as_secs();
                    let state = match stop {
                        Some(s) if s <= at => {
                            if s <= dl.due_at {
                                ClockState::Met
                            } else {
                                ClockState::Breached
                            }
                        }
                        _ if at > dl.due_at => ClockState::Breached,
                        _ => ClockState::Running,
                    };
                    ClockStatus {
                        elapsed_seconds: elapsed,
                        remaining_seconds: (dl.business_seconds - elapsed).max(0),
                        state,
                    }
                })
            };
        let st = TicketStatus {
            at,
            gti: status(&d.gti, acknowledged_at, &gti_pauses),
            gtr: status(&d.gtr, restored_at, &gtr_pauses),
        };
        let s = &self.terms.support;
        for (name, c) in [("GTI", &st.gti), ("GTR", &st.gtr)] {
            if let Some(c) = c {
                let (fr, en) = match c.state {
                    ClockState::Running => ("en cours", "running"),
                    ClockState::Met => ("respectée", "met"),
                    ClockState::Breached => ("dépassée", "breached"),
                };
                ex.push(
                    Step::new("R4.4", "CG 14.4")
                        .input("at", at)
                        .outcome(format!("{name}={en}"))
                        .text(
                            format!(
                                "{name} : écoulé {}, restant {} → {fr}",
                                hms(c.elapsed_seconds),
                                hms(c.remaining_seconds)
                            ),
                            format!(
                                "{name}: elapsed {}, remaining {} → {en}",
                                hms(c.elapsed_seconds),
                                hms(c.remaining_seconds)
                            ),
                        ),
                );
            }
        }
        let _ = s;
        Ok(Explained {
            value: st,
            explanation: ex,
        })
    }
}
