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
    /// Read the program catalog (operator).
    PlatformProgramsRead,
    /// Invite partners to any program but RESELLER.
    PlatformInvitationsCreate,
    /// List every invitation.
    PlatformInvitationsRead,
    /// Revoke any invitation.
    PlatformInvitationsRevoke,
    /// List any distributor's resellers.
    PlatformResellersRead,
    /// Read the program catalog.
    ProgramsRead,
    /// Accept an invitation for the caller's partner.
    ProgramsJoin,
    /// Invite resellers (distributors only).
    InvitationsCreate,
    /// List the invitations the partner sent.
    InvitationsRead,
    /// Revoke invitations the partner sent.
    InvitationsRevoke,
    /// List the partner's resellers.
    ResellersRead,
    /// Suspend and restore reseller links.
    ResellersManage,
}

impl Permission {
    /// Every permission, for catalogs and tests.
    pub const ALL: [Permission; 24] = [
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
        Self::PlatformProgramsRead,
        Self::PlatformInvitationsCreate,
        Self::PlatformInvitationsRead,
        Self::PlatformInvitationsRevoke,
        Self::PlatformResellersRead,
        Self::ProgramsRead,
        Self::ProgramsJoin,
        Self::InvitationsCreate,
        Self::InvitationsRead,
        Self::InvitationsRevoke,
        Self::ResellersRead,
        Self::ResellersManage,
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
            Self::PlatformProgramsRead => "platform.programs.read",
            Self::PlatformInvitationsCreate => "platform.invitations.create",
            Self::PlatformInvitationsRead => "platform.invitations.read",
            Self::PlatformInvitationsRevoke => "platform.invitations.revoke",
            Self::PlatformResellersRead => "platform.resellers.read",
            Self::ProgramsRead => "programs.read",
            Self::ProgramsJoin => "programs.join",
            Self::InvitationsCreate => "invitations.create",
            Self::InvitationsRead => "invitations.read",
            Self::InvitationsRevoke => "invitations.revoke",
            Self::ResellersRead => "resellers.read",
            Self::ResellersManage => "resellers.manage",
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
            | Self::PlatformSigningKeysManage
            | Self::PlatformProgramsRead
            | Self::PlatformInvitationsCreate
            | Self::PlatformInvitationsRead
            | Self::PlatformInvitationsRevoke
            | Self::PlatformResellersRead => PermissionScope::Platform,
            Self::PartnerProfileRead
            | Self::PartnerProfileUpdate
            | Self::UsersCreate
            | Self::UsersRead
            | Self::UsersDisable
            | Self::AuditRead
            | Self::ProgramsRead
            | Self::ProgramsJoin
            | Self::InvitationsCreate
            | Self::InvitationsRead
            | Self::InvitationsRevoke
            | Self::ResellersRead
            | Self::ResellersManage => PermissionScope::Partner,
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
