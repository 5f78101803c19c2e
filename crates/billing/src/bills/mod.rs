//! Bills: what each customer was charged and refunded, as fee records
//! (per resource and journal transaction), summed by billing cycle.

pub mod adjust;
pub mod entity;
pub mod export;
pub mod fees;
pub mod grpc;
pub mod model;
pub mod read;
