//! The gateway's state; refreshing, signing out, and turning a bearer token
//! into a [`Principal`]. Signing in lives in [`crate::signin`].

use std::sync::Arc;

use chrono::Duration;
use partner_accounts::Accounts;
use partner_accounts::partners::PartnerState;
use partner_accounts::users::UserState;
use partner_api::iam::v1 as pb;
use partner_customers::Customers;
use partner_customers::principals::CustomerStatus;
use partner_kernel::clock::{SharedClock, to_proto_timestamp};
use partner_kernel::db::Db;
use partner_kernel::ids::CustomerId;
use partner_kernel::page::PageTokens;
use partner_kernel::principal::{Actor, Principal};

use crate::access_keys::AccessKeys;
use crate::error::GatewayError;
use crate::holder::Holder;
use crate::sessions::{ActiveSession, IssuedRefresh, Sessions};
use crate::signin::pending::{MemoryThrottle, PendingRefusals};
use crate::signing_keys::Keys;
use crate::tokens::{self, Subject};

/// Lifetimes of the tokens the gateway issues.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    /// Access token (JWT).
    pub access: Duration,
    /// Session, and with it every refresh token.
    pub session: Duration,
    /// A token of a partner user acting as a customer (no refresh token).
    pub assumed: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::hours(1),
            session: Duration::days(30),
            assumed: Duration::minutes(15),
        }
    }
}

/// The gateway: passwords, sessions and tokens.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub(crate) db: Db,
    pub(crate) accounts: Accounts,
    pub(crate) customers: Customers,
    pub(crate) keys: Arc<Keys>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) clock: SharedClock,
    pub(crate) lifetimes: TokenLifetimes,
    /// Counters of sign-in subjects that do not exist.
    pub(crate) unknown_throttle: Arc<MemoryThrottle>,
    /// Refusals counted in memory until [`Gateway::flush_refusals`].
    pub(crate) pending: Arc<PendingRefusals>,
}

/// Refuses customers who may not act now, whatever their credentials.
pub fn admit_customer(status: CustomerStatus) -> Result<(), GatewayError> {
    if status.frozen {
        Err(GatewayError::CustomerFrozen)
    } else {
        Ok(())
    }
}

/// Whether a customer's own session, opened for `partner` at `opened`, still
/// holds: the customer has the same partner (leaving it or joining another
/// ends its sessions) and has not changed its password since.
fn customer_session_holds(
    status: &CustomerStatus,
    partner: Option<partner_kernel::ids::PartnerId>,
    opened: chrono::DateTime<chrono::Utc>,
) -> bool {
    status.partner_id == partner && status.password_changed_at.is_none_or(|at| at <= opened)
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
        customers: Customers,
        keys: Arc<Keys>,
        clock: SharedClock,
        lifetimes: TokenLifetimes,
        db: partner_kernel::db::Db,
    ) -> Self {
        let sessions = Arc::new(Sessions::new(db.clone(), lifetimes.session));
        Self {
            db,
            accounts,
            customers,
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
        match session.holder {
            Holder::User(user) => {
                let status = self
                    .accounts
                    .principal_status(user)
                    .await?
                    .ok_or(GatewayError::RefreshTokenInvalid)?;
                admit(status.user_state, status.partner_state)?;
            }
            Holder::Customer(customer) => {
                let status = self
                    .customers
                    .principal_status(customer)
                    .await?
                    .ok_or(GatewayError::RefreshTokenInvalid)?;
                admit_customer(status)?;
                if !customer_session_holds(&status, session.partner_id, session.created_at) {
                    return Err(GatewayError::SessionRevoked);
                }
            }
        }
        let subject = Subject {
            holder: session.holder,
            session: session.session_id,
            customer: session.customer_id,
        };
        self.token_pair(subject, refresh)
    }

    /// Ends the caller's session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), GatewayError> {
        self.sessions
            .end_own(
                holder_of(principal)?,
                principal.session_id,
                self.clock.now(),
            )
            .await
    }

    pub(crate) fn token_pair(
        &self,
        subject: Subject,
        refresh: IssuedRefresh,
    ) -> Result<pb::TokenPair, GatewayError> {
        let (access, access_expires) = tokens::issue(
            &self.keys.ring(),
            subject,
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

    /// The principal behind a bearer token, if the token, its session, its
    /// holder (user or customer) and the tenant all still allow it.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError> {
        let now = self.clock.now();
        let verified = self.keys.verify(token, now)?;
        // The account first (below): a disabled user, a suspended partner or
        // a frozen customer is told so whatever became of the session.
        let session = self.sessions.active(verified.session_id, now).await?;
        let principal = match (verified.holder, verified.customer_id) {
            (Holder::User(user), customer) => {
                self.user_principal(&verified, user, customer, session, now)
                    .await?
            }
            (Holder::Customer(customer), _) => {
                let status = self
                    .customers
                    .principal_status(customer)
                    .await?
                    .ok_or(GatewayError::TokenInvalid)?;
                admit_customer(status)?;
                // Opened for the partner it had then: leaving it, or joining
                // another, ends the session.
                if session
                    .is_some_and(|s| !customer_session_holds(&status, s.partner_id, s.created_at))
                {
                    return Err(GatewayError::SessionRevoked);
                }
                let actor = Actor::Customer(customer);
                Principal {
                    user_id: None,
                    session_id: verified.session_id,
                    actor,
                    permissions: self
                        .accounts
                        .catalog()
                        .fixed_permissions(actor)
                        .unwrap_or_default(),
                }
            }
        };
        match session {
            Some(s) if s.holder == verified.holder && s.customer_id == verified.customer_id => {}
            // A session of someone else: only a holder of our signing key could say so.
            Some(_) => return Err(GatewayError::TokenInvalid),
            None => return Err(GatewayError::SessionRevoked),
        }
        Ok(principal)
    }

    /// The principal of a user's token: the user itself, or (`customer`)
    /// the user acting as one of its partner's customers, which needs the
    /// session it was opened from to be active, the user to still hold the
    /// permission, and the customer to still be its partner's and not frozen.
    async fn user_principal(
        &self,
        verified: &tokens::Verified,
        user: partner_kernel::ids::UserId,
        customer: Option<CustomerId>,
        session: Option<ActiveSession>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Principal, GatewayError> {
        // Disabling ends the sessions too, through a cache this check does not wait for.
        let status = self
            .accounts
            .principal_status(user)
            .await?
            .ok_or(GatewayError::TokenInvalid)?;
        admit(status.user_state, status.partner_state)?;
        let Some(customer) = customer else {
            return Ok(Principal {
                user_id: Some(user),
                session_id: verified.session_id,
                actor: status.actor,
                permissions: status.permissions,
            });
        };
        let partner = match status.actor {
            Actor::PartnerMaster(p) | Actor::PartnerUser(p) => p,
            Actor::Operator | Actor::Customer(_) => return Err(GatewayError::TokenInvalid),
        };
        let parent = session
            .and_then(|s| s.parent)
            .ok_or(GatewayError::SessionRevoked)?;
        match self.sessions.active(parent, now).await? {
            Some(p) if p.holder == Holder::User(user) && p.customer_id.is_none() => {}
            Some(_) | None => return Err(GatewayError::SessionRevoked),
        }
        if !status
            .permissions
            .contains(&crate::access::CUSTOMERS_ASSUME)
        {
            return Err(GatewayError::SessionRevoked);
        }
        let of_customer = self
            .customers
            .principal_status(customer)
            .await?
            .filter(|s| s.partner_id == Some(partner))
            .ok_or(GatewayError::SessionRevoked)?;
        admit_customer(of_customer)?;
        Ok(Principal {
            user_id: Some(user),
            session_id: verified.session_id,
            actor: Actor::Customer(customer),
            permissions: self.accounts.catalog().assumed_customer_permissions(),
        })
    }
}

/// Who holds the caller's session.
pub(crate) fn holder_of(p: &Principal) -> Result<Holder, GatewayError> {
    match (p.user_id, p.customer_id()) {
        (Some(user), _) => Ok(Holder::User(user)),
        (None, Some(customer)) => Ok(Holder::Customer(customer)),
        (None, None) => Err(GatewayError::TokenInvalid),
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
