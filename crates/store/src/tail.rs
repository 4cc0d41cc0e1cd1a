//! The log's newest events, read once for many followers of one program each.
//!
//! A follower of one program (`EventStore::read_program_as`) still walks every event of the
//! span it looks at: the database filters by program after the order index. With a bot per
//! brand, each with two such followers, the database visits (followers × log rate) rows a
//! second. A [`LogTail`] reads the new events once, keeps the newest `capacity` of them, and
//! hands each follower its program's part; a follower behind what it holds reads the database
//! as before, so nothing depends on the tail for correctness, only for cost.

use crate::{Checkpoint, Envelope, EventStore, StoreError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Events asked of the database per read while the tail catches up.
const REFILL_BATCH: i64 = 500;

/// The newest events of the log, shared by the followers of one process.
pub struct LogTail<T> {
    store: EventStore,
    capacity: usize,
    refresh: Duration,
    held: tokio::sync::Mutex<Held<T>>,
    log_reads: AtomicU64,
}

/// Every event of the log after `from` up to `upto` is in `events`, in log order.
struct Held<T> {
    from: Checkpoint,
    upto: Checkpoint,
    events: VecDeque<Envelope<T>>,
    /// When the database was last asked for new events; `None` before the first reader.
    read_at: Option<Instant>,
}

impl<T> LogTail<T>
where
    T: Clone + serde::de::DeserializeOwned + Send + Unpin + 'static,
{
    /// Holds at most `capacity` events and asks the database for new ones at most once per
    /// `refresh`, however many followers look.
    pub fn new(store: EventStore, capacity: usize, refresh: Duration) -> Self {
        LogTail {
            store,
            capacity: capacity.max(1),
            refresh,
            held: tokio::sync::Mutex::new(Held {
                from: Checkpoint::default(),
                upto: Checkpoint::default(),
                events: VecDeque::new(),
                read_at: None,
            }),
            log_reads: AtomicU64::new(0),
        }
    }

    /// What [`EventStore::read_program_as`] returns for the same arguments: `program`'s events
    /// among the next `limit` of the log after `after`, and how far that look reached.
    pub async fn read_program(
        &self,
        program: uuid::Uuid,
        after: Checkpoint,
        limit: i64,
    ) -> Result<(Vec<Envelope<T>>, Checkpoint), StoreError> {
        let mut held = self.held.lock().await;
        if held.read_at.is_none() {
            // The first follower places the tail where it stands.
            held.from = after;
            held.upto = after;
        }
        let due = held.read_at.is_none_or(|at| at.elapsed() >= self.refresh);
        if after >= held.upto && due {
            self.refill(&mut held).await?;
        }
        if after < held.from || after > held.upto {
            drop(held);
            return self.store.read_program_as(program, after, limit).await;
        }
        let start = held.events.partition_point(|e| e.checkpoint() <= after);
        let end = held
            .events
            .len()
            .min(start + usize::try_from(limit.max(1)).unwrap_or(usize::MAX));
        let reached = if end > start {
            held.events[end - 1].checkpoint()
        } else {
            after
        };
        let ours = held
            .events
            .range(start..end)
            .filter(|e| e.program_id == program)
            .cloned()
            .collect();
        Ok((ours, reached))
    }

    /// Database reads the tail has made (each one of up to 500 events).
    pub fn log_reads(&self) -> u64 {
        self.log_reads.load(Ordering::Relaxed)
    }

    /// Reads what is new after `upto`, up to `capacity` events, dropping the oldest held.
    async fn refill(&self, held: &mut Held<T>) -> Result<(), StoreError> {
        held.read_at = Some(Instant::now());
        let mut read = 0;
        while read < self.capacity {
            let batch: Vec<Envelope<T>> = self.store.read_all_as(held.upto, REFILL_BATCH).await?;
            self.log_reads.fetch_add(1, Ordering::Relaxed);
            let full = batch.len() as i64 == REFILL_BATCH;
            read += batch.len();
            if let Some(last) = batch.last() {
                held.upto = last.checkpoint();
            }
            held.events.extend(batch);
            if !full {
                break;
            }
        }
        while held.events.len() > self.capacity {
            if let Some(oldest) = held.events.pop_front() {
                held.from = oldest.checkpoint();
            }
        }
        Ok(())
    }
}
