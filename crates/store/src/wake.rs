//! Wake-ups for subscribers. Appends never NOTIFY inside their transaction (that serialises
//! commits); instead the appender signals in-process after commit, and a relay sends one
//! coalesced NOTIFY for other processes. Subscribers also poll, since a NOTIFY is lost while a
//! listener reconnects.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::watch;

/// The PostgreSQL channel the relay NOTIFYs and listeners LISTEN on.
pub const CHANNEL: &str = "loyalty_events";

/// Counters bumped when something was appended: `local` by this process's commits only (what
/// the relay forwards, so a relayed NOTIFY never echoes back into another NOTIFY), `any` by
/// local commits and by NOTIFYs from other processes (what subscribers watch).
#[derive(Clone)]
pub struct Wake {
    local: watch::Sender<u64>,
    any: watch::Sender<u64>,
}

impl Default for Wake {
    fn default() -> Self {
        Self {
            local: watch::channel(0).0,
            any: watch::channel(0).0,
        }
    }
}

fn bump(counter: &watch::Sender<u64>) {
    counter.send_modify(|n| *n = n.wrapping_add(1));
}

impl Wake {
    /// This process appended.
    pub fn signal(&self) {
        bump(&self.local);
        bump(&self.any);
    }

    /// Changes whenever anything was appended, here or (through the relay) in another process.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.any.subscribe()
    }

    /// Relays local appends to other processes: at most one NOTIFY per `min_interval`.
    pub fn spawn_notify_relay(
        &self,
        pool: PgPool,
        min_interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let mut rx = self.local.subscribe();
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
        let any = self.any.clone();
        tokio::spawn(async move {
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            while listener.recv().await.is_ok() {
                                bump(&any);
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
