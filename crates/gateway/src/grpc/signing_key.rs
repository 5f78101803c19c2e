//! `partner.iam.v1.SigningKeyService`: translate the request, let the
//! signing-key verbs authorize and act, translate back.

use partner_api::iam::v1::{self as pb, signing_key_service_server::SigningKeyService};
use partner_kernel::ids::SigningKeyId;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::IamApi;

#[tonic::async_trait]
impl SigningKeyService for IamApi {
    async fn list_signing_keys(
        &self,
        req: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListSigningKeysRequest {} = req.into_inner();
        let signing_keys = self.signing_keys.list(&principal).await?;
        Ok(Response::new(pb::ListSigningKeysResponse { signing_keys }))
    }

    async fn rotate_signing_key(
        &self,
        req: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::RotateSigningKeyRequest { request_id, reason } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let reason = v.take("reason", validate::text(&reason, 0, 512));
        let (request_id, reason) = v.finish_with(request_id.zip(reason))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.signing_keys.rotate(m, reason).await?))
    }

    async fn retire_signing_key(
        &self,
        req: Request<pb::RetireSigningKeyRequest>,
    ) -> Result<Response<pb::RetireSigningKeyResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::RetireSigningKeyRequest {
            request_id,
            kid: raw_kid,
            reason,
        } = req.into_inner();
        let (request_id, kid, reason) =
            validate::verb(&request_id, "kid", SigningKeyId::parse(&raw_kid), &reason)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.signing_keys.retire(m, kid, reason).await?,
        ))
    }
}
