//! The federation domain's tables.

pub mod answered_request;
pub mod identity_provider;
pub mod login_code;
pub mod used_assertion;
