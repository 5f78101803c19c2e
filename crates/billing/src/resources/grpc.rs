//! `ResourceService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::resource_service_server::ResourceService;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{Violations, optional_id, optional_time};
use tonic::{Request, Response, Status};

use super::ResourceFilter;
use crate::grpc::BillingApi;

#[tonic::async_trait]
impl ResourceService for BillingApi {
    async fn get_resource(
        &self,
        req: Request<pb::GetResourceRequest>,
    ) -> Result<Response<pb::GetResourceResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("id", ResourceId::parse(&r.id));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (id, reseller) = v.finish_with(id.zip(reseller))?;
        Ok(Response::new(pb::GetResourceResponse {
            resource: Some(
                self.billing()
                    .get_resource(&principal, id, reseller)
                    .await?,
            ),
        }))
    }

    async fn list_resources(
        &self,
        req: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let status = if r.status == 0 {
            Some(None)
        } else {
            let known = pb::ResourceStatus::try_from(r.status).ok();
            v.check(known.is_some(), "status", "a known status, or none");
            known.map(Some)
        };
        let after = optional_time(&mut v, "expire_after", r.expire_after.as_ref());
        let before = optional_time(&mut v, "expire_before", r.expire_before.as_ref());
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                size?,
                ResourceFilter {
                    customer: customer?,
                    status: status?,
                    expire_after: after?,
                    expire_before: before?,
                    reseller: reseller?,
                },
            ))
        })();
        let (size, filter) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_resources(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListResourcesResponse {
            resources: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
