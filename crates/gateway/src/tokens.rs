//! Access tokens: EdDSA-signed JWTs with a `kid` header.
//!
//! Verification pins everything it can: the algorithm (EdDSA only, whatever
//! the header says), the key (looked up by `kid` in our own ring; `jku`, `x5u`
//! and `jwk` headers are never consulted), issuer, audience, token type, and
//! the required claims `exp`, `nbf`, `iat`, `iss`, `aud`, `sub`, `sid` — all
//! numeric where numbers are due. Times are checked against the platform
//! clock with a small leeway.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use partner_kernel::ids::{CustomerId, SessionId};
use partner_kernel::time;
use serde::{Deserialize, Serialize};

use crate::error::GatewayError;
use crate::holder::Holder;
use crate::signing_keys::KeyRing;

/// `iss` of every token this platform issues.
pub const ISSUER: &str = "partner-platform";
/// `aud` of access tokens for this platform's API.
pub const AUDIENCE: &str = "partner-api";
/// `typ` claim of access tokens; anything else (refresh, customer, …) is refused here.
pub const ACCESS_TYPE: &str = "access";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: i64 = 30;
/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The holder: a `usr_…` or `cus_…` id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub typ: String,
    /// The customer a customer-scoped token acts as (the holder itself, or
    /// the customer a partner user assumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cus: Option<String>,
}

/// A verified access token's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub holder: Holder,
    pub customer_id: Option<CustomerId>,
    pub session_id: SessionId,
    /// `exp`, unix seconds.
    pub expires_at: i64,
}

impl Verified {
    /// Whether the token is past its expiry (beyond the leeway) at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.saturating_add(LEEWAY_SECONDS) < now.timestamp()
    }
}

/// The subject of a token: who holds it, in which session, scoped to which
/// customer.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    pub holder: Holder,
    pub session: SessionId,
    pub customer: Option<CustomerId>,
}

/// Signs an access token for `subject`, valid for `ttl` from `now`.
pub fn issue(
    ring: &KeyRing,
    subject: Subject,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(String, DateTime<Utc>), GatewayError> {
    let expires = time::checked_add(now, ttl)
        .map_err(|e| GatewayError::Keys(format!("token lifetime: {e}")))?;
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: subject.holder.to_string(),
        sid: subject.session.to_string(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: expires.timestamp(),
        jti: uuid::Uuid::now_v7().simple().to_string(),
        typ: ACCESS_TYPE.into(),
        cus: subject.customer.map(|c| c.to_string()),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(ring.signer.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &ring.signer.key)
        .map_err(|e| GatewayError::Keys(e.to_string()))?;
    Ok((token, expires))
}

/// Verifies an access token; see the module docs for what is checked.
pub fn verify(ring: &KeyRing, token: &str, now: DateTime<Utc>) -> Result<Verified, GatewayError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(GatewayError::TokenInvalid);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| GatewayError::TokenInvalid)?;
    if header.alg != Algorithm::EdDSA {
        return Err(GatewayError::TokenInvalid);
    }
    let kid = header.kid.ok_or(GatewayError::TokenInvalid)?;
    let key = ring.verifier(&kid).ok_or(GatewayError::TokenInvalid)?;

    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.algorithms = vec![Algorithm::EdDSA];
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    // Time is checked below against the platform clock, not the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .map_err(|_| GatewayError::TokenInvalid)?;
    let claims = data.claims;

    if claims.typ != ACCESS_TYPE {
        return Err(GatewayError::TokenInvalid);
    }
    let now = now.timestamp();
    if claims.nbf > now.saturating_add(LEEWAY_SECONDS) {
        return Err(GatewayError::TokenInvalid);
    }
    if claims.exp.saturating_add(LEEWAY_SECONDS) < now {
        return Err(GatewayError::TokenExpired);
    }
    let holder = Holder::parse(&claims.sub).map_err(|_| GatewayError::TokenInvalid)?;
    let session_id = SessionId::parse(&claims.sid).map_err(|_| GatewayError::TokenInvalid)?;
    let customer_id = claims
        .cus
        .as_deref()
        .map(CustomerId::parse)
        .transpose()
        .map_err(|_| GatewayError::TokenInvalid)?;
    // A customer holds only tokens scoped to itself.
    if let Holder::Customer(c) = holder
        && customer_id != Some(c)
    {
        return Err(GatewayError::TokenInvalid);
    }
    Ok(Verified {
        holder,
        customer_id,
        session_id,
        expires_at: claims.exp,
    })
}
