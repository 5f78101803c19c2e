//! `CouponService`: translate the request, let the domain authorize and
//! act, translate back.

use std::collections::HashSet;

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::coupon_service_server::CouponService;
use partner_kernel::ids::{CouponId, CouponQuotaId, CustomerId, PartnerId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations, optional_id, optional_time};
use tonic::{Request, Response, Status};

use super::model::{CouponRecordType, CouponType, QuotaState};
use super::{CouponFilter, IssueCoupons, NewQuota, RecordFilter};
use crate::funds::grpc::{amount, bounded};
use crate::grpc::BillingApi;

const REASON_MAX: usize = 500;
/// At most this many service types or products limit a coupon or quota.
const MAX_CODES: usize = 10;
/// At most this many customers receive coupons in one call.
const MAX_CUSTOMERS: usize = 100;
/// A quota may allow at most this many coupons per customer.
const MAX_PER_CUSTOMER: i32 = 1000;

/// Up to [`MAX_CODES`] distinct codes of 1–64 letters, digits, `.`, `_`,
/// `:` or `-`.
fn codes(v: &mut Violations, field: &str, raw: &[String]) -> Option<Vec<String>> {
    if raw.len() > MAX_CODES {
        v.add(field, "at most 10");
        return None;
    }
    let mut seen = HashSet::new();
    for code in raw {
        let well_formed = (1..=64).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !well_formed {
            v.add(field, "each 1 to 64 letters, digits, '.', '_', ':' or '-'");
            return None;
        }
        if !seen.insert(code.as_str()) {
            v.add(field, "each at most once");
            return None;
        }
    }
    Some(raw.to_vec())
}

/// A wire enum value that must be set: `None` (with a violation) otherwise.
fn required<T>(v: &mut Violations, field: &str, parsed: Option<T>, what: &str) -> Option<T> {
    v.check(parsed.is_some(), field, what);
    parsed
}

/// A filter on a wire enum: unspecified is `Some(None)`.
fn optional<T>(
    v: &mut Violations,
    field: &str,
    raw: i32,
    parse: fn(i32) -> Option<T>,
) -> Option<Option<T>> {
    if raw == 0 {
        return Some(None);
    }
    let known = parse(raw);
    v.check(known.is_some(), field, "a known value, or none");
    known.map(Some)
}

#[tonic::async_trait]
impl CouponService for BillingApi {
    async fn grant_coupon_quota(
        &self,
        req: Request<pb::GrantCouponQuotaRequest>,
    ) -> Result<Response<pb::GrantCouponQuotaResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let coupon_type = required(
            &mut v,
            "type",
            CouponType::from_wire(r.r#type),
            "VOUCHER or CASH_COUPON",
        );
        let value = amount(&mut v, r.value.as_ref());
        let valid_from = optional_time(&mut v, "valid_from", r.valid_from.as_ref());
        let valid_until = match r.valid_until.as_ref() {
            Some(t) => v.take("valid_until", partner_kernel::time::from_proto_timestamp(t)),
            None => {
                v.add("valid_until", "required");
                None
            }
        };
        let max_face_value = match r.max_face_value.as_ref() {
            None => Some(None),
            Some(raw) => bounded(&mut v, "max_face_value", Some(raw), 1).map(Some),
        };
        if let (Some(value), Some(Some(max))) = (value, max_face_value) {
            v.check(
                value.currency() == max.currency(),
                "max_face_value",
                "in the value's currency",
            );
        }
        v.check(
            (0..=MAX_PER_CUSTOMER).contains(&r.max_coupons_per_customer),
            "max_coupons_per_customer",
            "0 (no limit) to 1,000",
        );
        let max_per_customer = u32::try_from(r.max_coupons_per_customer)
            .ok()
            .filter(|n| *n > 0);
        let service_types = codes(&mut v, "service_types", &r.service_types);
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| {
            Some((
                request_id?,
                NewQuota {
                    partner: partner?,
                    coupon_type: coupon_type?,
                    value: value?,
                    valid_from: valid_from?,
                    valid_until: valid_until?,
                    max_face_value: max_face_value?,
                    max_per_customer,
                    service_types: service_types?,
                    reason: reason?,
                },
            ))
        })();
        let (request_id, quota) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().grant_quota(m, quota).await?))
    }

    async fn set_coupon_quota_state(
        &self,
        req: Request<pb::SetCouponQuotaStateRequest>,
    ) -> Result<Response<pb::SetCouponQuotaStateResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("quota_id", CouponQuotaId::parse(&r.quota_id));
        let state = required(
            &mut v,
            "state",
            QuotaState::from_wire(r.state),
            "NORMAL, ADJUSTING, FROZEN or INVALID",
        );
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, id?, state?, reason?)))();
        let (request_id, id, state, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing().set_quota_state(m, id, state, reason).await?,
        ))
    }

    async fn give_quota_to_reseller(
        &self,
        req: Request<pb::GiveQuotaToResellerRequest>,
    ) -> Result<Response<pb::GiveQuotaToResellerResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("quota_id", CouponQuotaId::parse(&r.quota_id));
        let reseller = v.take("reseller_id", PartnerId::parse(&r.reseller_id));
        let amount = amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, id?, reseller?, amount?, reason?)))();
        let (request_id, id, reseller, amount, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .move_quota(
                    m,
                    true,
                    id,
                    Some(reseller),
                    amount,
                    reason,
                    |quota, reseller_quota| pb::GiveQuotaToResellerResponse {
                        quota: Some(quota),
                        reseller_quota: Some(reseller_quota),
                    },
                )
                .await?,
        ))
    }

    async fn take_back_quota_from_reseller(
        &self,
        req: Request<pb::TakeBackQuotaFromResellerRequest>,
    ) -> Result<Response<pb::TakeBackQuotaFromResellerResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take(
            "reseller_quota_id",
            CouponQuotaId::parse(&r.reseller_quota_id),
        );
        let amount = amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let parsed = (|| Some((request_id?, id?, amount?, reason?)))();
        let (request_id, id, amount, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .move_quota(
                    m,
                    false,
                    id,
                    None,
                    amount,
                    reason,
                    |quota, reseller_quota| pb::TakeBackQuotaFromResellerResponse {
                        quota: Some(quota),
                        reseller_quota: Some(reseller_quota),
                    },
                )
                .await?,
        ))
    }

    async fn list_coupon_quotas(
        &self,
        req: Request<pb::ListCouponQuotasRequest>,
    ) -> Result<Response<pb::ListCouponQuotasResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let state = optional(&mut v, "state", r.state, QuotaState::from_wire);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let parsed = (|| Some((size?, state?, reseller?, partner?)))();
        let (size, state, reseller, partner) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_quotas(&principal, state, partner, reseller, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListCouponQuotasResponse {
            quotas: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_quota_records(
        &self,
        req: Request<pb::ListQuotaRecordsRequest>,
    ) -> Result<Response<pb::ListQuotaRecordsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let quota = optional_id(&mut v, "quota_id", &r.quota_id, CouponQuotaId::parse);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let parsed = (|| Some((size?, quota?, reseller?, partner?)))();
        let (size, quota, reseller, partner) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_quota_records(&principal, quota, partner, reseller, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListQuotaRecordsResponse {
            records: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn issue_coupons(
        &self,
        req: Request<pb::IssueCouponsRequest>,
    ) -> Result<Response<pb::IssueCouponsResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let quota = v.take("quota_id", CouponQuotaId::parse(&r.quota_id));
        let customers = if r.customer_ids.is_empty() || r.customer_ids.len() > MAX_CUSTOMERS {
            v.add("customer_ids", "one to 100 customers");
            None
        } else {
            let mut seen = HashSet::new();
            let mut ids = Vec::with_capacity(r.customer_ids.len());
            for (i, raw) in r.customer_ids.iter().enumerate() {
                let field = format!("customer_ids[{i}]");
                if let Some(id) = v.take(&field, CustomerId::parse(raw)) {
                    v.check(seen.insert(id), &field, "each customer at most once");
                    ids.push(id);
                }
            }
            (ids.len() == r.customer_ids.len()).then_some(ids)
        };
        let face_value = bounded(&mut v, "face_value", r.face_value.as_ref(), 1);
        let valid_from = optional_time(&mut v, "valid_from", r.valid_from.as_ref());
        let valid_until = optional_time(&mut v, "valid_until", r.valid_until.as_ref());
        let service_types = codes(&mut v, "service_types", &r.service_types);
        let product_ids = codes(&mut v, "product_ids", &r.product_ids);
        let memo = v.take("memo", validate::text(&r.memo, 0, REASON_MAX));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                request_id?,
                IssueCoupons {
                    quota: quota?,
                    customers: customers?,
                    face_value: face_value?,
                    valid_from: valid_from?,
                    valid_until: valid_until?,
                    service_types: service_types?,
                    product_ids: product_ids?,
                    memo: memo?,
                    reseller: reseller?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.billing().issue_coupons(m, cmd).await?))
    }

    async fn reclaim_coupon(
        &self,
        req: Request<pb::ReclaimCouponRequest>,
    ) -> Result<Response<pb::ReclaimCouponResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("coupon_id", CouponId::parse(&r.coupon_id));
        let reason = v.take("reason", validate::text(&r.reason, 0, REASON_MAX));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, reason?, reseller?)))();
        let (request_id, id, reason, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .reclaim_coupon(m, id, reason, reseller)
                .await?,
        ))
    }

    async fn list_issued_coupons(
        &self,
        req: Request<pb::ListIssuedCouponsRequest>,
    ) -> Result<Response<pb::ListIssuedCouponsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let quota = optional_id(&mut v, "quota_id", &r.quota_id, CouponQuotaId::parse);
        let state = optional(&mut v, "state", r.state, |raw| {
            pb::CouponState::try_from(raw).ok()
        });
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                size?,
                CouponFilter {
                    customer: customer?,
                    quota: quota?,
                    state: state?,
                    reseller: reseller?,
                },
            ))
        })();
        let (size, filter) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_coupons(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListIssuedCouponsResponse {
            coupons: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_coupon_records(
        &self,
        req: Request<pb::ListCouponRecordsRequest>,
    ) -> Result<Response<pb::ListCouponRecordsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let coupon = optional_id(&mut v, "coupon_id", &r.coupon_id, CouponId::parse);
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let kind = optional(&mut v, "type", r.r#type, CouponRecordType::from_wire);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| {
            Some((
                size?,
                RecordFilter {
                    coupon: coupon?,
                    customer: customer?,
                    kind: kind?,
                    reseller: reseller?,
                },
            ))
        })();
        let (size, filter) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_coupon_records(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListCouponRecordsResponse {
            records: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
