//! The order tables.

pub mod line;
pub mod order;
