//! Page tokens: opaque, signed, bound to the query and the tenant, and
//! expiring. A token whose signature, query, tenant or age does not match is
//! refused with `INVALID_ARGUMENT`, so a client can never page through
//! somebody else's listing or splice a cursor into a different filter.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::KernelError;
use crate::secrets::SecretKey;

/// Page size when the request says 0.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Larger requests are coerced to this.
pub const MAX_PAGE_SIZE: u64 = 500;
/// How long a page token stays valid.
const TOKEN_LIFETIME_HOURS: i64 = 24;
/// Tokens longer than this are refused before decoding.
const MAX_TOKEN_LEN: usize = 1024;

/// The page size a request asked for, defaulted and capped; a negative size
/// is the violation's description, for [`crate::validate::Violations::take`].
pub fn page_size(requested: i32) -> Result<u64, &'static str> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err("must not be negative"),
        n => Ok(u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)),
    }
}

/// One page of a listing and the token of the next.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Empty on the last page.
    pub next_page_token: String,
}

impl<M> Page<M> {
    /// Converts every item, keeping the token.
    pub fn try_map<T>(
        self,
        convert: impl Fn(M) -> Result<T, KernelError>,
    ) -> Result<Page<T>, KernelError> {
        let items = self
            .items
            .into_iter()
            .map(convert)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_page_token: self.next_page_token,
        })
    }
}

/// What a page token is bound to: the tenant (or the operator) and every
/// filter of the query, in a fixed order.
#[derive(Debug, Clone)]
pub struct PageScope {
    parts: Vec<String>,
}

impl PageScope {
    /// A scope for `method`, called by `tenant` (`"platform"` for the operator).
    pub fn new(method: &str, tenant: &str) -> Self {
        Self {
            parts: vec![method.to_owned(), tenant.to_owned()],
        }
    }

    /// Adds one filter value.
    pub fn filter(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.parts.push(format!("{name}={value}"));
        self
    }

    fn as_slices(&self) -> Vec<&[u8]> {
        self.parts.iter().map(|p| p.as_bytes()).collect()
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The last key of the previous page.
    k: String,
    /// Expiry, unix seconds.
    x: i64,
}

/// Signs and checks page tokens.
#[derive(Debug, Clone)]
pub struct PageTokens {
    key: SecretKey,
}

impl PageTokens {
    /// Tokens signed with `key`.
    pub fn new(key: SecretKey) -> Self {
        Self { key }
    }

    fn sign(&self, scope: &PageScope, payload: &[u8]) -> [u8; 32] {
        let mut parts = scope.as_slices();
        parts.push(payload);
        self.key.mac(&parts)
    }

    /// A token that continues `scope` after `last_key`.
    pub fn encode(&self, scope: &PageScope, last_key: &str, now: DateTime<Utc>) -> String {
        let payload = Payload {
            k: last_key.to_owned(),
            x: (now + Duration::hours(TOKEN_LIFETIME_HOURS)).timestamp(),
        };
        // Serialising two plain fields cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mac = self.sign(scope, &json);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// Cuts one page of `size` from `rows` (queried with a limit of
    /// `size + 1`, so one extra row says whether a next page exists) and signs
    /// the token that continues after the page's last key.
    pub fn cut<M>(
        &self,
        mut rows: Vec<M>,
        size: u64,
        scope: &PageScope,
        now: DateTime<Utc>,
        key: impl Fn(&M) -> String,
    ) -> Page<M> {
        let more = rows.len() as u64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => self.encode(scope, &key(last), now),
            _ => String::new(),
        };
        Page {
            items: rows,
            next_page_token,
        }
    }

    /// The last key carried by `token`, `None` for an empty token (first page).
    pub fn decode(
        &self,
        scope: &PageScope,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, KernelError> {
        if token.is_empty() {
            return Ok(None);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(KernelError::PageTokenInvalid);
        }
        let (body, mac) = token.split_once('.').ok_or(KernelError::PageTokenInvalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| KernelError::PageTokenInvalid)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| KernelError::PageTokenInvalid)?;
        // Constant-time, so timing does not reveal how much of a forged signature was right.
        if !bool::from(self.sign(scope, &json).as_slice().ct_eq(&mac)) {
            return Err(KernelError::PageTokenInvalid);
        }
        let payload: Payload =
            serde_json::from_slice(&json).map_err(|_| KernelError::PageTokenInvalid)?;
        if payload.x < now.timestamp() {
            return Err(KernelError::PageTokenInvalid);
        }
        Ok(Some(payload.k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens::new(SecretKey::from_bytes([1; 32]))
    }

    fn scope(tenant: &str) -> PageScope {
        PageScope::new("ListUsers", tenant).filter("state", 1)
    }

    #[test]
    fn round_trip() {
        let now = Utc::now();
        let t = tokens().encode(&scope("prt_a"), "usr_42", now);
        assert_eq!(
            tokens()
                .decode(&scope("prt_a"), &t, now)
                .ok()
                .flatten()
                .as_deref(),
            Some("usr_42")
        );
        assert!(matches!(
            tokens().decode(&scope("prt_a"), "", now),
            Ok(None)
        ));
    }

    #[test]
    fn refuses_foreign_tampered_and_expired_tokens() {
        let now = Utc::now();
        let t = tokens().encode(&scope("prt_a"), "usr_42", now);
        let bad = |scope: &PageScope, token: &str, at| {
            matches!(
                tokens().decode(scope, token, at),
                Err(KernelError::PageTokenInvalid)
            )
        };
        assert!(bad(&scope("prt_b"), &t, now), "another tenant");
        assert!(
            bad(
                &PageScope::new("ListUsers", "prt_a").filter("state", 2),
                &t,
                now
            ),
            "another query"
        );
        assert!(
            bad(&scope("prt_a"), &t, now + Duration::hours(25)),
            "expired"
        );
        let (body, mac) = t.split_once('.').unwrap_or_default();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"usr_1","x":99999999999}"#);
        assert!(
            bad(&scope("prt_a"), &format!("{forged}.{mac}"), now),
            "tampered payload"
        );
        assert!(
            bad(&scope("prt_a"), &format!("{body}.AAAA"), now),
            "tampered mac"
        );
        assert!(bad(&scope("prt_a"), "garbage", now));
        assert!(bad(&scope("prt_a"), "!!.!!", now));
        assert!(bad(&scope("prt_a"), &"a".repeat(2000), now));
        let other_key = PageTokens::new(SecretKey::from_bytes([2; 32]));
        assert!(matches!(
            other_key.decode(&scope("prt_a"), &t, now),
            Err(KernelError::PageTokenInvalid)
        ));
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(page_size(0).ok(), Some(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7).ok(), Some(7));
        assert_eq!(page_size(100_000).ok(), Some(MAX_PAGE_SIZE));
        assert_eq!(page_size(-1), Err("must not be negative"));
    }

    #[test]
    fn cut_keeps_size_rows_and_continues_after_the_last() {
        let t = tokens();
        let now = Utc::now();
        let page = t.cut(vec!["a", "b", "c"], 2, &scope("p1"), now, |r| {
            (*r).to_owned()
        });
        assert_eq!(page.items, ["a", "b"]);
        assert_eq!(
            t.decode(&scope("p1"), &page.next_page_token, now).ok(),
            Some(Some("b".to_owned()))
        );
        let last = t.cut(vec!["a", "b"], 2, &scope("p1"), now, |r| (*r).to_owned());
        assert_eq!(last.items, ["a", "b"]);
        assert!(last.next_page_token.is_empty());
    }
}
