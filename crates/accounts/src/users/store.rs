//! Queries on `users`. Every query on tenant data starts from [`users_of`];
//! the only platform-wide ones are what sign-in and the authentication layer
//! need (the login namespace is global; a principal is looked up by its id),
//! and they say so in their names. Updates filter on partner *and* id.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set, SqlErr,
};

use super::model::{User, UserState};
use crate::entity::user;
use crate::error::AccountsError;
use crate::roles;

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
/// SQLite's single writer already serialises), so that rules about what the
/// user owns or may be done to cannot be raced past.
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

/// A page of one partner's users after `after`, oldest first: those in
/// `state`, or with none every user but the deleted ones.
pub async fn list_users(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    state: Option<UserState>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let mut q = users_of(partner);
    q = match state {
        Some(state) => q.filter(user::Column::State.eq(state.as_str())),
        None => q.filter(user::Column::State.ne(UserState::Deleted.as_str())),
    };
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

/// Whether a login name is taken anywhere (deleted users keep theirs).
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

/// A user to insert.
pub(crate) struct NewUserRow<'a> {
    pub id: UserId,
    /// `None` for the platform operator.
    pub partner_id: Option<PartnerId>,
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub password_hash: String,
    pub is_master: bool,
}

/// Inserts an ACTIVE user; a concurrent insert of the same username loses on
/// the unique index and is `USERNAME_TAKEN`.
pub(crate) async fn insert_user(
    conn: &impl ConnectionTrait,
    row: NewUserRow<'_>,
    now: DateTime<Utc>,
) -> Result<User, AccountsError> {
    let inserted = user::ActiveModel {
        id: Set(row.id.to_string()),
        partner_id: Set(row.partner_id.map(|p| p.to_string())),
        username: Set(row.username.to_owned()),
        display_name: Set(row.display_name.to_owned()),
        email: Set(row.email.to_owned()),
        password_hash: Set(row.password_hash),
        state: Set(UserState::Active.as_str().to_owned()),
        is_master: Set(row.is_master),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AccountsError::UsernameTaken,
        _ => AccountsError::from(e),
    })?;
    Ok(inserted.try_into()?)
}

/// What an update of a user's row sets.
#[derive(Debug, Default)]
pub(crate) struct UserUpdate {
    pub state: Option<UserState>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// Updates one user of `partner` (filtered on partner and id) and returns it
/// as it is now; `USER_NOT_FOUND` when there is no such user.
pub(crate) async fn update_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: UserId,
    update: UserUpdate,
    now: DateTime<Utc>,
) -> Result<User, AccountsError> {
    let mut sets: Vec<(user::Column, SimpleExpr)> =
        vec![(user::Column::UpdatedAt, Expr::value(now))];
    if let Some(state) = update.state {
        sets.push((user::Column::State, Expr::value(state.as_str())));
    }
    if let Some(name) = update.display_name {
        sets.push((user::Column::DisplayName, Expr::value(name)));
    }
    if let Some(email) = update.email {
        sets.push((user::Column::Email, Expr::value(email)));
    }
    let mut q = user::Entity::update_many();
    for (column, value) in sets {
        q = q.col_expr(column, value);
    }
    let changed = q
        .filter(user::Column::PartnerId.eq(partner.to_string()))
        .filter(user::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(AccountsError::UserNotFound);
    }
    load_user(conn, partner, id).await
}

/// One user of `partner` with its roles; another partner's is `USER_NOT_FOUND`.
pub(crate) async fn load_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: UserId,
) -> Result<User, AccountsError> {
    let row = user_in_partner(conn, partner, id)
        .await?
        .ok_or(AccountsError::UserNotFound)?;
    let mut user = User::try_from(row)?;
    user.role_ids = roles::store::role_ids_of(conn, partner, id).await?;
    Ok(user)
}

/// Users of `partner` (a listing page) with their roles, in one more query.
pub(crate) async fn with_roles(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    rows: Vec<user::Model>,
) -> Result<Vec<User>, AccountsError> {
    let ids = rows.iter().map(|r| r.id.clone()).collect();
    let mut roles = roles::store::role_ids_of_many(conn, partner, ids).await?;
    rows.into_iter()
        .map(|row| {
            let mut user = User::try_from(row)?;
            user.role_ids = roles.remove(&user.id.to_string()).unwrap_or_default();
            Ok(user)
        })
        .collect()
}
