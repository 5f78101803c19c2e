//! Queries on `customer_budgets` and `customer_budget_records`; every one
//! filters on the partner and the customer.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::ids::{CustomerId, PartnerId, UserId};
use partner_kernel::money::{Currency, Money};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::{Budget, BudgetType, month_key};
use crate::entity::{customer_budget, customer_budget_record};
use crate::error::CustomersError;

/// The budget of one customer of one partner, as it stands in `month`
/// (see [`budget_month`](super::model::budget_month)).
pub async fn budget_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    month: NaiveDate,
) -> Result<Option<Budget>, CustomersError> {
    customer_budget::Entity::find()
        .filter(customer_budget::Column::PartnerId.eq(partner.to_string()))
        .filter(customer_budget::Column::CustomerId.eq(id.to_string()))
        .one(conn)
        .await?
        .map(|m| Budget::from_stored(m, month))
        .transpose()
        .map_err(CustomersError::from)
}

/// Counts `amount` the customer spent (a paid order) against its budget
/// `b` (as read in this transaction for the month of the spending, under
/// the customer's row lock, which the caller holds), if it is in that
/// currency, and records it as a consumption with `partner`; the budget
/// after. A monthly budget counted in an earlier month starts the new one
/// with this amount.
pub async fn consume(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    mut b: Budget,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<Budget, CustomersError> {
    if b.amount.currency() != amount.currency() || !amount.is_positive() {
        return Ok(b);
    }
    b.used = Money::from_minor(
        amount.currency(),
        b.used.minor().saturating_add(amount.minor()),
    );
    let (partner, id) = (partner.to_string(), b.customer_id.to_string());
    // Relative, so a consumption never overwrites another's.
    let added = Expr::col(customer_budget::Column::UsedMinor).add(amount.minor());
    let used = match b.month {
        None => added,
        // A month's first consumption replaces an earlier month's count;
        // `YYYY-MM` compares as text in calendar order on both databases.
        Some(month) => Expr::case(
            Expr::col(customer_budget::Column::UsedMonth)
                .gte(month_key(month))
                .or(Expr::col(customer_budget::Column::UsedMonth).is_null()),
            added,
        )
        .finally(amount.minor())
        .into(),
    };
    let mut update = customer_budget::Entity::update_many()
        .col_expr(customer_budget::Column::UsedMinor, used)
        .col_expr(customer_budget::Column::UpdatedAt, Expr::value(now));
    if let Some(month) = b.month {
        // Never moved back: a later month stays.
        let key = month_key(month);
        update = update.col_expr(
            customer_budget::Column::UsedMonth,
            Expr::case(
                Expr::col(customer_budget::Column::UsedMonth).gt(key.clone()),
                Expr::col(customer_budget::Column::UsedMonth),
            )
            .finally(key)
            .into(),
        );
    }
    update
        .filter(customer_budget::Column::PartnerId.eq(partner.as_str()))
        .filter(customer_budget::Column::CustomerId.eq(id.as_str()))
        .exec(conn)
        .await?;
    customer_budget_record::Entity::insert(customer_budget_record::ActiveModel {
        id: Set(format!("bgr_{}", uuid::Uuid::now_v7().simple())),
        partner_id: Set(partner),
        customer_id: Set(id),
        kind: Set("CONSUMPTION".to_owned()),
        currency: Set(amount.currency().code().to_owned()),
        amount_minor: Set(amount.minor()),
        budget_type: Set(b.budget_type.as_str().to_owned()),
        auto_freeze: Set(b.auto_freeze),
        actor_user_id: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(b)
}

/// The budgets of one partner's customers among `ids`, as they stand in
/// `month`.
pub async fn budgets_among(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    ids: &[CustomerId],
    month: NaiveDate,
) -> Result<HashMap<CustomerId, Budget>, CustomersError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    customer_budget::Entity::find()
        .filter(customer_budget::Column::PartnerId.eq(partner.to_string()))
        .filter(customer_budget::Column::CustomerId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Budget::from_stored(m, month).map(|b| (b.customer_id, b)))
        .collect::<Result<_, _>>()
        .map_err(CustomersError::from)
}

/// Writes `b` as the customer's budget: inserted, or (`exists`) updated in
/// place, filtered on partner and customer.
pub async fn upsert(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    b: &Budget,
    exists: bool,
) -> Result<(), CustomersError> {
    if exists {
        customer_budget::Entity::update_many()
            .col_expr(
                customer_budget::Column::Currency,
                Expr::value(b.amount.currency().code()),
            )
            .col_expr(
                customer_budget::Column::AmountMinor,
                Expr::value(b.amount.minor()),
            )
            .col_expr(
                customer_budget::Column::UsedMinor,
                Expr::value(b.used.minor()),
            )
            .col_expr(
                customer_budget::Column::BudgetType,
                Expr::value(b.budget_type.as_str()),
            )
            .col_expr(
                customer_budget::Column::AutoFreeze,
                Expr::value(b.auto_freeze),
            )
            .col_expr(
                customer_budget::Column::UsedMonth,
                Expr::value(b.month.map(month_key)),
            )
            .col_expr(
                customer_budget::Column::UpdatedAt,
                Expr::value(b.updated_at),
            )
            .filter(customer_budget::Column::PartnerId.eq(partner.to_string()))
            .filter(customer_budget::Column::CustomerId.eq(b.customer_id.to_string()))
            .exec(conn)
            .await?;
    } else {
        customer_budget::ActiveModel {
            customer_id: Set(b.customer_id.to_string()),
            partner_id: Set(partner.to_string()),
            currency: Set(b.amount.currency().code().to_owned()),
            amount_minor: Set(b.amount.minor()),
            used_minor: Set(b.used.minor()),
            budget_type: Set(b.budget_type.as_str().to_owned()),
            auto_freeze: Set(b.auto_freeze),
            updated_at: Set(b.updated_at),
            used_month: Set(b.month.map(month_key)),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Records that `actor` set the budget `b`.
pub async fn insert_record(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    b: &Budget,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    customer_budget_record::ActiveModel {
        id: Set(format!("bgr_{}", uuid::Uuid::now_v7().simple())),
        partner_id: Set(partner.to_string()),
        customer_id: Set(b.customer_id.to_string()),
        kind: Set("SET".to_owned()),
        currency: Set(b.amount.currency().code().to_owned()),
        amount_minor: Set(b.amount.minor()),
        budget_type: Set(b.budget_type.as_str().to_owned()),
        auto_freeze: Set(b.auto_freeze),
        actor_user_id: Set(Some(actor.to_string())),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A page of one customer's budget records after `after`, oldest first.
pub async fn list_records(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<pb::BudgetRecord>, CustomersError> {
    let mut q = customer_budget_record::Entity::find()
        .filter(customer_budget_record::Column::PartnerId.eq(partner.to_string()))
        .filter(customer_budget_record::Column::CustomerId.eq(id.to_string()));
    if let Some(after) = after {
        q = q.filter(customer_budget_record::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(customer_budget_record::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter().map(record_to_proto).collect()
}

fn record_to_proto(m: customer_budget_record::Model) -> Result<pb::BudgetRecord, CustomersError> {
    let corrupt = |what: &str| {
        CustomersError::Kernel(partner_kernel::error::KernelError::Corrupt(format!(
            "budget record {}: {what}",
            m.id
        )))
    };
    let currency = Currency::parse(&m.currency).map_err(|_| corrupt("currency"))?;
    let kind = match m.kind.as_str() {
        "SET" => pb::BudgetRecordKind::Set,
        "CONSUMPTION" => pb::BudgetRecordKind::Consumption,
        _ => return Err(corrupt("kind")),
    };
    Ok(pb::BudgetRecord {
        record_id: m.id.clone(),
        customer_id: m.customer_id.clone(),
        kind: kind.into(),
        amount: Some(Money::from_minor(currency, m.amount_minor).to_proto()),
        budget_type: BudgetType::parse(&m.budget_type)?.to_proto().into(),
        auto_freeze: m.auto_freeze,
        actor_user_id: m.actor_user_id.clone().unwrap_or_default(),
        create_time: Some(to_proto_timestamp(m.created_at)),
    })
}

/// Removes the budget of one customer of `partner` (it leaves the partner);
/// its records stay.
pub async fn delete_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
) -> Result<(), CustomersError> {
    customer_budget::Entity::delete_many()
        .filter(customer_budget::Column::PartnerId.eq(partner.to_string()))
        .filter(customer_budget::Column::CustomerId.eq(id.to_string()))
        .exec(conn)
        .await?;
    Ok(())
}
