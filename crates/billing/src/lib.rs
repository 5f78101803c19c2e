//! Billing (`partner.billing.v1`). Its money core: a double-entry ledger
//! (accounts, append-only journal transactions and entries, balance bounds
//! checked inside the write, a reconciliation) and the funds partners and
//! customers hold in it.

pub mod access;
pub mod agreements;
pub mod arrears;
pub mod bills;
pub mod coupons;
pub mod entity;
pub mod error;
pub mod funds;
pub mod grpc;
mod job;
pub mod ledger;
pub mod orders;
mod paging;
pub mod resources;
pub mod sandbox;
pub mod service;
pub mod usage;

pub use error::BillingError;
pub use service::Billing;
