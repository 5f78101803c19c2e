//! The association-invitation RPCs of `CustomerService`: parsing and
//! translation; the trait impl in `customer.rs` delegates here.

use chrono::Duration;
use partner_api::customers::v1 as pb;
use partner_kernel::ids::CustomerId;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::CustomersApi;
use super::parse::{email_or_mobile, enum_filter};
use crate::customers::{AssociationType, rules};
use crate::invites::{NewInvite, SignUp, model};

/// Invitations live 1 hour to 30 days; 7 days unless asked.
const MAX_VALID_HOURS: i32 = 720;
const DEFAULT_VALID_HOURS: i32 = 168;
/// Uses of one multi-use invitation.
const MAX_USES: i32 = 10_000;
/// Longer strings are no invitation token (ours are 50 characters).
const MAX_TOKEN_LEN: usize = 128;

fn token(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        Err("required")
    } else if raw.len() > MAX_TOKEN_LEN || raw.chars().any(char::is_control) {
        Err("not an invitation token")
    } else {
        Ok(raw.to_owned())
    }
}

impl CustomersApi {
    pub(super) async fn create_invite(
        &self,
        req: Request<pb::CreateAssociationInviteRequest>,
    ) -> Result<Response<pb::CreateAssociationInviteResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::CreateAssociationInviteRequest {
            request_id,
            association_type,
            valid_hours,
            max_uses,
            xaccount_type,
            xaccount_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let association_type = enum_filter(
            &mut v,
            "association_type",
            association_type,
            AssociationType::from_wire,
        )
        .map(|t| t.unwrap_or(AssociationType::Reseller));
        let hours = if valid_hours == 0 {
            DEFAULT_VALID_HOURS
        } else {
            valid_hours
        };
        v.check(
            (1..=MAX_VALID_HOURS).contains(&hours),
            "valid_hours",
            "1-720 (0: 168)",
        );
        let max_uses = if max_uses == 0 { 1 } else { max_uses };
        v.check(
            (1..=MAX_USES).contains(&max_uses),
            "max_uses",
            "1-10000 (0: 1)",
        );
        let xaccount = match (xaccount_type.is_empty(), xaccount_id.is_empty()) {
            (true, true) => Some(None),
            (false, false) => {
                let t = v.take("xaccount_type", rules::xaccount_type(&xaccount_type));
                let id = v.take("xaccount_id", rules::xaccount_id(&xaccount_id));
                t.zip(id).map(Some)
            }
            (true, false) | (false, true) => {
                v.add(
                    "xaccount_id",
                    "give both xaccount_type and xaccount_id, or neither",
                );
                None
            }
        };
        if matches!(xaccount, Some(Some(_))) && max_uses != 1 {
            v.add("max_uses", "an invitation for one account is single-use");
        }
        let parsed = (|| {
            Some((
                request_id?,
                NewInvite {
                    association_type: association_type?,
                    valid_for: Duration::hours(i64::from(hours)),
                    max_uses,
                    xaccount: xaccount?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.customers.create_invite(m, cmd).await?))
    }

    pub(super) async fn revoke_invite(
        &self,
        req: Request<pb::RevokeAssociationInviteRequest>,
    ) -> Result<Response<pb::RevokeAssociationInviteResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::RevokeAssociationInviteRequest {
            request_id,
            invite_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let id = v.take("invite_id", model::parse_id(&invite_id));
        let (request_id, id) = v.finish_with(request_id.zip(id))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.customers.revoke_invite(m, id).await?))
    }

    pub(super) async fn accept_invite(
        &self,
        req: Request<pb::AcceptAssociationInviteRequest>,
    ) -> Result<Response<pb::AcceptAssociationInviteResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::AcceptAssociationInviteRequest {
            request_id,
            token: raw,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let token = v.take("token", token(&raw));
        let (request_id, token) = v.finish_with(request_id.zip(token))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.customers.accept_invite(m, token).await?))
    }

    pub(super) async fn sign_up_with_invite(
        &self,
        req: Request<pb::SignUpWithAssociationInviteRequest>,
    ) -> Result<Response<pb::SignUpWithAssociationInviteResponse>, Status> {
        // Public: no principal; the token is the credential.
        let call = self.calls.start(&req)?;
        let pb::SignUpWithAssociationInviteRequest {
            request_id,
            token: raw,
            account_name,
            email,
            mobile,
            password,
            country,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let token = v.take("token", token(&raw));
        let account_name = if account_name.is_empty() {
            Some(None)
        } else {
            v.take("account_name", rules::account_name(&account_name).map(Some))
        };
        let (email, mobile) = email_or_mobile(&mut v, &email, &mobile);
        let password = v
            .take("password", validate::new_password(&password))
            .map(|()| password);
        let country = v.take("country", rules::country(&country));
        let parsed = (|| {
            Some((
                request_id?,
                SignUp {
                    token: token?,
                    account_name: account_name?,
                    email: email?,
                    mobile: mobile?,
                    password: password?,
                    country: country?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        Ok(Response::new(
            self.customers
                .sign_up_with_invite(call, request_id, cmd)
                .await?,
        ))
    }

    pub(super) async fn set_facts(
        &self,
        req: Request<pb::SetCustomerFactsRequest>,
    ) -> Result<Response<pb::SetCustomerFactsResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::SetCustomerFactsRequest {
            request_id,
            customer_id,
            facts,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let id = v.take("customer_id", CustomerId::parse(&customer_id));
        if facts.is_none() {
            v.add("facts", "required");
        }
        let (request_id, id) = v.finish_with(request_id.zip(id))?;
        let m = call.mutation(request_id)?;
        let facts = facts.unwrap_or_default().into();
        Ok(Response::new(self.customers.set_facts(m, id, facts).await?))
    }
}
