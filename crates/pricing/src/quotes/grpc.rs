//! `QuoteService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::quote_service_server::QuoteService;
use partner_kernel::ids::{CustomerId, DiscountId, QuoteId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::NewQuote;
use crate::grpc::PricingApi;
use crate::rating::grpc::period_lines_and_customer;
use crate::wire::{optional_id, optional_time};

#[tonic::async_trait]
impl QuoteService for PricingApi {
    async fn create_quote(
        &self,
        req: Request<pb::CreateQuoteRequest>,
    ) -> Result<Response<pb::CreateQuoteResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (lines, _) = period_lines_and_customer(r.lines.clone(), "")?;
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let discount = optional_id(&mut v, "discount_id", &r.discount_id, DiscountId::parse);
        let expire_time = optional_time(&mut v, "expire_time", r.expire_time.as_ref());
        let parsed = (|| {
            Some((
                request_id?,
                NewQuote {
                    customer: customer?,
                    wire_lines: r.lines,
                    lines,
                    auto_pay: r.auto_pay,
                    discount: discount?,
                    expire_time: expire_time?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.pricing().create_quote(m, cmd).await?))
    }

    async fn get_quote(
        &self,
        req: Request<pb::GetQuoteRequest>,
    ) -> Result<Response<pb::GetQuoteResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", QuoteId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetQuoteResponse {
            quote: Some(self.pricing().get_quote(&principal, id).await?),
        }))
    }

    async fn list_quotes(
        &self,
        req: Request<pb::ListQuotesRequest>,
    ) -> Result<Response<pb::ListQuotesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let size = v.take("page_size", page_size(r.page_size));
        let parsed = (|| Some((customer?, size?)))();
        let (customer, size) = v.finish_with(parsed)?;
        let page = self
            .pricing()
            .list_quotes(&principal, customer, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListQuotesResponse {
            quotes: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
