//! The back office's order form: staff draft an order (or an amendment of a
//! validated one, R1.5) for a client organisation without JavaScript, in a
//! fixed number of line rows. Each row's kind picks which of its parameter
//! inputs make the catalogue item (`ciel_catalog::Item`'s JSON); the order
//! goes through `crate::orders::draft_order`, the API's workflow, and every
//! problem it reports (option rules R9.2, R9.4, R12.1..., parameters, special
//! conditions) is shown next to its line or field, the typed values kept.

use super::orders::staff_actor;
use super::{Ctx, Form, Viewer, done};
use crate::i18n::Tr;
use crate::orders::{self, DraftInput, LineInput};
use crate::problem::Problem;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use ciel_catalog::AvailabilityClass;
use ciel_store::orgs;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Rows offered by the form (a longer order is drafted through the API).
const ROWS: usize = 5;

/// How a parameter input turns into JSON.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// A whole number (sent as text when it is not one, so the workflow
    /// names the field).
    Count,
    /// Text: names, references, durations, and decimals (read exactly).
    Text,
}

/// One parameter input: its item field, the kinds using it, its shape and,
/// for a select, its choices.
pub struct Param {
    pub name: &'static str,
    pub label: String,
    kinds: &'static [&'static str],
    shape: Shape,
    pub choices: Vec<(String, String)>,
}

/// The catalogue's kinds as the item JSON names them.
const KINDS: [&str; 10] = [
    "cloud_vm",
    "pra_machine",
    "colocation",
    "dedicated_server",
    "external_backup",
    "m365_backup",
    "cloud_connect",
    "support",
    "managed_services",
    "hour_book",
];

fn params(tr: Tr, datacenters: &[String]) -> Vec<Param> {
    use Shape::{Count, Text};
    let p = |name, kinds, shape| Param {
        name,
        label: tr.t(&format!("order_form.p_{name}")).to_owned(),
        kinds,
        shape,
        choices: Vec::new(),
    };
    let with = |mut x: Param, choices: Vec<(String, String)>| {
        x.choices = choices;
        x
    };
    let plain = |codes: &[&str]| -> Vec<(String, String)> {
        codes
            .iter()
            .map(|c| ((*c).to_owned(), (*c).to_owned()))
            .collect()
    };
    vec![
        p("vcpu", &["cloud_vm"], Count),
        p("ram_gb", &["cloud_vm"], Count),
        p("storage_gb", &["cloud_vm", "external_backup"], Count),
        with(
            p("class", &["cloud_vm"], Text),
            plain(&AvailabilityClass::ALL.map(AvailabilityClass::code)),
        ),
        p("machine", &["pra_machine"], Text),
        with(
            p("criticality", &["pra_machine"], Text),
            plain(&["", "c1", "c2", "c3"]),
        ),
        with(
            p("datacenter", &["colocation"], Text),
            datacenters.iter().map(|d| (d.clone(), d.clone())).collect(),
        ),
        p("emplacement", &["colocation"], Text),
        p("rack_units", &["colocation"], Count),
        p("power_kva", &["colocation"], Text),
        p("max_amperage_a", &["colocation"], Text),
        p("bandwidth_flat_mbps", &["colocation"], Count),
        p("overage_price_per_mbps", &["colocation"], Text),
        p("model", &["dedicated_server"], Text),
        p("immutability", &["external_backup"], Text),
        p("recycle_bin", &["external_backup"], Text),
        p("provisioned_storage_gb", &["m365_backup"], Count),
        p("vpn_mpls_contract_ref", &["cloud_connect"], Text),
        with(
            p("level", &["support", "managed_services"], Text),
            plain(&["standard", "premium", "platinum"]),
        ),
        p("hours", &["hour_book"], Count),
    ]
}

/// One line row as typed, with what the workflow said about it.
#[derive(Default)]
pub struct LineForm {
    pub n: usize,
    pub kind: String,
    pub quantity: String,
    pub commitment: String,
    pub values: BTreeMap<String, String>,
    pub errors: Vec<String>,
    /// The inputs at fault (`kind`, `quantity`, `commitment` or a parameter).
    pub bad: Vec<String>,
}

impl LineForm {
    pub fn val(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn is_bad(&self, name: &str) -> bool {
        self.bad.iter().any(|b| b == name)
    }

    /// The item JSON of the row's kind, from the inputs that kind uses.
    fn item(&self, params: &[Param]) -> Value {
        let mut item = Map::new();
        item.insert("kind".into(), json!(self.kind));
        for p in params
            .iter()
            .filter(|p| p.kinds.contains(&self.kind.as_str()))
        {
            let v = self.val(p.name).trim();
            if v.is_empty() {
                continue;
            }
            let value = match (p.shape, v.parse::<u64>()) {
                (Shape::Count, Ok(n)) => json!(n),
                _ => json!(v),
            };
            item.insert(p.name.into(), value);
        }
        Value::Object(item)
    }
}

/// The order-level values as typed, and their errors.
#[derive(Default)]
pub struct HeadForm {
    pub kind: String,
    pub amends: String,
    pub written_request_received_at: String,
    pub order_acceptance_days: String,
    pub immutability_max_months: String,
    pub occurred_at: String,
    pub errors: BTreeMap<String, String>,
}

#[derive(Template)]
#[template(path = "order_new.html")]
struct Page {
    t: Tr,
    ctx: Ctx,
    org_id: String,
    org_name: String,
    head: HeadForm,
    lines: Vec<LineForm>,
    params: Vec<Param>,
    kinds: Vec<(String, String)>,
    validated: Vec<(String, String)>,
    error: Option<String>,
}

impl Page {
    fn err(&self, field: &str) -> Option<&String> {
        self.head.errors.get(field)
    }
}

fn empty_lines() -> Vec<LineForm> {
    (0..ROWS)
        .map(|i| LineForm {
            n: i + 1,
            quantity: "1".into(),
            commitment: "12".into(),
            ..LineForm::default()
        })
        .collect()
}

async fn render(
    v: &Viewer,
    org_id: &str,
    head: HeadForm,
    lines: Vec<LineForm>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = match v.require_staff() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let db = v.state.store().db();
    let org = match orgs::get(db, &p.scope, org_id).await {
        Ok(o) if o.kind == "client" => o,
        _ => return v.not_found(),
    };
    // Validated orders are the ones an amendment can change (R1.5).
    let validated = ciel_store::orders::list(db, &p.scope, org.id.as_str(), None, 200)
        .await
        .map(|page| {
            page.items
                .into_iter()
                .filter(|o| o.state == "validated")
                .map(|o| (o.id.to_string(), format!("{} ({})", o.id, o.order_date)))
                .collect()
        })
        .unwrap_or_default();
    let kinds = KINDS
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                v.tr.t(&format!("order_form.k_{k}")).to_owned(),
            )
        })
        .collect();
    v.render_status(
        status,
        Page {
            t: v.tr,
            ctx: v.ctx(),
            org_id: org.id.to_string(),
            org_name: org.name,
            head,
            lines,
            params: params(v.tr, &super::tariffs::datacenters(v)),
            kinds,
            validated,
            error,
        },
    )
}

pub async fn page(v: Viewer, Path(org_id): Path<String>) -> Response {
    render(
        &v,
        &org_id,
        HeadForm::default(),
        empty_lines(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A whole number typed in a form, or a problem naming `field`.
fn count(s: &str, field: &str) -> Result<Option<u32>, Problem> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| Problem::invalid(field, "expected a whole number"))
}

/// Where a problem's field lands: a line row (by its form index) and the
/// input at fault, or an order-level field.
enum Spot {
    Line(usize, String),
    Head(String),
}

fn spot(field: &str, used: &[usize]) -> Spot {
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((i, tail)) = rest.split_once(']')
        && let Some(&row) = i.parse::<usize>().ok().and_then(|i| used.get(i))
    {
        let tail = tail.trim_start_matches('.');
        let input = match tail {
            "commitment_months" => "commitment".to_owned(),
            "quantity" => "quantity".to_owned(),
            "item" | "" => "kind".to_owned(),
            t => t
                .strip_prefix("item.")
                .unwrap_or(t)
                .split(['.', '['])
                .next()
                .unwrap_or(t)
                .to_owned(),
        };
        return Spot::Line(row, input);
    }
    let head = field
        .strip_prefix("special_conditions.")
        .unwrap_or(field)
        .to_owned();
    Spot::Head(head)
}

pub async fn submit(v: Viewer, Path(org_id): Path<String>, form: Form) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    if let Err(r) = v.check_csrf(&form) {
        return r;
    }
    let mut head = HeadForm {
        kind: form.get("kind").into(),
        amends: form.get("amends").into(),
        written_request_received_at: form.get("written_request_received_at").into(),
        order_acceptance_days: form.get("order_acceptance_days").into(),
        immutability_max_months: form.get("immutability_max_months").into(),
        occurred_at: form.get("occurred_at").into(),
        errors: BTreeMap::new(),
    };
    let dcs = super::tariffs::datacenters(&v);
    let ps = params(v.tr, &dcs);
    let mut lines: Vec<LineForm> = (0..ROWS)
        .map(|i| LineForm {
            n: i + 1,
            kind: form.get(&format!("l{i}_kind")).into(),
            quantity: form.get(&format!("l{i}_quantity")).into(),
            commitment: form.get(&format!("l{i}_commitment")).into(),
            values: ps
                .iter()
                .map(|p| {
                    (
                        p.name.to_owned(),
                        form.get(&format!("l{i}_{}", p.name)).into(),
                    )
                })
                .collect(),
            ..LineForm::default()
        })
        .collect();
    // Rows without a kind are left out; `used` maps the order's line
    // indices back to the rows.
    let used: Vec<usize> = (0..ROWS).filter(|&i| !lines[i].kind.is_empty()).collect();
    let result = draft(&v, &org_id, &form, &head, &lines, &used, &ps).await;
    match result {
        Ok(id) => done(&format!("/back-office/orders/{id}"), "orders.drafted"),
        Err(e) if e.status == 404 => v.not_found(),
        Err(e) => {
            let status = e.status_code();
            let mut general = None;
            // An option rule reports every violation; each goes to its line.
            let parts: Vec<(String, String)> = match (&e.detail, e.code.as_str()) {
                (Some(d), "option_rule_violated") => d
                    .split("; ")
                    .map(|part| {
                        let field = part
                            .split_once("lines[")
                            .and_then(|(_, r)| r.split_once(": "))
                            .map(|(f, _)| format!("lines[{f}"))
                            .unwrap_or_default();
                        (field, part.to_owned())
                    })
                    .collect(),
                _ => vec![(e.field.clone().unwrap_or_default(), v.problem_text(&e))],
            };
            let title = v.problem_text(&Problem {
                detail: None,
                field: None,
                ..e.clone()
            });
            for (field, text) in parts {
                let text = if e.code == "option_rule_violated" {
                    format!("{title} : {text}")
                } else {
                    text
                };
                match spot(&field, &used) {
                    Spot::Line(row, input) => {
                        lines[row].errors.push(text);
                        lines[row].bad.push(input);
                    }
                    Spot::Head(f)
                        if [
                            "kind",
                            "amends",
                            "written_request_received_at",
                            "order_acceptance_days",
                            "immutability_max_months",
                            "occurred_at",
                        ]
                        .contains(&f.as_str()) =>
                    {
                        head.errors.insert(f, text);
                    }
                    Spot::Head(_) => general = Some(text),
                }
            }
            render(&v, &org_id, head, lines, general, status).await
        }
    }
}

/// Builds the workflow's input from the form and drafts the order.
async fn draft(
    v: &Viewer,
    org_id: &str,
    form: &Form,
    head: &HeadForm,
    lines: &[LineForm],
    used: &[usize],
    ps: &[Param],
) -> Result<String, Problem> {
    let actor = staff_actor(v, form)?;
    let mut special = Map::new();
    if let Some(d) = count(
        &head.order_acceptance_days,
        "special_conditions.order_acceptance_days",
    )? {
        special.insert("order_acceptance_days".into(), json!(d));
    }
    if let Some(m) = count(
        &head.immutability_max_months,
        "special_conditions.immutability_max_months",
    )? {
        special.insert("immutability_max_months".into(), json!(m));
    }
    let written = head.written_request_received_at.trim();
    let input = DraftInput {
        kind: Some(head.kind.clone()).filter(|k| !k.is_empty()),
        amends: Some(head.amends.clone()).filter(|a| !a.is_empty()),
        written_request_received_at: if written.is_empty() {
            None
        } else {
            Some(super::parse_instant(
                written,
                "written_request_received_at",
            )?)
        },
        special_conditions: Some(Value::Object(special)),
        lines: used
            .iter()
            .enumerate()
            .map(|(i, &row)| {
                let l = &lines[row];
                Ok(LineInput {
                    item: l.item(ps),
                    quantity: count(&l.quantity, &format!("lines[{i}].quantity"))?.unwrap_or(1),
                    commitment_months: count(
                        &l.commitment,
                        &format!("lines[{i}].commitment_months"),
                    )?
                    .unwrap_or(12),
                })
            })
            .collect::<Result<Vec<_>, Problem>>()?,
    };
    let (order, _) = orders::draft_order(&v.state, &actor, org_id, input).await?;
    Ok(order.id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_lands_on_its_row_and_input() {
        // Rows 0 and 2 were filled: the order's line 1 is row 2.
        let used = [0, 2];
        let at = |f: &str| match spot(f, &used) {
            Spot::Line(row, input) => format!("row {row} {input}"),
            Spot::Head(h) => format!("head {h}"),
        };
        assert_eq!(at("lines[1].item.immutability"), "row 2 immutability");
        assert_eq!(at("lines[0].commitment_months"), "row 0 commitment");
        assert_eq!(at("lines[0].item"), "row 0 kind");
        assert_eq!(
            at("lines[1].item.overage_price_per_mbps.x"),
            "row 2 overage_price_per_mbps"
        );
        assert_eq!(at("lines[5].item"), "head lines[5].item");
        assert_eq!(
            at("special_conditions.order_acceptance_days"),
            "head order_acceptance_days"
        );
        assert_eq!(
            at("written_request_received_at"),
            "head written_request_received_at"
        );
    }

    #[test]
    fn a_row_makes_the_item_of_its_kind_only() {
        let ps = params(Tr::new(ciel_domain::Lang::En), &["PA3".to_owned()]);
        let mut row = LineForm {
            kind: "external_backup".into(),
            ..LineForm::default()
        };
        for (k, v) in [
            ("storage_gb", "500"),
            ("immutability", "P6M"),
            ("vcpu", "4"),
            ("recycle_bin", ""),
        ] {
            row.values.insert(k.into(), v.into());
        }
        assert_eq!(
            row.item(&ps),
            json!({"kind": "external_backup", "storage_gb": 500, "immutability": "P6M"})
        );
        row.values.insert("storage_gb".into(), "5OO".into());
        assert_eq!(
            row.item(&ps)["storage_gb"],
            "5OO",
            "left for the workflow to name"
        );
    }
}
