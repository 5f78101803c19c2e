//! `partner.iam.v1.AccessKeyService`: translate the request, let the
//! access-key verbs authorize and act, translate back.

use partner_api::iam::v1::{self as pb, access_key_service_server::AccessKeyService};
use partner_kernel::ids::{AccessKeyId, UserId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::IamApi;
use crate::access_keys::{AccessKey, NewAccessKey};

/// An optional `usr_…` field: empty means none.
fn optional_user(raw: &str) -> Result<Option<UserId>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    UserId::parse(raw).map(Some).map_err(|e| e.to_string())
}

#[tonic::async_trait]
impl AccessKeyService for IamApi {
    async fn create_access_key(
        &self,
        req: Request<pb::CreateAccessKeyRequest>,
    ) -> Result<Response<pb::CreateAccessKeyResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::CreateAccessKeyRequest {
            request_id,
            user_id,
            description,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let user_id = v.take("user_id", optional_user(&user_id));
        let description = v.take("description", validate::text(&description, 0, 256));
        let (request_id, cmd) = v.finish_with((|| {
            Some((
                request_id?,
                NewAccessKey {
                    user_id: user_id?,
                    description: description?,
                },
            ))
        })())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.access_keys.create(m, cmd).await?))
    }

    async fn list_access_keys(
        &self,
        req: Request<pb::ListAccessKeysRequest>,
    ) -> Result<Response<pb::ListAccessKeysResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListAccessKeysRequest {
            page_size: size,
            page_token,
            user_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let user_id = v.take("user_id", optional_user(&user_id));
        let (size, user_id) = v.finish_with(size.zip(user_id))?;
        let page = self
            .access_keys
            .list(&principal, user_id, size, &page_token)
            .await?;
        Ok(Response::new(pb::ListAccessKeysResponse {
            access_keys: page.items.iter().map(AccessKey::to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn disable_access_key(
        &self,
        req: Request<pb::DisableAccessKeyRequest>,
    ) -> Result<Response<pb::DisableAccessKeyResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DisableAccessKeyRequest {
            request_id,
            access_key_id,
            reason,
        } = req.into_inner();
        let (request_id, id, reason) = validate::verb(
            &request_id,
            "access_key_id",
            AccessKeyId::parse(&access_key_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.access_keys.disable(m, id, reason).await?,
        ))
    }

    async fn delete_access_key(
        &self,
        req: Request<pb::DeleteAccessKeyRequest>,
    ) -> Result<Response<pb::DeleteAccessKeyResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DeleteAccessKeyRequest {
            request_id,
            access_key_id,
            reason,
        } = req.into_inner();
        let (request_id, id, reason) = validate::verb(
            &request_id,
            "access_key_id",
            AccessKeyId::parse(&access_key_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.access_keys.delete(m, id, reason).await?))
    }
}
