//! The ledger of a prepaid hour book (R8.2-R8.3, CS 5.3): its balance as a
//! pure function of what was bought, what was spent, the client's written
//! overrun authorisations and the periods it had a managed-services order.
//!
//! Events are replayed in time order (a purchase at its instant, an
//! intervention at its end, a month change at the first instant of the month
//! in the terms' zone). Each intervention takes its R8.2 charge; beyond the
//! balance, the excess needs an authorisation given no later than the
//! intervention's end, and is then billed at the hourly rate instead of
//! making the book negative. At a month change with no managed-services
//! order in force, unused hours lapse (`hour_book.without_managed_services`).

use jiff::{Timestamp, ToSpan, Zoned};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::hourbook::HourCharge;
use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, num},
};
use ciel_terms::HourBookLapse;

/// What an intervention was (R8.3 names two that are taken from the book).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterventionKind {
    /// An engineering service of CS 5.3 (R8.2).
    Normal,
    /// Restoring a dedicated server from its backup after a crash (R8.3, CS 2.4.2).
    ServerRestoration,
    /// Help recovering data at the end of a contract (R8.3, CS 3.10, CS 4.8).
    DataRecovery,
}

impl InterventionKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::ServerRestoration => "server_restoration",
            Self::DataRecovery => "data_recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Normal, Self::ServerRestoration, Self::DataRecovery]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

/// Hours bought (one order line of an hour book).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub id: String,
    pub at: Timestamp,
    pub minutes: Decimal,
}

/// Time spent by staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub kind: InterventionKind,
}

/// The client's written agreement to go beyond the book, up to `max_minutes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    pub id: String,
    pub given_at: Timestamp,
    pub max_minutes: Decimal,
}

/// A period during which the client had a managed-services order in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPeriod {
    pub from: Timestamp,
    /// Exclusive; `None` while it runs.
    pub until: Option<Timestamp>,
}

impl ManagedPeriod {
    fn covers(&self, t: Timestamp) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }
}

/// Everything the ledger depends on.
#[derive(Debug, Clone, Default)]
pub struct LedgerInput {
    pub purchases: Vec<Purchase>,
    pub interventions: Vec<Intervention>,
    pub authorisations: Vec<Authorisation>,
    pub managed: Vec<ManagedPeriod>,
    /// The ledger is read at this instant: month changes up to it count.
    pub at: Timestamp,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    Purchase {
        id: String,
    },
    Intervention {
        id: String,
        charge: HourCharge,
        /// Minutes beyond the balance, billed at the hourly rate.
        overrun_minutes: Decimal,
        /// The authorisations that covered the overrun, with the minutes used.
        authorisations: Vec<(String, Decimal)>,
    },
    Lapse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: EntryKind,
    /// Change of the balance (negative for a charge or a lapse).
    pub minutes: Decimal,
    pub balance_after: Decimal,
    pub explanation: Explanation,
}

/// The book as read at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub entries: Vec<Entry>,
    pub purchased_minutes: Decimal,
    /// Minutes taken by interventions (their full R8.2 charge).
    pub charged_minutes: Decimal,
    /// Part of the charges beyond the balance (billed, not taken from the book).
    pub overrun_minutes: Decimal,
    pub lapsed_minutes: Decimal,
    /// purchased - (charged - overrun) - lapsed; never negative.
    pub balance_minutes: Decimal,
}

impl Ledger {
    /// The entry of an intervention.
    pub fn intervention(&self, id: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| matches!(&e.kind, EntryKind::Intervention { id: i, .. } if i == id))
    }
}

/// Why a ledger cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "{rule} ({clause}): intervention {intervention} needs {needed} min but the book has {balance} min left and written authorisations cover {authorised} min more"
    )]
    OverrunNotAuthorised {
        rule: String,
        clause: String,
        intervention: String,
        balance: Decimal,
        needed: Decimal,
        authorised: Decimal,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Why an intervention cannot be recorded (the field at fault and the rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterventionRefusal {
    pub field: &'static str,
    pub message: String,
}

enum Event<'a> {
    MonthChange(Timestamp),
    Purchase(&'a Purchase),
    Intervention(&'a Intervention),
}

impl Event<'_> {
    fn key(&self) -> (Timestamp, u8, Timestamp) {
        match self {
            Event::MonthChange(t) => (*t, 0, *t),
            Event::Purchase(p) => (p.at, 1, p.at),
            Event::Intervention(i) => (i.end, 2, i.start),
        }
    }
}

impl Engine {
    /// An intervention can be recorded only if it ends after it starts, is
    /// over at `now`, and starts once the book exists.
    pub fn hour_book_check_intervention(
        &self,
        start: Timestamp,
        end: Timestamp,
        now: Timestamp,
        book_purchased_at: Timestamp,
    ) -> Result<(), InterventionRefusal> {
        let hb = &self.terms.hour_book;
        let cite = format!("{} ({})", hb.rule, hb.clause);
        if end <= start {
            return Err(InterventionRefusal {
                field: "end",
                message: format!("{cite}: an intervention ends after it starts"),
            });
        }
        if end > now {
            return Err(InterventionRefusal {
                field: "end",
                message: format!("{cite}: time is counted as spent, the intervention must be over"),
            });
        }
        if start < book_purchased_at {
            return Err(InterventionRefusal {
                field: "start",
                message: format!("{cite}: the intervention starts before the hour book was bought"),
            });
        }
        Ok(())
    }

    /// The book's ledger at `input.at`.
    pub fn hour_book_ledger(&self, input: &LedgerInput) -> Result<Ledger, LedgerError> {
        let hb = &self.terms.hour_book;
        let mut events: Vec<Event> = Vec::new();
        events.extend(input.purchases.iter().map(Event::Purchase));
        events.extend(input.interventions.iter().map(Event::Intervention));
        if let Some(first) = input.purchases.iter().map(|p| p.at).min() {
            events.extend(
                self.month_changes(first, input.at)?
                    .into_iter()
                    .map(Event::MonthChange),
            );
        }
        events.sort_by_key(Event::key);

        let mut auth: Vec<(&Authorisation, Decimal)> = input
            .authorisations
            .iter()
            .map(|a| (a, a.max_minutes))
            .collect();
        auth.sort_by_key(|(a, _)| (a.given_at, a.id.clone()));

        let mut l = Ledger {
            entries: Vec::new(),
            purchased_minutes: Decimal::ZERO,
            charged_minutes: Decimal::ZERO,
            overrun_minutes: Decimal::ZERO,
            lapsed_minutes: Decimal::ZERO,
            balance_minutes: Decimal::ZERO,
        };
        for ev in events {
            match ev {
                Event::Purchase(p) => {
                    l.purchased_minutes += p.minutes;
                    l.balance_minutes += p.minutes;
                    let mut ex = Explanation::default();
                    ex.push(
                        Step::new(&hb.rule, &hb.clause)
                            .input("minutes", p.minutes)
                            .outcome(format!("balance={}", l.balance_minutes))
                            .text(
                                format!(
                                    "achat de {} min → solde {} min",
                                    num(p.minutes, Lang::Fr),
                                    num(l.balance_minutes, Lang::Fr)
                                ),
                                format!(
                                    "{} min bought → balance {} min",
                                    num(p.minutes, Lang::En),
                                    num(l.balance_minutes, Lang::En)
                                ),
                            ),
                    );
                    l.entries.push(Entry {
                        at: p.at,
                        kind: EntryKind::Purchase { id: p.id.clone() },
                        minutes: p.minutes,
                        balance_after: l.balance_minutes,
                        explanation: ex,
                    });
                }
                Event::MonthChange(t) => {
                    let carried = (hb.carry_over_while_managed_services
                        && input.managed.iter().any(|m| m.covers(t)))
                        || hb.without_managed_services == HourBookLapse::CarryOver;
                    if carried || l.balance_minutes <= Decimal::ZERO {
                        continue;
                    }
                    let lapsed = l.balance_minutes;
                    l.lapsed_minutes += lapsed;
                    l.balance_minutes = Decimal::ZERO;
                    let mut ex = Explanation::default();
                    ex.push(
                        Step::new(&hb.rule, &hb.clause)
                            .input("month_start", t)
                            .input("without_managed_services", "lapse_at_month_end")
                            .outcome(format!("lapsed={lapsed}"))
                            .text(
                                format!(
                                    "changement de mois sans Commande de Services d'infogérance en cours : les heures ne sont reportables que tant qu'il en existe une, {} min non utilisées sont perdues",
                                    num(lapsed, Lang::Fr)
                                ),
                                format!(
                                    "month change with no managed-services order in force: hours carry over only while there is one, {} unused min lapse",
                                    num(lapsed, Lang::En)
                                ),
                            ),
                    );
                    l.entries.push(Entry {
                        at: t,
                        kind: EntryKind::Lapse,
                        minutes: -lapsed,
                        balance_after: Decimal::ZERO,
                        explanation: ex,
                    });
                }
                Event::Intervention(i) => {
                    let charge = self.hour_book_charge(i.start, i.end)?;
                    let needed = charge.value.charged_minutes;
                    let mut ex = Explanation::default();
                    if i.kind != InterventionKind::Normal {
                        ex.push(restoration_step(i.kind));
                    }
                    ex.extend(charge.explanation);
                    let before = l.balance_minutes;
                    let overrun = (needed - before).max(Decimal::ZERO);
                    let mut used = Vec::new();
                    if overrun > Decimal::ZERO {
                        let available: Decimal = auth
                            .iter()
                            .filter(|(a, _)| a.given_at <= i.end)
                            .map(|(_, left)| *left)
                            .sum();
                        if hb.overrun_requires_authorisation && available < overrun {
                            return Err(LedgerError::OverrunNotAuthorised {
                                rule: hb.rule.clone(),
                                clause: hb.clause.clone(),
                                intervention: i.id.clone(),
                                balance: before,
                                needed,
                                authorised: available,
                            });
                        }
                        let mut rest = overrun;
                        for (a, left) in auth.iter_mut().filter(|(a, _)| a.given_at <= i.end) {
                            if rest <= Decimal::ZERO {
                                break;
                            }
                            let take = rest.min(*left);
                            if take > Decimal::ZERO {
                                *left -= take;
                                rest -= take;
                                used.push((a.id.clone(), take));
                            }
                        }
                    }
                    let taken = needed - overrun;
                    l.charged_minutes += needed;
                    l.overrun_minutes += overrun;
                    l.balance_minutes -= taken;
                    ex.push(balance_step(hb, before, needed, overrun, &used));
                    l.entries.push(Entry {
                        at: i.end,
                        kind: EntryKind::Intervention {
                            id: i.id.clone(),
                            charge: charge.value,
                            overrun_minutes: overrun,
                            authorisations: used,
                        },
                        minutes: -taken,
                        balance_after: l.balance_minutes,
                        explanation: ex,
                    });
                }
            }
        }
        Ok(l)
    }

    /// The amount billed for an authorised overrun: its hours at the book's
    /// hourly rate, rounded once (R8.2, R2.12).
    pub fn hour_book_overrun_amount(
        &self,
        overrun_minutes: Decimal,
        hourly_rate: Decimal,
    ) -> Explained<Decimal> {
        let hb = &self.terms.hour_book;
        let amount = self.round_money(overrun_minutes * hourly_rate / Decimal::from(60));
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&hb.rule, &hb.clause)
                .input("overrun_minutes", overrun_minutes)
                .input("hourly_rate", hourly_rate)
                .outcome(format!("amount={amount}"))
                .text(
                    format!(
                        "dépassement autorisé de {} min facturé au tarif horaire {} € HT : {} € HT",
                        num(overrun_minutes, Lang::Fr),
                        num(hourly_rate, Lang::Fr),
                        num(amount, Lang::Fr)
                    ),
                    format!(
                        "authorised overrun of {} min billed at the hourly rate of EUR {} excl. VAT: EUR {}",
                        num(overrun_minutes, Lang::En),
                        num(hourly_rate, Lang::En),
                        num(amount, Lang::En)
                    ),
                ),
        );
        Explained {
            value: amount,
            explanation: ex,
        }
    }

    /// First instants of the months after `from`'s, up to `to` inclusive.
    fn month_changes(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Timestamp>, EngineError> {
        let tz = self.month_zone().clone();
        let err = |e: jiff::Error| EngineError::Invalid(e.to_string());
        let z: Zoned = from.to_zoned(tz.clone());
        let mut month = z.date().first_of_month();
        let mut out = Vec::new();
        loop {
            month = month.checked_add(1.month()).map_err(err)?;
            let t = month.to_zoned(tz.clone()).map_err(err)?.timestamp();
            if t > to {
                return Ok(out);
            }
            out.push(t);
        }
    }
}

fn restoration_step(kind: InterventionKind) -> Step {
    let (clause, fr, en) = match kind {
        InterventionKind::ServerRestoration => (
            "CS 2.4.2",
            "restauration d'un Serveur Dédié à partir d'une sauvegarde : décomptée du Carnet de Temps",
            "restoring a dedicated server from a backup: taken from the hour book",
        ),
        _ => (
            "CS 3.10, CS 4.8",
            "assistance à la récupération des données en fin de contrat : décomptée du Carnet de Temps",
            "help recovering data at the end of the contract: taken from the hour book",
        ),
    };
    Step::new("R8.3", clause)
        .input("kind", kind.code())
        .outcome("from_hour_book")
        .text(fr, en)
}

fn balance_step(
    hb: &ciel_terms::HourBook,
    before: Decimal,
    needed: Decimal,
    overrun: Decimal,
    used: &[(String, Decimal)],
) -> Step {
    let after = before - (needed - overrun);
    let step = Step::new(&hb.rule, &hb.clause)
        .input("balance_before", before)
        .input("charged", needed)
        .outcome(format!("balance={after} overrun={overrun}"));
    if overrun.is_zero() {
        return step.text(
            format!(
                "solde {} min − {} min = {} min",
                num(before, Lang::Fr),
                num(needed, Lang::Fr),
                num(after, Lang::Fr)
            ),
            format!(
                "balance {} min − {} min = {} min",
                num(before, Lang::En),
                num(needed, Lang::En),
                num(after, Lang::En)
            ),
        );
    }
    let ids = used
        .iter()
        .map(|(id, m)| format!("{id} ({m} min)"))
        .collect::<Vec<_>>()
        .join(", ");
    step.input("authorisations", &ids).text(
        format!(
            "solde {} min pour {} min : dépassement de {} min autorisé par écrit ({ids}), facturé au tarif horaire ; solde 0 min",
            num(before, Lang::Fr),
            num(needed, Lang::Fr),
            num(overrun, Lang::Fr)
        ),
        format!(
            "balance {} min for {} min: overrun of {} min authorised in writing ({ids}), billed at the hourly rate; balance 0 min",
            num(before, Lang::En),
            num(needed, Lang::En),
            num(overrun, Lang::En)
        ),
    )
}
