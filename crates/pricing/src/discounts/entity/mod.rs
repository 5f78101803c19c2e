//! The discount tables.

pub mod discount;
pub mod policy;
pub mod version;
