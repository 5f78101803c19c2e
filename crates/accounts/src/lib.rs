//! Partners (the tenants) and their users: registration, profile, suspension,
//! sub-users, programs and invitations, distributor ↔ reseller links and
//! acting for a reseller. Owns the `partners`, `users`, `program_enrolments`,
//! `invitations` and `reseller_links` tables and answers the authentication
//! layer's "is this caller still allowed in?" question.
//!
//! Must not issue or verify tokens, nor know how passwords are hashed: the
//! gateway does both and hands a [`PasswordHasher`] in.

pub mod access;
pub mod audit_log;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod partners;
pub mod password;
pub mod programs;
pub mod resellers;
pub mod roles;
pub mod sales_platforms;
pub mod service;
pub mod tenant;
pub mod users;

pub use error::AccountsError;
pub use password::{HashingError, HashingLimits, PasswordHasher};
pub use service::{AccountStatus, Accounts};
pub use tenant::Tenant;
