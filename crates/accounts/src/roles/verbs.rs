//! The role verbs, and the permissions a sub-user ends up with. Every change
//! clears the status cache, so the affected users' next calls see it.

use partner_api::accounts::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, RoleId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::permission::{Catalog, PermissionSet};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{ConnectionTrait, DbErr, SqlErr};

use super::store::RoleFields;
use super::{Role, RoleRef, SystemRole, parse_stored_permissions, store, store_permissions};
use crate::access as perm;
use crate::error::AccountsError;
use crate::service::{Accounts, Page, PageRequest};
use crate::users::User;
use crate::users::actable;

/// Custom roles one partner may define.
pub const MAX_CUSTOM_ROLES: u64 = 100;
/// Roles one user may hold.
pub const MAX_ROLES_PER_USER: usize = 20;

/// A custom role to create.
#[derive(Debug)]
pub struct NewRole {
    pub display_name: String,
    pub description: String,
    pub permissions: PermissionSet,
}

/// The fields of a custom role to change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct RoleChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

/// The permissions a sub-user holds: the union of its roles'.
pub async fn sub_user_permissions(
    conn: &impl ConnectionTrait,
    catalog: &Catalog,
    partner: PartnerId,
    user: UserId,
) -> Result<PermissionSet, DbErr> {
    let mut set = PermissionSet::empty();
    let mut custom = Vec::new();
    for id in store::role_ids_of(conn, partner, user).await? {
        match SystemRole::from_id(&id) {
            Some(system) => set = set.union(&system.permissions(catalog)),
            None => custom.push(id),
        }
    }
    for stored in store::custom_role_permissions(conn, partner, custom).await? {
        set = set.union(&parse_stored_permissions(catalog, &stored));
    }
    Ok(set)
}

/// A caller may only handle roles within its own reach: otherwise a holder of
/// `roles.assign` could hand itself `ADMIN`. Masters hold every partner
/// permission and so pass always.
fn within_reach(p: &Principal, permissions: &PermissionSet) -> Result<(), AccountsError> {
    match permissions.first_missing_from(&p.permissions) {
        None => Ok(()),
        Some(missing) => Err(KernelError::MissingPermission(missing.id()).into()),
    }
}

async fn load_role(
    conn: &impl ConnectionTrait,
    catalog: &Catalog,
    partner: PartnerId,
    r: RoleRef,
) -> Result<Role, AccountsError> {
    match r {
        RoleRef::System(s) => Ok(Role::system(s, catalog)),
        RoleRef::Custom(id) => {
            let row = store::custom_role(conn, partner, id)
                .await?
                .ok_or(AccountsError::RoleNotFound)?;
            Ok(Role::from_row(row, catalog)?)
        }
    }
}

fn custom_id(r: RoleRef) -> Result<RoleId, AccountsError> {
    match r {
        RoleRef::Custom(id) => Ok(id),
        RoleRef::System(_) => Err(AccountsError::SystemRoleReadOnly),
    }
}

fn name_conflict(e: DbErr) -> AccountsError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AccountsError::RoleNameTaken,
        _ => AccountsError::from(e),
    }
}

impl Accounts {
    /// The roles of the caller's partner with member counts: built-in roles
    /// first (their upper-case ids sort before `rol_…`), then custom roles.
    pub async fn list_roles(
        &self,
        p: &Principal,
        page: PageRequest,
    ) -> Result<Page<(Role, u64)>, AccountsError> {
        let partner = p.require_partner(perm::ROLES_READ)?;
        let scope = PageScope::new("ListRoles", &partner.to_string());
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        // The boundary is decided here, not by the database's collation.
        let after_custom = after.as_deref().and_then(|a| RoleId::parse(a).ok());
        let mut roles: Vec<Role> = match (&after, after_custom) {
            (_, Some(_)) => Vec::new(),
            (None, None) => SystemRole::ALL
                .into_iter()
                .map(|s| Role::system(s, self.catalog()))
                .collect(),
            (Some(a), None) => SystemRole::ALL
                .into_iter()
                .filter(|s| s.id() > a.as_str())
                .map(|s| Role::system(s, self.catalog()))
                .collect(),
        };
        let want = (page.size + 1).saturating_sub(roles.len() as u64);
        let after_row = after_custom.map(|id| id.to_string());
        let conn = self.db().conn();
        for row in store::list_custom_roles(conn, partner, after_row.as_deref(), want).await? {
            roles.push(Role::from_row(row, self.catalog())?);
        }
        let counts = store::member_counts(conn, partner).await?;
        Ok(self
            .paginate(roles, page.size, &scope, |r| r.role.id())
            .try_map(|r| {
                let n = counts.get(&r.role.id()).copied().unwrap_or(0);
                Ok((r, n))
            })?)
    }

    /// One role of the caller's partner with its member count.
    pub async fn get_role(&self, p: &Principal, r: RoleRef) -> Result<(Role, u64), AccountsError> {
        let partner = p.require_partner(perm::ROLES_READ)?;
        let conn = self.db().conn();
        let role = load_role(conn, self.catalog(), partner, r).await?;
        let n = store::member_count(conn, partner, &r.id()).await?;
        Ok((role, n))
    }

    /// The users holding a role, by user id.
    pub async fn list_role_members(
        &self,
        p: &Principal,
        r: RoleRef,
        page: PageRequest,
    ) -> Result<Page<User>, AccountsError> {
        let partner = p.require_partner(perm::ROLES_READ)?;
        let conn = self.db().conn();
        load_role(conn, self.catalog(), partner, r).await?;
        let scope = PageScope::new("ListRoleMembers", &partner.to_string()).filter("role", r.id());
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::members(conn, partner, &r.id(), after.as_deref(), page.size + 1).await?;
        Ok(self
            .paginate(rows, page.size, &scope, |u| u.id.clone())
            .try_map(User::try_from)?)
    }

    /// Creates a custom role.
    pub async fn create_role(
        &self,
        m: Mutation,
        cmd: NewRole,
    ) -> Result<pb::CreateRoleResponse, AccountsError> {
        let partner = m.principal.require_partner(perm::ROLES_MANAGE)?;
        within_reach(&m.principal, &cmd.permissions)?;
        let (now, catalog) = (m.now, self.catalog().clone());
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                if store::count_custom_roles(tx, partner).await? >= MAX_CUSTOM_ROLES {
                    return Err(AccountsError::RoleLimitReached {
                        limit: MAX_CUSTOM_ROLES,
                    });
                }
                if store::name_taken(tx, partner, &cmd.display_name, None).await? {
                    return Err(AccountsError::RoleNameTaken);
                }
                let row = store::insert_role(
                    tx,
                    partner,
                    RoleId::generate(),
                    RoleFields {
                        display_name: Some(cmd.display_name),
                        description: Some(cmd.description),
                        permissions: Some(store_permissions(&cmd.permissions)),
                    },
                    now,
                )
                .await
                .map_err(name_conflict)?;
                let role = Role::from_row(row, &catalog)?;
                let change = Change::of(Some(partner), role.role.id())
                    .after(role.audit_summary())
                    .announce("role.created");
                let response = pb::CreateRoleResponse {
                    role: Some(role.to_proto(0)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// Changes a custom role; its holders' next calls see the new permissions.
    pub async fn update_role(
        &self,
        m: Mutation,
        r: RoleRef,
        changes: RoleChanges,
    ) -> Result<pb::UpdateRoleResponse, AccountsError> {
        let partner = m.principal.require_partner(perm::ROLES_MANAGE)?;
        let id = custom_id(r)?;
        if let Some(new) = &changes.permissions {
            within_reach(&m.principal, new)?;
        }
        let (now, caller, catalog) = (m.now, m.principal.clone(), self.catalog().clone());
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = load_role(tx, &catalog, partner, r).await?;
                within_reach(
                    &crate::users::outrank::current(tx, &catalog, &caller).await?,
                    &before.permissions,
                )?;
                if let Some(name) = &changes.display_name
                    && store::name_taken(tx, partner, name, Some(id)).await?
                {
                    return Err(AccountsError::RoleNameTaken);
                }
                let fields = RoleFields {
                    display_name: changes.display_name,
                    description: changes.description,
                    permissions: changes.permissions.as_ref().map(store_permissions),
                };
                let row = store::update_role(tx, partner, id, fields, now)
                    .await
                    .map_err(name_conflict)?
                    .ok_or(AccountsError::RoleNotFound)?;
                let after = Role::from_row(row, &catalog)?;
                let change = Change::of(Some(partner), after.role.id())
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("role.updated");
                let n = store::member_count(tx, partner, &after.role.id()).await?;
                let response = pb::UpdateRoleResponse {
                    role: Some(after.to_proto(n)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.invalidate();
        response
    }

    /// Deletes a custom role; with `force`, unassigns its members first.
    pub async fn delete_role(
        &self,
        m: Mutation,
        r: RoleRef,
        force: bool,
    ) -> Result<pb::DeleteRoleResponse, AccountsError> {
        let partner = m.principal.require_partner(perm::ROLES_MANAGE)?;
        let id = custom_id(r)?;
        let (caller, catalog) = (m.principal.clone(), self.catalog().clone());
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = load_role(tx, &catalog, partner, r).await?;
                within_reach(
                    &crate::users::outrank::current(tx, &catalog, &caller).await?,
                    &before.permissions,
                )?;
                let members = store::member_count(tx, partner, &r.id()).await?;
                if members > 0 && !force {
                    return Err(AccountsError::RoleHasMembers { members });
                }
                let unassigned = store::delete_members(tx, partner, &r.id()).await?;
                if !store::delete_role(tx, partner, id).await? {
                    return Err(AccountsError::RoleNotFound);
                }
                let change = Change::of(Some(partner), r.id())
                    .before(before.audit_summary())
                    .after(serde_json::json!({ "deleted": true, "unassigned": unassigned }))
                    .announce("role.deleted");
                let response = pb::DeleteRoleResponse {
                    unassigned_count: i32::try_from(unassigned).unwrap_or(i32::MAX),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.invalidate();
        response
    }

    /// Gives a sub-user a role.
    pub async fn assign_role(
        &self,
        m: Mutation,
        r: RoleRef,
        user: UserId,
    ) -> Result<pb::AssignRoleResponse, AccountsError> {
        self.change_membership(m, r, user, true).await
    }

    /// Takes a role from a user.
    pub async fn unassign_role(
        &self,
        m: Mutation,
        r: RoleRef,
        user: UserId,
    ) -> Result<pb::UnassignRoleResponse, AccountsError> {
        let pb::AssignRoleResponse { role_ids } = self.change_membership(m, r, user, false).await?;
        Ok(pb::UnassignRoleResponse { role_ids })
    }

    async fn change_membership(
        &self,
        m: Mutation,
        r: RoleRef,
        user_id: UserId,
        assign: bool,
    ) -> Result<pb::AssignRoleResponse, AccountsError> {
        let partner = m.principal.require_partner(perm::ROLES_ASSIGN)?;
        let (now, caller, catalog) = (m.now, m.principal.clone(), self.catalog().clone());
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let role = load_role(tx, &catalog, partner, r).await?;
                within_reach(
                    &crate::users::outrank::current(tx, &catalog, &caller).await?,
                    &role.permissions,
                )?;
                let user = actable(tx, &catalog, &caller, partner, user_id).await?;
                if user.is_master && assign {
                    return Err(AccountsError::MasterUserImmutable);
                }
                let before = store::role_ids_of(tx, partner, user_id).await?;
                let held = before.contains(&r.id());
                if assign && !held {
                    if before.len() >= MAX_ROLES_PER_USER {
                        return Err(AccountsError::RoleLimitReached {
                            limit: MAX_ROLES_PER_USER as u64,
                        });
                    }
                    store::insert_member(tx, partner, &r.id(), user_id, now).await?;
                } else if !assign && held {
                    store::delete_member(tx, partner, &r.id(), user_id).await?;
                }
                let after = store::role_ids_of(tx, partner, user_id).await?;
                let change = Change::of(Some(partner), user_id)
                    .before(serde_json::json!({ "role_ids": before }))
                    .after(serde_json::json!({ "role_ids": after }))
                    .announce("user.roles_changed");
                Ok(Outcome::new(
                    pb::AssignRoleResponse { role_ids: after },
                    change,
                ))
            })
        })
        .await;
        self.invalidate();
        response
    }
}
