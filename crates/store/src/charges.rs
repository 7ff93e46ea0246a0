//! Amounts handed to billing once (R3.1 termination fees, R3.6 product-return
//! indemnities, R8.2 hour-book overruns, R4.5 billable tickets...). A charge
//! is keyed by its source and a stable key, so handing it over twice (a step
//! re-run after a crash, a job run twice) leaves one row; an amount revised
//! after invoicing is a new key, never an update (R2.11).

use crate::audit::{self, Actor};
use crate::sql::{Sql, new_id};
use crate::{Result, Scope, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of charges.
pub const PREFIX: &str = "chg";

/// A charge as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub id: Id,
    pub org_id: Id,
    /// `service`, `hour_book`, `ticket`...
    pub source_kind: String,
    pub source_id: String,
    /// Stable within the source, e.g. `termination_fee`.
    pub charge_key: String,
    /// The rule that produced it, e.g. `R3.1`.
    pub rule: String,
    pub label: String,
    /// Exact decimal euros excluding VAT, rounded to the cent.
    pub amount: String,
    /// The explanation (JSON) citing the clauses applied.
    pub explanation_json: String,
    pub occurred_at: Timestamp,
    /// The invoice that billed it, once billed.
    pub invoice_id: Option<String>,
    pub created_at: Timestamp,
}

/// A charge to hand over.
#[derive(Debug, Clone)]
pub struct NewCharge {
    pub org_id: Id,
    pub source_kind: &'static str,
    pub source_id: String,
    pub charge_key: String,
    pub rule: String,
    pub label: String,
    pub amount: String,
    pub explanation_json: String,
    pub occurred_at: Timestamp,
}

const COLUMNS: &str = "id, org_id, source_kind, source_id, charge_key, rule, label, amount, \
    explanation_json, occurred_at, invoice_id, created_at";

fn from_row(r: &AnyRow) -> Result<Charge> {
    Ok(Charge {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        source_kind: r.try_get("source_kind")?,
        source_id: r.try_get("source_id")?,
        charge_key: r.try_get("charge_key")?,
        rule: r.try_get("rule")?,
        label: r.try_get("label")?,
        amount: r.try_get("amount")?,
        explanation_json: r.try_get("explanation_json")?,
        occurred_at: time::from_db(r.try_get("occurred_at")?),
        invoice_id: r.try_get("invoice_id")?,
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

/// Hands a charge to billing unless its (source, key) is already there;
/// returns whether it was new. Audited when new.
pub async fn hand_over(tx: &mut Tx, actor: &Actor, new: NewCharge) -> Result<bool> {
    let now = actor.recorded_at;
    let c = Charge {
        id: new_id(PREFIX, now),
        org_id: new.org_id,
        source_kind: new.source_kind.to_owned(),
        source_id: new.source_id,
        charge_key: new.charge_key,
        rule: new.rule,
        label: new.label,
        amount: new.amount,
        explanation_json: new.explanation_json,
        occurred_at: new.occurred_at,
        invoice_id: None,
        created_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO charges ({COLUMNS}) VALUES ("));
    q.bind(&c.id).push(", ").bind(&c.org_id).push(", ");
    q.bind(c.source_kind.as_str())
        .push(", ")
        .bind(c.source_id.as_str())
        .push(", ");
    q.bind(c.charge_key.as_str())
        .push(", ")
        .bind(c.rule.as_str())
        .push(", ");
    q.bind(c.label.as_str())
        .push(", ")
        .bind(c.amount.as_str())
        .push(", ");
    q.bind(c.explanation_json.as_str())
        .push(", ")
        .bind(c.occurred_at)
        .push(", NULL, ");
    q.bind(c.created_at)
        .push(") ON CONFLICT (source_kind, source_id, charge_key) DO NOTHING");
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit::created(
        &mut **tx,
        actor,
        &c.org_id,
        "charge.hand_over",
        "charge",
        c.id.as_str(),
        &c,
    )
    .await?;
    Ok(true)
}

/// The charges of one source visible to `scope`, oldest first.
pub async fn of_source<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    source_kind: &str,
    source_id: &str,
) -> Result<Vec<Charge>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM charges WHERE source_kind = "
    ));
    q.bind(source_kind)
        .push(" AND source_id = ")
        .bind(source_id);
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The charges of an organisation not invoiced yet, oldest first (the
/// billing run's input).
pub async fn pending<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Vec<Charge>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM charges WHERE org_id = "));
    q.bind(org_id).push(" AND invoice_id IS NULL");
    scope.restrict(&mut q, "org_id");
    q.push(" ORDER BY id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
