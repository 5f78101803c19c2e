//! `partner.customers.v1.OpportunityService`.

use partner_api::customers::v1::{self as pb, opportunity_service_server::OpportunityService};
use partner_kernel::money::Money;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::CustomersApi;
use super::parse::enum_filter;
use crate::customers::rules;
use crate::opportunities::{self, NewOpportunity, OpportunityState, Verdict};
use crate::service::PageRequest;

/// The request id, opportunity id and (when `reason` is required) reason of
/// a verdict.
fn verdict_fields(
    request_id: &str,
    id: &str,
    reason: Option<&str>,
) -> Result<(Uuid, String, Option<String>), Status> {
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(request_id));
    let id = v.take("opportunity_id", opportunities::parse_id(id));
    let reason = match reason {
        Some(r) => v.take("reason", validate::text(r, 1, 512)).map(Some),
        None => Some(None),
    };
    let parsed = (|| Some((request_id?, id?, reason?)))();
    Ok(v.finish_with(parsed)?)
}

/// A region: empty, or up to 48 characters without control characters (a
/// routing rule's key, `{country}/{region}`, names it in audit records).
fn region(raw: &str) -> Result<String, String> {
    validate::text(raw, 0, 48)
}

impl CustomersApi {
    async fn decide(
        &self,
        call: partner_kernel::mutation::Call,
        (request_id, id, reason): (Uuid, String, Option<String>),
        verdict: Verdict,
    ) -> Result<Option<pb::Opportunity>, Status> {
        let m = call.mutation(request_id)?;
        Ok(self
            .customers
            .decide_opportunity(m, id, verdict, reason)
            .await?
            .opportunity)
    }
}

#[tonic::async_trait]
impl OpportunityService for CustomersApi {
    async fn submit_opportunity(
        &self,
        req: Request<pb::SubmitOpportunityRequest>,
    ) -> Result<Response<pb::SubmitOpportunityResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let o = r.opportunity.unwrap_or_default();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer_name = v.take(
            "opportunity.customer_name",
            validate::text(&o.customer_name, 1, 128),
        );
        let customer_email = v.take(
            "opportunity.customer_email",
            validate::email(&o.customer_email).map(|e| e.to_lowercase()),
        );
        let country = v.take("opportunity.country", rules::country(&o.country));
        let region = v.take("opportunity.region", region(&o.region));
        let description = v.take(
            "opportunity.description",
            validate::text(&o.description, 0, 1024),
        );
        let expected_amount = match o.expected_amount.as_ref().map(Money::from_proto) {
            None => Some(None),
            Some(Ok(m)) if m.minor() >= 0 => Some(Some(m)),
            Some(Ok(_)) => {
                v.add("opportunity.expected_amount", "must not be negative");
                None
            }
            Some(Err(e)) => {
                v.add("opportunity.expected_amount", e.to_string());
                None
            }
        };
        let parsed = (|| {
            Some((
                request_id?,
                NewOpportunity {
                    customer_name: customer_name?,
                    customer_email: customer_email?,
                    country: country?,
                    region: region?,
                    description: description?,
                    expected_amount: expected_amount?,
                },
            ))
        })();
        let (request_id, o) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers.submit_opportunity(m, o).await?,
        ))
    }

    async fn get_opportunity(
        &self,
        req: Request<pb::GetOpportunityRequest>,
    ) -> Result<Response<pb::GetOpportunityResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take(
            "opportunity_id",
            opportunities::parse_id(&req.get_ref().opportunity_id),
        );
        let id = v.finish_with(id)?;
        let o = self.customers.get_opportunity(&principal, &id).await?;
        Ok(Response::new(pb::GetOpportunityResponse {
            opportunity: Some(o.to_proto()),
        }))
    }

    async fn list_opportunities(
        &self,
        req: Request<pb::ListOpportunitiesRequest>,
    ) -> Result<Response<pb::ListOpportunitiesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let state = enum_filter(&mut v, "state", r.state, OpportunityState::from_wire);
        let office = v.take("office", validate::filter(r.office, 64));
        let parsed = (|| Some((size?, state?, office?)))();
        let (size, state, office) = v.finish_with(parsed)?;
        let page = self
            .customers
            .list_opportunities(
                &principal,
                state,
                office,
                PageRequest {
                    size,
                    token: r.page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListOpportunitiesResponse {
            opportunities: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn accept_opportunity(
        &self,
        req: Request<pb::AcceptOpportunityRequest>,
    ) -> Result<Response<pb::AcceptOpportunityResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let fields = verdict_fields(&r.request_id, &r.opportunity_id, None)?;
        let opportunity = self.decide(call, fields, Verdict::Accept).await?;
        Ok(Response::new(pb::AcceptOpportunityResponse { opportunity }))
    }

    async fn reject_opportunity(
        &self,
        req: Request<pb::RejectOpportunityRequest>,
    ) -> Result<Response<pb::RejectOpportunityResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let fields = verdict_fields(&r.request_id, &r.opportunity_id, Some(&r.reason))?;
        let opportunity = self.decide(call, fields, Verdict::Reject).await?;
        Ok(Response::new(pb::RejectOpportunityResponse { opportunity }))
    }

    async fn mark_opportunity_won(
        &self,
        req: Request<pb::MarkOpportunityWonRequest>,
    ) -> Result<Response<pb::MarkOpportunityWonResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let fields = verdict_fields(&r.request_id, &r.opportunity_id, None)?;
        let opportunity = self.decide(call, fields, Verdict::Won).await?;
        Ok(Response::new(pb::MarkOpportunityWonResponse {
            opportunity,
        }))
    }

    async fn mark_opportunity_lost(
        &self,
        req: Request<pb::MarkOpportunityLostRequest>,
    ) -> Result<Response<pb::MarkOpportunityLostResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let fields = verdict_fields(&r.request_id, &r.opportunity_id, Some(&r.reason))?;
        let opportunity = self.decide(call, fields, Verdict::Lost).await?;
        Ok(Response::new(pb::MarkOpportunityLostResponse {
            opportunity,
        }))
    }

    async fn set_routing_rule(
        &self,
        req: Request<pb::SetRoutingRuleRequest>,
    ) -> Result<Response<pb::SetRoutingRuleResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let rule = r.rule.unwrap_or_default();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let country = v.take("rule.country", rules::country(&rule.country));
        let region = v.take("rule.region", region(&rule.region));
        let office = v.take("rule.office", validate::text(&rule.office, 1, 64));
        let parsed = (|| Some((request_id?, country?, region?, office?)))();
        let (request_id, country, region, office) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .set_routing_rule(m, country, region, office)
                .await?,
        ))
    }

    async fn list_routing_rules(
        &self,
        req: Request<pb::ListRoutingRulesRequest>,
    ) -> Result<Response<pb::ListRoutingRulesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let size = v.finish_with(size)?;
        let page = self
            .customers
            .list_routing_rules(
                &principal,
                PageRequest {
                    size,
                    token: r.page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListRoutingRulesResponse {
            rules: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
