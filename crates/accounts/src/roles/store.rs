//! Queries on `roles` and `role_members`. Every query is scoped to one partner,
//! except the per-user read, which is keyed by the (globally unique) user id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partner_kernel::ids::{PartnerId, RoleId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::{role, role_member, user};

/// The columns of a custom role to write; `None` leaves one alone (on
/// insert every one is given).
#[derive(Debug, Default)]
pub(crate) struct RoleFields {
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// Stored permission ids, space-separated.
    pub permissions: Option<String>,
}

/// Inserts a custom role of `partner`.
pub(crate) async fn insert_role(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: RoleId,
    fields: RoleFields,
    now: DateTime<Utc>,
) -> Result<role::Model, DbErr> {
    role::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(partner.to_string()),
        display_name: Set(fields.display_name.unwrap_or_default()),
        description: Set(fields.description.unwrap_or_default()),
        permissions: Set(fields.permissions.unwrap_or_default()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
}

/// Updates a custom role of `partner`; `None` when it does not exist.
pub(crate) async fn update_role(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: RoleId,
    fields: RoleFields,
    now: DateTime<Utc>,
) -> Result<Option<role::Model>, DbErr> {
    let mut q = role::Entity::update_many().col_expr(role::Column::UpdatedAt, Expr::value(now));
    if let Some(v) = fields.display_name {
        q = q.col_expr(role::Column::DisplayName, Expr::value(v));
    }
    if let Some(v) = fields.description {
        q = q.col_expr(role::Column::Description, Expr::value(v));
    }
    if let Some(v) = fields.permissions {
        q = q.col_expr(role::Column::Permissions, Expr::value(v));
    }
    let changed = q
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .filter(role::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(None);
    }
    custom_role(conn, partner, id).await
}

/// Deletes a custom role of `partner`; false when it did not exist.
pub(crate) async fn delete_role(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: RoleId,
) -> Result<bool, DbErr> {
    let deleted = role::Entity::delete_many()
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .filter(role::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(deleted == 1)
}

/// Gives one user of `partner` a role.
pub(crate) async fn insert_member(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    role_id: &str,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    role_member::ActiveModel {
        role_id: Set(role_id.to_owned()),
        user_id: Set(user.to_string()),
        partner_id: Set(partner.to_string()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// One custom role of one partner.
pub async fn custom_role(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: RoleId,
) -> Result<Option<role::Model>, DbErr> {
    role::Entity::find()
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .filter(role::Column::Id.eq(id.to_string()))
        .one(conn)
        .await
}

/// A page of one partner's custom roles after `after`, oldest first.
pub async fn list_custom_roles(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<role::Model>, DbErr> {
    let mut q = role::Entity::find().filter(role::Column::PartnerId.eq(partner.to_string()));
    if let Some(after) = after {
        q = q.filter(role::Column::Id.gt(after));
    }
    q.order_by_asc(role::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// How many custom roles a partner has.
pub async fn count_custom_roles(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    role::Entity::find()
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .count(conn)
        .await
}

/// Whether another custom role of the partner already has this name.
pub async fn name_taken(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    display_name: &str,
    except: Option<RoleId>,
) -> Result<bool, DbErr> {
    let mut q = role::Entity::find()
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .filter(role::Column::DisplayName.eq(display_name));
    if let Some(id) = except {
        q = q.filter(role::Column::Id.ne(id.to_string()));
    }
    Ok(q.one(conn).await?.is_some())
}

/// Member count of every role of the partner that has members.
pub async fn member_counts(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<HashMap<String, u64>, DbErr> {
    let rows: Vec<(String, i64)> = role_member::Entity::find()
        .select_only()
        .column(role_member::Column::RoleId)
        .column_as(Expr::col(role_member::Column::UserId).count(), "members")
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .group_by(role_member::Column::RoleId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(role, n)| (role, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Member count of one role of the partner.
pub async fn member_count(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    role_id: &str,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    role_member::Entity::find()
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .filter(role_member::Column::RoleId.eq(role_id))
        .count(conn)
        .await
}

/// A page of a role's members after `after`, by user id, in one query.
pub async fn members(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    role_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let holders = Query::select()
        .column(role_member::Column::UserId)
        .from(role_member::Entity)
        .and_where(role_member::Column::PartnerId.eq(partner.to_string()))
        .and_where(role_member::Column::RoleId.eq(role_id))
        .to_owned();
    let mut q =
        crate::users::store::users_of(partner).filter(user::Column::Id.in_subquery(holders));
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    q.order_by_asc(user::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The ids of the roles a user of `partner` holds, sorted.
pub async fn role_ids_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
) -> Result<Vec<String>, DbErr> {
    role_member::Entity::find()
        .select_only()
        .column(role_member::Column::RoleId)
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .filter(role_member::Column::UserId.eq(user.to_string()))
        .order_by_asc(role_member::Column::RoleId)
        .into_tuple()
        .all(conn)
        .await
}

/// The stored permission lists of some custom roles of one partner.
pub async fn custom_role_permissions(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    ids: Vec<String>,
) -> Result<Vec<String>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    role::Entity::find()
        .select_only()
        .column(role::Column::Permissions)
        .filter(role::Column::PartnerId.eq(partner.to_string()))
        .filter(role::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await
}

/// Removes every membership of a role; returns how many there were.
pub async fn delete_members(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    role_id: &str,
) -> Result<u64, DbErr> {
    let res = role_member::Entity::delete_many()
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .filter(role_member::Column::RoleId.eq(role_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Removes one membership; returns whether it existed.
pub async fn delete_member(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    role_id: &str,
    user: UserId,
) -> Result<bool, DbErr> {
    let res = role_member::Entity::delete_many()
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .filter(role_member::Column::RoleId.eq(role_id))
        .filter(role_member::Column::UserId.eq(user.to_string()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Removes every role of one user of `partner`; returns how many it held.
pub async fn delete_memberships_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
) -> Result<u64, DbErr> {
    let res = role_member::Entity::delete_many()
        .filter(role_member::Column::PartnerId.eq(partner.to_string()))
        .filter(role_member::Column::UserId.eq(user.to_string()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}
