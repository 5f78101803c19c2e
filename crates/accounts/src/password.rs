//! The password-hashing seam. The gateway implements it (Argon2id); accounts
//! only stores the PHC strings it produces.

/// Hashes and verifies passwords. Both calls are CPU-heavy by design: callers
/// run them on the blocking pool, never on the async workers.
pub trait PasswordHasher: Send + Sync + std::fmt::Debug + 'static {
    /// A self-describing hash (PHC string) of `password` with a fresh salt.
    fn hash(&self, password: &str) -> Result<String, String>;
    /// True when `password` matches `hash`.
    fn verify(&self, password: &str, hash: &str) -> bool;
}
