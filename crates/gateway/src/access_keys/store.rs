//! Queries on `access_keys`. Every query on tenant data starts from
//! [`keys_of`], and every update and delete filters on partner and id; the
//! one platform-wide lookup is the exchange's, which learns the tenant from
//! the row, and says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{AccessKeyId, PartnerId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use super::model::{AccessKey, KeyState};
use crate::entity::access_key;
use partner_kernel::error::KernelError;

/// The keys of one partner.
pub fn keys_of(partner: PartnerId) -> Select<access_key::Entity> {
    access_key::Entity::find().filter(access_key::Column::PartnerId.eq(partner.to_string()))
}

/// One key of one partner.
pub async fn key_in_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: AccessKeyId,
) -> Result<Option<AccessKey>, KernelError> {
    let row = keys_of(partner)
        .filter(access_key::Column::Id.eq(id.to_string()))
        .one(conn)
        .await?;
    row.map(AccessKey::try_from).transpose()
}

/// How many keys (in any state) a user of `partner` holds.
pub async fn count_of_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
) -> Result<u64, DbErr> {
    keys_of(partner)
        .filter(access_key::Column::UserId.eq(user.to_string()))
        .count(conn)
        .await
}

/// Every key of one user of `partner`.
pub async fn keys_of_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
) -> Result<Vec<AccessKey>, KernelError> {
    let rows = keys_of(partner)
        .filter(access_key::Column::UserId.eq(user.to_string()))
        .order_by_asc(access_key::Column::Id)
        .all(conn)
        .await?;
    rows.into_iter().map(AccessKey::try_from).collect()
}

/// A page of one partner's keys after `after`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: Option<UserId>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<AccessKey>, KernelError> {
    let mut q = keys_of(partner);
    if let Some(user) = user {
        q = q.filter(access_key::Column::UserId.eq(user.to_string()));
    }
    if let Some(after) = after {
        q = q.filter(access_key::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(access_key::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter().map(AccessKey::try_from).collect()
}

/// Inserts an ACTIVE key.
pub async fn insert(
    conn: &impl ConnectionTrait,
    key: &AccessKey,
    secret_hash: Vec<u8>,
) -> Result<(), DbErr> {
    access_key::ActiveModel {
        id: Set(key.id.to_string()),
        partner_id: Set(key.partner_id.to_string()),
        user_id: Set(key.user_id.to_string()),
        description: Set(key.description.clone()),
        secret_hash: Set(secret_hash),
        state: Set(key.state.as_str().to_owned()),
        created_at: Set(key.created_at),
        updated_at: Set(key.updated_at),
        last_used_at: Set(key.last_used_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Disables an ACTIVE key of `partner`; false when it was no longer active
/// (the state condition makes two concurrent disables resolve to one).
pub async fn disable(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: AccessKeyId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changed = access_key::Entity::update_many()
        .col_expr(
            access_key::Column::State,
            Expr::value(KeyState::Disabled.as_str()),
        )
        .col_expr(access_key::Column::UpdatedAt, Expr::value(now))
        .filter(access_key::Column::PartnerId.eq(partner.to_string()))
        .filter(access_key::Column::Id.eq(id.to_string()))
        .filter(access_key::Column::State.eq(KeyState::Active.as_str()))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Deletes one key of `partner`; false when it was gone already.
pub async fn delete(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: AccessKeyId,
) -> Result<bool, DbErr> {
    let deleted = access_key::Entity::delete_many()
        .filter(access_key::Column::PartnerId.eq(partner.to_string()))
        .filter(access_key::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(deleted == 1)
}

/// A key for the exchange: its row by id, whatever its partner (the key id
/// and secret are the credential and the tenant comes from the row), with
/// the stored SHA-256 of its secret.
pub async fn key_for_exchange(
    conn: &impl ConnectionTrait,
    id: AccessKeyId,
) -> Result<Option<(AccessKey, Vec<u8>)>, KernelError> {
    let Some(row) = access_key::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let hash = row.secret_hash.clone();
    Ok(Some((AccessKey::try_from(row)?, hash)))
}

/// Records a use of an ACTIVE key of `partner`; 0 rows when it is no longer
/// active. The update also locks the row until the transaction ends, so a
/// concurrent disable or delete either waits for the new session (and then
/// revokes it) or wins first (and this finds 0 rows).
pub async fn mark_used(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: AccessKeyId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(access_key::Entity::update_many()
        .col_expr(access_key::Column::LastUsedAt, Expr::value(now))
        .filter(access_key::Column::PartnerId.eq(partner.to_string()))
        .filter(access_key::Column::Id.eq(id.to_string()))
        .filter(access_key::Column::State.eq(KeyState::Active.as_str()))
        .exec(conn)
        .await?
        .rows_affected)
}
