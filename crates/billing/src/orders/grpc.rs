//! `OrderService`: translate the request, let the domain authorize and act,
//! translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::order_service_server::OrderService;
use partner_kernel::ids::{
    CouponId, CustomerId, DiscountId, OrderId, PartnerId, PaymentAgreementId, QuoteId,
};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations, optional_id, optional_time};
use partner_pricing::rating::grpc::line;
use partner_pricing::rating::{check_attachments, check_lines};
use tonic::{Request, Response, Status};

use super::model::{OrderState, OrderType};
use super::{MAX_COUPONS, NewOrder, OrderFilter, Payment, Source};
use crate::grpc::{BillingApi, id_for_reseller};

/// The most resources one order opens: payment opens them in one
/// transaction.
const MAX_UNITS: i64 = 1000;
/// The longest time range one listing covers (the vendor's rule).
const MAX_RANGE_DAYS: i64 = 366;

/// The lines, or the quote, an order buys: exactly one of them.
fn source(v: &mut Violations, r: &pb::CreateOrderRequest) -> Option<Source> {
    if r.quote_id.is_empty() {
        let ids: Vec<&str> = r.lines.iter().map(|l| l.line_id.as_str()).collect();
        let mut shape = check_lines(&ids);
        shape.extend(check_attachments(&r.lines));
        let ok = shape.is_empty();
        for violation in shape {
            v.add(&violation.field, violation.description);
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for (i, l) in r.lines.iter().enumerate() {
            if let Some(parsed) = line(v, i, l) {
                lines.push((parsed, l.clone()));
            }
        }
        let units = r
            .lines
            .iter()
            .fold(0i64, |a, l| a.saturating_add(i64::from(l.quantity.max(0))));
        v.check(
            units <= MAX_UNITS,
            "lines",
            "at most 1,000 resources in one order",
        );
        (ok && units <= MAX_UNITS && lines.len() == r.lines.len()).then_some(Source::Lines(lines))
    } else {
        v.check(
            r.lines.is_empty(),
            "lines",
            "name lines or a quote_id, not both",
        );
        v.take("quote_id", QuoteId::parse(&r.quote_id))
            .map(Source::Quote)
    }
}

#[tonic::async_trait]
impl OrderService for BillingApi {
    async fn create_order(
        &self,
        req: Request<pb::CreateOrderRequest>,
    ) -> Result<Response<pb::CreateOrderResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let source = source(&mut v, &r);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                request_id?,
                NewOrder {
                    customer: customer?,
                    source: source?,
                    reseller: reseller?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().create_order(m, cmd).await?))
    }

    async fn get_order(
        &self,
        req: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::GetOrderResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = id_for_reseller(&r.id, OrderId::parse, &r.reseller_id)?;
        Ok(Response::new(pb::GetOrderResponse {
            order: Some(self.billing().get_order(&principal, id, reseller).await?),
        }))
    }

    async fn list_orders(
        &self,
        req: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let state = if r.state == 0 {
            Some(None)
        } else {
            let known = OrderState::from_wire(r.state);
            v.check(known.is_some(), "state", "a known state, or none");
            known.map(Some)
        };
        let order_type = if r.r#type == 0 {
            Some(None)
        } else {
            let known = OrderType::from_wire(r.r#type);
            v.check(known.is_some(), "type", "a known type, or none");
            known.map(Some)
        };
        let service_type = v.take("service_type", validate::filter(r.service_type, 64));
        let start = optional_time(&mut v, "start_time", r.start_time.as_ref());
        let end = optional_time(&mut v, "end_time", r.end_time.as_ref());
        if let (Some(Some(s)), Some(Some(e))) = (start, end) {
            v.check(s < e, "end_time", "after start_time");
            v.check(
                e - s <= chrono::Duration::days(MAX_RANGE_DAYS),
                "end_time",
                "at most a year after start_time",
            );
        }
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                size?,
                OrderFilter {
                    customer: customer?,
                    state: state?,
                    order_type: order_type?,
                    service_type: service_type?,
                    start: start?,
                    end: end?,
                    reseller: reseller?,
                },
            ))
        })();
        let (size, filter) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_orders(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn pay_order(
        &self,
        req: Request<pb::PayOrderRequest>,
    ) -> Result<Response<pb::PayOrderResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", OrderId::parse(&r.id));
        v.check(
            r.coupon_ids.len() <= MAX_COUPONS,
            "coupon_ids",
            "at most 3 coupons",
        );
        let mut coupons = Vec::with_capacity(r.coupon_ids.len());
        for (i, raw) in r.coupon_ids.iter().take(MAX_COUPONS).enumerate() {
            let field = format!("coupon_ids[{i}]");
            if let Some(c) = v.take(&field, CouponId::parse(raw)) {
                v.check(!coupons.contains(&c), &field, "each coupon at most once");
                coupons.push(c);
            }
        }
        let discount = if r.discount_id.is_empty() {
            Some(None)
        } else {
            v.take("discount_id", DiscountId::parse(&r.discount_id))
                .map(|d| Some(d.to_string()))
        };
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let agreement = optional_id(
            &mut v,
            "payment_agreement_id",
            &r.payment_agreement_id,
            PaymentAgreementId::parse,
        );
        let parsed = (|| {
            Some((
                request_id?,
                Payment {
                    order: id?,
                    coupons,
                    discount: discount?,
                    reseller: reseller?,
                    agreement: agreement?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().pay_order(m, cmd).await?))
    }

    async fn list_order_discounts(
        &self,
        req: Request<pb::ListOrderDiscountsRequest>,
    ) -> Result<Response<pb::ListOrderDiscountsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = id_for_reseller(&r.id, OrderId::parse, &r.reseller_id)?;
        Ok(Response::new(
            self.billing()
                .list_order_discounts(&principal, id, reseller)
                .await?,
        ))
    }

    async fn list_order_coupons(
        &self,
        req: Request<pb::ListOrderCouponsRequest>,
    ) -> Result<Response<pb::ListOrderCouponsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = id_for_reseller(&r.id, OrderId::parse, &r.reseller_id)?;
        Ok(Response::new(
            self.billing()
                .list_order_coupons(&principal, id, reseller)
                .await?,
        ))
    }

    async fn cancel_order(
        &self,
        req: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", OrderId::parse(&r.id));
        let reason = v.take("reason", validate::text(&r.reason, 0, 500));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, reason?, reseller?)))();
        let (request_id, id, reason, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing().cancel_order(m, id, reason, reseller).await?,
        ))
    }

    async fn adjust_order_price(
        &self,
        req: Request<pb::AdjustOrderPriceRequest>,
    ) -> Result<Response<pb::AdjustOrderPriceResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", OrderId::parse(&r.id));
        let total = crate::funds::grpc::bounded(&mut v, "final_total", r.final_total.as_ref(), 0);
        let reason = v.take("reason", validate::text(&r.reason, 1, 200));
        let parsed = (|| Some((request_id?, id?, total?, reason?)))();
        let (request_id, id, total, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .adjust_order_price(m, id, total, reason)
                .await?,
        ))
    }
}
