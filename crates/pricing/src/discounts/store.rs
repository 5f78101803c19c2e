//! Queries of the discount tables.

use chrono::{DateTime, Utc};
use partner_kernel::ids::PartnerId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{discount, policy, version};
use super::model::Kind;

/// Stores `row` as a new discount and as its first version.
pub async fn insert(conn: &impl ConnectionTrait, row: &discount::Model) -> Result<(), DbErr> {
    discount::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(conn)
        .await?;
    insert_version(conn, row).await
}

/// Replaces the discount with its next version `row` (whose version is one
/// more than the stored one) and keeps that version.
pub async fn replace(conn: &impl ConnectionTrait, row: &discount::Model) -> Result<(), DbErr> {
    let done = discount::Entity::update_many()
        // Every column is written: a converted model's values count as unchanged.
        .set(row.clone().into_active_model().reset_all())
        .filter(discount::Column::Id.eq(&row.id))
        .filter(discount::Column::Version.eq(row.version - 1))
        .exec(conn)
        .await?;
    if done.rows_affected != 1 {
        // Rows are read locked in the same transaction, so this is a bug.
        return Err(DbErr::RecordNotUpdated);
    }
    insert_version(conn, row).await
}

async fn insert_version(conn: &impl ConnectionTrait, row: &discount::Model) -> Result<(), DbErr> {
    let state = serde_json::to_string(row).map_err(|e| DbErr::Custom(e.to_string()))?;
    version::ActiveModel {
        discount_id: Set(row.id.clone()),
        version: Set(row.version),
        state: Set(state),
        changed_by: Set(row.updated_by.clone()),
        changed_at: Set(row.updated_at),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

/// One discount, locked until the transaction ends when `lock`.
pub async fn by_id(
    conn: &impl ConnectionTrait,
    id: &str,
    lock: bool,
) -> Result<Option<discount::Model>, DbErr> {
    let mut q = discount::Entity::find_by_id(id.to_owned());
    if lock {
        q = q.lock_exclusive();
    }
    q.one(conn).await
}

/// The partner-set discount in `slot`, locked until the transaction ends.
pub async fn in_slot(
    conn: &impl ConnectionTrait,
    slot: &str,
) -> Result<Option<discount::Model>, DbErr> {
    discount::Entity::find()
        .filter(discount::Column::Slot.eq(slot))
        .lock_exclusive()
        .one(conn)
        .await
}

/// The discounts not ended at `at` that may apply to buyers: promotions,
/// those of `customers`, and distributor contracts with one of
/// `distributors`, in id order. The caller sorts out whose each is, checks
/// each window at its time of use, and partner-set ones against the
/// customer's partner.
pub async fn not_ended(
    conn: &impl ConnectionTrait,
    customers: &[String],
    distributors: &[String],
    at: DateTime<Utc>,
) -> Result<Vec<discount::Model>, DbErr> {
    let mut whom = Condition::any().add(discount::Column::Kind.eq(Kind::Promotion.as_str()));
    if !customers.is_empty() {
        whom = whom.add(discount::Column::CustomerId.is_in(customers.iter().cloned()));
    }
    if !distributors.is_empty() {
        whom = whom.add(
            Condition::all()
                .add(discount::Column::Kind.eq(Kind::DistributorContract.as_str()))
                .add(discount::Column::PartnerId.is_in(distributors.iter().cloned())),
        );
    }
    discount::Entity::find()
        .filter(whom)
        .filter(
            Condition::any()
                .add(discount::Column::ValidUntil.is_null())
                .add(discount::Column::ValidUntil.gt(at)),
        )
        .order_by_asc(discount::Column::Id)
        .all(conn)
        .await
}

/// Every version of the discounts `ids`, by discount then version.
pub async fn versions_of(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<version::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    version::Entity::find()
        .filter(version::Column::DiscountId.is_in(ids.iter().cloned()))
        .order_by_asc(version::Column::DiscountId)
        .order_by_asc(version::Column::Version)
        .all(conn)
        .await
}

/// What a listing is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Rows naming this customer.
    pub customer: Option<String>,
    /// Rows naming this partner.
    pub partner: Option<String>,
    pub kind: Option<Kind>,
    /// Partner-set rows of this partner only (other kinds all).
    pub partner_sets_of: Option<String>,
}

/// A page of discounts after `after`, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ListFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<discount::Model>, DbErr> {
    let mut q = discount::Entity::find();
    if let Some(c) = &filter.customer {
        q = q.filter(discount::Column::CustomerId.eq(c));
    }
    if let Some(p) = &filter.partner {
        q = q.filter(discount::Column::PartnerId.eq(p));
    }
    if let Some(k) = filter.kind {
        q = q.filter(discount::Column::Kind.eq(k.as_str()));
    }
    if let Some(p) = &filter.partner_sets_of {
        q = q.filter(
            Condition::any()
                .add(discount::Column::Kind.ne(Kind::PartnerSet.as_str()))
                .add(discount::Column::PartnerId.eq(p)),
        );
    }
    if let Some(after) = after {
        q = q.filter(discount::Column::Id.lt(after));
    }
    q.order_by_desc(discount::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Every version of a discount, oldest first.
pub async fn versions(conn: &impl ConnectionTrait, id: &str) -> Result<Vec<version::Model>, DbErr> {
    version::Entity::find()
        .filter(version::Column::DiscountId.eq(id))
        .order_by_asc(version::Column::Version)
        .all(conn)
        .await
}

pub async fn insert_policy(conn: &impl ConnectionTrait, row: policy::Model) -> Result<(), DbErr> {
    policy::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn policy_by_id(
    conn: &impl ConnectionTrait,
    id: &str,
    lock: bool,
) -> Result<Option<policy::Model>, DbErr> {
    let mut q = policy::Entity::find_by_id(id.to_owned());
    if lock {
        q = q.lock_exclusive();
    }
    q.one(conn).await
}

pub async fn end_policy(
    conn: &impl ConnectionTrait,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    policy::Entity::update_many()
        .col_expr(
            policy::Column::ValidUntil,
            sea_orm::sea_query::Expr::value(at),
        )
        .col_expr(
            policy::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(policy::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

/// A partner's policies, oldest first.
pub async fn policies_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<Vec<policy::Model>, DbErr> {
    policies_of_many(conn, &[partner.to_string()]).await
}

/// The incentive policies of `partners`, in id order.
pub async fn policies_of_many(
    conn: &impl ConnectionTrait,
    partners: &[String],
) -> Result<Vec<policy::Model>, DbErr> {
    policy::Entity::find()
        .filter(policy::Column::PartnerId.is_in(partners.iter().cloned()))
        .order_by_asc(policy::Column::Id)
        .all(conn)
        .await
}
