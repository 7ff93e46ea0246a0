//! Statement evidence and its verification (`ciel sla verify`).
//!
//! An evidence document (JSON, format `ciel-sla-evidence/1`, schema in
//! `docs/evidence.schema.json`) holds everything needed to recompute one
//! service-month statement: the terms version, the service (offer, monthly
//! fee, support level), the episodes with their sources, the excluded windows
//! with their notice times, the PRA activations, and the credits already
//! given that calendar year. [`verify`] recomputes the statement with the
//! same code the provider runs and, when the evidence carries the provider's
//! claimed figures, checks them one by one. A client can thus check the
//! provider's statement offline.

use ciel_terms::{Offer, Registry, SupportLevel};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation,
    availability::{AvailabilityResult, Episode, EpisodeStatus, Window},
    caps::{Candidate, CapResult},
    recovery::{Activation, ActivationOutcome},
};

/// Format tag of evidence documents.
pub const EVIDENCE_FORMAT: &str = "ciel-sla-evidence/1";
/// Format tag of statements.
pub const STATEMENT_FORMAT: &str = "ciel-sla-statement/1";

/// The service a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceInfo {
    pub id: String,
    pub offer: Offer,
    /// Monthly fee excluding VAT, EUR, as a decimal string.
    pub monthly_fee: Decimal,
    pub support_level: SupportLevel,
}

/// Figures the provider claims, to be checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Claimed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<Decimal>,
}

/// Everything needed to recompute one service-month statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub format: String,
    pub terms_version: String,
    pub service: ServiceInfo,
    /// Calendar month "YYYY-MM" (Europe/Paris).
    pub month: String,
    #[serde(default)]
    pub episodes: Vec<Episode>,
    /// Maintenance and other excluded windows, with notice send times.
    #[serde(default)]
    pub windows: Vec<Window>,
    #[serde(default)]
    pub pra_activations: Vec<Activation>,
    /// Credits already given for this service earlier in the calendar year, EUR.
    #[serde(default)]
    pub credits_this_year: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed: Option<Claimed>,
}

/// An excluded episode with its reason, as R5.3 wants on the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedEpisode {
    pub id: String,
    pub source: String,
    pub status: EpisodeStatus,
}

/// One claimed figure checked against the recomputation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub field: String,
    pub claimed: String,
    pub computed: String,
    pub ok: bool,
}

/// The recomputed statement of one service-month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub format: String,
    pub terms_version: String,
    pub service_id: String,
    pub month: String,
    pub availability: AvailabilityResult,
    /// Episodes that did not count, with why.
    pub not_counted: Vec<ExcludedEpisode>,
    pub activations: Vec<ActivationOutcome>,
    pub caps: CapResult,
    /// Credit due for the month (EUR, rounded to the cent).
    pub credit: Decimal,
    pub checks: Vec<Check>,
    /// True when every claimed figure matches.
    pub claims_match: bool,
}

/// Parse "YYYY-MM".
pub fn parse_month(s: &str) -> Result<(i16, i8), EngineError> {
    let bad = || EngineError::Invalid(format!("month {s:?} is not YYYY-MM"));
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i16 = y.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

impl Engine {
    /// Compute the statement of one service-month from its evidence.
    pub fn statement(&self, e: &Evidence) -> Result<Explained<Statement>, EngineError> {
        if e.format != EVIDENCE_FORMAT {
            return Err(EngineError::Invalid(format!(
                "evidence format {:?}, expected {EVIDENCE_FORMAT:?}",
                e.format
            )));
        }
        if e.terms_version != self.terms.version.id {
            return Err(EngineError::Invalid(format!(
                "evidence is for terms {:?}, engine has {:?}",
                e.terms_version, self.terms.version.id
            )));
        }
        let (y, m) = parse_month(&e.month)?;
        let Explained {
            value: avail,
            explanation: mut ex,
        } = self.availability(e.service.offer, y, m, &e.episodes, &e.windows)?;
        let mut candidates = Vec::new();
        if avail.penalty_percent > Decimal::ZERO {
            candidates.push(Candidate {
                event: format!("availability:{}", e.month),
                commitment: "availability".into(),
                rule: "R5.5".into(),
                percent: avail.penalty_percent,
            });
        }
        let mut activations = Vec::new();
        for a in &e.pra_activations {
            let Explained { value, explanation } = self.activation(a)?;
            ex.extend(explanation);
            if value.penalty_percent > Decimal::ZERO {
                candidates.push(Candidate {
                    event: format!("activation:{}", a.id),
                    commitment: format!("pra_rto:{}", a.id),
                    rule: "R6.4".into(),
                    percent: value.penalty_percent,
                });
            }
            activations.push(value);
        }
        let Explained {
            value: caps,
            explanation,
        } = self.combine_and_cap(e.service.monthly_fee, &candidates, e.credits_this_year)?;
        ex.extend(explanation);
        let not_counted = avail
            .episodes
            .iter()
            .filter(|o| o.status != EpisodeStatus::Counted)
            .map(|o| {
                let ep = &e.episodes[o.index as usize];
                ExcludedEpisode {
                    id: ep.id.clone(),
                    source: ep.source.clone(),
                    status: o.status,
                }
            })
            .collect();
        let mut checks = Vec::new();
        if let Some(c) = &e.claimed {
            if let Some(u) = c.unavailable_minutes {
                checks.push(Check {
                    field: "unavailable_minutes".into(),
                    claimed: u.to_string(),
                    computed: avail.unavailable_minutes.to_string(),
                    ok: u == avail.unavailable_minutes,
                });
            }
            if let Some(p) = c.penalty_percent {
                checks.push(Check {
                    field: "penalty_percent".into(),
                    claimed: p.to_string(),
                    computed: avail.penalty_percent.to_string(),
                    ok: p == avail.penalty_percent,
                });
            }
            if let Some(cr) = c.credit {
                checks.push(Check {
                    field: "credit".into(),
                    claimed: cr.to_string(),
                    computed: caps.credit.to_string(),
                    ok: cr == caps.credit,
                });
            }
        }
        let claims_match = checks.iter().all(|c| c.ok);
        Ok(Explained {
            value: Statement {
                format: STATEMENT_FORMAT.into(),
                terms_version: e.terms_version.clone(),
                service_id: e.service.id.clone(),
                month: e.month.clone(),
                credit: caps.credit,
                availability: avail,
                not_counted,
                activations,
                caps,
                checks,
                claims_match,
            },
            explanation: ex,
        })
    }
}

/// Parse evidence JSON, pick its terms version in the registry, recompute.
pub fn verify(
    registry: &Registry,
    evidence_json: &str,
) -> Result<Explained<Statement>, EngineError> {
    let e: Evidence = serde_json::from_str(evidence_json)
        .map_err(|err| EngineError::Invalid(format!("evidence JSON: {err}")))?;
    let terms = registry
        .get(&e.terms_version)
        .ok_or_else(|| EngineError::UnknownTerms(e.terms_version.clone()))?;
    Engine::new(terms)?.statement(&e)
}

/// An empty explanation, for callers assembling their own.
pub fn empty_explanation() -> Explanation {
    Explanation::default()
}
