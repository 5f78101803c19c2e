//! `partner.customers.v1.LeadService`.

use partner_api::customers::v1::{self as pb, lead_service_server::LeadService};
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::CustomersApi;
use super::parse::enum_filter;
use crate::customers::rules;
use crate::leads::{self, LeadChange, LeadFields, LeadFilter, LeadSource, LeadState, Owner};
use crate::service::PageRequest;

/// The fields of a lead named by `paths` (all of them for a new lead).
fn fields(v: &mut Violations, l: &pb::Lead, paths: &[&str], new: bool) -> LeadFields {
    let mut f = LeadFields::default();
    for path in paths {
        match *path {
            "company_name" => {
                f.company_name =
                    v.take("lead.company_name", validate::text(&l.company_name, 1, 128));
            }
            "contact_name" => {
                f.contact_name =
                    v.take("lead.contact_name", validate::text(&l.contact_name, 0, 64));
            }
            "phone" if l.phone.is_empty() => f.phone = Some(String::new()),
            "phone" => f.phone = v.take("lead.phone", rules::phone(&l.phone)),
            "email" if l.email.is_empty() => f.email = Some(String::new()),
            "email" => {
                f.email = v.take(
                    "lead.email",
                    validate::email(&l.email).map(|e| e.to_lowercase()),
                );
            }
            "description" => {
                f.description = v.take("lead.description", validate::text(&l.description, 0, 1024));
            }
            other => validate::not_updatable(v, other),
        }
    }
    if new
        && f.phone.as_deref().unwrap_or_default().is_empty()
        && f.email.as_deref().unwrap_or_default().is_empty()
    {
        v.add("lead.phone", "give a phone number or an email address");
    }
    f
}

const ALL_FIELDS: [&str; 5] = [
    "company_name",
    "contact_name",
    "phone",
    "email",
    "description",
];

/// The request id and lead id of a verb on one lead.
fn lead_verb(
    v: &mut Violations,
    request_id: &str,
    lead_id: &str,
) -> (Option<Uuid>, Option<String>) {
    (
        v.take("request_id", validate::request_id(request_id)),
        v.take("lead_id", leads::parse_id(lead_id)),
    )
}

#[tonic::async_trait]
impl LeadService for CustomersApi {
    async fn create_lead(
        &self,
        req: Request<pb::CreateLeadRequest>,
    ) -> Result<Response<pb::CreateLeadResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let lead = r.lead.unwrap_or_default();
        let f = fields(&mut v, &lead, &ALL_FIELDS, true);
        let request_id = v.finish_with(request_id)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.customers.create_lead(m, f).await?))
    }

    async fn get_lead(
        &self,
        req: Request<pb::GetLeadRequest>,
    ) -> Result<Response<pb::GetLeadResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("lead_id", leads::parse_id(&req.get_ref().lead_id));
        let id = v.finish_with(id)?;
        Ok(Response::new(
            self.customers.get_lead(&principal, &id).await?,
        ))
    }

    async fn list_leads(
        &self,
        req: Request<pb::ListLeadsRequest>,
    ) -> Result<Response<pb::ListLeadsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let state = enum_filter(&mut v, "state", r.state, LeadState::from_wire);
        let source = enum_filter(&mut v, "source", r.source, LeadSource::from_wire);
        let owner = match (r.partner_id.is_empty(), r.undispatched) {
            (true, false) => Some(None),
            (true, true) => Some(Some(Owner::Pool)),
            (false, false) => v
                .take("partner_id", PartnerId::parse(&r.partner_id))
                .map(|p| Some(Owner::Partner(p))),
            (false, true) => {
                v.add("undispatched", "cannot be combined with partner_id");
                None
            }
        };
        let parsed = (|| Some((size?, state?, source?, owner?)))();
        let (size, state, source, owner) = v.finish_with(parsed)?;
        let page = self
            .customers
            .list_leads(
                &principal,
                owner,
                LeadFilter { state, source },
                PageRequest {
                    size,
                    token: r.page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListLeadsResponse {
            leads: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_lead(
        &self,
        req: Request<pb::UpdateLeadRequest>,
    ) -> Result<Response<pb::UpdateLeadResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let lead = r.lead.unwrap_or_default();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &lead.lead_id);
        let paths = validate::mask_paths(&mut v, r.update_mask);
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let f = fields(&mut v, &lead, &paths, false);
        let (request_id, id) = v.finish_with(request_id.zip(id))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .change_lead(m, id, LeadChange::Update(f), |a| pb::UpdateLeadResponse {
                    lead: Some(a.lead),
                })
                .await?,
        ))
    }

    async fn add_follow_up(
        &self,
        req: Request<pb::AddFollowUpRequest>,
    ) -> Result<Response<pb::AddFollowUpResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &r.lead_id);
        let note = v.take("note", validate::text(&r.note, 1, 1024));
        let parsed = (|| Some((request_id?, id?, note?)))();
        let (request_id, id, note) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .change_lead(m, id, LeadChange::FollowUp(note), |a| {
                    pb::AddFollowUpResponse {
                        lead: Some(a.lead),
                        follow_up: a.follow_up,
                    }
                })
                .await?,
        ))
    }

    async fn close_lead(
        &self,
        req: Request<pb::CloseLeadRequest>,
    ) -> Result<Response<pb::CloseLeadResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &r.lead_id);
        let reason = v.take("reason", validate::text(&r.reason, 1, 512));
        let parsed = (|| Some((request_id?, id?, reason?)))();
        let (request_id, id, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .change_lead(m, id, LeadChange::Close(reason), |a| {
                    pb::CloseLeadResponse { lead: Some(a.lead) }
                })
                .await?,
        ))
    }

    async fn convert_lead(
        &self,
        req: Request<pb::ConvertLeadRequest>,
    ) -> Result<Response<pb::ConvertLeadResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &r.lead_id);
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let parsed = (|| Some((request_id?, id?, customer?)))();
        let (request_id, id, customer) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .change_lead(m, id, LeadChange::Convert(customer), |a| {
                    pb::ConvertLeadResponse { lead: Some(a.lead) }
                })
                .await?,
        ))
    }

    async fn dispatch_lead(
        &self,
        req: Request<pb::DispatchLeadRequest>,
    ) -> Result<Response<pb::DispatchLeadResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &r.lead_id);
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let parsed = (|| Some((request_id?, id?, partner?)))();
        let (request_id, id, partner) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers.dispatch_lead(m, id, partner).await?,
        ))
    }

    async fn request_outbound_call(
        &self,
        req: Request<pb::RequestOutboundCallRequest>,
    ) -> Result<Response<pb::RequestOutboundCallResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let (request_id, id) = lead_verb(&mut v, &r.request_id, &r.lead_id);
        let (request_id, id) = v.finish_with(request_id.zip(id))?;
        let m = call.mutation(request_id)?;
        let answer = self
            .customers
            .change_lead(m, id, LeadChange::Call, |a| {
                pb::RequestOutboundCallResponse { call: a.call }
            })
            .await?;
        Ok(Response::new(answer))
    }
}
