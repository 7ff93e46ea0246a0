//! Colocation availability in the portal (issue 5, item 7; R5.6): the back
//! office's yearly figure of every datacenter and, per datacenter, its
//! figure with the explanation and the year's episodes; the client space's
//! figures of the datacenters the client has colocation in. Figures come
//! from [`crate::datacenters`].

use super::sla_page::StepLine;
use super::{Ctx, Viewer};
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::colocation::ColocationYear;
use ciel_engine::explain::num_dp;
use ciel_engine::{Explained, Lang};
use std::collections::HashMap;

pub struct DcLine {
    pub code: String,
    pub name: String,
    pub rate: String,
    pub guaranteed: String,
    pub met: bool,
    pub unavailable: i64,
    pub year_minutes: i64,
    pub per_kind: String,
    pub steps: Vec<StepLine>,
}

pub struct EpisodeLine {
    pub id: String,
    pub kind: String,
    pub start: String,
    pub end: String,
    pub source: String,
    pub exclusion: String,
}

#[derive(Template)]
#[template(path = "colocation.html")]
struct ColocationPage {
    t: Tr,
    ctx: Ctx,
    staff: bool,
    year: i16,
    /// The datacenter of a detail page.
    detail: Option<String>,
    lines: Vec<DcLine>,
    episodes: Vec<EpisodeLine>,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

fn line(v: &Viewer, r: &Explained<ColocationYear>) -> DcLine {
    let l = lang(v);
    let x = &r.value;
    let name = crate::datacenters::engine(&v.state, v.state.now())
        .ok()
        .and_then(|e| {
            e.terms()
                .colocation
                .datacenters
                .get(&x.datacenter)
                .map(|d| d.name.clone())
        })
        .unwrap_or_default();
    DcLine {
        code: x.datacenter.clone(),
        name,
        rate: num_dp(x.rate_percent, 4, l),
        guaranteed: num_dp(x.guaranteed_percent, 2, l),
        met: x.met,
        unavailable: x.unavailable_minutes,
        year_minutes: x.year_minutes,
        per_kind: x
            .per_kind
            .iter()
            .map(|k| k.unavailable_minutes.to_string())
            .collect::<Vec<_>>()
            .join(" / "),
        steps: r
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
    }
}

/// The year of the query, or the current one; a bad year is said on the page.
fn year(v: &Viewer, q: &HashMap<String, String>) -> (i16, Option<String>) {
    let now = v.state.now().to_zoned(crate::sla::zone()).year();
    match q.get("year").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => (now, None),
        Some(s) => match s
            .parse::<i32>()
            .map_err(|_| crate::problem::Problem::invalid("year", "YYYY"))
            .and_then(crate::datacenters::check_year)
        {
            Ok(y) => (y, None),
            Err(e) => (now, Some(v.problem_text(&e))),
        },
    }
}

async fn render(
    v: &Viewer,
    staff: bool,
    detail: Option<String>,
    q: &HashMap<String, String>,
) -> Response {
    let p = match if staff {
        v.require_staff()
    } else {
        v.require_service_viewer()
    } {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let (year, error) = year(v, q);
    let codes = match (&detail, &p.scope) {
        (Some(dc), _) => Ok(vec![dc.clone()]),
        (None, ciel_store::Scope::Org(org)) => {
            crate::datacenters::org_datacenters(&v.state, &p.scope, org.as_str()).await
        }
        (None, ciel_store::Scope::Staff) => crate::datacenters::datacenters(&v.state),
    };
    let mut lines = Vec::new();
    let Ok(codes) = codes else {
        return v.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "",
            None,
        );
    };
    for dc in codes {
        match crate::datacenters::year_figure(&v.state, &p, &dc, year).await {
            Ok(r) => lines.push(line(v, &r)),
            Err(e) if e.status == 404 => return v.not_found(),
            Err(e) => {
                return v.message(e.status_code(), "error.internal", &v.problem_text(&e), None);
            }
        }
    }
    let mut episodes = Vec::new();
    if let Some(dc) = &detail {
        let Ok((from, to)) = crate::api::datacenters::year_range(year) else {
            return v.not_found();
        };
        let f = ciel_store::datacenter_episodes::Filter {
            datacenter: Some(dc.clone()),
            kind: None,
            from: Some(from),
            to: Some(to),
            limit: 2000,
        };
        let Ok(rows) = crate::datacenters::list(&v.state, &p, &f).await else {
            return v.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "",
                None,
            );
        };
        episodes = rows
            .iter()
            .map(|e| EpisodeLine {
                id: e.id.to_string(),
                kind: e.kind.clone(),
                start: v.time(e.start),
                end: e.end.map(|t| v.time(t)).unwrap_or_default(),
                source: e.source.clone(),
                exclusion: match (&e.exclusion, &e.exclusion_note) {
                    (Some(r), Some(n)) => format!("{r}: {n}"),
                    (Some(r), None) => r.clone(),
                    _ => String::new(),
                },
            })
            .collect();
    }
    v.render(ColocationPage {
        t: v.tr,
        ctx: v.ctx(),
        staff,
        year,
        detail,
        lines,
        episodes,
        error,
    })
}

/// `GET /back-office/colocation?year=YYYY`: every datacenter.
pub async fn staff_list(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    render(&v, true, None, &q).await
}

/// `GET /back-office/colocation/{dc}?year=YYYY`: one datacenter with its episodes.
pub async fn staff_datacenter(
    v: Viewer,
    Path(dc): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    render(&v, true, Some(dc), &q).await
}

/// `GET /espace-client/colocation?year=YYYY`: the client's datacenters.
pub async fn client_page(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    render(&v, false, None, &q).await
}
