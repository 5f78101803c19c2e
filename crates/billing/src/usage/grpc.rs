//! `UsageService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::usage_service_server::UsageService;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::report::check_batch;
use crate::grpc::BillingApi;

#[tonic::async_trait]
impl UsageService for BillingApi {
    async fn report_usage(
        &self,
        req: Request<pb::ReportUsageRequest>,
    ) -> Result<Response<pb::ReportUsageResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        check_batch(&mut v, &r.records);
        let request_id = v.finish_with(request_id)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing().report_usage(m, r.records).await?,
        ))
    }
}
