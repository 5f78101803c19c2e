//! The `federation_answered_requests` and `federation_login_codes` tables.
//! A request is spent by inserting its row, a code by deleting its row: of
//! racing spenders exactly one succeeds, on every replica.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::entity::{answered_request as answered, login_code as code};

/// Records that the AuthnRequest `id` was answered; `false` when it was
/// already. Expired records (of every IdP) are pruned on the way.
pub async fn answer_request(
    conn: &impl ConnectionTrait,
    id: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    answered::Entity::delete_many()
        .filter(answered::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
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

/// Stores a login code's hash; expired codes are pruned on the way.
pub async fn issue_code(
    conn: &impl ConnectionTrait,
    code_hash: String,
    idp_id: &str,
    customer_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    code::Entity::delete_many()
        .filter(code::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
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
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<code::Model>, DbErr> {
    let Some(row) = code::Entity::find_by_id(code_hash.to_owned())
        .filter(code::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = code::Entity::delete_many()
        .filter(code::Column::CodeHash.eq(code_hash))
        .exec(conn)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(row))
}
