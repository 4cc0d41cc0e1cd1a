//! What every background job of this crate shares: a pass now and then one every interval until
//! shutdown, and the advisory lock that lets one process at a time run it.

use sqlx::PgConnection;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Runs `pass` now and then every `interval` until `shutdown` says so (or its sender is gone).
pub(crate) async fn every<F, Fut>(
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if *shutdown.borrow() {
            return;
        }
        pass().await;
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Takes the transaction-scoped advisory lock of the job `name` on `tx`: false when another
/// process's transaction holds it (that process runs the job this time).
pub(crate) async fn try_lock(tx: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1), 0)")
        .bind(name)
        .fetch_one(tx)
        .await
}

/// What one batch of a log follower (the tier keeper, the expiry job) left to do.
pub(crate) enum Batch {
    /// Another process holds the job's lock.
    Locked,
    /// Everything of interest up to the head was read.
    AtHead,
    /// More of the log waits.
    More,
}

impl Batch {
    /// After reading `read` events of the `asked` for: fewer means the head was reached.
    pub(crate) fn after(read: usize, asked: i64) -> Self {
        if read < asked as usize {
            Batch::AtHead
        } else {
            Batch::More
        }
    }
}
