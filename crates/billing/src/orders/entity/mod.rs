//! The order tables.

pub mod line;
pub mod order;
pub mod payment;
pub mod renewal_run;
pub mod resource;
