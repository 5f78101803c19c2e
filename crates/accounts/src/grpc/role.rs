//! `partner.accounts.v1.RoleService`.

use partner_api::accounts::v1::{self as pb, role_service_server::RoleService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::UserId;
use partner_kernel::page::page_size;
use partner_kernel::permission::{Catalog, PermissionScope, PermissionSet};
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::AccountsApi;
use crate::roles::{NewRole, RoleChanges, RoleRef};
use crate::service::PageRequest;

fn scope_to_proto(s: PermissionScope) -> pb::PermissionScope {
    match s {
        PermissionScope::Platform => pb::PermissionScope::Platform,
        PermissionScope::Partner => pb::PermissionScope::Partner,
        PermissionScope::Customer => pb::PermissionScope::Customer,
    }
}

#[tonic::async_trait]
impl RoleService for AccountsApi {
    async fn list_permissions(
        &self,
        _req: Request<pb::ListPermissionsRequest>,
    ) -> Result<Response<pb::ListPermissionsResponse>, Status> {
        let permissions = self
            .accounts
            .catalog()
            .all()
            .iter()
            .map(|p| pb::Permission {
                permission_id: p.id().to_owned(),
                description: p.description().to_owned(),
                domain: p.domain().to_owned(),
                scope: scope_to_proto(p.scope()).into(),
            })
            .collect();
        Ok(Response::new(pb::ListPermissionsResponse { permissions }))
    }

    async fn list_roles(
        &self,
        req: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListRolesRequest {
            page_size: size,
            page_token,
        } = req.into_inner();
        let page = parse_page(size, page_token)?;
        let page = self.accounts.list_roles(&principal, page).await?;
        Ok(Response::new(pb::ListRolesResponse {
            roles: page.items.iter().map(|(r, n)| r.to_proto(*n)).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_role(
        &self,
        req: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::GetRoleResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let role = v.take("role_id", RoleRef::parse(&req.get_ref().role_id));
        let role = v.finish_with(role)?;
        let (role, n) = self.accounts.get_role(&principal, role).await?;
        Ok(Response::new(pb::GetRoleResponse {
            role: Some(role.to_proto(n)),
        }))
    }

    async fn create_role(
        &self,
        req: Request<pb::CreateRoleRequest>,
    ) -> Result<Response<pb::CreateRoleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, cmd) = parse_create(self.accounts.catalog(), req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.accounts.create_role(m, cmd).await?))
    }

    async fn update_role(
        &self,
        req: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, role, changes) = parse_update(self.accounts.catalog(), req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.update_role(m, role, changes).await?,
        ))
    }

    async fn delete_role(
        &self,
        req: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DeleteRoleRequest {
            request_id,
            role_id,
            force,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let role = v.take("role_id", RoleRef::parse(&role_id));
        let (request_id, role) = v.finish_with(request_id.zip(role))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.delete_role(m, role, force).await?,
        ))
    }

    async fn list_role_members(
        &self,
        req: Request<pb::ListRoleMembersRequest>,
    ) -> Result<Response<pb::ListRoleMembersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListRoleMembersRequest {
            role_id,
            page_size: size,
            page_token,
        } = req.into_inner();
        let mut v = Violations::new();
        let role = v.take("role_id", RoleRef::parse(&role_id));
        let size = v.take("page_size", page_size(size));
        let (role, size) = v.finish_with(role.zip(size))?;
        let page = PageRequest {
            size,
            token: page_token,
        };
        let page = self
            .accounts
            .list_role_members(&principal, role, page)
            .await?;
        Ok(Response::new(pb::ListRoleMembersResponse {
            users: page.items.iter().map(|u| u.to_proto()).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn assign_role(
        &self,
        req: Request<pb::AssignRoleRequest>,
    ) -> Result<Response<pb::AssignRoleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::AssignRoleRequest {
            request_id,
            role_id,
            user_id,
        } = req.into_inner();
        let (request_id, role, user) = parse_membership(&request_id, &role_id, &user_id)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.assign_role(m, role, user).await?,
        ))
    }

    async fn unassign_role(
        &self,
        req: Request<pb::UnassignRoleRequest>,
    ) -> Result<Response<pb::UnassignRoleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::UnassignRoleRequest {
            request_id,
            role_id,
            user_id,
        } = req.into_inner();
        let (request_id, role, user) = parse_membership(&request_id, &role_id, &user_id)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.unassign_role(m, role, user).await?,
        ))
    }
}

fn parse_page(size: i32, token: String) -> Result<PageRequest, KernelError> {
    let mut v = Violations::new();
    let size = v.take("page_size", page_size(size));
    let size = v.finish_with(size)?;
    Ok(PageRequest { size, token })
}

fn parse_membership(
    request_id: &str,
    role_id: &str,
    user_id: &str,
) -> Result<(Uuid, RoleRef, UserId), KernelError> {
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(request_id));
    let role = v.take("role_id", RoleRef::parse(role_id));
    let user = v.take("user_id", UserId::parse(user_id));
    let parsed = (|| Some((request_id?, role?, user?)))();
    v.finish_with(parsed)
}

/// Partner permissions named by id; unknown and platform ids are violations.
fn parse_permissions(
    catalog: &Catalog,
    v: &mut Violations,
    field: &str,
    ids: &[String],
) -> Option<PermissionSet> {
    let mut set = Vec::new();
    let mut ok = true;
    for id in ids {
        match catalog.get(id) {
            Some(p) if p.scope() == PermissionScope::Partner => set.push(p),
            Some(_) => {
                v.add(field, format!("`{id}` is a platform permission"));
                ok = false;
            }
            None => {
                v.add(field, format!("`{id}` is not a permission"));
                ok = false;
            }
        }
    }
    ok.then(|| set.into_iter().collect())
}

fn parse_create(
    catalog: &Catalog,
    r: pb::CreateRoleRequest,
) -> Result<(Uuid, NewRole), KernelError> {
    let pb::CreateRoleRequest { request_id, role } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let Some(role) = role else {
        v.add("role", "required");
        return v.finish_with(None);
    };
    let display_name = v.take(
        "role.display_name",
        validate::text(&role.display_name, 1, 64),
    );
    let description = v.take(
        "role.description",
        validate::text(&role.description, 0, 512),
    );
    let permissions =
        parse_permissions(catalog, &mut v, "role.permission_ids", &role.permission_ids);
    let parsed = (|| {
        Some((
            request_id?,
            NewRole {
                display_name: display_name?,
                description: description?,
                permissions: permissions?,
            },
        ))
    })();
    v.finish_with(parsed)
}

fn parse_update(
    catalog: &Catalog,
    r: pb::UpdateRoleRequest,
) -> Result<(Uuid, RoleRef, RoleChanges), KernelError> {
    let pb::UpdateRoleRequest {
        request_id,
        role,
        update_mask,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let Some(role) = role else {
        v.add("role", "required");
        return v.finish_with(None);
    };
    let id = v.take("role.role_id", RoleRef::parse(&role.role_id));
    let paths = validate::mask_paths(&mut v, update_mask);
    let mut changes = RoleChanges::default();
    for path in paths {
        match path.as_str() {
            "display_name" => {
                changes.display_name = v.take(
                    "role.display_name",
                    validate::text(&role.display_name, 1, 64),
                );
            }
            "description" => {
                changes.description = v.take(
                    "role.description",
                    validate::text(&role.description, 0, 512),
                );
            }
            "permission_ids" => {
                changes.permissions =
                    parse_permissions(catalog, &mut v, "role.permission_ids", &role.permission_ids);
            }
            _ => validate::not_updatable(&mut v, &path),
        }
    }
    let parsed = request_id.zip(id).map(|(r, i)| (r, i, changes));
    v.finish_with(parsed)
}
