//! Wake-ups for subscribers. Appends never NOTIFY inside their transaction (that serialises
//! commits); instead the appender signals in-process after commit, and a relay sends one
//! coalesced NOTIFY for other processes. Subscribers also poll, since a NOTIFY is lost while a
//! listener reconnects.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::watch;

pub const CHANNEL: &str = "loyalty_events";

/// A counter bumped after every commit that appended something.
#[derive(Clone)]
pub struct Wake {
    tx: watch::Sender<u64>,
}

impl Default for Wake {
    fn default() -> Self {
        Self {
            tx: watch::channel(0).0,
        }
    }
}

impl Wake {
    pub fn signal(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Relays local appends to other processes: at most one NOTIFY per `min_interval`.
    pub fn spawn_notify_relay(
        &self,
        pool: PgPool,
        min_interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let mut rx = self.subscribe();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(CHANNEL)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "could not send the append notification");
                }
                tokio::time::sleep(min_interval).await;
            }
        })
    }

    /// Turns NOTIFYs from other processes into local wake-ups, reconnecting on failure.
    pub fn spawn_listener(&self, pool: PgPool) -> tokio::task::JoinHandle<()> {
        let wake = self.clone();
        tokio::spawn(async move {
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            while listener.recv().await.is_ok() {
                                wake.signal();
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "append listener cannot connect"),
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }
}
