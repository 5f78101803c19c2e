//! `QuoteService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::quote_service_server::QuoteService;
use partner_kernel::ids::{CustomerId, DiscountId, QuoteId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::time::from_proto_timestamp;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::NewQuote;
use crate::grpc::PricingApi;
use crate::rating::grpc::lines_and_customer;

#[tonic::async_trait]
impl QuoteService for PricingApi {
    async fn create_quote(
        &self,
        req: Request<pb::CreateQuoteRequest>,
    ) -> Result<Response<pb::CreateQuoteResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (lines, _) = lines_and_customer(&r.lines, "", crate::rating::grpc::line)?;
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let discount = if r.discount_id.is_empty() {
            Some(None)
        } else {
            v.take("discount_id", DiscountId::parse(&r.discount_id))
                .map(Some)
        };
        let expire_time = match &r.expire_time {
            Some(t) => v.take("expire_time", from_proto_timestamp(t)).map(Some),
            None => Some(None),
        };
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
        let customer = if r.customer_id.is_empty() {
            Some(None)
        } else {
            v.take("customer_id", CustomerId::parse(&r.customer_id))
                .map(Some)
        };
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
