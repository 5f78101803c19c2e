//! Queries on `sales_platform_ids`. An id is global (the key), but every
//! lookup a partner's call makes asks for the id *and* its partner, so a
//! partner can never use another's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partner_kernel::ids::PartnerId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::entity::sales_platform_id as row;

/// Whether `id` was issued to `partner`.
pub async fn owned_by(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<bool, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::SalesPlatformId.eq(id))
        .filter(row::Column::PartnerId.eq(partner.to_string()))
        .count(conn)
        .await?
        > 0)
}

/// Whether `id` was issued to anyone (ids are global).
pub async fn issued(conn: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    Ok(row::Entity::find_by_id(id).count(conn).await? > 0)
}

/// How many ids `partner` holds.
pub async fn count_of(conn: &impl ConnectionTrait, partner: PartnerId) -> Result<u64, DbErr> {
    row::Entity::find()
        .filter(row::Column::PartnerId.eq(partner.to_string()))
        .count(conn)
        .await
}

/// The ids of each of `partners`, oldest first.
pub async fn ids_of_many(
    conn: &impl ConnectionTrait,
    partners: Vec<String>,
) -> Result<HashMap<String, Vec<String>>, DbErr> {
    let rows = row::Entity::find()
        .filter(row::Column::PartnerId.is_in(partners))
        .order_by_asc(row::Column::CreatedAt)
        .order_by_asc(row::Column::SalesPlatformId)
        .all(conn)
        .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.partner_id)
            .or_default()
            .push(r.sales_platform_id);
    }
    Ok(out)
}

/// Issues `id` to `partner`; a unique-key conflict is the caller's to name.
pub(crate) async fn insert(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    row::ActiveModel {
        sales_platform_id: Set(id.to_owned()),
        partner_id: Set(partner.to_string()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}
