//! The seal over the log's order: a worker that follows the log in the store's gap-safe order
//! (`EventStore::read_all`, the order projections read) and appends blocks to `log_seal`, each
//! digest chained to the previous block's. Appends are untouched: sealing happens after they
//! commit, so it takes no lock an append waits for.
//!
//! One sealer works at a time across processes (an advisory transaction lock); the table's
//! insert trigger refuses a block that does not extend the chain.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::time::Duration;
use store::{Checkpoint, EventStore, RecordedEvent};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The most events one block seals.
pub const MAX_BLOCK_EVENTS: i64 = 1_000;

/// Bytes of each event's leaf digest kept in its block to find the first event that differs.
pub const LEAF_PREFIX_BYTES: usize = 8;

/// An event's leaf: what the seal fixes of it. sha256 of its place in the log (transaction,
/// position), program, stream and version, record time (microseconds) and its stream-chain
/// hash, which covers the event id, type, schema version and payload.
pub fn leaf_digest(
    tx_id: i64,
    position: i64,
    program_id: Uuid,
    stream_id: &str,
    stream_version: i64,
    recorded_at: DateTime<Utc>,
    hash: &[u8],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tx_id.to_be_bytes());
    h.update(position.to_be_bytes());
    h.update(program_id.as_bytes());
    h.update(stream_version.to_be_bytes());
    h.update(recorded_at.timestamp_micros().to_be_bytes());
    h.update((hash.len() as u64).to_be_bytes());
    h.update(hash);
    h.update(stream_id.as_bytes());
    h.finalize().into()
}

fn leaf_of(e: &RecordedEvent) -> [u8; 32] {
    leaf_digest(
        e.tx_id,
        e.position,
        e.program_id,
        &e.stream_id,
        e.stream_version,
        e.recorded_at,
        &e.hash,
    )
}

/// A block's fields that its digest covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    pub block: i64,
    pub first: Checkpoint,
    pub last: Checkpoint,
    pub count: i64,
    pub total: i64,
    pub events_digest: [u8; 32],
}

impl BlockHeader {
    /// sha256(prev || block || first || last || count || total || events_digest), as the
    /// table's insert trigger recomputes it (`log_seal_block_digest`).
    pub fn digest(&self, prev: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prev);
        for n in [
            self.block,
            self.first.tx_id,
            self.first.position,
            self.last.tx_id,
            self.last.position,
            self.count,
            self.total,
        ] {
            h.update(n.to_be_bytes());
        }
        h.update(self.events_digest);
        h.finalize().into()
    }
}

/// The newest block: where sealing goes on from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealHead {
    pub block: i64,
    pub last: Checkpoint,
    pub total: i64,
    pub digest: Vec<u8>,
    pub sealed_at: DateTime<Utc>,
}

/// The newest block, if any.
pub async fn head(conn: &mut PgConnection) -> Result<Option<SealHead>> {
    type Row = (i64, i64, i64, i64, Vec<u8>, DateTime<Utc>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT block, last_tx_id, last_position, total, block_digest, sealed_at \
         FROM log_seal ORDER BY block DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(
        |(block, tx_id, position, total, digest, sealed_at)| SealHead {
            block,
            last: Checkpoint { tx_id, position },
            total,
            digest,
            sealed_at,
        },
    ))
}

#[derive(Debug, Clone)]
pub struct SealConfig {
    /// Events per block, at most [`MAX_BLOCK_EVENTS`].
    pub block_events: i64,
    /// How long a partial block may wait: the head is sealed within about this long.
    pub interval: Duration,
    /// Pause after a failed step.
    pub error_backoff: Duration,
}

impl Default for SealConfig {
    fn default() -> Self {
        Self {
            block_events: MAX_BLOCK_EVENTS,
            interval: Duration::from_secs(1),
            error_backoff: Duration::from_secs(1),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealStep {
    Sealed {
        block: i64,
        events: usize,
    },
    /// Nothing after the last block.
    CaughtUp,
    /// Committed events wait after the last block behind an older transaction still open.
    HeldBack,
    /// Another sealer holds the lock.
    Busy,
}

pub struct Sealer {
    store: EventStore,
    config: SealConfig,
}

impl Sealer {
    pub fn new(store: EventStore, config: SealConfig) -> Self {
        Self { store, config }
    }

    /// Seals the next events after the last block, up to a block's worth, in one short
    /// transaction that writes only after reading the log (a transaction that has written
    /// holds the gap-safe horizon back for every reader).
    pub async fn seal_once(&self) -> Result<SealStep> {
        let mut tx = self.store.pool().begin().await?;
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('loyalty.seal'), 0)")
                .fetch_one(&mut *tx)
                .await?;
        if !locked {
            tx.rollback().await?;
            return Ok(SealStep::Busy);
        }
        let previous = head(&mut tx).await?;
        let after = previous.as_ref().map(|h| h.last).unwrap_or_default();
        let limit = self.config.block_events.clamp(1, MAX_BLOCK_EVENTS);
        let events = self.store.read_all(after, limit).await?;
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            // ORDER BY … LIMIT 1 walks the index, as the projection runner's same question does.
            let waiting = sqlx::query_scalar::<_, i32>(
                "SELECT 1 FROM events WHERE (tx_id, position) > ($1, $2) \
                 ORDER BY tx_id, position LIMIT 1",
            )
            .bind(after.tx_id)
            .bind(after.position)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            tx.rollback().await?;
            return Ok(if waiting {
                SealStep::HeldBack
            } else {
                SealStep::CaughtUp
            });
        };
        let mut digest = Sha256::new();
        let mut positions = Vec::with_capacity(events.len());
        let mut prefixes = Vec::with_capacity(events.len() * LEAF_PREFIX_BYTES);
        for e in &events {
            let leaf = leaf_of(e);
            digest.update(leaf);
            positions.push(e.position);
            prefixes.extend_from_slice(&leaf[..LEAF_PREFIX_BYTES]);
        }
        let count = events.len() as i64;
        let header = BlockHeader {
            block: previous.as_ref().map_or(0, |h| h.block) + 1,
            first: first.checkpoint(),
            last: last.checkpoint(),
            count,
            total: previous.as_ref().map_or(0, |h| h.total) + count,
            events_digest: digest.finalize().into(),
        };
        let prev: &[u8] = previous.as_ref().map_or(&[], |h| &h.digest);
        let block_digest = header.digest(prev);
        sqlx::query(
            "INSERT INTO log_seal (block, first_tx_id, first_position, last_tx_id, last_position, \
             count, total, positions, leaf_prefixes, events_digest, prev_block_digest, block_digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(header.block)
        .bind(header.first.tx_id)
        .bind(header.first.position)
        .bind(header.last.tx_id)
        .bind(header.last.position)
        .bind(header.count)
        .bind(header.total)
        .bind(&positions)
        .bind(&prefixes)
        .bind(header.events_digest.as_slice())
        .bind(prev)
        .bind(block_digest.as_slice())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SealStep::Sealed {
            block: header.block,
            events: events.len(),
        })
    }

    /// Seals until nothing is left after the last block; returns the events sealed. Waits out
    /// another sealer and open transactions, so the caller must not hold one that has written.
    pub async fn drain(&self) -> Result<u64> {
        self.seal_while(|step| step != SealStep::CaughtUp).await
    }

    /// Seals what is readable now (waiting out another sealer, not open transactions).
    pub async fn seal_readable(&self) -> Result<u64> {
        self.seal_while(|step| step == SealStep::Busy).await
    }

    async fn seal_while(&self, go_on: impl Fn(SealStep) -> bool) -> Result<u64> {
        let mut sealed = 0;
        loop {
            let step = self.seal_once().await?;
            match step {
                SealStep::Sealed { events, .. } => sealed += events as u64,
                _ if go_on(step) => tokio::time::sleep(Duration::from_millis(5)).await,
                _ => return Ok(sealed),
            }
        }
    }

    /// Seals until `shutdown` turns true: a full block at once, a partial one at most every
    /// `interval`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let pause = match self.seal_once().await {
                Ok(SealStep::Sealed { events, .. })
                    if events as i64 >= self.config.block_events =>
                {
                    continue;
                }
                Ok(_) => self.config.interval,
                Err(e) => {
                    tracing::warn!(error = %e, "sealing the log failed");
                    self.config.error_backoff
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Starts the sealer; set `shutdown` to true to stop it, then await the handle.
pub fn spawn(
    store: &EventStore,
    config: SealConfig,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(Sealer::new(store.clone(), config).run(shutdown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_a_leaf_and_a_header_counts() {
        let at = DateTime::from_timestamp(1_800_000_000, 123_000).unwrap_or_default();
        let base = leaf_digest(7, 9, Uuid::nil(), "member-1", 2, at, &[1; 32]);
        let variants = [
            leaf_digest(8, 9, Uuid::nil(), "member-1", 2, at, &[1; 32]),
            leaf_digest(7, 10, Uuid::nil(), "member-1", 2, at, &[1; 32]),
            leaf_digest(7, 9, Uuid::from_u128(1), "member-1", 2, at, &[1; 32]),
            leaf_digest(7, 9, Uuid::nil(), "member-2", 2, at, &[1; 32]),
            leaf_digest(7, 9, Uuid::nil(), "member-1", 3, at, &[1; 32]),
            leaf_digest(
                7,
                9,
                Uuid::nil(),
                "member-1",
                2,
                at + chrono::TimeDelta::microseconds(1),
                &[1; 32],
            ),
            leaf_digest(7, 9, Uuid::nil(), "member-1", 2, at, &[2; 32]),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
        let header = BlockHeader {
            block: 1,
            first: Checkpoint {
                tx_id: 1,
                position: 1,
            },
            last: Checkpoint {
                tx_id: 2,
                position: 3,
            },
            count: 2,
            total: 2,
            events_digest: base,
        };
        let moved = BlockHeader {
            last: Checkpoint {
                tx_id: 2,
                position: 4,
            },
            ..header.clone()
        };
        assert_ne!(header.digest(&[]), moved.digest(&[]));
        assert_ne!(header.digest(&[]), header.digest(&[0]));
    }
}
