//! The password-hashing seam. The gateway implements [`PasswordHasher`]
//! (Argon2id); accounts only stores the PHC strings it produces.
//!
//! [`Passwords`] runs the hasher on the blocking pool under two bounds. Each
//! Argon2id call takes tens of milliseconds of a core and 19 MiB of memory:
//!
//! - **Slots.** At most `slots` calls run at once. The slot is moved into the
//!   blocking closure, so it is released when the hash *finishes*, not when
//!   the request that asked for it goes away: a client that cancels (or a
//!   deadline that fires) cannot let more hashes run than there are slots.
//! - **A bounded queue.** At most `queue` requests wait for a slot. The next
//!   one is refused at once with [`HashingError::Busy`] (`RESOURCE_EXHAUSTED`
//!   with a retry delay) instead of waiting without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

/// Hashes and verifies passwords. All calls are CPU- and memory-heavy by
/// design: use them through [`Passwords`], never on the async workers.
pub trait PasswordHasher: Send + Sync + std::fmt::Debug + 'static {
    /// A self-describing hash (PHC string) of `password` with a fresh salt.
    fn hash(&self, password: &str) -> Result<String, String>;
    /// True when `password` matches `hash`.
    fn verify(&self, password: &str, hash: &str) -> bool;
    /// Spends the time of one verification and fails: used for unknown users,
    /// so that they cost what a wrong password costs.
    fn verify_nobody(&self, password: &str) -> bool;
}

/// Why a hash was not computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashingError {
    /// Every slot is taken and the queue is full; try again after the delay.
    #[error("password hashing is busy")]
    Busy {
        /// When a retry may find room.
        retry_after: Duration,
    },
    /// The hasher failed or its task died.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// How long a refused caller is told to wait: about the time the queue in
/// front of it takes to drain at typical Argon2id speed.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The limits of [`Passwords`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once (one per core is the sensible most).
    pub slots: usize,
    /// Requests waiting for a slot before new ones are refused.
    pub queue: usize,
}

/// Bounded, off-the-runtime access to a [`PasswordHasher`].
#[derive(Debug, Clone)]
pub struct Passwords {
    hasher: Arc<dyn PasswordHasher>,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// A place in the queue; dropping it (the hash started, or the caller went
/// away while waiting) frees the place.
struct QueuePlace(Arc<AtomicUsize>);

impl Drop for QueuePlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Passwords {
    /// Hashing under `limits` (at least one slot).
    pub fn new(hasher: Arc<dyn PasswordHasher>, limits: HashingLimits) -> Self {
        Self {
            hasher,
            slots: Arc::new(Semaphore::new(limits.slots.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: limits.queue,
        }
    }

    /// Reserves a place in the queue, or refuses at once with `Busy` when it
    /// is full. Callers that write something for an attempt (a sign-in
    /// charges its throttle) reserve first, so a refused attempt writes
    /// nothing.
    pub fn reserve(&self) -> Result<Reserved, HashingError> {
        let taken = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_waiting).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Reserved {
                passwords: self.clone(),
                _place: QueuePlace(self.waiting.clone()),
            }),
            Err(_) => Err(HashingError::Busy {
                retry_after: BUSY_RETRY_AFTER,
            }),
        }
    }

    /// Hashes `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        self.reserve()?.hash(password).await
    }

    /// Checks `password` against `hash`; with no hash (unknown user) spends the
    /// same time and fails.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, HashingError> {
        self.reserve()?.verify(password, hash).await
    }
}

/// A place in the queue of [`Passwords`], spent by one hash or verification.
pub struct Reserved {
    passwords: Passwords,
    _place: QueuePlace,
}

impl Reserved {
    async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let Reserved { passwords, _place } = self;
        let slot = passwords
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashingError::Failed(e.to_string()))?;
        // Running now: the place in the queue goes to the next caller.
        drop(_place);
        let hasher = passwords.hasher.clone();
        tokio::task::spawn_blocking(move || {
            // Held until the hash is done, whatever became of the request.
            let _slot = slot;
            f(hasher.as_ref())
        })
        .await
        .map_err(|e| HashingError::Failed(e.to_string()))
    }

    /// Hashes `password`.
    pub async fn hash(self, password: String) -> Result<String, HashingError> {
        self.run(move |h| h.hash(&password))
            .await?
            .map_err(HashingError::Failed)
    }

    /// See [`Passwords::verify`].
    pub async fn verify(
        self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, HashingError> {
        self.run(move |h| match hash {
            Some(hash) => h.verify(&password, &hash),
            None => h.verify_nobody(&password),
        })
        .await
    }
}

impl std::fmt::Debug for Reserved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reserved")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A hasher that takes `delay` of a blocking thread and records how many
    /// of its calls ran at once.
    #[derive(Debug, Default)]
    struct SlowHasher {
        delay: Duration,
        running: AtomicUsize,
        peak: AtomicUsize,
        finished: AtomicUsize,
        log: Mutex<Vec<usize>>,
    }

    impl SlowHasher {
        fn work(&self) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            if let Ok(mut log) = self.log.lock() {
                log.push(now);
            }
            std::thread::sleep(self.delay);
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl PasswordHasher for SlowHasher {
        fn hash(&self, _: &str) -> Result<String, String> {
            self.work();
            Ok("hash".into())
        }
        fn verify(&self, _: &str, _: &str) -> bool {
            self.work();
            false
        }
        fn verify_nobody(&self, _: &str) -> bool {
            self.work();
            false
        }
    }

    fn passwords(hasher: &Arc<SlowHasher>, slots: usize, queue: usize) -> Passwords {
        let dyn_hasher: Arc<dyn PasswordHasher> = hasher.clone();
        Passwords::new(dyn_hasher, HashingLimits { slots, queue })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_calls_never_run_more_hashes_than_slots() {
        let hasher = Arc::new(SlowHasher {
            delay: Duration::from_millis(30),
            ..SlowHasher::default()
        });
        let passwords = passwords(&hasher, 2, 1000);
        // 200 callers that give up after 5 ms, long before their hash ends.
        let mut calls = Vec::new();
        for _ in 0..200 {
            let p = passwords.clone();
            calls.push(tokio::spawn(async move {
                tokio::time::timeout(
                    Duration::from_millis(5),
                    p.verify("x".into(), Some("h".into())),
                )
                .await
            }));
        }
        for call in calls {
            assert!(call.await.is_ok_and(|r| r.is_err()), "every caller gave up");
        }
        // Everything that started finishes in the background, two at a time.
        while hasher.running.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            hasher.peak.load(Ordering::SeqCst) <= 2,
            "peak {:?}",
            hasher.log
        );
        // Callers that gave up while still queued never started a hash.
        assert!(hasher.finished.load(Ordering::SeqCst) < 200);
        // The slots came back: a new call runs.
        assert_eq!(passwords.verify("x".into(), None).await, Ok(false));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_frees_up_again() {
        let hasher = Arc::new(SlowHasher {
            delay: Duration::from_millis(200),
            ..SlowHasher::default()
        });
        let passwords = passwords(&hasher, 1, 2);
        let mut running = Vec::new();
        // One runs, two wait.
        for _ in 0..3 {
            let p = passwords.clone();
            running.push(tokio::spawn(async move { p.hash("x".into()).await }));
        }
        while hasher.running.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        let refused = passwords.hash("x".into()).await;
        assert_eq!(
            refused,
            Err(HashingError::Busy {
                retry_after: BUSY_RETRY_AFTER
            })
        );
        assert!(passwords.reserve().is_err());
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "refused at once"
        );
        for r in running {
            assert_eq!(r.await.ok(), Some(Ok("hash".to_owned())));
        }
        assert!(passwords.reserve().is_ok());
        assert_eq!(hasher.peak.load(Ordering::SeqCst), 1);
    }
}
