//! Acting on another user. A caller may act on itself; on another user only
//! if it holds every permission that user holds; and never on the master
//! unless it is the master. Otherwise a holder of `access_keys.create` could
//! mint the master's credentials, and a holder of `users.disable` lock out an
//! administrator. Every verb that acts on a user (its keys, its state, its
//! profile, its roles) asks here, inside its transaction.

use partner_kernel::permission::Catalog;
use partner_kernel::principal::{Actor, Principal};
use sea_orm::ConnectionTrait;

use super::User;
use crate::error::AccountsError;
use crate::roles;

/// The caller with its permissions as they are now, read through `conn` (the
/// verb's transaction): the set on the principal was computed when the
/// request was authenticated, possibly from a cache, and a role taken away
/// since must not still count.
pub(crate) async fn current(
    conn: &impl ConnectionTrait,
    catalog: &Catalog,
    caller: &Principal,
) -> Result<Principal, AccountsError> {
    let mut now = caller.clone();
    if let Actor::PartnerUser(partner) = caller.actor {
        now.permissions =
            roles::sub_user_permissions(conn, catalog, partner, caller.user()?).await?;
    }
    Ok(now)
}

/// `Ok` when `caller` (with [`current`] permissions) may act on `target`;
/// else `TARGET_OUTRANKS_CALLER`.
pub(crate) async fn may_act_on(
    conn: &impl ConnectionTrait,
    catalog: &Catalog,
    caller: &Principal,
    target: &User,
) -> Result<(), AccountsError> {
    if caller.user_id == Some(target.id) {
        return Ok(());
    }
    let Some(partner) = target.partner_id else {
        return Err(AccountsError::TargetOutranksCaller);
    };
    if target.is_master {
        return Err(AccountsError::TargetOutranksCaller);
    }
    let theirs = roles::sub_user_permissions(conn, catalog, partner, target.id).await?;
    if theirs.is_subset(&caller.permissions) {
        Ok(())
    } else {
        Err(AccountsError::TargetOutranksCaller)
    }
}
