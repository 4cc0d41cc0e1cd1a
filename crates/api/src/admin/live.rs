//! `GET …/programs/{id}/live`: the admin pages' live stream (see [`crate::live`]). The
//! dashboard, the member card and the leaderboards listen and re-read themselves; a page that
//! cannot keep the stream open polls instead.

use super::auth::{Authorized, Read};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use uuid::Uuid;

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
    let ready = Event::default().event("ready").data("live");
    let changes = state
        .live
        .changes(&state.pool)
        .map(|token| Ok(Event::default().event("projected").data(token.to_string())));
    let events = futures::stream::once(async { Ok(ready) }).chain(changes);
    Sse::new(events).keep_alive(KeepAlive::default())
}
