//! `DiscountService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::discount_service_server::DiscountService;
use partner_kernel::ids::{CustomerId, DiscountId, IncentivePolicyId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::Window;
use super::model::{self, Kind, Scope, Terms};
use super::policies::NewPolicy;
use super::store::ListFilter;
use super::verbs::{CustomerRate, NewDiscount};
use crate::grpc::PricingApi;
use crate::wire::{catalog_id, optional_id, optional_time};

fn scope(v: &mut Violations, raw: Option<&pb::ProductScope>) -> Option<Scope> {
    let Some(raw) = raw else {
        return Some(Scope::default());
    };
    let service_type = catalog_id(v, "scope.service_type", &raw.service_type);
    let resource_type = catalog_id(v, "scope.resource_type", &raw.resource_type);
    Some(Scope {
        service_type: service_type?,
        resource_type: resource_type?,
    })
}

fn window(
    v: &mut Violations,
    from: Option<&prost_types::Timestamp>,
    until: Option<&prost_types::Timestamp>,
) -> Option<Window> {
    let from = optional_time(v, "valid_from", from);
    let until = optional_time(v, "valid_until", until);
    Some(Window {
        from: from?,
        until: until?,
    })
}

fn terms(v: &mut Violations, raw: Option<&pb::create_discount_request::Terms>) -> Option<Terms> {
    use pb::create_discount_request::Terms as Wire;
    match raw {
        Some(Wire::RateOff(r)) => v.take("rate_off", model::rate(r)).map(Terms::RateOff),
        Some(Wire::Reduction(m)) => {
            let amount = v.take("reduction", Money::from_proto(m));
            if amount.is_some_and(|a| !a.is_positive()) {
                v.add("reduction", "above zero");
                return None;
            }
            amount.map(Terms::Reduction)
        }
        None => {
            v.add("rate_off", "give rate_off or reduction");
            None
        }
    }
}

#[tonic::async_trait]
impl DiscountService for PricingApi {
    async fn create_discount(
        &self,
        req: Request<pb::CreateDiscountRequest>,
    ) -> Result<Response<pb::CreateDiscountResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let kind = Kind::from_wire(r.kind).filter(|k| *k != Kind::PartnerSet);
        v.check(
            kind.is_some(),
            "kind",
            "VENDOR_CONTRACT, DISTRIBUTOR_CONTRACT or PROMOTION (partners use SetCustomerDiscount)",
        );
        let name = v.take("name", validate::text(&r.name, 1, 100));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let (needs_customer, needs_partner) = match kind {
            Some(Kind::VendorContract) => (true, false),
            Some(Kind::DistributorContract) => (false, true),
            _ => (false, false),
        };
        if let Some(c) = &customer {
            v.check(
                c.is_some() == needs_customer,
                "customer_id",
                "set for a vendor contract only, and required there",
            );
        }
        if let Some(p) = &partner {
            v.check(
                p.is_some() == needs_partner,
                "partner_id",
                "set for a distributor contract only, and required there",
            );
        }
        let scope = scope(&mut v, r.scope.as_ref());
        let terms = terms(&mut v, r.terms.as_ref());
        let window = window(&mut v, r.valid_from.as_ref(), r.valid_until.as_ref());
        let parsed = (|| {
            Some((
                request_id?,
                NewDiscount {
                    kind: kind?,
                    name: name?,
                    customer: customer?,
                    partner: partner?,
                    scope: scope?,
                    terms: terms?,
                    window: window?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.pricing().create_discount(m, cmd).await?))
    }

    async fn set_customer_discount(
        &self,
        req: Request<pb::SetCustomerDiscountRequest>,
    ) -> Result<Response<pb::SetCustomerDiscountResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let scope = scope(&mut v, r.scope.as_ref());
        let rate_off = v.take("rate_off", model::rate(&r.rate_off));
        let window = window(&mut v, r.valid_from.as_ref(), r.valid_until.as_ref());
        let name = if r.name.is_empty() {
            Some(None)
        } else {
            v.take("name", validate::text(&r.name, 1, 100)).map(Some)
        };
        let parsed = (|| {
            Some((
                request_id?,
                CustomerRate {
                    customer: customer?,
                    scope: scope?,
                    rate_off: rate_off?,
                    window: window?,
                    name: name?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing().set_customer_discount(m, cmd).await?,
        ))
    }

    async fn end_discount(
        &self,
        req: Request<pb::EndDiscountRequest>,
    ) -> Result<Response<pb::EndDiscountResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (request_id, id, _) =
            validate::verb(&r.request_id, "id", DiscountId::parse(&r.id), "")?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.pricing().end_discount(m, id).await?))
    }

    async fn get_discount(
        &self,
        req: Request<pb::GetDiscountRequest>,
    ) -> Result<Response<pb::GetDiscountResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", DiscountId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetDiscountResponse {
            discount: Some(self.pricing().get_discount(&principal, id).await?),
        }))
    }

    async fn list_discounts(
        &self,
        req: Request<pb::ListDiscountsRequest>,
    ) -> Result<Response<pb::ListDiscountsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let kind = if r.kind == 0 {
            Some(None)
        } else {
            let kind = Kind::from_wire(r.kind);
            v.check(kind.is_some(), "kind", "unknown value");
            kind.map(Some)
        };
        let size = v.take("page_size", page_size(r.page_size));
        let parsed = (|| Some((customer?, partner?, kind?, size?)))();
        let (customer, partner, kind, size) = v.finish_with(parsed)?;
        let filter = ListFilter {
            customer: customer.map(|c| c.to_string()),
            partner: partner.map(|p| p.to_string()),
            kind,
            partner_sets_of: None,
        };
        let page = self
            .pricing()
            .list_discounts(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListDiscountsResponse {
            discounts: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_discount_versions(
        &self,
        req: Request<pb::ListDiscountVersionsRequest>,
    ) -> Result<Response<pb::ListDiscountVersionsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", DiscountId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::ListDiscountVersionsResponse {
            versions: self.pricing().discount_versions(&principal, id).await?,
        }))
    }

    async fn create_incentive_policy(
        &self,
        req: Request<pb::CreateIncentivePolicyRequest>,
    ) -> Result<Response<pb::CreateIncentivePolicyResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let scope = scope(&mut v, r.scope.as_ref());
        let max_rate_off = v.take("max_rate_off", model::rate(&r.max_rate_off));
        let window = window(&mut v, r.valid_from.as_ref(), r.valid_until.as_ref());
        let parsed = (|| {
            Some((
                request_id?,
                NewPolicy {
                    partner: partner?,
                    scope: scope?,
                    max_rate_off: max_rate_off?,
                    window: window?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.pricing().create_policy(m, cmd).await?))
    }

    async fn end_incentive_policy(
        &self,
        req: Request<pb::EndIncentivePolicyRequest>,
    ) -> Result<Response<pb::EndIncentivePolicyResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (request_id, id, _) =
            validate::verb(&r.request_id, "id", IncentivePolicyId::parse(&r.id), "")?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.pricing().end_policy(m, id).await?))
    }

    async fn list_incentive_policies(
        &self,
        req: Request<pb::ListIncentivePoliciesRequest>,
    ) -> Result<Response<pb::ListIncentivePoliciesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let service = catalog_id(&mut v, "service_type", &r.service_type);
        let at = optional_time(&mut v, "time", r.time.as_ref());
        let parsed = (|| Some((partner?, service?, at?)))();
        let (partner, service, at) = v.finish_with(parsed)?;
        Ok(Response::new(pb::ListIncentivePoliciesResponse {
            policies: self
                .pricing()
                .list_policies(&principal, partner, service, at)
                .await?,
        }))
    }
}
