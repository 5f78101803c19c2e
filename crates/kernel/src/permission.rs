//! The permission catalog. Every RPC names the permission it needs; the
//! platform operator holds the platform permissions, a partner's master user
//! holds every permission of its own partner.

/// Whose permissions these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionScope {
    /// Back-office permissions of the platform operator.
    Platform,
    /// Permissions inside one partner's tenant.
    Partner,
}

/// One fine-grained permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Register new partners.
    PlatformPartnersRegister,
    /// List and read every partner.
    PlatformPartnersRead,
    /// Update any partner's profile.
    PlatformPartnersUpdate,
    /// Suspend and reinstate partners.
    PlatformPartnersSuspend,
    /// Read every partner's audit records.
    PlatformAuditRead,
    /// List, rotate and retire token-signing keys.
    PlatformSigningKeysManage,
    /// Read the caller's own partner.
    PartnerProfileRead,
    /// Update the caller's own partner.
    PartnerProfileUpdate,
    /// Create sub-users.
    UsersCreate,
    /// Read and list users.
    UsersRead,
    /// Disable sub-users.
    UsersDisable,
    /// Read the partner's own audit records.
    AuditRead,
    /// Create access keys for the partner's users.
    AccessKeysCreate,
    /// List the partner's access keys (never their secrets).
    AccessKeysRead,
    /// Disable access keys.
    AccessKeysDisable,
    /// Delete access keys.
    AccessKeysDelete,
}

impl Permission {
    /// Every permission, for catalogs and tests.
    pub const ALL: [Permission; 16] = [
        Self::PlatformPartnersRegister,
        Self::PlatformPartnersRead,
        Self::PlatformPartnersUpdate,
        Self::PlatformPartnersSuspend,
        Self::PlatformAuditRead,
        Self::PlatformSigningKeysManage,
        Self::PartnerProfileRead,
        Self::PartnerProfileUpdate,
        Self::UsersCreate,
        Self::UsersRead,
        Self::UsersDisable,
        Self::AuditRead,
        Self::AccessKeysCreate,
        Self::AccessKeysRead,
        Self::AccessKeysDisable,
        Self::AccessKeysDelete,
    ];

    /// The stable id, as shown to people and stored in roles.
    pub fn id(self) -> &'static str {
        match self {
            Self::PlatformPartnersRegister => "platform.partners.register",
            Self::PlatformPartnersRead => "platform.partners.read",
            Self::PlatformPartnersUpdate => "platform.partners.update",
            Self::PlatformPartnersSuspend => "platform.partners.suspend",
            Self::PlatformAuditRead => "platform.audit.read",
            Self::PlatformSigningKeysManage => "platform.signing_keys.manage",
            Self::PartnerProfileRead => "partner.profile.read",
            Self::PartnerProfileUpdate => "partner.profile.update",
            Self::UsersCreate => "users.create",
            Self::UsersRead => "users.read",
            Self::UsersDisable => "users.disable",
            Self::AuditRead => "audit.read",
            Self::AccessKeysCreate => "access_keys.create",
            Self::AccessKeysRead => "access_keys.read",
            Self::AccessKeysDisable => "access_keys.disable",
            Self::AccessKeysDelete => "access_keys.delete",
        }
    }

    /// Who can hold it.
    pub fn scope(self) -> PermissionScope {
        match self {
            Self::PlatformPartnersRegister
            | Self::PlatformPartnersRead
            | Self::PlatformPartnersUpdate
            | Self::PlatformPartnersSuspend
            | Self::PlatformAuditRead
            | Self::PlatformSigningKeysManage => PermissionScope::Platform,
            Self::PartnerProfileRead
            | Self::PartnerProfileUpdate
            | Self::UsersCreate
            | Self::UsersRead
            | Self::UsersDisable
            | Self::AuditRead
            | Self::AccessKeysCreate
            | Self::AccessKeysRead
            | Self::AccessKeysDisable
            | Self::AccessKeysDelete => PermissionScope::Partner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_dotted() {
        let mut ids: Vec<_> = Permission::ALL.iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Permission::ALL.len());
        assert!(ids.iter().all(|id| {
            id.contains('.')
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        }));
    }

    #[test]
    fn platform_ids_say_so() {
        for p in Permission::ALL {
            assert_eq!(
                p.id().starts_with("platform."),
                p.scope() == PermissionScope::Platform,
                "{p:?}"
            );
        }
    }
}
