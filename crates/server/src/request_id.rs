//! The outermost gRPC layer: give every call a request id (the caller's
//! `x-request-id` when it sent a sane one), echo it back, open the call's
//! tracing span (method, request id, tenant — the tenant is filled in by the
//! authentication layer), and make the id readable to error mapping.

use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http::HeaderValue;
use partner_kernel::request_context;
use tower::{Layer, Service};
use tracing::Instrument;

/// The metadata key carrying the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;

/// Adds [`RequestId`] around a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestId { inner }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct RequestId<S> {
    inner: S,
}

/// The caller's id if it is short printable ASCII, else a fresh UUIDv7.
fn request_id_of(headers: &http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

impl<S, B, R> Service<http::Request<B>> for RequestId<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let id = request_id_of(req.headers());
        let header = HeaderValue::from_str(&id).ok();
        if let Some(h) = &header {
            req.headers_mut().insert(REQUEST_ID_HEADER, h.clone());
        }
        let span = tracing::info_span!(
            "rpc",
            method = %req.uri().path(),
            request_id = %id,
            tenant = tracing::field::Empty,
        );
        let started = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(
            request_context::scope(id, async move {
                let result = fut.await;
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                match result {
                    Ok(mut resp) => {
                        let grpc_status = resp
                            .headers()
                            .get("grpc-status")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("0")
                            .to_owned();
                        tracing::debug!(http_status = resp.status().as_u16(), %grpc_status, elapsed_ms, "rpc done");
                        if let Some(h) = header {
                            resp.headers_mut().insert(REQUEST_ID_HEADER, h);
                        }
                        Ok(resp)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, elapsed_ms, "rpc failed in transport");
                        Err(e)
                    }
                }
            })
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sane_ids_and_replaces_others() {
        let mut h = http::HeaderMap::new();
        assert_eq!(request_id_of(&h).len(), 36);
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("abc-123"));
        assert_eq!(request_id_of(&h), "abc-123");
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has space"));
        assert_ne!(request_id_of(&h), "has space");
        let long = "a".repeat(200);
        h.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_str(&long).unwrap_or(HeaderValue::from_static("x")),
        );
        assert_ne!(request_id_of(&h), long);
    }
}
