//! Bearer secrets handed to a caller once (refresh tokens, invitation
//! tokens): 32 random bytes, base64url, behind a prefix that makes a leaked
//! one recognisable in logs and scanners. Only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::KernelError;

/// A new secret: `prefix` then 43 characters of base64url.
pub fn new_token(prefix: &str) -> Result<String, KernelError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KernelError::Corrupt(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored of a secret: its SHA-256.
pub fn token_sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_hashed_stably() {
        let a = new_token("x_").unwrap_or_default();
        let b = new_token("x_").unwrap_or_default();
        assert!(a.starts_with("x_") && a.len() == 45);
        assert_ne!(a, b);
        assert_eq!(token_sha256(&a), token_sha256(&a));
        assert_ne!(token_sha256(&a), token_sha256(&b));
        assert_eq!(token_sha256(&a).len(), 32);
    }
}
