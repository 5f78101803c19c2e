//! Queries on the accounts tables. Every query on tenant data starts from a
//! tenant-scoped constructor; the only platform-wide queries are the ones the
//! operator and the login path need, and they say so in their names.

use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::LikeExpr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use crate::entity::{partner, user};
use crate::model::{PartnerState, UserState};

/// The users of one partner.
pub fn users_of(partner: PartnerId) -> Select<user::Entity> {
    user::Entity::find().filter(user::Column::PartnerId.eq(partner.to_string()))
}

/// One user of one partner.
pub async fn user_in_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: UserId,
) -> Result<Option<user::Model>, DbErr> {
    users_of(partner)
        .filter(user::Column::Id.eq(id.to_string()))
        .one(conn)
        .await
}

/// One user of one partner, locked until the transaction ends (PostgreSQL;
/// SQLite's single writer already serialises), so that rules counting things
/// the user owns cannot be raced past.
pub async fn user_in_partner_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: UserId,
) -> Result<Option<user::Model>, DbErr> {
    users_of(partner)
        .filter(user::Column::Id.eq(id.to_string()))
        .lock_exclusive()
        .one(conn)
        .await
}

/// A page of one partner's users after `after`, oldest first.
pub async fn list_users(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    state: Option<UserState>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let mut q = users_of(partner);
    if let Some(state) = state {
        q = q.filter(user::Column::State.eq(state.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    q.order_by_asc(user::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The user signing in as `username`, whatever its partner (login namespace is global).
pub async fn login_user_by_username(
    conn: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(conn)
        .await
}

/// A user by id, whatever its partner: for the authentication layer, which
/// learns the tenant from the row.
pub async fn principal_user(
    conn: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id.to_string()).one(conn).await
}

/// Whether a login name is taken anywhere.
pub async fn username_taken(conn: &impl ConnectionTrait, username: &str) -> Result<bool, DbErr> {
    Ok(login_user_by_username(conn, username).await?.is_some())
}

/// Whether any platform operator exists.
pub async fn operator_exists(conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::PartnerId.is_null())
        .one(conn)
        .await?
        .is_some())
}

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
