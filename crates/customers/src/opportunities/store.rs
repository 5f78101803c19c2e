//! Queries on `opportunities` and `routing_rules`. A partner's queries start
//! from [`opportunities_of`]; the operator's say so in their names. The
//! routing table is the platform's, not a tenant's.

use chrono::{DateTime, Utc};
use partner_kernel::ids::PartnerId;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::model::{Opportunity, OpportunityState, RoutingRule};
use crate::entity::{opportunity as row, routing_rule};
use crate::error::CustomersError;

/// The opportunities of one partner.
pub fn opportunities_of(partner: PartnerId) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::PartnerId.eq(partner.to_string()))
}

fn one(m: Option<row::Model>) -> Result<Option<Opportunity>, CustomersError> {
    m.map(Opportunity::try_from)
        .transpose()
        .map_err(CustomersError::from)
}

/// One opportunity of one partner, locked when `lock`.
pub async fn opportunity_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    lock: bool,
) -> Result<Option<Opportunity>, CustomersError> {
    let mut q = opportunities_of(partner).filter(row::Column::Id.eq(id));
    if lock {
        q = q.lock_exclusive();
    }
    one(q.one(conn).await?)
}

/// Any opportunity by id (operator), locked when `lock`.
pub async fn platform_opportunity(
    conn: &impl ConnectionTrait,
    id: &str,
    lock: bool,
) -> Result<Option<Opportunity>, CustomersError> {
    let mut q = row::Entity::find_by_id(id);
    if lock {
        q = q.lock_exclusive();
    }
    one(q.one(conn).await?)
}

/// Whose opportunities a listing shows.
#[derive(Debug, Clone)]
pub enum Scope {
    Partner(PartnerId),
    /// Operator: every one, or one office's.
    Platform {
        office: Option<String>,
    },
}

/// A page of opportunities after `after`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    state: Option<OpportunityState>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Opportunity>, CustomersError> {
    let mut q = match scope {
        Scope::Partner(p) => opportunities_of(*p),
        Scope::Platform { office: None } => row::Entity::find(),
        Scope::Platform {
            office: Some(office),
        } => row::Entity::find().filter(row::Column::Office.eq(office.as_str())),
    };
    if let Some(state) = state {
        q = q.filter(row::Column::State.eq(state.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(row::Column::Id.gt(after));
    }
    q.order_by_asc(row::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Opportunity::try_from(m).map_err(CustomersError::from))
        .collect()
}

/// Stores a new opportunity.
pub async fn insert(conn: &impl ConnectionTrait, o: &Opportunity) -> Result<(), CustomersError> {
    row::ActiveModel {
        id: Set(o.id.clone()),
        partner_id: Set(o.partner_id.to_string()),
        state: Set(o.state.as_str().to_owned()),
        customer_name: Set(o.customer_name.clone()),
        customer_email: Set(o.customer_email.clone()),
        country: Set(o.country.clone()),
        region: Set(o.region.clone()),
        description: Set(o.description.clone()),
        expected_currency: Set(o.expected_amount.map(|m| m.currency().code().to_owned())),
        expected_minor: Set(o.expected_amount.map(|m| m.minor())),
        routing: Set(o.routing.as_str().to_owned()),
        office: Set(o.office.clone()),
        reason: Set(None),
        created_at: Set(o.created_at),
        updated_at: Set(o.updated_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Moves one opportunity of `partner` to `state`, keeping `reason`.
pub async fn set_state(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    state: OpportunityState,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    let changed = row::Entity::update_many()
        .col_expr(row::Column::State, Expr::value(state.as_str()))
        .col_expr(row::Column::Reason, Expr::value(reason))
        .col_expr(row::Column::UpdatedAt, Expr::value(now))
        .filter(row::Column::PartnerId.eq(partner.to_string()))
        .filter(row::Column::Id.eq(id))
        .exec(conn)
        .await?
        .rows_affected;
    if changed == 1 {
        Ok(())
    } else {
        Err(CustomersError::OpportunityNotFound)
    }
}

/// The rule for `(country, region)`, falling back to the country's.
pub async fn route(
    conn: &impl ConnectionTrait,
    country: &str,
    region: &str,
) -> Result<Option<RoutingRule>, CustomersError> {
    let keys = vec![
        RoutingRule::key(country, region),
        RoutingRule::key(country, ""),
    ];
    let rules: Vec<RoutingRule> = routing_rule::Entity::find()
        .filter(routing_rule::Column::RuleKey.is_in(keys.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(RoutingRule::from)
        .collect();
    Ok(keys
        .iter()
        .find_map(|k| {
            rules
                .iter()
                .find(|r| &RoutingRule::key(&r.country, &r.region) == k)
        })
        .cloned())
}

/// Sets the rule for `(country, region)`, replacing the one before.
pub async fn upsert_rule(
    conn: &impl ConnectionTrait,
    rule: &RoutingRule,
) -> Result<(), CustomersError> {
    let model = routing_rule::ActiveModel {
        rule_key: Set(RoutingRule::key(&rule.country, &rule.region)),
        country: Set(rule.country.clone()),
        region: Set(rule.region.clone()),
        office: Set(rule.office.clone()),
        updated_at: Set(rule.updated_at),
    };
    routing_rule::Entity::insert(model)
        .on_conflict(
            OnConflict::column(routing_rule::Column::RuleKey)
                .update_columns([
                    routing_rule::Column::Office,
                    routing_rule::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// A page of the routing table after key `after`.
pub async fn list_rules(
    conn: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<RoutingRule>, CustomersError> {
    let mut q = routing_rule::Entity::find();
    if let Some(after) = after {
        q = q.filter(routing_rule::Column::RuleKey.gt(after));
    }
    Ok(q.order_by_asc(routing_rule::Column::RuleKey)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(RoutingRule::from)
        .collect())
}
