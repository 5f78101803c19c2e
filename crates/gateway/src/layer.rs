//! The authentication and authorization layer: one tower layer in front of
//! every service. It lets through only the calls that need no token (health,
//! reflection, and the RPCs the access table marks public), and for everything
//! else verifies the bearer token, checks the caller against the RPC's rule in
//! the platform's [`AccessTable`], and puts the
//! [`Principal`](partner_kernel::principal::Principal) into the request
//! extensions, with the RPC's [`Rule`]. Deny by default: an RPC missing from
//! the table is refused.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::HeaderMap;
use tonic::Status;
use tower::{Layer, Service};

use partner_kernel::access::{Access, AccessTable, Rule};
use partner_kernel::error::KernelError;
use partner_kernel::principal::Principal;

use crate::error::GatewayError;
use crate::service::Gateway;

/// Path prefixes open to everyone: health and server reflection.
const PUBLIC_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Whether `path` needs no token: the infrastructure prefixes, and the RPCs
/// the access table marks public (signing in, public keys). The HTTP JWKS
/// document is answered before this layer, by the server's HTTP routes.
fn open_without_token(path: &str, rule: Option<&Rule>) -> bool {
    PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p))
        || rule.is_some_and(|r| r.access == Access::Public)
}

/// The table's verdict on an authenticated caller of the RPC `rule` declares.
fn gate(rule: Option<&Rule>, principal: &Principal) -> Result<(), GatewayError> {
    let rule = rule.ok_or(GatewayError::UnknownMethod)?;
    if rule.admits(principal) {
        return Ok(());
    }
    let missing = rule.missing_permission().map_or("", |p| p.id());
    Err(KernelError::MissingPermission(missing).into())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Adds [`Authenticate`] around a service.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    /// Behind an `Arc`: every call takes a handle, and a `Gateway` is a
    /// few dozen reference counts (its database, accounts, customers…).
    gateway: Arc<Gateway>,
    table: Arc<AccessTable>,
}

impl AuthLayer {
    /// A layer that authenticates with `gateway` and lets callers through as
    /// `table` says.
    pub fn new(gateway: Gateway, table: Arc<AccessTable>) -> Self {
        Self {
            gateway: Arc::new(gateway),
            table,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Authenticate {
            inner,
            gateway: self.gateway.clone(),
            table: self.table.clone(),
        }
    }
}

/// Authenticates each request before `S` sees it.
#[derive(Debug, Clone)]
pub struct Authenticate<S> {
    inner: S,
    gateway: Arc<Gateway>,
    table: Arc<AccessTable>,
}

impl<S, B> Service<http::Request<B>> for Authenticate<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gateway = self.gateway.clone();
        let table = self.table.clone();
        Box::pin(async move {
            // Looked up once per call: it decides both whether a token is
            // needed and, after authentication, whether the caller may pass.
            let rule = table.rule_for(req.uri().path()).copied();
            if let Some(rule) = rule {
                // Handlers read their method's name from it (`Calls::start`).
                req.extensions_mut().insert(rule);
            }
            let rule = rule.as_ref();
            if open_without_token(req.uri().path(), rule) {
                return inner.call(req).await;
            }
            let outcome = match bearer(req.headers()) {
                None => Err(GatewayError::TokenMissing),
                Some(token) => gateway.authenticate(token).await,
            }
            .and_then(|principal| gate(rule, &principal).map(|()| principal));
            match outcome {
                Ok(principal) => {
                    let tenant = principal
                        .partner_id()
                        .map_or_else(|| "platform".to_owned(), |p| p.to_string());
                    tracing::Span::current().record("tenant", tenant.as_str());
                    req.extensions_mut().insert(principal);
                    inner.call(req).await
                }
                Err(e) => Ok(Status::from(e).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_public(path: &str) -> bool {
        let table =
            AccessTable::assemble(&[crate::access::ACCESS, partner_accounts::access::ACCESS])
                .unwrap_or_else(|e| panic!("{e}"));
        open_without_token(path, table.rule_for(path))
    }

    #[test]
    fn public_paths_are_exactly_the_listed_ones() {
        assert!(is_public("/grpc.health.v1.Health/Check"));
        assert!(is_public(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
        assert!(is_public("/partner.iam.v1.AuthService/Login"));
        assert!(is_public(
            "/partner.accounts.v1.ProgramService/SignUpWithInvitation"
        ));
        assert!(!is_public(
            "/partner.accounts.v1.ProgramService/AcceptInvitation"
        ));
        assert!(is_public("/partner.iam.v1.AuthService/ExchangeAccessKey"));
        assert!(!is_public("/partner.iam.v1.AuthService/Logout"));
        assert!(!is_public("/partner.iam.v1.AuthService/LoginX"));
        assert!(!is_public("/partner.accounts.v1.PartnerService/GetPartner"));
        assert!(!is_public("/grpc.health.v1.HealthX/Check"));
        assert!(!is_public(""));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic abc"),
        );
        assert_eq!(bearer(&h), None);
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer "),
        );
        assert_eq!(bearer(&h), None);
    }
}
