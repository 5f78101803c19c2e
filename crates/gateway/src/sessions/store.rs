//! Queries on `sessions` and `refresh_tokens`. Revocations filter on the
//! tenant; the lookups by session id and by refresh-token hash are
//! platform-wide (the id comes from a verified token, the hash from a secret
//! only its holder has, and the tenant from the row) and say so in their names.

use chrono::{DateTime, Utc};
use partner_kernel::error::KernelError;
use partner_kernel::ids::{AccessKeyId, CustomerId, PartnerId, SessionId, UserId, parse_stored};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::entity::{refresh_token, session};
use crate::holder::Holder;

/// Whether a session may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    Revoked,
}

impl SessionState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Revoked => "REVOKED",
        }
    }

    fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "ACTIVE" => Ok(Self::Active),
            "REVOKED" => Ok(Self::Revoked),
            other => Err(KernelError::Corrupt(format!("session state {other:?}"))),
        }
    }
}

/// A session as stored.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub holder: Holder,
    /// The customer a customer-scoped session acts as.
    pub customer_id: Option<CustomerId>,
    /// The user's tenant; for a customer signed in itself, its partner when
    /// it signed in (the session ends when that changes).
    pub partner_id: Option<PartnerId>,
    /// The session an assumed one was opened from.
    pub parent: Option<SessionId>,
    pub state: SessionState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<session::Model> for Session {
    type Error = KernelError;
    fn try_from(m: session::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: parse_stored(&m.id, SessionId::parse)?,
            holder: parse_stored(&m.holder_id, Holder::parse)?,
            customer_id: m
                .customer_id
                .as_deref()
                .map(|c| parse_stored(c, CustomerId::parse))
                .transpose()?,
            partner_id: m
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            parent: m
                .parent_session_id
                .as_deref()
                .map(|s| parse_stored(s, SessionId::parse))
                .transpose()?,
            state: SessionState::parse(&m.state)?,
            created_at: m.created_at,
            expires_at: m.expires_at,
        })
    }
}

/// A session by id, whatever its tenant: the authentication layer and the
/// refresh learn the tenant from it.
pub async fn session_by_id(
    conn: &impl ConnectionTrait,
    id: SessionId,
) -> Result<Option<Session>, KernelError> {
    session::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .map(Session::try_from)
        .transpose()
}

/// The session and expiry of the refresh token whose SHA-256 is `hash`.
pub async fn refresh_by_token_hash(
    conn: &impl ConnectionTrait,
    hash: &[u8],
) -> Result<Option<(SessionId, DateTime<Utc>)>, KernelError> {
    let Some(row) = refresh_token::Entity::find_by_id(hash.to_vec())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((
        parse_stored(&row.session_id, SessionId::parse)?,
        row.expires_at,
    )))
}

/// Spends an unspent refresh token; false when somebody spent it first.
pub async fn spend_refresh(
    conn: &impl ConnectionTrait,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::SpentAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.to_vec()))
        .filter(refresh_token::Column::SpentAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    Ok(spent == 1)
}

/// What a new session is: who holds it, for which tenant, scoped to which
/// customer, opened with which access key.
#[derive(Debug, Clone, Copy)]
pub struct NewSession {
    pub holder: Holder,
    /// The tenant of the holding user (`None` for the operator); for a
    /// customer signed in itself, its partner at sign-in.
    pub partner: Option<PartnerId>,
    pub customer: Option<CustomerId>,
    pub access_key: Option<AccessKeyId>,
    /// The session an assumed one is opened from.
    pub parent: Option<SessionId>,
}

impl NewSession {
    /// A session of `user` of `partner`, not scoped to a customer.
    pub fn of_user(user: UserId, partner: Option<PartnerId>) -> Self {
        Self {
            holder: Holder::User(user),
            partner,
            customer: None,
            access_key: None,
            parent: None,
        }
    }

    /// A customer's own session, bound to `partner`, the one it has at
    /// sign-in: it ends when the customer leaves it or joins another.
    pub fn of_customer(customer: CustomerId, partner: Option<PartnerId>) -> Self {
        Self {
            holder: Holder::Customer(customer),
            partner,
            customer: Some(customer),
            access_key: None,
            parent: None,
        }
    }
}

/// Inserts an active session.
pub async fn insert_session(
    conn: &impl ConnectionTrait,
    new: NewSession,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<SessionId, DbErr> {
    let id = SessionId::generate();
    session::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(new.partner.map(|p| p.to_string())),
        holder_id: Set(new.holder.to_string()),
        customer_id: Set(new.customer.map(|c| c.to_string())),
        state: Set(SessionState::Active.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        access_key_id: Set(new.access_key.map(|k| k.to_string())),
        parent_session_id: Set(new.parent.map(|s| s.to_string())),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Inserts a refresh token (its SHA-256 `hash`) of `session`.
pub async fn insert_refresh(
    conn: &impl ConnectionTrait,
    session: SessionId,
    partner: Option<PartnerId>,
    hash: Vec<u8>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_token::ActiveModel {
        token_hash: Set(hash),
        session_id: Set(session.to_string()),
        partner_id: Set(partner.map(|p| p.to_string())),
        expires_at: Set(expires_at),
        spent_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Sessions of one tenant: a partner's, or the operator's (`None`).
fn of_tenant(partner: Option<PartnerId>) -> sea_orm::Condition {
    match partner {
        Some(p) => sea_orm::Condition::all().add(session::Column::PartnerId.eq(p.to_string())),
        None => sea_orm::Condition::all().add(session::Column::PartnerId.is_null()),
    }
}

fn revocation() -> sea_orm::UpdateMany<session::Entity> {
    session::Entity::update_many()
        .col_expr(
            session::Column::State,
            Expr::value(SessionState::Revoked.as_str()),
        )
        .filter(session::Column::State.eq(SessionState::Active.as_str()))
}

/// Revokes one active session of `partner` (`None`: the operator's).
pub async fn revoke(
    conn: &impl ConnectionTrait,
    partner: Option<PartnerId>,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(revocation()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(of_tenant(partner))
        .filter(session::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes one active session of `holder`: signing out, where the session id
/// and the holder come from a verified token.
pub async fn revoke_own(
    conn: &impl ConnectionTrait,
    holder: Holder,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(revocation()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::HolderId.eq(holder.to_string()))
        .filter(session::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes every active session of `partner` opened with `access_key`.
pub async fn revoke_for_access_key(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    access_key: AccessKeyId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(revocation()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(of_tenant(Some(partner)))
        .filter(session::Column::AccessKeyId.eq(access_key.to_string()))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes every active session of one user of `partner`.
pub async fn revoke_for_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(revocation()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(of_tenant(Some(partner)))
        .filter(session::Column::HolderId.eq(user.to_string()))
        .exec(conn)
        .await?
        .rows_affected)
}
