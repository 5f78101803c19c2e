//! Plain HTTP routes served on the gRPC port: `GET /.well-known/jwks.json`.
//!
//! They sit outside the gRPC-Web layer, which answers every HTTP/1.1 request
//! that is not gRPC-Web with 400, so that browsers and JWT libraries can fetch
//! the keys with an ordinary GET.

use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use partner_gateway::Gateway;
use tower::{Layer, Service};

/// Where the public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Adds [`HttpRoutes`] around a service.
#[derive(Debug, Clone)]
pub struct HttpRoutesLayer {
    gateway: Gateway,
}

impl HttpRoutesLayer {
    /// Routes backed by `gateway`.
    pub fn new(gateway: Gateway) -> Self {
        Self { gateway }
    }
}

impl<S> Layer<S> for HttpRoutesLayer {
    type Service = HttpRoutes<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HttpRoutes {
            inner,
            gateway: self.gateway.clone(),
        }
    }
}

/// Answers the plain HTTP routes; passes everything else to `S`.
#[derive(Debug, Clone)]
pub struct HttpRoutes<S> {
    inner: S,
    gateway: Gateway,
}

impl<S, B> Service<http::Request<B>> for HttpRoutes<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() != JWKS_PATH {
            return self.inner.call(req).boxed();
        }
        let response = if req.method() == http::Method::GET || req.method() == http::Method::HEAD {
            let doc = self.gateway.keys().ring().jwks_json().to_string();
            http::Response::builder()
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::CACHE_CONTROL, "public, max-age=300")
                .body(tonic::body::Body::new(doc))
        } else {
            http::Response::builder()
                .status(http::StatusCode::METHOD_NOT_ALLOWED)
                .header(http::header::ALLOW, "GET, HEAD")
                .body(tonic::body::Body::default())
        };
        // Building from constant, valid parts cannot fail; fall back to a bare 500.
        let response = response.unwrap_or_else(|_| {
            let mut r = http::Response::new(tonic::body::Body::default());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        });
        futures::future::ready(Ok(response)).boxed()
    }
}
