//! Storage errors, mapped by the server to problem+json answers.

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or the scope may not see it (the two are
    /// indistinguishable on purpose: no existence oracle across tenants).
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated (e.g. e-mail already used).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The stored data could not be decoded (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-violation to [`StoreError::Conflict`], keeping others.
    pub(crate) fn unique(e: sqlx::Error, what: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}
