//! Queries on `access_keys`. Every query on tenant data starts from
//! [`keys_of`]; the one platform-wide lookup is the exchange's, which learns
//! the tenant from the row, and says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{AccessKeyId, PartnerId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::ACTIVE;
use crate::entity::access_key;

/// The keys of one partner.
pub fn keys_of(partner: PartnerId) -> Select<access_key::Entity> {
    access_key::Entity::find().filter(access_key::Column::PartnerId.eq(partner.to_string()))
}

/// One key of one partner.
pub async fn key_in_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: AccessKeyId,
) -> Result<Option<access_key::Model>, DbErr> {
    keys_of(partner)
        .filter(access_key::Column::Id.eq(id.to_string()))
        .one(conn)
        .await
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

/// A page of one partner's keys after `after`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: Option<UserId>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<access_key::Model>, DbErr> {
    let mut q = keys_of(partner);
    if let Some(user) = user {
        q = q.filter(access_key::Column::UserId.eq(user.to_string()));
    }
    if let Some(after) = after {
        q = q.filter(access_key::Column::Id.gt(after));
    }
    q.order_by_asc(access_key::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// A key by id, whatever its partner: for the exchange, where the key id and
/// secret are the credential and the tenant comes from the row.
pub async fn key_for_exchange(
    conn: &impl ConnectionTrait,
    id: AccessKeyId,
) -> Result<Option<access_key::Model>, DbErr> {
    access_key::Entity::find_by_id(id.to_string())
        .one(conn)
        .await
}

/// Records a use of an ACTIVE key; 0 rows when it is no longer active. The
/// update also locks the row until the transaction ends, so a concurrent
/// disable or delete either waits for the new session (and then revokes it)
/// or wins first (and this finds 0 rows).
pub async fn mark_used(
    conn: &impl ConnectionTrait,
    id: AccessKeyId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(access_key::Entity::update_many()
        .col_expr(access_key::Column::LastUsedAt, Expr::value(now))
        .filter(access_key::Column::Id.eq(id.to_string()))
        .filter(access_key::Column::State.eq(ACTIVE))
        .exec(conn)
        .await?
        .rows_affected)
}
