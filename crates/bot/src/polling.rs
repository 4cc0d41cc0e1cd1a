//! Long polling (`LOYALTY_TELEGRAM_MODE=polling`): `getUpdates` with an explicit
//! `allowed_updates`, each update's raw bytes handled exactly as a webhook delivery, and the
//! offset stored in `bot_polling` after each update is recorded. A restart resumes from the
//! stored offset: nothing is skipped, and nothing but the one update in hand at a crash is
//! handled twice.

use super::{Bot, BotError, stopped};
use crate::updates::UpdateError;
use clients::ClientError;
use clients::telegram::ALLOWED_UPDATES;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// Seconds Telegram holds a `getUpdates` call open when there is nothing to deliver.
pub const LONG_POLL_SECS: u32 = 25;
/// Pause after a failed poll, doubled up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The stored offset for this bot (`None` before the first update).
pub async fn offset(pool: &PgPool, bot_id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT next_offset FROM bot_polling WHERE bot_id = $1")
        .bind(bot_id)
        .fetch_optional(pool)
        .await
}

async fn save_offset(pool: &PgPool, bot_id: &str, next_offset: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_polling (bot_id, next_offset, updated_at) VALUES ($1, $2, now()) \
         ON CONFLICT (bot_id) DO UPDATE SET next_offset = greatest(bot_polling.next_offset, \
         EXCLUDED.next_offset), updated_at = now()",
    )
    .bind(bot_id)
    .bind(next_offset)
    .execute(pool)
    .await?;
    Ok(())
}

/// One `getUpdates` call and the handling of what it returned; the number of updates taken.
/// The offset is saved after each update, so a crash repeats at most the update in hand (and
/// its effects are idempotent where the ledger can tell: update ids, command ids). An update
/// that does not parse is logged and passed (it never will parse); a failure to record stops
/// the batch at that update, which the next call fetches again.
pub async fn poll_once(bot: &Bot, timeout_secs: u32) -> Result<usize, BotError> {
    let bot_id = bot.bot_id().to_string();
    let pool = bot.pool();
    let from = offset(pool, &bot_id).await?;
    let mut updates = bot
        .telegram
        .get_updates(from, timeout_secs, &ALLOWED_UPDATES)
        .await?;
    updates.sort_by_key(|u| u.update_id);
    let mut taken = 0;
    for update in &updates {
        if from.is_some_and(|from| update.update_id < from) {
            continue;
        }
        match crate::updates::handle(&bot.state, bot.rows_key(), update.bytes()).await {
            Ok(()) => {}
            Err(UpdateError::Malformed(why)) => {
                tracing::warn!(update_id = update.update_id, error = %why,
                    "polled update does not parse; skipped");
            }
            Err(UpdateError::Failed(e)) => return Err(BotError::Record(e.to_string())),
        }
        save_offset(pool, &bot_id, update.update_id.saturating_add(1)).await?;
        taken += 1;
    }
    Ok(taken)
}

/// Polls until `shutdown`. A set webhook makes `getUpdates` fail with 409: said loudly, since
/// then nothing arrives here.
pub async fn run(bot: Bot, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("Telegram bot: long polling");
    let mut backoff = BACKOFF;
    loop {
        let polled = tokio::select! {
            polled = poll_once(&bot, LONG_POLL_SECS) => polled,
            () = stopped(&mut shutdown) => return,
        };
        match polled {
            Ok(_) => {
                backoff = BACKOFF;
                continue;
            }
            Err(BotError::Telegram(ClientError::Telegram {
                code: 409,
                description,
            })) => {
                tracing::error!(%description, "getUpdates refused: a webhook is set for this \
                    bot, or another process polls it. Remove the webhook (or stop the other \
                    poller), or run with LOYALTY_TELEGRAM_MODE=webhook.");
            }
            Err(e) => tracing::warn!(error = %e, ?backoff, "getUpdates failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stopped(&mut shutdown) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
