//! Who is calling: the typed principal the authentication layer puts into the
//! request extensions after verifying the caller's token.

use tonic::Request;

use crate::error::KernelError;
use crate::ids::{PartnerId, SessionId, UserId};
use crate::permission::{Permission, PermissionScope, PermissionSet};

/// What kind of account is calling, and for which partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The cloud vendor's own staff.
    Operator,
    /// A partner's master account: every permission of its partner.
    PartnerMaster(PartnerId),
    /// A partner's sub-user: only what its roles grant.
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
    /// What it may do: fixed for the operator and masters, the union of its
    /// roles for sub-users, computed when the request was authenticated.
    pub permissions: PermissionSet,
}

impl Actor {
    /// The permissions this kind of actor always has: every platform permission
    /// for the operator, every partner permission for a master; `None` for
    /// sub-users, whose permissions come from their roles.
    pub fn fixed_permissions(self) -> Option<PermissionSet> {
        match self {
            Actor::Operator => Some(PermissionSet::of_scope(PermissionScope::Platform)),
            Actor::PartnerMaster(_) => Some(PermissionSet::of_scope(PermissionScope::Partner)),
            Actor::PartnerUser(_) => None,
        }
    }
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
        self.permissions.contains(permission)
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
            permissions: actor.fixed_permissions().unwrap_or_default(),
        }
    }

    #[test]
    fn operator_holds_platform_permissions_only() {
        let op = principal(Actor::Operator);
        for p in Permission::ALL {
            assert_eq!(op.holds(*p), p.scope() == PermissionScope::Platform);
        }
    }

    #[test]
    fn master_holds_every_partner_permission() {
        let master = principal(Actor::PartnerMaster(PartnerId::generate()));
        for p in Permission::ALL {
            assert_eq!(master.holds(*p), p.scope() == PermissionScope::Partner);
        }
        assert!(master.require_partner(Permission::UsersCreate).is_ok());
    }

    #[test]
    fn sub_user_holds_only_what_it_was_given() {
        let mut user = principal(Actor::PartnerUser(PartnerId::generate()));
        for p in Permission::ALL {
            assert!(!user.holds(*p));
            assert!(matches!(
                user.require(*p),
                Err(KernelError::MissingPermission(_))
            ));
        }
        user.permissions = [Permission::UsersRead].into_iter().collect();
        assert!(user.require_partner(Permission::UsersRead).is_ok());
        for p in Permission::ALL
            .iter()
            .filter(|p| **p != Permission::UsersRead)
        {
            assert!(!user.holds(*p));
            assert!(matches!(
                user.require(*p),
                Err(KernelError::MissingPermission(_))
            ));
        }
    }
}
