//! Orders and their lines (R1.1-R1.5): tenant data, read and written through
//! the [`Scope`]. The state machine itself is the catalog crate's; the store
//! keeps its JSON (the evidence of each step) and refuses a transition whose
//! starting state is no longer the stored one, so two concurrent steps never
//! both apply.

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of orders.
pub const PREFIX: &str = "ord";
/// Identifier prefix of order lines.
pub const LINE_PREFIX: &str = "orl";

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: Id,
    pub org_id: Id,
    /// `initial` or `amendment`.
    pub kind: String,
    pub amends_order_id: Option<String>,
    /// `draft`, `sent`, `lapsed`, `accepted`, `validated` or `refused`.
    pub state: String,
    /// The catalog crate's `OrderState`, as JSON text.
    pub state_json: String,
    pub terms_version: String,
    /// `YYYY-MM-DD`.
    pub order_date: String,
    pub request_received_at: Option<Timestamp>,
    pub price_list_id: String,
    /// The catalog crate's `SpecialConditions`, as JSON text.
    pub special_conditions: String,
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
    pub acceptance_deadline: Option<Timestamp>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One line as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub id: Id,
    pub order_id: Id,
    pub position: i64,
    /// The catalog crate's `Item`, as JSON text.
    pub item_json: String,
    pub quantity: i64,
    /// Monthly fee of one unit, exact decimal euros excluding VAT.
    pub unit_price: String,
    /// One-time fees of one unit (setup), exact decimal euros.
    pub setup_fee: String,
    pub commitment_months: i64,
}

/// A line to store.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub item_json: String,
    pub quantity: i64,
    pub unit_price: String,
    pub setup_fee: String,
    pub commitment_months: i64,
}

/// An order to create (as a draft).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub org_id: Id,
    pub kind: &'static str,
    pub amends_order_id: Option<String>,
    pub state_json: String,
    pub terms_version: String,
    pub order_date: String,
    pub request_received_at: Option<Timestamp>,
    pub price_list_id: String,
    pub special_conditions: String,
}

/// A step of the state machine to store.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The state the step starts from (compare-and-set).
    pub from_state: &'a str,
    pub to_state: &'a str,
    pub state_json: String,
    /// Dotted audit action, e.g. `order.send`.
    pub action: &'a str,
    /// Set when the order is sent.
    pub sent: Option<(Timestamp, Option<String>)>,
    pub acceptance_deadline: Option<Timestamp>,
}

const COLUMNS: &str = "id, org_id, kind, amends_order_id, state, state_json, terms_version, \
    order_date, request_received_at, price_list_id, special_conditions, sent_at, sent_by, \
    acceptance_deadline, created_by, created_at, updated_at";

const LINE_COLUMNS: &str =
    "id, order_id, position, item_json, quantity, unit_price, setup_fee, commitment_months";

fn from_row(r: &AnyRow) -> Result<Order> {
    Ok(Order {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        kind: r.try_get("kind")?,
        amends_order_id: r.try_get("amends_order_id")?,
        state: r.try_get("state")?,
        state_json: r.try_get("state_json")?,
        terms_version: r.try_get("terms_version")?,
        order_date: r.try_get("order_date")?,
        request_received_at: time::opt_from_db(r.try_get("request_received_at")?),
        price_list_id: r.try_get("price_list_id")?,
        special_conditions: r.try_get("special_conditions")?,
        sent_at: time::opt_from_db(r.try_get("sent_at")?),
        sent_by: r.try_get("sent_by")?,
        acceptance_deadline: time::opt_from_db(r.try_get("acceptance_deadline")?),
        created_by: r.try_get("created_by")?,
        created_at: time::from_db(r.try_get("created_at")?),
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

fn line_from_row(r: &AnyRow) -> Result<Line> {
    Ok(Line {
        id: Id::from_raw(r.try_get("id")?),
        order_id: Id::from_raw(r.try_get("order_id")?),
        position: r.try_get("position")?,
        item_json: r.try_get("item_json")?,
        quantity: r.try_get("quantity")?,
        unit_price: r.try_get("unit_price")?,
        setup_fee: r.try_get("setup_fee")?,
        commitment_months: r.try_get("commitment_months")?,
    })
}

/// An order visible to `scope`; another organisation's is not found.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<Order> {
    crate::get_scoped(ex, scope, "orders", COLUMNS, id, from_row).await
}

/// The lines of an order visible to `scope`, in order.
pub async fn lines<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    order_id: &str,
) -> Result<Vec<Line>> {
    let mut q = Sql::new(&format!(
        "SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id = "
    ));
    q.bind(order_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY position");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(line_from_row)
        .collect()
}

/// The orders of one organisation visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Order>> {
    crate::org_page(
        ex,
        scope,
        "orders",
        COLUMNS,
        org_id,
        cursor,
        limit,
        from_row,
        |x| &x.id,
    )
    .await
}

#[derive(Serialize)]
struct Snapshot<'a> {
    order: &'a Order,
    lines: &'a [Line],
}

/// Creates a draft order with its lines, audited.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    new: NewOrder,
    new_lines: Vec<NewLine>,
) -> Result<(Order, Vec<Line>)> {
    // The organisation must be visible to the scope.
    crate::orgs::get(&mut **tx, scope, new.org_id.as_str()).await?;
    let now = actor.recorded_at;
    let order = Order {
        id: new_id(PREFIX, now),
        org_id: new.org_id,
        kind: new.kind.to_owned(),
        amends_order_id: new.amends_order_id,
        state: "draft".into(),
        state_json: new.state_json,
        terms_version: new.terms_version,
        order_date: new.order_date,
        request_received_at: new.request_received_at,
        price_list_id: new.price_list_id,
        special_conditions: new.special_conditions,
        sent_at: None,
        sent_by: None,
        acceptance_deadline: None,
        created_by: actor.id.as_ref().map(|i| i.to_string()),
        created_at: now,
        updated_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO orders ({COLUMNS}) VALUES ("));
    q.bind(&order.id).push(", ").bind(&order.org_id).push(", ");
    q.bind(order.kind.as_str())
        .push(", ")
        .bind(order.amends_order_id.clone())
        .push(", ");
    q.bind(order.state.as_str())
        .push(", ")
        .bind(&order.state_json)
        .push(", ");
    q.bind(&order.terms_version)
        .push(", ")
        .bind(&order.order_date)
        .push(", ");
    q.bind(order.request_received_at)
        .push(", ")
        .bind(&order.price_list_id)
        .push(", ");
    q.bind(&order.special_conditions)
        .push(", NULL, NULL, NULL, ")
        .bind(order.created_by.clone());
    q.push(", ")
        .bind(order.created_at)
        .push(", ")
        .bind(order.updated_at)
        .push(")");
    q.query().execute(&mut **tx).await?;
    let mut lines = Vec::with_capacity(new_lines.len());
    for (position, l) in new_lines.into_iter().enumerate() {
        let line = Line {
            id: new_id(LINE_PREFIX, now),
            order_id: order.id.clone(),
            position: i64::try_from(position).unwrap_or(i64::MAX),
            item_json: l.item_json,
            quantity: l.quantity,
            unit_price: l.unit_price,
            setup_fee: l.setup_fee,
            commitment_months: l.commitment_months,
        };
        let mut q = Sql::new(
            "INSERT INTO order_lines (id, order_id, org_id, position, item_json, quantity, \
             unit_price, setup_fee, commitment_months) VALUES (",
        );
        q.bind(&line.id).push(", ").bind(&line.order_id).push(", ");
        q.bind(&order.org_id)
            .push(", ")
            .bind(line.position)
            .push(", ");
        q.bind(&line.item_json)
            .push(", ")
            .bind(line.quantity)
            .push(", ");
        q.bind(&line.unit_price)
            .push(", ")
            .bind(&line.setup_fee)
            .push(", ");
        q.bind(line.commitment_months).push(")");
        q.query().execute(&mut **tx).await?;
        lines.push(line);
    }
    audit::record(
        &mut **tx,
        actor,
        Change::<(), _> {
            org_id: Some(&order.org_id),
            action: "order.draft",
            entity_kind: "order",
            entity_id: order.id.as_str(),
            before: None,
            after: Some(&Snapshot {
                order: &order,
                lines: &lines,
            }),
        },
    )
    .await?;
    Ok((order, lines))
}

/// Applies a step of the state machine, if the order is still in
/// `step.from_state`; audited with the order before and after. An order
/// that moved meanwhile gives [`StoreError::Conflict`] (`state`).
pub async fn apply_step(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    step: Step<'_>,
) -> Result<Order> {
    let before = get(&mut **tx, scope, id).await?;
    if before.state != step.from_state {
        return Err(StoreError::Conflict("state"));
    }
    let now = actor.recorded_at;
    let mut after = before.clone();
    after.state = step.to_state.to_owned();
    after.state_json = step.state_json;
    after.updated_at = now;
    if let Some((at, by)) = step.sent {
        after.sent_at = Some(at);
        after.sent_by = by;
    }
    if step.acceptance_deadline.is_some() {
        after.acceptance_deadline = step.acceptance_deadline;
    }
    let mut q = Sql::new("UPDATE orders SET state = ");
    q.bind(after.state.as_str())
        .push(", state_json = ")
        .bind(&after.state_json);
    q.push(", sent_at = ")
        .bind(after.sent_at)
        .push(", sent_by = ")
        .bind(after.sent_by.clone());
    q.push(", acceptance_deadline = ")
        .bind(after.acceptance_deadline)
        .push(", updated_at = ")
        .bind(now);
    q.push(" WHERE id = ")
        .bind(&before.id)
        .push(" AND state = ")
        .bind(step.from_state);
    scope.restrict(&mut q, "org_id");
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("state"));
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: step.action,
            entity_kind: "order",
            entity_id: after.id.as_str(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Every running (validated) order of every organisation, oldest first: the
/// orders a new terms version is notified to and applies to (R1.2).
pub async fn running<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Order>> {
    let q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM orders WHERE state = 'validated' ORDER BY id"
    ));
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
