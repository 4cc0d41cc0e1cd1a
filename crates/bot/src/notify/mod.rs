//! Point notifications: a worker follows the event log (gap-safe order, its own checkpoint)
//! and offers each member-facing entry to the rate-limited, coalescing [`Notifier`].
//!
//! - Never in the way of ingestion: the worker only reads the log, and the notifier's queue is
//!   bounded ([`MAX_PENDING`] here, `capacity` there); when full, reading simply waits.
//! - Never twice for one entry: keys are `entry:<entry id>`; every settled key is recorded in
//!   `notification_deliveries` before the checkpoint moves past its event, and a restarted
//!   worker skips recorded keys. (A crash between Telegram's answer and that record can still
//!   repeat one message: delivery is at least once at that single point.)
//! - The checkpoint moves only past events whose notification was delivered, failed for good,
//!   or was not needed; a retryable failure is offered again up to [`MAX_OFFERS`] times.
//! - One worker per bot and database: a PostgreSQL advisory lock, held through the bot's
//!   [`LockSession`](crate::locks::LockSession) (program bots of a process share one connection).

pub mod plan;
pub mod records;
mod worker;

pub use worker::{NotificationWorker, Step};

use super::{Bot, BotError, stopped};
use clients::NotifierConfig;
use domain::ids::EntryId;
use std::time::Duration;
use tokio::sync::watch;

/// The worker's row in `notification_checkpoint`.
pub const CHECKPOINT: &str = "telegram-notifications";
/// Events read per step.
const READ_BATCH: i64 = 500;
/// Notifications offered and not yet settled, at most; beyond it the worker stops reading.
pub const MAX_PENDING: usize = 5_000;
/// Offers of one notification whose sending keeps failing in a retryable way.
pub const MAX_OFFERS: u32 = 3;
/// Wait before offering again after retries ran out (times the offers made).
const REOFFER_DELAY: Duration = Duration::from_secs(30);
/// Wait before offering again when the notifier's queue was full.
const FULL_DELAY: Duration = Duration::from_secs(1);
/// Looks at the log this often even without a wake-up (appends by other processes).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The checkpoint is saved at most this often while the worker runs (and when it stops): a
/// restart reads again up to this much of the log, and the recorded keys skip what was sent.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);
/// `pg_try_advisory_lock` key of the worker ("notify" in ASCII).
const LOCK_KEY: i64 = 0x6e_6f_74_69_66_79;

/// The notification key of a ledger entry.
pub fn entry_key(entry: EntryId) -> String {
    format!("entry:{}", entry.0)
}

/// Follows the log until `shutdown`, woken by appends of this process and polling for others.
/// The process that holds the worker's lock also sends broadcasts, within the same budget
/// (`config.shared_limit`), so the bot's messages stay within one limit.
pub async fn run(bot: Bot, config: NotifierConfig, mut shutdown: watch::Receiver<bool>) {
    let mut worker = loop {
        match NotificationWorker::start(bot.clone(), config.clone()).await {
            Ok(worker) => break worker,
            Err(BotError::Busy) => {
                tracing::info!("another process sends notifications; standing by")
            }
            Err(e) => tracing::warn!(error = %e, "notification worker cannot start"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
            () = stopped(&mut shutdown) => return,
        }
    };
    let broadcasts = config
        .shared_limit
        .clone()
        .map(|limit| tokio::spawn(crate::broadcasts::run(bot.clone(), limit, shutdown.clone())));
    let mut wake = bot.state.ledger().store().wake().subscribe();
    loop {
        if *shutdown.borrow() {
            break;
        }
        match worker.run_once().await {
            Ok(Step::Progressed) => continue,
            Ok(Step::CaughtUp) => {}
            Err(e) => tracing::warn!(error = %e, "notification step failed"),
        }
        tokio::select! {
            report = worker.reports.recv() => {
                if let Some(report) = report {
                    worker.on_report(report);
                }
            }
            // A program's own bot looks once a POLL_INTERVAL: its notifications wait up to a
            // second, and a hundred bots do not each query the log after every append.
            changed = wake.changed(), if bot.own.is_none() => {
                if changed.is_err() {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
            }
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = stopped(&mut shutdown) => break,
        }
    }
    if let Some(broadcasts) = broadcasts {
        let _ = broadcasts.await;
    }
    if let Err(e) = worker.shutdown().await {
        tracing::warn!(error = %e, "notification worker did not shut down cleanly");
    }
}
