//! `partner.accounts.v1.ResellerService`.

use partner_api::accounts::v1::{self as pb, reseller_service_server::ResellerService};
use partner_kernel::ids::PartnerId;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::AccountsApi;
use super::user::optional_partner;
use crate::service::PageRequest;

#[tonic::async_trait]
impl ResellerService for AccountsApi {
    async fn list_resellers(
        &self,
        req: Request<pb::ListResellersRequest>,
    ) -> Result<Response<pb::ListResellersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListResellersRequest {
            page_size: size,
            page_token,
            distributor_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let distributor = v.take("distributor_id", optional_partner(&distributor_id));
        let (size, distributor) = v.finish_with(size.zip(distributor))?;
        let page = self
            .accounts
            .list_resellers(
                &principal,
                distributor,
                PageRequest {
                    size,
                    token: page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListResellersResponse {
            resellers: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn suspend_reseller(
        &self,
        req: Request<pb::SuspendResellerRequest>,
    ) -> Result<Response<pb::SuspendResellerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::SuspendResellerRequest {
            request_id,
            reseller_id,
            reason,
        } = req.into_inner();
        let (request_id, reseller, reason) = validate::verb(
            &request_id,
            "reseller_id",
            PartnerId::parse(&reseller_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        let reseller = self
            .accounts
            .set_reseller_suspended(m, reseller, true, reason)
            .await?;
        Ok(Response::new(pb::SuspendResellerResponse {
            reseller: Some(reseller),
        }))
    }

    async fn restore_reseller(
        &self,
        req: Request<pb::RestoreResellerRequest>,
    ) -> Result<Response<pb::RestoreResellerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::RestoreResellerRequest {
            request_id,
            reseller_id,
            reason,
        } = req.into_inner();
        let (request_id, reseller, reason) = validate::verb(
            &request_id,
            "reseller_id",
            PartnerId::parse(&reseller_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        let reseller = self
            .accounts
            .set_reseller_suspended(m, reseller, false, reason)
            .await?;
        Ok(Response::new(pb::RestoreResellerResponse {
            reseller: Some(reseller),
        }))
    }
}
