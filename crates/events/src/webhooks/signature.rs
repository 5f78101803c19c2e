//! Standard Webhooks signing: the secret is `whsec_` and the base64 of 32
//! random bytes; a message is signed as HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` with the decoded bytes, and the
//! `webhook-signature` header carries `v1,` and the base64 of the MAC.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use partner_kernel::error::KernelError;
use sha2::Sha256;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret.
pub fn new_secret() -> Result<String, KernelError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KernelError::Corrupt(format!("no randomness: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The key bytes of `secret`.
pub fn key_of(secret: &str) -> Result<Vec<u8>, KernelError> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| KernelError::Corrupt("a webhook secret is malformed".into()))
}

/// The `webhook-signature` header value of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header value signed by each of `keys`, space
/// separated (a receiver accepts the message when any one verifies: how a
/// secret is rotated without refusing a delivery).
pub fn sign_all(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|key| sign(key, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries.
    #[test]
    fn signs_as_the_reference_libraries() {
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("key");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn several_keys_sign_side_by_side() {
        let (a, b) = (vec![1u8; 32], vec![2u8; 32]);
        let both = sign_all(&[a.clone(), b.clone()], "evt_1", 7, "{}");
        assert_eq!(
            both,
            format!(
                "{} {}",
                sign(&a, "evt_1", 7, "{}"),
                sign(&b, "evt_1", 7, "{}")
            )
        );
        assert_eq!(
            sign_all(std::slice::from_ref(&a), "evt_1", 7, "{}"),
            sign(&a, "evt_1", 7, "{}")
        );
    }

    #[test]
    fn secrets_are_prefixed_random_keys() {
        let (a, b) = (new_secret().expect("a"), new_secret().expect("b"));
        assert_ne!(a, b);
        assert_eq!(key_of(&a).expect("key").len(), 32);
        assert!(key_of("whsec_").is_err());
        assert!(key_of("other").is_err());
    }
}
