//! Bulk fixtures for benchmarks and the fleet simulator: a validated order
//! whose lines are already services in a given state, written in one
//! statement per table instead of one audited workflow per service. Never
//! used by the server's workflows: the rows it writes are what those
//! workflows would have written, without their audit trail.

use crate::sql::{Sql, new_id};
use crate::{Result, Tx};
use ciel_domain::Id;
use jiff::Timestamp;

/// One service to seed.
#[derive(Debug, Clone)]
pub struct SeedService {
    pub kind: String,
    pub label: String,
    pub item_json: String,
    pub monthly_fee: String,
    pub commitment_months: i64,
    /// `ordered` or `provisioned`.
    pub state: &'static str,
    pub state_json: String,
    pub start_date: Option<String>,
    pub term_last_day: Option<String>,
    pub next_due_at: Option<Timestamp>,
}

/// Rows per multi-row INSERT (see [`crate::services::STEPS_PER_STATEMENT`]
/// for why it is small).
const ROWS_PER_INSERT: usize = crate::services::STEPS_PER_STATEMENT;

/// Writes a validated order of `org_id` with one line and one service per
/// entry; returns the service identifiers.
pub async fn order_with_services(
    tx: &mut Tx,
    org_id: &Id,
    price_list_id: &str,
    terms_version: &str,
    order_date: &str,
    now: Timestamp,
    services: &[SeedService],
) -> Result<Vec<Id>> {
    let order_id = new_id(crate::orders::PREFIX, now);
    let mut q = Sql::new(
        "INSERT INTO orders (id, org_id, kind, state, state_json, terms_version, order_date, \
         price_list_id, created_at, updated_at) VALUES (",
    );
    q.bind(&order_id).push(", ").bind(org_id);
    q.push(", 'initial', 'validated', '{\"state\":\"validated\"}', ")
        .bind(terms_version)
        .push(", ")
        .bind(order_date);
    q.push(", ")
        .bind(price_list_id)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(")");
    q.query().execute(&mut **tx).await?;
    let mut ids = Vec::with_capacity(services.len());
    for (chunk_no, chunk) in services.chunks(ROWS_PER_INSERT).enumerate() {
        let mut lines = Sql::new(
            "INSERT INTO order_lines (id, order_id, org_id, position, item_json, quantity, \
             unit_price, setup_fee, commitment_months) VALUES ",
        );
        let mut rows = Sql::new(
            "INSERT INTO services (id, org_id, order_id, order_line_id, kind, label, item_json, \
             quantity, monthly_fee, terms_version, state, state_json, start_date, term_last_day, \
             next_due_at, version, created_at, updated_at) VALUES ",
        );
        for (i, s) in chunk.iter().enumerate() {
            let position = i64::try_from(chunk_no * ROWS_PER_INSERT + i).unwrap_or(i64::MAX);
            let line_id = new_id(crate::orders::LINE_PREFIX, now);
            let id = new_id(crate::services::PREFIX, now);
            if i > 0 {
                lines.push(", ");
                rows.push(", ");
            }
            lines.push("(").bind(&line_id).push(", ").bind(&order_id);
            lines.push(", ").bind(org_id).push(", ").bind(position);
            lines.push(", ").bind(s.item_json.as_str()).push(", 1, ");
            lines.bind(s.monthly_fee.as_str()).push(", '0', ");
            lines.bind(s.commitment_months).push(")");
            rows.push("(").bind(&id).push(", ").bind(org_id);
            rows.push(", ").bind(&order_id).push(", ").bind(&line_id);
            rows.push(", ").bind(s.kind.as_str()).push(", ");
            rows.bind(s.label.as_str())
                .push(", ")
                .bind(s.item_json.as_str());
            rows.push(", 1, ").bind(s.monthly_fee.as_str()).push(", ");
            rows.bind(terms_version).push(", ").bind(s.state);
            rows.push(", ").bind(s.state_json.as_str()).push(", ");
            rows.bind(s.start_date.clone())
                .push(", ")
                .bind(s.term_last_day.clone());
            rows.push(", ").bind(s.next_due_at).push(", 0, ");
            rows.bind(now).push(", ").bind(now).push(")");
            ids.push(id);
        }
        lines.query().execute(&mut **tx).await?;
        rows.query().execute(&mut **tx).await?;
    }
    Ok(ids)
}
