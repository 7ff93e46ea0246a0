//! The back office's tariff page: the price list versions published, each
//! with its prices per SKU and tiers, and the form publishing a new version
//! through `crate::orders::publish_price_list` (same checks and notices as
//! the API; a refusal such as R2.2's is shown next to its field, the typed
//! values kept).

use super::{Ctx, Form, Viewer, done};
use crate::i18n::Tr;
use crate::orders::{self, PriceListInput};
use crate::problem::Problem;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_catalog::{Sku, TieredPrice};
use ciel_domain::StaffRole;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One price of a version: its SKU and its tiers, as the form writes them.
pub struct PriceRow {
    pub sku: String,
    pub tiers: Vec<String>,
}

pub struct VersionRow {
    pub name: String,
    pub effective_from: String,
    pub published_at: String,
    pub notified_at: String,
    pub prices: Vec<PriceRow>,
}

/// The values typed into the form, kept on error, and the errors by field.
#[derive(Default)]
pub struct TariffForm {
    pub name: String,
    pub effective_from: String,
    pub prices: String,
    pub name_error: Option<String>,
    pub effective_from_error: Option<String>,
    pub prices_error: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "price_lists.html")]
struct Page {
    t: Tr,
    ctx: Ctx,
    versions: Vec<VersionRow>,
    can_publish: bool,
    skus: Vec<String>,
    form: TariffForm,
}

/// One tier as a line of the form: `unit_price [up_to|-] [flat]`.
fn tier_text(t: &ciel_catalog::Tier) -> String {
    let up_to = t
        .up_to
        .map_or("-".to_owned(), |u| u.normalize().to_string());
    let flat = t.flat.get();
    if flat.is_zero() && t.up_to.is_none() {
        t.unit_price.get().normalize().to_string()
    } else if flat.is_zero() {
        format!("{} {up_to}", t.unit_price.get().normalize())
    } else {
        format!(
            "{} {up_to} {}",
            t.unit_price.get().normalize(),
            flat.normalize()
        )
    }
}

/// A version's prices, read back as the catalog writes them.
fn prices_of(prices_json: &str) -> Vec<PriceRow> {
    let prices: BTreeMap<Sku, TieredPrice> = serde_json::from_str(prices_json).unwrap_or_default();
    prices
        .iter()
        .map(|(sku, p)| PriceRow {
            sku: sku.as_str().to_owned(),
            tiers: p.tiers().iter().map(tier_text).collect(),
        })
        .collect()
}

/// The prices of a version as the form's text, one tier a line.
fn prices_text(rows: &[PriceRow]) -> String {
    rows.iter()
        .flat_map(|r| r.tiers.iter().map(move |t| format!("{} {t}\n", r.sku)))
        .collect()
}

/// Reads the form's text (`sku unit_price [up_to|-] [flat]`, one tier a
/// line, a SKU's tiers in order) into the JSON the catalog reads; only the
/// layout is checked here, the values by the workflow.
pub fn parse_prices(text: &str) -> Result<Value, Problem> {
    let mut out: Map<String, Value> = Map::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        if !(2..=4).contains(&words.len()) {
            return Err(Problem::invalid(
                "prices",
                format!(
                    "line {}: expected `SKU unit_price [up_to|-] [flat]`, got {line:?}",
                    n + 1
                ),
            ));
        }
        let mut tier = Map::new();
        tier.insert("unit_price".into(), json!(words[1]));
        if let Some(u) = words.get(2).filter(|u| **u != "-") {
            tier.insert("up_to".into(), json!(u));
        }
        if let Some(f) = words.get(3) {
            tier.insert("flat".into(), json!(f));
        }
        match out.entry(words[0].to_owned()).or_insert_with(|| json!([])) {
            Value::Array(tiers) => tiers.push(Value::Object(tier)),
            _ => unreachable!("entries are arrays"),
        }
    }
    Ok(Value::Object(out))
}

/// The datacenter codes of the terms in force today (colocation SKUs).
pub fn datacenters(v: &Viewer) -> Vec<String> {
    let today = v.state.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let registry = orders::registry(&v.state);
    let terms = registry
        .in_force_on(today)
        .unwrap_or_else(|| ciel_terms::embedded());
    terms.colocation.datacenters.keys().cloned().collect()
}

async fn page(v: &Viewer, form: Option<TariffForm>, status: StatusCode) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = match ciel_store::catalog::all(v.state.store().db()).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "price list read failed");
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        }
    };
    let versions: Vec<VersionRow> = rows
        .iter()
        .rev()
        .map(|r| VersionRow {
            name: r.name.clone(),
            effective_from: r.effective_from.clone(),
            published_at: v.time(r.published_at),
            notified_at: r.notified_at.map(|t| v.time(t)).unwrap_or_default(),
            prices: prices_of(&r.prices_json),
        })
        .collect();
    let form = form.unwrap_or_else(|| TariffForm {
        prices: versions
            .first()
            .map(|l| prices_text(&l.prices))
            .unwrap_or_default(),
        ..TariffForm::default()
    });
    let skus = ciel_catalog::catalogue_skus(datacenters(v).iter().map(String::as_str));
    v.render_status(
        status,
        Page {
            t: v.tr,
            ctx: v.ctx(),
            versions,
            can_publish: p.staff_role().is_some_and(StaffRole::manages_clients),
            skus,
            form,
        },
    )
}

pub async fn list(v: Viewer) -> Response {
    page(&v, None, StatusCode::OK).await
}

pub async fn publish(v: Viewer, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut kept = TariffForm {
        name: form.get("name").into(),
        effective_from: form.get("effective_from").into(),
        prices: form.get("prices").into(),
        ..TariffForm::default()
    };
    let result = match parse_prices(&kept.prices) {
        Ok(prices) => {
            let input = PriceListInput {
                name: kept.name.clone(),
                effective_from: kept.effective_from.clone(),
                prices,
            };
            orders::publish_price_list(&v.state, &p, input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => done("/back-office/price-lists", "tariffs.published"),
        Err(e) => {
            let text = Some(v.problem_text(&e));
            match e.field.as_deref() {
                Some("name") => kept.name_error = text,
                Some("effective_from") => kept.effective_from_error = text,
                Some(f) if f.starts_with("prices") => kept.prices_error = text,
                _ => kept.error = text,
            }
            page(&v, Some(kept), e.status_code()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_of_a_tariff_reads_back_as_the_catalog_json() {
        let text = "# comment\nbackup.storage_gb 0.05\n\ncloud_vm.mono_site.storage_gb 0.10 1000\ncloud_vm.mono_site.storage_gb 0.08 - 20\n";
        let v = parse_prices(text).unwrap();
        assert_eq!(
            v,
            json!({
                "backup.storage_gb": [{"unit_price": "0.05"}],
                "cloud_vm.mono_site.storage_gb": [
                    {"unit_price": "0.10", "up_to": "1000"},
                    {"unit_price": "0.08", "flat": "20"}
                ]
            })
        );
        // The page writes the prices back in the same layout.
        let prices: BTreeMap<Sku, TieredPrice> = serde_json::from_value(v).unwrap();
        let rows = prices_of(&serde_json::to_string(&prices).unwrap());
        assert_eq!(
            prices_text(&rows),
            "backup.storage_gb 0.05\ncloud_vm.mono_site.storage_gb 0.1 1000\ncloud_vm.mono_site.storage_gb 0.08 - 20\n"
        );
    }

    #[test]
    fn a_line_of_the_wrong_shape_names_its_number() {
        for bad in ["backup.storage_gb", "a 1 2 3 4"] {
            let p = parse_prices(&format!("support.premium 300\n{bad}")).unwrap_err();
            assert_eq!(p.field.as_deref(), Some("prices"));
            assert!(p.detail.unwrap().starts_with("line 2:"), "{bad}");
        }
    }
}
