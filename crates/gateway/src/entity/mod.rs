//! Tables owned by the gateway.

pub mod refresh_token;
pub mod session;
pub mod signing_key;
