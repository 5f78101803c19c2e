//! The webhook tables.

pub mod delivery;
pub mod endpoint;
