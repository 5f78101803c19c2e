//! Argon2id password hashing (RFC 9106), parameters configurable so that
//! production runs at OWASP strength and test suites can afford thousands of
//! registrations.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use partner_accounts::PasswordHasher;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
}

/// Hashes with Argon2id and verifies any Argon2 PHC string (so hashes made
/// under older parameters keep working after the parameters are raised).
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    /// A hash to verify against when the user does not exist, so that unknown
    /// usernames cost the same time as wrong passwords.
    decoy: String,
}

impl Argon2Hasher {
    /// A hasher with `params`.
    pub fn new(params: Argon2Params) -> Result<Self, String> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| format!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let mut hasher = Self {
            argon,
            decoy: String::new(),
        };
        hasher.decoy = hasher.hash("decoy password for unknown users")?;
        Ok(hasher)
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, String> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| {
                self.argon
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    fn verify_nobody(&self, password: &str) -> bool {
        let _ = self.verify(password, &self.decoy);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let h = Argon2Hasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let a = h.hash("correct horse").unwrap_or_default();
        let b = h.hash("correct horse").unwrap_or_default();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(h.verify("correct horse", &a));
        assert!(!h.verify("wrong horse", &a));
        assert!(!h.verify("correct horse", "not a hash"));
        assert!(!h.verify_nobody("anything"));
    }

    #[test]
    fn owasp_parameters_are_accepted() {
        assert!(Argon2Hasher::new(Argon2Params::OWASP).is_ok());
    }
}
