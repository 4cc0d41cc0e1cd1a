#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! The application layer, shared by every surface (HTTP, bot, CLI, bench) and free of any of
//! them: the ledger runs a command end to end (load the states it needs, let the pure domain
//! decide, append with the versions it saw, retry from the start on a conflict); the ingest
//! turns verified platform signals into commands; the name directory puts names beside ranks.
//! Nothing else appends.

pub mod accounts;
pub mod brand;
pub mod broadcasts;
pub mod bulk_adjustments;
pub mod cache;
pub mod channels;
pub mod commands;
pub mod config;
pub mod context;
pub mod coupons;
pub mod expiry;
pub mod ingest;
pub mod language;
pub mod ledger;
pub mod managers_chat;
pub mod names;
pub mod period_counts;
mod periodic;
pub mod personal_data;
pub mod program_bots;
pub mod raffles;
pub mod reads;
pub mod retention;
pub mod seasons;
pub mod secrets;
pub mod tiers;

pub use commands::{ExpiryLook, ManagerAction, ProgramContext};
pub use context::AppContext;
pub use language::Language;
pub use ledger::{Ledger, LedgerConfig};

use domain::{DomainError, Event};
use store::StoreError;

/// Two layers of failure that never mix: the command was denied (a 4xx), or we failed to
/// record it (retry later, a 5xx).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Denied(#[from] DomainError),
    #[error("could not record the command: {0}")]
    Store(#[from] StoreError),
    #[error("gave up after {0} version conflicts")]
    TooManyConflicts(u32),
    #[error("stored event could not be read: {0}")]
    Corrupt(String),
    #[error("could not update a read-model table: {0}")]
    ReadModel(String),
    /// A platform API the command needs did not answer; the platform's retry may succeed.
    #[error("a platform API did not answer: {0}")]
    Upstream(String),
}

/// A failed query is a failure to record, like any other of the store's.
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Store(e.into())
    }
}

/// What became of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The events were appended.
    Recorded {
        events: Vec<Event>,
        positions: Vec<i64>,
        retries: u32,
    },
    /// The same command was recorded before (its event ids exist): nothing changed.
    Duplicate,
    /// The domain decided there was nothing to do.
    Unchanged,
}

impl Outcome {
    /// The ids of the events a command with this id appended (none unless recorded): derived
    /// from the command id, as the ledger derives them when it appends.
    pub fn event_ids(&self, command_id: uuid::Uuid) -> Vec<uuid::Uuid> {
        match self {
            Outcome::Recorded { events, .. } => (0..events.len())
                .map(|i| store::codec::event_id(command_id, i))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn retries(&self) -> u32 {
        match self {
            Outcome::Recorded { retries, .. } => *retries,
            _ => 0,
        }
    }
}
