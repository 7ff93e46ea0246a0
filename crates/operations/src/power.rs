//! Power of a colocation emplacement (R11.5, CS 2.3.3 and 2.3.5).
//!
//! The order sets a maximum amperage and a maximum power in kVA per
//! emplacement; the client must not exceed them, the provider may test the
//! intensity or power consumed "et facturer le cas échéant au Client ce
//! surplus de consommation", and "les dépassements ... d'électricité ...
//! seront réglés selon la consommation constatée".
//!
//! Readings:
//! - A reading is **above** when a measure is strictly greater than its
//!   subscribed maximum (reaching the maximum is not exceeding it), **near**
//!   when it is at or above `power_near_percent` of it. The alert of a period
//!   is the highest level of its readings, so a later reading never lowers it
//!   (an excess stays on record for billing even when the load drops).
//! - What billing receives: the contract speaks of a *surplus of
//!   consumption* settled *according to the consumption measured*, which is
//!   energy, not a peak. With [`ExcessBasis::Energy`] (the default) billing
//!   gets the energy drawn above the subscribed kVA, in kVAh: each kVA
//!   reading holds until the next one (or the end of the period) and only the
//!   part above the subscription counts. [`ExcessBasis::PeakPower`] hands the
//!   highest kVA above the subscription instead, for a provider whose price
//!   list prices excess power. Amperage excess raises alerts; it is not
//!   billed by itself (amps without voltage are not a consumption).

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Decision, Operations, OperationsError, cite, invalid};

/// What a power excess is billed on (product parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcessBasis {
    /// kVAh drawn above the subscribed kVA.
    Energy,
    /// The highest kVA above the subscribed kVA.
    PeakPower,
}

/// The subscription of one emplacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emplacement {
    pub id: String,
    pub subscribed_amps: Decimal,
    pub subscribed_kva: Decimal,
}

/// One measurement; either measure may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerReading {
    pub at: Timestamp,
    pub amps: Option<Decimal>,
    pub kva: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerLevel {
    Normal,
    Near,
    Above,
}

/// What billing receives for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerExcess {
    pub basis: ExcessBasis,
    /// kVAh (energy) or kVA (peak power) to bill; zero when none.
    pub quantity: Decimal,
    pub excess_kvah: Decimal,
    pub peak_excess_kva: Decimal,
    pub peak_excess_amps: Decimal,
}

/// The assessment of a period's readings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerAssessment {
    pub emplacement: String,
    pub level: PowerLevel,
    pub peak_amps: Option<Decimal>,
    pub peak_kva: Option<Decimal>,
    pub excess: PowerExcess,
    pub reasons: Decision,
}

impl Operations {
    fn level_of(&self, value: Decimal, subscribed: Decimal) -> PowerLevel {
        if value > subscribed {
            PowerLevel::Above
        } else if value * Decimal::from(100) >= subscribed * self.product.power_near_percent {
            PowerLevel::Near
        } else {
            PowerLevel::Normal
        }
    }

    /// The level of one reading: the higher of its amperage and kVA levels.
    pub fn power_level(&self, e: &Emplacement, r: &PowerReading) -> PowerLevel {
        let a = r
            .amps
            .map_or(PowerLevel::Normal, |v| self.level_of(v, e.subscribed_amps));
        let k = r
            .kva
            .map_or(PowerLevel::Normal, |v| self.level_of(v, e.subscribed_kva));
        a.max(k)
    }

    /// Assesses the readings of a period ending at `period_end` (exclusive):
    /// the alert level and the excess handed to billing.
    pub fn assess_power(
        &self,
        e: &Emplacement,
        readings: &[PowerReading],
        period_end: Timestamp,
    ) -> Result<PowerAssessment, OperationsError> {
        if e.subscribed_amps <= Decimal::ZERO || e.subscribed_kva <= Decimal::ZERO {
            return Err(invalid("subscribed amperage and kVA must be positive"));
        }
        let mut sorted: Vec<PowerReading> = readings.to_vec();
        sorted.sort_by_key(|r| r.at);
        if sorted.last().is_some_and(|r| r.at > period_end) {
            return Err(invalid("a reading is after the end of the period"));
        }
        let level = sorted
            .iter()
            .map(|r| self.power_level(e, r))
            .max()
            .unwrap_or(PowerLevel::Normal);
        let peak_amps = sorted.iter().filter_map(|r| r.amps).max();
        let peak_kva = sorted.iter().filter_map(|r| r.kva).max();
        let kva: Vec<(Timestamp, Decimal)> = sorted
            .iter()
            .filter_map(|r| r.kva.map(|k| (r.at, k)))
            .collect();
        let mut excess_kvah = Decimal::ZERO;
        for (i, (at, k)) in kva.iter().enumerate() {
            let until = kva.get(i + 1).map_or(period_end, |(t, _)| *t);
            let over = *k - e.subscribed_kva;
            if over > Decimal::ZERO {
                let secs = Decimal::from(until.as_second() - at.as_second());
                excess_kvah += over * secs / Decimal::from(3600);
            }
        }
        let peak_excess_kva = peak_kva
            .map(|p| (p - e.subscribed_kva).max(Decimal::ZERO))
            .unwrap_or_default();
        let peak_excess_amps = peak_amps
            .map(|p| (p - e.subscribed_amps).max(Decimal::ZERO))
            .unwrap_or_default();
        let basis = self.product.power_excess_basis;
        let quantity = match basis {
            ExcessBasis::Energy => excess_kvah,
            ExcessBasis::PeakPower => peak_excess_kva,
        };
        let near = self.product.power_near_percent;
        let show = |d: Option<Decimal>| d.map_or("—".to_string(), |d| d.normalize().to_string());
        let (lfr, len) = match level {
            PowerLevel::Normal => ("normal", "normal"),
            PowerLevel::Near => ("proche du maximum souscrit", "near the subscribed maximum"),
            PowerLevel::Above => (
                "au-delà du maximum souscrit",
                "above the subscribed maximum",
            ),
        };
        let mut steps = vec![
            cite::step(cite::POWER)
                .input("subscribed_amps", e.subscribed_amps)
                .input("subscribed_kva", e.subscribed_kva)
                .input("near_percent", near)
                .input("readings", sorted.len())
                .outcome(format!(
                    "{}:power_{}",
                    if level == PowerLevel::Above {
                        "deny"
                    } else {
                        "allow"
                    },
                    match level {
                        PowerLevel::Normal => "normal",
                        PowerLevel::Near => "near",
                        PowerLevel::Above => "above",
                    }
                ))
                .text(
                    format!(
                        "pics {} A / {} kVA pour {} A / {} kVA souscrits (alerte à {} %) → {lfr}",
                        show(peak_amps),
                        show(peak_kva),
                        e.subscribed_amps.normalize(),
                        e.subscribed_kva.normalize(),
                        near.normalize()
                    ),
                    format!(
                        "peaks {} A / {} kVA for {} A / {} kVA subscribed (alert at {} %) → {len}",
                        show(peak_amps),
                        show(peak_kva),
                        e.subscribed_amps.normalize(),
                        e.subscribed_kva.normalize(),
                        near.normalize()
                    ),
                ),
        ];
        if quantity > Decimal::ZERO {
            let (unit, what_fr, what_en) = match basis {
                ExcessBasis::Energy => (
                    "kVAh",
                    "énergie au-delà de la puissance souscrite",
                    "energy above the subscribed power",
                ),
                ExcessBasis::PeakPower => (
                    "kVA",
                    "puissance de pointe au-delà de la souscription",
                    "peak power above the subscription",
                ),
            };
            steps.push(
                cite::step(cite::POWER_EXCESS)
                    .input("basis", format!("{basis:?}"))
                    .outcome(format!("note:excess_billed={}", quantity.normalize()))
                    .text(
                        format!(
                            "dépassement facturé selon la consommation constatée : {} {unit} ({what_fr})",
                            quantity.normalize()
                        ),
                        format!(
                            "excess billed as measured: {} {unit} ({what_en})",
                            quantity.normalize()
                        ),
                    ),
            );
        }
        Ok(PowerAssessment {
            emplacement: e.id.clone(),
            level,
            peak_amps,
            peak_kva,
            excess: PowerExcess {
                basis,
                quantity,
                excess_kvah,
                peak_excess_kva,
                peak_excess_amps,
            },
            reasons: Decision::from_steps(steps),
        })
    }
}
