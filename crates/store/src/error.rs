use std::sync::Arc;
use thiserror::Error;

/// Failures to record or read events. A domain denial is never one of these.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// A stream's head was not at the expected version: reload, decide again, retry.
    #[error("version conflict on stream {stream_id}: expected {expected}, found {actual}")]
    Conflict {
        stream_id: String,
        expected: String,
        actual: i64,
    },
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error("event payload could not be encoded or decoded: {0}")]
    Codec(String),
    #[error("stored event at position {position} is not a known event: {message}")]
    UnknownEvent { position: i64, message: String },
    #[error("the appender has shut down")]
    AppenderClosed,
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Codec(e.to_string())
    }
}

impl StoreError {
    /// PostgreSQL unique violations arrive when another process appended concurrently.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> Option<&str> {
        match err {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                Some(db.constraint().unwrap_or(""))
            }
            _ => None,
        }
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
