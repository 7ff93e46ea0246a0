//! Recovery objectives of PRA activations (R6, Annexe 2 I.B and II.B).
//!
//! Per activation and machine criticality: each machine's restoration delay
//! (failover request → machine reachable again) against the RTO target; the
//! performance (machines − late) / machines × 100; the commitment is met when
//! the performance reaches the minimum OR at most one machine is late (the
//! "one incident allowed per activation", R6.3). A breach gives the penalty
//! tier of the longest delay among that criticality's machines (R6.4); one
//! activation is one event, so only its largest penalty is kept (R7.3, applied
//! in [`crate::caps`]). RPO (activation − last recovery point) is measured and
//! reported, without penalty. Machines whose recommended criticality the
//! client refused are outside the SLA (R6.5). PRA tests are excluded (R5.3).

use ciel_terms::{DelayTier, MachineCriticality};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, hms, num, num_dp},
};

/// One protected machine in an activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub name: String,
    pub criticality: MachineCriticality,
    /// When the machine was reachable again; absent = not restored by the
    /// end of the statement period (counted as late beyond every tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable_at: Option<Timestamp>,
    /// Last replication or backup point used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_at: Option<Timestamp>,
    /// The client refused the provider's recommended criticality (R6.5).
    #[serde(default)]
    pub criticality_refused: bool,
}

/// One PRA activation (failover), or a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub id: String,
    /// Failover requested by an authorised user.
    pub requested_at: Timestamp,
    #[serde(default)]
    pub test: bool,
    pub machines: Vec<Machine>,
}

/// Outcome for one criticality of one activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalityOutcome {
    pub criticality: MachineCriticality,
    pub machines: u32,
    pub late: u32,
    pub performance_percent: Decimal,
    pub min_performance_percent: Option<Decimal>,
    pub rto_hours: Option<u32>,
    /// Longest delay in seconds (None when a machine is not restored).
    pub longest_delay_seconds: Option<i64>,
    pub met: bool,
    pub penalty_percent: Decimal,
    pub rpo_hours: Option<u32>,
    pub rpo_missed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationOutcome {
    pub id: String,
    pub test: bool,
    pub criticalities: Vec<CriticalityOutcome>,
    /// Largest penalty of the activation (one event, R7.3).
    pub penalty_percent: Decimal,
}

fn tier_for(tiers: &[DelayTier], delay: Option<i64>) -> Option<&DelayTier> {
    tiers.iter().find(|t| {
        let above = i64::from(t.above_hours) * 3600;
        match (delay, t.up_to_hours) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(d), None) => d > above,
            (Some(d), Some(u)) => d > above && d <= i64::from(u) * 3600,
        }
    })
}

impl Engine {
    /// Evaluate one activation (R6.2-R6.5).
    pub fn activation(&self, a: &Activation) -> Result<Explained<ActivationOutcome>, EngineError> {
        let r = &self.terms.recovery;
        let mut ex = Explanation::default();
        if a.test {
            ex.push(
                Step::new(
                    &self.terms.availability.exclusion_reasons.rule,
                    &self.terms.availability.exclusion_reasons.clause,
                )
                .input("activation", &a.id)
                .outcome("excluded=pra_test")
                .text(
                    format!("activation {} : test de PRA, exclu des engagements", a.id),
                    format!(
                        "activation {}: PRA test, excluded from the commitments",
                        a.id
                    ),
                ),
            );
            return Ok(Explained {
                value: ActivationOutcome {
                    id: a.id.clone(),
                    test: true,
                    criticalities: vec![],
                    penalty_percent: Decimal::ZERO,
                },
                explanation: ex,
            });
        }
        let refused = a.machines.iter().filter(|m| m.criticality_refused).count();
        if refused > 0 {
            let p = &r.refused_criticality_voids_sla;
            ex.push(
                Step::new(&p.rule, &p.clause)
                    .input("machines", refused)
                    .outcome(format!("excluded_machines={refused}"))
                    .text(
                        format!("{refused} machine(s) dont le client a refusé la criticité préconisée : hors SLA"),
                        format!("{refused} machine(s) whose recommended criticality the client refused: outside the SLA"),
                    ),
            );
        }
        let mut outs = Vec::new();
        let mut best = Decimal::ZERO;
        for crit in [
            MachineCriticality::C1,
            MachineCriticality::C2,
            MachineCriticality::C3,
        ] {
            let ms: Vec<&Machine> = a
                .machines
                .iter()
                .filter(|m| {
                    m.criticality == crit
                        && !(m.criticality_refused && r.refused_criticality_voids_sla.value)
                })
                .collect();
            if ms.is_empty() {
                continue;
            }
            let obj = r.pra.criticalities.get(&crit);
            let rto = obj.and_then(|o| o.rto_hours);
            let min_perf = obj.and_then(|o| o.rto_min_performance_percent).map(|d| d.0);
            let rpo = obj.and_then(|o| o.rpo_hours);
            let delays: Vec<Option<i64>> = ms
                .iter()
                .map(|m| {
                    m.reachable_at
                        .map(|t| t.duration_since(a.requested_at).as_secs())
                })
                .collect();
            let n = ms.len() as u32;
            let late = match rto {
                Some(h) => delays
                    .iter()
                    .filter(|d| d.is_none_or(|d| d > i64::from(h) * 3600))
                    .count() as u32,
                None => 0,
            };
            let longest = if delays.iter().any(Option::is_none) {
                None
            } else {
                delays.iter().flatten().copied().max()
            };
            let perf = Decimal::from(n - late) * Decimal::ONE_HUNDRED / Decimal::from(n);
            let allowed = r.allowance.late_machines_allowed;
            let met = match (rto, min_perf) {
                (Some(_), Some(mp)) => {
                    Decimal::from(n - late) * Decimal::ONE_HUNDRED >= mp * Decimal::from(n)
                        || late <= allowed
                }
                _ => true,
            };
            let rpo_missed = match rpo {
                Some(h) => ms
                    .iter()
                    .filter(|m| {
                        m.recovery_point_at.is_none_or(|p| {
                            a.requested_at.duration_since(p).as_secs() > i64::from(h) * 3600
                        })
                    })
                    .count() as u32,
                None => 0,
            };
            let longest_txt = longest.map_or("non rétablie".to_string(), hms);
            let longest_txt_en = longest.map_or("not restored".to_string(), hms);
            match rto {
                Some(h) => ex.push(
                    Step::new(&r.pra.rule, &r.pra.clause)
                        .input("activation", &a.id)
                        .input("criticality", crit)
                        .input("machines", n)
                        .input("late", late)
                        .outcome(format!("performance={} met={met}", num_dp(perf, 2, Lang::En)))
                        .text(
                            format!(
                                "activation {} {crit} : RTO {h} h, {late} machine(s) en retard sur {n}, performance {} % (minimum {} %), plus long délai {longest_txt}",
                                a.id, num_dp(perf, 2, Lang::Fr), min_perf.map_or("-".into(), |m| num(m, Lang::Fr))
                            ),
                            format!(
                                "activation {} {crit}: RTO {h} h, {late} late machine(s) out of {n}, performance {} % (minimum {} %), longest delay {longest_txt_en}",
                                a.id, num_dp(perf, 2, Lang::En), min_perf.map_or("-".into(), |m| num(m, Lang::En))
                            ),
                        ),
                ),
                None => ex.push(
                    Step::new(&r.pra.rule, &r.pra.clause)
                        .input("criticality", crit)
                        .outcome("no_rto")
                        .text(
                            format!("activation {} {crit} : pas d'engagement de RTO", a.id),
                            format!("activation {} {crit}: no RTO commitment", a.id),
                        ),
                ),
            }
            if rto.is_some() {
                ex.push(
                    Step::new(&r.allowance.rule, &r.allowance.clause)
                        .input("late", late)
                        .input("allowed", allowed)
                        .outcome(format!("met={met}"))
                        .text(
                            format!("engagement {} (performance ≥ minimum ou au plus {allowed} machine en retard)", if met { "respecté" } else { "non respecté" }),
                            format!("commitment {} (performance ≥ minimum or at most {allowed} late machine)", if met { "met" } else { "breached" }),
                        ),
                );
            }
            let mut penalty = Decimal::ZERO;
            if !met
                && let Some(tiers) = r.pra_penalties.criticalities.get(&crit)
                && let Some(tr) = tier_for(tiers, longest)
            {
                penalty = tr.penalty_percent.0;
                let range_fr = match tr.up_to_hours {
                    Some(u) => format!("] {} h ; {u} h ]", tr.above_hours),
                    None => format!("> {} h", tr.above_hours),
                };
                ex.push(
                            Step::new(&r.pra_penalties.rule, &r.pra_penalties.clause)
                                .input("criticality", crit)
                                .input("longest_delay", &longest_txt_en)
                                .outcome(format!("penalty_percent={penalty}"))
                                .text(
                                    format!("{crit} : plus long délai {longest_txt} dans {range_fr} → pénalité {} % de la mensualité du PRA", num(penalty, Lang::Fr)),
                                    format!("{crit}: longest delay {longest_txt_en} in {range_fr} → penalty {} % of the PRA monthly fee", num(penalty, Lang::En)),
                                ),
                        );
            }
            if let Some(h) = rpo {
                ex.push(
                    Step::new(&r.pra.rule, "A2 I.B.3")
                        .input("criticality", crit)
                        .outcome(format!("rpo_missed={rpo_missed}"))
                        .text(
                            format!("{crit} : RPO {h} h, {rpo_missed} machine(s) au-delà (rapporté, sans pénalité)"),
                            format!("{crit}: RPO {h} h, {rpo_missed} machine(s) beyond it (reported, no penalty)"),
                        ),
                );
            }
            best = best.max(penalty);
            outs.push(CriticalityOutcome {
                criticality: crit,
                machines: n,
                late,
                performance_percent: perf,
                min_performance_percent: min_perf,
                rto_hours: rto,
                longest_delay_seconds: longest,
                met,
                penalty_percent: penalty,
                rpo_hours: rpo,
                rpo_missed,
            });
        }
        Ok(Explained {
            value: ActivationOutcome {
                id: a.id.clone(),
                test: false,
                criticalities: outs,
                penalty_percent: best,
            },
            explanation: ex,
        })
    }
}

/// A disaster on the primary site of a cloud service and how its machines
/// restarted on the secondary site (R6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudRecoveryInput {
    pub offer: ciel_terms::Offer,
    /// When the disaster on the primary site began.
    pub disaster_at: Timestamp,
    pub machines: Vec<CloudMachine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudMachine {
    pub name: String,
    /// Restart on the secondary site; absent = not restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<Timestamp>,
    /// Point in time of the data it restarted from (backup or replica).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<Timestamp>,
}

/// Report of inter-site recovery objectives; no penalty table applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudRecoveryReport {
    pub rto_hours: Option<u32>,
    pub rpo_minutes: Option<u32>,
    pub machines: u32,
    pub late: u32,
    pub performance_percent: Decimal,
    pub min_performance_percent: Decimal,
    pub rto_met: bool,
    pub rpo_missed: u32,
}

impl Engine {
    /// Inter-site RTO/RPO of a cloud offer after a disaster (R6.1): reported,
    /// with the same one-late-machine allowance as R6.3; no penalty.
    pub fn cloud_recovery(
        &self,
        i: &CloudRecoveryInput,
    ) -> Result<Explained<CloudRecoveryReport>, EngineError> {
        let c = &self.terms.recovery.cloud;
        let obj = c
            .offers
            .get(&i.offer)
            .cloned()
            .unwrap_or(ciel_terms::CloudObjective {
                rto_hours: None,
                rpo_minutes: None,
                condition: None,
            });
        let n = u32::try_from(i.machines.len()).map_err(|_| crate::invalid("too many machines"))?;
        if n == 0 {
            return Err(crate::invalid("no machine to report on"));
        }
        let late = match obj.rto_hours {
            Some(h) => i
                .machines
                .iter()
                .filter(|m| {
                    m.restarted_at.is_none_or(|t| {
                        t.duration_since(i.disaster_at).as_secs() > i64::from(h) * 3600
                    })
                })
                .count() as u32,
            None => 0,
        };
        let rpo_missed = match obj.rpo_minutes {
            Some(m) => i
                .machines
                .iter()
                .filter(|x| {
                    x.data_as_of.is_none_or(|p| {
                        i.disaster_at.duration_since(p).as_secs() > i64::from(m) * 60
                    })
                })
                .count() as u32,
            None => 0,
        };
        let perf = Decimal::from(n - late) * Decimal::ONE_HUNDRED / Decimal::from(n);
        let min = c.min_performance_percent.0;
        let allowed = self.terms.recovery.allowance.late_machines_allowed;
        let rto_met = obj.rto_hours.is_none()
            || Decimal::from(n - late) * Decimal::ONE_HUNDRED >= min * Decimal::from(n)
            || late <= allowed;
        let mut ex = Explanation::default();
        let rto_txt = obj
            .rto_hours
            .map_or("sans engagement".to_string(), |h| format!("{h} h"));
        let rto_txt_en = obj
            .rto_hours
            .map_or("no commitment".to_string(), |h| format!("{h} h"));
        let rpo_txt = obj
            .rpo_minutes
            .map_or("-".to_string(), |m| hms(i64::from(m) * 60));
        ex.push(
            Step::new(&c.rule, &c.clause)
                .input("offer", format!("{:?}", i.offer))
                .input("machines", n)
                .input("late", late)
                .outcome(format!("rto_met={rto_met} rpo_missed={rpo_missed}"))
                .text(
                    format!(
                        "sinistre sur site primaire : RTO {rto_txt}, {late} VM en retard sur {n} (performance {} %, minimum {} % ou une VM en retard) → {} ; RPO {rpo_txt} : {rpo_missed} VM au-delà (rapporté, sans pénalité)",
                        num_dp(perf, 2, Lang::Fr),
                        num(min, Lang::Fr),
                        if rto_met { "respecté" } else { "non respecté" }
                    ),
                    format!(
                        "disaster on the primary site: RTO {rto_txt_en}, {late} late VM(s) of {n} (performance {} %, minimum {} % or one late VM) → {}; RPO {rpo_txt}: {rpo_missed} VM(s) beyond it (reported, no penalty)",
                        num_dp(perf, 2, Lang::En),
                        num(min, Lang::En),
                        if rto_met { "met" } else { "missed" }
                    ),
                ),
        );
        Ok(Explained {
            value: CloudRecoveryReport {
                rto_hours: obj.rto_hours,
                rpo_minutes: obj.rpo_minutes,
                machines: n,
                late,
                performance_percent: perf,
                min_performance_percent: min,
                rto_met,
                rpo_missed,
            },
            explanation: ex,
        })
    }
}
