//! A small time-bounded cache for values read on every request (the state of
//! a caller's session, user and partner). Writers that change such state call
//! [`TtlCache::invalidate_all`], so this process sees the change at once; other
//! server processes see it within the time-to-live.
//!
//! A reader that missed takes a [`Ticket`] and stores what it read with it;
//! the store is dropped when the cache was invalidated in between, so a value
//! read before a change can never be written back after it.

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
    entries: RwLock<Entries<K, V>>,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, (V, Instant)>,
    /// Bumped by every invalidation.
    generation: u64,
}

/// The cache's generation when a lookup missed; see [`TtlCache::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Ticket(u64);

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
        }
    }

    /// The value for `key`, if stored less than `ttl` ago; else the ticket
    /// to store what the caller reads instead.
    pub fn lookup(&self, key: &K) -> Result<V, Ticket> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .map
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
            .ok_or(Ticket(entries.generation))
    }

    /// Stores `value` for `key`, unless the cache was invalidated since
    /// `ticket` was taken (the value may predate the change).
    pub fn put(&self, ticket: Ticket, key: K, value: V) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.generation != ticket.0 {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(key, (value, Instant::now()));
    }

    /// Forgets `key`, and every value read before now (a load in flight may
    /// hold the old value of `key`; its ticket no longer stores it).
    pub fn invalidate(&self, key: &K) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.map.remove(key);
        entries.generation = entries.generation.wrapping_add(1);
    }

    /// Forgets everything, and every value read before now.
    pub fn invalidate_all(&self) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.map.clear();
        entries.generation = entries.generation.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_expires_and_invalidates() {
        let cache = TtlCache::new(Duration::from_millis(50));
        let Err(ticket) = cache.lookup(&1) else {
            panic!("empty cache hit");
        };
        cache.put(ticket, 1, "a");
        assert_eq!(cache.lookup(&1), Ok("a"));
        cache.invalidate_all();
        let Err(ticket) = cache.lookup(&2) else {
            panic!("invalidated cache hit");
        };
        assert!(cache.lookup(&1).is_err());
        cache.put(ticket, 2, "b");
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.lookup(&2).is_err());
    }

    #[test]
    fn a_value_read_before_an_invalidation_is_not_stored_after_it() {
        let cache = TtlCache::new(Duration::from_secs(60));
        let Err(stale) = cache.lookup(&1) else {
            panic!("empty cache hit");
        };
        // A writer changes the state and invalidates while the read runs.
        cache.invalidate_all();
        cache.put(stale, 1, "old");
        assert!(cache.lookup(&1).is_err(), "the stale value was dropped");
    }

    #[test]
    fn invalidating_one_key_keeps_the_others_and_drops_its_stale_load() {
        let cache = TtlCache::new(Duration::from_secs(60));
        for k in [1, 2] {
            let Err(ticket) = cache.lookup(&k) else {
                panic!("empty cache hit");
            };
            cache.put(ticket, k, "v");
        }
        let Err(stale) = cache.lookup(&3) else {
            panic!("empty cache hit");
        };
        cache.invalidate(&1);
        assert!(cache.lookup(&1).is_err());
        assert_eq!(cache.lookup(&2), Ok("v"));
        cache.put(stale, 3, "old");
        assert!(
            cache.lookup(&3).is_err(),
            "a load begun before is not stored"
        );
    }
}
