//! Queries on `reseller_links`, and the display names of the partners a
//! listing shows. Tenant data starts from [`links_of`] (a distributor's
//! links); the lookup by reseller, for the "already belongs to another
//! distributor" rule, says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::PartnerId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::LinkState;
use crate::entity::{partner, reseller_link};

/// The reseller links of one distributor.
pub fn links_of(distributor: PartnerId) -> Select<reseller_link::Entity> {
    reseller_link::Entity::find()
        .filter(reseller_link::Column::DistributorId.eq(distributor.to_string()))
}

/// The link from `distributor` to `reseller`, if any.
pub async fn link(
    conn: &impl ConnectionTrait,
    distributor: PartnerId,
    reseller: PartnerId,
) -> Result<Option<reseller_link::Model>, DbErr> {
    links_of(distributor)
        .filter(reseller_link::Column::ResellerId.eq(reseller.to_string()))
        .one(conn)
        .await
}

/// The link from `distributor` to `reseller`, share-locked until the
/// transaction ends (PostgreSQL; outside a transaction the lock ends with
/// the statement), for writes made while acting for the reseller.
pub async fn link_for_share(
    conn: &impl ConnectionTrait,
    distributor: PartnerId,
    reseller: PartnerId,
) -> Result<Option<reseller_link::Model>, DbErr> {
    links_of(distributor)
        .filter(reseller_link::Column::ResellerId.eq(reseller.to_string()))
        .lock_shared()
        .one(conn)
        .await
}

/// The link of a reseller to whichever distributor it has, for the
/// "already belongs to another distributor" rule.
pub async fn link_of_reseller(
    conn: &impl ConnectionTrait,
    reseller: PartnerId,
) -> Result<Option<reseller_link::Model>, DbErr> {
    reseller_link::Entity::find()
        .filter(reseller_link::Column::ResellerId.eq(reseller.to_string()))
        .one(conn)
        .await
}

/// A page of one distributor's links after reseller `after`, in reseller-id order.
pub async fn list_links(
    conn: &impl ConnectionTrait,
    distributor: PartnerId,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<reseller_link::Model>, DbErr> {
    let mut q = links_of(distributor);
    if let Some(after) = after {
        q = q.filter(reseller_link::Column::ResellerId.gt(after));
    }
    q.order_by_asc(reseller_link::Column::ResellerId)
        .limit(limit)
        .all(conn)
        .await
}

/// Display names of the partners of a listing page, by id.
pub async fn partner_names(
    conn: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    Ok(partner::Entity::find()
        .filter(partner::Column::PartnerId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.partner_id, p.display_name))
        .collect())
}

/// Links `reseller` to `distributor`, ACTIVE; a unique-index conflict (the
/// reseller is linked meanwhile) is the caller's to name.
pub(crate) async fn insert_link(
    conn: &impl ConnectionTrait,
    distributor: PartnerId,
    reseller: PartnerId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    reseller_link::ActiveModel {
        distributor_id: Set(distributor.to_string()),
        reseller_id: Set(reseller.to_string()),
        state: Set(LinkState::Active.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Moves the link from `distributor` to `reseller` to `to`; `None` when there
/// is no such link.
pub(crate) async fn set_link_state(
    conn: &impl ConnectionTrait,
    distributor: PartnerId,
    reseller: PartnerId,
    to: LinkState,
    now: DateTime<Utc>,
) -> Result<Option<reseller_link::Model>, DbErr> {
    let changed = reseller_link::Entity::update_many()
        .col_expr(reseller_link::Column::State, Expr::value(to.as_str()))
        .col_expr(reseller_link::Column::UpdatedAt, Expr::value(now))
        .filter(reseller_link::Column::DistributorId.eq(distributor.to_string()))
        .filter(reseller_link::Column::ResellerId.eq(reseller.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(None);
    }
    link(conn, distributor, reseller).await
}
