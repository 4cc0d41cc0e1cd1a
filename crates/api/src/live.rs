//! Live pages: the admin panel and the Mini App keep a server-sent event stream open that
//! says "the read models moved, look again", and re-read what they show.
//!
//! One watcher per process reads the projections' checkpoints every [`LOOK_EVERY`] while at
//! least one stream is open (nothing while none is), so the cost does not grow with the number
//! of open pages, and the projections may run in this process or another.

use futures::Stream;
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// How often the watcher looks at the checkpoints while a stream is open: a change reaches an
/// open page within this plus the page's own re-read.
pub const LOOK_EVERY: Duration = Duration::from_millis(250);

/// The process's live feed: the projections' progress, and whether the server is closing.
#[derive(Clone, Default)]
pub struct LiveFeed(Arc<Inner>);

#[derive(Default)]
struct Inner {
    progress: OnceLock<watch::Receiver<i64>>,
    closing: watch::Sender<bool>,
}

impl LiveFeed {
    /// Ends every open stream and refuses new ones: a server shutting down waits for open
    /// connections, and a stream would otherwise hold it open for ever.
    pub fn close(&self) {
        self.0.closing.send_replace(true);
    }

    /// A token each time any projection applied events (the first when it next moves), until
    /// the server closes. Starts the watcher on first use.
    pub fn changes(&self, pool: &PgPool) -> impl Stream<Item = i64> + Send + use<> {
        let progress = self
            .0
            .progress
            .get_or_init(|| {
                let (tx, rx) = watch::channel(0);
                tokio::spawn(watch_checkpoints(
                    pool.clone(),
                    tx,
                    self.0.closing.subscribe(),
                ));
                rx
            })
            .clone();
        let closing = self.0.closing.subscribe();
        futures::stream::unfold(
            (progress, closing),
            |(mut progress, mut closing)| async move {
                if *closing.borrow() {
                    return None;
                }
                tokio::select! {
                    changed = progress.changed() => changed.ok()?,
                    _ = closing.changed() => return None,
                }
                let token = *progress.borrow_and_update();
                Some((token, (progress, closing)))
            },
        )
    }
}

/// A token that changes whenever any projection's checkpoint moves.
async fn checkpoint_token(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(sum(position), 0)::bigint FROM projection_checkpoints")
        .fetch_one(pool)
        .await
}

async fn watch_checkpoints(
    pool: PgPool,
    progress: watch::Sender<i64>,
    mut closing: watch::Receiver<bool>,
) {
    while !*closing.borrow() {
        // The feed itself keeps one receiver; more means a stream is open.
        if progress.receiver_count() > 1 {
            match checkpoint_token(&pool).await {
                Ok(token) => {
                    progress.send_if_modified(|old| std::mem::replace(old, token) != token);
                }
                Err(e) => tracing::warn!(error = %e, "live pages cannot read the checkpoints"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = closing.changed() => {}
        }
    }
}
