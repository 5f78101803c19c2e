//! A partner's webhook receiver on `127.0.0.1:0`: records every request it
//! gets and answers each with the next scripted status (200 once the script
//! is spent). Plain HTTP/1.1, one request per connection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body {}: {e}", self.body))
    }

    /// Whether the signature is the one `secret` makes (Standard Webhooks).
    pub fn signed_by(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap_or("-"))
            .unwrap_or_default();
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|e| panic!("{e}"));
        mac.update(
            format!(
                "{}.{}.{}",
                self.header("webhook-id"),
                self.header("webhook-timestamp"),
                self.body
            )
            .as_bytes(),
        );
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.header("webhook-signature")
            .split(' ')
            .any(|s| s == expected)
    }
}

#[derive(Debug, Default)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<u16>>,
    arrived: Notify,
    /// How long each answer takes.
    delay: Mutex<Duration>,
}

/// A running receiver.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Where it listens, e.g. `http://127.0.0.1:4711/hook`.
    pub url: String,
    state: Arc<State>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let state = Arc::new(State::default());
        let serving = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, serving.clone()));
            }
        });
        Self {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    /// Answers the next requests with `codes`, in order.
    pub fn answer_next(&self, codes: &[u16]) {
        lock(&self.state.script).extend(codes);
    }

    /// Takes `delay` over each answer from now on (a slow receiver keeps
    /// sends in flight while other workers look for work).
    pub fn answer_slowly(&self, delay: Duration) {
        *lock(&self.state.delay) = delay;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state.received).clone()
    }

    /// Waits until at least `n` requests arrived (at most 30 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let arrived = self.state.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("waited for {n} requests, got {}: {got:?}", got.len());
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn answer(mut stream: TcpStream, state: Arc<State>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    let code = lock(&state.script).pop_front().unwrap_or(200);
    let delay = *lock(&state.delay);
    tokio::time::sleep(delay).await;
    let reply = format!("answer {code}");
    let _ = stream
        .write_all(
            format!(
                "HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            )
            .as_bytes(),
        )
        .await;
    let _ = stream.shutdown().await;
    lock(&state.received).push(Received {
        headers,
        body,
        answered: code,
    });
    state.arrived.notify_waiters();
}
