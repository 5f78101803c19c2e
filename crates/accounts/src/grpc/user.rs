//! `partner.accounts.v1.UserService`.

use partner_api::accounts::v1::{self as pb, user_service_server::UserService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::AccountsApi;
use crate::model::UserState;
use crate::service::PageRequest;
use crate::users::NewUser;

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
        let (request_id, id, reason) =
            validate::verb(&request_id, "user_id", UserId::parse(&user_id), &reason)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.disable_user(m, id, reason).await?,
        ))
    }
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
