//! A small query builder that numbers `$n` placeholders, so one SQL text runs
//! on both backends, and identifier generation.

use jiff::Timestamp;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

/// SQL text with its arguments, numbered as they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends raw SQL.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub(crate) fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Builds the sqlx query.
    pub(crate) fn query(&self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        let mut args = AnyArguments::default();
        for a in &self.args {
            // Encoding these primitive types cannot fail.
            let _ = match a {
                Arg::Int(v) => args.add(*v),
                Arg::Text(v) => args.add(v.as_str()),
                Arg::OptInt(v) => args.add(*v),
                Arg::OptText(v) => args.add(v.as_deref()),
            };
        }
        sqlx::query_with(&self.text, args)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<&ciel_domain::Id> for Arg {
    fn from(v: &ciel_domain::Id) -> Self {
        Arg::Text(v.as_str().to_owned())
    }
}
impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Arg::Int(crate::time::to_db(v))
    }
}
impl From<Option<Timestamp>> for Arg {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::OptInt(v.map(crate::time::to_db))
    }
}

/// A new identifier `prefix_<uuid v7>`: time-ordered (so lists sort by
/// creation and cursors are stable) from the injected clock, plus random
/// bits. Within one millisecond a counter keeps the order of creation (the
/// injected clock may stand still, as it does in tests).
pub fn new_id(prefix: &str, now: Timestamp) -> ciel_domain::Id {
    static CONTEXT: std::sync::Mutex<Option<uuid::ContextV7>> = std::sync::Mutex::new(None);
    let secs = u64::try_from(now.as_second()).unwrap_or(0);
    let nanos = u32::try_from(now.subsec_nanosecond()).unwrap_or(0);
    let mut ctx = CONTEXT.lock().unwrap_or_else(|p| p.into_inner());
    let ctx = ctx.get_or_insert_with(uuid::ContextV7::new);
    let ts = uuid::Timestamp::from_unix(&*ctx, secs, nanos);
    let uuid = uuid::Uuid::new_v7(ts);
    ciel_domain::Id::from_parts(prefix, &uuid.simple().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_push_order() {
        let mut q = Sql::new("SELECT * FROM t WHERE a = ");
        q.bind(1i64).push(" AND b = ").bind("x");
        assert_eq!(q.text, "SELECT * FROM t WHERE a = $1 AND b = $2");
        assert_eq!(q.args.len(), 2);
    }

    #[test]
    fn ids_follow_the_clock() {
        let t1: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t2: Timestamp = "2026-01-01T00:00:01Z".parse().unwrap();
        let a = new_id("org", t1);
        let b = new_id("org", t2);
        assert!(a < b);
        assert!(ciel_domain::Id::parse("org", a.as_str()).is_ok());
        // A clock standing still still gives increasing identifiers.
        let ids: Vec<_> = (0..1000).map(|_| new_id("aud", t1)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
