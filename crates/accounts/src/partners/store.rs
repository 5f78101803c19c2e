//! Queries on `partners` and the loaders that attach their programs. A
//! partner row is read by its own id (the tenant is the partner itself); the
//! operator's listing is platform-wide and says so in its name.

use partner_kernel::ids::PartnerId;
use sea_orm::sea_query::LikeExpr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::model::{Partner, PartnerState};
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
        q = q.filter(
            partner::Column::DisplayName
                .like(LikeExpr::new(format!("{}%", escape_like(prefix))).escape('\\')),
        );
    }
    if let Some(after) = after {
        q = q.filter(partner::Column::PartnerId.gt(after));
    }
    q.order_by_asc(partner::Column::PartnerId)
        .limit(limit)
        .all(conn)
        .await
}

/// Escapes LIKE wildcards so a prefix filter matches them literally.
fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A partner with its programs.
pub(crate) async fn load_partner(
    conn: &impl sea_orm::ConnectionTrait,
    id: PartnerId,
) -> Result<Partner, AccountsError> {
    let row = partner(conn, id)
        .await?
        .ok_or(AccountsError::PartnerNotFound)?;
    let mut partners = with_programs(conn, vec![row]).await?;
    partners.pop().ok_or(AccountsError::PartnerNotFound)
}

/// Converts partner rows and attaches their programs, with one query for all.
pub(crate) async fn with_programs(
    conn: &impl sea_orm::ConnectionTrait,
    rows: Vec<crate::entity::partner::Model>,
) -> Result<Vec<Partner>, AccountsError> {
    let ids = rows.iter().map(|r| r.partner_id.clone()).collect();
    let enrolments = programs::store::enrolments_of_many(conn, ids).await?;
    let mut partners = rows
        .into_iter()
        .map(Partner::try_from)
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
