//! The HTTP side of a delivery: one POST, with a deadline, to an address the
//! target policy allows, reading at most a few KiB of the answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::target::TargetPolicy;

/// The whole attempt (connect, send, answer) must end within this.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connecting must end within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this much of an answer's body is read; the rest is dropped.
const MAX_ANSWER_BYTES: usize = 4096;
/// At most this much of the answer is kept for `ListDeliveries`.
const EXCERPT_BYTES: usize = 256;

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status; 0 when there was no answer.
    pub code: u16,
    /// The start of the answer's body.
    pub excerpt: String,
    /// Why it failed; empty when the endpoint answered 2xx.
    pub error: String,
}

impl Answer {
    /// Whether the endpoint took the delivery.
    pub fn accepted(&self) -> bool {
        self.error.is_empty()
    }

    fn failed(error: impl Into<String>) -> Self {
        let mut error: String = error.into();
        truncate(&mut error, 400);
        Self {
            code: 0,
            excerpt: String::new(),
            error,
        }
    }
}

/// One signed message.
#[derive(Debug)]
pub struct Message<'a> {
    pub url: &'a str,
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: String,
    pub body: &'a str,
}

/// Sends deliveries.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl Sender {
    /// A sender under `policy`.
    pub fn new(policy: TargetPolicy) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect would be a second, unchecked target: 3xx is a failure.
            .redirect(reqwest::redirect::Policy::none())
            // The platform's own proxy settings are not the partner's business.
            .no_proxy()
            .user_agent(concat!(
                "partner-platform-webhooks/",
                env!("CARGO_PKG_VERSION")
            ));
        if !policy.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly { policy }));
        }
        let client = builder
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Self { client, policy })
    }

    /// Posts `message`; never fails, the answer says how it went.
    pub async fn send(&self, message: Message<'_>) -> Answer {
        let url = match Url::parse(message.url) {
            Ok(url) => url,
            Err(e) => return Answer::failed(format!("bad URL: {e}")),
        };
        // Literal addresses are not resolved, so the resolver cannot check them.
        if let Err(e) = self.policy.check_host(&url) {
            return Answer::failed(format!("target refused: {e}"));
        }
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", message.signature)
            .body(message.body.to_owned())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Answer::failed(describe(&e)),
        };
        let status = response.status();
        let mut body = Vec::new();
        while body.len() < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                // A body cut short does not undo the status the endpoint gave.
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(EXCERPT_BYTES);
        // Text only: PostgreSQL refuses NUL in text, and control characters
        // would garble whoever reads the excerpt.
        let excerpt = String::from_utf8_lossy(&body)
            .chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        Answer {
            code: status.as_u16(),
            excerpt,
            error: if status.is_success() {
                String::new()
            } else {
                format!("answered {status}")
            },
        }
    }
}

/// A transport error as one of a few fixed texts. Partners read them, so
/// they must not tell the platform's network apart: a name that does not
/// resolve and one that resolves only to private addresses read the same,
/// and so do a refused and an unreachable port.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timeout: no answer within 10 s".into();
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string().to_ascii_lowercase();
        if text.contains("no public address") || text.contains("dns error") {
            return "the host name has no public address".into();
        }
        if ["certificate", "tls", "handshake"]
            .iter()
            .any(|w| text.contains(w))
        {
            return "TLS handshake failed".into();
        }
        source = cause.source();
    }
    if e.is_connect() {
        "connection failed".into()
    } else {
        "the request failed".into()
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

/// Resolves names to the addresses the policy allows only.
#[derive(Debug)]
struct PublicOnly {
    policy: TargetPolicy,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| policy.allows(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[tokio::test]
    async fn names_that_resolve_only_to_private_addresses_are_not_connected_to() {
        let strict = PublicOnly {
            policy: TargetPolicy::default(),
        };
        let refused = strict
            .resolve(Name::from_str("localhost").expect("name"))
            .await;
        let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("no public address"), "{error}");
        let open = PublicOnly {
            policy: TargetPolicy {
                allow_private: true,
            },
        };
        let found = open
            .resolve(Name::from_str("localhost").expect("name"))
            .await
            .expect("resolves");
        assert!(found.into_iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn literal_private_addresses_are_refused_before_connecting() {
        let sender = Sender::new(TargetPolicy::default()).expect("sender");
        let answer = sender
            .send(Message {
                url: "https://169.254.169.254/latest/meta-data",
                id: "msg_1",
                timestamp: 0,
                signature: String::new(),
                body: "{}",
            })
            .await;
        assert!(!answer.accepted());
        assert!(answer.error.starts_with("target refused"), "{answer:?}");
    }
}
