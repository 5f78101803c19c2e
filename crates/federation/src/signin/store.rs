//! The `federation_login_requests` and `federation_login_codes` tables.
//! Both are spent by deleting the row: of racing spenders exactly one
//! deletes it, on every replica.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::entity::{login_code as code, login_request as request};

/// Remembers an AuthnRequest until `expires_at`; expired ones (of every
/// IdP) are pruned on the way.
pub async fn remember_request(
    conn: &impl ConnectionTrait,
    row: request::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    request::Entity::delete_many()
        .filter(request::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    request::Entity::insert(request::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Spends the outstanding request `id` sent for `idp_id`; `None` when there
/// is none (never sent, sent for another IdP, answered, or expired).
pub async fn spend_request(
    conn: &impl ConnectionTrait,
    id: &str,
    idp_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<request::Model>, DbErr> {
    let Some(row) = request::Entity::find_by_id(id.to_owned())
        .filter(request::Column::IdpId.eq(idp_id))
        .filter(request::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = request::Entity::delete_many()
        .filter(request::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(row))
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
