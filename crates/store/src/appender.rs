//! Group commit: concurrent callers hand their commits to a few writer tasks, each of which
//! sends everything waiting in one round trip. One fsync then covers many commands, which is
//! how the write path passes the single-insert ceiling of PostgreSQL.

use crate::EventStore;
use crate::append::{AppendOutcome, Commit};
use crate::error::StoreError;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

type Request = (Commit, oneshot::Sender<Result<AppendOutcome, StoreError>>);

/// The most commits queued before callers wait: back-pressure, not unbounded memory.
pub const QUEUE_CAPACITY: usize = 8_192;

/// Group commit: queues commits from many callers and sends them to the database in batches, so
/// one round trip and one fsync cover many commands. Cloning shares the queue.
#[derive(Clone)]
pub struct Appender {
    tx: mpsc::Sender<Request>,
}

impl Appender {
    /// Starts `writers` writer tasks, each sending up to `max_commits_per_batch` commits a trip.
    pub fn spawn(store: EventStore, writers: usize, max_commits_per_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Request>(QUEUE_CAPACITY);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let rx = rx.clone();
            let store = store.clone();
            tokio::spawn(async move {
                let mut batch: Vec<Request> = Vec::new();
                loop {
                    {
                        let mut rx = rx.lock().await;
                        if rx.recv_many(&mut batch, max_commits_per_batch.max(1)).await == 0 {
                            return;
                        }
                    }
                    let (commits, replies): (Vec<Commit>, Vec<_>) = batch.drain(..).unzip();
                    let results = store.append_batch(commits).await;
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result);
                    }
                }
            });
        }
        Self { tx }
    }

    /// Queues `commit` and waits for its own outcome; a conflict or duplicate in another commit of
    /// the same batch does not affect it.
    pub async fn append(&self, commit: Commit) -> Result<AppendOutcome, StoreError> {
        let (reply, response) = oneshot::channel();
        self.tx
            .send((commit, reply))
            .await
            .map_err(|_| StoreError::AppenderClosed)?;
        response.await.map_err(|_| StoreError::AppenderClosed)?
    }
}
