//! What the Mini App asks on every request, remembered briefly so the hot read paths
//! (leaderboards, balance) need no database round trip: who a Telegram user is (their member
//! and the program's context) and the names shown beside ranks. Both change rarely and are
//! harmless when a few seconds old; nothing that decides or appends reads from here.

use crate::app::ProgramContext;
use domain::ids::MemberId;
use quick_cache::sync::Cache;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a caller's member and program context are reused.
const CALLER_TTL: Duration = Duration::from_secs(10);
/// How long a shown name is reused (people rename themselves; their own change shows at once).
const NAME_TTL: Duration = Duration::from_secs(30);
const MAX_CALLERS: usize = 100_000;
const MAX_NAMES: usize = 500_000;

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

    /// The value stored under `key` if it is fresher than the TTL at `now` (one clock read
    /// serves a whole request's lookups).
    fn get(&self, key: &K, now: Instant) -> Option<V> {
        let (stored, value) = self.entries.get(key)?;
        (now.saturating_duration_since(stored) < self.ttl).then_some(value)
    }

    fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (Instant::now(), value));
    }

    fn remove(&self, key: &K) {
        self.entries.remove(key);
    }
}

#[derive(Clone)]
pub struct MiniAppCache {
    callers: Expiring<(Uuid, i64), (Arc<ProgramContext>, MemberId)>,
    names: Expiring<(Uuid, Uuid), Option<Arc<str>>>,
}

impl Default for MiniAppCache {
    fn default() -> Self {
        Self {
            callers: Expiring::new(MAX_CALLERS, CALLER_TTL),
            names: Expiring::new(MAX_NAMES, NAME_TTL),
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

    /// The shown name of a member (`Some(None)`: known to have none), if seen lately.
    pub fn name(&self, program: Uuid, member: Uuid, now: Instant) -> Option<Option<Arc<str>>> {
        self.names.get(&(program, member), now)
    }

    pub fn remember_name(&self, program: Uuid, member: Uuid, name: Option<Arc<str>>) {
        self.names.insert((program, member), name);
    }

    /// Forgets a member's name at once (they just changed their profile here).
    pub fn forget_name(&self, program: Uuid, member: Uuid) {
        self.names.remove(&(program, member));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache: Expiring<u8, &str> = Expiring::new(10, Duration::from_millis(30));
        cache.insert(1, "one");
        assert_eq!(cache.get(&1, Instant::now()), Some("one"));
        cache.remove(&1);
        assert_eq!(cache.get(&1, Instant::now()), None);
        cache.insert(2, "two");
        assert_eq!(cache.get(&2, Instant::now()), Some("two"));
        let later = Instant::now() + Duration::from_millis(40);
        assert_eq!(cache.get(&2, later), None);
    }
}
