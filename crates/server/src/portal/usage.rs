//! Usage pages (issue 6, item 2): a service's month of usage, in the client
//! space (`/espace-client/usage/{id}?month=YYYY-MM`) and the back office
//! (`/back-office/usage/{id}`): per port the traffic chart (hourly peaks in
//! and out, accessible inline SVG) with the 95th percentile and flat tier
//! lines, the percentiles, overage and its price with the rules applied;
//! power against the subscription; storage against the subscription with
//! the R2.9 outcomes; the fair-use flag. Staff import CSV files of readings
//! at `/back-office/usage/import` (refused whole at the first bad line).

use super::{Ctx, Form, Viewer, done};
use crate::i18n::Tr;
use crate::sla::evidence::Month;
use crate::usage::view::{self, AdjustmentView, PortUsage, PowerUsage, StorageUsage, TrafficUsage};
use crate::usage::{self, Kind};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use ciel_documents::chart::{self, Level, Series, TrafficChart};
use ciel_engine::Lang;
use rust_decimal::Decimal;
use std::collections::HashMap;

pub struct PortSection {
    pub port: PortUsage,
    pub svg: String,
    pub steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsageTemplate {
    t: Tr,
    ctx: Ctx,
    base: &'static str,
    service_id: String,
    label: String,
    month: String,
    ports: Vec<PortSection>,
    power: Option<PowerUsage>,
    storage: Option<StorageUsage>,
    traffic: Option<TrafficUsage>,
    adjustments: Vec<AdjustmentView>,
}

#[derive(Template)]
#[template(path = "usage_import.html")]
struct ImportTemplate {
    t: Tr,
    ctx: Ctx,
    kind: String,
    text: String,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

fn dec(s: &str) -> Option<Decimal> {
    Decimal::from_str_exact(s).ok()
}

/// The traffic chart of one port: hourly peaks in and out, the billed
/// percentile and the flat tier.
fn port_chart(p: &PortUsage, tr: Tr, l: Lang, n: usize) -> String {
    let comma = |s: &str| {
        if l == Lang::Fr {
            s.replace('.', ",")
        } else {
            s.to_owned()
        }
    };
    let c = TrafficChart {
        id: format!("usage-port-{n}"),
        title: format!("{} {}", tr.t("usage.chart_title"), p.port),
        desc: tr.t("usage.chart_desc").to_owned(),
        unit: "Mbit/s".into(),
        series: vec![
            Series {
                label: tr.t("usage.in").to_owned(),
                colour: chart::IN_COLOUR,
                values: p.hours.iter().map(|h| dec(&h.in_mbps)).collect(),
            },
            Series {
                label: tr.t("usage.out").to_owned(),
                colour: chart::OUT_COLOUR,
                values: p.hours.iter().map(|h| dec(&h.out_mbps)).collect(),
            },
        ],
        levels: [
            (&p.billed_p95_mbps, "usage.p95_line", chart::LEVEL_COLOUR),
            (&p.flat_mbps, "usage.flat_line", chart::FLAT_COLOUR),
        ]
        .into_iter()
        .filter_map(|(v, key, colour)| {
            dec(v).map(|value| Level {
                value,
                label: format!("{} {} Mbit/s", tr.t(key), comma(v)),
                colour,
            })
        })
        .collect(),
        x_labels: p
            .hours
            .iter()
            .enumerate()
            .filter(|(_, h)| h.hour.ends_with("T00"))
            .map(|(i, h)| (i, h.hour[8..10].trim_start_matches('0').to_owned()))
            .collect(),
        decimal_comma: l == Lang::Fr,
    };
    chart::traffic(&c)
}

async fn show(v: Viewer, staff: bool, id: String, q: HashMap<String, String>) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        v.require_service_viewer()
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let month = match q.get("month").map(|m| m.trim()).filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m, "month"),
        None => Month::containing(v.state.now()).ok_or_else(crate::problem::Problem::internal),
    };
    let u = match month {
        Ok(m) => view::of_service(&v.state, &p, &id, &m).await,
        Err(e) => Err(e),
    };
    let u = match u {
        Ok(u) => u,
        Err(e) if e.status == 404 => return v.not_found(),
        Err(e) => {
            return v.message(
                e.status_code(),
                "error.validation_failed",
                &v.problem_text(&e),
                None,
            );
        }
    };
    let l = lang(&v);
    let ports = u
        .ports
        .into_iter()
        .enumerate()
        .map(|(n, port)| PortSection {
            svg: port_chart(&port, v.tr, l, n),
            steps: port
                .explanation
                .steps
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}) : {}",
                        s.rule,
                        s.clause,
                        if l == Lang::Fr { &s.fr } else { &s.en }
                    )
                })
                .collect(),
            port,
        })
        .collect();
    v.render(UsageTemplate {
        t: v.tr,
        ctx: v.ctx(),
        base: if staff {
            "/back-office"
        } else {
            "/espace-client"
        },
        service_id: u.service_id,
        label: u.label,
        month: u.month,
        ports,
        power: u.power,
        storage: u.storage,
        traffic: u.traffic,
        adjustments: u.adjustments,
    })
}

/// `GET /espace-client/usage/{id}?month=YYYY-MM`.
pub async fn client_page(
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(v, false, id, q).await
}

/// `GET /back-office/usage/{id}?month=YYYY-MM`.
pub async fn staff_page(
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(v, true, id, q).await
}

fn import_page(
    v: &Viewer,
    status: StatusCode,
    kind: &str,
    text: &str,
    error: Option<String>,
) -> Response {
    v.render_status(
        status,
        ImportTemplate {
            t: v.tr,
            ctx: v.ctx(),
            kind: kind.to_owned(),
            text: text.to_owned(),
            error,
        },
    )
}

/// `GET /back-office/usage/import`: the CSV import form.
pub async fn import_form(v: Viewer) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    import_page(&v, StatusCode::OK, "bandwidth", "", None)
}

/// `POST /back-office/usage/import`: a CSV file pasted or uploaded as text;
/// refused whole at its first bad line (shown with its number).
pub async fn import(v: Viewer, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (kind, text) = (form.get("kind"), form.get("csv"));
    let Some(k) = Kind::parse(kind) else {
        return import_page(
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bandwidth",
            text,
            Some(v.tr.t("usage.bad_kind").to_owned()),
        );
    };
    if let Err(r) = usage::require_metering(&p) {
        return v.message(
            r.status_code(),
            "error.forbidden",
            &v.problem_text(&r),
            None,
        );
    }
    match usage::import(&v.state, &p.actor(v.state.now()), k, text).await {
        Ok(_) => done("/back-office/usage/import", "usage.imported"),
        Err(e) => {
            let why = format!(
                "{} {}",
                v.problem_text(&e),
                e.detail.clone().unwrap_or_default()
            );
            import_page(&v, e.status_code(), kind, text, Some(why))
        }
    }
}
