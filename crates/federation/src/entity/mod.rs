//! The federation domain's tables.

pub mod identity_provider;
pub mod login_code;
pub mod login_request;
pub mod seen_assertion;
pub mod sp_key;
