//! Secrets at rest. The signing-key seeds and the page-token and fingerprint
//! keys live in the database; a leaked backup must not let anyone mint
//! operator tokens. With a master key (`PARTNER_MASTER_KEY`, or a file named
//! by `PARTNER_MASTER_KEY_FILE`) they are sealed with XChaCha20-Poly1305:
//! `psk1` ‖ 24-byte random nonce ‖ ciphertext and tag, with the row's
//! identity (`server_secret:page_tokens`, `signing_key:key_…`) as associated
//! data, so a sealed value cannot be moved to another row.
//!
//! Without a master key values are stored plain (a developer laptop needs
//! no setup) and the server warns at start. Plain rows are sealed the next
//! time a server starts with a key; a sealed row without the key, or with
//! another key, is refused: the server does not start.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::KernelError;

/// What a sealed value starts with. Plain values are 32 random bytes, so
/// they cannot be mistaken for sealed ones (which are 76 bytes long).
const MAGIC: &[u8; 4] = b"psk1";
const NONCE: usize = 24;

/// The master key: 32 bytes, given as 64 hex digits or base64.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// Parses 64 hex digits or the base64 (standard or URL-safe, padded or
    /// not) of 32 bytes; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        use base64::Engine;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or("the master key is neither 64 hex digits nor base64")?
        };
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the master key must be 32 bytes (64 hex digits or base64)")?;
        Ok(MasterKey(key))
    }
}

/// Seals and opens secrets at rest.
#[derive(Debug, Clone, Default)]
pub struct Sealer {
    key: Option<MasterKey>,
}

impl Sealer {
    /// A sealer with `key`; `None` stores values plain.
    pub fn new(key: Option<MasterKey>) -> Self {
        Self { key }
    }

    /// Whether values are sealed.
    pub fn enabled(&self) -> bool {
        self.key.is_some()
    }

    /// Whether a stored value is sealed.
    pub fn is_sealed(stored: &[u8]) -> bool {
        stored.starts_with(MAGIC)
    }

    /// The stored form of `plain`, for the row called `context`: sealed when
    /// there is a master key, else `plain` itself.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<Vec<u8>, KernelError> {
        let Some(key) = &self.key else {
            return Ok(plain.to_vec());
        };
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce)
            .map_err(|e| KernelError::Corrupt(format!("no randomness: {e}")))?;
        let cipher = XChaCha20Poly1305::new((&key.0).into());
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| KernelError::Corrupt(format!("cannot seal {context}")))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain value of the stored `stored` of the row called `context`.
    /// A sealed value needs the master key it was sealed with. With a master
    /// key, a plain value is refused too: once the start has sealed every
    /// row, a plain one can only have been written around the key (a tool run
    /// without it, or someone planting a seed they know).
    pub fn open(&self, stored: &[u8], context: &str) -> Result<Vec<u8>, KernelError> {
        if !Self::is_sealed(stored) {
            if self.enabled() {
                return Err(KernelError::Corrupt(format!(
                    "{context} is stored unsealed although a master key is configured"
                )));
            }
            return Ok(stored.to_vec());
        }
        let Some(key) = &self.key else {
            return Err(KernelError::Corrupt(format!(
                "{context} is sealed: configure PARTNER_MASTER_KEY (or PARTNER_MASTER_KEY_FILE)"
            )));
        };
        let body = &stored[MAGIC.len()..];
        if body.len() < NONCE {
            return Err(KernelError::Corrupt(format!(
                "{context}: sealed value too short"
            )));
        }
        let (nonce, sealed) = body.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce
            .try_into()
            .map_err(|_| KernelError::Corrupt(format!("{context}: bad nonce")))?;
        XChaCha20Poly1305::new((&key.0).into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                KernelError::Corrupt(format!(
                    "{context} does not open with the configured master key (another key, or tampered)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey([byte; 32])
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let sealer = Sealer::new(Some(key(7)));
        let sealed = sealer.seal(&[42; 32], "signing_key:a").unwrap_or_default();
        assert!(Sealer::is_sealed(&sealed));
        assert_eq!(sealed.len(), 4 + 24 + 32 + 16);
        assert!(!sealed.windows(32).any(|w| w == [42; 32]));
        assert_eq!(
            sealer.open(&sealed, "signing_key:a").ok(),
            Some(vec![42; 32])
        );
        assert!(
            sealer.open(&sealed, "signing_key:b").is_err(),
            "moved to another row"
        );
        assert!(
            Sealer::new(Some(key(8)))
                .open(&sealed, "signing_key:a")
                .is_err()
        );
        assert!(Sealer::default().open(&sealed, "signing_key:a").is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(sealer.open(&tampered, "signing_key:a").is_err());
        // Two seals of one value differ (fresh nonces).
        assert_ne!(
            sealer.seal(&[42; 32], "x").ok(),
            sealer.seal(&[42; 32], "x").ok()
        );
    }

    #[test]
    fn without_a_key_plain_values_pass_through() {
        let plain = Sealer::default();
        assert_eq!(plain.seal(&[1; 32], "x").ok(), Some(vec![1; 32]));
        assert_eq!(plain.open(&[1; 32], "x").ok(), Some(vec![1; 32]));
        assert!(
            Sealer::new(Some(key(1))).open(&[1; 32], "x").is_err(),
            "with a key, plain values are not trusted"
        );
    }

    #[test]
    fn master_keys_parse_from_hex_and_base64() {
        let hex = "00".repeat(31) + "ff";
        assert!(MasterKey::parse(&hex).is_ok());
        assert!(MasterKey::parse(&format!(" {hex}\n")).is_ok());
        assert!(MasterKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert!(MasterKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert!(MasterKey::parse("too short").is_err());
        assert!(MasterKey::parse(&"00".repeat(16)).is_err());
        assert!(MasterKey::parse("").is_err());
    }
}
