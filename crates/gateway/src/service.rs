//! Signing in (password or access key), refreshing, signing out, and turning
//! a bearer token into a [`Principal`]. Credential checks are throttled per
//! username and per key id (`throttle`), and every refused one is audited.

use std::sync::Arc;

use chrono::Duration;
use partner_accounts::Accounts;
use partner_accounts::model::{PartnerState, UserState};
use partner_api::iam::v1 as pb;
use partner_kernel::audit::{self, FailedCredential};
use partner_kernel::clock::{SharedClock, to_proto_timestamp};
use partner_kernel::db::Db;
use partner_kernel::ids::{AccessKeyId, PartnerId, SessionId, UserId};
use partner_kernel::page::PageTokens;
use partner_kernel::principal::Principal;

use crate::access_keys::{self, AccessKeys};
use crate::error::GatewayError;
use crate::keys::Keys;
use crate::sessions::{IssuedRefresh, Sessions, insert_session};
use crate::throttle::{self, Standing};
use crate::tokens;

const LOGIN: &str = "partner.iam.v1.AuthService/Login";
const EXCHANGE: &str = "partner.iam.v1.AuthService/ExchangeAccessKey";

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
    db: Db,
    accounts: Accounts,
    keys: Arc<Keys>,
    sessions: Arc<Sessions>,
    clock: SharedClock,
    lifetimes: TokenLifetimes,
}

/// Refuses users who may not act now, whatever their credentials.
fn admit(user: UserState, partner: Option<PartnerState>) -> Result<(), GatewayError> {
    match (user, partner) {
        (UserState::Disabled, _) => Err(GatewayError::UserDisabled),
        (UserState::Active, Some(PartnerState::Suspended)) => Err(GatewayError::PartnerSuspended),
        (UserState::Active, Some(PartnerState::Terminated)) => Err(GatewayError::PartnerTerminated),
        (
            UserState::Active,
            None | Some(PartnerState::Active | PartnerState::PendingVerification),
        ) => Ok(()),
    }
}

/// The audited reason of a refusal by [`admit`] (or by a key's state).
fn refusal_reason(e: &GatewayError) -> &'static str {
    match e {
        GatewayError::UserDisabled => "USER_DISABLED",
        GatewayError::PartnerSuspended => "PARTNER_SUSPENDED",
        GatewayError::PartnerTerminated => "PARTNER_TERMINATED",
        GatewayError::AccessKeyDisabled => "ACCESS_KEY_DISABLED",
        GatewayError::AccessKeyInvalid => "ACCESS_KEY_INVALID",
        GatewayError::InvalidCredentials => "INVALID_CREDENTIALS",
        GatewayError::TooManyFailedAttempts { .. } => "TOO_MANY_FAILED_ATTEMPTS",
        GatewayError::UnknownMethod
        | GatewayError::TokenMissing
        | GatewayError::TokenInvalid
        | GatewayError::TokenExpired
        | GatewayError::SessionRevoked
        | GatewayError::RefreshTokenInvalid
        | GatewayError::RefreshTokenReused
        | GatewayError::SigningKeyNotFound
        | GatewayError::SigningKeyStateConflict { .. }
        | GatewayError::AccessKeyNotFound
        | GatewayError::AccessKeyStateConflict { .. }
        | GatewayError::AccessKeyLimitReached { .. }
        | GatewayError::PasswordCheck(_)
        | GatewayError::Keys(_)
        | GatewayError::Accounts(_)
        | GatewayError::Kernel(_) => "REFUSED",
    }
}

/// A refused attempt, for the audit trail and (when it is a wrong guess) the
/// throttle.
struct Attempt<'a> {
    method: &'static str,
    /// The username or key id presented.
    presented: &'a str,
    /// The user the credential names, and its partner, when it exists.
    target: Option<(UserId, Option<PartnerId>)>,
    /// The throttle subject, charged only for wrong guesses.
    subject: &'a str,
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

    /// Checks a username and password and opens a session. Throttled per
    /// username, known or not.
    pub async fn login(
        &self,
        username: &str,
        password: String,
    ) -> Result<pb::TokenPair, GatewayError> {
        let now = self.clock.now();
        let subject = throttle::login_subject(username);
        let candidate = self.accounts.find_login(username).await?;
        let attempt = Attempt {
            method: LOGIN,
            presented: username,
            target: candidate.as_ref().map(|c| (c.user.id, c.user.partner_id)),
            subject: &subject,
        };
        let standing = self.unless_locked(&attempt, now).await?;
        let hash = candidate.as_ref().map(|c| c.password_hash.clone());
        // Unknown users cost the same time as wrong passwords.
        let verified = self
            .accounts
            .passwords()
            .verify(password, hash)
            .await
            .map_err(GatewayError::PasswordCheck)?;
        let candidate = match candidate {
            Some(c) if verified => c,
            _ => {
                return Err(self
                    .refuse(&attempt, GatewayError::InvalidCredentials, true, now)
                    .await);
            }
        };
        if let Err(e) = admit(candidate.user.state, candidate.partner_state) {
            return Err(self.refuse(&attempt, e, false, now).await);
        }
        if standing.has_failures {
            throttle::reset(self.db.conn(), &subject).await?;
        }
        let (session, refresh) = self
            .sessions
            .open(candidate.user.id, candidate.user.partner_id, now)
            .await?;
        self.token_pair(candidate.user.id, session, refresh)
    }

    /// Checks an access key id and secret and issues an access token for the
    /// key's user, on a new session tied to the key. Throttled per key id,
    /// known or not.
    pub async fn exchange_access_key(
        &self,
        id: AccessKeyId,
        secret: &str,
    ) -> Result<pb::ExchangeAccessKeyResponse, GatewayError> {
        let now = self.clock.now();
        let subject = throttle::access_key_subject(id);
        let presented = id.to_string();
        let key = access_keys::store::key_for_exchange(self.db.conn(), id).await?;
        let owner = key.as_ref().and_then(|k| {
            let user = UserId::parse(&k.user_id).ok()?;
            Some((user, PartnerId::parse(&k.partner_id).ok()))
        });
        let attempt = Attempt {
            method: EXCHANGE,
            presented: &presented,
            target: owner,
            subject: &subject,
        };
        let standing = self.unless_locked(&attempt, now).await?;
        let (key, (user_id, partner_id)) = match (key, owner) {
            (Some(k), Some(o)) if access_keys::secret_matches(&k.secret_hash, secret) => (k, o),
            _ => {
                return Err(self
                    .refuse(&attempt, GatewayError::AccessKeyInvalid, true, now)
                    .await);
            }
        };
        // Only a holder of the secret learns that the key is disabled.
        if key.state != access_keys::ACTIVE {
            return Err(self
                .refuse(&attempt, GatewayError::AccessKeyDisabled, false, now)
                .await);
        }
        let status = self
            .accounts
            .principal_status(user_id)
            .await?
            .ok_or(GatewayError::AccessKeyInvalid)?;
        if let Err(e) = admit(status.user_state, status.partner_state) {
            return Err(self.refuse(&attempt, e, false, now).await);
        }
        let expires_at = now + self.lifetimes.access;
        let tx = self.db.begin_write().await?;
        // Marks the use and locks the key: a concurrent disable or delete
        // either finds this session and revokes it, or wins and we stop here.
        if access_keys::store::mark_used(&*tx, id, now).await? != 1 {
            return Err(GatewayError::AccessKeyDisabled);
        }
        let session = insert_session(&*tx, user_id, partner_id, Some(id), now, expires_at).await?;
        if standing.has_failures {
            throttle::reset(&*tx, &subject).await?;
        }
        tx.commit().await?;
        let (access, access_expires) = tokens::issue(
            &self.keys.ring(),
            user_id,
            session,
            now,
            self.lifetimes.access,
        )?;
        Ok(pb::ExchangeAccessKeyResponse {
            access_token: access,
            access_token_expire_time: Some(to_proto_timestamp(access_expires)),
            token_type: "Bearer".into(),
        })
    }

    /// Where the attempt's subject stands; a locked subject is refused (and
    /// the refusal audited) before any credential is looked at.
    async fn unless_locked(
        &self,
        attempt: &Attempt<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Standing, GatewayError> {
        let standing = throttle::standing(self.db.conn(), attempt.subject, now).await?;
        match standing.locked_for {
            Some(retry_after) => Err(self
                .refuse(
                    attempt,
                    GatewayError::TooManyFailedAttempts { retry_after },
                    false,
                    now,
                )
                .await),
            None => Ok(standing),
        }
    }

    /// Audits a refused attempt and, for a wrong guess (`charge`), counts it
    /// against the subject, in one transaction. Returns the error to answer
    /// with: `refusal`, unless the bookkeeping itself failed.
    async fn refuse(
        &self,
        attempt: &Attempt<'_>,
        refusal: GatewayError,
        charge: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> GatewayError {
        let record = FailedCredential {
            method: attempt.method,
            resource_id: attempt.presented.to_owned(),
            target_user_id: attempt.target.map(|(u, _)| u),
            partner_id: attempt.target.and_then(|(_, p)| p),
            reason: refusal_reason(&refusal),
            now,
        };
        let written = async {
            let tx = self.db.begin_write().await?;
            if charge {
                throttle::record_failure(&*tx, attempt.subject, now).await?;
            }
            audit::record_failed_credential(&*tx, record).await?;
            tx.commit().await?;
            Ok::<_, GatewayError>(())
        }
        .await;
        match written {
            Ok(()) => refusal,
            Err(e) => e,
        }
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
            .revoke(principal.session_id, self.clock.now())
            .await
    }

    fn token_pair(
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
        match self.sessions.active_user(verified.session_id, now).await? {
            Some(owner) if owner == verified.user_id => {}
            // A session of someone else: only a holder of our signing key could say so.
            Some(_) => return Err(GatewayError::TokenInvalid),
            None => return Err(GatewayError::SessionRevoked),
        }
        let status = self
            .accounts
            .principal_status(verified.user_id)
            .await?
            .ok_or(GatewayError::TokenInvalid)?;
        admit(status.user_state, status.partner_state)?;
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
