//! Plain HTTP routes served on the gRPC port: `GET /.well-known/jwks.json`
//! and the SAML browser endpoints ([`saml`]).
//!
//! They sit outside the gRPC-Web layer, which answers every HTTP/1.1 request
//! that is not gRPC-Web with 400, so that browsers, IdPs and JWT libraries
//! can use them with ordinary GETs and form POSTs. Each is public by nature.

mod saml;

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use partner_federation::Federation;
use partner_gateway::Gateway;
use tower::{Layer, Service};

/// Where the public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Adds [`HttpRoutes`] around a service.
#[derive(Debug, Clone)]
pub struct HttpRoutesLayer {
    gateway: Arc<Gateway>,
    federation: Arc<Federation>,
}

impl HttpRoutesLayer {
    /// Routes backed by `gateway` (keys) and `federation` (SAML).
    pub fn new(gateway: Gateway, federation: Federation) -> Self {
        Self {
            gateway: Arc::new(gateway),
            federation: Arc::new(federation),
        }
    }
}

impl<S> Layer<S> for HttpRoutesLayer {
    type Service = HttpRoutes<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HttpRoutes {
            inner,
            gateway: self.gateway.clone(),
            federation: self.federation.clone(),
        }
    }
}

/// Answers the plain HTTP routes; passes everything else to `S`.
///
/// The server clones its service stack for every request, this layer
/// included: the services it holds are shared, not copied (copying the
/// gateway and the federation service, with everything they hold, was 3.8 µs
/// of a Health/Check's 17.7 µs of server CPU; docs/benchmarks.md).
#[derive(Debug, Clone)]
pub struct HttpRoutes<S> {
    inner: S,
    gateway: Arc<Gateway>,
    federation: Arc<Federation>,
}

type Reply = http::Response<tonic::body::Body>;

impl<S> Service<http::Request<tonic::body::Body>> for HttpRoutes<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = Reply>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let method = req.method().clone();
        let get = method == http::Method::GET || method == http::Method::HEAD;
        match req.uri().path() {
            JWKS_PATH if get => {
                let doc = self.gateway.keys().ring().jwks_json().to_string();
                let reply = reply(http::StatusCode::OK)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::CACHE_CONTROL, "public, max-age=300")
                    .body(tonic::body::Body::new(doc));
                futures::future::ready(Ok(built(reply))).boxed()
            }
            saml::METADATA_PATH if get => {
                let federation = self.federation.clone();
                async move { Ok(saml::metadata(&federation).await) }.boxed()
            }
            saml::LOGIN_PATH if get => {
                let federation = self.federation.clone();
                let query = req.uri().query().unwrap_or_default().to_owned();
                async move { Ok(saml::login(&federation, &query).await) }.boxed()
            }
            saml::ACS_PATH if method == http::Method::POST => {
                let federation = self.federation.clone();
                async move { Ok(saml::acs(&federation, req).await) }.boxed()
            }
            JWKS_PATH | saml::METADATA_PATH | saml::LOGIN_PATH => {
                futures::future::ready(Ok(not_allowed("GET, HEAD"))).boxed()
            }
            saml::ACS_PATH => futures::future::ready(Ok(not_allowed("POST"))).boxed(),
            _ => self.inner.call(req).boxed(),
        }
    }
}

/// A response builder with headers every plain route sends.
fn reply(status: http::StatusCode) -> http::response::Builder {
    http::Response::builder()
        .status(status)
        .header("x-content-type-options", "nosniff")
}

fn not_allowed(allow: &'static str) -> Reply {
    built(
        reply(http::StatusCode::METHOD_NOT_ALLOWED)
            .header(http::header::ALLOW, allow)
            .body(tonic::body::Body::default()),
    )
}

/// Building from valid parts cannot fail; fall back to a bare 500.
fn built(response: Result<Reply, http::Error>) -> Reply {
    response.unwrap_or_else(|_| {
        let mut r = http::Response::new(tonic::body::Body::default());
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
