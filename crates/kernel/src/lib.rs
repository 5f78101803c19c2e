//! What every domain of the partner platform shares: typed prefixed ids,
//! [`Money`](money::Money), the [`Clock`](clock::Clock), the error → `Status`
//! mapping, page tokens, the [`Principal`](principal::Principal) and its
//! [`Permission`](permission::Permission)s, idempotency, and the audit and
//! outbox writers.
//!
//! The kernel knows no domain: it must not depend on `accounts`, `gateway` or
//! any other domain crate, and it holds no business rules of its own.

pub mod access;
pub mod audit;
pub mod bearer;
pub mod cache;
pub mod clock;
pub mod coalesce;
pub mod db;
mod direct_read;
pub mod entity;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod like;
pub mod money;
pub mod mutation;
pub mod outbox;
pub mod page;
pub mod permission;
pub mod principal;
pub mod request_context;
pub mod seal;
pub mod secrets;
mod state_enum;
pub mod time;
pub mod validate;
pub mod write;
