//! The gateway's state; refreshing, signing out, and turning a bearer token
//! into a [`Principal`]. Signing in lives in [`crate::signin`].

use std::sync::Arc;

use chrono::Duration;
use partner_accounts::Accounts;
use partner_accounts::partners::PartnerState;
use partner_accounts::users::UserState;
use partner_api::iam::v1 as pb;
use partner_kernel::clock::{SharedClock, to_proto_timestamp};
use partner_kernel::db::Db;
use partner_kernel::ids::{SessionId, UserId};
use partner_kernel::page::PageTokens;
use partner_kernel::principal::Principal;

use crate::access_keys::AccessKeys;
use crate::error::GatewayError;
use crate::sessions::{IssuedRefresh, Sessions};
use crate::signin::pending::{MemoryThrottle, PendingRefusals};
use crate::signing_keys::Keys;
use crate::tokens;

/// Lifetimes of the tokens the gateway issues.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    /// Access token (JWT).
    pub access: Duration,
    /// Session, and with it every refresh token.
    pub session: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::hours(1),
            session: Duration::days(30),
        }
    }
}

/// The gateway: passwords, sessions and tokens.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub(crate) db: Db,
    pub(crate) accounts: Accounts,
    pub(crate) keys: Arc<Keys>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) clock: SharedClock,
    pub(crate) lifetimes: TokenLifetimes,
    /// Counters of sign-in subjects that do not exist.
    pub(crate) unknown_throttle: Arc<MemoryThrottle>,
    /// Refusals counted in memory until [`Gateway::flush_refusals`].
    pub(crate) pending: Arc<PendingRefusals>,
}

/// Refuses users who may not act now, whatever their credentials.
pub(crate) fn admit(user: UserState, partner: Option<PartnerState>) -> Result<(), GatewayError> {
    match (user, partner) {
        (UserState::Disabled, _) => Err(GatewayError::UserDisabled),
        (UserState::Deleted, _) => Err(GatewayError::UserDeleted),
        (UserState::Active, Some(PartnerState::Suspended)) => Err(GatewayError::PartnerSuspended),
        (UserState::Active, Some(PartnerState::Terminated)) => Err(GatewayError::PartnerTerminated),
        (
            UserState::Active,
            None | Some(PartnerState::Active | PartnerState::PendingVerification),
        ) => Ok(()),
    }
}

impl Gateway {
    /// Wires the gateway.
    pub fn new(
        accounts: Accounts,
        keys: Arc<Keys>,
        clock: SharedClock,
        lifetimes: TokenLifetimes,
        db: partner_kernel::db::Db,
    ) -> Self {
        let sessions = Arc::new(Sessions::new(db.clone(), lifetimes.session));
        Self {
            db,
            accounts,
            keys,
            sessions,
            clock,
            lifetimes,
            unknown_throttle: Arc::default(),
            pending: Arc::default(),
        }
    }

    /// The signing keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The access-key verbs, sharing this gateway's sessions (so revocations
    /// clear the cache the authentication layer reads).
    pub fn access_keys(&self, pages: PageTokens) -> AccessKeys {
        AccessKeys::new(
            self.db.clone(),
            self.accounts.clone(),
            self.sessions.clone(),
            self.clock.clone(),
            pages,
        )
    }

    /// Spends a refresh token and issues a new pair.
    pub async fn refresh(&self, refresh_token: &str) -> Result<pb::TokenPair, GatewayError> {
        let now = self.clock.now();
        let (session, refresh) = self.sessions.rotate(refresh_token, now).await?;
        let status = self
            .accounts
            .principal_status(session.user_id)
            .await?
            .ok_or(GatewayError::RefreshTokenInvalid)?;
        admit(status.user_state, status.partner_state)?;
        self.token_pair(session.user_id, session.session_id, refresh)
    }

    /// Ends the caller's session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), GatewayError> {
        self.sessions
            .revoke(
                principal.partner_id(),
                principal.session_id,
                self.clock.now(),
            )
            .await
    }

    pub(crate) fn token_pair(
        &self,
        user: UserId,
        session: SessionId,
        refresh: IssuedRefresh,
    ) -> Result<pb::TokenPair, GatewayError> {
        let (access, access_expires) = tokens::issue(
            &self.keys.ring(),
            user,
            session,
            self.clock.now(),
            self.lifetimes.access,
        )?;
        Ok(pb::TokenPair {
            access_token: access,
            access_token_expire_time: Some(to_proto_timestamp(access_expires)),
            refresh_token: refresh.token,
            refresh_token_expire_time: Some(to_proto_timestamp(refresh.expires_at)),
            token_type: "Bearer".into(),
        })
    }

    /// The principal behind a bearer token, if the token, its session, its user
    /// and its partner all still allow it.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError> {
        let now = self.clock.now();
        let verified = self.keys.verify(token, now)?;
        // The account first: a disabled or deleted user, or a suspended
        // partner, is told so whatever became of the session (disabling ends
        // the sessions too, through a cache this check does not wait for).
        let status = self
            .accounts
            .principal_status(verified.user_id)
            .await?
            .ok_or(GatewayError::TokenInvalid)?;
        admit(status.user_state, status.partner_state)?;
        match self.sessions.active_user(verified.session_id, now).await? {
            Some(owner) if owner == verified.user_id => {}
            // A session of someone else: only a holder of our signing key could say so.
            Some(_) => return Err(GatewayError::TokenInvalid),
            None => return Err(GatewayError::SessionRevoked),
        }
        Ok(Principal {
            user_id: verified.user_id,
            session_id: verified.session_id,
            actor: status.actor,
            permissions: status.permissions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_rules() {
        assert!(admit(UserState::Active, None).is_ok());
        assert!(admit(UserState::Active, Some(PartnerState::Active)).is_ok());
        assert!(matches!(
            admit(UserState::Disabled, Some(PartnerState::Active)),
            Err(GatewayError::UserDisabled)
        ));
        assert!(matches!(
            admit(UserState::Active, Some(PartnerState::Suspended)),
            Err(GatewayError::PartnerSuspended)
        ));
        assert!(matches!(
            admit(UserState::Active, Some(PartnerState::Terminated)),
            Err(GatewayError::PartnerTerminated)
        ));
    }
}
