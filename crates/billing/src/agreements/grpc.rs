//! `PaymentAgreementService`: translate the request, let the domain
//! authorize and act, translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::payment_agreement_service_server::PaymentAgreementService;
use partner_kernel::ids::PaymentAgreementId;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::model::{AgreementState, AgreementType};
use crate::grpc::BillingApi;

#[tonic::async_trait]
impl PaymentAgreementService for BillingApi {
    async fn create_payment_agreement(
        &self,
        req: Request<pb::CreatePaymentAgreementRequest>,
    ) -> Result<Response<pb::CreatePaymentAgreementResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let agreement_type = AgreementType::from_wire(r.r#type);
        v.check(agreement_type.is_some(), "type", "CUSTOMER or RESELLER");
        let payee = match agreement_type {
            Some(AgreementType::Customer) => v.take(
                "payee_id",
                partner_kernel::ids::CustomerId::parse(&r.payee_id).map(|c| c.to_string()),
            ),
            Some(AgreementType::Reseller) => v.take(
                "payee_id",
                partner_kernel::ids::PartnerId::parse(&r.payee_id).map(|p| p.to_string()),
            ),
            None => None,
        };
        let parsed = (|| Some((request_id?, agreement_type?, payee?)))();
        let (request_id, agreement_type, payee) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .create_agreement(m, agreement_type, payee)
                .await?,
        ))
    }

    async fn accept_payment_agreement(
        &self,
        req: Request<pb::AcceptPaymentAgreementRequest>,
    ) -> Result<Response<pb::AcceptPaymentAgreementResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (request_id, id, _) =
            validate::verb(&r.request_id, "id", PaymentAgreementId::parse(&r.id), "")?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().accept_agreement(m, id).await?))
    }

    async fn terminate_payment_agreement(
        &self,
        req: Request<pb::TerminatePaymentAgreementRequest>,
    ) -> Result<Response<pb::TerminatePaymentAgreementResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", PaymentAgreementId::parse(&r.id));
        let reason = v.take("reason", validate::text(&r.reason, 0, 500));
        let parsed = (|| Some((request_id?, id?, reason?)))();
        let (request_id, id, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing().terminate_agreement(m, id, reason).await?,
        ))
    }

    async fn get_payment_agreement(
        &self,
        req: Request<pb::GetPaymentAgreementRequest>,
    ) -> Result<Response<pb::GetPaymentAgreementResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", PaymentAgreementId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetPaymentAgreementResponse {
            agreement: Some(self.billing().get_agreement(&principal, id).await?),
        }))
    }

    async fn list_payment_agreements(
        &self,
        req: Request<pb::ListPaymentAgreementsRequest>,
    ) -> Result<Response<pb::ListPaymentAgreementsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let state = if r.state == 0 {
            Some(None)
        } else {
            let known = AgreementState::from_wire(r.state);
            v.check(known.is_some(), "state", "a known state, or none");
            known.map(Some)
        };
        let (size, state) = v.finish_with(size.zip(state))?;
        let page = self
            .billing()
            .list_agreements(&principal, state, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListPaymentAgreementsResponse {
            agreements: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
