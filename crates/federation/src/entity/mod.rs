//! The federation domain's tables.

pub mod identity_provider;
pub mod seen_assertion;
