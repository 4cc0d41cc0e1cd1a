//! The crate's one error type. A difference found by the audit is a finding, not an error.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProjectionError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event store error: {0}")]
    Store(#[from] store::StoreError),
    /// A stored row does not decode as a known event; projections stop rather than skip it.
    #[error("event at position {position} does not decode: {message}")]
    Decode { position: i64, message: String },
    #[error(
        "unknown projection {0:?} (known: balances, leaderboards, campaigns, identities, rewards, admin_log, daily_stats)"
    )]
    UnknownProjection(String),
    /// Another process is rebuilding the same projection.
    #[error("projection {0} is being rebuilt by another process")]
    RebuildBusy(&'static str),
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid input: {0}")]
    Invalid(String),
}

pub type Result<T, E = ProjectionError> = std::result::Result<T, E>;
