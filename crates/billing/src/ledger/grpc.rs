//! `LedgerService`: the operator's reconciliation.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::ledger_service_server::LedgerService;
use partner_kernel::principal::Principal;
use tonic::{Request, Response, Status};

use crate::access::PLATFORM_FUNDS_READ;
use crate::error::BillingError;
use crate::grpc::BillingApi;

#[tonic::async_trait]
impl LedgerService for BillingApi {
    async fn check_ledger(
        &self,
        req: Request<pb::CheckLedgerRequest>,
    ) -> Result<Response<pb::CheckLedgerResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        principal
            .require(PLATFORM_FUNDS_READ)
            .map_err(BillingError::from)?;
        let report = super::check::check(self.billing().db().conn())
            .await
            .map_err(BillingError::from)?;
        Ok(Response::new(report.to_proto()))
    }
}
