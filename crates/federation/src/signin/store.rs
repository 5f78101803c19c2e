//! The `federation_answered_requests` and `federation_login_codes` tables.
//! A request is spent by inserting its row, a code by deleting its row: of
//! racing spenders exactly one succeeds, on every replica.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::entity::{answered_request as answered, login_code as code};

/// Records that the AuthnRequest `id` was answered; `false` when it was
/// already.
pub async fn answer_request(
    conn: &impl ConnectionTrait,
    id: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = answered::ActiveModel {
        id: Set(id.to_owned()),
        expires_at: Set(expires_at),
    };
    let inserted = answered::Entity::insert(row)
        .on_conflict(
            OnConflict::column(answered::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(inserted == 1)
}

/// Stores a login code's hash.
pub async fn issue_code(
    conn: &impl ConnectionTrait,
    code_hash: Vec<u8>,
    idp_id: &str,
    customer_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = code::ActiveModel {
        code_hash: Set(code_hash),
        idp_id: Set(idp_id.to_owned()),
        customer_id: Set(customer_id.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    };
    code::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Spends the code with this hash; `None` when unknown, used or expired.
pub async fn spend_code(
    conn: &impl ConnectionTrait,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<code::Model>, DbErr> {
    let Some(row) = code::Entity::find_by_id(code_hash.to_vec())
        .filter(code::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = code::Entity::delete_many()
        .filter(code::Column::CodeHash.eq(code_hash.to_vec()))
        .exec(conn)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(row))
}

/// Forgets the answered requests and login codes that have expired.
pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let requests = answered::Entity::delete_many()
        .filter(answered::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    let codes = code::Entity::delete_many()
        .filter(code::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    Ok(requests.rows_affected + codes.rows_affected)
}
