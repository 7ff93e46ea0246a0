//! Backup and PRA operations pages (issue 7, items 5-7), in French and
//! English, over the same workflows as the API:
//!
//! - client space: `/espace-client/sauvegardes` (backup services and their
//!   plans, restore requests, regularisation orders),
//!   `/espace-client/sauvegardes/{id}` (plan, options, storage alert, job
//!   results, after termination; the recycle-bin restore form, R9.3) and
//!   `/espace-client/pra` (protected machines with their targets,
//!   recommendation and replication; designated users; tests; the failover
//!   form, which asks to type the order's reference to confirm);
//! - back office: `/back-office/sauvegardes` (failed jobs, restore
//!   requests to answer, regularisation orders and their 30 days).

use super::{Form, Viewer, done};
use crate::backup;
use crate::i18n::Tr;
use crate::pra::{self, ActivationInput};
use crate::pra_ops;
use crate::problem::Problem;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;

pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
}

pub struct FormView {
    pub action: String,
    pub title: String,
    pub submit: String,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsTemplate {
    t: Tr,
    ctx: super::Ctx,
    title: String,
    intro: Vec<String>,
    error: Option<String>,
    links: Vec<(String, String)>,
    tables: Vec<Table>,
    forms: Vec<FormView>,
}

struct Page {
    title: String,
    intro: Vec<String>,
    links: Vec<(String, String)>,
    tables: Vec<Table>,
    forms: Vec<FormView>,
}

fn lang(v: &Viewer) -> Lang {
    match v.tr.lang {
        ciel_domain::Lang::Fr => Lang::Fr,
        ciel_domain::Lang::En => Lang::En,
    }
}

fn table(v: &Viewer, caption: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        caption: v.tr.t(caption).to_owned(),
        headers: headers.iter().map(|h| v.tr.t(h).to_owned()).collect(),
        rows,
    }
}

fn field(v: &Viewer, form: usize, name: &str, label: &str, kind: &'static str) -> Field {
    Field {
        id: format!("f{form}-{name}"),
        name: name.to_owned(),
        label: v.tr.t(label).to_owned(),
        kind,
        value: String::new(),
        required: true,
    }
}

fn render(v: &Viewer, status: StatusCode, page: Page, error: Option<String>) -> Response {
    v.render_status(
        status,
        OpsTemplate {
            t: v.tr,
            ctx: v.ctx(),
            title: page.title,
            intro: page.intro,
            error,
            links: page.links,
            tables: page.tables,
            forms: page.forms,
        },
    )
}

fn failed(v: &Viewer, e: &Problem) -> Response {
    if e.status == 404 {
        return v.not_found();
    }
    v.message(
        e.status_code(),
        "error.validation_failed",
        &v.problem_text(e),
        None,
    )
}

fn opt_time(v: &Viewer, t: Option<jiff::Timestamp>) -> String {
    t.map(|t| v.time(t)).unwrap_or_else(|| "—".into())
}

/// A decision's sentences in the viewer's language.
fn reasons(v: &Viewer, d: &ciel_operations::Decision) -> String {
    crate::operations::reasons(d, lang(v))
}

// ---- client: backups -----------------------------------------------------

async fn backups_page(v: &Viewer) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let org = p.user.org_id.to_string();
    let services = backup::of_org(&v.state, &p, &org).await?;
    let restores = backup::restores_of(&v.state, &p, &org, None, 200).await?;
    let regs = backup::regularisations(&v.state, &p, Some(&org)).await?;
    let plan_text = |pl: &Option<ciel_store::backup::PlanRow>| match pl {
        Some(pl) => format!(
            "{} / {} / {} j / {}",
            pl.frequency, pl.backup_type, pl.retention_days, pl.scopes_json
        ),
        None => v.tr.t("backup.no_plan").to_owned(),
    };
    Ok(Page {
        title: v.tr.t("backup.title").to_owned(),
        intro: vec![v.tr.t("backup.rule").to_owned()],
        links: services
            .iter()
            .map(|(s, _)| {
                (
                    format!("/espace-client/sauvegardes/{}", s.id),
                    format!("{} ({})", s.label, s.id),
                )
            })
            .collect(),
        tables: vec![
            table(
                v,
                "backup.services",
                &["backup.service", "backup.kind", "backup.plan"],
                services
                    .iter()
                    .map(|(s, pl)| vec![s.label.clone(), s.kind.clone(), plan_text(pl)])
                    .collect(),
            ),
            table(
                v,
                "backup.restores",
                &[
                    "backup.what",
                    "backup.deleted_at",
                    "backup.expires_at",
                    "backup.state",
                    "backup.answer",
                ],
                restores
                    .items
                    .iter()
                    .map(|r| {
                        vec![
                            r.row.what.clone(),
                            v.time(r.row.deleted_at),
                            v.time(r.row.expires_at),
                            r.row.state.clone(),
                            r.row.answer.clone(),
                        ]
                    })
                    .collect(),
            ),
            regularisations_table(v, &regs),
        ],
        forms: Vec::new(),
    })
}

fn regularisations_table(v: &Viewer, regs: &[backup::RegularisationDetail]) -> Table {
    table(
        v,
        "backup.regularisations",
        &[
            "backup.reason",
            "backup.sent_at",
            "backup.sign_by",
            "backup.signed_at",
            "backup.state",
        ],
        regs.iter()
            .map(|r| {
                vec![
                    r.row.reason.clone(),
                    v.time(r.row.sent_at),
                    v.time(r.status.ends_at),
                    opt_time(v, r.row.signed_at),
                    reasons(v, &r.status.reasons),
                ]
            })
            .collect(),
    )
}

/// `GET /espace-client/sauvegardes`.
pub async fn client_list(v: Viewer) -> Response {
    if let Err(r) = v.require_service_viewer() {
        return r;
    }
    match backups_page(&v).await {
        Ok(p) => render(&v, StatusCode::OK, p, None),
        Err(e) => failed(&v, &e),
    }
}

async fn backup_page(v: &Viewer, id: &str) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let b = backup::view(&v.state, &p, id).await?;
    let l = lang(v);
    let mut intro = vec![v.tr.t("backup.rule").to_owned()];
    intro.push(match &b.plan {
        Some(pl) => format!(
            "{} : {} / {} / {} j / {} / Veeam {}",
            v.tr.t("backup.plan"),
            pl.frequency,
            pl.backup_type,
            pl.retention_days,
            pl.scopes_json,
            pl.veeam_licence
        ),
        None => v.tr.t("backup.no_plan").to_owned(),
    });
    intro.push(format!(
        "{} : {}",
        v.tr.t("backup.options"),
        if b.options_decision.reasons.steps.is_empty() {
            v.tr.t("backup.no_option").to_owned()
        } else {
            reasons(v, &b.options_decision)
        }
    ));
    if let Some(s) = &b.storage {
        intro.push(format!(
            "{} : {} / {} GB — {}",
            v.tr.t("backup.storage"),
            s.used_gb.normalize(),
            s.provisioned_gb.normalize(),
            s.explanation.render(l)
        ));
    }
    if let Some(t) = &b.termination {
        intro.push(format!(
            "{} : {} ({})",
            v.tr.t("backup.terminated"),
            t.last_day,
            v.time(t.effective_at)
        ));
        if let Some(h) = &t.history {
            intro.push(reasons(v, &h.reasons));
        }
        if let Some(e) = &t.immutable_explanation {
            intro.push(e.render(l));
        }
    }
    let results = table(
        v,
        "backup.results",
        &[
            "backup.job",
            "backup.started_at",
            "backup.ended_at",
            "backup.state",
            "backup.message",
        ],
        b.results
            .iter()
            .map(|r| {
                vec![
                    r.job_id.clone(),
                    v.time(r.started_at),
                    v.time(r.ended_at),
                    if r.status == "success" {
                        v.tr.t("backup.success").to_owned()
                    } else {
                        v.tr.t("backup.failure").to_owned()
                    },
                    r.message.clone(),
                ]
            })
            .collect(),
    );
    let mut forms = Vec::new();
    if b.options.recycle_bin_days.is_some() {
        forms.push(FormView {
            action: format!("/espace-client/sauvegardes/{id}/restauration"),
            title: v.tr.t("backup.restore_request").to_owned(),
            submit: v.tr.t("backup.restore_submit").to_owned(),
            fields: vec![
                field(v, 0, "what", "backup.what", "text"),
                field(v, 0, "deleted_at", "backup.deleted_at", "datetime-local"),
            ],
        });
    }
    Ok(Page {
        title: format!("{} — {}", v.tr.t("backup.title"), b.label),
        intro,
        links: vec![(
            "/espace-client/sauvegardes".into(),
            v.tr.t("backup.back").to_owned(),
        )],
        tables: vec![results],
        forms,
    })
}

/// `GET /espace-client/sauvegardes/{id}`.
pub async fn client_backup(v: Viewer, Path(id): Path<String>) -> Response {
    if let Err(r) = v.require_service_viewer() {
        return r;
    }
    match backup_page(&v, &id).await {
        Ok(p) => render(&v, StatusCode::OK, p, None),
        Err(e) => failed(&v, &e),
    }
}

/// `POST /espace-client/sauvegardes/{id}/restauration`: refused after the
/// bin period, with the rule, next to the form (R9.3).
pub async fn client_restore(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let result = async {
        let deleted_at = super::parse_instant(form.get("deleted_at"), "deleted_at")?;
        backup::request_restore(&v.state, &p, &id, form.get("what"), deleted_at).await
    }
    .await;
    match result {
        Ok(_) => done(&format!("/espace-client/sauvegardes/{id}"), "ops.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => match backup_page(&v, &id).await {
            Ok(page) => render(&v, e.status_code(), page, Some(v.problem_text(&e))),
            Err(e2) => failed(&v, &e2),
        },
    }
}

// ---- back office: backups -------------------------------------------------

async fn desk_page(v: &Viewer) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let (failures, restores) = backup::desk(&v.state, &p).await?;
    let regs = backup::regularisations(&v.state, &p, None).await?;
    Ok(Page {
        title: v.tr.t("backup.desk_title").to_owned(),
        intro: vec![v.tr.t("backup.rule").to_owned()],
        links: Vec::new(),
        tables: vec![
            table(
                v,
                "backup.failures",
                &[
                    "backup.service",
                    "backup.job",
                    "backup.ended_at",
                    "backup.message",
                ],
                failures
                    .iter()
                    .map(|r| {
                        vec![
                            r.service_id.clone(),
                            r.job_id.clone(),
                            v.time(r.ended_at),
                            r.message.clone(),
                        ]
                    })
                    .collect(),
            ),
            table(
                v,
                "backup.restores",
                &[
                    "backup.service",
                    "backup.what",
                    "backup.requested_by",
                    "backup.expires_at",
                ],
                restores
                    .iter()
                    .map(|r| {
                        vec![
                            r.service_id.clone(),
                            r.what.clone(),
                            r.requested_by.clone(),
                            v.time(r.expires_at),
                        ]
                    })
                    .collect(),
            ),
            regularisations_table(v, &regs),
        ],
        forms: restores
            .iter()
            .enumerate()
            .map(|(i, r)| FormView {
                action: format!("/back-office/restore-requests/{}/answer", r.id),
                title: format!("{} — {} ({})", v.tr.t("backup.answer"), r.what, r.id),
                submit: v.tr.t("backup.answer").to_owned(),
                fields: vec![
                    Field {
                        value: "restored".into(),
                        ..field(v, i, "state", "backup.state", "text")
                    },
                    Field {
                        required: false,
                        ..field(v, i, "answer", "backup.answer", "text")
                    },
                ],
            })
            .collect(),
    })
}

/// `GET /back-office/sauvegardes`.
pub async fn staff_desk(v: Viewer) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    match desk_page(&v).await {
        Ok(p) => render(&v, StatusCode::OK, p, None),
        Err(e) => failed(&v, &e),
    }
}

/// `POST /back-office/restore-requests/{id}/answer`.
pub async fn staff_answer(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let restored = form.get("state").trim() == "restored";
    match backup::answer_restore(&v.state, &p, &id, restored, form.get("answer")).await {
        Ok(_) => done("/back-office/sauvegardes", "ops.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => match desk_page(&v).await {
            Ok(page) => render(&v, e.status_code(), page, Some(v.problem_text(&e))),
            Err(e2) => failed(&v, &e2),
        },
    }
}

// ---- client: PRA ----------------------------------------------------------

async fn pra_page(v: &Viewer) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let org = p.user.org_id.to_string();
    let machines = pra_ops::machines(&v.state, &p, &org).await?;
    let designations = pra_ops::designations(&v.state, &p, &org).await?;
    let tests = pra_ops::tests(&v.state, &p, &org).await?;
    let mut orders: Vec<String> = machines.iter().map(|m| m.order_id.clone()).collect();
    orders.sort();
    orders.dedup();
    let hours = |h: Option<u32>| h.map(|h| format!("{h} h")).unwrap_or_else(|| "—".into());
    Ok(Page {
        title: v.tr.t("pra_ops.title").to_owned(),
        intro: vec![
            v.tr.t("pra_ops.rule").to_owned(),
            v.tr.t("pra_ops.confirm_help").to_owned(),
        ],
        links: vec![(
            "/espace-client/pra-activations".into(),
            v.tr.t("pra.title").to_owned(),
        )],
        tables: vec![
            table(
                v,
                "pra_ops.machines",
                &[
                    "pra.machine",
                    "pra.criticality",
                    "pra_ops.rto",
                    "pra_ops.rpo",
                    "pra_ops.recommended",
                    "pra_ops.sla",
                    "pra_ops.replication",
                    "pra_ops.last_replication",
                ],
                machines
                    .iter()
                    .map(|m| {
                        vec![
                            m.machine.clone(),
                            m.criticality.clone().unwrap_or_default().to_uppercase(),
                            hours(m.rto_hours),
                            hours(m.rpo_hours),
                            m.facts
                                .recommended_criticality
                                .clone()
                                .unwrap_or_default()
                                .to_uppercase(),
                            if m.sla_lifted {
                                v.tr.t("pra.refused").to_owned()
                            } else {
                                v.tr.t("pra_ops.sla_applies").to_owned()
                            },
                            m.facts.replication_status.clone().unwrap_or_default(),
                            opt_time(v, m.facts.last_replication_at),
                        ]
                    })
                    .collect(),
            ),
            table(
                v,
                "pra_ops.designations",
                &[
                    "pra_ops.user",
                    "pra_ops.actions",
                    "pra_ops.from",
                    "pra_ops.revoked",
                ],
                designations
                    .iter()
                    .map(|d| {
                        vec![
                            d.email.clone(),
                            d.actions_json.clone(),
                            v.time(d.designated_at),
                            opt_time(v, d.revoked_at),
                        ]
                    })
                    .collect(),
            ),
            table(
                v,
                "pra_ops.tests",
                &[
                    "pra.kind",
                    "pra_ops.starts_at",
                    "pra_ops.notice_days",
                    "pra_ops.billed",
                    "pra_ops.reasons",
                ],
                tests
                    .iter()
                    .map(|t| {
                        vec![
                            t.row.kind.clone(),
                            v.time(t.row.starts_at),
                            t.row.notice_days.to_string(),
                            v.tr.t(if t.row.billed {
                                "pra_ops.yes"
                            } else {
                                "pra_ops.no"
                            })
                            .to_owned(),
                            reasons(v, &t.decision),
                        ]
                    })
                    .collect(),
            ),
        ],
        forms: orders
            .iter()
            .enumerate()
            .map(|(i, o)| FormView {
                action: "/espace-client/pra/bascule".into(),
                title: format!("{} — {o}", v.tr.t("pra_ops.failover")),
                submit: v.tr.t("pra_ops.failover").to_owned(),
                fields: vec![
                    Field {
                        kind: "hidden",
                        value: o.clone(),
                        ..field(v, i, "order_id", "pra.order", "hidden")
                    },
                    field(v, i, "confirmation", "pra_ops.confirmation", "text"),
                ],
            })
            .collect(),
    })
}

/// `GET /espace-client/pra`.
pub async fn client_pra(v: Viewer) -> Response {
    if let Err(r) = v.require_service_viewer() {
        return r;
    }
    match pra_page(&v).await {
        Ok(p) => render(&v, StatusCode::OK, p, None),
        Err(e) => failed(&v, &e),
    }
}

/// `POST /espace-client/pra/bascule`: a designated user triggers the
/// failover of an order after typing its reference (R10.2, R10.4).
pub async fn client_failover(v: Viewer, form: Form) -> Response {
    let p = match v.require_client() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let order = form.get("order_id").trim().to_owned();
    let result = if form.get("confirmation").trim() != order {
        Err(Problem::invalid(
            "confirmation",
            v.tr.t("pra_ops.confirm_mismatch"),
        ))
    } else {
        pra::record(&v.state, &p, &order, ActivationInput::default()).await
    };
    match result {
        Ok(d) => done(
            &format!("/espace-client/pra-activations/{}", d.row.id),
            "pra.recorded",
        ),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => match pra_page(&v).await {
            Ok(page) => render(&v, e.status_code(), page, Some(v.problem_text(&e))),
            Err(e2) => failed(&v, &e2),
        },
    }
}
