//! SAML federation: a partner's sales platform is the identity provider, this
//! platform the service provider. A customer signed in to the partner's sales
//! platform lands in its cloud account without a second password.
//!
//! Owns the `federation_*` tables (IdPs, used assertions, answered requests,
//! login codes) and the server secrets `saml_signing_key` and
//! `saml_requests`. Asks the accounts domain which sales platforms a partner owns, the
//! customers domain which customer an xaccount is mapped to, and the gateway
//! to open the customer's session.

pub mod access;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod idps;
mod random;
pub mod saml;
pub mod service;
pub mod signin;
pub mod slots;
pub mod sp;
mod urls;

pub use error::FederationError;
pub use service::{Federation, ServiceProvider};
