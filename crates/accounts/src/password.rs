//! The password-hashing seam. The gateway implements [`PasswordHasher`]
//! (Argon2id); accounts only stores the PHC strings it produces.
//!
//! [`Passwords`] runs the hasher on the blocking pool behind a semaphore: each
//! Argon2id call takes tens of milliseconds of CPU and 19 MiB of memory, so a
//! burst of logins must queue rather than multiply both without bound.

use std::sync::Arc;

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

/// Bounded, off-the-runtime access to a [`PasswordHasher`].
#[derive(Debug, Clone)]
pub struct Passwords {
    hasher: Arc<dyn PasswordHasher>,
    permits: Arc<Semaphore>,
}

impl Passwords {
    /// At most `concurrency` hashes or verifications run at once.
    pub fn new(hasher: Arc<dyn PasswordHasher>, concurrency: usize) -> Self {
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    ) -> Result<T, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || f(hasher.as_ref()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Hashes `password`.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        self.run(move |h| h.hash(&password)).await?
    }

    /// Checks `password` against `hash`; with no hash (unknown user) spends the
    /// same time and fails.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, String> {
        self.run(move |h| match hash {
            Some(hash) => h.verify(&password, &hash),
            None => h.verify_nobody(&password),
        })
        .await
    }
}
