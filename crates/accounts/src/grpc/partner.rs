//! `partner.accounts.v1.PartnerService`.

use partner_api::accounts::v1::{self as pb, partner_service_server::PartnerService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::PartnerId;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::AccountsApi;
use crate::partners::{EnterpriseMembership, PartnerState};
use crate::partners::{NewPartner, PartnerPatch};
use crate::service::PageRequest;

#[tonic::async_trait]
impl PartnerService for AccountsApi {
    async fn register_partner(
        &self,
        req: Request<pb::RegisterPartnerRequest>,
    ) -> Result<Response<pb::RegisterPartnerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, cmd) = parse_register(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.accounts.register_partner(m, cmd).await?))
    }

    async fn get_partner(
        &self,
        req: Request<pb::GetPartnerRequest>,
    ) -> Result<Response<pb::GetPartnerResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::GetPartnerRequest { partner_id } = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("partner_id", PartnerId::parse(&partner_id));
        let id = v.finish_with(id)?;
        let partner = self.accounts.get_partner(&principal, id).await?;
        Ok(Response::new(pb::GetPartnerResponse {
            partner: Some(partner.to_proto()),
        }))
    }

    async fn list_partners(
        &self,
        req: Request<pb::ListPartnersRequest>,
    ) -> Result<Response<pb::ListPartnersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListPartnersRequest {
            page_size: size,
            page_token,
            state,
            display_name_prefix,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let state = v.take("state", PartnerState::filter_from_proto(state));
        let prefix = v.take(
            "display_name_prefix",
            validate::filter(display_name_prefix, 128),
        );
        let (size, state, prefix) = v.finish_with((|| Some((size?, state?, prefix?)))())?;
        let page = self
            .accounts
            .list_partners(
                &principal,
                state,
                prefix,
                PageRequest {
                    size,
                    token: page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListPartnersResponse {
            partners: page.items.iter().map(|p| p.to_proto()).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_partner(
        &self,
        req: Request<pb::UpdatePartnerRequest>,
    ) -> Result<Response<pb::UpdatePartnerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, id, patch) = parse_update(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.update_partner(m, id, patch).await?,
        ))
    }

    async fn suspend_partner(
        &self,
        req: Request<pb::SuspendPartnerRequest>,
    ) -> Result<Response<pb::SuspendPartnerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::SuspendPartnerRequest {
            request_id,
            partner_id,
            reason,
        } = req.into_inner();
        let (request_id, id, reason) = validate::verb_with_reason(
            &request_id,
            "partner_id",
            PartnerId::parse(&partner_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        let partner = self
            .accounts
            .set_partner_suspended(m, id, true, reason)
            .await?;
        Ok(Response::new(pb::SuspendPartnerResponse {
            partner: Some(partner),
        }))
    }

    async fn reinstate_partner(
        &self,
        req: Request<pb::ReinstatePartnerRequest>,
    ) -> Result<Response<pb::ReinstatePartnerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::ReinstatePartnerRequest {
            request_id,
            partner_id,
            reason,
        } = req.into_inner();
        let (request_id, id, reason) = validate::verb(
            &request_id,
            "partner_id",
            PartnerId::parse(&partner_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        let partner = self
            .accounts
            .set_partner_suspended(m, id, false, reason)
            .await?;
        Ok(Response::new(pb::ReinstatePartnerResponse {
            partner: Some(partner),
        }))
    }

    async fn issue_sales_platform_id(
        &self,
        req: Request<pb::IssueSalesPlatformIdRequest>,
    ) -> Result<Response<pb::IssueSalesPlatformIdResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::IssueSalesPlatformIdRequest {
            request_id,
            partner_id,
            sales_platform_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let partner = v.take("partner_id", PartnerId::parse(&partner_id));
        let named = if sales_platform_id.is_empty() {
            Some(None)
        } else {
            v.take(
                "sales_platform_id",
                crate::sales_platforms::parse(&sales_platform_id).map(Some),
            )
        };
        let (request_id, (partner, named)) = v.finish_with(request_id.zip(partner.zip(named)))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts
                .issue_sales_platform_id(m, partner, named)
                .await?,
        ))
    }
}

fn parse_register(r: pb::RegisterPartnerRequest) -> Result<(Uuid, NewPartner), KernelError> {
    let pb::RegisterPartnerRequest {
        request_id,
        display_name,
        master_username,
        master_password,
        contact_email,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let display_name = v.take("display_name", validate::text(&display_name, 1, 128));
    let master_username = v.take("master_username", validate::username(&master_username));
    let password_ok = v.take("master_password", validate::new_password(&master_password));
    let contact_email = v.take("contact_email", validate::email(&contact_email));
    let parsed = (|| {
        password_ok?;
        Some((
            request_id?,
            NewPartner {
                display_name: display_name?,
                contact_email: contact_email?,
                master_username: master_username?,
                master_password,
            },
        ))
    })();
    v.finish_with(parsed)
}

fn parse_update(
    r: pb::UpdatePartnerRequest,
) -> Result<(Uuid, PartnerId, PartnerPatch), KernelError> {
    let pb::UpdatePartnerRequest {
        request_id,
        partner,
        update_mask,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let Some(partner) = partner else {
        v.add("partner", "required");
        return v.finish_with(None);
    };
    let id = v.take("partner.partner_id", PartnerId::parse(&partner.partner_id));
    let paths = validate::mask_paths(&mut v, update_mask);
    let mut patch = PartnerPatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => {
                patch.display_name = v.take(
                    "partner.display_name",
                    validate::text(&partner.display_name, 1, 128),
                );
            }
            "contact_email" => {
                patch.contact_email = v.take(
                    "partner.contact_email",
                    validate::email(&partner.contact_email),
                );
            }
            "in_arrears" => patch.in_arrears = Some(partner.in_arrears),
            "has_credit_account" => patch.has_credit_account = Some(partner.has_credit_account),
            "marketing_programme_v2" => {
                patch.marketing_programme_v2 = Some(partner.marketing_programme_v2);
            }
            "enterprise_membership" => {
                patch.enterprise_membership = v.take(
                    "partner.enterprise_membership",
                    EnterpriseMembership::from_proto(partner.enterprise_membership),
                );
            }
            _ => validate::not_updatable(&mut v, &path),
        }
    }
    let parsed = request_id.zip(id).map(|(r, i)| (r, i, patch));
    v.finish_with(parsed)
}
