//! The order tables.

pub mod line;
pub mod order;
pub mod payment;
pub mod resource;
