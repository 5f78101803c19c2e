//! `partner.accounts.v1.ProgramService`.

use partner_api::accounts::v1::{self as pb, program_service_server::ProgramService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::InvitationId;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::time;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::AccountsApi;
use super::user::optional_partner;
use crate::access as perm;
use crate::programs::enrol::{Acceptance, SignUp};
use crate::programs::invitations::{Expiry, NewInvitation};
use crate::programs::{BusinessInfo, Program};
use crate::service::PageRequest;

/// Tokens are 4 + 43 characters; anything much longer is not one of ours.
const MAX_TOKEN_LEN: usize = 128;

#[tonic::async_trait]
impl ProgramService for AccountsApi {
    async fn list_programs(
        &self,
        req: Request<pb::ListProgramsRequest>,
    ) -> Result<Response<pb::ListProgramsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListProgramsRequest {} = req.into_inner();
        if principal.is_operator() {
            principal.require(perm::PLATFORM_PROGRAMS_READ)?;
        } else {
            principal.require_partner(perm::PROGRAMS_READ)?;
        }
        Ok(Response::new(pb::ListProgramsResponse {
            programs: Program::ALL.into_iter().map(Program::info).collect(),
        }))
    }

    async fn create_invitation(
        &self,
        req: Request<pb::CreateInvitationRequest>,
    ) -> Result<Response<pb::CreateInvitationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::CreateInvitationRequest {
            request_id,
            email,
            program,
            expire_time,
            ttl,
            partner_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let email = v.take("email", validate::email(&email));
        let program = v.take("program", Program::from_proto(program));
        let partner_id = v.take("partner_id", optional_partner(&partner_id));
        let expiry = match (expire_time, ttl) {
            (None, None) => Some(Expiry::Default),
            (Some(at), None) => v
                .take("expire_time", time::from_proto_timestamp(&at))
                .map(Expiry::At),
            (None, Some(ttl)) => v.take("ttl", duration(ttl)).map(Expiry::After),
            (Some(_), Some(_)) => {
                v.add("ttl", "set expire_time or ttl, not both");
                None
            }
        };
        let (request_id, cmd) = v.finish_with((|| {
            Some((
                request_id?,
                NewInvitation {
                    email: email?,
                    program: program?,
                    expiry: expiry?,
                    partner_id: partner_id?,
                },
            ))
        })())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.create_invitation(m, cmd).await?,
        ))
    }

    async fn list_invitations(
        &self,
        req: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListInvitationsRequest {
            page_size: size,
            page_token,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let size = v.finish_with(size)?;
        let page = self
            .accounts
            .list_invitations(
                &principal,
                PageRequest {
                    size,
                    token: page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn revoke_invitation(
        &self,
        req: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::RevokeInvitationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::RevokeInvitationRequest {
            request_id,
            invitation_id,
            reason,
        } = req.into_inner();
        let (request_id, id, reason) = validate::verb(
            &request_id,
            "invitation_id",
            InvitationId::parse(&invitation_id),
            &reason,
        )?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.revoke_invitation(m, id, reason).await?,
        ))
    }

    async fn accept_invitation(
        &self,
        req: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<pb::AcceptInvitationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::AcceptInvitationRequest {
            request_id,
            token,
            business_info,
            agreement_accepted,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let token = v.take("token", parse_token(token));
        let business = parse_business(&mut v, business_info);
        v.check(
            agreement_accepted,
            "agreement_accepted",
            "must be true: the program agreement must be accepted",
        );
        let (request_id, cmd) = v.finish_with((|| {
            Some((
                request_id?,
                Acceptance {
                    token: token?,
                    business: business?,
                },
            ))
        })())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.accounts.accept_invitation(m, cmd).await?,
        ))
    }

    async fn sign_up_with_invitation(
        &self,
        req: Request<pb::SignUpWithInvitationRequest>,
    ) -> Result<Response<pb::SignUpWithInvitationResponse>, Status> {
        // Public: no principal; the token is the credential.
        let call = self.calls.start(&req)?;
        let (request_id, cmd) = parse_sign_up(req.into_inner())?;
        Ok(Response::new(
            self.accounts
                .sign_up_with_invitation(call, request_id, cmd)
                .await?,
        ))
    }
}

fn parse_sign_up(r: pb::SignUpWithInvitationRequest) -> Result<(uuid::Uuid, SignUp), KernelError> {
    let pb::SignUpWithInvitationRequest {
        request_id,
        token,
        business_info,
        agreement_accepted,
        master_username,
        master_password,
        contact_email,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let token = v.take("token", parse_token(token));
    let business = parse_business(&mut v, business_info);
    v.check(
        agreement_accepted,
        "agreement_accepted",
        "must be true: the program agreement must be accepted",
    );
    let master_username = v.take("master_username", validate::username(&master_username));
    let password_ok = v.take("master_password", validate::new_password(&master_password));
    let contact_email = v.take("contact_email", validate::email(&contact_email));
    let parsed = (|| {
        password_ok?;
        Some((
            request_id?,
            SignUp {
                token: token?,
                business: business?,
                master_username: master_username?,
                master_password,
                contact_email: contact_email?,
            },
        ))
    })();
    v.finish_with(parsed)
}

/// A token as sent: present and of plausible length. Whether it names an
/// invitation is the domain's question.
fn parse_token(raw: String) -> Result<String, &'static str> {
    if raw.is_empty() {
        Err("required")
    } else if raw.len() > MAX_TOKEN_LEN {
        Err("not an invitation token")
    } else {
        Ok(raw)
    }
}

fn parse_business(v: &mut Violations, info: Option<pb::BusinessInfo>) -> Option<BusinessInfo> {
    let Some(pb::BusinessInfo {
        company_name,
        registration_number,
        address,
        contact_name,
        contact_phone,
    }) = info
    else {
        v.add("business_info", "required");
        return None;
    };
    let company_name = v.take(
        "business_info.company_name",
        validate::text(&company_name, 1, 128),
    );
    let registration_number = v.take(
        "business_info.registration_number",
        validate::text(&registration_number, 1, 64),
    );
    let address = v.take("business_info.address", validate::text(&address, 0, 512));
    let contact_name = v.take(
        "business_info.contact_name",
        validate::text(&contact_name, 1, 128),
    );
    let contact_phone = v.take(
        "business_info.contact_phone",
        validate::text(&contact_phone, 1, 32),
    );
    Some(BusinessInfo {
        company_name: company_name?,
        registration_number: registration_number?,
        address: address?,
        contact_name: contact_name?,
        contact_phone: contact_phone?,
    })
}

fn duration(d: prost_types::Duration) -> Result<chrono::Duration, &'static str> {
    let span = time::from_proto_duration(&d)?;
    if span <= chrono::Duration::zero() {
        return Err("must be positive");
    }
    Ok(span)
}
