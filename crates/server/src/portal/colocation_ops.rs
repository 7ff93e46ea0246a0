//! Colocation operations in the portal (R11.1-R11.6). The client space
//! shows, on one page, its declared people, access requests, badges,
//! prevention plans, remote hands, deadlines, power alerts and
//! decommissionings, with forms to declare a person, request MLB access,
//! order remote hands and send a change request. The back office holds the
//! queues (requests to answer, deadlines, decommissionings) and the
//! reception desk's access check. Every action runs the API's workflow
//! (`crate::colo`); tables are rows of text prepared here.

use super::{Ctx, Form, Viewer, done, json_code, parse_instant};
use crate::auth::Principal;
use crate::colo::{access, decommission, work};
use crate::i18n::Tr;
use crate::problem::Problem;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use ciel_engine::Lang;
use std::collections::HashMap;

/// A table of text cells.
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(t: &Tr, caption: &str, headers: &[&str]) -> Table {
        Table {
            caption: t.t(caption).to_owned(),
            headers: headers.iter().map(|h| t.t(h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }
}

/// An option of a select or a checkbox.
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "colo_ops_client.html")]
struct ClientPage {
    t: Tr,
    ctx: Ctx,
    org_name: String,
    tables: Vec<Table>,
    persons: Vec<Choice>,
    services: Vec<Choice>,
    temporary_sites: Vec<Choice>,
    badge_sites: Vec<Choice>,
    /// Decommissionings still waiting for their photo proof (R11.6).
    awaiting_proof: Vec<Choice>,
    error: Option<String>,
}

/// A pending request with its decision forms.
pub struct Pending {
    pub id: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "colo_ops_staff.html")]
struct StaffPage {
    t: Tr,
    ctx: Ctx,
    pending: Vec<Pending>,
    tables: Vec<Table>,
    sites: Vec<Choice>,
    check: Option<Table>,
    allowed: Option<bool>,
    query: HashMap<String, String>,
    error: Option<String>,
}

fn lang(v: &Viewer) -> Lang {
    if v.tr.code() == "en" {
        Lang::En
    } else {
        Lang::Fr
    }
}

fn opt(v: &Viewer, t: Option<jiff::Timestamp>) -> String {
    t.map(|t| v.time(t)).unwrap_or_else(|| "—".into())
}

async fn client_page(
    v: &Viewer,
    p: &Principal,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let org = p.user.org_id.to_string();
    let s = &v.state;
    let t = &v.tr;
    let l = lang(v);
    let result: Result<ClientPage, Problem> = async {
        let org_row = ciel_store::orgs::get(s.store().db(), &p.scope, &org).await?;
        let mut tables = Vec::new();
        let persons = access::list_persons(s, p, &org, None, 200).await?;
        let mut tb = Table::new(
            t,
            "colo.persons",
            &["colo.name", "colo.id_kind", "colo.company", "colo.status"],
        );
        for x in &persons.items {
            tb.rows.push(vec![
                x.name.clone(),
                t.t(&format!("colo.id.{}", x.id_kind)).to_owned(),
                x.company.clone(),
                match x.removed_at {
                    Some(r) => format!("{} {}", t.t("colo.removed"), v.time(r)),
                    None => t.t("colo.declared").to_owned(),
                },
            ]);
        }
        tables.push(tb);
        let names: HashMap<String, String> = persons
            .items
            .iter()
            .map(|x| (x.id.to_string(), x.name.clone()))
            .collect();
        let mut tb = Table::new(
            t,
            "colo.requests",
            &[
                "colo.site",
                "colo.window",
                "colo.people",
                "colo.purpose",
                "colo.status",
            ],
        );
        for r in access::list_requests(s, p, &org, None, 200).await?.items {
            tb.rows.push(vec![
                r.site.clone(),
                format!("{} → {}", v.time(r.window_start), v.time(r.window_end)),
                r.people
                    .iter()
                    .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .chain(
                        r.companions
                            .iter()
                            .map(|c| format!("{c} ({})", t.t("colo.companion"))),
                    )
                    .collect::<Vec<_>>()
                    .join(", "),
                r.purpose.clone(),
                t.t(&format!("colo.request.{}", r.status)).to_owned(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.visits",
            &[
                "colo.site",
                "colo.window",
                "colo.host",
                "colo.companions_col",
                "colo.purpose",
                "colo.notified_at",
            ],
        );
        for x in access::list_visits(s, p, &org, None, 200).await?.items {
            tb.rows.push(visit_cells(v, &x, &names));
        }
        tables.push(tb);
        let mut tb = Table::new(t, "colo.badges", &["colo.name", "colo.site", "colo.status"]);
        for b in access::list_badges(s, p, &org, None, 200).await?.items {
            tb.rows.push(vec![
                names.get(&b.person_id).cloned().unwrap_or_default(),
                b.site.clone(),
                t.t(&format!("colo.badge.{}", b.state)).to_owned(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.plans",
            &["colo.site", "colo.signed_at", "colo.status"],
        );
        for pl in access::list_plans(s, p, &org, None, 200).await?.items {
            let status = match pl.status {
                ciel_operations::access::PlanStatus::Valid { expires_at, .. } => {
                    format!("{} {}", t.t("colo.valid_until"), v.time(expires_at))
                }
                ciel_operations::access::PlanStatus::Expired { expired_at, .. } => {
                    format!("{} {}", t.t("colo.expired_on"), v.time(expired_at))
                }
                ciel_operations::access::PlanStatus::ToSign => t.t("colo.to_sign").to_owned(),
            };
            tb.rows
                .push(vec![pl.row.site.clone(), v.time(pl.row.signed_at), status]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.remote_hands",
            &[
                "colo.kind",
                "colo.description",
                "colo.price",
                "colo.status",
                "colo.minutes",
            ],
        );
        for r in work::list_remote_hands(s, p, &org, None, 200).await?.items {
            tb.rows.push(vec![
                t.t(&format!("colo.rh.{}", r.kind)).to_owned(),
                r.description.clone(),
                format!("{} EUR HT", r.price),
                t.t(&format!("colo.rh_status.{}", r.status)).to_owned(),
                r.minutes_spent.map(|m| m.to_string()).unwrap_or_default(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.deadlines",
            &[
                "colo.kind",
                "colo.subject",
                "colo.opened_at",
                "colo.ends_at",
                "colo.state_col",
                "colo.answer",
            ],
        );
        for d in work::list(s, p, &org, None, 200).await?.items {
            tb.rows.push(vec![
                t.t(&format!("colo.dl.{}", d.row.kind)).to_owned(),
                d.row.subject.clone(),
                v.time(d.row.opened_at),
                v.time(d.status.ends_at),
                t.t(&format!("colo.state.{}", json_code(&d.status.state)))
                    .to_owned(),
                d.row.answer.clone(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.power_alerts",
            &["colo.at", "colo.level", "colo.amps", "colo.kva"],
        );
        for a in crate::colo::power::list_alerts(s, p, &org, None, 200)
            .await?
            .items
        {
            tb.rows.push(vec![
                v.time(a.at),
                t.t(&format!("colo.level.{}", a.level)).to_owned(),
                a.amps.clone().unwrap_or_default(),
                a.kva.clone().unwrap_or_default(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.decommissionings",
            &[
                "colo.service",
                "colo.effective_date",
                "colo.removal_deadline",
                "colo.regularisation_ends",
                "colo.billing_resumed",
                "colo.destruction_from",
                "colo.proof",
            ],
        );
        let decommissionings = decommission::list(s, p, &org).await?;
        let awaiting_proof = decommissionings
            .iter()
            .filter(|d| d.photo.is_none())
            .map(|d| Choice {
                value: d.row.service_id.clone(),
                label: d.row.service_id.clone(),
            })
            .collect();
        for d in decommissionings {
            tb.rows.push(vec![
                d.row.service_id.clone(),
                d.row.effective_date.clone(),
                v.time(d.timeline.removal_deadline),
                v.time(d.timeline.regularisation_ends),
                d.timeline
                    .billing_resumed
                    .map(|(f, _)| v.time(f))
                    .unwrap_or_else(|| "—".into()),
                opt(v, d.timeline.destruction_allowed_from),
                d.photo
                    .as_ref()
                    .map(|m| format!("{} ({})", v.time(m.taken_at), m.content_type))
                    .unwrap_or_else(|| t.t("colo.no_proof").to_owned()),
            ]);
        }
        tables.push(tb);
        let services = ciel_store::services::list(s.store().db(), &p.scope, &org, None, 200)
            .await?
            .items
            .into_iter()
            .filter(|x| x.kind == "colocation" && x.state == "provisioned")
            .map(|x| Choice {
                value: x.id.to_string(),
                label: x.label.clone(),
            })
            .collect();
        let datacenters = access::datacenters(s)?;
        let sites_of = |access: ciel_terms::DatacenterAccess| -> Vec<Choice> {
            datacenters
                .iter()
                .filter(|d| d.access == access)
                .map(|d| Choice {
                    value: d.code.clone(),
                    label: d.name.clone(),
                })
                .collect()
        };
        let temporary_sites = sites_of(ciel_terms::DatacenterAccess::TemporaryOnly);
        let badge_sites = sites_of(ciel_terms::DatacenterAccess::PermanentNominativeBadge);
        let _ = l;
        Ok(ClientPage {
            t: v.tr,
            ctx: v.ctx(),
            org_name: org_row.name,
            tables,
            persons: persons
                .items
                .iter()
                .filter(|x| x.removed_at.is_none())
                .map(|x| Choice {
                    value: x.id.to_string(),
                    label: x.name.clone(),
                })
                .collect(),
            services,
            temporary_sites,
            badge_sites,
            awaiting_proof,
            error,
        })
    }
    .await;
    match result {
        Ok(page) => v.render_status(status, page),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => v.message(e.status_code(), "error.internal", "", None),
    }
}

/// A visit's cells: site, window, host, companions, purpose, notice.
fn visit_cells(
    v: &Viewer,
    x: &ciel_store::colo_access::VisitRow,
    names: &HashMap<String, String>,
) -> Vec<String> {
    vec![
        x.site.clone(),
        format!("{} → {}", v.time(x.window_start), v.time(x.window_end)),
        names
            .get(&x.host_person_id)
            .cloned()
            .unwrap_or_else(|| x.host_person_id.clone()),
        x.companions.join(", "),
        x.purpose.clone(),
        v.time(x.notified_at),
    ]
}

/// Names separated by commas, as the forms take them.
fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `/espace-client/colocation/{acces,travaux,decommissionnement}`: one page.
pub async fn client(v: Viewer) -> Response {
    match v.require_service_viewer() {
        Ok(p) => client_page(&v, p, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// The client's forms: `persons`, `access-requests`, `visits`,
/// `remote-hands`, `change-requests`.
pub async fn client_post(v: Viewer, Path(what): Path<String>, form: Form) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let org = p.user.org_id.to_string();
    let s = &v.state;
    let result: Result<(), Problem> = async {
        match what.as_str() {
            "persons" => {
                access::declare_person(
                    s,
                    &p,
                    &org,
                    form.get("name"),
                    form.get("id_kind"),
                    form.get("company"),
                )
                .await?;
            }
            "access-requests" => {
                let persons = access::list_persons(s, &p, &org, None, 200).await?;
                let people = persons
                    .items
                    .iter()
                    .map(|x| x.id.to_string())
                    .filter(|id| form.checked(&format!("person_{id}")))
                    .collect();
                access::request_access(
                    s,
                    &p,
                    &org,
                    access::RequestInput {
                        site: form.get("site").trim().to_owned(),
                        window_start: parse_instant(form.get("window_start"), "window_start")?,
                        window_end: parse_instant(form.get("window_end"), "window_end")?,
                        purpose: form.get("purpose").to_owned(),
                        people,
                        companions: comma_list(form.get("companions")),
                    },
                )
                .await?;
            }
            "visits" => {
                access::announce_visit(
                    s,
                    &p,
                    &org,
                    access::VisitInput {
                        site: form.get("site").trim().to_owned(),
                        host_person_id: form.get("host_person_id").trim().to_owned(),
                        window_start: parse_instant(form.get("window_start"), "window_start")?,
                        window_end: parse_instant(form.get("window_end"), "window_end")?,
                        purpose: form.get("purpose").to_owned(),
                        companions: comma_list(form.get("companions")),
                    },
                )
                .await?;
            }
            "remote-hands" => {
                work::order_remote_hands(
                    s,
                    &p,
                    form.get("service_id"),
                    form.get("kind"),
                    form.get("description"),
                )
                .await?;
            }
            "change-requests" => {
                work::open(
                    s,
                    &p,
                    form.get("service_id"),
                    "change_answer",
                    form.get("subject"),
                    form.get("detail"),
                )
                .await?;
            }
            _ => return Err(Problem::not_found()),
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => done("/espace-client/colocation/operations", "colo.done"),
        Err(e) if e.status == 404 && e.field.is_none() => v.not_found(),
        Err(e) => {
            let text = v.problem_text(&e);
            let status = if e.status == 404 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status_code()
            };
            client_page(&v, &p, Some(text), status).await
        }
    }
}

/// `POST /espace-client/colocation/photo` (multipart): the timestamped
/// photo of the emptied space, through the API's workflow (type checked by
/// its first bytes, at most 8 MiB, R11.6).
pub async fn client_photo(v: Viewer, m: super::multipart::Multipart) -> Response {
    let p = match v.require_service_viewer() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(&m.form) {
        return r;
    }
    let service = m.form.get("service_id").trim().to_owned();
    let result = async {
        let taken_at = parse_instant(m.form.get("taken_at"), "taken_at")?;
        let file = m
            .file("photo")
            .filter(|f| !f.data.is_empty())
            .ok_or_else(|| Problem::invalid("photo", "R11.6: choose the photo to send"))?;
        decommission::upload_photo(
            &v.state,
            &p,
            &service,
            &file.content_type,
            Some(taken_at),
            &file.data,
        )
        .await
    }
    .await;
    match result {
        Ok(_) => done("/espace-client/colocation/operations", "colo.done"),
        Err(e) => {
            let text = v.problem_text(&e);
            let status = if e.status == 404 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status_code()
            };
            client_page(&v, &p, Some(text), status).await
        }
    }
}

async fn staff_page(
    v: &Viewer,
    p: &Principal,
    query: HashMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let s = &v.state;
    let t = &v.tr;
    let l = lang(v);
    let result: Result<StaffPage, Problem> = async {
        let mut pending = Vec::new();
        for r in access::pending_requests(s, p).await? {
            let org = ciel_store::orgs::get(s.store().db(), &p.scope, r.org_id.as_str()).await?;
            pending.push(Pending {
                id: r.id.to_string(),
                cells: vec![
                    org.name,
                    r.site.clone(),
                    format!("{} → {}", v.time(r.window_start), v.time(r.window_end)),
                    format!("{} + {}", r.people.len(), r.companions.join(", ")),
                    r.purpose.clone(),
                ],
            });
        }
        let mut tables = Vec::new();
        let mut tb = Table::new(
            t,
            "colo.deadline_queue",
            &[
                "colo.kind",
                "colo.subject",
                "colo.owner_col",
                "colo.ends_at",
                "colo.state_col",
            ],
        );
        for d in work::queue(s, p).await? {
            tb.rows.push(vec![
                t.t(&format!("colo.dl.{}", d.row.kind)).to_owned(),
                format!("{} ({})", d.row.subject, d.row.id),
                t.t(&format!("colo.owner.{}", json_code(&d.status.owner)))
                    .to_owned(),
                v.time(d.status.ends_at),
                t.t(&format!("colo.state.{}", json_code(&d.status.state)))
                    .to_owned(),
            ]);
        }
        tables.push(tb);
        let mut tb = Table::new(
            t,
            "colo.decommissionings",
            &[
                "colo.service",
                "colo.effective_date",
                "colo.regularisation_ends",
                "colo.billing_resumed",
                "colo.destruction_from",
                "colo.proof",
            ],
        );
        for d in decommission::running(s, p).await? {
            tb.rows.push(vec![
                d.row.service_id.clone(),
                d.row.effective_date.clone(),
                v.time(d.timeline.regularisation_ends),
                d.timeline
                    .billing_resumed
                    .map(|(f, _)| v.time(f))
                    .unwrap_or_else(|| "—".into()),
                opt(v, d.timeline.destruction_allowed_from),
                d.photo
                    .as_ref()
                    .map(|m| v.time(m.uploaded_at))
                    .unwrap_or_else(|| t.t("colo.no_proof").to_owned()),
            ]);
        }
        tables.push(tb);
        // The desk's day: visits with companions announced for today
        // (Paris), at every badge site.
        let ops = crate::colo::ops_now(s, s.now())?;
        let today = s.now().to_zoned(ops.tz().clone()).date();
        let mut tb = Table::new(
            t,
            "colo.visits_today",
            &[
                "colo.site",
                "colo.window",
                "colo.host",
                "colo.companions_col",
                "colo.purpose",
                "colo.notified_at",
            ],
        );
        for x in access::desk_visits(s, p, ops.start_of(today), ops.end_of(today)).await? {
            let host =
                ciel_store::colo_access::get_person(s.store().db(), &p.scope, &x.host_person_id)
                    .await?;
            let org = ciel_store::orgs::get(s.store().db(), &p.scope, x.org_id.as_str()).await?;
            let names = HashMap::from([(
                x.host_person_id.clone(),
                format!("{} ({}, {})", host.name, org.name, x.host_person_id),
            )]);
            tb.rows.push(visit_cells(v, &x, &names));
        }
        tables.insert(0, tb);
        let sites = access::datacenters(s)?
            .into_iter()
            .map(|d| Choice {
                value: d.code.clone(),
                label: d.name.clone(),
            })
            .collect();
        let (mut check, mut allowed) = (None, None);
        let get = |k: &str| query.get(k).map(|x| x.trim()).filter(|x| !x.is_empty());
        if let Some(site) = get("site") {
            let visitor = match (get("person_id"), get("org_id"), get("name")) {
                (Some(id), _, _) => access::Visitor::Person(id.to_owned()),
                (None, Some(org_id), Some(name)) => access::Visitor::Companion {
                    org_id: org_id.to_owned(),
                    name: name.to_owned(),
                },
                _ => {
                    return Err(Problem::invalid(
                        "person_id",
                        "a person, or a client and a companion's name",
                    ));
                }
            };
            let at = match get("at") {
                Some(a) => Some(parse_instant(a, "at")?),
                None => None,
            };
            let a = access::check(s, p, &visitor, site, at).await?;
            let mut tb = Table::new(t, "colo.check_reasons", &["colo.rule_col", "colo.reason"]);
            for st in &a.decision.reasons.steps {
                tb.rows.push(vec![
                    format!("{} ({})", st.rule, st.clause),
                    match l {
                        Lang::Fr => st.fr.clone(),
                        Lang::En => st.en.clone(),
                    },
                ]);
            }
            tb.caption = format!(
                "{} — {} — {} — {}",
                tb.caption,
                a.name,
                a.site,
                v.time(a.at)
            );
            allowed = Some(a.allowed);
            check = Some(tb);
            let mut tb = Table::new(
                t,
                "colo.expected_companions",
                &["colo.name", "colo.window", "colo.announced_in"],
            );
            for c in &a.companions {
                tb.rows.push(vec![
                    c.name.clone(),
                    format!("{} → {}", v.time(c.window_start), v.time(c.window_end)),
                    c.announced_in.clone(),
                ]);
            }
            tables.insert(0, tb);
        }
        Ok(StaffPage {
            t: v.tr,
            ctx: v.ctx(),
            pending,
            tables,
            sites,
            check,
            allowed,
            query: query.clone(),
            error: error.clone(),
        })
    }
    .await;
    match result {
        Ok(page) => v.render_status(status, page),
        Err(e) => {
            let text = v.problem_text(&e);
            let code = if e.status == 404 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status_code()
            };
            // The page again, without the failed check, with the error.
            let page = StaffPage {
                t: v.tr,
                ctx: v.ctx(),
                pending: Vec::new(),
                tables: Vec::new(),
                sites: Vec::new(),
                check: None,
                allowed: None,
                query,
                error: Some(text),
            };
            v.render_status(code, page)
        }
    }
}

/// `/back-office/colocation/operations` (and `/accueil`, the desk): the
/// queues and the access check (`?site=&person_id=&at=`).
pub async fn staff(v: Viewer, Query(q): Query<HashMap<String, String>>) -> Response {
    match v.require_staff() {
        Ok(p) => staff_page(&v, p, q, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// Staff answer a pending request: `approved` or `refused`.
pub async fn staff_decide(
    v: Viewer,
    Path((id, decision)): Path<(String, String)>,
    form: Form,
) -> Response {
    let p = match v.staff_form(&form) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !["approved", "refused"].contains(&decision.as_str()) {
        return v.not_found();
    }
    match access::decide_request(&v.state, &p, &id, &decision, form.get("note")).await {
        Ok(_) => done("/back-office/colocation/operations", "colo.done"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => {
            let text = v.problem_text(&e);
            staff_page(&v, &p, HashMap::new(), Some(text), e.status_code()).await
        }
    }
}
