use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database URL '{url}' is not understood: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("vendors changed while they were being re-tiered")]
    StaleRetier,
    #[error("the tiering policy changed to '{0}' meanwhile; try again")]
    PolicyChanged(String),
    #[error("stored data is unreadable ({what}): {reason}")]
    Corrupt { what: &'static str, reason: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        // Classify by kind, never by constraint name: SQLite reports no names.
        if let Some(db) = err.as_database_error() {
            if db.is_unique_violation() {
                return StoreError::Conflict("a record with the same key already exists".into());
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    pub fn corrupt(what: &'static str, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what,
            reason: reason.to_string(),
        }
    }
}

pub(crate) fn json_list(raw: &str, what: &'static str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::corrupt(what, e))
}
