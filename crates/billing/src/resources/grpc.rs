//! `ResourceService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::billing::v1 as pb;
use partner_api::billing::v1::resource_service_server::ResourceService;
use partner_api::pricing::v1 as pricing_pb;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations, optional_id, optional_time};
use tonic::{Request, Response, Status};

use super::ResourceFilter;
use crate::grpc::{BillingApi, id_for_reseller};
use crate::orders::UnsubscribeMode;
use crate::orders::auto_renew::AutoRenew;
use crate::orders::change::ChangeTo;
use crate::orders::model::{ChargingMode, ExpiryPolicy, ReasonType, ResourceStatus};

/// At most this many main resources renew at once (the vendor's rule).
const MAX_RENEWED: usize = 10;

/// 1 to 10 distinct resource ids.
fn resource_ids(v: &mut Violations, raw: &[String]) -> Option<Vec<ResourceId>> {
    if raw.is_empty() || raw.len() > MAX_RENEWED {
        v.add("resource_ids", "one to 10 resources");
        return None;
    }
    let mut ids = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let field = format!("resource_ids[{i}]");
        if let Some(id) = v.take(&field, ResourceId::parse(r)) {
            v.check(!ids.contains(&id), &field, "each resource at most once");
            ids.push(id);
        }
    }
    (ids.len() == raw.len()).then_some(ids)
}

/// MONTH or YEAR: what resources renew by.
fn renewal_unit(v: &mut Violations, raw: i32) -> Option<pricing_pb::PeriodUnit> {
    let unit = pricing_pb::PeriodUnit::try_from(raw).ok().filter(|u| {
        matches!(
            u,
            pricing_pb::PeriodUnit::Month | pricing_pb::PeriodUnit::Year
        )
    });
    v.check(unit.is_some(), "period_unit", "MONTH or YEAR");
    unit
}

/// What to unsubscribe.
fn unsubscribe_mode(v: &mut Violations, raw: i32) -> Option<UnsubscribeMode> {
    let mode = match pb::UnsubscribeType::try_from(raw) {
        Ok(pb::UnsubscribeType::WithRenewals) => Some(UnsubscribeMode::WithRenewals),
        Ok(pb::UnsubscribeType::RenewalsOnly) => Some(UnsubscribeMode::RenewalsOnly),
        Ok(pb::UnsubscribeType::Unspecified) | Err(_) => None,
    };
    v.check(mode.is_some(), "type", "WITH_RENEWALS or RENEWALS_ONLY");
    mode
}

/// The longest reason text kept.
const MAX_REASON: usize = 512;

/// What a change is to: a spec (at most 64 characters) or a size (not
/// negative), at least one of them.
fn change_to(v: &mut Violations, spec: String, size: i64) -> Option<ChangeTo> {
    let checks = [
        (spec.chars().count() <= 64, "spec", "at most 64 characters"),
        (size >= 0, "size", "not negative"),
        (
            !spec.is_empty() || size != 0,
            "spec",
            "a spec or a size to change to",
        ),
    ];
    let mut ok = true;
    for (holds, field, description) in checks {
        v.check(holds, field, description);
        ok &= holds;
    }
    ok.then_some(ChangeTo { spec, size })
}

#[tonic::async_trait]
impl ResourceService for BillingApi {
    async fn get_resource(
        &self,
        req: Request<pb::GetResourceRequest>,
    ) -> Result<Response<pb::GetResourceResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = id_for_reseller(&r.id, ResourceId::parse, &r.reseller_id)?;
        Ok(Response::new(pb::GetResourceResponse {
            resource: Some(
                self.billing()
                    .get_resource(&principal, id, reseller)
                    .await?,
            ),
        }))
    }

    async fn list_resources(
        &self,
        req: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = optional_id(&mut v, "customer_id", &r.customer_id, CustomerId::parse);
        let status = if r.status == 0 {
            Some(None)
        } else {
            let known = ResourceStatus::from_wire(r.status);
            v.check(known.is_some(), "status", "a known status, or none");
            known.map(Some)
        };
        let after = optional_time(&mut v, "expire_after", r.expire_after.as_ref());
        let before = optional_time(&mut v, "expire_before", r.expire_before.as_ref());
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let main = match pb::ResourceRole::try_from(r.role) {
            Ok(pb::ResourceRole::Unspecified) => Some(None),
            Ok(pb::ResourceRole::Main) => Some(Some(true)),
            Ok(pb::ResourceRole::Child) => Some(Some(false)),
            Err(_) => {
                v.add("role", "MAIN, CHILD, or none");
                None
            }
        };
        let main_resource = optional_id(
            &mut v,
            "main_resource_id",
            &r.main_resource_id,
            ResourceId::parse,
        );
        let charging_mode = if r.charging_mode == 0 {
            Some(None)
        } else {
            let known = ChargingMode::from_wire(r.charging_mode);
            v.check(
                known.is_some(),
                "charging_mode",
                "a known charging mode, or none",
            );
            known.map(Some)
        };
        let parsed = (|| {
            Some((
                size?,
                ResourceFilter {
                    main: main?,
                    main_resource: main_resource?,
                    charging_mode: charging_mode?,
                    customer: customer?,
                    status: status?,
                    expire_after: after?,
                    expire_before: before?,
                    reseller: reseller?,
                },
            ))
        })();
        let (size, filter) = v.finish_with(parsed)?;
        let page = self
            .billing()
            .list_resources(&principal, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListResourcesResponse {
            resources: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn preview_renewal(
        &self,
        req: Request<pb::PreviewRenewalRequest>,
    ) -> Result<Response<pb::PreviewRenewalResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let ids = resource_ids(&mut v, &r.resource_ids);
        let unit = renewal_unit(&mut v, r.period_unit);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((ids?, unit?, reseller?)))();
        let (ids, unit, reseller) = v.finish_with(parsed)?;
        Ok(Response::new(
            self.billing()
                .preview_renewal(&principal, &ids, unit, r.period_count, reseller)
                .await?,
        ))
    }

    async fn renew_resources(
        &self,
        req: Request<pb::RenewResourcesRequest>,
    ) -> Result<Response<pb::RenewResourcesResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let ids = resource_ids(&mut v, &r.resource_ids);
        let unit = renewal_unit(&mut v, r.period_unit);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, ids?, unit?, reseller?)))();
        let (request_id, ids, unit, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .renew_resources(m, ids, (unit, r.period_count), r.auto_pay, reseller)
                .await?,
        ))
    }

    async fn preview_change(
        &self,
        req: Request<pb::PreviewChangeRequest>,
    ) -> Result<Response<pb::PreviewChangeResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("resource_id", ResourceId::parse(&r.resource_id));
        let to = change_to(&mut v, r.spec, r.size);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((id?, to?, reseller?)))();
        let (id, to, reseller) = v.finish_with(parsed)?;
        Ok(Response::new(
            self.billing()
                .preview_change(&principal, id, to, reseller)
                .await?,
        ))
    }

    async fn change_resource(
        &self,
        req: Request<pb::ChangeResourceRequest>,
    ) -> Result<Response<pb::ChangeResourceResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("resource_id", ResourceId::parse(&r.resource_id));
        let to = change_to(&mut v, r.spec, r.size);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, to?, reseller?)))();
        let (request_id, id, to, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .change_resource(m, id, to, r.auto_pay, reseller)
                .await?,
        ))
    }

    async fn preview_unsubscribe(
        &self,
        req: Request<pb::PreviewUnsubscribeRequest>,
    ) -> Result<Response<pb::PreviewUnsubscribeResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let ids = resource_ids(&mut v, &r.resource_ids);
        let mode = unsubscribe_mode(&mut v, r.r#type);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((ids?, mode?, reseller?)))();
        let (ids, mode, reseller) = v.finish_with(parsed)?;
        Ok(Response::new(
            self.billing()
                .preview_unsubscribe(&principal, &ids, mode, reseller)
                .await?,
        ))
    }

    async fn unsubscribe_resources(
        &self,
        req: Request<pb::UnsubscribeResourcesRequest>,
    ) -> Result<Response<pb::UnsubscribeResourcesResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let ids = resource_ids(&mut v, &r.resource_ids);
        let mode = unsubscribe_mode(&mut v, r.r#type);
        let reason_type = ReasonType::from_wire(r.reason_type);
        v.check(reason_type.is_some(), "reason_type", "a known reason type");
        let reason = v.take("reason", validate::text(&r.reason, 0, MAX_REASON));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, ids?, mode?, reason_type?, reason?, reseller?)))();
        let (request_id, ids, mode, reason_type, reason, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.billing()
                .unsubscribe_resources(m, ids, mode, Some((reason_type, reason)), reseller)
                .await?,
        ))
    }

    async fn set_auto_renew(
        &self,
        req: Request<pb::SetAutoRenewRequest>,
    ) -> Result<Response<pb::SetAutoRenewResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", ResourceId::parse(&r.id));
        let unit = renewal_unit(&mut v, r.period_unit);
        let count = if r.period_count == 0 {
            1
        } else {
            r.period_count
        };
        let most = match unit {
            Some(pricing_pb::PeriodUnit::Year) => 3,
            _ => 11,
        };
        v.check(
            (1..=most).contains(&count),
            "period_count",
            "months 1 to 11, or years 1 to 3",
        );
        v.check((0..=99).contains(&r.times), "times", "0 (no limit) to 99");
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, unit?, reseller?)))();
        let (request_id, id, unit, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        let setting = AutoRenew {
            unit,
            count,
            times: r.times,
        };
        Ok(Response::new(pb::SetAutoRenewResponse {
            resource: Some(
                self.billing()
                    .set_auto_renew(m, id, Some(setting), reseller)
                    .await?,
            ),
        }))
    }

    async fn cancel_auto_renew(
        &self,
        req: Request<pb::CancelAutoRenewRequest>,
    ) -> Result<Response<pb::CancelAutoRenewResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", ResourceId::parse(&r.id));
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, reseller?)))();
        let (request_id, id, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(pb::CancelAutoRenewResponse {
            resource: Some(self.billing().set_auto_renew(m, id, None, reseller).await?),
        }))
    }

    async fn set_expiry_policy(
        &self,
        req: Request<pb::SetExpiryPolicyRequest>,
    ) -> Result<Response<pb::SetExpiryPolicyResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", ResourceId::parse(&r.id));
        let policy = ExpiryPolicy::from_wire(r.policy);
        v.check(policy.is_some(), "policy", "a known expiry policy");
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, id?, policy?, reseller?)))();
        let (request_id, id, policy, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(pb::SetExpiryPolicyResponse {
            resource: Some(
                self.billing()
                    .set_expiry_policy(m, id, policy, reseller)
                    .await?,
            ),
        }))
    }

    async fn switch_to_on_demand_now(
        &self,
        req: Request<pb::SwitchToOnDemandNowRequest>,
    ) -> Result<Response<pb::SwitchToOnDemandNowResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let ids = resource_ids(&mut v, &r.resource_ids);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let parsed = (|| Some((request_id?, ids?, reseller?)))();
        let (request_id, ids, reseller) = v.finish_with(parsed)?;
        if r.validate_only {
            let preview = self
                .billing()
                .preview_unsubscribe(&principal, &ids, UnsubscribeMode::ToOnDemand, reseller)
                .await?;
            return Ok(Response::new(pb::SwitchToOnDemandNowResponse {
                order: None,
                results: preview.results,
            }));
        }
        let m = call.mutation(request_id)?;
        let done = self
            .billing()
            .unsubscribe_resources(m, ids, UnsubscribeMode::ToOnDemand, None, reseller)
            .await?;
        Ok(Response::new(pb::SwitchToOnDemandNowResponse {
            order: done.order,
            results: done.results,
        }))
    }
}
