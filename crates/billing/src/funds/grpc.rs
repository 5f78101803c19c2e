//! `FundsService`: translate the request, let the domain authorize and act,
//! translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::funds_service_server::FundsService;
use partner_api::r#type::v1 as money_pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations, optional_id, optional_time};
use tonic::{Request, Response, Status};

use partner_customers::grpc::many_customers;
use partner_kernel::time::from_proto_timestamp;

use super::{AdjustFilter, Direction, Named};
use crate::grpc::BillingApi;
use crate::ledger::Operation;
use crate::ledger::{Kind, Posted};

/// The largest amount one movement takes, in whole units: far above any
/// real payment, far below what could overflow a balance.
const MAX_UNITS: i64 = 1_000_000_000_000;
const REASON_MAX: usize = 500;

/// An amount to move: above zero, in the currency's minor unit at most.
pub(crate) fn amount(v: &mut Violations, raw: Option<&money_pb::Money>) -> Option<Money> {
    bounded(v, "amount", raw, 1)
}

/// An amount of at least `min` minor units and below [`MAX_UNITS`], in
/// the currency's minor unit at most.
pub(crate) fn bounded(
    v: &mut Violations,
    field: &str,
    raw: Option<&money_pb::Money>,
    min: i64,
) -> Option<Money> {
    let Some(raw) = raw else {
        v.add(field, "required");
        return None;
    };
    match Money::from_proto(raw) {
        Err(e) => {
            v.add(field, e.to_string());
            None
        }
        Ok(m) if m.minor() < min => {
            v.add(
                field,
                if min > 0 {
                    "must be above zero"
                } else {
                    "must not be negative"
                },
            );
            None
        }
        Ok(_) if raw.units >= MAX_UNITS => {
            v.add(field, "at most 1,000,000,000,000 whole units");
            None
        }
        Ok(m) => Some(m),
    }
}

/// The owner a read names: at most one of `partner_id` and `customer_id`.
fn named(v: &mut Violations, partner: &str, customer: &str, reseller: &str) -> Option<Named> {
    v.check(
        partner.is_empty() || customer.is_empty(),
        "customer_id",
        "name a partner_id or a customer_id, not both",
    );
    let partner = optional_id(v, "partner_id", partner, PartnerId::parse);
    let customer = optional_id(v, "customer_id", customer, CustomerId::parse);
    let reseller = optional_id(v, "reseller_id", reseller, PartnerId::parse);
    Some(Named {
        partner: partner?,
        customer: customer?,
        reseller: reseller?,
    })
}

fn posted(p: &Posted) -> (String, Vec<pb::AccountBalance>) {
    (p.transaction_id.to_string(), p.owned_balances())
}

macro_rules! movement {
    ($self:ident, $req:ident, $direction:expr, $response:ident) => {{
        let call = $self.calls().start(&$req)?;
        let r = $req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let amount = amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, customer?, amount?, reason?, reseller?)))();
        let (request_id, customer, amount, reason, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        let response = $self
            .billing()
            .move_funds(m, $direction, customer, amount, reason, reseller, |p| {
                let (transaction_id, balances) = posted(p);
                pb::$response {
                    transaction_id,
                    balances,
                }
            })
            .await?;
        Ok(Response::new(response))
    }};
}

macro_rules! reseller_movement {
    ($self:ident, $req:ident, $direction:expr, $response:ident) => {{
        let call = $self.calls().start(&$req)?;
        let r = $req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let reseller = v.take("reseller_id", PartnerId::parse(&r.reseller_id));
        let amount = amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, reseller?, amount?, reason?)))();
        let (request_id, reseller, amount, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        let response = $self
            .billing()
            .move_reseller_funds(m, $direction, reseller, amount, reason, |p| {
                let (transaction_id, balances) = posted(p);
                pb::$response {
                    transaction_id,
                    balances,
                }
            })
            .await?;
        Ok(Response::new(response))
    }};
}

#[tonic::async_trait]
impl FundsService for BillingApi {
    async fn transfer_to_reseller(
        &self,
        req: Request<pb::TransferToResellerRequest>,
    ) -> Result<Response<pb::TransferToResellerResponse>, Status> {
        reseller_movement!(self, req, Direction::Fund, TransferToResellerResponse)
    }

    async fn reclaim_from_reseller(
        &self,
        req: Request<pb::ReclaimFromResellerRequest>,
    ) -> Result<Response<pb::ReclaimFromResellerResponse>, Status> {
        reseller_movement!(self, req, Direction::Reclaim, ReclaimFromResellerResponse)
    }

    async fn top_up_partner(
        &self,
        req: Request<pb::TopUpPartnerRequest>,
    ) -> Result<Response<pb::TopUpPartnerResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let amount = amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, partner?, amount?, reason?)))();
        let (request_id, partner, amount, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        let response = self
            .billing()
            .top_up_partner(m, partner, amount, reason, |p| {
                let (transaction_id, balances) = posted(p);
                pb::TopUpPartnerResponse {
                    transaction_id,
                    balances,
                }
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn transfer_to_customer(
        &self,
        req: Request<pb::TransferToCustomerRequest>,
    ) -> Result<Response<pb::TransferToCustomerResponse>, Status> {
        movement!(self, req, Direction::Fund, TransferToCustomerResponse)
    }

    async fn reclaim_from_customer(
        &self,
        req: Request<pb::ReclaimFromCustomerRequest>,
    ) -> Result<Response<pb::ReclaimFromCustomerResponse>, Status> {
        movement!(self, req, Direction::Reclaim, ReclaimFromCustomerResponse)
    }

    async fn get_balances(
        &self,
        req: Request<pb::GetBalancesRequest>,
    ) -> Result<Response<pb::GetBalancesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.get_ref();
        let mut v = Violations::new();
        let named = named(&mut v, &r.partner_id, &r.customer_id, &r.reseller_id);
        let named = v.finish_with(named)?;
        Ok(Response::new(pb::GetBalancesResponse {
            balances: self.billing().balances(&principal, named).await?,
        }))
    }

    async fn list_account_entries(
        &self,
        req: Request<pb::ListAccountEntriesRequest>,
    ) -> Result<Response<pb::ListAccountEntriesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let named = named(&mut v, &r.partner_id, &r.customer_id, &r.reseller_id);
        let size = v.take("page_size", page_size(r.page_size));
        let kind = if r.kind == 0 {
            Some(None)
        } else {
            let known = Kind::from_wire(r.kind);
            v.check(known.is_some(), "kind", "a known account kind, or none");
            known.map(Some)
        };
        let parsed = (|| Some((named?, size?, kind?)))();
        let (named, size, kind) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .account_entries(&principal, named, kind, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListAccountEntriesResponse {
            entries: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn set_partner_credit_limit(
        &self,
        req: Request<pb::SetPartnerCreditLimitRequest>,
    ) -> Result<Response<pb::SetPartnerCreditLimitResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let limit = bounded(&mut v, "credit_limit", r.credit_limit.as_ref(), 0);
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, partner?, limit?, reason?)))();
        let (request_id, partner, limit, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .set_partner_credit_limit(m, partner, limit, reason)
                .await?,
        ))
    }

    async fn batch_get_customer_balances(
        &self,
        req: Request<pb::BatchGetCustomerBalancesRequest>,
    ) -> Result<Response<pb::BatchGetCustomerBalancesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (ids, reseller) = many_customers(&r.customer_ids, &r.reseller_id)?;
        Ok(Response::new(pb::BatchGetCustomerBalancesResponse {
            results: self
                .billing()
                .batch_customer_balances(&principal, ids, reseller)
                .await?,
        }))
    }

    async fn get_balance_at(
        &self,
        req: Request<pb::GetBalanceAtRequest>,
    ) -> Result<Response<pb::GetBalanceAtResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.get_ref();
        let mut v = Violations::new();
        let named = named(&mut v, &r.partner_id, &r.customer_id, &r.reseller_id);
        let at = match r.time.as_ref() {
            Some(t) => v.take("time", from_proto_timestamp(t)),
            None => {
                v.add("time", "required");
                None
            }
        };
        let (named, at) = v.finish_with(named.zip(at))?;
        Ok(Response::new(pb::GetBalanceAtResponse {
            balances: self.billing().balances_at(&principal, named, at).await?,
        }))
    }

    async fn list_adjust_records(
        &self,
        req: Request<pb::ListAdjustRecordsRequest>,
    ) -> Result<Response<pb::ListAdjustRecordsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let operation = match pb::AdjustType::try_from(r.r#type) {
            Ok(pb::AdjustType::Unspecified) => Some(None),
            Ok(pb::AdjustType::Fund) => Some(Some(Operation::Fund)),
            Ok(pb::AdjustType::Reclaim) => Some(Some(Operation::Reclaim)),
            Ok(pb::AdjustType::ReclaimOnDisassociation) => {
                Some(Some(Operation::ReclaimOnDisassociation))
            }
            Err(_) => {
                v.add("type", "a known adjustment type, or none");
                None
            }
        };
        let start = optional_time(&mut v, "start_time", r.start_time.as_ref());
        let end = optional_time(&mut v, "end_time", r.end_time.as_ref());
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let size = v.take("page_size", page_size(r.page_size));
        let parsed = (|| {
            Some((
                AdjustFilter {
                    customer: customer?,
                    operation: operation?,
                    start: start?,
                    end: end?,
                    reseller: reseller?,
                },
                size?,
            ))
        })();
        if let Some((
            AdjustFilter {
                start: Some(s),
                end: Some(e),
                ..
            },
            _,
        )) = parsed
            && s >= e
        {
            v.add("end_time", "after start_time");
        }
        let (filter, size) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .adjust_records(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListAdjustRecordsResponse {
            records: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
