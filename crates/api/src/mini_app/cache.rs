//! What the Mini App asks on every request, remembered briefly so the hot read paths
//! (leaderboards, balance) need no database round trip: who a Telegram user is (their member
//! and the program's context). It changes rarely and is harmless when a few seconds old;
//! nothing that decides or appends reads from here. The names shown beside ranks are not a
//! cache but a directory kept current per program (`app::names`).

use app::ProgramContext;
use domain::ids::MemberId;
use quick_cache::sync::Cache;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a caller's member and program context are reused.
const CALLER_TTL: Duration = Duration::from_secs(10);
const MAX_CALLERS: usize = 100_000;

/// A bounded cache (quick_cache: sharded, CLOCK eviction, cheap reads) whose entries also
/// expire after a fixed time.
#[derive(Clone)]
struct Expiring<K, V> {
    entries: Arc<Cache<K, (Instant, V)>>,
    ttl: Duration,
}

impl<K: Eq + Hash + Clone, V: Clone> Expiring<K, V> {
    fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: Arc::new(Cache::new(capacity)),
            ttl,
        }
    }

    /// The value stored under `key` if it is fresher than the TTL at `now` (given, so a test
    /// can look from later).
    fn get(&self, key: &K, now: Instant) -> Option<V> {
        let (stored, value) = self.entries.get(key)?;
        (now.saturating_duration_since(stored) < self.ttl).then_some(value)
    }

    fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (Instant::now(), value));
    }
}

#[derive(Clone)]
pub struct MiniAppCache {
    callers: Expiring<(Uuid, i64), (Arc<ProgramContext>, MemberId)>,
}

impl Default for MiniAppCache {
    fn default() -> Self {
        Self {
            callers: Expiring::new(MAX_CALLERS, CALLER_TTL),
        }
    }
}

impl MiniAppCache {
    /// The member and program context of a Telegram user, if seen within [`CALLER_TTL`].
    pub fn caller(
        &self,
        program: Uuid,
        telegram_user: i64,
    ) -> Option<(Arc<ProgramContext>, MemberId)> {
        self.callers.get(&(program, telegram_user), Instant::now())
    }

    pub fn remember_caller(
        &self,
        telegram_user: i64,
        program: &Arc<ProgramContext>,
        member: MemberId,
    ) {
        self.callers.insert(
            (program.program_id.0, telegram_user),
            (program.clone(), member),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let cache: Expiring<u8, &str> = Expiring::new(10, Duration::from_millis(30));
        assert_eq!(cache.get(&2, Instant::now()), None);
        cache.insert(2, "two");
        assert_eq!(cache.get(&2, Instant::now()), Some("two"));
        let later = Instant::now() + Duration::from_millis(40);
        assert_eq!(cache.get(&2, later), None);
    }
}
