//! AuthnRequest IDs that carry their own state, so that starting a sign-in
//! writes nothing: an unauthenticated caller cannot fill a table by asking
//! for login URLs. The ID is `_` and the hex of
//! `nonce (12) · expiry (8, unix seconds) · first_login (1) · service tag (8) · MAC (16)`,
//! the MAC (server secret `saml_requests`) binding all of it to the IdP.
//! Only an answer whose signature verified spends an ID
//! (`store::answer_request`), and only in its one spelling: lower-case hex.

use chrono::{DateTime, Utc};
use partner_kernel::secrets::SecretKey;
use sha2::{Digest, Sha256};

use crate::error::FederationError;
use crate::random::{self, hex};

const NONCE: usize = 12;
const TAG: usize = 8;
const MAC: usize = 16;
const BODY: usize = NONCE + 8 + 1 + TAG;
/// Length of an ID: `_` and the hex of body and MAC.
pub const LEN: usize = 1 + 2 * (BODY + MAC);

/// What an ID we issued says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    pub expires_at: DateTime<Utc>,
    pub first_login: bool,
    service_tag: [u8; TAG],
}

impl RequestState {
    /// Whether `service` is the service URL the request was made for.
    pub fn names_service(&self, service: &str) -> bool {
        tag(service) == self.service_tag
    }
}

fn tag(service: &str) -> [u8; TAG] {
    let digest = Sha256::digest(service.as_bytes());
    let mut out = [0u8; TAG];
    out.copy_from_slice(&digest[..TAG]);
    out
}

fn mac(key: &SecretKey, idp_id: &str, body: &[u8]) -> [u8; MAC] {
    let full = key.mac(&[b"saml-authn-request", idp_id.as_bytes(), body]);
    let mut out = [0u8; MAC];
    out.copy_from_slice(&full[..MAC]);
    out
}

/// Lower-case hex only, so that an ID has one spelling and is answered once.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A fresh ID for a request to `idp_id` landing on `service`.
pub fn issue(
    key: &SecretKey,
    idp_id: &str,
    service: &str,
    first_login: bool,
    expires_at: DateTime<Utc>,
) -> Result<String, FederationError> {
    let mut body = Vec::with_capacity(BODY);
    body.extend_from_slice(&random::bytes::<NONCE>()?);
    body.extend_from_slice(&expires_at.timestamp().to_be_bytes());
    body.push(u8::from(first_login));
    body.extend_from_slice(&tag(service));
    let mac = mac(key, idp_id, &body);
    Ok(format!("_{}{}", hex(&body), hex(&mac)))
}

/// The state of `id` if we issued it for `idp_id`; `None` for anything
/// else (malformed, forged, or issued for another IdP).
pub fn open(key: &SecretKey, idp_id: &str, id: &str) -> Option<RequestState> {
    let raw = unhex(id.strip_prefix('_')?).filter(|r| r.len() == BODY + MAC)?;
    let (body, given) = raw.split_at(BODY);
    let expected = mac(key, idp_id, body);
    // Constant time: the MAC is the credential.
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], given)) {
        return None;
    }
    let secs = i64::from_be_bytes(body[NONCE..NONCE + 8].try_into().ok()?);
    let mut service_tag = [0u8; TAG];
    service_tag.copy_from_slice(&body[NONCE + 9..]);
    Some(RequestState {
        expires_at: DateTime::from_timestamp(secs, 0)?,
        first_login: body[NONCE + 8] == 1,
        service_tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_opens_only_for_its_idp_and_unchanged() {
        let key = SecretKey::from_bytes([7; 32]);
        let at = DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default();
        let id = issue(&key, "idp_a", "https://app.example/x", true, at)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id.len(), LEN);
        let state = open(&key, "idp_a", &id).unwrap_or_else(|| panic!("opens"));
        assert_eq!(state.expires_at, at);
        assert!(state.first_login);
        assert!(state.names_service("https://app.example/x"));
        assert!(!state.names_service("https://app.example/y"));
        assert_eq!(open(&key, "idp_b", &id), None, "another IdP");
        assert_eq!(open(&SecretKey::from_bytes([8; 32]), "idp_a", &id), None);
        // Every single changed character is refused.
        for i in 1..id.len() {
            let mut bytes = id.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap_or_default();
            assert_eq!(open(&key, "idp_a", &changed), None, "{changed}");
        }
        let upper = format!("_{}", id[1..].to_uppercase());
        let plus = format!("_+{}", &id[2..]);
        for bad in [
            "",
            "_",
            "_zz",
            &id[1..],
            &format!("{id}00"),
            "_é",
            &upper,
            &plus,
        ] {
            assert_eq!(open(&key, "idp_a", bad), None, "{bad}");
        }
    }
}
