//! Usernames and display names seen on webhooks go to the `profiles` table, keyed by the
//! account's reference (personal data stays out of events; erasing the account's
//! `external_accounts` row deletes its profile). Written when they change
//! and at most once a minute when they do not, so a busy commenter costs one write, not one per
//! comment; the writes of concurrent deliveries go together, one statement for all that are
//! waiting. A delivery is answered only after its profile is stored.

use domain::ids::{AccountRef, ProgramId};
use quick_cache::sync::Cache;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

const MAX_REMEMBERED: usize = 200_000;
/// Most profiles written in one statement.
const MAX_BATCH: usize = 256;

/// An unchanged name is written again after this long: another process (or the bot, or the
/// Mini App) may have stored a different one since, and this bounds how long it stays.
const REWRITE_AFTER: Duration = Duration::from_secs(60);

/// Username, display name, language code.
type Names = (Option<String>, Option<String>, Option<String>);
/// What this process stored last per account, and when.
type Written = Cache<AccountRef, (Names, Instant)>;

struct Pending {
    profile: Profile,
    stored: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct ProfileWriter {
    written: Arc<Written>,
    queue: mpsc::Sender<Pending>,
}

impl ProfileWriter {
    /// Starts the task that writes queued profiles; it ends when the last writer is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        let (queue, pending) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(pool, pending));
        Self {
            written: Arc::new(Cache::new(MAX_REMEMBERED)),
            queue,
        }
    }

    /// Stores an account's names (and Telegram language) unless they are the ones stored last;
    /// returns once stored.
    pub async fn record(
        &self,
        program_id: ProgramId,
        account: AccountRef,
        username: Option<&str>,
        display_name: Option<&str>,
        language_code: Option<&str>,
    ) -> Result<(), String> {
        if username.is_none() && display_name.is_none() && language_code.is_none() {
            return Ok(());
        }
        let key = account;
        let value = (
            username.map(str::to_string),
            display_name.map(str::to_string),
            language_code.map(str::to_string),
        );
        if !needs_write(self.written.get(&key).as_ref(), &value, Instant::now()) {
            return Ok(());
        }
        let profile = Profile {
            program_id: program_id.0,
            account,
            username: value.0.clone(),
            display_name: value.1.clone(),
            language_code: value.2.clone(),
        };
        let (stored, done) = oneshot::channel();
        self.queue
            .send(Pending { profile, stored })
            .await
            .map_err(|_| "the profile writer has stopped".to_string())?;
        done.await
            .map_err(|_| "the profile writer has stopped".to_string())??;
        self.written.insert(key, (value, Instant::now()));
        Ok(())
    }
}

/// Whether `value` must be written, given what this process stored last for the account.
fn needs_write(stored: Option<&(Names, Instant)>, value: &Names, now: Instant) -> bool {
    stored.is_none_or(|(names, at)| {
        names != value || now.saturating_duration_since(*at) >= REWRITE_AFTER
    })
}

/// Writes whatever is waiting in one statement, then tells each waiter how it went.
async fn write_batches(pool: PgPool, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (profiles, waiters): (Vec<Profile>, Vec<_>) =
            batch.drain(..).map(|p| (p.profile, p.stored)).unzip();
        let result = upsert_profiles(&pool, &profiles)
            .await
            .map_err(|e| e.to_string());
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_written_when_new_changed_or_a_minute_old() {
        let anna: Names = (Some("anna".into()), Some("Анна".into()), None);
        let renamed: Names = (Some("anna".into()), Some("Анна С.".into()), None);
        let then = Instant::now();
        let stored = (anna.clone(), then);
        assert!(needs_write(None, &anna, then));
        assert!(!needs_write(
            Some(&stored),
            &anna,
            then + Duration::from_secs(59)
        ));
        assert!(needs_write(Some(&stored), &renamed, then));
        assert!(needs_write(Some(&stored), &anna, then + REWRITE_AFTER));
    }
}

/// What a surface learns about an account (from a webhook, the bot or the Mini App), never
/// from events: the `profiles` table, written only here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub program_id: Uuid,
    pub account: AccountRef,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// Telegram's `language_code` of the account; none keeps the one stored.
    pub language_code: Option<String>,
}

/// Records the latest username and display name seen for an account.
pub async fn upsert_profile(pool: &PgPool, profile: &Profile) -> sqlx::Result<()> {
    upsert_profiles(pool, std::slice::from_ref(profile)).await
}

/// Records many accounts' latest names in one statement; for an account listed twice, the
/// later entry wins. An account erased meanwhile (no `external_accounts` row) gets none.
pub async fn upsert_profiles(pool: &PgPool, profiles: &[Profile]) -> sqlx::Result<()> {
    // One statement cannot update a row twice: keep each account's last entry.
    let mut last: HashMap<AccountRef, &Profile> = HashMap::new();
    for p in profiles {
        last.insert(p.account, p);
    }
    let rows: Vec<&Profile> = last.into_values().collect();
    // Accounts erased meanwhile are skipped. A scalar subquery, one index probe per row: as a
    // join (or EXISTS) the planner guesses 100 rows for UNNEST and hashes all of
    // `external_accounts`, ten times the cost of the insert itself at 20,000 accounts.
    sqlx::query(
        "INSERT INTO profiles (account_ref, program_id, username, display_name, language_code, updated_at) \
         SELECT t.r, t.p, t.u, t.d, t.l, now() \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS t(p, r, u, d, l) \
         WHERE (SELECT true FROM external_accounts a WHERE a.account_ref = t.r) \
         ON CONFLICT (account_ref) DO UPDATE SET \
         username = EXCLUDED.username, display_name = EXCLUDED.display_name, \
         language_code = coalesce(EXCLUDED.language_code, profiles.language_code), updated_at = now()",
    )
    .bind(rows.iter().map(|p| p.program_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.account.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.username.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.display_name.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.language_code.as_deref()).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    Ok(())
}
