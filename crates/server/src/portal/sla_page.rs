//! The per-service SLA page (issue 5, item 8): the month's availability,
//! guaranteed rate, penalty tier and explanation, with two inline SVG charts
//! readable without JavaScript (daily availability over the month, monthly
//! rate over 12 months) and the day-by-day table behind the first. Client
//! space `/espace-client/services/{id}/sla?month=YYYY-MM`, back office
//! `/back-office/services/{id}/sla?month=YYYY-MM`; the figures come from
//! [`crate::sla_page`].

use super::{Ctx, Viewer};
use crate::i18n::Tr;
use crate::sla_page::{SlaPage, has_happened, page};
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use ciel_documents::chart::{self, Chart, Point};
use ciel_engine::Lang;
use ciel_engine::explain::num_dp;
use std::collections::HashMap;

pub struct StepLine {
    pub rule: String,
    pub clause: String,
    pub text: String,
}

pub struct DayLine {
    pub date: String,
    pub minutes: i64,
    pub unavailable: i64,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "service_sla.html")]
struct SlaTemplate {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    service_id: String,
    label: String,
    month: String,
    rate: String,
    guaranteed: String,
    met: bool,
    unavailable: i64,
    month_minutes: i64,
    tier: String,
    penalty: String,
    stored: bool,
    daily_svg: String,
    history_svg: String,
    days: Vec<DayLine>,
    steps: Vec<StepLine>,
}

fn lang(v: &Viewer) -> Lang {
    match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

/// The two charts of a page, in the viewer's language.
pub fn charts(p: &SlaPage, tr: Tr, l: Lang) -> (String, String) {
    let a = &p.figures.statement.availability;
    let g = a.guaranteed_percent;
    let g_label = format!("{} {} %", tr.t("sla_page.guaranteed_line"), num_dp(g, 2, l));
    let daily = Chart {
        id: "sla-daily".into(),
        title: format!(
            "{} — {}",
            tr.t("sla_page.daily_title"),
            p.figures.month.label
        ),
        desc: tr.t("sla_page.daily_desc").to_owned(),
        points: p
            .days
            .iter()
            .map(|d| {
                let happened = has_happened(p, d.date);
                Point {
                    label: d.date.day().to_string(),
                    value: happened.then_some(d.rate_percent),
                    title: if happened {
                        format!(
                            "{} : {} % ({} min / {})",
                            d.date,
                            num_dp(d.rate_percent, 4, l),
                            d.unavailable_minutes,
                            d.day_minutes
                        )
                    } else {
                        format!("{} : {}", d.date, tr.t("sla_page.no_data"))
                    },
                }
            })
            .collect(),
        guaranteed: g,
        guaranteed_label: g_label.clone(),
        decimal_comma: l == Lang::Fr,
    };
    let history = Chart {
        id: "sla-history".into(),
        title: tr.t("sla_page.history_title").to_owned(),
        desc: tr.t("sla_page.history_desc").to_owned(),
        points: p
            .history
            .iter()
            .map(|(m, r)| Point {
                label: m.label.clone(),
                value: *r,
                title: match r {
                    Some(r) => format!("{} : {} %", m.label, num_dp(*r, 4, l)),
                    None => format!("{} : {}", m.label, tr.t("sla_page.no_data")),
                },
            })
            .collect(),
        guaranteed: g,
        guaranteed_label: g_label,
        decimal_comma: l == Lang::Fr,
    };
    (chart::bars(&daily), chart::line(&history))
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
    let month = q.get("month").map(|m| m.trim()).filter(|m| !m.is_empty());
    let page = match page(&v.state, &p, &id, month).await {
        Ok(x) => x,
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
    let (daily_svg, history_svg) = charts(&page, v.tr, l);
    let a = &page.figures.statement.availability;
    let tier = match &a.tier {
        Some(t) => {
            let lower = t.lower.map_or("0".to_owned(), |x| num_dp(x, 2, l));
            format!("[{lower} ; {}[", num_dp(t.upper, 2, l))
        }
        None => v.tr.t("sla_page.no_penalty").to_owned(),
    };
    v.render(SlaTemplate {
        t: v.tr,
        ctx: v.ctx(),
        staff,
        service_id: page.service.id.to_string(),
        label: page.service.label.clone(),
        month: page.figures.month.label.clone(),
        rate: num_dp(a.rate_percent, 4, l),
        guaranteed: num_dp(a.guaranteed_percent, 2, l),
        met: a.met,
        unavailable: a.unavailable_minutes,
        month_minutes: a.month_minutes,
        tier,
        penalty: ciel_engine::explain::num(a.penalty_percent, l),
        stored: page.figures.stored,
        daily_svg,
        history_svg,
        days: page
            .days
            .iter()
            .filter(|d| has_happened(&page, d.date))
            .map(|d| DayLine {
                date: d.date.to_string(),
                minutes: d.day_minutes,
                unavailable: d.unavailable_minutes,
                rate: num_dp(d.rate_percent, 4, l),
            })
            .collect(),
        steps: page
            .figures
            .explanation
            .steps
            .iter()
            .map(|s| StepLine {
                rule: s.rule.clone(),
                clause: s.clause.clone(),
                text: match l {
                    Lang::Fr => s.fr.clone(),
                    Lang::En => s.en.clone(),
                },
            })
            .collect(),
    })
}

/// `GET /espace-client/services/{id}/sla?month=YYYY-MM`.
pub async fn client_page(
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(v, false, id, q).await
}

/// `GET /back-office/services/{id}/sla?month=YYYY-MM`.
pub async fn staff_page(
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(v, true, id, q).await
}
