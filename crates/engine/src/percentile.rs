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

/// The billed percentile of one direction: (value, readings dropped).
/// `None` for no readings.
pub fn percentile_drop_top(
    readings: &[Decimal],
    dropped_top_percent: Decimal,
) -> Option<(Decimal, usize)> {
    if readings.is_empty() {
        return None;
    }
    let n = readings.len();
    let drop = (Decimal::from(n) * dropped_top_percent / Decimal::ONE_HUNDRED)
        .floor()
        .to_usize()
        .unwrap_or(0)
        .min(n - 1);
    let mut v = readings.to_vec();
    // The (drop)-th largest, i.e. index `drop` in decreasing order.
    let idx = n - 1 - drop;
    let (_, x, _) = v.select_nth_unstable(idx);
    Some((*x, drop))
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
        if upload.iter().chain(download).any(|r| *r < Decimal::ZERO) || flat < Decimal::ZERO {
            return Err(invalid("readings and flat tier must not be negative"));
        }
        let b = &self.terms.billing.bandwidth_percentile;
        let pct = b.dropped_top_percent.0;
        let up = percentile_drop_top(upload, pct);
        let down = percentile_drop_top(download, pct);
        let mut ex = Explanation::default();
        for (name_fr, name_en, r, n) in [
            ("montant", "upload", up, upload.len()),
            ("descendant", "download", down, download.len()),
        ] {
            if let Some((v, d)) = r {
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
            .map(|x| x.0)
            .unwrap_or_default()
            .max(down.map(|x| x.0).unwrap_or_default());
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
                upload_readings: upload.len(),
                download_readings: download.len(),
                upload_p95: up.map(|x| x.0),
                download_p95: down.map(|x| x.0),
                billed_p95: billed,
                flat,
                overage,
            },
            explanation: ex,
        })
    }
}
