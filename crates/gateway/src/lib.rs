//! Identity: password hashing (Argon2id), signing keys and JWTs, login
//! sessions with rotating refresh tokens, access keys of partners' systems,
//! brute-force throttling of credential checks, `AuthService`, and the tower
//! layer that authenticates every RPC.
//!
//! The gateway decides *who* is calling; what they may do is the domains'
//! business (`Principal::require`). It reads users through the accounts crate
//! and never writes accounts tables.

pub mod access;
pub mod access_keys;
pub mod assume;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod holder;
pub mod layer;
pub mod offboarding;
pub mod password;
pub mod service;
pub mod sessions;
pub mod signin;
pub mod signing_keys;
pub mod tokens;

pub use error::GatewayError;
pub use layer::AuthLayer;
pub use service::{Gateway, TokenLifetimes};
