//! The notifier's worker: takes batches from the queue, sends them with up to
//! `max_in_flight` requests at once, and settles each answer into the queue and a report.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tokio::task::{self, JoinError, JoinSet};
use tokio::time::{Instant, sleep_until};

use super::queue::{Batch, Step};
use super::{Outcome, Report, Shared};
use crate::telegram::{SentMessage, TelegramApi};
use crate::{ClientError, Result};

type Sent = Result<SentMessage>;

pub(super) async fn run(
    shared: Arc<Shared>,
    api: TelegramApi,
    reports: mpsc::Sender<Report>,
    pause_all_on_429: bool,
) {
    let mut sends: JoinSet<Sent> = JoinSet::new();
    let mut batches: HashMap<task::Id, Batch> = HashMap::new();
    loop {
        let closed = shared.closed.load(Ordering::Acquire);
        if closed && batches.is_empty() {
            return;
        }
        let step = if closed {
            Step::Idle
        } else {
            shared.queue.lock().next(Instant::now())
        };
        let wake_at = match step {
            Step::Send(batch) => {
                let api = api.clone();
                let (chat_id, text) = (batch.chat_id, batch.text());
                let handle =
                    sends.spawn(async move { api.send_message_once(chat_id, &text).await });
                batches.insert(handle.id(), batch);
                continue;
            }
            Step::Wait(at) => Some(at),
            Step::Idle => None,
        };
        tokio::select! {
            Some(done) = sends.join_next_with_id(), if !batches.is_empty() => {
                let (batch, sent) = take(&mut batches, done);
                if let Some(batch) = batch {
                    let settled = settle(&shared, &api, batch, sent, pause_all_on_429);
                    for report in settled {
                        // A caller that dropped the receiver gets no reports; sending goes on.
                        let _ = reports.send(report).await;
                    }
                }
            }
            _ = shared.wake.notified() => {}
            _ = sleep_opt(wake_at) => {}
        }
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn take(
    batches: &mut HashMap<task::Id, Batch>,
    done: std::result::Result<(task::Id, Sent), JoinError>,
) -> (Option<Batch>, Sent) {
    match done {
        Ok((id, sent)) => (batches.remove(&id), sent),
        // A send task that panicked or was cancelled: count it as a retryable failure.
        Err(error) => (
            batches.remove(&error.id()),
            Err(ClientError::Network(
                "send task ended abnormally".to_owned(),
            )),
        ),
    }
}

/// Decides delivered / retry later / failed for one answer and returns the reports to emit.
fn settle(
    shared: &Shared,
    api: &TelegramApi,
    batch: Batch,
    sent: Sent,
    pause_all_on_429: bool,
) -> Vec<Report> {
    let now = Instant::now();
    let policy = api.retry_policy();
    let attempt = batch.attempt();
    let mut queue = shared.queue.lock();
    let outcome = match sent {
        Ok(message) => {
            queue.delivered(&batch);
            Outcome::Delivered {
                message_id: message.message_id,
            }
        }
        Err(error) if error.is_retryable() && attempt < policy.max_attempts => {
            // Flood control names its own wait, which is honoured even beyond the policy's
            // cap: the messages stay queued and only this chat (or all, if asked) sleeps.
            let wait = error
                .retry_after()
                .unwrap_or_else(|| policy.backoff(attempt));
            let pause_all = pause_all_on_429 && error.retry_after().is_some();
            let until = now.checked_add(wait).unwrap_or(now);
            queue.retry_later(batch, until, pause_all);
            return Vec::new();
        }
        Err(error) => {
            queue.failed(&batch);
            Outcome::Failed(error)
        }
    };
    drop(queue);
    batch
        .items
        .into_iter()
        .map(|item| Report {
            key: item.key,
            chat_id: batch.chat_id,
            outcome: outcome.clone(),
            issued_at: batch.issued_at,
            attempts: attempt,
        })
        .collect()
}
