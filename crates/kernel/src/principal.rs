//! Who is calling: the typed principal the authentication layer puts into the
//! request extensions after verifying the caller's token.

use tonic::Request;

use crate::error::KernelError;
use crate::ids::{PartnerId, SessionId, UserId};
use crate::permission::{Permission, PermissionScope};

/// What kind of account is calling, and for which partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The cloud vendor's own staff.
    Operator,
    /// A partner's master account: every permission of its partner.
    PartnerMaster(PartnerId),
    /// A partner's sub-user: only what its roles grant (none yet).
    PartnerUser(PartnerId),
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user the token was issued to.
    pub user_id: UserId,
    /// The login session the token belongs to.
    pub session_id: SessionId,
    /// Its kind and tenant.
    pub actor: Actor,
}

impl Principal {
    /// The principal of `req`. The authentication layer guarantees one on every
    /// RPC it does not exempt; its absence is a wiring bug, answered as
    /// `UNAUTHENTICATED` rather than trusted.
    pub fn from_request<T>(req: &Request<T>) -> Result<Principal, tonic::Status> {
        req.extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| tonic::Status::unauthenticated("authentication required"))
    }

    /// The tenant, for partner users; `None` for the operator.
    pub fn partner_id(&self) -> Option<PartnerId> {
        match self.actor {
            Actor::Operator => None,
            Actor::PartnerMaster(p) | Actor::PartnerUser(p) => Some(p),
        }
    }

    /// True for the platform operator.
    pub fn is_operator(&self) -> bool {
        matches!(self.actor, Actor::Operator)
    }

    /// Whether the principal holds `permission`.
    pub fn holds(&self, permission: Permission) -> bool {
        match (self.actor, permission.scope()) {
            (Actor::Operator, PermissionScope::Platform) => true,
            (Actor::PartnerMaster(_), PermissionScope::Partner) => true,
            (Actor::Operator, PermissionScope::Partner)
            | (Actor::PartnerMaster(_), PermissionScope::Platform)
            | (Actor::PartnerUser(_), PermissionScope::Platform | PermissionScope::Partner) => {
                false
            }
        }
    }

    /// `Ok` when the principal holds `permission`, else `MISSING_PERMISSION`.
    pub fn require(&self, permission: Permission) -> Result<(), KernelError> {
        if self.holds(permission) {
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

    fn principal(actor: Actor) -> Principal {
        Principal {
            user_id: UserId::generate(),
            session_id: SessionId::generate(),
            actor,
        }
    }

    #[test]
    fn operator_holds_platform_permissions_only() {
        let op = principal(Actor::Operator);
        for p in Permission::ALL {
            assert_eq!(op.holds(p), p.scope() == PermissionScope::Platform);
        }
    }

    #[test]
    fn master_holds_every_partner_permission() {
        let master = principal(Actor::PartnerMaster(PartnerId::generate()));
        for p in Permission::ALL {
            assert_eq!(master.holds(p), p.scope() == PermissionScope::Partner);
        }
        assert!(master.require_partner(Permission::UsersCreate).is_ok());
    }

    #[test]
    fn sub_user_holds_nothing_yet() {
        let user = principal(Actor::PartnerUser(PartnerId::generate()));
        for p in Permission::ALL {
            assert!(!user.holds(p));
            assert!(matches!(
                user.require(p),
                Err(KernelError::MissingPermission(_))
            ));
        }
    }
}
