//! The notification worker as a step function: [`NotificationWorker::run_once`] settles
//! reports, offers due notifications and reads one batch; tests drain it instead of sleeping.

use super::{
    CHECKPOINT, FULL_DELAY, LOCK_KEY, MAX_OFFERS, MAX_PENDING, POLL_INTERVAL, READ_BATCH,
    REOFFER_DELAY, plan, records,
};
use crate::locks::HeldLock;
use crate::{Bot, BotError, chats};
use chrono::Utc;
use clients::{ClientError, EnqueueError, Enqueued, Notifier, NotifierConfig};
use clients::{Outcome, Report};
use domain::event::Event;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use store::{Checkpoint, Envelope};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Progressed,
    CaughtUp,
}

#[derive(Debug)]
enum State {
    /// In the notifier's queue.
    Queued,
    /// To be offered again at this moment.
    Waiting(Instant),
    /// Done; the record is not written yet. `true` when the chat refuses the bot.
    Settled(records::Settled, bool),
}

#[derive(Debug)]
struct Pending {
    /// The event read just before this one: where the checkpoint may stand while it waits.
    previous: Checkpoint,
    key: String,
    chat_id: i64,
    text: String,
    offers: u32,
    state: State,
}

/// One worker per bot and database: the configured bot keeps the key it always had, a
/// program's own bot adds its id.
fn lock_key(bot: &Bot) -> i64 {
    LOCK_KEY ^ bot.rows_key().rotate_left(8)
}

pub struct NotificationWorker {
    bot: Bot,
    notifier: Notifier,
    pub(super) reports: mpsc::Receiver<Report>,
    dispatcher: JoinHandle<()>,
    lock: HeldLock,
    read_upto: Checkpoint,
    saved: records::SavedPlace,
    /// By the event and its place among the event's notifications (a low-stock alert goes to
    /// every manager).
    pending: BTreeMap<(Checkpoint, usize), Pending>,
    by_key: HashMap<String, (Checkpoint, usize)>,
}

impl NotificationWorker {
    /// Takes the lock, loads the checkpoint (a first start begins at the log's head: history
    /// is not news) and starts the notifier. `BotError::Busy` if another worker runs.
    pub async fn start(bot: Bot, config: NotifierConfig) -> Result<Self, BotError> {
        bot.know_program_bots().await?;
        let Some(lock) = bot.locks.try_lock(lock_key(&bot)).await? else {
            return Err(BotError::Busy);
        };
        let saved = records::SavedPlace::load(&bot, CHECKPOINT).await?;
        let (notifier, reports, dispatcher) = Notifier::spawn(bot.telegram.clone(), config);
        Ok(NotificationWorker {
            bot,
            notifier,
            reports,
            dispatcher,
            lock,
            read_upto: saved.at(),
            saved,
            pending: BTreeMap::new(),
            by_key: HashMap::new(),
        })
    }

    /// Notifications offered and not yet recorded.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Where the worker stands as last saved.
    pub fn checkpoint(&self) -> Checkpoint {
        self.saved.at()
    }

    /// Settles the reports at hand, records them, offers what came due again, reads one batch
    /// of the log if there is room, and saves the checkpoint.
    pub async fn run_once(&mut self) -> Result<Step, BotError> {
        while let Ok(report) = self.reports.try_recv() {
            self.on_report(report);
        }
        self.flush().await?;
        self.reoffer()?;
        let mut step = Step::CaughtUp;
        if self.pending.len() < MAX_PENDING {
            let (batch, reached) = self
                .bot
                .read_log(self.read_upto, READ_BATCH)
                .await
                .map_err(BotError::App)?;
            if !batch.is_empty() {
                self.offer(&batch).await?;
            }
            if reached > self.read_upto {
                self.read_upto = reached;
                step = Step::Progressed;
            }
        }
        self.save(false).await?;
        Ok(step)
    }

    /// Waits up to `timeout` for one report and settles it; `false` if none came.
    pub async fn wait_report(&mut self, timeout: Duration) -> Result<bool, BotError> {
        match tokio::time::timeout(timeout, self.reports.recv()).await {
            Ok(Some(report)) => {
                self.on_report(report);
                Ok(true)
            }
            Ok(None) | Err(_) => Ok(false),
        }
    }

    /// Runs until every event committed when it was called is read and every notification
    /// settled (for tests and the CLI). Gap-safe reads lag behind any transaction still open
    /// on the server, so "caught up" alone may come before the newest events are visible.
    pub async fn drain(&mut self, timeout: Duration) -> Result<(), BotError> {
        let deadline = Instant::now() + timeout;
        let target = self
            .bot
            .state
            .ledger()
            .store()
            .last_committed()
            .await
            .map_err(app::AppError::from)?;
        loop {
            while self.run_once().await? == Step::Progressed {}
            if self.pending.is_empty() && self.read_upto >= target {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BotError::Record(format!(
                    "{} notifications still pending after {timeout:?}",
                    self.pending.len()
                )));
            }
            if self.pending.is_empty() {
                tokio::time::sleep(left.min(Duration::from_millis(20))).await;
            } else {
                self.wait_report(left.min(POLL_INTERVAL)).await?;
            }
        }
    }

    /// Stops the notifier (messages in flight settle), records what settled, saves the
    /// checkpoint and releases the lock. What was still queued is offered after a restart.
    pub async fn shutdown(mut self) -> Result<(), BotError> {
        self.notifier.shutdown();
        let _ = (&mut self.dispatcher).await;
        while let Some(report) = self.reports.recv().await {
            self.on_report(report);
        }
        let settled = self.flush().await;
        let saved = self.save(true).await;
        self.lock.release().await;
        settled.and(saved)
    }

    async fn offer(&mut self, batch: &[Envelope<Event>]) -> Result<(), BotError> {
        let planned = plan::plan(&self.bot, batch, Utc::now()).await?;
        let keys: Vec<String> = planned.iter().map(|p| p.key.clone()).collect();
        let settled = records::settled_keys(self.bot.pool(), &keys).await?;
        let mut by_event: BTreeMap<Checkpoint, Vec<plan::Planned>> = BTreeMap::new();
        for p in planned {
            by_event.entry(p.checkpoint).or_default().push(p);
        }
        let mut previous = self.read_upto;
        for envelope in batch {
            let at = envelope.checkpoint();
            for (n, p) in by_event.remove(&at).into_iter().flatten().enumerate() {
                if settled.contains(&p.key) || self.by_key.contains_key(&p.key) {
                    continue;
                }
                self.by_key.insert(p.key.clone(), (at, n));
                let pending = Pending {
                    previous,
                    key: p.key,
                    chat_id: p.chat_id,
                    text: p.text,
                    offers: 0,
                    state: State::Waiting(Instant::now()),
                };
                self.pending.insert((at, n), pending);
            }
            previous = at;
        }
        self.read_upto = previous;
        self.reoffer()
    }

    /// Offers every waiting notification that is due.
    fn reoffer(&mut self) -> Result<(), BotError> {
        let now = Instant::now();
        for pending in self.pending.values_mut() {
            if !matches!(pending.state, State::Waiting(at) if at <= now) {
                continue;
            }
            let enqueued =
                self.notifier
                    .enqueue(pending.chat_id, pending.text.clone(), pending.key.as_str());
            pending.state = match enqueued {
                Ok(Enqueued::Queued | Enqueued::AlreadyQueued) => {
                    pending.offers += 1;
                    State::Queued
                }
                Ok(Enqueued::AlreadyDelivered) => {
                    State::Settled(settled(pending, None, None), false)
                }
                Err(EnqueueError::Full { .. }) => State::Waiting(now + FULL_DELAY),
                Err(EnqueueError::InvalidText) => {
                    State::Settled(settled(pending, None, Some("invalid text".into())), false)
                }
                Err(EnqueueError::Closed) => return Err(BotError::Busy),
            };
        }
        Ok(())
    }

    pub(super) fn on_report(&mut self, report: Report) {
        let Some(at) = self.by_key.get(report.key.as_str()).copied() else {
            return;
        };
        let Some(pending) = self.pending.get_mut(&at) else {
            return;
        };
        pending.state = match report.outcome {
            Outcome::Delivered { message_id } => {
                State::Settled(settled(pending, Some(message_id), None), false)
            }
            Outcome::Failed(error) if error.is_retryable() && pending.offers < MAX_OFFERS => {
                tracing::warn!(key = %pending.key, %error, "notification will be offered again");
                State::Waiting(Instant::now() + REOFFER_DELAY * pending.offers)
            }
            Outcome::Failed(error) => {
                tracing::info!(key = %pending.key, %error, "notification failed for good");
                let refused = matches!(
                    error,
                    ClientError::Forbidden { .. } | ClientError::ChatNotFound
                );
                State::Settled(settled(pending, None, Some(error.to_string())), refused)
            }
        };
    }

    /// Records settled notifications, then forgets them; chats that refuse the bot are marked.
    async fn flush(&mut self) -> Result<(), BotError> {
        let done: Vec<((Checkpoint, usize), records::Settled, bool)> = self
            .pending
            .iter()
            .filter_map(|(at, p)| match &p.state {
                State::Settled(s, refused) => Some((*at, s.clone(), *refused)),
                _ => None,
            })
            .collect();
        if done.is_empty() {
            return Ok(());
        }
        let rows: Vec<records::Settled> = done.iter().map(|(_, s, _)| s.clone()).collect();
        records::record(self.bot.pool(), &rows).await?;
        let now = Utc::now();
        for (at, settled, refused) in done {
            if refused {
                chats::mark_unreachable(self.bot.pool(), self.bot.rows_key(), settled.chat_id, now)
                    .await?;
            }
            self.pending.remove(&at);
            self.by_key.remove(&settled.key);
        }
        Ok(())
    }

    /// Saves where the worker stands: at once when `now`, else at most once per
    /// `SAVE_EVERY` (a hundred bots each saving every second was most of their cost).
    async fn save(&mut self, now: bool) -> Result<(), BotError> {
        let at = self
            .pending
            .values()
            .next()
            .map_or(self.read_upto, |first| first.previous);
        self.saved.save(self.bot.pool(), at, now).await?;
        Ok(())
    }
}

fn settled(pending: &Pending, message_id: Option<i64>, error: Option<String>) -> records::Settled {
    records::Settled {
        key: pending.key.clone(),
        chat_id: pending.chat_id,
        message_id,
        error,
    }
}
