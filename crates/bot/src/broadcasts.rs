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

use crate::{Bot, BotError, MINI_APP_PATH, chats, stopped};
use app::broadcasts::{self, Delivery, Outgoing};
use chrono::Utc;
use clients::{Announcement, ClientError, InlineButton, InlineKeyboard, RateLimiter, SentMessage};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Recipients read per step.
const BATCH: i64 = 256;
/// Requests in flight at once (enough for the budget at Telegram's usual latency).
const MAX_IN_FLIGHT: usize = 16;
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
    paused_until: Option<Instant>,
    backoff: Duration,
}

type Sent = (i64, i16, Result<SentMessage, ClientError>);

impl BroadcastSender {
    /// The caller holds the sending lock, so claims left `sending` are a dead sender's: they
    /// are settled `unknown` first.
    pub async fn start(bot: Bot, limit: Arc<RateLimiter>) -> Result<Self, BotError> {
        let interrupted = broadcasts::settle_interrupted(bot.pool(), Utc::now()).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "broadcast messages whose sending was interrupted are marked unknown, not resent"
            );
        }
        Ok(BroadcastSender {
            bot,
            limit,
            shutdown: None,
            paused_until: None,
            backoff: FIRST_BACKOFF,
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

    /// Starts due broadcasts and sends one batch of the oldest one sending.
    pub async fn run_once(&mut self) -> Result<Step, BotError> {
        let pool = self.bot.pool().clone();
        broadcasts::start_due(&pool, Utc::now()).await?;
        let Some(outgoing) = broadcasts::sending(&pool).await? else {
            return Ok(Step::Idle);
        };
        let chats = broadcasts::pending(&pool, outgoing.broadcast_id, BATCH).await?;
        if chats.is_empty() {
            broadcasts::finish_if_done(&pool, outgoing.broadcast_id, Utc::now()).await?;
            return Ok(Step::Progressed);
        }
        let message = self.announcement(&outgoing);
        let mut in_flight: JoinSet<Sent> = JoinSet::new();
        let mut next_check = Instant::now();
        for chat_id in chats {
            if self.shutting_down() {
                break;
            }
            if let Some(until) = self.paused_until.take() {
                self.sleep_until(until).await;
                next_check = Instant::now();
                if self.shutting_down() {
                    break;
                }
            }
            if Instant::now() >= next_check {
                if !broadcasts::still_sending(&pool, outgoing.broadcast_id).await? {
                    break;
                }
                next_check = Instant::now() + STOP_CHECK;
            }
            while in_flight.len() >= MAX_IN_FLIGHT {
                if let Some(done) = in_flight.join_next().await {
                    self.settle(&outgoing, done).await?;
                }
            }
            if self.paused_until.is_some() {
                continue; // the chat stays pending for the next batch
            }
            let Some(attempts) =
                broadcasts::claim(&pool, outgoing.broadcast_id, chat_id, Utc::now()).await?
            else {
                continue;
            };
            // Claimed first, so the request leaves as soon as the limiter lets it go: the
            // limit holds at Telegram's end, not only at ours.
            self.limit.acquire().await;
            let api = self.bot.telegram.clone();
            let message = message.clone();
            in_flight.spawn(async move {
                let sent = api.announce_once(chat_id, &message).await;
                (chat_id, attempts, sent)
            });
            while let Some(done) = in_flight.try_join_next() {
                self.settle(&outgoing, done).await?;
            }
        }
        while let Some(done) = in_flight.join_next().await {
            self.settle(&outgoing, done).await?;
        }
        Ok(Step::Progressed)
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
            let url = self.bot.public_link(MINI_APP_PATH);
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
        let Ok((chat_id, attempts, sent)) = done else {
            return Ok(()); // a panicked send stays `sending`: the next start marks it unknown
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
                chats::mark_unreachable(self.bot.pool(), chat_id, Utc::now()).await?;
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
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
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
            Err(e) => tracing::warn!(error = %e, "broadcast step failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(IDLE_POLL) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}
