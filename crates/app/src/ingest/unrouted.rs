//! Deliveries no program receives: for a destination (Instagram brand account, VK group,
//! Telegram chat) without a channel, a VK group whose secret does not match, or an Instagram
//! delivery whose signature does not (recorded for the accounts its unverified body names). They are
//! answered like any other delivery (the platforms would retry them for hours and may switch
//! the subscription off), nothing of them is stored but the destination itself: counted in
//! `webhook_unrouted_total{network}`, logged once a minute per destination, and kept in
//! `unrouted_destinations` so a manager can see what to connect.

use chrono::{DateTime, Utc};
use domain::network::Network;
use parking_lot::Mutex;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// A destination is logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Destinations remembered for the log's throttle before it starts over.
const THROTTLE_LIMIT: usize = 10_000;
/// Most destinations kept in the table: a VK delivery is not signed, so anyone can name
/// groups; past this, only destinations already listed are counted.
const TABLE_LIMIT: i64 = 1_000;

/// Why a delivery reached no program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unrouted {
    /// No program has a channel for the destination.
    NoProgram,
    /// The VK group is a program's, but the delivery's secret key is not the channel's.
    WrongSecret,
    /// An Instagram delivery whose signature is not the app secret's, for this account (as
    /// the unverified body names it).
    BadSignature,
}

impl Unrouted {
    fn as_str(self) -> &'static str {
        match self {
            Unrouted::NoProgram => "no_program",
            Unrouted::WrongSecret => "wrong_secret",
            Unrouted::BadSignature => "bad_signature",
        }
    }
}

/// A destination and why its deliveries reached no program.
type Refusal = (Network, String, Unrouted);

/// When each destination was last logged.
#[derive(Clone, Default)]
pub struct UnroutedLog {
    logged: Arc<Mutex<HashMap<Refusal, Instant>>>,
}

impl UnroutedLog {
    /// Counts, logs (once a minute per destination) and keeps one delivery nobody receives.
    pub async fn record(
        &self,
        pool: &PgPool,
        network: Network,
        destination: &str,
        why: Unrouted,
    ) -> sqlx::Result<()> {
        let counter = match why {
            Unrouted::NoProgram => "webhook_unrouted_total",
            Unrouted::WrongSecret => "webhook_wrong_secret_total",
            Unrouted::BadSignature => "webhook_bad_signature_total",
        };
        metrics::counter!(counter, "network" => network.as_str()).increment(1);
        if self.due(network, destination, why) {
            tracing::warn!(
                %network,
                destination,
                reason = why.as_str(),
                "deliveries reach no program (logged once a minute per destination)"
            );
        }
        sqlx::query(
            "INSERT INTO unrouted_destinations AS u (network, destination, reason) \
             SELECT $1, $2, $3 \
             WHERE (SELECT count(*) FROM unrouted_destinations) < $4 \
                OR EXISTS (SELECT 1 FROM unrouted_destinations \
                           WHERE network = $1 AND destination = $2 AND reason = $3) \
             ON CONFLICT (network, destination, reason) DO UPDATE \
             SET deliveries = u.deliveries + 1, last_seen = now()",
        )
        .bind(network.as_str())
        .bind(destination)
        .bind(why.as_str())
        .bind(TABLE_LIMIT)
        .execute(pool)
        .await?;
        Ok(())
    }

    fn due(&self, network: Network, destination: &str, why: Unrouted) -> bool {
        let mut logged = self.logged.lock();
        let key = (network, destination.to_owned(), why);
        if logged.get(&key).is_some_and(|at| at.elapsed() < LOG_EVERY) {
            return false;
        }
        if logged.len() >= THROTTLE_LIMIT {
            logged.clear();
        }
        logged.insert(key, Instant::now());
        true
    }
}

/// A destination deliveries came for that no program received.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct UnroutedDestination {
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    /// Instagram brand account id, VK group id or Telegram chat id.
    pub destination: String,
    /// `no_program` (no channel for it), `wrong_secret` (a VK group's secret key differs) or
    /// `bad_signature` (an Instagram delivery not signed with the app secret).
    pub reason: String,
    /// Deliveries not received.
    pub deliveries: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// Recently unrouted destinations, newest first; a destination since connected to a program
/// is no longer listed as having none.
pub async fn list(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<UnroutedDestination>> {
    sqlx::query_as(
        "SELECT network, destination, reason, deliveries, first_seen, last_seen \
         FROM unrouted_destinations u \
         WHERE NOT (reason = 'no_program' AND EXISTS (SELECT 1 FROM channels c \
                    WHERE c.network = u.network AND c.destination = u.destination)) \
         ORDER BY last_seen DESC, network, destination LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_is_logged_once_a_minute_whatever_else_is() {
        let log = UnroutedLog::default();
        assert!(log.due(Network::Vk, "1", Unrouted::NoProgram));
        assert!(!log.due(Network::Vk, "1", Unrouted::NoProgram));
        assert!(log.due(Network::Vk, "2", Unrouted::NoProgram));
        assert!(log.due(Network::Vk, "1", Unrouted::WrongSecret));
        assert!(log.due(Network::Telegram, "1", Unrouted::NoProgram));
        log.logged
            .lock()
            .values_mut()
            .for_each(|at| *at = at.checked_sub(LOG_EVERY).expect("up for a minute"));
        assert!(
            log.due(Network::Vk, "1", Unrouted::NoProgram),
            "a minute on"
        );
    }
}
