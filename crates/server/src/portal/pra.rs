//! PRA activations in the portal (R6, R10.3-R10.4): the client space lists
//! its failovers and tests with the RTO/RPO results per criticality and
//! their explanation; the back office records them from the client's
//! request, then each machine's restoration and the return to nominal.
//! Every action runs the API's workflow (`crate::pra`).

use super::{Ctx, Form, Viewer, done, optional_instant};
use crate::auth::Principal;
use crate::i18n::Tr;
use crate::pra::{self, ActivationDetail, ActivationInput};
use crate::problem::Problem;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;
use ciel_engine::explain::num_dp;
use jiff::{SignedDuration, Timestamp};

pub struct ActivationRow {
    pub id: String,
    pub order_id: String,
    pub requested_at: String,
    pub requester: String,
    pub kind: String,
    pub closed_at: Option<String>,
    pub machines: usize,
    pub penalty: String,
}

pub struct MachineRow {
    pub service_id: String,
    pub machine: String,
    pub criticality: String,
    pub refused: bool,
    pub reachable_at: Option<String>,
    pub rto: Option<String>,
    pub recovery_point_at: Option<String>,
    pub rpo: Option<String>,
}

pub struct CriticalityRow {
    pub criticality: String,
    pub machines: u32,
    pub late: u32,
    pub performance: String,
    pub minimum: String,
    pub rto_target: String,
    pub longest: String,
    pub met: bool,
    pub penalty: String,
    pub rpo_target: String,
    pub rpo_missed: u32,
}

#[derive(Template)]
#[template(path = "pra_activations.html")]
struct ListPage {
    t: Tr,
    ctx: Ctx,
    org_name: String,
    base: String,
    activations: Vec<ActivationRow>,
    /// Staff: the org's PRA orders, for the record form.
    orders: Vec<String>,
    form_action: String,
    is_staff: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "pra_activation.html")]
struct DetailPage {
    t: Tr,
    ctx: Ctx,
    a: ActivationRow,
    back: String,
    action_base: String,
    note: String,
    machines: Vec<MachineRow>,
    results: Vec<CriticalityRow>,
    test: bool,
    explanation: Vec<String>,
    is_staff: bool,
    open: bool,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    if v.tr.code() == "en" {
        Lang::En
    } else {
        Lang::Fr
    }
}

/// A duration as `h:mm`.
fn hours(d: SignedDuration) -> String {
    let m = d.as_secs().div_euclid(60);
    format!("{}:{:02}", m.div_euclid(60), m.rem_euclid(60))
}

fn kind(t: &Tr, k: Option<&str>) -> String {
    t.t(match k {
        Some("simple") => "pra.test_simple",
        Some("full") => "pra.test_full",
        _ => "pra.failover",
    })
    .to_owned()
}

fn row(v: &Viewer, d: &ActivationDetail) -> ActivationRow {
    let r = &d.row;
    ActivationRow {
        id: r.id.to_string(),
        order_id: r.order_id.clone(),
        requested_at: v.time(r.requested_at),
        requester: r.requester.clone(),
        kind: kind(&v.tr, r.test_kind.as_deref()),
        closed_at: r.closed_at.map(|t| v.time(t)),
        machines: r.machines.len(),
        penalty: num_dp(d.outcome.penalty_percent, 0, lang(v)),
    }
}

fn since(from: Timestamp, to: Timestamp) -> SignedDuration {
    to.duration_since(from)
}

async fn list_page(
    v: &Viewer,
    p: &Principal,
    org_id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let db = v.state.store().db();
    let Ok(org) = ciel_store::orgs::get(db, &p.scope, org_id).await else {
        return v.not_found();
    };
    let page = match pra::list(&v.state, p, org_id, None, 200).await {
        Ok(page) => page,
        Err(e) if e.status == 404 => return v.not_found(),
        Err(e) => return v.message(e.status_code(), "error.internal", "", None),
    };
    let mut orders = Vec::new();
    if p.is_staff()
        && let Ok(s) = ciel_store::services::list(db, &p.scope, org_id, None, 200).await
    {
        for s in s.items.iter().filter(|s| s.kind == "pra") {
            if !orders.contains(&s.order_id) {
                orders.push(s.order_id.clone());
            }
        }
    }
    let base = if p.is_staff() {
        "/back-office"
    } else {
        "/espace-client"
    };
    v.render_status(
        status,
        ListPage {
            t: v.tr,
            ctx: v.ctx(),
            org_name: org.name,
            base: base.to_owned(),
            activations: page.items.iter().map(|d| row(v, d)).collect(),
            orders,
            form_action: format!("/back-office/organizations/{org_id}/pra-activations"),
            is_staff: p.is_staff(),
            error,
        },
    )
}

async fn detail_page(
    v: &Viewer,
    p: &Principal,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let d = match pra::get(&v.state, p, id).await {
        Ok(d) => d,
        Err(_) => return v.not_found(),
    };
    let lang = lang(v);
    let r = &d.row;
    let (back, action_base) = if p.is_staff() {
        (
            format!("/back-office/organizations/{}/pra-activations", r.org_id),
            format!("/back-office/pra-activations/{}", r.id),
        )
    } else {
        ("/espace-client/pra-activations".to_owned(), String::new())
    };
    let pct = |x| num_dp(x, 2, lang);
    let dash = || "—".to_owned();
    v.render_status(
        status,
        DetailPage {
            t: v.tr,
            ctx: v.ctx(),
            a: row(v, &d),
            back,
            action_base,
            note: r.note.clone(),
            machines: r
                .machines
                .iter()
                .map(|m| MachineRow {
                    service_id: m.service_id.clone(),
                    machine: m.machine.clone(),
                    criticality: m.criticality.to_uppercase(),
                    refused: m.criticality_refused,
                    reachable_at: m.reachable_at.map(|t| v.time(t)),
                    rto: m.reachable_at.map(|t| hours(since(r.requested_at, t))),
                    recovery_point_at: m.recovery_point_at.map(|t| v.time(t)),
                    rpo: m.recovery_point_at.map(|t| hours(since(t, r.requested_at))),
                })
                .collect(),
            results: d
                .outcome
                .criticalities
                .iter()
                .map(|c| CriticalityRow {
                    criticality: c.criticality.to_string(),
                    machines: c.machines,
                    late: c.late,
                    performance: pct(c.performance_percent),
                    minimum: c
                        .min_performance_percent
                        .map(|m| format!("{} %", pct(m)))
                        .unwrap_or_else(dash),
                    rto_target: c.rto_hours.map(|h| format!("{h} h")).unwrap_or_else(dash),
                    longest: c
                        .longest_delay_seconds
                        .map(|s| hours(SignedDuration::from_secs(s)))
                        .unwrap_or_else(|| v.tr.t("pra.not_restored").to_owned()),
                    met: c.met,
                    penalty: num_dp(c.penalty_percent, 0, lang),
                    rpo_target: c.rpo_hours.map(|h| format!("{h} h")).unwrap_or_else(dash),
                    rpo_missed: c.rpo_missed,
                })
                .collect(),
            test: d.outcome.test,
            explanation: d.explanation.lines(lang),
            is_staff: p.is_staff(),
            open: r.closed_at.is_none(),
            error,
        },
    )
}

pub async fn client_list(v: Viewer) -> Response {
    match v.require_service_viewer() {
        Ok(p) => {
            let org = p.user.org_id.to_string();
            list_page(&v, p, &org, None, StatusCode::OK).await
        }
        Err(r) => r,
    }
}

pub async fn client_activation(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_service_viewer() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn staff_list(v: Viewer, Path(org_id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => list_page(&v, p, &org_id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

pub async fn staff_activation(v: Viewer, Path(id): Path<String>) -> Response {
    match v.require_staff() {
        Ok(p) => detail_page(&v, p, &id, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

fn text(form: &Form, field: &str) -> Option<String> {
    Some(form.get(field).trim().to_owned()).filter(|s| !s.is_empty())
}

/// Staff record a failover request or a test from the client's call.
pub async fn staff_record(v: Viewer, Path(org_id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let order = form.get("order_id").trim().to_owned();
    let result = async {
        let input = ActivationInput {
            requested_at: optional_instant(&form, "requested_at")?,
            requester: text(&form, "requester"),
            test_kind: text(&form, "test_kind"),
            note: text(&form, "note"),
            services: None,
            criticality_refused: Vec::new(),
            test_id: text(&form, "test_id"),
        };
        pra::record(&v.state, &p, &order, input).await
    }
    .await;
    match result {
        Ok(d) => done(
            &format!("/back-office/pra-activations/{}", d.row.id),
            "pra.recorded",
        ),
        Err(e) => {
            let status = if e.status == 404 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status_code()
            };
            list_page(&v, &p, &org_id, Some(v.problem_text(&e)), status).await
        }
    }
}

/// A restoration (reachable again at the time given, else now) or the
/// return to nominal; shared by the activation page and the follow-up.
pub(super) async fn act(
    v: &Viewer,
    p: &Principal,
    id: &str,
    form: &Form,
    what: &str,
) -> Result<(), Problem> {
    match what {
        "restorations" => {
            pra::restore(
                &v.state,
                p,
                id,
                form.get("service_id").trim(),
                optional_instant(form, "reachable_at")?.unwrap_or_else(|| v.state.now()),
                optional_instant(form, "recovery_point_at")?,
            )
            .await?;
        }
        "close" => {
            pra::close(&v.state, p, id, optional_instant(form, "closed_at")?).await?;
        }
        _ => return Err(Problem::not_found()),
    }
    Ok(())
}

/// Staff record a restoration or the return to nominal.
pub async fn staff_action(
    v: Viewer,
    Path((id, what)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match act(&v, &p, &id, &form, &what).await {
        Ok(()) => done(&format!("/back-office/pra-activations/{id}"), "pra.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => detail_page(&v, &p, &id, Some(v.problem_text(&e)), e.status_code()).await,
    }
}
