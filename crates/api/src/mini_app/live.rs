//! `GET live`: the open Mini App's server-sent event stream (see [`crate::live`]), so a
//! member sees points arrive while the app is open. The page reads it with `fetch` (an
//! `EventSource` cannot send the `Authorization` header initData travels in), reconnects when
//! the phone wakes, and polls `me` when the stream cannot stay open.

use super::ErrorEnvelope;
use super::auth::Member;
use super::me::Balance;
use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use sqlx::PgPool;
use std::convert::Infallible;
use uuid::Uuid;

/// `ready` (data: the balance now), then on every move of the read models `projected` (data:
/// a change token; ranks and leaderboards may have moved), preceded by `balance` (data: the
/// member's balance) when the member's own balance changed since the last one sent.
#[utoipa::path(
    get,
    path = "/api/v1/app/live",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "text/event-stream: `ready`, then `balance` and `projected` events"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn live(
    State(state): State<AppState>,
    member: Member,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let pool = state.pool.clone();
    let (program, member_id) = (member.program_id().0, member.member_id.0);
    let first = balance_now(&pool, program, member_id)
        .await
        .map_err(ApiError::internal)?;
    let ready = Event::default().event("ready").data(json(&first));
    let changes = state.live.changes(&state.pool).then(move |token| {
        let pool = pool.clone();
        async move {
            let balance = balance_now(&pool, program, member_id).await;
            if let Err(e) = &balance {
                tracing::warn!(error = %e, "live balance read failed");
            }
            (token, balance.ok())
        }
    });
    let events = changes
        .scan(first, |last, (token, balance)| {
            let mut events = Vec::with_capacity(2);
            // A failed read sends no balance: the next change reads it again.
            if let Some(balance) = balance.filter(|b| b != last) {
                events.push(Ok(Event::default().event("balance").data(json(&balance))));
                *last = balance;
            }
            events.push(Ok(Event::default()
                .event("projected")
                .data(token.to_string())));
            futures::future::ready(Some(futures::stream::iter(events)))
        })
        .flatten();
    Ok(
        Sse::new(futures::stream::once(async { Ok(ready) }).chain(events))
            .keep_alive(KeepAlive::default()),
    )
}

/// The member's balance from the read model; zero before their first points.
async fn balance_now(
    pool: &PgPool,
    program: Uuid,
    member: Uuid,
) -> Result<Balance, projections::ProjectionError> {
    let row = projections::balances::balance(pool, program, member).await?;
    Ok(row.map_or_else(Balance::default, Balance::from))
}

fn json(balance: &Balance) -> String {
    serde_json::to_string(balance).unwrap_or_default()
}
