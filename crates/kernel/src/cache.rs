//! A small time-bounded cache for values read on every request (the state of
//! a caller's session, user and partner). Writers that change such state call
//! [`TtlCache::invalidate_all`], so this process sees the change at once; other
//! server processes see it within the time-to-live.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Entries beyond this are dropped wholesale; the cache refills from the database.
const MAX_ENTRIES: usize = 100_000;

/// A map whose entries expire `ttl` after they were stored.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value for `key`, if stored less than `ttl` ago.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    /// Stores `value` for `key`.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets everything.
    pub fn invalidate_all(&self) {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_expires_and_invalidates() {
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.put(1, "a");
        assert_eq!(cache.get(&1), Some("a"));
        cache.invalidate_all();
        assert_eq!(cache.get(&1), None);
        cache.put(2, "b");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&2), None);
    }
}
