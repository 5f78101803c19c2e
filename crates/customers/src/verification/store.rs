//! Queries on `customer_verifications`. Partners' reads filter on partner
//! and customer; the operator's review finds a submission by its id alone
//! (the operator reviews every partner's) and says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{CustomerId, PartnerId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::{Verification, VerificationState};
use crate::entity::customer_verification as row;
use crate::error::CustomersError;

fn convert(m: Option<row::Model>) -> Result<Option<Verification>, CustomersError> {
    m.map(Verification::try_from)
        .transpose()
        .map_err(CustomersError::from)
}

/// The latest submission for one customer of one partner.
pub async fn latest_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    customer: CustomerId,
) -> Result<Option<Verification>, CustomersError> {
    convert(
        row::Entity::find()
            .filter(row::Column::PartnerId.eq(partner.to_string()))
            .filter(row::Column::CustomerId.eq(customer.to_string()))
            .order_by_desc(row::Column::Id)
            .one(conn)
            .await?,
    )
}

/// The latest submission for a customer, whoever its partner (operator).
pub async fn platform_latest_of(
    conn: &impl ConnectionTrait,
    customer: CustomerId,
) -> Result<Option<Verification>, CustomersError> {
    convert(
        row::Entity::find()
            .filter(row::Column::CustomerId.eq(customer.to_string()))
            .order_by_desc(row::Column::Id)
            .one(conn)
            .await?,
    )
}

/// A submission by id, whoever its partner, locked for the review (operator).
pub async fn platform_by_id_for_update(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Verification>, CustomersError> {
    convert(
        row::Entity::find_by_id(id)
            .lock_exclusive()
            .one(conn)
            .await?,
    )
}

/// Stores a new submission, REVIEWING.
pub async fn insert(
    conn: &impl ConnectionTrait,
    v: &Verification,
    submitted_by: String,
) -> Result<(), CustomersError> {
    row::ActiveModel {
        id: Set(v.id.clone()),
        partner_id: Set(v.partner_id.to_string()),
        customer_id: Set(v.customer_id.to_string()),
        kind: Set(v.details.kind().as_str().to_owned()),
        state: Set(v.state.as_str().to_owned()),
        details: Set(v.details.to_stored()),
        reject_reason: Set(None),
        change_to_enterprise: Set(v.change_to_enterprise),
        submitted_by: Set(submitted_by),
        reviewed_by: Set(None),
        submitted_at: Set(v.submitted_at),
        reviewed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records the review of submission `id` of `partner`.
pub async fn set_review(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    state: VerificationState,
    reason: Option<String>,
    reviewer: UserId,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    row::Entity::update_many()
        .col_expr(row::Column::State, Expr::value(state.as_str()))
        .col_expr(row::Column::RejectReason, Expr::value(reason))
        .col_expr(row::Column::ReviewedBy, Expr::value(reviewer.to_string()))
        .col_expr(row::Column::ReviewedAt, Expr::value(now))
        .filter(row::Column::PartnerId.eq(partner.to_string()))
        .filter(row::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
