//! Retention: records kept only for operations are deleted once they have done their job, so
//! the personal data in them (raw messages, addresses, who checked what) does not live forever.
//! The event log, the seal, the read models and configuration are never touched here.
//!
//! One job does all of it: `loyalty serve` runs [`run`] (every hour), `loyalty retention run`
//! runs [`purge_once`]. One purge at a time across processes: a transaction-scoped advisory
//! lock, and every table is purged in that one transaction.

use crate::config::RetentionConfig;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use std::fmt;
use tokio::sync::watch;

/// How often `serve` purges.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// An expired VK ID authorization is kept this long, so a late redirect is told "expired"
/// rather than "unknown" (`mini_app::pending` sweeps at the same age).
const VK_ID_GRACE: Duration = Duration::hours(1);

/// Which cut-off a table's age column is compared with.
#[derive(Clone, Copy)]
enum Cutoff {
    /// `retention_days` ago.
    Operational,
    /// `raw_update_retention_hours` ago.
    RawUpdates,
    /// Now: the row is expired and does nothing any more.
    Expired,
    /// [`VK_ID_GRACE`] ago.
    VkIdGrace,
}

/// Each purged table, the column that says how old a row is, and the cut-off: rows whose
/// column is before it are deleted.
const PURGES: &[(&str, &str, Cutoff)] = &[
    // Raw Telegram messages: only handled ones (pending ones are still work).
    ("bot_updates", "handled_at", Cutoff::RawUpdates),
    // No notification is announced for an entry older than a day
    // (`bot::notify::plan::MAX_AGE_HOURS`) and retention is at least a day, so a purged key
    // is never offered again.
    ("notification_deliveries", "settled_at", Cutoff::Operational),
    // Platforms redeliver within hours to a day or two; an award is still never paid twice
    // (one award per member and activity in the member stream).
    (
        "deliveries_without_effect",
        "recorded_at",
        Cutoff::Operational,
    ),
    ("unrouted_destinations", "last_seen", Cutoff::Operational),
    ("admin_login_failures", "failed_at", Cutoff::Operational),
    // An expired session signs nobody in.
    ("admin_sessions", "expires_at", Cutoff::Expired),
    // Used and cancelled codes expire too (a use comes before the expiry; a cancel moves it).
    ("link_codes", "expires_at", Cutoff::Operational),
    ("vk_id_pending", "expires_at", Cutoff::VkIdGrace),
    ("subscription_checks", "checked_at", Cutoff::Operational),
    // A past day's digest claim is never needed again (days only move forward).
    ("managers_digests", "claimed_at", Cutoff::Operational),
    // Only ended episodes: an open one is what keeps its alert from repeating.
    ("managers_alerts", "resolved_at", Cutoff::Operational),
];

/// Rows deleted per table by one purge, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// False when another process held the lock: nothing was looked at.
    pub ran: bool,
    pub deleted: Vec<(&'static str, u64)>,
}

impl PurgeReport {
    /// Rows deleted from `table` (0 for a table the job does not purge).
    pub fn deleted(&self, table: &str) -> u64 {
        self.deleted
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// `table=rows` for every purged table, one space apart.
impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.ran {
            return f.write_str("another process is purging; nothing done");
        }
        let mut first = true;
        for (table, rows) in &self.deleted {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{table}={rows}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// Settings outside their range (a purge with them could delete recent rows).
    #[error("{0}")]
    Settings(String),
    #[error("retention purge failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Deletes every record past its retention as of `now`, in one transaction, unless another
/// process is purging.
pub async fn purge_once(
    pool: &PgPool,
    settings: &RetentionConfig,
    now: DateTime<Utc>,
) -> Result<PurgeReport, PurgeError> {
    settings.validate().map_err(PurgeError::Settings)?;
    let ago = |age: Option<Duration>| {
        age.and_then(|age| now.checked_sub_signed(age))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let operational = ago(Duration::try_days(settings.days));
    let raw_updates = ago(Duration::try_hours(settings.raw_update_hours));
    let cutoff = |cutoff: Cutoff| match cutoff {
        Cutoff::Operational => operational,
        Cutoff::RawUpdates => raw_updates,
        Cutoff::Expired => now,
        Cutoff::VkIdGrace => ago(Some(VK_ID_GRACE)),
    };
    let mut tx = pool.begin().await?;
    if !crate::periodic::try_lock(&mut tx, "loyalty.retention").await? {
        return Ok(PurgeReport {
            ran: false,
            deleted: Vec::new(),
        });
    }
    let mut deleted = Vec::with_capacity(PURGES.len());
    for &(table, column, before) in PURGES {
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE {column} < $1"))
            .bind(cutoff(before))
            .execute(&mut *tx)
            .await?;
        deleted.push((table, done.rows_affected()));
    }
    let recipients = crate::broadcasts::purge_recipients(&mut tx, operational).await?;
    deleted.push(("broadcast_recipients", recipients));
    tx.commit().await?;
    Ok(PurgeReport { ran: true, deleted })
}

/// Purges now and then every [`EVERY`] until `shutdown`; logs one line when anything went.
pub async fn run(pool: PgPool, settings: RetentionConfig, shutdown: watch::Receiver<bool>) {
    let (pool, settings) = (&pool, &settings);
    crate::periodic::every(EVERY, shutdown, move || async move {
        match purge_once(pool, settings, Utc::now()).await {
            Ok(report) if report.total() > 0 => {
                tracing::info!(deleted = %report, "retention: old operational records deleted");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention purge failed; trying again later"),
        }
    })
    .await;
}

/// [`run`] on its own task.
pub fn spawn(
    pool: PgPool,
    settings: RetentionConfig,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(pool, settings, shutdown))
}
