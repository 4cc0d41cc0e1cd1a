//! Telegram notifications ("+10 points for your comment") sent without ever slowing ingestion.
//!
//! - [`Notifier::enqueue`] never blocks or awaits: when `capacity` notifications are queued
//!   or in flight it **rejects the new one** ([`EnqueueError::Full`], counted in
//!   [`NotifierStats::rejected_full`]). Rejecting rather than dropping the oldest keeps the
//!   caller's record exact: what it was told is queued will be reported, and what was
//!   refused is still pending in its outbox to offer again.
//! - Notifications for one chat that arrive within `coalesce_window` of the oldest pending one
//!   go out as one message, one line each.
//! - At most `global_per_second` messages in any second, one per chat per
//!   `per_chat_interval`, `group_per_minute` per group or channel.
//! - A 429 pauses that chat for `retry_after` (all chats too with `pause_all_on_429`); network
//!   errors and 5xx back off per the API's [`crate::RetryPolicy`].
//! - Every notification ends in exactly one [`Report`], by its [`NotificationKey`]. Keys are
//!   the caller's (e.g. `award:<event id>`), so after a restart the caller re-offers what it
//!   has no report for and [`NotifierConfig::already_delivered`] skips the rest.

mod dispatch;
mod queue;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::ClientError;
use super::telegram::TelegramApi;
use queue::Queue;

/// The caller's stable id for one notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotificationKey(String);

impl NotificationKey {
    pub fn new(key: impl Into<String>) -> Self {
        NotificationKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NotificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NotificationKey {
    fn from(key: &str) -> Self {
        NotificationKey(key.to_owned())
    }
}

impl From<String> for NotificationKey {
    fn from(key: String) -> Self {
        NotificationKey(key)
    }
}

/// Answers "was this key already delivered?" from the caller's own records.
pub type DeliveredFilter = Arc<dyn Fn(&NotificationKey) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct NotifierConfig {
    /// Notifications queued or in flight at most; beyond it `enqueue` rejects.
    pub capacity: usize,
    /// How long the first notification for a chat waits for others to join its message.
    pub coalesce_window: Duration,
    /// Lines per message at most (the 4096-character limit applies as well).
    pub max_batch_items: usize,
    pub global_per_second: u32,
    pub per_chat_interval: Duration,
    /// For chats with negative ids (groups, channels).
    pub group_per_minute: u32,
    /// `sendMessage` requests in flight at once.
    pub max_in_flight: usize,
    /// On a 429, pause every chat, not only the one that got it.
    pub pause_all_on_429: bool,
    pub already_delivered: Option<DeliveredFilter>,
    /// The bot's whole sending budget when other senders share it (broadcasts): then this
    /// limiter, not `global_per_second`, bounds the messages of every sender together.
    pub shared_limit: Option<Arc<crate::RateLimiter>>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            capacity: 10_000,
            coalesce_window: Duration::from_secs(2),
            max_batch_items: 20,
            global_per_second: 30,
            per_chat_interval: Duration::from_secs(1),
            group_per_minute: 20,
            max_in_flight: 8,
            pause_all_on_429: false,
            already_delivered: None,
            shared_limit: None,
        }
    }
}

impl fmt::Debug for NotifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifierConfig")
            .field("capacity", &self.capacity)
            .field("coalesce_window", &self.coalesce_window)
            .field("max_batch_items", &self.max_batch_items)
            .field("global_per_second", &self.global_per_second)
            .field("per_chat_interval", &self.per_chat_interval)
            .field("group_per_minute", &self.group_per_minute)
            .field("max_in_flight", &self.max_in_flight)
            .field("pause_all_on_429", &self.pause_all_on_429)
            .field("already_delivered", &self.already_delivered.is_some())
            .field("shared_limit", &self.shared_limit.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The key is already waiting or being sent; nothing added.
    AlreadyQueued,
    /// [`NotifierConfig::already_delivered`] knows the key; nothing added, no report.
    AlreadyDelivered,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnqueueError {
    #[error("notification queue is full ({capacity})")]
    Full { capacity: usize },
    #[error("notification text must be 1-4096 characters")]
    InvalidText,
    #[error("notifier is shut down")]
    Closed,
}

/// The end of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub key: NotificationKey,
    pub chat_id: i64,
    pub outcome: Outcome,
    /// When the final request was sent (after every wait the limits imposed).
    pub issued_at: Instant,
    /// Requests made, the last included.
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent as (part of) this message; coalesced notifications share the id.
    Delivered { message_id: i64 },
    /// Given up: a final error, or retries exhausted.
    Failed(ClientError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotifierStats {
    /// Notifications waiting or being sent.
    pub queued: usize,
    /// Messages being sent.
    pub in_flight: usize,
    pub delivered: u64,
    pub failed: u64,
    pub rejected_full: u64,
    pub skipped_delivered: u64,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Notify,
    closed: AtomicBool,
}

/// Handle to a running notifier; clones share it.
#[derive(Clone)]
pub struct Notifier {
    shared: Arc<Shared>,
    already_delivered: Option<DeliveredFilter>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Notifier {
    /// Starts the dispatcher on the current tokio runtime; it runs until
    /// [`Notifier::shutdown`] or the runtime stops. Reports arrive on the receiver (bounded by
    /// `capacity`; a receiver left unread stalls sending, never `enqueue`).
    pub fn spawn(
        api: TelegramApi,
        config: NotifierConfig,
    ) -> (Notifier, mpsc::Receiver<Report>, JoinHandle<()>) {
        let (reports_tx, reports_rx) = mpsc::channel(config.capacity.max(1));
        let pause_all = config.pause_all_on_429;
        let already_delivered = config.already_delivered.clone();
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::new(config)),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let worker = tokio::spawn(dispatch::run(shared.clone(), api, reports_tx, pause_all));
        let notifier = Notifier {
            shared,
            already_delivered,
        };
        (notifier, reports_rx, worker)
    }

    /// Queues a notification without waiting. The `already_delivered` check runs before the
    /// queue lock is taken, so a slow check never holds up other callers.
    pub fn enqueue(
        &self,
        chat_id: i64,
        text: impl Into<String>,
        key: impl Into<NotificationKey>,
    ) -> Result<Enqueued, EnqueueError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(EnqueueError::Closed);
        }
        let key = key.into();
        if let Some(filter) = &self.already_delivered
            && filter(&key)
        {
            self.shared.queue.lock().count_skipped();
            return Ok(Enqueued::AlreadyDelivered);
        }
        let result = self
            .shared
            .queue
            .lock()
            .push(chat_id, key, text.into(), Instant::now());
        if result == Ok(Enqueued::Queued) {
            self.shared.wake.notify_one();
        }
        result
    }

    pub fn stats(&self) -> NotifierStats {
        self.shared.queue.lock().stats()
    }

    /// Stops taking notifications; the worker ends once the messages in flight are settled.
    /// Queued ones get no report: the caller offers them again after a restart.
    pub fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

#[cfg(test)]
mod tests;
