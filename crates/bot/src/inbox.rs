//! The bot's inbox: private messages (and, for the managers' chat, `/managers`, answers to the
//! bot's questions there and pressed buttons) are stored raw in `bot_updates` before Telegram gets its
//! answer (or before the polling offset moves past them), then a worker claims them, replies,
//! and marks them handled. A failed reply is tried again with backoff, a bounded number of
//! times; a crashed worker's claims expire and are taken again.

use super::{Bot, BotError, commands, managers, stopped};
use adapters::signal::Signal;
use adapters::telegram;
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use store::Metadata;
use tokio::sync::{Notify, watch};

/// Updates claimed per step.
const BATCH: i64 = 32;
/// Chats answered at once (messages of one chat are answered in order).
const CONCURRENT_CHATS: usize = 8;
/// Attempts before a message is given up (marked handled with its last error).
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claim holds a message against other workers.
const LEASE_SECS: f64 = 120.0;
/// Delay before the first retry, doubled for each further one.
const RETRY_BASE_SECS: f64 = 5.0;
/// Looks for messages stored by other processes, and for retries that came due, this often.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Per bot (its rows key), what wakes this process's inbox worker of that bot when a message
/// for it is stored: one shared wake-up would rouse an arbitrary bot's worker and leave the
/// right one to its next poll.
static WAKES: LazyLock<parking_lot::Mutex<HashMap<i64, Arc<Notify>>>> =
    LazyLock::new(Default::default);

/// The wake-up of the inbox worker of the bot keyed `bot` in `bot_updates`.
pub fn wake_of(bot: i64) -> Arc<Notify> {
    WAKES.lock().entry(bot).or_default().clone()
}

/// Stores a raw update once (a redelivery is a no-op) and wakes the worker. `user_id` is the
/// sender, so erasing them finds it.
pub async fn store(
    pool: &PgPool,
    bot: i64,
    update_id: i64,
    user_id: Option<i64>,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_updates (bot_id, update_id, user_id, body) VALUES ($4, $1, $2, $3) \
         ON CONFLICT (bot_id, update_id) DO NOTHING",
    )
    .bind(update_id)
    .bind(user_id)
    .bind(body)
    .bind(bot)
    .execute(pool)
    .await?;
    wake_of(bot).notify_one();
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// This many messages were taken (answered, retried later or given up).
    Progressed(usize),
    CaughtUp,
}

struct Claimed {
    update_id: i64,
    body: Vec<u8>,
    attempts: i32,
}

/// Claims a batch of due messages, answers them, and records how each went.
pub async fn run_once(bot: &Bot) -> Result<Step, BotError> {
    let claimed: Vec<(i64, Vec<u8>, i32)> = sqlx::query_as(
        "UPDATE bot_updates SET claimed_until = now() + make_interval(secs => $2), \
         attempts = attempts + 1 \
         WHERE bot_id = $3 AND update_id IN (SELECT update_id FROM bot_updates \
           WHERE bot_id = $3 AND handled_at IS NULL \
             AND (claimed_until IS NULL OR claimed_until < now()) \
           ORDER BY update_id LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING update_id, body, attempts",
    )
    .bind(BATCH)
    .bind(LEASE_SECS)
    .bind(bot.rows_key())
    .fetch_all(bot.pool())
    .await?;
    if claimed.is_empty() {
        return Ok(Step::CaughtUp);
    }
    let count = claimed.len();
    // One queue per chat, in update order; chats are answered concurrently.
    let mut chats: BTreeMap<i64, Vec<Claimed>> = BTreeMap::new();
    for (update_id, body, attempts) in claimed {
        let chat = chat_of(&body).unwrap_or(0);
        chats.entry(chat).or_default().push(Claimed {
            update_id,
            body,
            attempts,
        });
    }
    let results: Vec<Result<(), BotError>> = futures::stream::iter(chats.into_values())
        .map(|mut queue| async move {
            queue.sort_by_key(|c| c.update_id);
            for claimed in queue {
                let outcome = answer(bot, claimed.update_id, &claimed.body).await;
                settle(bot, &claimed, outcome).await?;
            }
            Ok(())
        })
        .buffer_unordered(CONCURRENT_CHATS)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(Step::Progressed(count))
}

/// Answers every stored message that is due, then returns how many were taken.
pub async fn drain(bot: &Bot) -> Result<usize, BotError> {
    let mut total = 0;
    while let Step::Progressed(n) = run_once(bot).await? {
        total += n;
    }
    Ok(total)
}

fn chat_of(body: &[u8]) -> Option<i64> {
    telegram::parse(body)
        .ok()?
        .signals
        .iter()
        .find_map(|signal| match signal {
            Signal::BotMessage(msg) => Some(msg.chat_id),
            Signal::GroupCommand(command) => Some(command.chat_id),
            Signal::GroupReply(reply) => Some(reply.chat_id),
            Signal::CallbackQuery(query) => Some(query.chat_id.unwrap_or(query.user_id)),
            _ => None,
        })
}

async fn answer(bot: &Bot, update_id: i64, body: &[u8]) -> Result<(), BotError> {
    let update = match telegram::parse(body) {
        Ok(update) => update,
        // Stored only after it parsed once, so this is a parser change: nothing to answer.
        Err(e) => {
            tracing::warn!(update_id, error = %e, "stored bot update no longer parses");
            return Ok(());
        }
    };
    let metadata = Metadata {
        actor: Some("platform:telegram".into()),
        delivery_id: Some(bot.state.accounts().delivery(&update.delivery_key())),
        ..Metadata::default()
    };
    for signal in &update.signals {
        match signal {
            Signal::BotMessage(msg) => commands::handle(bot, msg, metadata.clone()).await?,
            Signal::GroupCommand(command) => {
                managers::actions::managers_command(bot, command).await?
            }
            Signal::GroupReply(reply) => managers::actions::reply(bot, reply).await?,
            Signal::CallbackQuery(query) => managers::actions::callback(bot, query).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn settle(
    bot: &Bot,
    claimed: &Claimed,
    outcome: Result<(), BotError>,
) -> Result<(), BotError> {
    let (pool, key) = (bot.pool(), bot.rows_key());
    let update_id = claimed.update_id;
    match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE bot_updates SET handled_at = now(), claimed_until = NULL, \
                 last_error = NULL WHERE update_id = $1 AND bot_id = $2",
            )
            .bind(update_id)
            .bind(key)
            .execute(pool)
            .await?;
        }
        Err(e) if claimed.attempts >= MAX_ATTEMPTS || e.is_final() => {
            tracing::error!(update_id, error = %e, "giving up on a bot message");
            sqlx::query(
                "UPDATE bot_updates SET handled_at = now(), claimed_until = NULL, \
                 last_error = $2 WHERE update_id = $1 AND bot_id = $3",
            )
            .bind(update_id)
            .bind(e.to_string())
            .bind(key)
            .execute(pool)
            .await?;
        }
        Err(e) => {
            let delay = RETRY_BASE_SECS * f64::from(1u32 << (claimed.attempts - 1).clamp(0, 10));
            tracing::warn!(update_id, error = %e, delay, "bot message will be tried again");
            sqlx::query(
                "UPDATE bot_updates SET claimed_until = now() + make_interval(secs => $2), \
                 last_error = $3 WHERE update_id = $1 AND bot_id = $4",
            )
            .bind(update_id)
            .bind(delay)
            .bind(e.to_string())
            .bind(key)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Answers messages as they arrive until `shutdown`. Handled ones are deleted by the retention
/// job (`app::retention`, `raw_update_retention_hours`).
pub async fn run(bot: Bot, mut shutdown: watch::Receiver<bool>) {
    let wake = wake_of(bot.rows_key());
    loop {
        if *shutdown.borrow() {
            return;
        }
        match run_once(&bot).await {
            Ok(Step::Progressed(_)) => continue,
            Ok(Step::CaughtUp) => {}
            Err(e) => tracing::warn!(error = %e, "bot inbox step failed"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}
