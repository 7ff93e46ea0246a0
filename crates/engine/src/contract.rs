//! Contract arithmetic used by billing and sales: early-termination fee
//! (R3.1), end of a renewal notice (R3.2), pro-rata by calendar days (R2.4).
//!
//! Sums of day fractions are computed as exact rationals over the common
//! denominator 377 580 = lcm(28, 29, 30, 31), so the only division is the last
//! one and a fee that is a whole number of cents is never rounded away.

use jiff::{ToSpan, civil::Date};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, eur, num},
    invalid,
};

/// lcm(28, 29, 30, 31): every month length divides it.
const LCM_MONTH_DAYS: i64 = 377_580;

/// Inputs of an early-termination quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyTerminationInput {
    /// Provisioning day: commitment month 1 starts on it (CG 2.6).
    pub start: Date,
    /// Fixed term of the order, in months.
    pub term_months: u32,
    /// Last day of service.
    pub last_day: Date,
    pub monthly_fee: Decimal,
    /// Hardware or licences bought specifically for the client.
    #[serde(default)]
    pub investment: bool,
    /// Cancellation of the order (before provisioning).
    #[serde(default)]
    pub cancellation: bool,
}

/// Remaining days of one calendar month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthShare {
    pub month: String,
    pub days: i32,
    pub days_in_month: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyTerminationQuote {
    pub term_last_day: Date,
    /// Commitment month of the last day of service (None for a cancellation).
    pub commitment_month: Option<u32>,
    pub share_percent: Decimal,
    /// Remaining monthly fees as a number of months (exact to 28 digits).
    pub remaining_months: Decimal,
    pub months: Vec<MonthShare>,
    /// Remaining fees, exact.
    pub remaining_fees: Decimal,
    /// Fee due, exact.
    pub fee_exact: Decimal,
    /// Fee due, rounded to the cent.
    pub fee: Decimal,
}

/// Result of a notice (R3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEnd {
    pub received: Date,
    /// received + notice days.
    pub expires: Date,
    pub term_last_day: Option<Date>,
    /// Last day of service.
    pub last_day: Date,
    /// True when the service ends at the term's end.
    pub at_term_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prorata {
    pub from: Date,
    pub to: Date,
    pub days: i32,
    pub days_in_month: i8,
    pub exact: Decimal,
    pub amount: Decimal,
}

fn add_months(d: Date, m: i64) -> Result<Date, EngineError> {
    d.checked_add(m.months())
        .map_err(|e| invalid(e.to_string()))
}

fn day_after(d: Date) -> Result<Date, EngineError> {
    d.tomorrow().map_err(|e| invalid(e.to_string()))
}

fn days_between(a: Date, b: Date) -> i32 {
    let ea = ciel_calendar::holidays::days_from_civil(
        i32::from(a.year()),
        a.month() as u8,
        a.day() as u8,
    );
    let eb = ciel_calendar::holidays::days_from_civil(
        i32::from(b.year()),
        b.month() as u8,
        b.day() as u8,
    );
    eb - ea
}

/// Commitment month k of a date: start + (k−1) months <= date < start + k months.
pub fn commitment_month(start: Date, date: Date) -> Result<u32, EngineError> {
    if date < start {
        return Err(invalid("date before the start of the commitment"));
    }
    let mut m =
        i64::from(date.year() - start.year()) * 12 + i64::from(date.month() - start.month());
    if add_months(start, m)? > date {
        m -= 1;
    }
    Ok(u32::try_from(m + 1).unwrap_or(u32::MAX))
}

/// Calendar-month segments of the inclusive range [from, to].
fn month_segments(from: Date, to: Date) -> Vec<MonthShare> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let end = d.last_of_month().min(to);
        out.push(MonthShare {
            month: format!("{:04}-{:02}", d.year(), d.month()),
            days: days_between(d, end) + 1,
            days_in_month: d.days_in_month(),
        });
        match end.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    out
}

impl Engine {
    /// Early-termination fee (R3.1).
    pub fn early_termination(
        &self,
        i: &EarlyTerminationInput,
    ) -> Result<Explained<EarlyTerminationQuote>, EngineError> {
        let e = &self.terms.termination.early;
        if i.term_months == 0 {
            return Err(invalid("term must be at least one month"));
        }
        if i.monthly_fee < Decimal::ZERO {
            return Err(invalid("monthly fee must not be negative"));
        }
        let mut ex = Explanation::default();
        let term_last = add_months(i.start, i64::from(i.term_months))?
            .yesterday()
            .map_err(|e| invalid(e.to_string()))?;
        ex.push(
            Step::new(&e.rule, &e.clause)
                .input("start", i.start)
                .input("term_months", i.term_months)
                .outcome(format!("term_last_day={term_last}"))
                .text(
                    format!(
                        "engagement de {} mois à compter du {} : dernier jour du terme {term_last}",
                        i.term_months, i.start
                    ),
                    format!(
                        "{}-month commitment from {}: last day of the term {term_last}",
                        i.term_months, i.start
                    ),
                ),
        );
        let (k, share, from) = if i.cancellation {
            let s = e.cancellation_share_percent.0;
            ex.push(
                Step::new(&e.rule, &e.clause)
                    .input("cancellation", true)
                    .outcome(format!("share={s}"))
                    .text(
                        format!(
                            "annulation de la commande : {} % des mensualités restantes",
                            num(s, Lang::Fr)
                        ),
                        format!(
                            "cancellation of the order: {} % of the remaining monthly fees",
                            num(s, Lang::En)
                        ),
                    ),
            );
            (None, s, i.start)
        } else {
            if i.last_day < i.start {
                return Err(invalid(
                    "the last day of service is before provisioning: use a cancellation",
                ));
            }
            let k = commitment_month(i.start, i.last_day)?;
            let tier = e
                .tiers
                .iter()
                .find(|t| k >= t.from_month && t.to_month.is_none_or(|to| k <= to))
                .ok_or_else(|| {
                    EngineError::Terms(format!("no early-termination tier for month {k}"))
                })?;
            let share = if i.investment {
                e.investment_share_percent.0
            } else {
                tier.share_percent.0
            };
            let range = match tier.to_month {
                Some(to) => format!("{}-{to}", tier.from_month),
                None => format!("{}+", tier.from_month),
            };
            ex.push(
                Step::new(&e.rule, &e.clause)
                    .input("last_day", i.last_day)
                    .input("commitment_month", k)
                    .outcome(format!("share={share}"))
                    .text(
                        if i.investment {
                            format!("dernier jour {} = mois d'engagement {k} ; investissement dédié : {} % des mensualités restantes", i.last_day, num(share, Lang::Fr))
                        } else {
                            format!("dernier jour {} = mois d'engagement {k} (tranche {range}) → {} % des mensualités restantes", i.last_day, num(share, Lang::Fr))
                        },
                        if i.investment {
                            format!("last day {} = commitment month {k}; dedicated investment: {} % of the remaining monthly fees", i.last_day, num(share, Lang::En))
                        } else {
                            format!("last day {} = commitment month {k} (tier {range}) → {} % of the remaining monthly fees", i.last_day, num(share, Lang::En))
                        },
                    ),
            );
            (Some(k), share, day_after(i.last_day)?)
        };
        let months = if from <= term_last {
            month_segments(from, term_last)
        } else {
            vec![]
        };
        let numerator: i64 = months
            .iter()
            .map(|m| i64::from(m.days) * (LCM_MONTH_DAYS / i64::from(m.days_in_month)))
            .sum();
        let remaining_months = Decimal::from(numerator) / Decimal::from(LCM_MONTH_DAYS);
        let remaining_fees =
            i.monthly_fee * Decimal::from(numerator) / Decimal::from(LCM_MONTH_DAYS);
        let fee_exact =
            i.monthly_fee * share * Decimal::from(numerator) / Decimal::from(LCM_MONTH_DAYS * 100);
        let fee = self.round_money(fee_exact);
        let detail: Vec<String> = months
            .iter()
            .map(|m| format!("{}/{}", m.days, m.days_in_month))
            .collect();
        let detail = if detail.len() > 6 {
            format!(
                "{} + … + {}",
                detail[..3].join(" + "),
                detail[detail.len() - 2..].join(" + ")
            )
        } else if detail.is_empty() {
            "0".to_string()
        } else {
            detail.join(" + ")
        };
        ex.push(
            Step::new(&e.rule, &e.clause)
                .input("from", from)
                .input("to", term_last)
                .outcome(format!("remaining_months={}", remaining_months.round_dp(6)))
                .text(
                    format!(
                        "mensualités restantes du {from} au {term_last} : {detail} = {} mois",
                        num(remaining_months.round_dp(6), Lang::Fr)
                    ),
                    format!(
                        "remaining monthly fees from {from} to {term_last}: {detail} = {} months",
                        num(remaining_months.round_dp(6), Lang::En)
                    ),
                ),
        );
        let r = &self.terms.billing.rounding;
        ex.push(
            Step::new(&r.rule, &r.clause)
                .input("monthly_fee", i.monthly_fee)
                .outcome(format!("fee={fee}"))
                .text(
                    format!(
                        "indemnité = {} × {} mois × {} % = {} (arrondi au centime)",
                        eur(i.monthly_fee, Lang::Fr),
                        num(remaining_months.round_dp(6), Lang::Fr),
                        num(share, Lang::Fr),
                        eur(fee, Lang::Fr)
                    ),
                    format!(
                        "fee = {} × {} months × {} % = {} (rounded to the cent)",
                        eur(i.monthly_fee, Lang::En),
                        num(remaining_months.round_dp(6), Lang::En),
                        num(share, Lang::En),
                        eur(fee, Lang::En)
                    ),
                ),
        );
        Ok(Explained {
            value: EarlyTerminationQuote {
                term_last_day: term_last,
                commitment_month: k,
                share_percent: share,
                remaining_months,
                months,
                remaining_fees,
                fee_exact,
                fee,
            },
            explanation: ex,
        })
    }

    /// Last day of service after a notice received on `received` (R3.2).
    pub fn notice_end(
        &self,
        received: Date,
        term_last_day: Option<Date>,
    ) -> Result<Explained<NoticeEnd>, EngineError> {
        let n = &self.terms.termination.renewal_notice;
        let expires = received
            .checked_add(i64::from(n.notice_days).days())
            .map_err(|e| invalid(e.to_string()))?;
        let mut ex = Explanation::default();
        let (last, at_term) = match term_last_day {
            Some(t) if expires <= t => (t, true),
            _ => (expires.last_of_month(), false),
        };
        ex.push(
            Step::new(&n.rule, &n.clause)
                .input("received", received)
                .input("notice_days", n.notice_days)
                .outcome(format!("expires={expires}"))
                .text(
                    format!(
                        "préavis reçu le {received} + {} jours → expire le {expires}",
                        n.notice_days
                    ),
                    format!(
                        "notice received on {received} + {} days → expires on {expires}",
                        n.notice_days
                    ),
                ),
        );
        ex.push(
            Step::new(&n.rule, &n.clause)
                .input("term_last_day", term_last_day.map_or("-".to_string(), |d| d.to_string()))
                .outcome(format!("last_day={last}"))
                .text(
                    if at_term {
                        format!("le préavis expire au plus tard le dernier jour du terme ({last}) : fin du service à cette date")
                    } else {
                        format!("fin de mois calendaire d'expiration du préavis : dernier jour de service le {last}")
                    },
                    if at_term {
                        format!("the notice expires by the last day of the term ({last}): service ends then")
                    } else {
                        format!("end of the calendar month in which the notice expires: last day of service {last}")
                    },
                ),
        );
        Ok(Explained {
            value: NoticeEnd {
                received,
                expires,
                term_last_day,
                last_day: last,
                at_term_end: at_term,
            },
            explanation: ex,
        })
    }

    /// Pro-rata of a monthly fee over [from, to] inside one calendar month,
    /// by calendar days (R2.4), rounded once to the cent.
    pub fn prorata(
        &self,
        monthly_fee: Decimal,
        from: Date,
        to: Date,
    ) -> Result<Explained<Prorata>, EngineError> {
        if to < from || (from.year(), from.month()) != (to.year(), to.month()) {
            return Err(invalid(
                "pro-rata range must be non-empty and inside one calendar month",
            ));
        }
        let days = days_between(from, to) + 1;
        let dim = from.days_in_month();
        let exact = monthly_fee * Decimal::from(days) / Decimal::from(dim);
        let amount = self.round_money(exact);
        let p = &self.terms.billing.prorata_basis;
        let mut ex = Explanation::default();
        ex.push(
            Step::new(&p.rule, &p.clause)
                .input("from", from)
                .input("to", to)
                .outcome(format!("amount={amount}"))
                .text(
                    format!(
                        "prorata du {from} au {to} : {} × {days}/{dim} = {}",
                        eur(monthly_fee, Lang::Fr),
                        eur(amount, Lang::Fr)
                    ),
                    format!(
                        "pro-rata from {from} to {to}: {} × {days}/{dim} = {}",
                        eur(monthly_fee, Lang::En),
                        eur(amount, Lang::En)
                    ),
                ),
        );
        Ok(Explained {
            value: Prorata {
                from,
                to,
                days,
                days_in_month: dim,
                exact,
                amount,
            },
            explanation: ex,
        })
    }
}
