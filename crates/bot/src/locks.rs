//! Session-level advisory locks of many workers held on one database connection: a process
//! running a hundred program bots spends one connection on their notifiers' locks, not a
//! hundred (PostgreSQL's default `max_connections` is 100).
//!
//! Within the process the session keeps its own list of held keys, because PostgreSQL lets one
//! session take the same lock twice and two workers of the process must not both run.

use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashSet;
use std::sync::Arc;

/// One connection and the advisory locks taken on it.
pub struct LockSession {
    pool: PgPool,
    session: tokio::sync::Mutex<Session>,
}

struct Session {
    conn: Option<PgConnection>,
    held: HashSet<i64>,
}

/// A lock taken through a [`LockSession`]; released by [`HeldLock::release`], or soon after it
/// is dropped (a worker that stopped without shutting down).
pub struct HeldLock {
    session: Arc<LockSession>,
    key: i64,
    released: bool,
}

impl LockSession {
    /// Connects on the first lock and closes when it holds none.
    pub fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(LockSession {
            pool,
            session: tokio::sync::Mutex::new(Session {
                conn: None,
                held: HashSet::new(),
            }),
        })
    }

    /// Takes `key` unless a worker of this process or another session holds it.
    pub async fn try_lock(self: &Arc<Self>, key: i64) -> Result<Option<HeldLock>, sqlx::Error> {
        let mut session = self.session.lock().await;
        if session.held.contains(&key) {
            return Ok(None);
        }
        let conn = match &mut session.conn {
            Some(conn) => conn,
            empty => empty.insert(PgConnection::connect_with(&self.pool.connect_options()).await?),
        };
        let locked = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await;
        match locked {
            Ok(true) => {
                session.held.insert(key);
                Ok(Some(HeldLock {
                    session: self.clone(),
                    key,
                    released: false,
                }))
            }
            Ok(false) => {
                session.close_if_idle().await;
                Ok(None)
            }
            Err(e) => {
                // A broken connection holds nothing any more: the next lock reconnects.
                session.conn = None;
                session.held.clear();
                Err(e)
            }
        }
    }

    /// Keys this process holds through the session.
    pub async fn held(&self) -> usize {
        self.session.lock().await.held.len()
    }

    async fn unlock(&self, key: i64) {
        let mut session = self.session.lock().await;
        if !session.held.remove(&key) {
            return;
        }
        if let Some(conn) = &mut session.conn {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, key, "could not release an advisory lock");
                session.conn = None;
                session.held.clear();
            }
        }
        session.close_if_idle().await;
    }
}

impl Session {
    async fn close_if_idle(&mut self) {
        if self.held.is_empty()
            && let Some(conn) = self.conn.take()
        {
            let _ = conn.close().await;
        }
    }
}

impl HeldLock {
    /// Releases the lock now (the server would drop a closed session's locks only a little
    /// later).
    pub async fn release(mut self) {
        self.released = true;
        self.session.unlock(self.key).await;
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (session, key) = (self.session.clone(), self.key);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { session.unlock(key).await });
        }
    }
}
