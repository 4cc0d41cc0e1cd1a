//! Live pages: a server-sent event stream per program page that says "the read models moved,
//! look again". The dashboard, the member card and the leaderboards listen and re-read
//! themselves; a page that cannot keep the stream open polls instead.
//!
//! One watcher per process reads the projections' checkpoints every [`LOOK_EVERY`] while at
//! least one stream is open (nothing while none is), so the cost does not grow with the number
//! of open panels, and the projections may run in this process or another.

use super::auth::{Authorized, Read};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use sqlx::PgPool;
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

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

    /// The progress token, changing whenever any projection applied events; starts the
    /// watcher on first use.
    fn progress(&self, pool: &PgPool) -> watch::Receiver<i64> {
        self.0
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
            .clone()
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

/// Server-sent events for the program's pages: `ready` once connected, then `projected`
/// (data: a change token) whenever the read models moved. Pages re-read what they show; the
/// events carry no data of the program, so any signed-in account that may see it may listen.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/live",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses(
        (status = 200, description = "text/event-stream: `ready`, then `projected` events"),
        (status = 401), (status = 403),
    )
)]
pub async fn stream(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(_program_id): Path<Uuid>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let progress = state.live.progress(&state.pool);
    let closing = state.live.0.closing.subscribe();
    let ready = Event::default().event("ready").data("live");
    let changes = futures::stream::unfold(
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
            let event = Event::default().event("projected").data(token.to_string());
            Some((Ok(event), (progress, closing)))
        },
    );
    let events = futures::stream::once(async { Ok(ready) }).chain(changes);
    Sse::new(events).keep_alive(KeepAlive::default())
}
