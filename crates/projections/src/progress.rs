//! How far a long pass over the log (a rebuild, the audit) has come. The pass counts; whoever
//! started it (the CLI) shows it, on its own clock.

use sqlx::PgConnection;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    expected: AtomicU64,
}

impl Progress {
    /// Events read so far.
    pub fn done(&self) -> u64 {
        self.done.load(Relaxed)
    }

    /// About how many events the pass reads: the log's head when it started (positions have
    /// gaps where appends rolled back, so it is an upper bound), or what was read if appends
    /// went on meanwhile. 0 until known.
    pub fn expected(&self) -> u64 {
        self.expected.load(Relaxed).max(self.done())
    }

    /// Another pass will read `events` more.
    pub(crate) fn expect_more(&self, events: u64) {
        self.expected.fetch_add(events, Relaxed);
    }

    pub(crate) fn advance(&self, events: u64) {
        self.done.fetch_add(events, Relaxed);
    }

    /// Sets [`Progress::expected`] from the log's last position: one index probe, where a
    /// count would read the whole log once more.
    pub(crate) async fn expect_log(&self, conn: &mut PgConnection) -> sqlx::Result<()> {
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
            .fetch_one(conn)
            .await?;
        self.expected
            .store(u64::try_from(head).unwrap_or_default(), Relaxed);
        Ok(())
    }
}
