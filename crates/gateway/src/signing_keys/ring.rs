//! The ring of token-signing keys in force: Ed25519 pairs generated on first
//! start and kept in the database, so every replica and every restart signs and verifies alike.
//! Tokens name their key in the `kid` header; verification looks the kid up
//! in this ring only, never in anything the token itself carries.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use partner_api::iam::v1 as pb;
use partner_kernel::cache::TtlCache;
use partner_kernel::db::Db;
use partner_kernel::seal::Sealer;
use sha2::{Digest, Sha256};

use super::store;
use crate::error::GatewayError;
use crate::tokens::{self, Verified};

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The signing key for a 32-byte Ed25519 seed, as jsonwebtoken wants it (PKCS#8 DER).
pub fn ed25519_encoding_key(seed: &[u8]) -> EncodingKey {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(seed);
    EncodingKey::from_ed_der(&der)
}

/// The key that signs new tokens.
pub struct Signer {
    /// Its key id.
    pub kid: String,
    /// The private key.
    pub key: EncodingKey,
}

/// The keys in force at one moment.
pub struct KeyRing {
    /// Signs new tokens.
    pub signer: Signer,
    verifiers: HashMap<String, DecodingKey>,
    jwks: Vec<pb::Jwk>,
}

impl KeyRing {
    /// The verifying key for `kid`, if it is in force.
    pub fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifiers.get(kid)
    }

    /// The public keys as JWKs.
    pub fn jwks(&self) -> &[pb::Jwk] {
        &self.jwks
    }

    /// The JWKS document (`{"keys": […]}`).
    pub fn jwks_json(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .jwks
            .iter()
            .map(|k| serde_json::json!({"kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.r#use}))
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// The live key ring, reloadable after a rotation.
pub struct Keys {
    db: Db,
    sealer: Sealer,
    ring: RwLock<Arc<KeyRing>>,
    /// Tokens that passed [`tokens::verify`], by SHA-256 of the token. A token's
    /// signature and claims never change, so a second check would only repeat
    /// the first; expiry is still checked on every hit, and a reload (a key
    /// retired) clears the cache so that the ring in force decides again.
    verified: TtlCache<[u8; 32], Verified>,
}

/// How long a verified token is remembered (expiry is checked on every hit).
const VERIFIED_TTL: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

impl Keys {
    /// Loads the keys, generating the first one on an empty database. With a
    /// master key, seeds stored plain are sealed now; a sealed seed that the
    /// sealer cannot open stops the start.
    pub async fn load_or_create(
        db: Db,
        now: DateTime<Utc>,
        sealer: Sealer,
    ) -> Result<Self, GatewayError> {
        if !store::active_exists(db.conn()).await? {
            store::generate(db.conn(), now, &sealer).await?;
        }
        if sealer.enabled() {
            store::seal_plain_seeds(db.conn(), &sealer).await?;
        }
        let ring = load_ring(&db, &sealer).await?;
        Ok(Self {
            db,
            sealer,
            ring: RwLock::new(Arc::new(ring)),
            verified: TtlCache::new(VERIFIED_TTL),
        })
    }

    /// How seeds are stored.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The ring in force.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Rereads the keys from the database.
    pub async fn reload(&self) -> Result<(), GatewayError> {
        let ring = Arc::new(load_ring(&self.db, &self.sealer).await?);
        *self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = ring;
        self.verified.invalidate_all();
        Ok(())
    }

    /// Verifies an access token against the ring in force (see [`tokens::verify`]).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Verified, GatewayError> {
        if token.len() > tokens::MAX_TOKEN_BYTES {
            return Err(GatewayError::TokenInvalid);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let verified = match self.verified.lookup(&digest) {
            Ok(hit) => hit,
            Err(ticket) => {
                let fresh = tokens::verify(&self.ring(), token, now)?;
                self.verified.put(ticket, digest, fresh);
                fresh
            }
        };
        if verified.expired_at(now) {
            return Err(GatewayError::TokenExpired);
        }
        Ok(verified)
    }
}

async fn load_ring(db: &Db, sealer: &Sealer) -> Result<KeyRing, GatewayError> {
    let rows = store::in_force(db.conn()).await?;
    let mut verifiers = HashMap::new();
    let mut jwks = Vec::new();
    let mut signer = None;
    for row in rows {
        let x = URL_SAFE_NO_PAD.encode(&row.public_key);
        let seed = sealer.open(&row.private_key, &store::seal_context(&row.kid))?;
        if row.public_key.len() != 32 || seed.len() != 32 {
            return Err(GatewayError::Keys(format!(
                "key {} has the wrong length",
                row.kid
            )));
        }
        let decoding =
            DecodingKey::from_ed_components(&x).map_err(|e| GatewayError::Keys(e.to_string()))?;
        verifiers.insert(row.kid.clone(), decoding);
        jwks.push(pb::Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x,
            kid: row.kid.clone(),
            alg: "EdDSA".into(),
            r#use: "sig".into(),
        });
        // Newest active key signs (ids are time-ordered, rows come newest first).
        if signer.is_none() && row.state == store::ACTIVE {
            signer = Some(Signer {
                kid: row.kid.clone(),
                key: ed25519_encoding_key(&seed),
            });
        }
    }
    let signer = signer.ok_or_else(|| GatewayError::Keys("no active signing key".into()))?;
    Ok(KeyRing {
        signer,
        verifiers,
        jwks,
    })
}
