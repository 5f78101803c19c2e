//! Tables owned by the gateway.

pub mod access_key;
pub mod auth_throttle;
pub mod refresh_token;
pub mod session;
pub mod signing_key;
