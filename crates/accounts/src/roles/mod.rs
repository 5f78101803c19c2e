//! Roles: the built-in ones, partners' custom ones, who holds which, and the
//! permissions a sub-user ends up with.

mod builtin;
pub(crate) mod store;
mod verbs;

pub use builtin::SystemRole;
pub use verbs::{MAX_CUSTOM_ROLES, MAX_ROLES_PER_USER, NewRole, RoleChanges, sub_user_permissions};

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::RoleId;
use partner_kernel::permission::{Catalog, PermissionScope, PermissionSet};

use crate::entity::role;

/// A role as named in a request: built-in by name, custom by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleRef {
    /// One of the built-in roles.
    System(SystemRole),
    /// A partner's custom role.
    Custom(RoleId),
}

impl RoleRef {
    /// Parses `ADMIN`, … or `rol_…`.
    pub fn parse(s: &str) -> Result<RoleRef, &'static str> {
        if let Some(system) = SystemRole::from_id(s) {
            return Ok(RoleRef::System(system));
        }
        RoleId::parse(s)
            .map(RoleRef::Custom)
            .map_err(|_| "must be a built-in role name or a `rol_…` id")
    }

    /// The id as stored in memberships and shown on the wire.
    pub fn id(&self) -> String {
        match self {
            RoleRef::System(s) => s.id().to_owned(),
            RoleRef::Custom(id) => id.to_string(),
        }
    }
}

/// A role with its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub role: RoleRef,
    pub display_name: String,
    pub description: String,
    pub permissions: PermissionSet,
    /// `None` for built-in roles, which have no history.
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Role {
    /// The built-in role `s`, over the platform's `catalog`.
    pub fn system(s: SystemRole, catalog: &Catalog) -> Role {
        Role {
            role: RoleRef::System(s),
            display_name: s.display_name().to_owned(),
            description: s.description().to_owned(),
            permissions: s.permissions(catalog),
            created_at: None,
            updated_at: None,
        }
    }

    /// The wire form.
    pub fn to_proto(&self, member_count: u64) -> pb::Role {
        pb::Role {
            role_id: self.role.id(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            system: matches!(self.role, RoleRef::System(_)),
            permission_ids: self.permissions.iter().map(|p| p.id().to_owned()).collect(),
            member_count: i32::try_from(member_count).unwrap_or(i32::MAX),
            create_time: self.created_at.map(to_proto_timestamp),
            update_time: self.updated_at.map(to_proto_timestamp),
        }
    }

    /// The summary kept in audit records.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "display_name": self.display_name,
            "description": self.description,
            "permission_ids": self.permissions.iter().map(|p| p.id()).collect::<Vec<_>>(),
        })
    }
}

impl Role {
    /// A custom role as stored; its permission ids are read against `catalog`.
    pub(crate) fn from_row(m: role::Model, catalog: &Catalog) -> Result<Self, KernelError> {
        let id = RoleId::parse(&m.id)
            .map_err(|e| KernelError::Corrupt(format!("stored role id {:?}: {e}", m.id)))?;
        Ok(Role {
            role: RoleRef::Custom(id),
            display_name: m.display_name,
            description: m.description,
            permissions: parse_stored_permissions(catalog, &m.permissions),
            created_at: Some(m.created_at),
            updated_at: Some(m.updated_at),
        })
    }
}

/// Stored permission ids → set. An id this release no longer knows grants
/// nothing (it is dropped, never widened to something else).
pub(crate) fn parse_stored_permissions(catalog: &Catalog, stored: &str) -> PermissionSet {
    stored
        .split_ascii_whitespace()
        .filter_map(|id| catalog.get(id))
        .filter(|p| p.scope() == PermissionScope::Partner)
        .collect()
}

/// Set → stored permission ids, in catalog order.
pub(crate) fn store_permissions(set: &PermissionSet) -> String {
    set.iter().map(|p| p.id()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access as perm;

    #[test]
    fn role_refs_parse() {
        assert_eq!(
            RoleRef::parse("READ_ONLY"),
            Ok(RoleRef::System(SystemRole::ReadOnly))
        );
        let id = RoleId::generate();
        assert_eq!(RoleRef::parse(&id.to_string()), Ok(RoleRef::Custom(id)));
        assert!(RoleRef::parse("read_only").is_err());
        assert!(RoleRef::parse("").is_err());
        assert!(RoleRef::parse("usr_0").is_err());
    }

    #[test]
    fn stored_permissions_round_trip_and_drop_what_is_unknown_or_platform() {
        let catalog = crate::access::catalog();
        let set: PermissionSet = [perm::USERS_READ, perm::ROLES_ASSIGN].into_iter().collect();
        assert_eq!(
            parse_stored_permissions(&catalog, &store_permissions(&set)),
            set
        );
        assert_eq!(
            parse_stored_permissions(&catalog, "users.read gone.away platform.partners.register"),
            [perm::USERS_READ].into_iter().collect()
        );
    }
}
