//! Queries on `leads`, `lead_follow_ups` and `outbound_calls`. A partner's
//! queries start from [`leads_of`]; the operator's (its pool of undispatched
//! leads, any lead by id) say so in their names. Updates filter on the lead
//! and on its partner as it was read (`NULL` for the pool).

use chrono::{DateTime, Utc};
use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::model::{Lead, LeadSource, LeadState};
use crate::entity::{lead, lead_follow_up, outbound_call};
use crate::error::CustomersError;

/// At most this many follow-ups are shown with a lead.
const FOLLOW_UPS_SHOWN: u64 = 100;

/// The leads of one partner.
pub fn leads_of(partner: PartnerId) -> Select<lead::Entity> {
    lead::Entity::find().filter(lead::Column::PartnerId.eq(partner.to_string()))
}

fn one(m: Option<lead::Model>) -> Result<Option<Lead>, CustomersError> {
    m.map(Lead::try_from)
        .transpose()
        .map_err(CustomersError::from)
}

/// One lead of one partner, locked for a change.
pub async fn lead_of_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<Lead>, CustomersError> {
    one(leads_of(partner)
        .filter(lead::Column::Id.eq(id))
        .lock_exclusive()
        .one(conn)
        .await?)
}

/// One lead of one partner.
pub async fn lead_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<Lead>, CustomersError> {
    one(leads_of(partner)
        .filter(lead::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// Any lead by id (operator).
pub async fn platform_lead(
    conn: &impl ConnectionTrait,
    id: &str,
    lock: bool,
) -> Result<Option<Lead>, CustomersError> {
    let mut q = lead::Entity::find_by_id(id);
    if lock {
        q = q.lock_exclusive();
    }
    one(q.one(conn).await?)
}

/// What a listing is narrowed to.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeadFilter {
    pub state: Option<LeadState>,
    pub source: Option<LeadSource>,
}

/// Whose leads a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// One partner's.
    Partner(PartnerId),
    /// The operator's pool of undispatched leads.
    Pool,
    /// Every lead (operator).
    Everyone,
}

/// A page of leads after `after`, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    owner: Owner,
    filter: LeadFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Lead>, CustomersError> {
    let mut q = match owner {
        Owner::Partner(p) => leads_of(p),
        Owner::Pool => lead::Entity::find().filter(lead::Column::PartnerId.is_null()),
        Owner::Everyone => lead::Entity::find(),
    };
    if let Some(state) = filter.state {
        q = q.filter(lead::Column::State.eq(state.as_str()));
    }
    if let Some(source) = filter.source {
        q = q.filter(lead::Column::Source.eq(source.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(lead::Column::Id.gt(after));
    }
    q.order_by_asc(lead::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Lead::try_from(m).map_err(CustomersError::from))
        .collect()
}

/// Stores a new lead.
pub async fn insert(conn: &impl ConnectionTrait, l: &Lead) -> Result<(), CustomersError> {
    lead::ActiveModel {
        id: Set(l.id.clone()),
        partner_id: Set(l.partner_id.map(|p| p.to_string())),
        source: Set(l.source.as_str().to_owned()),
        state: Set(l.state.as_str().to_owned()),
        company_name: Set(l.company_name.clone()),
        contact_name: Set(l.contact_name.clone()),
        phone: Set(l.phone.clone()),
        email: Set(l.email.clone()),
        description: Set(l.description.clone()),
        customer_id: Set(None),
        close_reason: Set(None),
        dispatched_at: Set(None),
        created_at: Set(l.created_at),
        updated_at: Set(l.updated_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Writes `after` over the lead as it was read (`before`): filtered on its
/// id and on the partner it had, so a lead dispatched meanwhile is not
/// overwritten.
pub async fn save(
    conn: &impl ConnectionTrait,
    before: &Lead,
    after: &Lead,
) -> Result<(), CustomersError> {
    let sets: Vec<(lead::Column, SimpleExpr)> = vec![
        (
            lead::Column::PartnerId,
            Expr::value(after.partner_id.map(|p| p.to_string())),
        ),
        (lead::Column::State, Expr::value(after.state.as_str())),
        (
            lead::Column::CompanyName,
            Expr::value(after.company_name.clone()),
        ),
        (
            lead::Column::ContactName,
            Expr::value(after.contact_name.clone()),
        ),
        (lead::Column::Phone, Expr::value(after.phone.clone())),
        (lead::Column::Email, Expr::value(after.email.clone())),
        (
            lead::Column::Description,
            Expr::value(after.description.clone()),
        ),
        (
            lead::Column::CustomerId,
            Expr::value(after.customer_id.map(|c| c.to_string())),
        ),
        (
            lead::Column::CloseReason,
            Expr::value(after.close_reason.clone()),
        ),
        (lead::Column::DispatchedAt, Expr::value(after.dispatched_at)),
        (lead::Column::UpdatedAt, Expr::value(after.updated_at)),
    ];
    let mut q = lead::Entity::update_many();
    for (column, value) in sets {
        q = q.col_expr(column, value);
    }
    q = q.filter(lead::Column::Id.eq(before.id.as_str()));
    q = match before.partner_id {
        Some(p) => q.filter(lead::Column::PartnerId.eq(p.to_string())),
        None => q.filter(lead::Column::PartnerId.is_null()),
    };
    if q.exec(conn).await?.rows_affected != 1 {
        return Err(CustomersError::LeadNotFound);
    }
    Ok(())
}

/// A follow-up as shown.
#[derive(Debug, Clone)]
pub struct FollowUpRow {
    pub author: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// Records a follow-up of a lead of `partner`.
pub async fn insert_follow_up(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    lead_id: &str,
    author: UserId,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    lead_follow_up::ActiveModel {
        id: Set(format!("lfu_{}", uuid::Uuid::now_v7().simple())),
        partner_id: Set(partner.to_string()),
        lead_id: Set(lead_id.to_owned()),
        author_user_id: Set(author.to_string()),
        note: Set(note.to_owned()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The last follow-ups of a lead, oldest first.
pub async fn follow_ups(
    conn: &impl ConnectionTrait,
    lead_id: &str,
) -> Result<Vec<FollowUpRow>, CustomersError> {
    let mut rows = lead_follow_up::Entity::find()
        .filter(lead_follow_up::Column::LeadId.eq(lead_id))
        .order_by_desc(lead_follow_up::Column::Id)
        .limit(FOLLOW_UPS_SHOWN)
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .map(|r| FollowUpRow {
            author: r.author_user_id,
            note: r.note,
            created_at: r.created_at,
        })
        .collect())
}

/// Records a brokered call to a lead's contact; returns its id.
pub async fn insert_call(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    lead_id: &str,
    requested_by: UserId,
    now: DateTime<Utc>,
) -> Result<String, CustomersError> {
    let id = format!("obc_{}", uuid::Uuid::now_v7().simple());
    outbound_call::ActiveModel {
        id: Set(id.clone()),
        partner_id: Set(partner.to_string()),
        lead_id: Set(lead_id.to_owned()),
        requested_by: Set(requested_by.to_string()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
