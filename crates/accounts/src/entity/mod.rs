//! Tables owned by the accounts domain.

pub mod partner;
pub mod role;
pub mod role_member;
pub mod user;
