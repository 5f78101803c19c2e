//! Partners (the tenants) and their users: registration, profile, suspension,
//! sub-users. Owns the `partners` and `users` tables and answers the
//! authentication layer's "is this caller still allowed in?" question.
//!
//! Must not issue or verify tokens, nor know how passwords are hashed: the
//! gateway does both and hands a [`PasswordHasher`] in.

pub mod audit_log;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod model;
pub mod partners;
pub mod password;
pub mod roles;
pub mod service;
pub mod store;
pub mod users;

pub use error::AccountsError;
pub use password::PasswordHasher;
pub use service::{AccountStatus, Accounts};
