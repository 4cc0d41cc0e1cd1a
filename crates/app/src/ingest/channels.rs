//! Which program a platform destination belongs to.

use crate::cache::Expiring;
use crate::secrets::{SecretBox, channel_row};
use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use domain::network::Network;
use serde::Serialize;
use sqlx::PgPool;
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Channel {
    pub network: String,
    pub destination: String,
    pub program_id: Uuid,
    pub secret: Option<String>,
    pub confirmation: Option<String>,
}

impl Channel {
    pub fn program(&self) -> ProgramId {
        ProgramId(self.program_id)
    }
}

/// Channels change rarely and are read on every delivery: kept this long in memory.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Most destinations remembered (unknown ones too: they are asked about on every delivery).
const MAX_DESTINATIONS: usize = 100_000;

/// A channel's `last_delivery_at` is written at most this often by one process.
const NOTE_EVERY: Duration = Duration::from_secs(30);
/// Most channels whose last note is remembered.
const MAX_NOTED: usize = 10_000;

/// Channels of one database, cached briefly, with the keys of their secrets.
#[derive(Clone)]
pub struct ChannelCache {
    entries: Expiring<(Network, String), Option<Channel>>,
    noted: Expiring<(Network, String), ()>,
    secrets: SecretBox,
}

impl ChannelCache {
    pub fn new(secrets: SecretBox) -> Self {
        Self {
            entries: Expiring::new(MAX_DESTINATIONS, CACHE_TTL),
            noted: Expiring::new(MAX_NOTED, NOTE_EVERY),
            secrets,
        }
    }

    /// The keys channel secrets are sealed and opened with.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    pub async fn find(
        &self,
        pool: &PgPool,
        network: Network,
        destination: &str,
    ) -> sqlx::Result<Option<Channel>> {
        let key = (network, destination.to_string());
        if let Some(channel) = self.entries.get(&key) {
            return Ok(channel);
        }
        let channel = find(pool, &self.secrets, network, destination).await?;
        self.entries.insert(key, channel.clone());
        Ok(channel)
    }

    /// Drops what this process remembers of a destination (after its channel moved, or was
    /// connected or disconnected here).
    pub fn forget(&self, network: Network, destination: &str) {
        self.entries.remove(&(network, destination.to_string()));
    }

    /// A delivery reached the channel's program: `last_delivery_at` moves on, written in the
    /// background at most every 30 seconds per channel, so deliveries wait for nothing and a
    /// failure to write it fails none of them.
    pub fn note_delivery(&self, pool: &PgPool, network: Network, destination: &str) {
        let key = (network, destination.to_string());
        if self.noted.get(&key).is_some() {
            return;
        }
        self.noted.insert(key, ());
        let (pool, destination) = (pool.clone(), destination.to_string());
        tokio::spawn(async move {
            let noted = sqlx::query(
                "UPDATE channels SET last_delivery_at = now() \
                 WHERE network = $1 AND destination = $2",
            )
            .bind(network.as_str())
            .bind(&destination)
            .execute(&pool)
            .await;
            if let Err(e) = noted {
                tracing::warn!(%network, destination, error = %e, "could not note a delivery");
            }
        });
    }
}

/// The channel of a destination, its secret opened. A secret no configured key opens is left
/// out (logged): the channel then refuses every delivery, as with a wrong secret, and `serve`
/// does not start with one (`secrets::reseal_all`).
pub async fn find(
    pool: &PgPool,
    secrets: &SecretBox,
    network: Network,
    destination: &str,
) -> sqlx::Result<Option<Channel>> {
    let channel: Option<Channel> = sqlx::query_as(
        "SELECT network, destination, program_id, secret, confirmation FROM channels \
         WHERE network = $1 AND destination = $2",
    )
    .bind(network.as_str())
    .bind(destination)
    .fetch_optional(pool)
    .await?;
    Ok(channel.map(|mut channel| {
        if let Some(stored) = channel.secret.take() {
            let row = channel_row(&channel.network, &channel.destination);
            match secrets.open(&stored, &row) {
                Ok(secret) => channel.secret = Some(secret),
                Err(e) => tracing::error!(%network, destination, error = %e, "channel secret"),
            }
        }
        channel
    }))
}

/// Connects a destination to a program without the checks and the record of
/// `app::channels::connect`: for the demo, benches and tests.
pub async fn bind(
    pool: &PgPool,
    secrets: &SecretBox,
    network: Network,
    destination: &str,
    program_id: ProgramId,
    secret: Option<&str>,
    confirmation: Option<&str>,
) -> sqlx::Result<()> {
    let secret = secret.map(|s| secrets.seal(s, &channel_row(network.as_str(), destination)));
    sqlx::query(
        "INSERT INTO channels (network, destination, program_id, secret, confirmation) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (network, destination) DO UPDATE \
         SET program_id = EXCLUDED.program_id, secret = EXCLUDED.secret, \
             confirmation = EXCLUDED.confirmation",
    )
    .bind(network.as_str())
    .bind(destination)
    .bind(program_id.0)
    .bind(secret)
    .bind(confirmation)
    .execute(pool)
    .await?;
    Ok(())
}

/// Why a channel moved to a new destination id.
pub const TELEGRAM_SUPERGROUP: &str = "telegram_supergroup";

/// A channel that followed its destination to a new id.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChannelMove {
    pub network: String,
    pub program_id: Uuid,
    pub from_destination: String,
    pub to_destination: String,
    /// `telegram_supergroup`: the Telegram group became a supergroup with a new chat id.
    pub reason: String,
    pub moved_at: DateTime<Utc>,
}

/// Moves a Telegram chat's channel to the chat's new id (the group became a supergroup), and
/// records the move, in one statement. `None` when there is nothing to move: the old chat has
/// no channel (not a program's, or moved already by the other of the two migration messages),
/// or the new id has a channel of its own already.
pub async fn move_telegram_chat(
    pool: &PgPool,
    from: &str,
    to: &str,
) -> sqlx::Result<Option<ChannelMove>> {
    sqlx::query_as(
        "WITH moved AS ( \
           UPDATE channels SET destination = $2 \
           WHERE network = 'telegram' AND destination = $1 AND NOT EXISTS \
             (SELECT 1 FROM channels WHERE network = 'telegram' AND destination = $2) \
           RETURNING program_id) \
         INSERT INTO channel_moves (network, program_id, from_destination, to_destination, reason) \
         SELECT 'telegram', program_id, $1, $2, $3 FROM moved \
         RETURNING network, program_id, from_destination, to_destination, reason, moved_at",
    )
    .bind(from)
    .bind(to)
    .bind(TELEGRAM_SUPERGROUP)
    .fetch_optional(pool)
    .await
}

/// A program's channels, as (network, destination).
pub async fn of_program(
    pool: &PgPool,
    program_id: ProgramId,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT network, destination FROM channels WHERE program_id = $1 \
         ORDER BY network, destination",
    )
    .bind(program_id.0)
    .fetch_all(pool)
    .await
}

/// A program's channel moves, newest first.
pub async fn moves(
    pool: &PgPool,
    program_id: ProgramId,
    limit: i64,
) -> sqlx::Result<Vec<ChannelMove>> {
    sqlx::query_as(
        "SELECT network, program_id, from_destination, to_destination, reason, moved_at \
         FROM channel_moves WHERE program_id = $1 ORDER BY moved_at DESC, id DESC LIMIT $2",
    )
    .bind(program_id.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The member who was paid for an activity (or has it held for review), for deletions that
/// name no author.
pub async fn awarded_member(
    pool: &PgPool,
    program_id: ProgramId,
    reference: &str,
) -> sqlx::Result<Option<Uuid>> {
    // One branch per event type, so each uses its own partial index on the reference.
    sqlx::query_scalar(
        "SELECT member_id FROM ( \
           (SELECT (payload->>'member_id')::uuid AS member_id, position FROM events \
             WHERE event_type = 'PointsAwarded' AND payload #>> '{activity,reference}' = $1 \
               AND program_id = $2 ORDER BY position DESC LIMIT 1) \
           UNION ALL \
           (SELECT (payload->>'member_id')::uuid, position FROM events \
             WHERE event_type = 'AwardHeld' AND payload #>> '{activity,reference}' = $1 \
               AND program_id = $2 ORDER BY position DESC LIMIT 1) \
         ) awarded ORDER BY position DESC LIMIT 1",
    )
    .bind(reference)
    .bind(program_id.0)
    .fetch_optional(pool)
    .await
}
