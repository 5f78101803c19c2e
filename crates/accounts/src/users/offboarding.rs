//! What other domains undo when a user is disabled or deleted. The gateway
//! owns sessions and access keys; accounts must not write its tables, so it
//! hands this seam in (dependency inversion) and accounts calls it inside
//! the transaction that changes the user: all or nothing.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::write::Change;
use sea_orm::DatabaseTransaction;

/// Ends a user's ways in.
pub trait Offboarding: Send + Sync + std::fmt::Debug + 'static {
    /// Ends every session of `user`, inside `tx`; returns how many.
    fn end_sessions<'t>(
        &'t self,
        tx: &'t DatabaseTransaction,
        partner: PartnerId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'t, Result<u64, KernelError>>;

    /// Deletes every access key of `user`, inside `tx`; returns one change
    /// per key (audited, and announced as `access_key.deleted`).
    fn delete_access_keys<'t>(
        &'t self,
        tx: &'t DatabaseTransaction,
        partner: PartnerId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'t, Result<Vec<Change>, KernelError>>;
}
