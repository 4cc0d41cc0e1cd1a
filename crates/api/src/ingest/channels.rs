//! Which program a platform destination belongs to.

use domain::ids::ProgramId;
use domain::network::Network;
use parking_lot::Mutex;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

type CacheMap = HashMap<(Network, String), (Instant, Option<Channel>)>;

/// Channels of one database, cached briefly.
#[derive(Clone, Default)]
pub struct ChannelCache {
    map: Arc<Mutex<CacheMap>>,
}

impl ChannelCache {
    pub async fn find(
        &self,
        pool: &PgPool,
        network: Network,
        destination: &str,
    ) -> sqlx::Result<Option<Channel>> {
        let key = (network, destination.to_string());
        if let Some((at, channel)) = self.map.lock().get(&key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(channel.clone());
        }
        let channel = find(pool, network, destination).await?;
        self.map
            .lock()
            .insert(key, (Instant::now(), channel.clone()));
        Ok(channel)
    }
}

pub async fn find(
    pool: &PgPool,
    network: Network,
    destination: &str,
) -> sqlx::Result<Option<Channel>> {
    sqlx::query_as(
        "SELECT network, destination, program_id, secret, confirmation FROM channels \
         WHERE network = $1 AND destination = $2",
    )
    .bind(network.as_str())
    .bind(destination)
    .fetch_optional(pool)
    .await
}

pub async fn bind(
    pool: &PgPool,
    network: Network,
    destination: &str,
    program_id: ProgramId,
    secret: Option<&str>,
    confirmation: Option<&str>,
) -> sqlx::Result<()> {
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

/// The member who was paid for an activity, for deletions that name no author.
pub async fn awarded_member(
    pool: &PgPool,
    program_id: ProgramId,
    reference: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT (payload->>'member_id')::uuid FROM events \
         WHERE event_type = 'PointsAwarded' AND payload #>> '{activity,reference}' = $1 \
           AND program_id = $2 ORDER BY position DESC LIMIT 1",
    )
    .bind(reference)
    .bind(program_id.0)
    .fetch_optional(pool)
    .await
}
