//! Monthly SLA statements (R5-R7): one row per service and month, written
//! by the statement job 32 rows a statement, recomputed while open, frozen
//! after review or after its correction period, and reviewed by staff
//! (R7.5) over the version they read.

use crate::audit::{self, Actor, Change};
use crate::services::STEPS_PER_STATEMENT;
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Identifier prefix of statements.
pub const PREFIX: &str = "sla";

/// What a computation produces for one service-month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub org_id: Id,
    pub service_id: String,
    /// "YYYY-MM" (Europe/Paris).
    pub month: String,
    pub terms_version: String,
    pub offer: String,
    pub monthly_fee: String,
    pub month_minutes: i64,
    pub unavailable_minutes: i64,
    pub rate: String,
    pub guaranteed_rate: String,
    pub penalty_tier: Option<String>,
    pub penalty_percent: String,
    pub raw_penalty: String,
    /// JSON array: "month", "year" (R7.2).
    pub caps_applied: String,
    /// JSON array of percents, one per PRA activation (R6.4).
    pub pra_penalties: String,
    pub combination_rule: String,
    pub credit: String,
    pub statement_json: String,
    pub evidence_json: String,
    pub explanation_json: String,
    pub correctable_until: Timestamp,
    /// `proposed` when the credit is positive, else `none`.
    pub review: String,
}

/// A statement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementRow {
    pub id: Id,
    #[serde(flatten)]
    pub figures: Figures,
    /// `open` or `frozen`.
    pub state: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub charge_id: Option<String>,
    pub version: i64,
    pub computed_at: Timestamp,
    pub created_at: Timestamp,
}

const FIGURE_COLUMNS: [&str; 22] = [
    "org_id",
    "service_id",
    "month",
    "terms_version",
    "offer",
    "monthly_fee",
    "month_minutes",
    "unavailable_minutes",
    "rate",
    "guaranteed_rate",
    "penalty_tier",
    "penalty_percent",
    "raw_penalty",
    "caps_applied",
    "pra_penalties",
    "combination_rule",
    "credit",
    "statement_json",
    "evidence_json",
    "explanation_json",
    "correctable_until",
    "review",
];

fn columns() -> String {
    format!(
        "id, {}, state, review_reason, reviewed_by, reviewed_at, charge_id, version, \
         computed_at, created_at",
        FIGURE_COLUMNS.join(", ")
    )
}

fn from_row(r: &AnyRow) -> Result<StatementRow> {
    Ok(StatementRow {
        id: Id::from_raw(r.try_get("id")?),
        figures: Figures {
            org_id: Id::from_raw(r.try_get("org_id")?),
            service_id: r.try_get("service_id")?,
            month: r.try_get("month")?,
            terms_version: r.try_get("terms_version")?,
            offer: r.try_get("offer")?,
            monthly_fee: r.try_get("monthly_fee")?,
            month_minutes: r.try_get("month_minutes")?,
            unavailable_minutes: r.try_get("unavailable_minutes")?,
            rate: r.try_get("rate")?,
            guaranteed_rate: r.try_get("guaranteed_rate")?,
            penalty_tier: r.try_get("penalty_tier")?,
            penalty_percent: r.try_get("penalty_percent")?,
            raw_penalty: r.try_get("raw_penalty")?,
            caps_applied: r.try_get("caps_applied")?,
            pra_penalties: r.try_get("pra_penalties")?,
            combination_rule: r.try_get("combination_rule")?,
            credit: r.try_get("credit")?,
            statement_json: r.try_get("statement_json")?,
            evidence_json: r.try_get("evidence_json")?,
            explanation_json: r.try_get("explanation_json")?,
            correctable_until: time::from_db(r.try_get("correctable_until")?),
            review: r.try_get("review")?,
        },
        state: r.try_get("state")?,
        review_reason: r.try_get("review_reason")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: time::opt_from_db(r.try_get("reviewed_at")?),
        charge_id: r.try_get("charge_id")?,
        version: r.try_get("version")?,
        computed_at: time::from_db(r.try_get("computed_at")?),
        created_at: time::from_db(r.try_get("created_at")?),
    })
}

fn bind_figures(q: &mut Sql, f: &Figures) {
    q.bind(&f.org_id).push(", ").bind(f.service_id.as_str());
    q.push(", ").bind(f.month.as_str()).push(", ");
    q.bind(f.terms_version.as_str())
        .push(", ")
        .bind(f.offer.as_str());
    q.push(", ").bind(f.monthly_fee.as_str()).push(", ");
    q.bind(f.month_minutes)
        .push(", ")
        .bind(f.unavailable_minutes);
    q.push(", ").bind(f.rate.as_str()).push(", ");
    q.bind(f.guaranteed_rate.as_str())
        .push(", ")
        .bind(f.penalty_tier.clone());
    q.push(", ").bind(f.penalty_percent.as_str()).push(", ");
    q.bind(f.raw_penalty.as_str())
        .push(", ")
        .bind(f.caps_applied.as_str());
    q.push(", ").bind(f.pra_penalties.as_str()).push(", ");
    q.bind(f.combination_rule.as_str())
        .push(", ")
        .bind(f.credit.as_str());
    q.push(", ").bind(f.statement_json.as_str()).push(", ");
    q.bind(f.evidence_json.as_str())
        .push(", ")
        .bind(f.explanation_json.as_str());
    q.push(", ").bind(f.correctable_until).push(", ");
    q.bind(f.review.as_str());
}

/// Writes computed statements, 32 rows a statement. A new service-month is
/// inserted; an existing one is updated only while it is open and not
/// reviewed, and only when its statement or evidence changed (so a re-run
/// leaves the rows and their versions as they were). Returns how many rows
/// were written; one audit record names the batch.
pub async fn upsert_many(tx: &mut Tx, actor: &Actor, rows: &[Figures]) -> Result<u64> {
    let now = actor.recorded_at;
    let set: Vec<String> = FIGURE_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "org_id" | "service_id" | "month" | "correctable_until"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let mut written = 0;
    for chunk in rows.chunks(STEPS_PER_STATEMENT) {
        let mut q = Sql::new(&format!(
            "INSERT INTO sla_statements (id, {}, state, version, computed_at, created_at) VALUES ",
            FIGURE_COLUMNS.join(", ")
        ));
        for (i, f) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(&new_id(PREFIX, now)).push(", ");
            bind_figures(&mut q, f);
            q.push(", 'open', 0, ")
                .bind(now)
                .push(", ")
                .bind(now)
                .push(")");
        }
        q.push(&format!(
            " ON CONFLICT (service_id, month) DO UPDATE SET {}, version = sla_statements.version + 1, \
             computed_at = excluded.computed_at \
             WHERE sla_statements.state = 'open' AND sla_statements.review IN ('none', 'proposed') \
             AND (sla_statements.statement_json <> excluded.statement_json \
             OR sla_statements.evidence_json <> excluded.evidence_json)",
            set.join(", ")
        ));
        written += q.query().execute(&mut **tx).await?.rows_affected();
    }
    if written > 0 {
        #[derive(Serialize)]
        struct Batch<'a> {
            computed: usize,
            written: u64,
            first: Option<&'a str>,
            last: Option<&'a str>,
        }
        let first = rows.first().map(|f| f.service_id.as_str());
        let entity = format!(
            "{}:{}",
            rows.first().map_or("", |f| f.month.as_str()),
            first.unwrap_or("")
        );
        audit::record(
            &mut **tx,
            actor,
            Change::<(), _> {
                org_id: None,
                action: "sla_statement.compute",
                entity_kind: "sla_statement",
                entity_id: &entity,
                before: None,
                after: Some(&Batch {
                    computed: rows.len(),
                    written,
                    first,
                    last: rows.last().map(|f| f.service_id.as_str()),
                }),
            },
        )
        .await?;
    }
    Ok(written)
}

/// Freezes the open statements whose correction period ended at `now`;
/// returns how many. Audited as one record.
pub async fn freeze_due(tx: &mut Tx, actor: &Actor, now: Timestamp) -> Result<u64> {
    let mut q = Sql::new(
        "UPDATE sla_statements SET state = 'frozen', version = version + 1 WHERE state = 'open' AND correctable_until <= ",
    );
    q.bind(now);
    let n = q.query().execute(&mut **tx).await?.rows_affected();
    if n > 0 {
        audit::record(
            &mut **tx,
            actor,
            Change::<(), _> {
                org_id: None,
                action: "sla_statement.freeze",
                entity_kind: "sla_statement",
                entity_id: "correction_period",
                before: None,
                after: Some(&serde_json::json!({ "frozen": n, "at": now })),
            },
        )
        .await?;
    }
    Ok(n)
}

/// A statement visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<StatementRow> {
    crate::get_scoped(ex, scope, "sla_statements", &columns(), id, from_row).await
}

/// The statement of a service-month, if computed.
pub async fn of_service_month<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    service_id: &str,
    month: &str,
) -> Result<Option<StatementRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM sla_statements WHERE service_id = ",
        columns()
    ));
    q.bind(service_id).push(" AND month = ").bind(month);
    scope.restrict(&mut q, "org_id");
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org_id: Option<String>,
    pub service_id: Option<String>,
    pub month: Option<String>,
    /// `none`, `proposed`, `approved`, `rejected`.
    pub review: Option<String>,
}

/// Statements visible to `scope`, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    f: &Filter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<StatementRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM sla_statements WHERE 1 = 1",
        columns()
    ));
    scope.restrict(&mut q, "org_id");
    if let Some(o) = &f.org_id {
        q.push(" AND org_id = ").bind(o);
    }
    if let Some(s) = &f.service_id {
        q.push(" AND service_id = ").bind(s);
    }
    if let Some(m) = &f.month {
        q.push(" AND month = ").bind(m);
    }
    if let Some(r) = &f.review {
        q.push(" AND review = ").bind(r);
    }
    if let Some(c) = cursor {
        q.push(" AND id < ").bind(c);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}

/// A review decision.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    /// `approved` or `rejected`.
    pub review: &'a str,
    pub reason: Option<&'a str>,
    pub charge_id: Option<&'a str>,
}

/// Records a review over the version it was decided on (the statement is
/// frozen by it), audited with before and after; a concurrent change
/// answers `Conflict("version")`.
pub async fn review(
    tx: &mut Tx,
    actor: &Actor,
    before: &StatementRow,
    r: Review<'_>,
) -> Result<StatementRow> {
    let mut q = Sql::new("UPDATE sla_statements SET review = ");
    q.bind(r.review).push(", review_reason = ").bind(r.reason);
    q.push(", reviewed_by = ").bind(actor.label.as_str());
    q.push(", reviewed_at = ").bind(actor.occurred_at);
    q.push(", charge_id = ").bind(r.charge_id);
    q.push(", state = 'frozen', version = version + 1 WHERE id = ")
        .bind(&before.id);
    q.push(" AND version = ").bind(before.version);
    q.push(" AND review = 'proposed'");
    if q.query().execute(&mut **tx).await?.rows_affected() == 0 {
        return Err(StoreError::Conflict("version"));
    }
    let after = get(&mut **tx, &Scope::Staff, before.id.as_str()).await?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&before.figures.org_id),
            action: if r.review == "approved" {
                "sla_statement.approve"
            } else {
                "sla_statement.reject"
            },
            entity_kind: "sla_statement",
            entity_id: before.id.as_str(),
            before: Some(&Summary::of(before)),
            after: Some(&Summary::of(&after)),
        },
    )
    .await?;
    Ok(after)
}

/// What the audit log keeps of a statement (not its JSON documents).
#[derive(Serialize)]
struct Summary<'a> {
    service_id: &'a str,
    month: &'a str,
    credit: &'a str,
    state: &'a str,
    review: &'a str,
    review_reason: Option<&'a str>,
    charge_id: Option<&'a str>,
    version: i64,
}

impl<'a> Summary<'a> {
    fn of(s: &'a StatementRow) -> Self {
        Summary {
            service_id: &s.figures.service_id,
            month: &s.figures.month,
            credit: &s.figures.credit,
            state: &s.state,
            review: &s.figures.review,
            review_reason: s.review_reason.as_deref(),
            charge_id: s.charge_id.as_deref(),
            version: s.version,
        }
    }
}
