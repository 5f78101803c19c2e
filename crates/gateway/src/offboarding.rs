//! The gateway's side of offboarding a user (`partner_accounts::users::Offboarding`):
//! when accounts disables or deletes a user, its sessions end and (on
//! deletion) its access keys go, in the same transaction as the change.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use partner_accounts::users::Offboarding;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::write::Change;
use sea_orm::DatabaseTransaction;

use crate::access_keys::store;
use crate::sessions::revoke_for_user;

/// Ends sessions and deletes access keys of offboarded users.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials;

impl Offboarding for Credentials {
    fn end_sessions<'t>(
        &'t self,
        tx: &'t DatabaseTransaction,
        partner: PartnerId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'t, Result<u64, KernelError>> {
        Box::pin(async move { Ok(revoke_for_user(tx, partner, user, now).await?) })
    }

    fn delete_access_keys<'t>(
        &'t self,
        tx: &'t DatabaseTransaction,
        partner: PartnerId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'t, Result<Vec<Change>, KernelError>> {
        Box::pin(async move {
            let mut changes = Vec::new();
            for key in store::keys_of_user(tx, partner, user).await? {
                store::delete(tx, partner, key.id).await?;
                changes.push(
                    Change::of(Some(partner), key.id)
                        .reason("the key's user was deleted".to_owned())
                        .before(key.audit_summary())
                        .announce("access_key.deleted"),
                );
            }
            // Their sessions are the user's, which `end_sessions` ended.
            revoke_for_user(tx, partner, user, now).await?;
            Ok(changes)
        })
    }
}
