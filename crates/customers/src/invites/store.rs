//! Queries on `association_invites`. Reads by token hash are platform-wide
//! (the hash comes from a secret only its holder has); everything else
//! filters on the partner.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::model::Invite;
use crate::entity::association_invite;
use crate::error::CustomersError;

/// The invitation whose token hashes to `hash`, locked until the
/// transaction ends when `lock` (PostgreSQL; SQLite's single writer already
/// serialises).
pub async fn platform_by_token_hash(
    conn: &impl ConnectionTrait,
    hash: &[u8],
    lock: bool,
) -> Result<Option<Invite>, CustomersError> {
    let mut q = association_invite::Entity::find()
        .filter(association_invite::Column::TokenHash.eq(hash.to_vec()));
    if lock {
        q = q.lock_exclusive();
    }
    Ok(q.one(conn).await?.map(Invite::from_row).transpose()?)
}

/// One of `partner`'s invitations, locked until the transaction ends.
pub async fn of_partner_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<Invite>, CustomersError> {
    Ok(association_invite::Entity::find()
        .filter(association_invite::Column::PartnerId.eq(partner.to_string()))
        .filter(association_invite::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?
        .map(Invite::from_row)
        .transpose()?)
}

/// Inserts an invitation.
pub async fn insert(
    conn: &impl ConnectionTrait,
    invite: &Invite,
    token_hash: Vec<u8>,
    created_by: UserId,
) -> Result<(), CustomersError> {
    let (xaccount_type, xaccount_id) = invite.xaccount.clone().unzip();
    association_invite::ActiveModel {
        id: Set(invite.id.clone()),
        partner_id: Set(invite.partner_id.to_string()),
        token_hash: Set(token_hash),
        association_type: Set(invite.association_type.as_str().to_owned()),
        xaccount_type: Set(xaccount_type),
        xaccount_id: Set(xaccount_id),
        max_uses: Set(invite.max_uses),
        uses: Set(invite.uses),
        failed_sign_ups: Set(0),
        expires_at: Set(invite.expires_at),
        revoked_at: Set(None),
        created_by: Set(created_by.to_string()),
        created_at: Set(invite.created_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Counts one use of a usable invitation; false when it is not usable by now.
pub async fn spend(
    conn: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, CustomersError> {
    let changed = association_invite::Entity::update_many()
        .col_expr(
            association_invite::Column::Uses,
            Expr::col(association_invite::Column::Uses).add(1),
        )
        .filter(association_invite::Column::Id.eq(id))
        .filter(association_invite::Column::RevokedAt.is_null())
        .filter(association_invite::Column::ExpiresAt.gt(now))
        .filter(
            Expr::col(association_invite::Column::Uses)
                .lt(Expr::col(association_invite::Column::MaxUses)),
        )
        .filter(association_invite::Column::FailedSignUps.lt(super::model::MAX_FAILED_SIGN_UPS))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Revokes one of `partner`'s invitations.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    association_invite::Entity::update_many()
        .col_expr(association_invite::Column::RevokedAt, Expr::value(now))
        .filter(association_invite::Column::PartnerId.eq(partner.to_string()))
        .filter(association_invite::Column::Id.eq(id))
        // Revoked once: a second revocation keeps the first time.
        .filter(association_invite::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Counts one refused sign-up with an invitation, if it has refusals left;
/// `false` when it has none, so that the refusal may not be told. One
/// statement decides, so concurrent sign-ups cannot all pass the cap.
pub async fn count_failed_sign_up(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<bool, CustomersError> {
    let changed = association_invite::Entity::update_many()
        .col_expr(
            association_invite::Column::FailedSignUps,
            Expr::col(association_invite::Column::FailedSignUps).add(1),
        )
        .filter(association_invite::Column::Id.eq(id))
        .filter(association_invite::Column::FailedSignUps.lt(super::model::MAX_FAILED_SIGN_UPS))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}
