//! Polls the bot published (`telegram_polls`): which program a `poll_answer` belongs to.
//!
//! A poll answer names the poll, not the chat, so the Telegram adapter gives it the destination
//! `poll:<poll_id>` and this table resolves it, the way `channels` resolves a chat id. Like
//! `channels` it is routing configuration, not a ledger fact: the points are events.
//!
//! A publish goes: reserve a row under the request id (so a double submit sends one poll),
//! call `sendPoll`, then fill in the poll id; a failed call deletes the reservation.

use super::channels::Channel;
use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use domain::network::Network;
use quick_cache::sync::Cache;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::types::Json;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// The destination the Telegram adapter gives a poll answer: `poll:<poll_id>`.
pub const DESTINATION_PREFIX: &str = adapters::telegram::POLL_DESTINATION_PREFIX;

/// Most poll ids kept in memory.
const CACHE_LIMIT: usize = 10_000;

/// Poll id → program. Only hits are cached: a poll never changes program, while an unknown
/// poll id may be recorded a moment later (its publish was still finishing).
#[derive(Clone)]
pub struct PollRoutes {
    programs: Arc<Cache<String, Uuid>>,
}

impl Default for PollRoutes {
    fn default() -> Self {
        Self {
            programs: Arc::new(Cache::new(CACHE_LIMIT)),
        }
    }
}

impl PollRoutes {
    /// The program a `poll:<id>` destination belongs to, as a channel, or `None` if this
    /// server never published that poll.
    pub async fn find(&self, pool: &PgPool, destination: &str) -> sqlx::Result<Option<Channel>> {
        let Some(poll_id) = destination.strip_prefix(DESTINATION_PREFIX) else {
            return Ok(None);
        };
        let program_id = match self.programs.get(poll_id) {
            Some(program_id) => Some(program_id),
            None => {
                let found = program_of(pool, poll_id).await?;
                if let Some(program_id) = found {
                    self.programs.insert(poll_id.to_owned(), program_id);
                }
                found
            }
        };
        Ok(program_id.map(|program_id| Channel {
            network: Network::Telegram.as_str().to_owned(),
            destination: destination.to_owned(),
            program_id,
            secret: None,
            confirmation: None,
        }))
    }
}

pub async fn program_of(pool: &PgPool, poll_id: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT program_id FROM telegram_polls WHERE poll_id = $1")
        .bind(poll_id)
        .fetch_optional(pool)
        .await
}

/// One published (or publishing) poll.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PollRow {
    /// Telegram's poll id, which `poll_answer` updates carry; null while sendPoll is running.
    pub poll_id: Option<String>,
    pub program_id: Uuid,
    pub chat_id: String,
    pub message_id: Option<i64>,
    pub question: String,
    #[schema(value_type = Vec<String>)]
    pub options: Json<Vec<String>>,
    /// `manager:<username>`.
    pub published_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "poll_id, program_id, chat_id, message_id, question, options, published_by, \
                       created_at, published_at";

/// What a poll is, before it is sent.
pub struct NewPoll<'a> {
    pub request_id: Uuid,
    pub program_id: ProgramId,
    pub chat_id: &'a str,
    pub question: &'a str,
    pub options: &'a [String],
    pub published_by: &'a str,
}

/// Reserves `request_id` for this poll. `Err(existing)` if the request id was used before:
/// the earlier row, published or still in flight.
pub async fn reserve(pool: &PgPool, poll: &NewPoll<'_>) -> sqlx::Result<Result<(), PollRow>> {
    loop {
        let inserted = sqlx::query(
            "INSERT INTO telegram_polls \
               (request_id, program_id, chat_id, question, options, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(poll.request_id)
        .bind(poll.program_id.0)
        .bind(poll.chat_id)
        .bind(poll.question)
        .bind(Json(poll.options))
        .bind(poll.published_by)
        .execute(pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Ok(()));
        }
        let existing = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM telegram_polls WHERE request_id = $1"
        ))
        .bind(poll.request_id)
        .fetch_optional(pool)
        .await?;
        // None: released between the two statements, so this request may go ahead after all.
        if let Some(row) = existing {
            return Ok(Err(row));
        }
    }
}

/// Records what `sendPoll` answered: from now on votes in this poll reach the program.
pub async fn published(
    pool: &PgPool,
    request_id: Uuid,
    poll_id: &str,
    message_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<PollRow> {
    sqlx::query_as(&format!(
        "UPDATE telegram_polls SET poll_id = $2, message_id = $3, published_at = $4 \
         WHERE request_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(request_id)
    .bind(poll_id)
    .bind(message_id)
    .bind(at)
    .fetch_one(pool)
    .await
}

/// Drops a reservation whose `sendPoll` failed, so the same request can be tried again.
pub async fn release(pool: &PgPool, request_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM telegram_polls WHERE request_id = $1 AND poll_id IS NULL")
        .bind(request_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The program's published polls, newest first.
pub async fn list(pool: &PgPool, program_id: ProgramId, limit: i64) -> sqlx::Result<Vec<PollRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM telegram_polls WHERE program_id = $1 AND poll_id IS NOT NULL \
         ORDER BY published_at DESC, poll_id LIMIT $2"
    ))
    .bind(program_id.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The program's Telegram chats (`channels`), where its polls may go.
pub async fn program_chats(pool: &PgPool, program_id: ProgramId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT destination FROM channels WHERE program_id = $1 AND network = $2 \
         ORDER BY destination",
    )
    .bind(program_id.0)
    .bind(Network::Telegram.as_str())
    .fetch_all(pool)
    .await
}
