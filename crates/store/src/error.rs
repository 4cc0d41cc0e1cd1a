use std::sync::Arc;
use thiserror::Error;

/// Failures to record or read events. A domain denial is never one of these.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// A stream's head was not at the expected version: reload, decide again, retry.
    #[error("version conflict on stream {stream_id}: expected {expected}, found {actual}")]
    Conflict {
        /// The stream whose head moved.
        stream_id: String,
        /// What the caller expected, as words (`any`, `no stream`, `version N`).
        expected: String,
        /// The version actually at the head.
        actual: i64,
    },
    /// The commit breaks a rule of appending (no events, a stream twice); a bug in the caller.
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// An event could not be turned into JSON or back.
    #[error("event payload could not be encoded or decoded: {0}")]
    Codec(String),
    /// A stored payload matches no event this build knows (written by a newer build, or damaged).
    #[error("stored event at position {position} is not a known event: {message}")]
    UnknownEvent {
        /// The row's position in the log.
        position: i64,
        /// Why the payload did not decode.
        message: String,
    },
    /// The [`Appender`](crate::Appender)'s writer tasks are gone; nothing more can be appended through it.
    #[error("the appender has shut down")]
    AppenderClosed,
    /// PostgreSQL or the connection failed; shared (`Arc`) so the error can be cloned to every waiter.
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

    /// Whether this is a version conflict, the one error a caller answers by deciding again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
