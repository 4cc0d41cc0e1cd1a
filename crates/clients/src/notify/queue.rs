//! The notifier's state, synchronous and clock-free (`now` is a parameter): which chat may
//! be sent to next, what goes into its message, and what happens after an answer.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::{EnqueueError, Enqueued, NotificationKey, NotifierConfig, NotifierStats};
use crate::telegram::MAX_TEXT_UTF16;
use crate::{RateLimiter, SlidingWindow};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(super) struct Item {
    pub key: NotificationKey,
    pub text: String,
    pub enqueued_at: Instant,
    /// Attempts already made for this item.
    pub attempts: u32,
}

/// Items coalesced into one `sendMessage`.
#[derive(Debug)]
pub(super) struct Batch {
    pub chat_id: i64,
    pub items: Vec<Item>,
    pub issued_at: Instant,
}

impl Batch {
    /// One line per notification, in the order they were queued.
    pub fn text(&self) -> String {
        let lines: Vec<&str> = self.items.iter().map(|i| i.text.as_str()).collect();
        lines.join("\n")
    }

    /// 1-based number of this attempt (the most-tried item counts).
    pub fn attempt(&self) -> u32 {
        self.items.iter().map(|i| i.attempts).max().unwrap_or(0) + 1
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

pub(super) enum Step {
    Send(Batch),
    /// Nothing may be sent before this moment.
    Wait(Instant),
    /// Nothing queued, or every send slot busy.
    Idle,
}

struct Chat {
    items: VecDeque<Item>,
    in_flight: bool,
    paused_until: Option<Instant>,
    per_chat: SlidingWindow,
    /// Groups and channels (negative ids) also get ~20 messages a minute.
    per_group: Option<SlidingWindow>,
}

impl Chat {
    fn new(chat_id: i64, config: &NotifierConfig) -> Self {
        Chat {
            items: VecDeque::new(),
            in_flight: false,
            paused_until: None,
            per_chat: SlidingWindow::new(1, config.per_chat_interval),
            per_group: (chat_id < 0).then(|| SlidingWindow::new(config.group_per_minute, MINUTE)),
        }
    }

    fn ready_at(&self, now: Instant, window: Duration) -> Option<Instant> {
        let first = self.items.front()?;
        let mut at = (first.enqueued_at + window).max(self.per_chat.next_free(now));
        if let Some(group) = &self.per_group {
            at = at.max(group.next_free(now));
        }
        if let Some(paused) = self.paused_until {
            at = at.max(paused);
        }
        Some(at)
    }

    fn is_forgettable(&self, now: Instant) -> bool {
        self.items.is_empty()
            && !self.in_flight
            && self.paused_until.is_none_or(|p| p <= now)
            && self.per_chat.is_idle(now)
            && self.per_group.as_ref().is_none_or(|g| g.is_idle(now))
    }
}

pub(super) struct Queue {
    config: NotifierConfig,
    chats: HashMap<i64, Chat>,
    /// Keys queued or in flight: a second enqueue of one is a no-op.
    keys: HashSet<NotificationKey>,
    in_flight: usize,
    global: Arc<RateLimiter>,
    global_paused_until: Option<Instant>,
    stats: NotifierStats,
}

impl Queue {
    pub fn new(config: NotifierConfig) -> Self {
        let global = config
            .shared_limit
            .clone()
            .unwrap_or_else(|| Arc::new(RateLimiter::new(config.global_per_second, SECOND)));
        Queue {
            config,
            chats: HashMap::new(),
            keys: HashSet::new(),
            in_flight: 0,
            global,
            global_paused_until: None,
            stats: NotifierStats::default(),
        }
    }

    pub fn stats(&self) -> NotifierStats {
        NotifierStats {
            queued: self.keys.len(),
            in_flight: self.in_flight,
            ..self.stats
        }
    }

    pub fn count_skipped(&mut self) {
        self.stats.skipped_delivered += 1;
    }

    pub fn push(
        &mut self,
        chat_id: i64,
        key: NotificationKey,
        text: String,
        now: Instant,
    ) -> Result<Enqueued, EnqueueError> {
        let units = text.encode_utf16().count();
        if units == 0 || units > MAX_TEXT_UTF16 {
            return Err(EnqueueError::InvalidText);
        }
        if self.keys.contains(&key) {
            return Ok(Enqueued::AlreadyQueued);
        }
        if self.keys.len() >= self.config.capacity {
            self.stats.rejected_full += 1;
            return Err(EnqueueError::Full {
                capacity: self.config.capacity,
            });
        }
        self.keys.insert(key.clone());
        let config = &self.config;
        let chat = self
            .chats
            .entry(chat_id)
            .or_insert_with(|| Chat::new(chat_id, config));
        chat.items.push_back(Item {
            key,
            text,
            enqueued_at: now,
            attempts: 0,
        });
        Ok(Enqueued::Queued)
    }

    /// The next batch to send at `now`, or when to look again.
    pub fn next(&mut self, now: Instant) -> Step {
        self.chats.retain(|_, chat| !chat.is_forgettable(now));
        if self.in_flight >= self.config.max_in_flight {
            return Step::Idle;
        }
        if let Some(paused) = self.global_paused_until.filter(|p| *p > now) {
            return Step::Wait(paused);
        }
        let window = self.config.coalesce_window;
        // Earliest ready chat first; ties go to the oldest notification, then the lower id.
        let best = self
            .chats
            .iter()
            .filter(|(_, chat)| !chat.in_flight)
            .filter_map(|(id, chat)| {
                let ready = chat.ready_at(now, window)?;
                let oldest = chat.items.front()?.enqueued_at;
                Some((ready, oldest, *id))
            })
            .min();
        let Some((ready, _, chat_id)) = best else {
            return Step::Idle;
        };
        if ready > now {
            return Step::Wait(ready);
        }
        if let Err(global_at) = self.global.try_take(now) {
            return Step::Wait(global_at);
        }
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return Step::Idle;
        };
        let items = take_batch(&mut chat.items, self.config.max_batch_items);
        chat.in_flight = true;
        chat.per_chat.record(now);
        if let Some(group) = &mut chat.per_group {
            group.record(now);
        }
        self.in_flight += 1;
        Step::Send(Batch {
            chat_id,
            items,
            issued_at: now,
        })
    }

    /// The batch's message went out: its keys leave the queue.
    pub fn delivered(&mut self, batch: &Batch) {
        self.settle(batch);
        self.stats.delivered += batch.items.len() as u64;
    }

    /// The batch failed for good.
    pub fn failed(&mut self, batch: &Batch) {
        self.settle(batch);
        self.stats.failed += batch.items.len() as u64;
    }

    /// Puts the batch back at the head of its chat, which sleeps until `until` (and, when
    /// `pause_all`, every chat does).
    pub fn retry_later(&mut self, batch: Batch, until: Instant, pause_all: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if pause_all {
            self.global_paused_until =
                Some(self.global_paused_until.map_or(until, |p| p.max(until)));
        }
        let config = &self.config;
        let chat = self
            .chats
            .entry(batch.chat_id)
            .or_insert_with(|| Chat::new(batch.chat_id, config));
        chat.in_flight = false;
        chat.paused_until = Some(until);
        for mut item in batch.items.into_iter().rev() {
            item.attempts += 1;
            chat.items.push_front(item);
        }
    }

    fn settle(&mut self, batch: &Batch) {
        self.in_flight = self.in_flight.saturating_sub(1);
        for item in &batch.items {
            self.keys.remove(&item.key);
        }
        if let Some(chat) = self.chats.get_mut(&batch.chat_id) {
            chat.in_flight = false;
        }
    }
}

/// Pops the items that fit in one message: at most `max_items`, joined text within
/// Telegram's limit. Never empty when `items` is not (each item alone fits, checked on push).
fn take_batch(items: &mut VecDeque<Item>, max_items: usize) -> Vec<Item> {
    let mut batch = Vec::new();
    let mut units = 0;
    while let Some(next) = items.front() {
        let next_units = next.text.encode_utf16().count() + usize::from(!batch.is_empty());
        let full = batch.len() >= max_items.max(1) || units + next_units > MAX_TEXT_UTF16;
        if full && !batch.is_empty() {
            break;
        }
        units += next_units;
        match items.pop_front() {
            Some(item) => batch.push(item),
            None => break,
        }
    }
    batch
}
