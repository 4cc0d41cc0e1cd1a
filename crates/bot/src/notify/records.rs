//! The notification worker's tables: its checkpoint and the notifications it settled.

use crate::{Bot, BotError};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Instant;
use store::Checkpoint;

/// A follower's place in the log as saved in its `notification_checkpoint` row. A first start
/// begins at the log's head (history is not news); while running, the row is written at most
/// once per [`SAVE_EVERY`](super::SAVE_EVERY), and a restart reads that much of the log again.
pub struct SavedPlace {
    name: String,
    at: Checkpoint,
    written: Instant,
}

impl SavedPlace {
    /// `bot`'s row named `name` (scoped to the bot), created at the log's head if missing.
    pub async fn load(bot: &Bot, name: &str) -> Result<Self, BotError> {
        let name = bot.scoped(name);
        let pool = bot.pool();
        let at = match load_checkpoint(pool, &name).await? {
            Some(at) => at,
            None => {
                let store = bot.state.ledger().store();
                let head = store.head().await.map_err(app::AppError::from)?;
                save_checkpoint(pool, &name, head).await?;
                head
            }
        };
        Ok(SavedPlace {
            name,
            at,
            written: Instant::now(),
        })
    }

    /// Where the row stands.
    pub fn at(&self) -> Checkpoint {
        self.at
    }

    /// Writes `at` if it moved: at once when `now`, else only once `SAVE_EVERY` has passed
    /// since the last write.
    pub async fn save(&mut self, pool: &PgPool, at: Checkpoint, now: bool) -> sqlx::Result<()> {
        if at != self.at && (now || self.written.elapsed() >= super::SAVE_EVERY) {
            save_checkpoint(pool, &self.name, at).await?;
            self.at = at;
            self.written = Instant::now();
        }
        Ok(())
    }
}

pub async fn load_checkpoint(pool: &PgPool, name: &str) -> sqlx::Result<Option<Checkpoint>> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT tx_id, position FROM notification_checkpoint WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(tx_id, position)| Checkpoint { tx_id, position }))
}

pub async fn save_checkpoint(pool: &PgPool, name: &str, at: Checkpoint) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notification_checkpoint (name, tx_id, position, updated_at) \
         VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET \
         tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()",
    )
    .bind(name)
    .bind(at.tx_id)
    .bind(at.position)
    .execute(pool)
    .await?;
    Ok(())
}

/// The keys among `keys` already settled (delivered, failed for good, or told in a reply).
pub async fn settled_keys(pool: &PgPool, keys: &[String]) -> sqlx::Result<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<String> =
        sqlx::query_scalar("SELECT key FROM notification_deliveries WHERE key = ANY($1)")
            .bind(keys)
            .fetch_all(pool)
            .await?;
    Ok(found.into_iter().collect())
}

/// How one notification ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub key: String,
    pub chat_id: i64,
    pub message_id: Option<i64>,
    /// `None` when delivered.
    pub error: Option<String>,
}

/// Records settled notifications; a key recorded before stays as it was.
pub async fn record(pool: &PgPool, settled: &[Settled]) -> sqlx::Result<()> {
    if settled.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = settled.iter().map(|s| s.key.as_str()).collect();
    let chats: Vec<i64> = settled.iter().map(|s| s.chat_id).collect();
    let outcomes: Vec<&str> = settled
        .iter()
        .map(|s| match s.error {
            None => "delivered",
            Some(_) => "failed",
        })
        .collect();
    let messages: Vec<Option<i64>> = settled.iter().map(|s| s.message_id).collect();
    let errors: Vec<Option<&str>> = settled.iter().map(|s| s.error.as_deref()).collect();
    sqlx::query(
        "INSERT INTO notification_deliveries (key, chat_id, outcome, message_id, error) \
         SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::int8[], $5::text[]) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(&keys)
    .bind(&chats)
    .bind(&outcomes)
    .bind(&messages)
    .bind(&errors)
    .execute(pool)
    .await?;
    Ok(())
}

/// The bot is about to tell the member about this entry in its reply: the worker must not.
/// `true` if this call made the claim (so it may release it).
pub async fn claim_replied(pool: &PgPool, key: &str, chat_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notification_deliveries (key, chat_id, outcome) VALUES ($1, $2, 'replied') \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(chat_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The reply will not mention the entry after all (nothing was paid).
pub async fn release(pool: &PgPool, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notification_deliveries WHERE key = $1 AND outcome = 'replied'")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
