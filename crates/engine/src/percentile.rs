//! 95th percentile billing of colocation bandwidth (R2.8, CS 2.3.5).
//!
//! One reading every 5 minutes; at month end the readings are sorted in
//! decreasing order, the top floor(n × 5 %) are dropped and the highest
//! remaining reading is billed. The percentile is computed per direction and
//! the higher is billed; overage = max(0, p95 − flat tier).

use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::{
    Engine, EngineError, Explained, Explanation, Step,
    explain::{Lang, num},
    invalid,
};

/// How many of `n` readings R2.8 drops: floor(n × percent / 100), keeping
/// at least one reading. Computed in integers (exact for any n).
pub fn dropped_count(n: usize, dropped_top_percent: Decimal) -> usize {
    if n == 0 {
        return 0;
    }
    (Decimal::from(n) * dropped_top_percent / Decimal::ONE_HUNDRED)
        .floor()
        .to_usize()
        .unwrap_or(0)
        .min(n - 1)
}

/// The billed percentile of one direction: (value, readings dropped).
/// `None` for no readings.
pub fn percentile_drop_top(
    readings: &[Decimal],
    dropped_top_percent: Decimal,
) -> Option<(Decimal, usize)> {
    let mut v = readings.to_vec();
    select_drop_top(&mut v, dropped_top_percent)
}

/// [`percentile_drop_top`] over readings the caller owns, reordered in
/// place: one `select_nth_unstable` (linear time, no copy, no full sort),
/// which is what a month of 8 928 readings per port needs at scale.
pub fn select_drop_top<T: Ord + Copy>(
    readings: &mut [T],
    dropped_top_percent: Decimal,
) -> Option<(T, usize)> {
    let n = readings.len();
    if n == 0 {
        return None;
    }
    let drop = dropped_count(n, dropped_top_percent);
    // The (drop)-th largest, i.e. index `drop` in decreasing order.
    let idx = n - 1 - drop;
    let (_, x, _) = readings.select_nth_unstable(idx);
    Some((*x, drop))
}

/// One direction's percentile, already computed (e.g. from integer
/// readings streamed per port): readings counted, readings dropped and the
/// value kept (`None` without readings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentile {
    pub readings: usize,
    pub dropped: usize,
    pub value: Option<Decimal>,
}

impl Percentile {
    /// The percentile of `readings` (reordered in place), scaled by `unit`
    /// (e.g. bits/s to Mbit/s: 10^6).
    pub fn of_integers(readings: &mut [u64], dropped_top_percent: Decimal, unit: Decimal) -> Self {
        let n = readings.len();
        match select_drop_top(readings, dropped_top_percent) {
            Some((v, d)) => Percentile {
                readings: n,
                dropped: d,
                value: Some(Decimal::from(v) / unit),
            },
            None => Percentile {
                readings: 0,
                dropped: 0,
                value: None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandwidthBill {
    pub upload_readings: usize,
    pub download_readings: usize,
    pub upload_p95: Option<Decimal>,
    pub download_p95: Option<Decimal>,
    /// The higher of the two.
    pub billed_p95: Decimal,
    pub flat: Decimal,
    pub overage: Decimal,
}

impl Engine {
    /// 95th percentile of both directions and the billable overage.
    pub fn bandwidth_overage(
        &self,
        upload: &[Decimal],
        download: &[Decimal],
        flat: Decimal,
    ) -> Result<Explained<BandwidthBill>, EngineError> {
        if upload.iter().chain(download).any(|r| *r < Decimal::ZERO) {
            return Err(invalid("readings and flat tier must not be negative"));
        }
        let pct = self
            .terms
            .billing
            .bandwidth_percentile
            .dropped_top_percent
            .0;
        let of = |r: &[Decimal]| {
            let p = percentile_drop_top(r, pct);
            Percentile {
                readings: r.len(),
                dropped: p.map_or(0, |x| x.1),
                value: p.map(|x| x.0),
            }
        };
        self.bandwidth_bill(of(upload), of(download), flat)
    }

    /// The R2.8 bill from each direction's percentile: the higher is kept,
    /// the overage is what exceeds the flat tier.
    pub fn bandwidth_bill(
        &self,
        up: Percentile,
        down: Percentile,
        flat: Decimal,
    ) -> Result<Explained<BandwidthBill>, EngineError> {
        if flat < Decimal::ZERO
            || [up.value, down.value]
                .iter()
                .flatten()
                .any(|v| *v < Decimal::ZERO)
        {
            return Err(invalid("readings and flat tier must not be negative"));
        }
        let b = &self.terms.billing.bandwidth_percentile;
        let pct = b.dropped_top_percent.0;
        let mut ex = Explanation::default();
        for (name_fr, name_en, p) in [("montant", "upload", up), ("descendant", "download", down)] {
            if let Some(v) = p.value {
                let (n, d) = (p.readings, p.dropped);
                ex.push(
                    Step::new(&b.rule, &b.clause)
                        .input("direction", name_en)
                        .input("readings", n)
                        .input("dropped", d)
                        .outcome(format!("p95={v}"))
                        .text(
                            format!("sens {name_fr} : {n} relevés, les {d} plus élevés (plancher de {n} × {} %) écartés → {}", num(pct, Lang::Fr), num(v, Lang::Fr)),
                            format!("{name_en}: {n} readings, the {d} highest (floor of {n} × {} %) dropped → {}", num(pct, Lang::En), num(v, Lang::En)),
                        ),
                );
            }
        }
        let billed = up
            .value
            .unwrap_or_default()
            .max(down.value.unwrap_or_default());
        let overage = (billed - flat).max(Decimal::ZERO);
        ex.push(
            Step::new(&b.rule, &b.clause)
                .input("flat", flat)
                .outcome(format!("overage={overage}"))
                .text(
                    format!("valeur retenue = la plus haute des deux = {} ; dépassement = max(0, {} − {}) = {}", num(billed, Lang::Fr), num(billed, Lang::Fr), num(flat, Lang::Fr), num(overage, Lang::Fr)),
                    format!("billed value = the higher of the two = {}; overage = max(0, {} − {}) = {}", num(billed, Lang::En), num(billed, Lang::En), num(flat, Lang::En), num(overage, Lang::En)),
                ),
        );
        Ok(Explained {
            value: BandwidthBill {
                upload_readings: up.readings,
                download_readings: down.readings,
                upload_p95: up.value,
                download_p95: down.value,
                billed_p95: billed,
                flat,
                overage,
            },
            explanation: ex,
        })
    }
}
