//! The projection runner: a step function that folds the next batch of the log into one
//! projection's tables and moves its checkpoint in the same transaction, and a loop that runs
//! it whenever the log may have grown.
//!
//! Exactly once: the batch's rows and the checkpoint commit or vanish together. One writer:
//! each batch takes the projection's advisory transaction lock, and the checkpoint only moves
//! from where the batch read it (compare and set), so two runners, in one process or many,
//! never apply the same batch.

use crate::checkpoint;
use crate::error::Result;
use crate::projection::{Changes, Projection, Target};
use crate::source::{Zones, read_after};
use crate::stats::RunnerStats;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use store::Checkpoint;
use store::EventStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The most events one batch (one transaction) applies.
pub const MAX_BATCH_EVENTS: i64 = 5_000;

/// The longest pause while committed events wait behind an open transaction.
const MAX_HELD_BACK_PAUSE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Events per batch, at most [`MAX_BATCH_EVENTS`].
    pub batch_events: i64,
    /// How often to look for new events when no wake-up arrives (a NOTIFY can be lost).
    pub poll_interval: Duration,
    /// How soon to look again when committed events wait behind an open transaction.
    pub held_back_retry: Duration,
    /// Pause after a failed batch.
    pub error_backoff: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_events: MAX_BATCH_EVENTS,
            poll_interval: Duration::from_millis(250),
            held_back_retry: Duration::from_millis(1),
            error_backoff: Duration::from_secs(1),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Applied this many events and moved the checkpoint.
    Progressed { events: usize },
    /// Nothing after the checkpoint.
    CaughtUp,
    /// Committed events exist after the checkpoint but an older transaction is still open,
    /// so reading them now could skip that transaction's events.
    HeldBack,
    /// Another runner holds this projection's lock or moved its checkpoint first.
    Busy,
}

/// Runs one projection, or several together (one read of the log, one transaction per batch
/// for all of them, each with its own checkpoint). Cheap to create; any number may exist, and
/// for each projection one works at a time.
pub struct Runner {
    pool: PgPool,
    projections: Vec<Projection>,
    config: RunnerConfig,
    zones: Zones,
    stats: Arc<RunnerStats>,
    ready: bool,
}

impl Runner {
    pub fn new(pool: PgPool, projection: Projection) -> Self {
        Self::with_config(pool, projection, RunnerConfig::default())
    }

    pub fn with_config(pool: PgPool, projection: Projection, config: RunnerConfig) -> Self {
        Self::group(pool, &[projection], config)
    }

    /// One runner for several projections: fewer reads and transactions, all of them visible at
    /// the same commit.
    pub fn group(pool: PgPool, projections: &[Projection], config: RunnerConfig) -> Self {
        let projections = projections.to_vec();
        Self {
            pool,
            projections,
            config,
            zones: Zones::default(),
            stats: Arc::default(),
            ready: false,
        }
    }

    pub fn projections(&self) -> &[Projection] {
        &self.projections
    }

    /// The metrics label: the projection's name, or "all" for a group.
    fn label(&self) -> &'static str {
        match self.projections.as_slice() {
            [one] => one.name(),
            _ => "all",
        }
    }

    /// Counters and latencies of this runner (shared: read them while it runs).
    pub fn stats(&self) -> Arc<RunnerStats> {
        self.stats.clone()
    }

    /// Applies the next batch, if any, in one short transaction.
    pub async fn run_once(&mut self) -> Result<Step> {
        if !self.ready {
            for p in &self.projections {
                checkpoint::ensure(&self.pool, p.name()).await?;
            }
            self.ready = true;
        }
        let mut tx = self.pool.begin().await?;
        // Model and checkpoint are lost or kept together, so the commit need not wait for disk.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let names: Vec<&str> = self.projections.iter().map(|p| p.name()).collect();
        let mine: Vec<(Projection, Checkpoint)> = checkpoint::lock_and_load(&mut tx, &names)
            .await?
            .into_iter()
            .filter_map(|(name, at)| Projection::parse(&name).ok().map(|p| (p, at)))
            .collect();
        // Every early return ends the transaction here: a dropped one is rolled back only when
        // its connection is next used, and would hold the projection locks until then.
        let Some(from) = mine.iter().map(|(_, at)| *at).min() else {
            tx.rollback().await?;
            return Ok(Step::Busy);
        };
        let batch = read_after(
            &mut tx,
            from,
            self.config.batch_events.clamp(1, MAX_BATCH_EVENTS),
        )
        .await?;
        let Some(last) = batch.last() else {
            // Not `EXISTS (…)`: its generic plan is a sequential scan of the whole log (the
            // rows past a caught-up checkpoint are at its end); ORDER BY … LIMIT 1 walks the index.
            let waiting = sqlx::query_scalar::<_, i32>(
                "SELECT 1 FROM events WHERE (tx_id, position) > ($1, $2) \
                 ORDER BY tx_id, position LIMIT 1",
            )
            .bind(from.tx_id)
            .bind(from.position)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            tx.rollback().await?;
            return Ok(if waiting {
                Step::HeldBack
            } else {
                Step::CaughtUp
            });
        };
        let to = last.checkpoint();
        self.zones.resolve(&mut tx, &batch).await?;
        let mut moves = Vec::with_capacity(mine.len());
        for (p, at) in &mine {
            if to <= *at {
                continue;
            }
            let mut changes = Changes::new(*p);
            let mut applied = 0;
            for r in batch.iter().filter(|r| r.checkpoint() > *at) {
                changes.add(r, &self.zones);
                applied += 1;
            }
            changes.write(&mut tx, Target::LIVE).await?;
            moves.push((p.name(), *at, applied));
        }
        if !checkpoint::advance_all(&mut tx, &moves, to).await? {
            tx.rollback().await?;
            return Ok(Step::Busy);
        }
        tx.commit().await?;
        for (name, _, applied) in &moves {
            metrics::counter!("projection_events_total", "projection" => *name)
                .increment(*applied as u64);
        }
        self.stats
            .record_batch(self.label(), &batch, chrono::Utc::now());
        Ok(Step::Progressed {
            events: batch.len(),
        })
    }

    /// Runs steps until caught up; returns the events applied. Tests use this instead of
    /// sleeping. It waits out other runners and open appends (a transaction that has appended
    /// events holds the horizon back), so it must not be called while the caller holds one open.
    pub async fn drain(&mut self) -> Result<usize> {
        let mut applied = 0;
        loop {
            match self.run_once().await? {
                Step::Progressed { events } => applied += events,
                Step::CaughtUp => return Ok(applied),
                Step::HeldBack | Step::Busy => tokio::task::yield_now().await,
            }
        }
    }

    /// Runs until `shutdown` turns true: a step whenever `wake` (or `kick`) fires, at least
    /// every `poll_interval`, and at once again while there is more to read.
    pub async fn run(
        mut self,
        mut wake: watch::Receiver<u64>,
        kick: watch::Sender<u64>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let name = self.label();
        let mut kicked = kick.subscribe();
        let mut wake_open = true;
        let mut held_back = self.config.held_back_retry;
        while !*shutdown.borrow() {
            let pause = match self.run_once().await {
                Ok(Step::Progressed { .. }) => {
                    // A transaction ending while another runner looks holds that look back for a
                    // moment: tell them to look again.
                    kick.send_modify(|n| *n = n.wrapping_add(1));
                    held_back = self.config.held_back_retry;
                    continue;
                }
                Ok(Step::HeldBack) => {
                    // Usually an append still committing, gone in a few ms (and its commit kicks
                    // or wakes us); a long one (an append held open by hand) gets a gently
                    // growing pause, capped.
                    let pause = held_back;
                    held_back = (held_back * 2).min(MAX_HELD_BACK_PAUSE);
                    pause
                }
                Ok(Step::CaughtUp | Step::Busy) => self.config.poll_interval,
                Err(e) => {
                    self.stats.record_error(name);
                    tracing::warn!(projection = name, error = %e, "projection batch failed");
                    self.config.error_backoff
                }
            };
            tokio::select! {
                changed = wake.changed(), if wake_open => wake_open = changed.is_ok(),
                _ = kicked.changed() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Live runners started by [`spawn`]: their stats, and the handles to await after shutdown.
pub struct Running {
    pub stats: Arc<RunnerStats>,
    pub handles: Vec<JoinHandle<()>>,
}

/// Starts the runner of every projection (one task, one transaction per batch for all),
/// woken by the store's appends. Set `shutdown` to true to stop it; then await the handles.
pub fn spawn(store: &EventStore, config: RunnerConfig, shutdown: watch::Receiver<bool>) -> Running {
    let kick = watch::channel(0u64).0;
    let runner = Runner::group(store.pool().clone(), &Projection::ALL, config);
    let stats = runner.stats();
    let handle = tokio::spawn(runner.run(store.wake().subscribe(), kick, shutdown));
    Running {
        stats,
        handles: vec![handle],
    }
}
