//! In-process caches, all on quick_cache (sharded, bounded, CLOCK-Pro eviction, cheap reads):
//! hot stream state validated by stream version ([`StateCache`]), and values that are
//! harmless when a few seconds old ([`Expiring`]).

use quick_cache::sync::{Cache, EntryAction, EntryResult};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hot stream state: an append with the cached version as its expectation fails on a stale
/// entry, which is then dropped and reloaded.
/// Stream name → (version, state), bounded; quick_cache evicts the least used (CLOCK-Pro).
pub struct StateCache<S> {
    entries: Cache<String, (i64, S)>,
}

impl<S: Clone> StateCache<S> {
    /// Holds about `capacity` streams.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
        }
    }

    pub fn get(&self, stream: &str) -> Option<(i64, S)> {
        self.entries.get(stream)
    }

    /// Stores a state unless a newer version is already cached.
    pub fn put(&self, stream: &str, version: i64, state: S) {
        let mut state = Some(state);
        let occupied = |_: &String, cached: &mut (i64, S)| {
            if let Some(state) = state.take_if(|_| cached.0 <= version) {
                *cached = (version, state);
            }
            EntryAction::Retain(())
        };
        if let EntryResult::Vacant(slot) = self.entries.entry(stream, None, occupied) {
            // The closure did not run, so the state is still here.
            if let Some(state) = state.take() {
                let _ = slot.insert((version, state));
            }
        }
    }

    pub fn invalidate(&self, stream: &str) {
        self.entries.remove(stream);
    }
}

/// A bounded cache whose entries also expire a fixed time after they were stored. Cheap to
/// clone: clones share the entries.
#[derive(Clone)]
pub struct Expiring<K, V> {
    entries: Arc<Cache<K, (Instant, V)>>,
    ttl: Duration,
}

impl<K: Eq + Hash + Clone, V: Clone> Expiring<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: Arc::new(Cache::new(capacity.max(1))),
            ttl,
        }
    }

    /// The value stored under `key` if it is fresher than the TTL.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        self.get_at(key, Instant::now())
    }

    /// As [`Expiring::get`], looking from `now` (so a test can look from later).
    fn get_at<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        let (stored, value) = self.entries.get(key)?;
        (now.saturating_duration_since(stored) < self.ttl).then_some(value)
    }

    pub fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (Instant::now(), value));
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let cache: Expiring<u8, &str> = Expiring::new(10, Duration::from_millis(30));
        assert_eq!(cache.get(&2), None);
        cache.insert(2, "two");
        assert_eq!(cache.get(&2), Some("two"));
        let later = Instant::now() + Duration::from_millis(40);
        assert_eq!(cache.get_at(&2, later), None);
        cache.insert(2, "again");
        cache.remove(&2);
        assert_eq!(cache.get(&2), None);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let cache = StateCache::new(16);
        cache.put("member-1", 3, "three");
        cache.put("member-1", 2, "two");
        assert_eq!(cache.get("member-1"), Some((3, "three")));
        cache.put("member-1", 4, "four");
        assert_eq!(cache.get("member-1"), Some((4, "four")));
        cache.invalidate("member-1");
        assert_eq!(cache.get("member-1"), None);
        cache.put("member-1", 1, "one");
        assert_eq!(cache.get("member-1"), Some((1, "one")));
    }
}
