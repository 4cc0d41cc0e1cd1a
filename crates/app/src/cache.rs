//! Hot stream state kept in memory, validated by stream version: an append with the cached
//! version as its expectation fails on a stale entry, which is then dropped and reloaded.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

const SHARDS: usize = 64;

pub struct StateCache<S> {
    shards: Vec<Mutex<HashMap<String, (i64, S)>>>,
    max_per_shard: usize,
    hasher: RandomState,
}

impl<S: Clone> StateCache<S> {
    /// Holds at most about `capacity` streams; past that, arbitrary entries are evicted.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            max_per_shard: (capacity / SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, stream: &str) -> &Mutex<HashMap<String, (i64, S)>> {
        let i = (self.hasher.hash_one(stream) as usize) % SHARDS;
        &self.shards[i]
    }

    pub fn get(&self, stream: &str) -> Option<(i64, S)> {
        self.shard(stream).lock().get(stream).cloned()
    }

    /// Stores a state unless a newer version is already cached.
    pub fn put(&self, stream: &str, version: i64, state: S) {
        let mut shard = self.shard(stream).lock();
        if shard.get(stream).is_some_and(|(v, _)| *v > version) {
            return;
        }
        if shard.len() >= self.max_per_shard && !shard.contains_key(stream) {
            let victim = shard.keys().next().cloned();
            if let Some(victim) = victim {
                shard.remove(&victim);
            }
        }
        shard.insert(stream.to_string(), (version, state));
    }

    pub fn invalidate(&self, stream: &str) {
        self.shard(stream).lock().remove(stream);
    }
}
