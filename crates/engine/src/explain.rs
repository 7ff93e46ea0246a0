//! Explanations: every figure the engine computes comes with the ordered steps
//! that produced it, each citing the rule of RULES.md and the clause of the
//! contract it applies, with its inputs and outcome, in French and English.
//!
//! The French text is the reference (the contract is French); English is a
//! courtesy translation built from the same inputs.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Language of a rendered explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fr" => Ok(Lang::Fr),
            "en" => Ok(Lang::En),
            _ => Err(format!("unknown language {s:?} (fr or en)")),
        }
    }
}

/// One input of a step: a name and its value as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub name: String,
    pub value: String,
}

/// One step of a computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Rule id of RULES.md, e.g. "R5.5".
    pub rule: String,
    /// Clause of the contract, e.g. "A2 II.A.1".
    pub clause: String,
    pub inputs: Vec<Input>,
    /// Machine-readable outcome, e.g. "penalty_percent=10".
    pub outcome: String,
    /// Sentence in French.
    pub fr: String,
    /// Sentence in English.
    pub en: String,
}

impl Step {
    pub fn new(rule: &str, clause: &str) -> Self {
        Step {
            rule: rule.to_string(),
            clause: clause.to_string(),
            inputs: Vec::new(),
            outcome: String::new(),
            fr: String::new(),
            en: String::new(),
        }
    }
    pub fn input(mut self, name: &str, value: impl ToString) -> Self {
        self.inputs.push(Input {
            name: name.to_string(),
            value: value.to_string(),
        });
        self
    }
    pub fn outcome(mut self, o: impl Into<String>) -> Self {
        self.outcome = o.into();
        self
    }
    pub fn text(mut self, fr: impl Into<String>, en: impl Into<String>) -> Self {
        self.fr = fr.into();
        self.en = en.into();
        self
    }
    /// "A2 II.A.1 (R5.5) — <sentence>"
    pub fn render(&self, lang: Lang) -> String {
        let text = match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        };
        format!("{} ({}) — {}", self.clause, self.rule, text)
    }
}

/// The ordered steps of a computation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Explanation {
    pub steps: Vec<Step>,
}

impl Explanation {
    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }
    pub fn extend(&mut self, other: Explanation) {
        self.steps.extend(other.steps);
    }
    /// Rule ids cited, in order of first use.
    pub fn rules(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.steps {
            if !out.contains(&s.rule.as_str()) {
                out.push(&s.rule);
            }
        }
        out
    }
    /// One line per step, unnumbered (for an HTML `<ol>`, which numbers them).
    pub fn lines(&self, lang: Lang) -> Vec<String> {
        self.steps.iter().map(|s| s.render(lang)).collect()
    }
    /// One numbered line per step.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        for (i, s) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "{:>2}. {}", i + 1, s.render(lang));
        }
        out
    }
}

/// A value with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explained<T> {
    pub value: T,
    pub explanation: Explanation,
}

/// A decimal as written in a language: "99,4213" in French, "99.4213" in English.
pub fn num(d: Decimal, lang: Lang) -> String {
    let s = d.normalize().to_string();
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

/// A decimal with a fixed number of places (no rounding surprise: half away from zero).
pub fn num_dp(d: Decimal, dp: u32, lang: Lang) -> String {
    let r = d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{r:.prec$}", prec = dp as usize);
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

/// An amount in euros: "1 234,56 €" / "EUR 1,234.56".
pub fn eur(d: Decimal, lang: Lang) -> String {
    let s = format!(
        "{:.2}",
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    );
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(match lang {
                Lang::Fr => '\u{202f}',
                Lang::En => ',',
            });
        }
        grouped.push(c);
    }
    match lang {
        Lang::Fr => format!("{sign}{grouped},{frac} €"),
        Lang::En => format!("{sign}EUR {grouped}.{frac}"),
    }
}

/// A duration in seconds as "2 h 05 min 03 s" (omitting zero parts).
pub fn hms(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{sign}{s} s"),
        (0, m, 0) => format!("{sign}{m} min"),
        (0, m, s) => format!("{sign}{m} min {s:02} s"),
        (h, 0, 0) => format!("{sign}{h} h"),
        (h, m, 0) => format!("{sign}{h} h {m:02} min"),
        (h, m, s) => format!("{sign}{h} h {m:02} min {s:02} s"),
    }
}
