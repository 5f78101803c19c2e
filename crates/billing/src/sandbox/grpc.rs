//! `SandboxService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::sandbox_service_server::SandboxService;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::MAX_ADVANCE;
use crate::grpc::BillingApi;

#[tonic::async_trait]
impl SandboxService for BillingApi {
    async fn get_clock(
        &self,
        req: Request<pb::GetClockRequest>,
    ) -> Result<Response<pb::GetClockResponse>, Status> {
        Principal::from_request(&req)?;
        Ok(Response::new(self.billing().get_clock().await?))
    }

    async fn advance_clock(
        &self,
        req: Request<pb::AdvanceClockRequest>,
    ) -> Result<Response<pb::AdvanceClockResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let by = r.by.and_then(|d| {
            let by = chrono::Duration::try_seconds(d.seconds)?
                .checked_add(&chrono::Duration::nanoseconds(i64::from(d.nanos)))?;
            (by > chrono::Duration::zero() && by <= MAX_ADVANCE).then_some(by)
        });
        v.check(by.is_some(), "by", "more than zero, at most 366 days");
        let parsed = (|| Some((request_id?, by?)))();
        let (request_id, by) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().advance_clock(m, by).await?))
    }
}
