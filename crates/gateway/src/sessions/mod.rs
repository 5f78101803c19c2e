//! Login sessions and their refresh tokens.
//!
//! A refresh token is 32 random bytes shown once; only its SHA-256 is stored.
//! Each use spends it and issues the next; presenting a spent token again is
//! taken as theft and revokes the whole session.

pub mod store;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use partner_kernel::bearer;
use partner_kernel::cache::TtlCache;
use partner_kernel::db::Db;
use partner_kernel::ids::{CustomerId, PartnerId, SessionId};
use partner_kernel::time;
use sea_orm::ConnectionTrait;

use self::store::SessionState;
pub(crate) use self::store::{NewSession, insert_session, revoke_for_access_key, revoke_for_user};
use crate::error::GatewayError;
use crate::holder::Holder;

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
    pub holder: Holder,
    pub customer_id: Option<CustomerId>,
    pub partner_id: Option<PartnerId>,
    pub created_at: DateTime<Utc>,
}

/// Who an active session is held by, the customer it is scoped to, the
/// partner it was opened for, and the session it was opened from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveSession {
    pub holder: Holder,
    pub customer_id: Option<CustomerId>,
    pub partner_id: Option<PartnerId>,
    pub parent: Option<SessionId>,
    pub created_at: DateTime<Utc>,
}

fn hash(token: &str) -> Vec<u8> {
    bearer::token_sha256(token)
}

/// Issues a refresh token of `session`, storing only its hash.
async fn issue_refresh(
    conn: &impl ConnectionTrait,
    session: SessionId,
    partner: Option<PartnerId>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<IssuedRefresh, GatewayError> {
    let token = bearer::new_token(REFRESH_PREFIX)?;
    store::insert_refresh(conn, session, partner, hash(&token), now, expires_at).await?;
    Ok(IssuedRefresh { token, expires_at })
}

/// Sessions and refresh tokens.
#[derive(Debug)]
pub struct Sessions {
    db: Db,
    /// Active session → its holder; `None` for revoked, expired or unknown sessions.
    active: TtlCache<SessionId, Option<ActiveSession>>,
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

    /// Opens a session and returns its first refresh token; in the same
    /// transaction clears the sign-in counter of `throttle_subject`.
    pub async fn open(
        &self,
        new: NewSession,
        throttle_subject: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(SessionId, IssuedRefresh), GatewayError> {
        let expires_at = time::checked_add(now, self.lifetime)
            .map_err(|e| GatewayError::Keys(format!("session lifetime: {e}")))?;
        let tx = self.db.begin_write().await?;
        let id = insert_session(&*tx, new, now, expires_at).await?;
        let refresh = issue_refresh(&*tx, id, new.partner, now, expires_at).await?;
        if let Some(subject) = throttle_subject {
            crate::signin::store::reset(&*tx, subject).await?;
        }
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
        let presented = hash(presented);
        let tx = self.db.begin_write().await?;
        let (session_id, expires_at) = store::refresh_by_token_hash(&*tx, &presented)
            .await?
            .ok_or(GatewayError::RefreshTokenInvalid)?;
        let session = store::session_by_id(&*tx, session_id)
            .await?
            .ok_or(GatewayError::RefreshTokenInvalid)?;
        if session.state != SessionState::Active {
            return Err(GatewayError::SessionRevoked);
        }
        // Spend it only if nobody did: a concurrent second use finds it spent.
        if !store::spend_refresh(&*tx, &presented, now).await? {
            drop(tx);
            self.revoke(session.partner_id, session.id, now).await?;
            return Err(GatewayError::RefreshTokenReused);
        }
        if expires_at < now || session.expires_at < now {
            return Err(GatewayError::RefreshTokenInvalid);
        }
        let refresh = issue_refresh(
            &*tx,
            session.id,
            session.partner_id,
            now,
            session.expires_at,
        )
        .await?;
        tx.commit().await?;
        Ok((
            RefreshedSession {
                session_id: session.id,
                holder: session.holder,
                customer_id: session.customer_id,
                partner_id: session.partner_id,
                created_at: session.created_at,
            },
            refresh,
        ))
    }

    /// Ends a session of `partner` (`None`: the operator's); its access
    /// tokens are refused from the next call on.
    pub async fn revoke(
        &self,
        partner: Option<PartnerId>,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<(), GatewayError> {
        let tx = self.db.begin_write().await?;
        store::revoke(&*tx, partner, id, now).await?;
        tx.commit().await?;
        // Sessions assumed from it ask for it by id on their next call.
        self.active.invalidate(&id);
        Ok(())
    }

    /// Ends the caller's own session (signing out).
    pub async fn end_own(
        &self,
        holder: Holder,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<(), GatewayError> {
        let tx = self.db.begin_write().await?;
        store::revoke_own(&*tx, holder, id, now).await?;
        tx.commit().await?;
        self.active.invalidate(&id);
        Ok(())
    }

    /// Forgets every cached answer, after a change made outside
    /// [`Sessions::revoke`] (revoking an access key's sessions).
    pub fn forget_cached(&self) {
        self.active.invalidate_all();
    }

    /// The holder of a session that is active now (cached for a moment);
    /// `None` when it is revoked, expired or unknown.
    pub async fn active(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<ActiveSession>, GatewayError> {
        let ticket = match self.active.lookup(&id) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let user = store::session_by_id(self.db.conn(), id)
            .await?
            .filter(|s| s.state == SessionState::Active && s.expires_at >= now)
            .map(|s| ActiveSession {
                holder: s.holder,
                customer_id: s.customer_id,
                partner_id: s.partner_id,
                parent: s.parent,
                created_at: s.created_at,
            });
        self.active.put(ticket, id, user);
        Ok(user)
    }
}
