//! Orders (`OrderService`): a customer's purchases of yearly/monthly
//! resources, priced by the rating in force or kept from a quote, waiting
//! for payment until a deadline, counted against the customer's budget
//! while they wait, and cancelled by the buyer or by the expiry job.

mod cancel;
mod create;
pub mod entity;
pub mod grpc;
pub mod model;
mod read;

pub use cancel::expire_due;
pub use create::{NewOrder, Source};
pub use read::OrderFilter;
