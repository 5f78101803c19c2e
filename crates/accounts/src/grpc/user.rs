//! `partner.accounts.v1.UserService`.

use partner_api::accounts::v1::{self as pb, user_service_server::UserService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::{Call, Mutation};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::AccountsApi;
use crate::service::PageRequest;
use crate::users::{NewUser, UserPatch, UserState};

#[tonic::async_trait]
impl UserService for AccountsApi {
    async fn create_user(
        &self,
        req: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, cmd) = parse_create(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.accounts.create_user(m, cmd).await?))
    }

    async fn get_user(
        &self,
        req: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::GetUserRequest { user_id } = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("user_id", UserId::parse(&user_id));
        let id = v.finish_with(id)?;
        let user = self.accounts.get_user(&principal, id).await?;
        Ok(Response::new(pb::GetUserResponse {
            user: Some(user.to_proto()),
        }))
    }

    async fn list_users(
        &self,
        req: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListUsersRequest {
            page_size: size,
            page_token,
            state,
            reseller_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let state = v.take("state", UserState::filter_from_proto(state));
        let reseller = v.take("reseller_id", optional_partner(&reseller_id));
        let (size, state, reseller) = v.finish_with((|| Some((size?, state?, reseller?)))())?;
        let page = self
            .accounts
            .list_users(
                &principal,
                reseller,
                state,
                PageRequest {
                    size,
                    token: page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: page.items.iter().map(|u| u.to_proto()).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_user(
        &self,
        req: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, id, patch) = parse_update(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.update_user(m, id, patch).await?,
        ))
    }

    async fn enable_user(
        &self,
        req: Request<pb::EnableUserRequest>,
    ) -> Result<Response<pb::EnableUserResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::EnableUserRequest {
            request_id,
            user_id,
            reason,
        } = req.into_inner();
        let (m, id, reason) = user_verb(call, &request_id, &user_id, &reason)?;
        Ok(Response::new(
            self.accounts.enable_user(m, id, reason).await?,
        ))
    }

    async fn delete_user(
        &self,
        req: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DeleteUserRequest {
            request_id,
            user_id,
            reason,
        } = req.into_inner();
        let (m, id, reason) = user_verb(call, &request_id, &user_id, &reason)?;
        Ok(Response::new(
            self.accounts.delete_user(m, id, reason).await?,
        ))
    }

    async fn disable_user(
        &self,
        req: Request<pb::DisableUserRequest>,
    ) -> Result<Response<pb::DisableUserResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DisableUserRequest {
            request_id,
            user_id,
            reason,
        } = req.into_inner();
        let (m, id, reason) = user_verb(call, &request_id, &user_id, &reason)?;
        Ok(Response::new(
            self.accounts.disable_user(m, id, reason).await?,
        ))
    }
}

/// The mutation and fields of a verb on one user (disable, enable, delete).
fn user_verb(
    call: Call,
    request_id: &str,
    user_id: &str,
    reason: &str,
) -> Result<(Mutation, UserId, String), Status> {
    let (request_id, id, reason) =
        validate::verb(request_id, "user_id", UserId::parse(user_id), reason)?;
    Ok((call.mutation(request_id)?, id, reason))
}

fn parse_create(r: pb::CreateUserRequest) -> Result<(Uuid, NewUser), KernelError> {
    let pb::CreateUserRequest {
        request_id,
        username,
        password,
        display_name,
        email,
        reseller_id,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let username = v.take("username", validate::username(&username));
    let password_ok = v.take("password", validate::new_password(&password));
    let display_name = v.take("display_name", validate::text(&display_name, 0, 128));
    let email = if email.is_empty() {
        Some(String::new())
    } else {
        v.take("email", validate::email(&email))
    };
    let reseller_id = v.take("reseller_id", optional_partner(&reseller_id));
    let parsed = (|| {
        password_ok?;
        Some((
            request_id?,
            NewUser {
                username: username?,
                password,
                display_name: display_name?,
                email: email?,
                reseller_id: reseller_id?,
            },
        ))
    })();
    v.finish_with(parsed)
}

fn parse_update(r: pb::UpdateUserRequest) -> Result<(Uuid, UserId, UserPatch), KernelError> {
    let pb::UpdateUserRequest {
        request_id,
        user,
        update_mask,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let Some(user) = user else {
        v.add("user", "required");
        return v.finish_with(None);
    };
    let id = v.take("user.user_id", UserId::parse(&user.user_id));
    let paths = validate::mask_paths(&mut v, update_mask);
    let mut patch = UserPatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => {
                patch.display_name = v.take(
                    "user.display_name",
                    validate::text(&user.display_name, 1, 128),
                );
            }
            "email" if user.email.is_empty() => patch.email = Some(String::new()),
            "email" => patch.email = v.take("user.email", validate::email(&user.email)),
            _ => validate::not_updatable(&mut v, &path),
        }
    }
    let parsed = request_id.zip(id).map(|(r, i)| (r, i, patch));
    v.finish_with(parsed)
}

/// An optional `prt_…` id: empty means none.
pub(super) fn optional_partner(
    raw: &str,
) -> Result<Option<PartnerId>, partner_kernel::ids::IdError> {
    if raw.is_empty() {
        Ok(None)
    } else {
        PartnerId::parse(raw).map(Some)
    }
}
