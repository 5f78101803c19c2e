//! Customers of partners: the cloud accounts partners sell to, each mapped to
//! one account of the partner's sales platform by `(xaccount_type,
//! xaccount_id)` and associated with one partner. Owns the `customers` and
//! `customer_labels` tables.
//!
//! Asks the accounts domain who a tenant is (acting for a reseller), which
//! sales platforms a partner owns, and which users may manage a customer; it
//! never writes accounts' tables.

pub mod access;
pub mod budgets;
pub mod customers;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod invites;
pub mod leads;
pub mod opportunities;
pub mod password_guard;
pub mod principals;
pub mod service;
pub mod verification;

pub use error::CustomersError;
pub use service::Customers;
