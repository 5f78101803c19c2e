//! Tables owned by the accounts domain.

pub mod partner;
pub mod user;
