//! Queries on `partners` and the loaders that attach their programs. A
//! partner row is read by its own id (the tenant is the partner itself); the
//! operator's listing is platform-wide and says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::{EnterpriseMembership, Partner, PartnerState};
use crate::entity::partner;
use crate::error::AccountsError;
use crate::programs::{self, Enrolment};

/// The partner row of a tenant.
pub async fn partner(
    conn: &impl ConnectionTrait,
    id: PartnerId,
) -> Result<Option<partner::Model>, DbErr> {
    partner::Entity::find_by_id(id.to_string()).one(conn).await
}

/// The partner row of a tenant, locked until the transaction ends
/// (PostgreSQL), for changes that count what the partner holds.
pub async fn partner_for_update(
    conn: &impl ConnectionTrait,
    id: PartnerId,
) -> Result<Option<partner::Model>, DbErr> {
    partner::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await
}

/// A page of all partners after `after`, oldest first. Operator listing.
pub async fn list_all_partners(
    conn: &impl ConnectionTrait,
    state: Option<PartnerState>,
    name_prefix: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<partner::Model>, DbErr> {
    let mut q = partner::Entity::find();
    if let Some(state) = state {
        q = q.filter(partner::Column::State.eq(state.as_str()));
    }
    if let Some(prefix) = name_prefix {
        q = q.filter(partner::Column::DisplayName.like(partner_kernel::like::prefix_like(prefix)));
    }
    if let Some(after) = after {
        q = q.filter(partner::Column::PartnerId.gt(after));
    }
    q.order_by_asc(partner::Column::PartnerId)
        .limit(limit)
        .all(conn)
        .await
}

/// A partner with its programs and sales-platform ids.
pub(crate) async fn load_partner(
    conn: &impl sea_orm::ConnectionTrait,
    id: PartnerId,
) -> Result<Partner, AccountsError> {
    let row = partner(conn, id)
        .await?
        .ok_or(AccountsError::PartnerNotFound)?;
    let mut partners = with_details(conn, vec![row]).await?;
    partners.pop().ok_or(AccountsError::PartnerNotFound)
}

/// Converts partner rows and attaches their programs and sales-platform
/// ids, with one query for each for all rows.
pub(crate) async fn with_details(
    conn: &impl sea_orm::ConnectionTrait,
    rows: Vec<crate::entity::partner::Model>,
) -> Result<Vec<Partner>, AccountsError> {
    let ids: Vec<String> = rows.iter().map(|r| r.partner_id.clone()).collect();
    let mut platforms = crate::sales_platforms::store::ids_of_many(conn, ids.clone()).await?;
    let enrolments = programs::store::enrolments_of_many(conn, ids).await?;
    let mut partners = rows
        .into_iter()
        .map(|row| {
            let ids = platforms.remove(&row.partner_id).unwrap_or_default();
            Partner::try_from(row).map(|p| Partner {
                sales_platform_ids: ids,
                ..p
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let position: std::collections::HashMap<String, usize> = partners
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.to_string(), i))
        .collect();
    for e in enrolments {
        if let Some(&i) = position.get(&e.partner_id) {
            partners[i].programs.push(Enrolment::try_from(e)?);
        }
    }
    Ok(partners)
}

/// Inserts an ACTIVE partner in good standing.
pub(crate) async fn insert_partner(
    conn: &impl ConnectionTrait,
    id: PartnerId,
    display_name: String,
    contact_email: String,
    master_user_id: UserId,
    now: DateTime<Utc>,
) -> Result<Partner, AccountsError> {
    Ok(partner::ActiveModel {
        partner_id: Set(id.to_string()),
        display_name: Set(display_name),
        contact_email: Set(contact_email),
        state: Set(PartnerState::Active.as_str().to_owned()),
        master_user_id: Set(master_user_id.to_string()),
        suspend_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        in_arrears: Set(false),
        enterprise_membership: Set(EnterpriseMembership::None.as_str().to_owned()),
        has_credit_account: Set(false),
        marketing_programme_v2: Set(false),
    }
    .insert(conn)
    .await?
    .try_into()?)
}

/// What an update of a partner's row sets; `None` leaves a column alone.
#[derive(Debug, Default)]
pub(crate) struct PartnerUpdate {
    pub display_name: Option<String>,
    pub contact_email: Option<String>,
    pub in_arrears: Option<bool>,
    pub enterprise_membership: Option<EnterpriseMembership>,
    pub has_credit_account: Option<bool>,
    pub marketing_programme_v2: Option<bool>,
    /// A new state, with the suspension reason it keeps.
    pub state: Option<(PartnerState, Option<String>)>,
}

/// Updates one partner and returns it with its programs; `PARTNER_NOT_FOUND`
/// when there is none. The partner is its own tenant: the id is both.
pub(crate) async fn update_partner(
    conn: &impl ConnectionTrait,
    id: PartnerId,
    update: PartnerUpdate,
    now: DateTime<Utc>,
) -> Result<Partner, AccountsError> {
    let mut sets: Vec<(partner::Column, SimpleExpr)> =
        vec![(partner::Column::UpdatedAt, Expr::value(now))];
    if let Some(v) = update.display_name {
        sets.push((partner::Column::DisplayName, Expr::value(v)));
    }
    if let Some(v) = update.contact_email {
        sets.push((partner::Column::ContactEmail, Expr::value(v)));
    }
    if let Some(v) = update.in_arrears {
        sets.push((partner::Column::InArrears, Expr::value(v)));
    }
    if let Some(v) = update.enterprise_membership {
        sets.push((
            partner::Column::EnterpriseMembership,
            Expr::value(v.as_str()),
        ));
    }
    if let Some(v) = update.has_credit_account {
        sets.push((partner::Column::HasCreditAccount, Expr::value(v)));
    }
    if let Some(v) = update.marketing_programme_v2 {
        sets.push((partner::Column::MarketingProgrammeV2, Expr::value(v)));
    }
    if let Some((state, reason)) = update.state {
        sets.push((partner::Column::State, Expr::value(state.as_str())));
        sets.push((partner::Column::SuspendReason, Expr::value(reason)));
    }
    let mut q = partner::Entity::update_many();
    for (column, value) in sets {
        q = q.col_expr(column, value);
    }
    let changed = q
        .filter(partner::Column::PartnerId.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(AccountsError::PartnerNotFound);
    }
    load_partner(conn, id).await
}
