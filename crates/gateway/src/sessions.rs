//! Login sessions and their refresh tokens.
//!
//! A refresh token is 32 random bytes shown once; only its SHA-256 is stored.
//! Each use spends it and issues the next; presenting a spent token again is
//! taken as theft and revokes the whole session.

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use partner_kernel::cache::TtlCache;
use partner_kernel::db::Db;
use partner_kernel::ids::{AccessKeyId, PartnerId, SessionId, UserId};
use partner_kernel::time;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::entity::{refresh_token, session};
use crate::error::GatewayError;

const ACTIVE: &str = "ACTIVE";
const REVOKED: &str = "REVOKED";
/// Refresh tokens start with this, so a leaked one is recognisable in logs and scanners.
const REFRESH_PREFIX: &str = "prt_rt_";
/// How long the authentication layer trusts a cached "session is active".
const SESSION_TTL: StdDuration = StdDuration::from_secs(2);

/// A new refresh token.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The session that a refresh token belongs to.
#[derive(Debug)]
pub struct RefreshedSession {
    pub session_id: SessionId,
    pub user_id: UserId,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_refresh_value() -> Result<String, GatewayError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| GatewayError::Keys(format!("no randomness: {e}")))?;
    Ok(format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Sessions and refresh tokens.
#[derive(Debug)]
pub struct Sessions {
    db: Db,
    /// Active session → its user; `None` for revoked, expired or unknown sessions.
    active: TtlCache<SessionId, Option<UserId>>,
    /// How long a session (and each refresh token) lives.
    lifetime: Duration,
}

impl Sessions {
    /// Sessions over `db`, each living `lifetime`.
    pub fn new(db: Db, lifetime: Duration) -> Self {
        Self {
            db,
            active: TtlCache::new(SESSION_TTL),
            lifetime,
        }
    }

    /// Opens a session for `user` and returns its first refresh token; in
    /// the same transaction clears the sign-in counter of `throttle_subject`.
    pub async fn open(
        &self,
        user: UserId,
        partner: Option<PartnerId>,
        throttle_subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(SessionId, IssuedRefresh), GatewayError> {
        let expires_at = time::checked_add(now, self.lifetime)
            .map_err(|e| GatewayError::Keys(format!("session lifetime: {e}")))?;
        let tx = self.db.begin_write().await?;
        let id = insert_session(&*tx, user, partner, None, now, expires_at).await?;
        let refresh = insert_refresh(&*tx, id, partner, now, expires_at).await?;
        crate::signin::store::reset(&*tx, throttle_subject).await?;
        tx.commit().await?;
        Ok((id, refresh))
    }

    /// Spends `presented` and issues its successor. Reuse of a spent token
    /// revokes the session.
    pub async fn rotate(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<(RefreshedSession, IssuedRefresh), GatewayError> {
        let tx = self.db.begin_write().await?;
        let row = refresh_token::Entity::find_by_id(hash(presented))
            .one(&*tx)
            .await?
            .ok_or(GatewayError::RefreshTokenInvalid)?;
        let session = session::Entity::find_by_id(row.session_id.clone())
            .one(&*tx)
            .await?
            .ok_or(GatewayError::RefreshTokenInvalid)?;
        if session.state != ACTIVE {
            return Err(GatewayError::SessionRevoked);
        }
        // Spend it only if nobody did: a concurrent second use finds 0 rows.
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::SpentAt, Expr::value(now))
            .filter(refresh_token::Column::TokenHash.eq(hash(presented)))
            .filter(refresh_token::Column::SpentAt.is_null())
            .exec(&*tx)
            .await?
            .rows_affected;
        if spent == 0 {
            drop(tx);
            let session_id =
                SessionId::parse(&session.id).map_err(|_| GatewayError::RefreshTokenInvalid)?;
            self.revoke(session_id, now).await?;
            return Err(GatewayError::RefreshTokenReused);
        }
        if row.expires_at < now || session.expires_at < now {
            return Err(GatewayError::RefreshTokenInvalid);
        }
        let session_id =
            SessionId::parse(&session.id).map_err(|_| GatewayError::RefreshTokenInvalid)?;
        let user_id =
            UserId::parse(&session.user_id).map_err(|_| GatewayError::RefreshTokenInvalid)?;
        let partner = session
            .partner_id
            .as_deref()
            .and_then(|p| PartnerId::parse(p).ok());
        let refresh = insert_refresh(&*tx, session_id, partner, now, session.expires_at).await?;
        tx.commit().await?;
        Ok((
            RefreshedSession {
                session_id,
                user_id,
            },
            refresh,
        ))
    }

    /// Ends a session; its access tokens are refused from the next call on.
    pub async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), GatewayError> {
        let tx = self.db.begin_write().await?;
        session::Entity::update_many()
            .col_expr(session::Column::State, Expr::value(REVOKED))
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id.to_string()))
            .filter(session::Column::State.eq(ACTIVE))
            .exec(&*tx)
            .await?;
        tx.commit().await?;
        self.active.invalidate_all();
        Ok(())
    }

    /// Forgets every cached answer, after a change made outside
    /// [`Sessions::revoke`] (revoking an access key's sessions).
    pub fn forget_cached(&self) {
        self.active.invalidate_all();
    }

    /// The user of a session that is active now (cached for a moment);
    /// `None` when it is revoked, expired or unknown.
    pub async fn active_user(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, GatewayError> {
        if let Some(hit) = self.active.get(&id) {
            return Ok(hit);
        }
        let row = session::Entity::find_by_id(id.to_string())
            .one(self.db.conn())
            .await?;
        let user = row
            .filter(|s| s.state == ACTIVE && s.expires_at >= now)
            .and_then(|s| UserId::parse(&s.user_id).ok());
        self.active.put(id, user);
        Ok(user)
    }
}

/// Inserts an active session of `user`, tied to `access_key` when it was
/// opened by exchanging one.
pub(crate) async fn insert_session(
    conn: &impl ConnectionTrait,
    user: UserId,
    partner: Option<PartnerId>,
    access_key: Option<AccessKeyId>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<SessionId, GatewayError> {
    let id = SessionId::generate();
    session::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(partner.map(|p| p.to_string())),
        user_id: Set(user.to_string()),
        state: Set(ACTIVE.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        access_key_id: Set(access_key.map(|k| k.to_string())),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Revokes every active session of `partner` opened with `access_key`,
/// inside the caller's transaction. The caller clears the cache
/// ([`Sessions::forget_cached`]) after committing.
pub(crate) async fn revoke_for_access_key(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    access_key: AccessKeyId,
    now: DateTime<Utc>,
) -> Result<u64, GatewayError> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::State, Expr::value(REVOKED))
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::PartnerId.eq(partner.to_string()))
        .filter(session::Column::AccessKeyId.eq(access_key.to_string()))
        .filter(session::Column::State.eq(ACTIVE))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes every active session of one user of `partner`, inside the
/// caller's transaction.
pub(crate) async fn revoke_for_user(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::State, Expr::value(REVOKED))
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::PartnerId.eq(partner.to_string()))
        .filter(session::Column::UserId.eq(user.to_string()))
        .filter(session::Column::State.eq(ACTIVE))
        .exec(conn)
        .await?
        .rows_affected)
}

async fn insert_refresh(
    conn: &impl ConnectionTrait,
    session: SessionId,
    partner: Option<PartnerId>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<IssuedRefresh, GatewayError> {
    let token = new_refresh_value()?;
    refresh_token::ActiveModel {
        token_hash: Set(hash(&token)),
        session_id: Set(session.to_string()),
        partner_id: Set(partner.map(|p| p.to_string())),
        expires_at: Set(expires_at),
        spent_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(IssuedRefresh { token, expires_at })
}
