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
//!   requests to answer, regularisation orders and their 30 days) and
//!   `/back-office/pra` (every client's protected machines, test notices
//!   and running failovers followed machine by machine to the return to
//!   nominal).

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
use ciel_operations::backup::{BackupScope, VeeamLicence};
use ciel_operations::pra::PraAction;

pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    /// `text`, `datetime-local`, `number`, `hidden`, `select` or
    /// `checkboxes` (each named `<name>_<value>`).
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    /// Values and labels of a select or checkboxes.
    pub options: Vec<(String, String)>,
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
        options: Vec::new(),
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
            "backup.reminded_at",
            "backup.overdue_at",
            "backup.state",
        ],
        regs.iter()
            .map(|r| {
                vec![
                    r.row.reason.clone(),
                    v.time(r.row.sent_at),
                    v.time(r.status.ends_at),
                    opt_time(v, r.row.signed_at),
                    opt_time(v, r.row.reminded_at),
                    opt_time(v, r.row.overdue_at),
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
    let mut forms = vec![plan_form(v, &b)];
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

/// Every scope a plan may name (R9.7).
const SCOPES: [BackupScope; 7] = [
    BackupScope::Exchange,
    BackupScope::Teams,
    BackupScope::SharePoint,
    BackupScope::OneDrive,
    BackupScope::VirtualMachine,
    BackupScope::PhysicalServer,
    BackupScope::Files,
];

/// The plan form (R9.1), filled with the plan in force: the scopes a
/// service of this kind may cover (R9.7: the four Microsoft 365 ones on a
/// Microsoft 365 backup, else machines, servers and files with the Veeam
/// licence). Only a user designated to change policies may send it (R10.2).
fn plan_form(v: &Viewer, b: &backup::BackupView) -> FormView {
    let m365 = b.kind == "m365_backup";
    let plan = b.plan.as_ref();
    let opts = |prefix: &str, codes: &[&str]| -> Vec<(String, String)> {
        codes
            .iter()
            .map(|c| ((*c).to_owned(), v.tr.t(&format!("{prefix}.{c}")).to_owned()))
            .collect()
    };
    let chosen = |f: Field, current: Option<&str>| match current {
        Some(c) => Field {
            value: c.to_owned(),
            ..f
        },
        None => f,
    };
    let scopes: Vec<String> = SCOPES
        .iter()
        .filter(|s| s.is_microsoft_365() == m365)
        .map(super::json_code)
        .collect();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let mut fields = vec![
        chosen(
            select(
                v,
                9,
                "frequency",
                "backup.frequency",
                opts("backup.freq", &backup::FREQUENCIES),
            ),
            plan.map(|p| p.frequency.as_str()),
        ),
        chosen(
            select(
                v,
                9,
                "backup_type",
                "backup.backup_type",
                opts("backup.type", &backup::TYPES),
            ),
            plan.map(|p| p.backup_type.as_str()),
        ),
        Field {
            value: plan
                .map(|p| p.retention_days.to_string())
                .unwrap_or_else(|| "30".into()),
            ..field(v, 9, "retention_days", "backup.retention_days", "number")
        },
        Field {
            options: opts("backup.scope", &scopes),
            ..field(v, 9, "scope", "backup.scopes", "checkboxes")
        },
    ];
    if !m365 {
        fields.push(chosen(
            select(
                v,
                9,
                "veeam_licence",
                "backup.veeam_licence",
                opts("backup.veeam", &["none", "from_provider", "client_owned"]),
            ),
            plan.map(|p| p.veeam_licence.as_str()),
        ));
    }
    FormView {
        action: format!("/espace-client/sauvegardes/{}/plan", b.service_id),
        title: v.tr.t("backup.plan_form").to_owned(),
        submit: v.tr.t("backup.plan_submit").to_owned(),
        fields,
    }
}

/// `POST /espace-client/sauvegardes/{id}/plan`: the API's workflow; a
/// refusal (not designated, R10.2; a scope outside the service or without
/// its licence, R9.7) is shown next to the form and writes nothing.
pub async fn client_plan(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let code = |s: &str| serde_json::Value::String(s.trim().to_owned());
    let result = async {
        let retention_days = form
            .get("retention_days")
            .trim()
            .parse::<i64>()
            .map_err(|_| Problem::invalid("retention_days", "R9.1: a number of days"))?;
        let scopes = super::ticked(&form, "scope", &SCOPES);
        let veeam = match form.get("veeam_licence").trim() {
            "" => VeeamLicence::None,
            other => serde_json::from_value(code(other)).map_err(|_| {
                Problem::invalid("veeam_licence", "none, from_provider or client_owned")
            })?,
        };
        backup::set_plan(
            &v.state,
            &p,
            &id,
            backup::PlanInput {
                frequency: form.get("frequency").trim().to_owned(),
                backup_type: form.get("backup_type").trim().to_owned(),
                retention_days,
                scopes,
                veeam_licence: veeam,
            },
        )
        .await
    }
    .await;
    match result {
        Ok(_) => done(&format!("/espace-client/sauvegardes/{id}"), "ops.done"),
        Err(e) if e.status == 404 && e.field.is_none() => v.not_found(),
        Err(e) => match backup_page(&v, &id).await {
            Ok(page) => render(&v, e.status_code(), page, Some(v.problem_text(&e))),
            Err(e2) => failed(&v, &e2),
        },
    }
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

// ---- PRA tables shared by the client space and the back office ----------

/// The client's name by organisation, for the back office's tables.
type OrgNames = std::collections::HashMap<String, String>;

async fn org_names(v: &Viewer, ids: impl Iterator<Item = String>) -> Result<OrgNames, Problem> {
    let mut out = OrgNames::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id) {
            let org =
                ciel_store::orgs::get(v.state.store().db(), &ciel_store::Scope::Staff, e.key())
                    .await?;
            e.insert(org.name);
        }
    }
    Ok(out)
}

/// The first column of a back-office row: the client.
fn with_client(names: Option<&OrgNames>, org_id: &str, mut cells: Vec<String>) -> Vec<String> {
    if let Some(n) = names {
        cells.insert(
            0,
            n.get(org_id).cloned().unwrap_or_else(|| org_id.to_owned()),
        );
    }
    cells
}

fn headers<'a>(names: Option<&OrgNames>, rest: &[&'a str]) -> Vec<&'a str> {
    names
        .map(|_| "pra_ops.client")
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

fn hours(h: Option<u32>) -> String {
    h.map(|h| format!("{h} h")).unwrap_or_else(|| "—".into())
}

fn machines_table(
    v: &Viewer,
    machines: &[pra_ops::MachineView],
    names: Option<&OrgNames>,
) -> Table {
    table(
        v,
        "pra_ops.machines",
        &headers(
            names,
            &[
                "pra.machine",
                "pra.order",
                "pra.criticality",
                "pra_ops.rto",
                "pra_ops.rpo",
                "pra_ops.recommended",
                "pra_ops.sla",
                "pra_ops.replication",
                "pra_ops.last_replication",
            ],
        ),
        machines
            .iter()
            .map(|m| {
                with_client(
                    names,
                    &m.facts.org_id,
                    vec![
                        m.machine.clone(),
                        m.order_id.clone(),
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
                    ],
                )
            })
            .collect(),
    )
}

fn tests_table(v: &Viewer, tests: &[pra_ops::TestDetail], names: Option<&OrgNames>) -> Table {
    table(
        v,
        "pra_ops.tests",
        &headers(
            names,
            &[
                "pra.order",
                "pra.kind",
                "pra_ops.starts_at",
                "pra_ops.notified_at",
                "pra_ops.notice_days",
                "pra_ops.billed",
                "pra_ops.reasons",
            ],
        ),
        tests
            .iter()
            .map(|t| {
                with_client(
                    names,
                    t.row.org_id.as_str(),
                    vec![
                        t.row.order_id.clone(),
                        kind_label(v, &t.row.kind),
                        v.time(t.row.starts_at),
                        v.time(t.row.notified_at),
                        t.row.notice_days.to_string(),
                        v.tr.t(if t.row.billed {
                            "pra_ops.billed_yes"
                        } else {
                            "pra_ops.no"
                        })
                        .to_owned(),
                        reasons(v, &t.decision),
                    ],
                )
            })
            .collect(),
    )
}

fn kind_label(v: &Viewer, kind: &str) -> String {
    v.tr.t(match kind {
        "simple" => "pra.test_simple",
        "full" => "pra.test_full",
        _ => "pra.failover",
    })
    .to_owned()
}

fn choices(items: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    items.into_iter().collect()
}

fn select(
    v: &Viewer,
    form: usize,
    name: &str,
    label: &str,
    options: Vec<(String, String)>,
) -> Field {
    Field {
        value: options.first().map(|o| o.0.clone()).unwrap_or_default(),
        options,
        ..field(v, form, name, label, "select")
    }
}

fn optional(f: Field) -> Field {
    Field {
        required: false,
        ..f
    }
}

// ---- client: PRA ----------------------------------------------------------

async fn pra_page(v: &Viewer) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let org = p.user.org_id.to_string();
    let machines = pra_ops::machines(&v.state, &p, &org).await?;
    let designations = pra_ops::designations(&v.state, &p, &org).await?;
    let tests = pra_ops::tests(&v.state, &p, &org).await?;
    let users = ciel_store::users::list(v.state.store().db(), &p.scope, &org, None, 200)
        .await?
        .items;
    let mut orders: Vec<String> = machines.iter().map(|m| m.order_id.clone()).collect();
    orders.sort();
    orders.dedup();
    let action_label = |a: &str| v.tr.t(&format!("pra_ops.action_{a}")).to_owned();
    let mut forms: Vec<FormView> = Vec::new();
    // R10.2: the Administrator designates users (others are refused with
    // the rule when they send it).
    forms.push(FormView {
        action: "/espace-client/pra/designations".into(),
        title: v.tr.t("pra_ops.designate").to_owned(),
        submit: v.tr.t("pra_ops.designate").to_owned(),
        fields: vec![
            select(
                v,
                0,
                "user_id",
                "pra_ops.user",
                choices(
                    users
                        .iter()
                        .map(|u| (u.id.to_string(), format!("{} <{}>", u.name, u.email))),
                ),
            ),
            Field {
                options: choices(
                    ["trigger_failover", "change_policies"]
                        .into_iter()
                        .map(|a| (a.to_owned(), action_label(a))),
                ),
                ..field(v, 0, "action", "pra_ops.actions", "checkboxes")
            },
        ],
    });
    for (i, d) in designations
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .enumerate()
    {
        forms.push(FormView {
            action: format!("/espace-client/pra/designations/{}/revoke", d.id),
            title: format!("{} — {}", v.tr.t("pra_ops.revoke"), d.email),
            submit: v.tr.t("pra_ops.revoke").to_owned(),
            fields: vec![Field {
                value: d.id.to_string(),
                ..field(v, 100 + i, "designation_id", "pra_ops.user", "hidden")
            }],
        });
    }
    if !orders.is_empty() {
        // R10.3: a late notice is accepted and shown as billed.
        forms.push(FormView {
            action: "/espace-client/pra/tests".into(),
            title: v.tr.t("pra_ops.notify_test").to_owned(),
            submit: v.tr.t("pra_ops.notify_test").to_owned(),
            fields: vec![
                select(
                    v,
                    1,
                    "order_id",
                    "pra.order",
                    choices(orders.iter().map(|o| (o.clone(), o.clone()))),
                ),
                select(
                    v,
                    1,
                    "kind",
                    "pra.kind",
                    choices(["simple", "full"].map(|k| (k.to_owned(), kind_label(v, k)))),
                ),
                field(v, 1, "starts_at", "pra_ops.starts_at", "datetime-local"),
                optional(field(v, 1, "own_order", "pra_ops.own_order", "text")),
            ],
        });
    }
    forms.extend(orders.iter().enumerate().map(|(i, o)| FormView {
        action: "/espace-client/pra/bascule".into(),
        title: format!("{} — {o}", v.tr.t("pra_ops.failover")),
        submit: v.tr.t("pra_ops.failover").to_owned(),
        fields: vec![
            Field {
                value: o.clone(),
                ..field(v, 200 + i, "order_id", "pra.order", "hidden")
            },
            field(v, 200 + i, "confirmation", "pra_ops.confirmation", "text"),
        ],
    }));
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
            machines_table(v, &machines, None),
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
                        let actions: Vec<String> =
                            serde_json::from_str(&d.actions_json).unwrap_or_default();
                        vec![
                            d.email.clone(),
                            actions
                                .iter()
                                .map(|a| action_label(a))
                                .collect::<Vec<_>>()
                                .join(", "),
                            v.time(d.designated_at),
                            opt_time(v, d.revoked_at),
                        ]
                    })
                    .collect(),
            ),
            tests_table(v, &tests, None),
        ],
        forms,
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

/// The PRA page again with the problem next to the forms.
async fn pra_refused(v: &Viewer, e: Problem) -> Response {
    if e.status == 404 && e.field.is_none() {
        return v.not_found();
    }
    match pra_page(v).await {
        Ok(page) => render(v, e.status_code(), page, Some(v.problem_text(&e))),
        Err(e2) => failed(v, &e2),
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
        Err(e) => pra_refused(&v, e).await,
    }
}

/// `POST /espace-client/pra/{designations,tests}` and
/// `/espace-client/pra/designations/{id}/revoke`: the API's workflows
/// (R10.2, R10.3).
pub async fn client_pra_post(v: Viewer, Path(what): Path<String>, form: Form) -> Response {
    client_pra_action(v, what, None, form).await
}

pub async fn client_pra_revoke(v: Viewer, Path(id): Path<String>, form: Form) -> Response {
    client_pra_action(v, "revoke".into(), Some(id), form).await
}

async fn client_pra_action(v: Viewer, what: String, id: Option<String>, form: Form) -> Response {
    let p = match v.require_client() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let org = p.user.org_id.to_string();
    let s = &v.state;
    let result: Result<(), Problem> = async {
        match (what.as_str(), id) {
            ("designations", None) => {
                let actions = super::ticked(
                    &form,
                    "action",
                    &[PraAction::TriggerFailover, PraAction::ChangePolicies],
                );
                pra_ops::designate(s, &p, &org, form.get("user_id").trim(), actions).await?;
            }
            ("tests", None) => {
                let starts_at = super::parse_instant(form.get("starts_at"), "starts_at")?;
                let own = Some(form.get("own_order").to_owned());
                pra_ops::notify_test(
                    s,
                    &p,
                    form.get("order_id").trim(),
                    form.get("kind").trim(),
                    starts_at,
                    own,
                )
                .await?;
            }
            ("revoke", Some(id)) => {
                pra_ops::revoke(s, &p, &id).await?;
            }
            _ => return Err(Problem::not_found()),
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => done("/espace-client/pra", "ops.done"),
        Err(e) => pra_refused(&v, e).await,
    }
}

// ---- back office: PRA follow-up -------------------------------------------

async fn pra_desk_page(v: &Viewer) -> Result<Page, Problem> {
    let p = v.principal.clone().ok_or_else(Problem::unauthenticated)?;
    let machines = pra_ops::all_machines(&v.state, &p).await?;
    let tests = pra_ops::all_tests(&v.state, &p).await?;
    let running = pra::running(&v.state, &p).await?;
    let names = org_names(
        v,
        machines
            .iter()
            .map(|m| m.facts.org_id.clone())
            .chain(tests.iter().map(|t| t.row.org_id.to_string()))
            .chain(running.iter().map(|a| a.row.org_id.to_string())),
    )
    .await?;
    let names = Some(&names);
    let mut tables = vec![
        machines_table(v, &machines, names),
        tests_table(v, &tests, names),
    ];
    let mut forms = Vec::new();
    for (i, a) in running.iter().enumerate() {
        let r = &a.row;
        let title = format!(
            "{} {} — {} — {} ({})",
            kind_label(v, r.test_kind.as_deref().unwrap_or("")),
            r.id,
            names
                .and_then(|n| n.get(r.org_id.as_str()))
                .cloned()
                .unwrap_or_default(),
            r.order_id,
            v.time(r.requested_at)
        );
        tables.push(Table {
            caption: title.clone(),
            headers: [
                "pra.machine",
                "pra.criticality",
                "pra_ops.reachable_at",
                "pra_ops.elapsed",
            ]
            .iter()
            .map(|h| v.tr.t(h).to_owned())
            .collect(),
            rows: r
                .machines
                .iter()
                .map(|m| {
                    vec![
                        m.machine.clone(),
                        m.criticality.to_uppercase(),
                        opt_time(v, m.reachable_at),
                        m.reachable_at
                            .map(|t| {
                                let mins = t.duration_since(r.requested_at).as_secs() / 60;
                                format!("{}:{:02}", mins / 60, mins % 60)
                            })
                            .unwrap_or_else(|| v.tr.t("pra.not_restored").to_owned()),
                    ]
                })
                .collect(),
        });
        for (j, m) in r
            .machines
            .iter()
            .filter(|m| m.reachable_at.is_none())
            .enumerate()
        {
            let n = 1000 * (i + 1) + j;
            forms.push(FormView {
                action: format!("/back-office/pra/activations/{}/restorations", r.id),
                title: format!("{} — {} ({})", v.tr.t("pra_ops.reachable"), m.machine, r.id),
                submit: format!("{} — {}", v.tr.t("pra_ops.reachable"), m.machine),
                fields: vec![
                    Field {
                        value: m.service_id.clone(),
                        ..field(v, n, "service_id", "pra.machine", "hidden")
                    },
                    optional(field(
                        v,
                        n,
                        "reachable_at",
                        "pra_ops.reachable_at_now",
                        "datetime-local",
                    )),
                    optional(field(
                        v,
                        n,
                        "recovery_point_at",
                        "pra_ops.recovery_point_at",
                        "datetime-local",
                    )),
                ],
            });
        }
        let n = 1000 * (i + 1) + 999;
        forms.push(FormView {
            action: format!("/back-office/pra/activations/{}/close", r.id),
            title: format!("{} — {}", v.tr.t("pra_ops.nominal"), r.id),
            submit: format!("{} — {}", v.tr.t("pra_ops.nominal"), r.id),
            fields: vec![optional(field(
                v,
                n,
                "closed_at",
                "pra_ops.closed_at_now",
                "datetime-local",
            ))],
        });
    }
    let mut intro = vec![v.tr.t("pra_ops.desk_rule").to_owned()];
    if running.is_empty() {
        intro.push(v.tr.t("pra_ops.none_running").to_owned());
    }
    Ok(Page {
        title: v.tr.t("pra_ops.desk_title").to_owned(),
        intro,
        links: running
            .iter()
            .map(|a| {
                (
                    format!("/back-office/pra-activations/{}", a.row.id),
                    format!("{} ({})", a.row.id, a.row.order_id),
                )
            })
            .collect(),
        tables,
        forms,
    })
}

/// `GET /back-office/pra`: every client's protected machines, test
/// notices (late ones billed, R10.3) and running failovers, machine by
/// machine, with the return to nominal.
pub async fn staff_pra(v: Viewer) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    match pra_desk_page(&v).await {
        Ok(p) => render(&v, StatusCode::OK, p, None),
        Err(e) => failed(&v, &e),
    }
}

/// `POST /back-office/pra/activations/{id}/{restorations,close}`: the
/// activation page's actions, back on the follow-up.
pub async fn staff_pra_action(
    v: Viewer,
    Path((id, what)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match super::pra::act(&v, &p, &id, &form, &what).await {
        Ok(()) => done("/back-office/pra", "pra.done"),
        Err(e) if e.status == 404 && e.field.is_none() => v.not_found(),
        Err(e) => match pra_desk_page(&v).await {
            Ok(page) => render(&v, e.status_code(), page, Some(v.problem_text(&e))),
            Err(e2) => failed(&v, &e2),
        },
    }
}
