//! Queries on `users`. Every query on tenant data starts from [`users_of`];
//! the only platform-wide ones are what sign-in and the authentication layer
//! need (the login namespace is global; a principal is looked up by its id),
//! and they say so in their names. Updates filter on partner *and* id.

use chrono::{DateTime, Utc};
use partner_kernel::error::KernelError;
use partner_kernel::ids::parse_stored;
use partner_kernel::ids::{PartnerId, UserId};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Select, SelectModel, Selector, Set, SqlErr,
};

use super::model::{User, UserState};
use crate::entity::user;
use crate::error::AccountsError;

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

/// A user as shown: every column but the password hash, with its role ids
/// gathered by the same query (space-separated), so reading one costs one
/// round trip to the database.
#[derive(Debug, FromQueryResult)]
struct ShownUser {
    id: String,
    partner_id: Option<String>,
    username: String,
    display_name: String,
    email: String,
    state: String,
    is_master: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    role_ids: Option<String>,
}

impl TryFrom<ShownUser> for User {
    type Error = KernelError;
    fn try_from(s: ShownUser) -> Result<User, KernelError> {
        let mut role_ids: Vec<String> = s
            .role_ids
            .unwrap_or_default()
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect();
        role_ids.sort_unstable();
        Ok(User {
            id: parse_stored(&s.id, UserId::parse)?,
            partner_id: s
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            username: s.username,
            display_name: s.display_name,
            email: s.email,
            state: UserState::parse(&s.state)?,
            is_master: s.is_master,
            created_at: s.created_at,
            updated_at: s.updated_at,
            role_ids,
        })
    }
}

/// `q` reading what a [`ShownUser`] holds.
fn shown(q: Select<user::Entity>, backend: DbBackend) -> Selector<SelectModel<ShownUser>> {
    // The aggregate's name differs; the correlated subquery is the same.
    let aggregate = if backend == DbBackend::Postgres {
        "string_agg(rm.role_id, ' ')"
    } else {
        "group_concat(rm.role_id, ' ')"
    };
    let roles = Expr::cust(format!(
        "(SELECT {aggregate} FROM role_members rm \
         WHERE rm.partner_id = users.partner_id AND rm.user_id = users.id)"
    ));
    q.select_only()
        .columns([
            user::Column::Id,
            user::Column::PartnerId,
            user::Column::Username,
            user::Column::DisplayName,
            user::Column::Email,
            user::Column::State,
            user::Column::IsMaster,
            user::Column::CreatedAt,
            user::Column::UpdatedAt,
        ])
        .column_as(roles, "role_ids")
        .into_model::<ShownUser>()
}

/// A page of one partner's users after `after`, oldest first, with their
/// roles: those in `state`, or with none every user but the deleted ones.
pub async fn list_users(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    state: Option<UserState>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<User>, AccountsError> {
    let mut q = users_of(partner);
    q = match state {
        Some(state) => q.filter(user::Column::State.eq(state.as_str())),
        None => q.filter(user::Column::State.ne(UserState::Deleted.as_str())),
    };
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    let q = q.order_by_asc(user::Column::Id).limit(limit);
    let rows = shown(q, conn.get_database_backend()).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?)
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

/// One user of `partner` with its roles, in one query; another partner's is
/// `USER_NOT_FOUND`.
pub(crate) async fn load_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: UserId,
) -> Result<User, AccountsError> {
    let q = users_of(partner).filter(user::Column::Id.eq(id.to_string()));
    let row = shown(q, conn.get_database_backend())
        .one(conn)
        .await?
        .ok_or(AccountsError::UserNotFound)?;
    Ok(User::try_from(row)?)
}
