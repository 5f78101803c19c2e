//! The SAML service provider's rules, as pure functions over the message.
//!
//! Nothing here touches the database: [`decode`] turns the form field into
//! XML, [`response::verify`] decides whether a response authenticates and
//! reads the identity from the signed assertion only. Replay, `InResponseTo`
//! and the account mapping are the caller's (they need storage).

pub mod decode;
mod dom;
pub mod metadata;
pub mod rejection;
pub mod response;
mod signature;

pub use rejection::Rejection;
pub use response::{Expected, TrustedIdp, VerifiedAssertion, XaccountSource};
