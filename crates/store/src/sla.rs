//! The stored facts a monthly SLA statement is computed from (R5-R7): the
//! services that have one, their own episodes and their cluster's, the
//! maintenance windows with each client's notice, and the credits already
//! approved earlier in the year. Reads are batched for a page of services
//! ordered by identifier (a range of ids, never one query per service), so
//! the statement job reads 50 000 services in a few hundred queries.

use std::collections::HashMap;

use crate::episodes::{self, EpisodeRow};
use crate::maintenance::{self, NoticeRow, WindowRow};
use crate::sql::Sql;
use crate::{Result, Scope};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Any, Executor, Row};

/// Item kinds that have a monthly availability statement (R5.4).
pub const STATEMENT_KINDS: [&str; 2] = ["cloud_vm", "pra"];

/// A service as the statement needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaService {
    pub id: Id,
    pub org_id: Id,
    pub kind: String,
    pub label: String,
    /// The catalog crate's `Item`, as JSON text (its offer).
    pub item_json: String,
    pub monthly_fee: String,
    /// The terms version governing it (R1.2).
    pub terms_version: String,
    pub cluster_id: Option<String>,
    /// The catalog crate's `ServiceState` (whether it had ended).
    pub state_json: String,
}

const SERVICE_COLUMNS: &str = "s.id, s.org_id, s.kind, s.label, s.item_json, s.monthly_fee, \
    s.terms_version, c.cluster_id, s.state_json";

fn service_from_row(r: &sqlx::any::AnyRow) -> Result<SlaService> {
    Ok(SlaService {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        kind: r.try_get("kind")?,
        label: r.try_get("label")?,
        item_json: r.try_get("item_json")?,
        monthly_fee: r.try_get("monthly_fee")?,
        terms_version: r.try_get("terms_version")?,
        cluster_id: r.try_get("cluster_id")?,
        state_json: r.try_get("state_json")?,
    })
}

fn statement_kinds(q: &mut Sql) {
    q.push(" AND s.kind IN ('cloud_vm', 'pra') AND s.state = 'provisioned'");
}

/// Up to `limit` services with a statement for the month whose last day is
/// `last_day` (provisioned on or before it), after the identifier `after`,
/// by identifier.
pub async fn services_page<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    last_day: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SlaService>> {
    let mut q = Sql::new(&format!(
        "SELECT {SERVICE_COLUMNS} FROM services s \
         LEFT JOIN service_clusters c ON c.service_id = s.id WHERE s.start_date <= "
    ));
    q.bind(last_day);
    statement_kinds(&mut q);
    scope.restrict(&mut q, "s.org_id");
    if let Some(a) = after {
        q.push(" AND s.id > ").bind(a);
    }
    q.push(" ORDER BY s.id LIMIT ").bind(limit);
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(service_from_row)
        .collect()
}

/// One service with a statement, visible to `scope`.
pub async fn service<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<SlaService> {
    let mut q = Sql::new(&format!(
        "SELECT {SERVICE_COLUMNS} FROM services s \
         LEFT JOIN service_clusters c ON c.service_id = s.id WHERE s.id = "
    ));
    q.bind(id);
    statement_kinds(&mut q);
    scope.restrict(&mut q, "s.org_id");
    service_from_row(
        &q.query()
            .fetch_optional(ex)
            .await?
            .ok_or(crate::StoreError::NotFound)?,
    )
}

/// Episodes of the services whose identifiers lie in [first, last] that
/// overlap [from, to) (open ones included), by service then start.
pub async fn service_episodes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<EpisodeRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM episodes WHERE service_id >= ",
        episodes::COLUMNS
    ));
    q.bind(first).push(" AND service_id <= ").bind(last);
    q.push(" AND start_at < ").bind(to);
    q.push(" AND (end_at IS NULL OR end_at > ")
        .bind(from)
        .push(") ORDER BY service_id, start_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(episodes::from_row)
        .collect()
}

/// Every cluster episode overlapping [from, to), by cluster then start.
pub async fn cluster_episodes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<EpisodeRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM episodes WHERE cluster_id IS NOT NULL AND start_at < ",
        episodes::COLUMNS
    ));
    q.bind(to).push(" AND (end_at IS NULL OR end_at > ");
    q.bind(from).push(") ORDER BY cluster_id, start_at, id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(episodes::from_row)
        .collect()
}

/// Maintenance windows overlapping [from, to), with their targets and every
/// client's notice.
pub async fn windows<'e, E>(
    ex: E,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(WindowRow, Vec<NoticeRow>)>>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut q = Sql::new(&format!(
        "SELECT {} FROM maintenance_windows WHERE start_at < ",
        maintenance::COLUMNS
    ));
    q.bind(to).push(" AND end_at > ").bind(from);
    // A cancelled window counts as if it never happened.
    q.push(" AND cancelled_at IS NULL ORDER BY start_at, id");
    let rows = q
        .query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(maintenance::window_from_row)
        .collect::<Result<Vec<_>>>()?;
    let windows = maintenance::with_targets(ex, rows).await?;
    let mut notices: HashMap<String, Vec<NoticeRow>> = HashMap::new();
    for chunk in windows.chunks(crate::services::STEPS_PER_STATEMENT) {
        let mut q = Sql::new(
            "SELECT window_id, org_id, notified_at, status, excluded, services_json, \
             explanation_json FROM maintenance_notices WHERE window_id IN (",
        );
        for (i, w) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(&w.id);
        }
        q.push(") ORDER BY org_id");
        for r in q.query().fetch_all(ex).await? {
            let n = maintenance::notice_from_row(&r)?;
            notices.entry(n.window_id.clone()).or_default().push(n);
        }
    }
    Ok(windows
        .into_iter()
        .map(|w| {
            let n = notices.remove(w.id.as_str()).unwrap_or_default();
            (w, n)
        })
        .collect())
}

/// Credits approved for the services in [first, last] in the months of
/// `year` ("YYYY") before `month` ("YYYY-MM"), as exact decimal strings per
/// service (R7.2's yearly cap).
pub async fn approved_credits<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
    month: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let year_start = format!("{}-01", month.get(..4).unwrap_or("0000"));
    let mut q = Sql::new("SELECT service_id, credit FROM sla_statements WHERE service_id >= ");
    q.bind(first).push(" AND service_id <= ").bind(last);
    q.push(" AND month >= ").bind(year_start);
    q.push(" AND month < ").bind(month);
    q.push(" AND review = 'approved'");
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in q.query().fetch_all(ex).await? {
        out.entry(r.try_get("service_id")?)
            .or_default()
            .push(r.try_get("credit")?);
    }
    Ok(out)
}

/// The support items (catalog `Item` JSON) of every organisation with a
/// support service (R4.1), by organisation.
pub async fn support_items<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in Sql::new("SELECT org_id, item_json FROM services WHERE kind = 'support'")
        .query()
        .fetch_all(ex)
        .await?
    {
        out.entry(r.try_get("org_id")?)
            .or_default()
            .push(r.try_get("item_json")?);
    }
    Ok(out)
}

/// The open, unreviewed statements of months in [`first_month`,
/// `last_month`] ("YYYY-MM") of a service, or of the services on a cluster:
/// (month, service id), what an episode's correction must recompute.
pub async fn open_statements_touching<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    service_id: Option<&str>,
    cluster_id: Option<&str>,
    first_month: &str,
    last_month: &str,
) -> Result<Vec<(String, String)>> {
    let mut q = Sql::new(
        "SELECT month, service_id FROM sla_statements WHERE state = 'open' \
         AND review IN ('none', 'proposed') AND month >= ",
    );
    q.bind(first_month).push(" AND month <= ").bind(last_month);
    match (service_id, cluster_id) {
        (Some(s), _) => q.push(" AND service_id = ").bind(s),
        (None, Some(c)) => q
            .push(" AND service_id IN (SELECT service_id FROM service_clusters WHERE cluster_id = ")
            .bind(c)
            .push(")"),
        (None, None) => q.push(" AND 1 = 0"),
    };
    q.push(" ORDER BY month, service_id");
    q.query()
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("month")?, r.try_get("service_id")?)))
        .collect()
}
