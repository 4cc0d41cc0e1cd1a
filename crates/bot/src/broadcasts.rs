//! Sends broadcasts (`app::broadcasts`): due ones start, then each recipient gets one message,
//! within the bot's sending budget shared with notifications.
//!
//! - At most `messages_per_second` messages in any second with notifications together (one
//!   [`RateLimiter`]), each chat once per broadcast, one broadcast at a time.
//! - A 429 puts its chat back and pauses every send for its `retry_after`; a server error
//!   puts it back after a second, up to [`MAX_ATTEMPTS`] requests. A timeout or a broken
//!   connection may have delivered the message, so that chat ends `unknown` and sending
//!   pauses (5 s, doubling to a minute) until Telegram answers again.
//! - Runs in the process that holds the notification worker's lock, so one process sends.

use crate::{Bot, BotError, chats, stopped};
use app::broadcasts::{self, Delivery, Outgoing};
use chrono::Utc;
use clients::{Announcement, ClientError, InlineButton, InlineKeyboard, RateLimiter, SentMessage};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Recipients read per step.
const BATCH: i64 = 1_000;
/// Requests in flight at once, at least and at most.
const MIN_IN_FLIGHT: usize = 16;
const MAX_IN_FLIGHT: usize = 256;
/// Requests for one chat at most when Telegram keeps answering 5xx.
pub const MAX_ATTEMPTS: i16 = 3;
/// How often a sending broadcast is checked for a manager's stop.
const STOP_CHECK: Duration = Duration::from_millis(500);
/// Looks for due broadcasts this often when idle.
const IDLE_POLL: Duration = Duration::from_secs(1);
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Progressed,
    Idle,
}

pub struct BroadcastSender {
    bot: Bot,
    limit: Arc<RateLimiter>,
    shutdown: Option<watch::Receiver<bool>>,
    pause: Pause,
    backoff: Duration,
    max_in_flight: usize,
}

/// A chat's request: `None` when it was not pending any more; `Err` when claiming failed.
type Sent = Result<(i64, Option<(i16, Result<SentMessage, ClientError>)>), sqlx::Error>;

/// Claims the chat (a durable write, so a crash after the request cannot send it again), waits
/// for the limiter and any 429 pause, and sends. Claims run in many tasks at once, so their
/// commits share the server's WAL flushes instead of queueing one behind another.
async fn send_one(
    pool: sqlx::PgPool,
    api: clients::TelegramApi,
    limit: Arc<RateLimiter>,
    pause: Pause,
    broadcast_id: uuid::Uuid,
    chat_id: i64,
    message: Arc<Announcement>,
) -> Sent {
    let Some(attempts) = broadcasts::claim(&pool, broadcast_id, chat_id, Utc::now()).await? else {
        return Ok((chat_id, None));
    };
    // The limiter is asked after the claim, so the request leaves as soon as it is let go:
    // the limit holds at Telegram's end, not only at ours.
    let slot = loop {
        let slot = limit.acquire().await;
        let until = *pause.lock();
        match until {
            Some(until) if until > Instant::now() => {
                drop(slot);
                tokio::time::sleep_until(until).await;
            }
            _ => break slot,
        }
    };
    let sent = api.announce_once(chat_id, &message).await;
    drop(slot);
    Ok((chat_id, Some((attempts, sent))))
}

/// Until when every send waits (a 429's `retry_after`, a network backoff).
type Pause = Arc<parking_lot::Mutex<Option<Instant>>>;

impl BroadcastSender {
    /// The caller holds the sending lock, so claims left `sending` are a dead sender's: they
    /// are settled `unknown` first.
    pub async fn start(bot: Bot, limit: Arc<RateLimiter>) -> Result<Self, BotError> {
        let interrupted =
            broadcasts::settle_interrupted(bot.pool(), bot.served(), Utc::now()).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "broadcast messages whose sending was interrupted are marked unknown, not resent"
            );
        }
        // Enough requests out to keep the limit busy at Telegram's usual latency (~100 ms).
        let per_second = bot.state.config.telegram.messages_per_second as usize;
        Ok(BroadcastSender {
            bot,
            limit,
            shutdown: None,
            pause: Pause::default(),
            backoff: FIRST_BACKOFF,
            max_in_flight: (per_second / 4).clamp(MIN_IN_FLIGHT, MAX_IN_FLIGHT),
        })
    }

    /// Stops between messages when `shutdown` turns true (requests out are settled first).
    pub fn with_shutdown(mut self, shutdown: watch::Receiver<bool>) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    fn shutting_down(&self) -> bool {
        self.shutdown.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Starts due broadcasts and sends one batch of the oldest one sending. Requests in
    /// flight are always settled before it returns, an error included.
    pub async fn run_once(&mut self) -> Result<Step, BotError> {
        let pool = self.bot.pool().clone();
        broadcasts::start_due(&pool, Utc::now()).await?;
        let Some(outgoing) = broadcasts::sending(&pool, self.bot.served()).await? else {
            return Ok(Step::Idle);
        };
        let chats = broadcasts::pending(&pool, outgoing.broadcast_id, BATCH).await?;
        if chats.is_empty() {
            broadcasts::finish_if_done(&pool, outgoing.broadcast_id, Utc::now()).await?;
            return Ok(Step::Progressed);
        }
        let message = Arc::new(self.announcement(&outgoing));
        let mut in_flight: JoinSet<Sent> = JoinSet::new();
        let mut failed = None;
        let mut next_check = Instant::now();
        for chat_id in chats {
            if self.shutting_down() || failed.is_some() {
                break;
            }
            if let Some(until) = self.paused() {
                self.sleep_until(until).await;
                next_check = Instant::now();
                if self.shutting_down() {
                    break;
                }
            }
            if Instant::now() >= next_check {
                match broadcasts::still_sending(&pool, outgoing.broadcast_id).await {
                    Ok(true) => next_check = Instant::now() + STOP_CHECK,
                    Ok(false) => break,
                    Err(e) => {
                        failed = Some(e.into());
                        break;
                    }
                }
            }
            while in_flight.len() >= self.max_in_flight {
                if let Some(done) = in_flight.join_next().await {
                    self.settle_or_keep(&outgoing, done, &mut failed).await;
                }
            }
            if self.paused().is_some() {
                continue; // the chat stays pending for the next batch
            }
            in_flight.spawn(send_one(
                pool.clone(),
                self.bot.telegram.clone(),
                self.limit.clone(),
                self.pause.clone(),
                outgoing.broadcast_id,
                chat_id,
                message.clone(),
            ));
            while let Some(done) = in_flight.try_join_next() {
                self.settle_or_keep(&outgoing, done, &mut failed).await;
            }
        }
        while let Some(done) = in_flight.join_next().await {
            self.settle_or_keep(&outgoing, done, &mut failed).await;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(Step::Progressed),
        }
    }

    async fn settle_or_keep(
        &mut self,
        outgoing: &Outgoing,
        done: Result<Sent, tokio::task::JoinError>,
        failed: &mut Option<BotError>,
    ) {
        if let Err(e) = self.settle(outgoing, done).await {
            failed.get_or_insert(e);
        }
    }

    fn paused(&self) -> Option<Instant> {
        let until = *self.pause.lock();
        until.filter(|at| *at > Instant::now())
    }

    /// Runs until no broadcast is due or sending (tests and the bench).
    pub async fn drain(&mut self) -> Result<(), BotError> {
        while self.run_once().await? == Step::Progressed {}
        Ok(())
    }

    /// The message every recipient gets: the Mini App button needs an https public URL, so a
    /// plain-http deployment (local development) gets the link under the text instead.
    fn announcement(&self, b: &Outgoing) -> Announcement {
        let mut text = b.text.clone();
        let keyboard = b.button_label.as_ref().and_then(|label| {
            let url = self.bot.mini_app_link("");
            if url.starts_with("https://") {
                Some(InlineKeyboard::single(InlineButton::web_app(label, url)))
            } else {
                text.push_str(&format!("\n\n{label}: {url}"));
                None
            }
        });
        Announcement {
            text,
            photo_url: b.image_url.clone(),
            keyboard,
        }
    }

    async fn settle(
        &mut self,
        outgoing: &Outgoing,
        done: Result<Sent, tokio::task::JoinError>,
    ) -> Result<(), BotError> {
        let Ok(sent) = done else {
            return Ok(()); // a panicked send stays `sending`: `run` marks it unknown
        };
        let (chat_id, Some((attempts, sent))) = sent? else {
            return Ok(()); // not pending any more
        };
        let now = Instant::now();
        let delivery = match sent {
            Ok(message) => {
                self.backoff = FIRST_BACKOFF;
                Delivery::Sent {
                    message_id: message.message_id,
                }
            }
            Err(ClientError::TooManyRequests { retry_after }) => {
                self.pause(now + retry_after);
                Delivery::Retry
            }
            Err(e @ (ClientError::Forbidden { .. } | ClientError::ChatNotFound)) => {
                chats::mark_unreachable(self.bot.pool(), self.bot.rows_key(), chat_id, Utc::now())
                    .await?;
                Delivery::Blocked(e.to_string())
            }
            Err(
                e @ (ClientError::Timeout | ClientError::Network(_) | ClientError::Malformed(_)),
            ) => {
                self.pause(now + self.backoff);
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                Delivery::Unknown(e.to_string())
            }
            Err(e) if e.is_retryable() && attempts < MAX_ATTEMPTS => {
                self.pause(now + Duration::from_secs(1));
                Delivery::Retry
            }
            Err(e) => Delivery::Failed(e.to_string()),
        };
        broadcasts::settle(
            self.bot.pool(),
            outgoing.broadcast_id,
            chat_id,
            &delivery,
            Utc::now(),
        )
        .await?;
        Ok(())
    }

    /// Sleeps until `until` or shutdown, whichever comes first.
    async fn sleep_until(&mut self, until: Instant) {
        match self.shutdown.as_mut() {
            Some(shutdown) => tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = stopped(shutdown) => {}
            },
            None => tokio::time::sleep_until(until).await,
        }
    }

    fn pause(&mut self, until: Instant) {
        let mut pause = self.pause.lock();
        *pause = Some(pause.map_or(until, |p| p.max(until)));
    }
}

/// Sends broadcasts until `shutdown`; started by the notification worker's process.
pub async fn run(bot: Bot, limit: Arc<RateLimiter>, mut shutdown: watch::Receiver<bool>) {
    let mut sender = loop {
        match BroadcastSender::start(bot.clone(), limit.clone()).await {
            Ok(sender) => break sender.with_shutdown(shutdown.clone()),
            Err(e) => tracing::warn!(error = %e, "broadcast sender cannot start"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
            () = stopped(&mut shutdown) => return,
        }
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        match sender.run_once().await {
            Ok(Step::Progressed) => continue,
            Ok(Step::Idle) => {}
            Err(e) => {
                tracing::warn!(error = %e, "broadcast step failed");
                // Nothing is in flight now: a claim the failed step left is a request that may
                // have gone out.
                if let Err(e) =
                    broadcasts::settle_interrupted(bot.pool(), bot.served(), Utc::now()).await
                {
                    tracing::warn!(error = %e, "broadcast claims left unsettled for now");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(IDLE_POLL) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}
