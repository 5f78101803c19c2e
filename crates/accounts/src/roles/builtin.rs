//! The built-in roles every partner has. They live in code, not in the
//! database: every partner sees the same ones, partners cannot change them, and
//! a release that adds permissions extends them for everyone at once.

use partner_kernel::permission::{Catalog, JobRole, Permission, PermissionScope, PermissionSet};

/// A built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemRole {
    /// Everything a partner can do, like the master user.
    Admin,
    /// Sells: reads the partner, its users and (later) customers and prices.
    Sales,
    /// Handles money: reads the partner and its audit trail (later billing).
    Finance,
    /// Runs the account: users, roles' membership view, audit.
    Operations,
    /// Reads everything, changes nothing.
    ReadOnly,
}

impl SystemRole {
    /// Every built-in role, sorted by id (the order lists use).
    pub const ALL: [SystemRole; 5] = [
        Self::Admin,
        Self::Finance,
        Self::Operations,
        Self::ReadOnly,
        Self::Sales,
    ];

    /// The id: upper case, so it can never collide with a `rol_…` id.
    pub fn id(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Sales => "SALES",
            Self::Finance => "FINANCE",
            Self::Operations => "OPERATIONS",
            Self::ReadOnly => "READ_ONLY",
        }
    }

    /// The role with this id.
    pub fn from_id(id: &str) -> Option<SystemRole> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Name shown in consoles.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Admin => "Administrator",
            Self::Sales => "Sales",
            Self::Finance => "Finance",
            Self::Operations => "Operations",
            Self::ReadOnly => "Read only",
        }
    }

    /// What the role is for.
    pub fn description(self) -> &'static str {
        match self {
            Self::Admin => "Every permission of the partner.",
            Self::Sales => "Reads the partner profile, its users, programs and resellers.",
            Self::Finance => "Reads the partner profile, programs and the audit trail.",
            Self::Operations => {
                "Manages users, access keys and reseller links; reads roles, invitations and the audit trail."
            }
            Self::ReadOnly => "Reads everything the partner can see; changes nothing.",
        }
    }

    /// Its permissions among the platform's `catalog`. `ADMIN` and
    /// `READ_ONLY` are defined by rule, and the job roles by what each
    /// permission's declaration names, so a domain's new permissions join
    /// them without anyone editing a list here.
    pub fn permissions(self, catalog: &Catalog) -> PermissionSet {
        let partner = catalog.of_scope(PermissionScope::Partner).iter();
        let job = match self {
            Self::Admin => return partner.collect(),
            Self::ReadOnly => return partner.filter(Permission::is_read).collect(),
            Self::Sales => JobRole::Sales,
            Self::Finance => JobRole::Finance,
            Self::Operations => JobRole::Operations,
        };
        partner.filter(|p| p.job_roles().contains(&job)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_unique_and_round_trip() {
        let ids: Vec<_> = SystemRole::ALL.iter().map(|r| r.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for r in SystemRole::ALL {
            assert_eq!(SystemRole::from_id(r.id()), Some(r));
        }
    }

    #[test]
    fn admin_is_every_partner_permission_and_read_only_only_reads() {
        let catalog = crate::access::catalog();
        let admin = SystemRole::Admin.permissions(&catalog);
        assert_eq!(&admin, catalog.of_scope(PermissionScope::Partner));
        for r in SystemRole::ALL {
            assert!(r.permissions(&catalog).is_subset(&admin), "{r:?}");
        }
        let read_only = SystemRole::ReadOnly.permissions(&catalog);
        assert!(read_only.iter().all(|p| p.is_read()));
        assert!(read_only.contains(&crate::access::USERS_READ));
        let operations = SystemRole::Operations.permissions(&catalog);
        assert!(operations.contains(&crate::access::USERS_CREATE));
        assert!(!operations.contains(&crate::access::ROLES_ASSIGN));
    }
}
