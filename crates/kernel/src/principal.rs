//! Who is calling: the typed principal the authentication layer puts into the
//! request extensions after verifying the caller's token.

use tonic::Request;

use crate::error::KernelError;
use crate::ids::{CustomerId, PartnerId, SessionId, UserId};
use crate::permission::{Permission, PermissionSet};

/// What kind of account is calling, and for which partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The cloud vendor's own staff.
    Operator,
    /// A partner's master account: every permission of its partner.
    PartnerMaster(PartnerId),
    /// A partner's sub-user: only what its roles grant.
    PartnerUser(PartnerId),
    /// A customer's cloud account, reaching only its own data: signed in
    /// itself, or assumed by a partner user ([`Principal::user_id`] then
    /// names that user). It is no partner's tenant.
    Customer(CustomerId),
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user the token was issued to; `None` for a customer signed in
    /// itself (no user holds that token).
    pub user_id: Option<UserId>,
    /// The login session the token belongs to.
    pub session_id: SessionId,
    /// Its kind and tenant.
    pub actor: Actor,
    /// What it may do: fixed for the operator and masters (see
    /// [`crate::permission::Catalog::fixed_permissions`]), the union of its
    /// roles for sub-users, computed when the request was authenticated.
    pub permissions: PermissionSet,
}

impl Principal {
    /// A customer acting without a session or permissions: the newcomer of
    /// a sign-up, or a customer its partner's IdP vouched for. Audit records
    /// name it as the actor of its own change.
    pub fn sessionless_customer(id: CustomerId) -> Principal {
        Principal {
            user_id: None,
            session_id: SessionId::generate(),
            actor: Actor::Customer(id),
            permissions: PermissionSet::empty(),
        }
    }

    /// The principal of `req`. The authentication layer guarantees one on every
    /// RPC it does not exempt; its absence is a wiring bug, answered as
    /// `UNAUTHENTICATED` rather than trusted.
    pub fn from_request<T>(req: &Request<T>) -> Result<Principal, tonic::Status> {
        req.extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| tonic::Status::unauthenticated("authentication required"))
    }

    /// The tenant, for partner users; `None` for the operator and customers.
    pub fn partner_id(&self) -> Option<PartnerId> {
        match self.actor {
            Actor::Operator | Actor::Customer(_) => None,
            Actor::PartnerMaster(p) | Actor::PartnerUser(p) => Some(p),
        }
    }

    /// The customer a customer-scoped token acts as.
    pub fn customer_id(&self) -> Option<CustomerId> {
        match self.actor {
            Actor::Customer(c) => Some(c),
            Actor::Operator | Actor::PartnerMaster(_) | Actor::PartnerUser(_) => None,
        }
    }

    /// The user behind the call. Verbs of the operator and of partners ask
    /// for it; a customer signed in itself has none and is refused (their
    /// gates never admit one, so this is a second line).
    pub fn user(&self) -> Result<UserId, KernelError> {
        self.user_id.ok_or(KernelError::MissingPermission(
            "a user of the platform or of a partner",
        ))
    }

    /// Who acted, as audited and as the owner of idempotency keys: the
    /// user, else the customer signed in itself.
    pub fn actor_id(&self) -> String {
        match (self.user_id, self.actor) {
            (Some(user), _) => user.to_string(),
            (None, Actor::Customer(c)) => c.to_string(),
            (None, Actor::Operator | Actor::PartnerMaster(_) | Actor::PartnerUser(_)) => {
                String::new()
            }
        }
    }

    /// True for the platform operator.
    pub fn is_operator(&self) -> bool {
        matches!(self.actor, Actor::Operator)
    }

    /// Whether the principal holds `permission`.
    pub fn holds(&self, permission: &Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` when the principal holds `permission`, else `MISSING_PERMISSION`.
    pub fn require(&self, permission: Permission) -> Result<(), KernelError> {
        if self.holds(&permission) {
            Ok(())
        } else {
            Err(KernelError::MissingPermission(permission.id()))
        }
    }

    /// The tenant of a partner principal holding `permission`; the operator and
    /// principals without it are refused.
    pub fn require_partner(&self, permission: Permission) -> Result<PartnerId, KernelError> {
        self.require(permission)?;
        self.partner_id()
            .ok_or(KernelError::MissingPermission(permission.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: Permission = Permission::partner("users.read", "t", "Read.", &[]);
    const MAKE: Permission = Permission::partner("users.create", "t", "Make.", &[]);

    fn principal(actor: Actor, permissions: &[Permission]) -> Principal {
        Principal {
            user_id: Some(UserId::generate()),
            session_id: SessionId::generate(),
            actor,
            permissions: permissions.iter().copied().collect(),
        }
    }

    #[test]
    fn require_answers_by_the_set() {
        let user = principal(Actor::PartnerUser(PartnerId::generate()), &[READ]);
        assert!(user.holds(&READ));
        assert!(user.require_partner(READ).is_ok());
        assert!(matches!(
            user.require(MAKE),
            Err(KernelError::MissingPermission("users.create"))
        ));
    }

    #[test]
    fn the_operator_is_no_partner() {
        let op = principal(Actor::Operator, &[READ]);
        assert!(op.require(READ).is_ok());
        assert!(op.partner_id().is_none());
        assert!(matches!(
            op.require_partner(READ),
            Err(KernelError::MissingPermission(_))
        ));
    }
}
