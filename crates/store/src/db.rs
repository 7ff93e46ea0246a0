//! Connecting, migrating and transactions.

use crate::Result;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Chooses the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// A transaction on either backend.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The storage handle: cheap to clone, shared by every request and job.
///
/// SQLite allows one writer at a time; instead of letting concurrent writers
/// collide on `SQLITE_BUSY`, writes go through a one-connection pool while
/// reads use the shared pool (WAL lets them run beside the writer). On
/// PostgreSQL both pools are the same.
#[derive(Clone, Debug)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`).
    /// A SQLite file is created if missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            crate::StoreError::Database(sqlx::Error::Configuration(
                "the database URL must start with sqlite: or postgres://".into(),
            ))
        })?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let pool = |n: u32| {
                    AnyPoolOptions::new()
                        .max_connections(n)
                        .min_connections(1)
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                // A 32 MiB page cache and reads through mmap: SQLite's
                                // 2 MiB default made a billing run of 10 000 clients
                                // spend a tenth of its time in pread(2) of pages it
                                // had just evicted.
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                     PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                        .connect(&url)
                };
                // The writer first: it creates the file and switches it to WAL.
                let write = pool(1).await?;
                // Each SQLite connection is served by its own thread: more
                // readers than cores only adds context switches (measured in
                // BENCHMARKS.md: 8 readers on 2 cores serve a third of what 2 do).
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
                let read = pool(max_connections.clamp(1, cores)).await?;
                Ok(Store {
                    read,
                    write,
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                Ok(Store {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
        }
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending migrations of this backend (forward-only).
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        migrator.run(&self.write).await?;
        // A data step no SQL migration can do: readings of the former
        // one-row-per-reading table packed into days (0022).
        crate::bandwidth::pack_legacy(self).await?;
        Ok(migrator.iter().map(|m| m.version).collect())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin().await?)
    }

    /// The pool for reads that need no transaction (pass it to the read
    /// functions of each module; pass `&mut *tx` inside a transaction).
    pub fn db(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for single-statement writes outside a transaction (on
    /// SQLite, the one writer connection).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Checks that the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Adds `mode=rwc` so that a missing SQLite file is created.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("sqlite://ciel.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://u@h/db"), None);
        assert_eq!(sqlite_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(sqlite_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    }
}

/// Opens a savepoint named `name` (a fixed identifier of the caller) in
/// `tx`: work that must stand or fall per item inside one larger
/// transaction (one commit for many items).
pub async fn savepoint(tx: &mut Tx, name: &'static str) -> Result<()> {
    sqlx::query(&format!("SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Undoes what `tx` did since the savepoint `name` (which stays open).
pub async fn rollback_to(tx: &mut Tx, name: &'static str) -> Result<()> {
    sqlx::query(&format!("ROLLBACK TO SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Closes the savepoint `name`, keeping its work in `tx`.
pub async fn release(tx: &mut Tx, name: &'static str) -> Result<()> {
    sqlx::query(&format!("RELEASE SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod savepoint_tests {
    use super::*;
    use sqlx::Row;

    #[tokio::test]
    async fn a_savepoint_undoes_only_its_own_work() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE t (v BIGINT)")
            .execute(store.writer())
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        for v in 1..=3_i64 {
            savepoint(&mut tx, "item").await.unwrap();
            sqlx::query(&format!("INSERT INTO t (v) VALUES ({v})"))
                .execute(&mut *tx)
                .await
                .unwrap();
            if v == 2 {
                rollback_to(&mut tx, "item").await.unwrap();
            }
            release(&mut tx, "item").await.unwrap();
        }
        tx.commit().await.unwrap();
        let rows = sqlx::query("SELECT v FROM t ORDER BY v")
            .fetch_all(store.db())
            .await
            .unwrap();
        let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(got, vec![1, 3]);
    }
}
