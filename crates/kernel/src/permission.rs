//! The permission catalog. Every RPC names the permission it needs (see
//! [`crate::access`]); the platform operator holds the platform permissions, a
//! partner's master user holds every permission of its own partner, and a
//! sub-user holds the union of its roles' permissions.
//!
//! Each permission is declared once, in the `permissions!` list below, with its
//! stable id, scope, domain and description; everything else is derived.

/// Whose permissions these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionScope {
    /// Back-office permissions of the platform operator.
    Platform,
    /// Permissions inside one partner's tenant.
    Partner,
}

macro_rules! permissions {
    ($( $variant:ident => ($id:literal, $scope:ident, $domain:literal, $description:literal), )*) => {
        /// One fine-grained permission.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $(
                #[doc = $description]
                $variant,
            )*
        }

        impl Permission {
            /// Every permission, in catalog order.
            pub const ALL: &'static [Permission] = &[$(Self::$variant,)*];

            /// The stable id, as shown to people and stored in roles.
            pub fn id(self) -> &'static str {
                match self { $(Self::$variant => $id,)* }
            }

            /// Who can hold it.
            pub fn scope(self) -> PermissionScope {
                match self { $(Self::$variant => PermissionScope::$scope,)* }
            }

            /// The product domain it belongs to, e.g. `accounts`.
            pub fn domain(self) -> &'static str {
                match self { $(Self::$variant => $domain,)* }
            }

            /// What it allows, in one sentence.
            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $description,)* }
            }
        }
    };
}

permissions! {
    PlatformPartnersRegister => ("platform.partners.register", Platform, "accounts", "Register new partners."),
    PlatformPartnersRead => ("platform.partners.read", Platform, "accounts", "List and read every partner."),
    PlatformPartnersUpdate => ("platform.partners.update", Platform, "accounts", "Update any partner's profile."),
    PlatformPartnersSuspend => ("platform.partners.suspend", Platform, "accounts", "Suspend and reinstate partners."),
    PlatformAuditRead => ("platform.audit.read", Platform, "accounts", "Read every partner's audit records."),
    PlatformSigningKeysRead => ("platform.signing_keys.read", Platform, "iam", "List token-signing keys."),
    PlatformSigningKeysManage => ("platform.signing_keys.manage", Platform, "iam", "Rotate and retire token-signing keys."),
    PartnerProfileRead => ("partner.profile.read", Partner, "accounts", "Read the caller's own partner."),
    PartnerProfileUpdate => ("partner.profile.update", Partner, "accounts", "Update the caller's own partner."),
    UsersCreate => ("users.create", Partner, "accounts", "Create sub-users."),
    UsersRead => ("users.read", Partner, "accounts", "Read and list users."),
    UsersDisable => ("users.disable", Partner, "accounts", "Disable sub-users."),
    AuditRead => ("audit.read", Partner, "accounts", "Read the partner's own audit records."),
    RolesRead => ("roles.read", Partner, "accounts", "Read roles, their permissions and their members."),
    RolesManage => ("roles.manage", Partner, "accounts", "Create, update and delete custom roles."),
    RolesAssign => ("roles.assign", Partner, "accounts", "Assign roles to users and take them away."),
    PlatformProgramsRead => ("platform.programs.read", Platform, "accounts", "Read the program catalog (operator)."),
    PlatformInvitationsCreate => ("platform.invitations.create", Platform, "accounts", "Invite partners to any program but RESELLER."),
    PlatformInvitationsRead => ("platform.invitations.read", Platform, "accounts", "List every invitation."),
    PlatformInvitationsRevoke => ("platform.invitations.revoke", Platform, "accounts", "Revoke any invitation."),
    PlatformResellersRead => ("platform.resellers.read", Platform, "accounts", "List any distributor's resellers."),
    ProgramsRead => ("programs.read", Partner, "accounts", "Read the program catalog."),
    ProgramsJoin => ("programs.join", Partner, "accounts", "Accept an invitation for the caller's partner."),
    InvitationsCreate => ("invitations.create", Partner, "accounts", "Invite resellers (distributors only)."),
    InvitationsRead => ("invitations.read", Partner, "accounts", "List the invitations the partner sent."),
    InvitationsRevoke => ("invitations.revoke", Partner, "accounts", "Revoke invitations the partner sent."),
    ResellersRead => ("resellers.read", Partner, "accounts", "List the partner's resellers."),
    ResellersManage => ("resellers.manage", Partner, "accounts", "Suspend and restore reseller links."),
    AccessKeysCreate => ("access_keys.create", Partner, "iam", "Create access keys for the partner's users."),
    AccessKeysRead => ("access_keys.read", Partner, "iam", "List the partner's access keys (never their secrets)."),
    AccessKeysDisable => ("access_keys.disable", Partner, "iam", "Disable access keys."),
    AccessKeysDelete => ("access_keys.delete", Partner, "iam", "Delete access keys."),
}

impl Permission {
    /// The permission with this id.
    pub fn from_id(id: &str) -> Option<Permission> {
        Self::ALL.iter().copied().find(|p| p.id() == id)
    }

    /// True for permissions that only let their holder read. By convention
    /// (checked by a test) exactly their ids end in `.read`; the `READ_ONLY`
    /// role is made of them.
    pub fn is_read(self) -> bool {
        self.id().ends_with(".read")
    }

    /// Its bit in a [`PermissionSet`]: the declaration index, which is below
    /// 128 (asserted at compile time).
    fn bit(self) -> u128 {
        1u128 << (self as u32)
    }
}

// A set is one machine word pair; widen the representation before this fails.
const _: () = assert!(Permission::ALL.len() <= 128);

/// A set of permissions, as a bit set: principals carry one on every request,
/// so membership must cost nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u128);

impl PermissionSet {
    /// No permission.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Every permission of `scope`.
    pub fn of_scope(scope: PermissionScope) -> PermissionSet {
        Self::from_iter(
            Permission::ALL
                .iter()
                .copied()
                .filter(|p| p.scope() == scope),
        )
    }

    /// Whether `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Adds `p`.
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    /// Everything in either set.
    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }

    /// Whether every permission of `self` is also in `other`.
    pub fn is_subset(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions, in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
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

    #[test]
    fn ids_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_id(p.id()), Some(*p));
        }
        assert_eq!(Permission::from_id("users"), None);
        assert_eq!(Permission::from_id(""), None);
    }

    #[test]
    fn sets_hold_exactly_what_was_put_in() {
        let mut set = PermissionSet::EMPTY;
        for p in Permission::ALL.iter().step_by(2) {
            set.insert(*p);
        }
        for (i, p) in Permission::ALL.iter().enumerate() {
            assert_eq!(set.contains(*p), i % 2 == 0, "{p:?}");
        }
        assert_eq!(set.iter().count(), Permission::ALL.len().div_ceil(2));
        assert!(set.is_subset(set.union(PermissionSet::of_scope(PermissionScope::Partner))));
        assert!(!PermissionSet::of_scope(PermissionScope::Partner).is_subset(set));
        assert!(PermissionSet::EMPTY.is_subset(set));
    }
}
