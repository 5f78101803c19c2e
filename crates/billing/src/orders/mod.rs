//! Orders (`OrderService`): a customer's purchases of yearly/monthly
//! resources, priced by the rating in force or kept from a quote, waiting
//! for payment until a deadline, counted against the customer's budget
//! while they wait, cancelled by the buyer or by the expiry job, or paid
//! all or nothing, their resources opened and the money taken; and the
//! UNSUBSCRIBE orders that refund resources given up.

pub mod adjust;
pub mod auto_renew;
pub(crate) mod cancel;
pub mod change;
mod create;
pub mod entity;
pub mod expiry;
pub mod grpc;
pub mod model;
mod options;
mod pay;
pub mod provision;
pub(crate) mod read;
pub mod refund;
pub mod renewal;
mod unsubscribe;

pub use cancel::expire_due;
pub use create::{NewOrder, Source};
pub use pay::{MAX_COUPONS, Payment, period_end};
pub use read::OrderFilter;
pub use unsubscribe::Mode as UnsubscribeMode;
