//! The one place where every RPC of the platform declares who may call it and
//! whether it changes anything. The authentication layer checks it before any
//! handler runs (a method missing here is refused), the tests enumerate it
//! against the service descriptors (a method missing here, or listed here but
//! not served, fails the suite), and the `READ_ONLY` and audit-completeness
//! tests are generated from it.
//!
//! Handlers still decide tenancy (which partner's data a caller may touch) and
//! pick between the platform and the partner permission of a shared RPC; this
//! table is the gate in front of them.

use crate::permission::Permission;
use crate::principal::Principal;

/// Who may call an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token: signing in and public keys.
    Public,
    /// Any authenticated caller; the RPC acts only on the caller's own session
    /// or reads a public catalog.
    Authenticated,
    /// Callers holding at least one of these permissions.
    AnyOf(&'static [Permission]),
}

/// What an RPC does to the platform's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Changes state: takes a `request_id`, is idempotent and writes an audit
    /// record in the same transaction.
    Write,
    /// Opens, renews or closes the caller's own session. These change session
    /// rows only and are not audited as mutations (failed attempts are).
    SignIn,
}

/// The declaration of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Full method name without the leading slash, e.g.
    /// `partner.accounts.v1.PartnerService/GetPartner`.
    pub method: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does.
    pub effect: Effect,
}

impl Rule {
    /// Whether `principal` passes this gate. Public rules admit everyone.
    pub fn admits(&self, principal: &Principal) -> bool {
        match self.access {
            Access::Public | Access::Authenticated => true,
            Access::AnyOf(permissions) => permissions.iter().any(|p| principal.holds(*p)),
        }
    }

    /// The permission to name when refusing: the first one listed.
    pub fn missing_permission(&self) -> Option<Permission> {
        match self.access {
            Access::AnyOf(permissions) => permissions.first().copied(),
            Access::Public | Access::Authenticated => None,
        }
    }
}

use Access::{AnyOf, Authenticated, Public};
use Effect::{Read, SignIn, Write};
use Permission as P;

const fn rule(method: &'static str, access: Access, effect: Effect) -> Rule {
    Rule {
        method,
        access,
        effect,
    }
}

/// Every RPC of the platform.
pub const RULES: &[Rule] = &[
    // partner.iam.v1.AuthService
    rule("partner.iam.v1.AuthService/Login", Public, SignIn),
    rule("partner.iam.v1.AuthService/RefreshToken", Public, SignIn),
    rule("partner.iam.v1.AuthService/Logout", Authenticated, SignIn),
    rule("partner.iam.v1.AuthService/GetJwks", Public, Read),
    rule(
        "partner.iam.v1.AuthService/ExchangeAccessKey",
        Public,
        SignIn,
    ),
    // partner.iam.v1.AccessKeyService
    rule(
        "partner.iam.v1.AccessKeyService/CreateAccessKey",
        AnyOf(&[P::AccessKeysCreate]),
        Write,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/ListAccessKeys",
        AnyOf(&[P::AccessKeysRead]),
        Read,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/DisableAccessKey",
        AnyOf(&[P::AccessKeysDisable]),
        Write,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/DeleteAccessKey",
        AnyOf(&[P::AccessKeysDelete]),
        Write,
    ),
    // partner.iam.v1.SigningKeyService
    rule(
        "partner.iam.v1.SigningKeyService/ListSigningKeys",
        AnyOf(&[P::PlatformSigningKeysRead]),
        Read,
    ),
    rule(
        "partner.iam.v1.SigningKeyService/RotateSigningKey",
        AnyOf(&[P::PlatformSigningKeysManage]),
        Write,
    ),
    rule(
        "partner.iam.v1.SigningKeyService/RetireSigningKey",
        AnyOf(&[P::PlatformSigningKeysManage]),
        Write,
    ),
    // partner.accounts.v1.PartnerService
    rule(
        "partner.accounts.v1.PartnerService/RegisterPartner",
        AnyOf(&[P::PlatformPartnersRegister]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/GetPartner",
        AnyOf(&[P::PlatformPartnersRead, P::PartnerProfileRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.PartnerService/ListPartners",
        AnyOf(&[P::PlatformPartnersRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.PartnerService/UpdatePartner",
        AnyOf(&[P::PlatformPartnersUpdate, P::PartnerProfileUpdate]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/SuspendPartner",
        AnyOf(&[P::PlatformPartnersSuspend]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/ReinstatePartner",
        AnyOf(&[P::PlatformPartnersSuspend]),
        Write,
    ),
    // partner.accounts.v1.UserService
    rule(
        "partner.accounts.v1.UserService/CreateUser",
        AnyOf(&[P::UsersCreate]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/GetUser",
        AnyOf(&[P::UsersRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.UserService/ListUsers",
        AnyOf(&[P::UsersRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.UserService/DisableUser",
        AnyOf(&[P::UsersDisable]),
        Write,
    ),
    // partner.accounts.v1.AuditService
    rule(
        "partner.accounts.v1.AuditService/ListAuditRecords",
        AnyOf(&[P::PlatformAuditRead, P::AuditRead]),
        Read,
    ),
    // partner.accounts.v1.RoleService
    rule(
        "partner.accounts.v1.RoleService/ListPermissions",
        Authenticated,
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/ListRoles",
        AnyOf(&[P::RolesRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/GetRole",
        AnyOf(&[P::RolesRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/ListRoleMembers",
        AnyOf(&[P::RolesRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/CreateRole",
        AnyOf(&[P::RolesManage]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/UpdateRole",
        AnyOf(&[P::RolesManage]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/DeleteRole",
        AnyOf(&[P::RolesManage]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/AssignRole",
        AnyOf(&[P::RolesAssign]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/UnassignRole",
        AnyOf(&[P::RolesAssign]),
        Write,
    ),
    // partner.accounts.v1.ProgramService
    rule(
        "partner.accounts.v1.ProgramService/ListPrograms",
        AnyOf(&[P::PlatformProgramsRead, P::ProgramsRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ProgramService/CreateInvitation",
        AnyOf(&[P::PlatformInvitationsCreate, P::InvitationsCreate]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ProgramService/ListInvitations",
        AnyOf(&[P::PlatformInvitationsRead, P::InvitationsRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ProgramService/RevokeInvitation",
        AnyOf(&[P::PlatformInvitationsRevoke, P::InvitationsRevoke]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ProgramService/AcceptInvitation",
        AnyOf(&[P::ProgramsJoin]),
        Write,
    ),
    // The invitation token is the credential; the new partner has no account yet.
    rule(
        "partner.accounts.v1.ProgramService/SignUpWithInvitation",
        Public,
        Write,
    ),
    // partner.accounts.v1.ResellerService
    rule(
        "partner.accounts.v1.ResellerService/ListResellers",
        AnyOf(&[P::PlatformResellersRead, P::ResellersRead]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ResellerService/SuspendReseller",
        AnyOf(&[P::ResellersManage]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ResellerService/RestoreReseller",
        AnyOf(&[P::ResellersManage]),
        Write,
    ),
];

/// The rule of a request path (`/package.Service/Method`) or full method name.
pub fn rule_for(path: &str) -> Option<&'static Rule> {
    let method = path.strip_prefix('/').unwrap_or(path);
    RULES.iter().find(|r| r.method == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_unique() {
        let mut methods: Vec<_> = RULES.iter().map(|r| r.method).collect();
        methods.sort_unstable();
        methods.dedup();
        assert_eq!(methods.len(), RULES.len());
    }

    #[test]
    fn writes_need_write_permissions_and_reads_read_permissions() {
        // The READ_ONLY role holds exactly the `.read` permissions; this keeps
        // it from ever passing the gate of a write.
        for r in RULES {
            if let Access::AnyOf(ps) = r.access {
                assert!(!ps.is_empty(), "{}", r.method);
                for p in ps {
                    assert_eq!(p.is_read(), r.effect == Effect::Read, "{} {p:?}", r.method);
                }
            }
        }
    }

    #[test]
    fn every_permission_guards_some_rpc() {
        for p in Permission::ALL {
            assert!(
                RULES
                    .iter()
                    .any(|r| matches!(r.access, Access::AnyOf(ps) if ps.contains(p))),
                "{p:?} guards nothing"
            );
        }
    }

    #[test]
    fn lookup_takes_paths_and_names() {
        let r = rule_for("/partner.iam.v1.AuthService/Login");
        assert_eq!(r.map(|r| r.access), Some(Access::Public));
        assert!(rule_for("partner.iam.v1.AuthService/Login").is_some());
        assert!(rule_for("/partner.iam.v1.AuthService/LoginX").is_none());
        assert!(rule_for("").is_none());
    }
}
