//! Point reads that arrive together share one query.
//!
//! On PostgreSQL a read by primary key costs the database's backend and the
//! driver far more per statement than per row: under load, most of a
//! `GetCustomer` went to carrying one statement to the database and back.
//! A [`Coalescer`] lets up to `max_in_flight` batch queries run at once;
//! a read that finds one free starts a batch of itself (and of whatever is
//! waiting) at once, so an idle server adds no wait. Reads that arrive
//! while every slot is busy wait, and the next batch to start takes them
//! all (up to `max_batch` of them) in one query.
//!
//! A batch runs on a task of its own, so a caller that goes away (a
//! cancelled request) never takes the other callers' answers with it, and
//! its read is dropped from the queue rather than fetched. The queue holds
//! at most 32 batches' worth of reads; beyond that the database is not
//! keeping up, and a read fails at once as overloaded. A
//! batch starts after each of its callers asked, so every answer reflects
//! at least what was committed before its caller asked: the same as a read
//! of its own.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

/// One batch's answer: the found values by key (a key not found is absent).
pub type BatchFuture<K, V, E> = Pin<Box<dyn Future<Output = Result<Vec<(K, V)>, E>> + Send>>;

/// Reads the values of a batch of distinct keys.
pub type Fetch<K, V, E> = Arc<dyn Fn(Vec<K>) -> BatchFuture<K, V, E> + Send + Sync>;

type Answer<V, E> = oneshot::Sender<Result<Option<V>, E>>;

/// Shares one query among the point reads that arrive together.
pub struct Coalescer<K, V, E> {
    inner: Arc<Inner<K, V, E>>,
}

impl<K, V, E> Clone for Coalescer<K, V, E> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V, E> std::fmt::Debug for Coalescer<K, V, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("max_in_flight", &self.inner.max_in_flight)
            .field("max_batch", &self.inner.max_batch)
            .finish_non_exhaustive()
    }
}

struct Inner<K, V, E> {
    fetch: Fetch<K, V, E>,
    max_in_flight: usize,
    max_batch: usize,
    state: Mutex<State<K, V, E>>,
}

struct State<K, V, E> {
    waiting: Vec<(K, Answer<V, E>)>,
    in_flight: usize,
}

impl<K, V, E> Inner<K, V, E> {
    fn state(&self) -> MutexGuard<'_, State<K, V, E>> {
        // Nothing under the lock can panic half-way through a change, so a
        // poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next batch off the queue (at most `max_batch` callers).
    fn take(&self, state: &mut State<K, V, E>) -> Vec<(K, Answer<V, E>)> {
        let n = state.waiting.len().min(self.max_batch);
        state.waiting.drain(..n).collect()
    }
}

/// The failures a read can meet besides its batch's own.
pub trait BatchError {
    /// Its batch's task ended without answering (it panicked, or the
    /// runtime is shutting down).
    fn abandoned() -> Self;
    /// Too many reads already wait (the database has stalled).
    fn overloaded() -> Self;
}

/// Reads that may wait, in batches' worth: beyond this the database is not
/// keeping up, and a caller is better told so at once than queued.
const WAITING_BATCHES: usize = 32;

impl<K, V, E> Coalescer<K, V, E>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + BatchError + Send + 'static,
{
    /// Reads through `fetch`, at most `max_in_flight` batches at once, each
    /// of at most `max_batch` keys (both at least 1).
    pub fn new(fetch: Fetch<K, V, E>, max_in_flight: usize, max_batch: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                fetch,
                max_in_flight: max_in_flight.max(1),
                max_batch: max_batch.max(1),
                state: Mutex::new(State {
                    waiting: Vec::new(),
                    in_flight: 0,
                }),
            }),
        }
    }

    /// The value of `key`, read in the next batch to start.
    pub async fn load(&self, key: K) -> Result<Option<V>, E> {
        let (answer, answered) = oneshot::channel();
        let batch = {
            let mut state = self.inner.state();
            if state.waiting.len() >= self.inner.max_batch * WAITING_BATCHES {
                forget_the_gone(&mut state);
                if state.waiting.len() >= self.inner.max_batch * WAITING_BATCHES {
                    return Err(E::overloaded());
                }
            }
            state.waiting.push((key, answer));
            if state.in_flight < self.inner.max_in_flight {
                state.in_flight += 1;
                Some(self.inner.take(&mut state))
            } else {
                None
            }
        };
        if let Some(batch) = batch {
            // The slot exists before the task first runs, so it is given
            // back even if the task is dropped unpolled (runtime shutdown).
            let slot = Slot {
                inner: Arc::clone(&self.inner),
                held: true,
            };
            tokio::spawn(run(slot, batch));
        }
        answered.await.unwrap_or_else(|_| Err(E::abandoned()))
    }

    /// Reads waiting for a batch slot.
    pub fn waiting(&self) -> usize {
        self.inner.state().waiting.len()
    }
}

/// Drops the waiting reads whose callers went away (a cancelled request):
/// nobody would read their answers.
fn forget_the_gone<K, V, E>(state: &mut State<K, V, E>) {
    state.waiting.retain(|(_, to)| !to.is_closed());
}

/// A batch slot held by a task. If the task ends without giving it back
/// itself (a panic, or dropped at runtime shutdown), the slot goes to a
/// new task for the reads that wait, so none is stranded, or back to the
/// free slots.
struct Slot<K, V, E>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    inner: Arc<Inner<K, V, E>>,
    held: bool,
}

impl<K, V, E> Drop for Slot<K, V, E>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let runtime = tokio::runtime::Handle::try_current();
        let mut state = self.inner.state();
        forget_the_gone(&mut state);
        match runtime {
            Ok(runtime) if !state.waiting.is_empty() => {
                let batch = self.inner.take(&mut state);
                drop(state);
                let next = Slot {
                    inner: Arc::clone(&self.inner),
                    held: true,
                };
                runtime.spawn(run(next, batch));
            }
            _ => state.in_flight -= 1,
        }
    }
}

/// Runs `batch`, then whatever waited meanwhile, until nothing waits.
async fn run<K, V, E>(mut slot: Slot<K, V, E>, mut batch: Vec<(K, Answer<V, E>)>)
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    let inner = Arc::clone(&slot.inner);
    loop {
        let mut keys: Vec<K> = Vec::with_capacity(batch.len());
        for (key, _) in &batch {
            // At most `max_batch` keys: the quadratic search stays small.
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        let found = (inner.fetch)(keys).await;
        answer(batch, found);
        let mut state = inner.state();
        forget_the_gone(&mut state);
        if state.waiting.is_empty() {
            // Freed under the same lock that a newcomer checks, so no
            // caller is left waiting with every slot counted busy.
            state.in_flight -= 1;
            slot.held = false;
            return;
        }
        batch = inner.take(&mut state);
    }
}

fn answer<K, V, E>(batch: Vec<(K, Answer<V, E>)>, found: Result<Vec<(K, V)>, E>)
where
    K: Eq + Hash,
    V: Clone,
    E: Clone,
{
    match found {
        Ok(rows) => {
            let by_key: HashMap<K, V> = rows.into_iter().collect();
            for (key, to) in batch {
                // A caller that went away no longer listens; nothing to do.
                let _ = to.send(Ok(by_key.get(&key).cloned()));
            }
        }
        Err(e) => {
            for (_, to) in batch {
                let _ = to.send(Err(e.clone()));
            }
        }
    }
}

impl BatchError for sea_orm::DbErr {
    fn abandoned() -> Self {
        sea_orm::DbErr::Custom("a batched read ended without an answer".to_owned())
    }

    fn overloaded() -> Self {
        // What a pool that cannot hand out a connection in time says: the
        // caller sees UNAVAILABLE and may retry.
        sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
    }
}
