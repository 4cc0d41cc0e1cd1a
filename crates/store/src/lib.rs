//! The append-only event log on PostgreSQL.
//!
//! Invariants: rows of `events` are never updated or deleted (triggers reject it); a stream's
//! versions are gapless from 1; an event id is recorded at most once; readers of the whole log
//! never skip an event that commits late.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod append;
mod appender;
pub mod codec;
mod copy_out;
pub mod digest;
mod error;
mod log_copy;
mod read;
mod tail;
pub mod upcast;
pub mod wake;

pub use append::{AppendOutcome, Commit, ExpectedVersion, Metadata, NewEvent, StreamAppend};
pub use appender::Appender;
pub use copy_out::{BinaryCopy, Fields};
pub use error::StoreError;
pub use log_copy::{LogCopy, LogRow};
pub use read::{
    COLUMNS as EVENT_COLUMNS, Checkpoint, Envelope, IndexedType, MAX_READ_BATCH, RecordedEvent,
};
pub use tail::LogTail;
pub use wake::Wake;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::time::Duration;

/// The schema, embedded: `loyalty migrate` and tests apply it.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A handle on the event log: the pool it appends and reads through, and the in-process wake-up
/// its appends signal. Cloning is cheap and shares both.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    wake: Wake,
}

impl EventStore {
    /// A store over `pool` with a fresh wake-up of its own.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            wake: Wake::default(),
        }
    }

    /// The pool, for callers that run their own queries in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Signalled after every commit made through this handle (see [`Wake`]).
    pub fn wake(&self) -> &Wake {
        &self.wake
    }
}

/// Opens a pool with sane limits and timeouts. A server keeps `min_connections` open (opened in
/// the background from the start): its first burst of requests then does not wait for
/// connection setup (seen as ~100 ms stalls in the first seconds of W2); one-shot commands
/// pass 0.
pub async fn connect(
    database_url: &str,
    max_connections: u32,
    min_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    pool_options(max_connections, min_connections)
        .connect(database_url)
        .await
}

/// The limits and timeouts every pool of the project shares.
fn pool_options(max_connections: u32, min_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(min_connections.min(max_connections))
        .acquire_timeout(Duration::from_secs(10))
}

/// Moves the log's clock past its newest event when the log is ahead of it, as after a
/// `pg_restore` into another server whose transaction ids are behind the source's; returns by
/// how much (0 on a log written on this server). Without it, events appended after such a
/// restore would sort before the restored ones and no reader would see them (see the migration
/// `events_clock`). Every command runs it when it connects.
pub async fn catch_up_clock(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT events_clock_catch_up()")
        .fetch_one(pool)
        .await
}

/// The role `loyalty serve` works as, created by the migrations: it reads and appends events
/// and seal blocks but may not change or remove them, and owns no table, so it cannot disable
/// their triggers. It cannot log in: a connection switches to it.
pub const SERVICE_ROLE: &str = "loyalty_service";

/// A pool on the database of `options` whose every connection first switches to
/// [`SERVICE_ROLE`] (`SET ROLE`, allowed to a superuser or a member of the role).
pub async fn connect_as_service(
    options: &PgConnectOptions,
    max_connections: u32,
    min_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    pool_options(max_connections, min_connections)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query(&format!("SET ROLE {SERVICE_ROLE}"))
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await
}
