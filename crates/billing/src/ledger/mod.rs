//! The double-entry ledger. Every movement of money is one [`Posting`]: a
//! journal transaction whose legs net to zero per currency, written with
//! [`post`] inside the caller's write transaction (so it commits with the
//! idempotency record and the audit entry, or not at all). Transactions and
//! entries are append-only in the database itself; [`check`] reconciles.

pub mod check;
pub mod grpc;
pub mod holds;
pub mod model;
pub mod post;

pub use model::{Kind, Leg, Operation, Owner, Posting};
pub use post::{Account, AccountKey, Posted, locked_accounts, post};
