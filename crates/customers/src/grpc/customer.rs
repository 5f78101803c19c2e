//! `partner.customers.v1.CustomerService`.

use partner_api::customers::v1::{self as pb, customer_service_server::CustomerService};
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, UserId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::time::from_proto_timestamp;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::CustomersApi;
use super::parse::{
    batch_ids, email_or_mobile, enum_filter, many_customers, one_customer, reseller,
};
use crate::customers::freeze::FreezeChange;
use crate::customers::rules::{self, MAX_ACCOUNT_MANAGERS};
use crate::customers::{
    AssociationType, Contact, CustomerPatch, FreezeMode, Identity, ListFilter, NewCustomer,
    RealNameStatus,
};
use crate::service::PageRequest;

#[tonic::async_trait]
impl CustomerService for CustomersApi {
    async fn check_customer_identity(
        &self,
        req: Request<pb::CheckCustomerIdentityRequest>,
    ) -> Result<Response<pb::CheckCustomerIdentityResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::CheckCustomerIdentityRequest { kind, value } = req.into_inner();
        let mut v = Violations::new();
        let kind = match pb::IdentityKind::try_from(kind) {
            Ok(pb::IdentityKind::AccountName) => Some(Identity::AccountName),
            Ok(pb::IdentityKind::Email) => Some(Identity::Email),
            Ok(pb::IdentityKind::Mobile) => Some(Identity::Mobile),
            Ok(pb::IdentityKind::Unspecified) | Err(_) => {
                v.add("kind", "ACCOUNT_NAME, EMAIL or MOBILE");
                None
            }
        };
        let value = v.take("value", validate::text(&value, 1, 254));
        let (kind, value) = v.finish_with(kind.zip(value))?;
        let value = if kind == Identity::Email {
            value.to_lowercase()
        } else {
            value
        };
        let used = self
            .customers
            .check_identity(&principal, kind, &value)
            .await?;
        let availability = if used {
            pb::IdentityAvailability::Used
        } else {
            pb::IdentityAvailability::Available
        };
        Ok(Response::new(pb::CheckCustomerIdentityResponse {
            availability: availability.into(),
        }))
    }

    async fn create_customer(
        &self,
        req: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, cmd) = parse_create(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.customers.create_customer(m, cmd).await?))
    }

    async fn get_customer(
        &self,
        req: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::GetCustomerResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = one_customer(&r.customer_id, &r.reseller_id)?;
        let customer = self
            .customers
            .get_customer(&principal, id, reseller)
            .await?;
        Ok(Response::new(pb::GetCustomerResponse {
            customer: Some(customer.to_proto()),
        }))
    }

    async fn batch_get_customers(
        &self,
        req: Request<pb::BatchGetCustomersRequest>,
    ) -> Result<Response<pb::BatchGetCustomersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (ids, reseller) = many_customers(&r.customer_ids, &r.reseller_id)?;
        let results = self
            .customers
            .batch_get_customers(&principal, ids, reseller)
            .await?;
        Ok(Response::new(pb::BatchGetCustomersResponse { results }))
    }

    async fn list_customers(
        &self,
        req: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let (page, filter, reseller) = parse_list(req.into_inner())?;
        let page = self
            .customers
            .list_customers(&principal, filter, reseller, page)
            .await?;
        Ok(Response::new(pb::ListCustomersResponse {
            customers: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_customer(
        &self,
        req: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::UpdateCustomerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let (request_id, id, patch, reseller) = parse_update(req.into_inner())?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .update_customer(m, id, patch, reseller)
                .await?,
        ))
    }

    async fn freeze_customers(
        &self,
        req: Request<pb::FreezeCustomersRequest>,
    ) -> Result<Response<pb::FreezeCustomersResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::FreezeCustomersRequest {
            request_id,
            customer_ids,
            mode,
            reason,
            reseller_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let mode = match FreezeMode::from_wire(mode) {
            Some(m @ (FreezeMode::Account | FreezeMode::AccountAndResources)) => Some(m),
            Some(FreezeMode::None) | None => {
                v.add("mode", "ACCOUNT or ACCOUNT_AND_RESOURCES");
                None
            }
        };
        let (request_id, ids, change, reason, reseller) = batch_verb(
            v,
            mode.map(FreezeChange::Freeze),
            &request_id,
            &customer_ids,
            &reason,
            &reseller_id,
        )?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .set_frozen(m, ids, change, reason, reseller, |results| {
                    pb::FreezeCustomersResponse { results }
                })
                .await?,
        ))
    }

    async fn unfreeze_customers(
        &self,
        req: Request<pb::UnfreezeCustomersRequest>,
    ) -> Result<Response<pb::UnfreezeCustomersResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::UnfreezeCustomersRequest {
            request_id,
            customer_ids,
            reason,
            reseller_id,
        } = req.into_inner();
        let (request_id, ids, change, reason, reseller) = batch_verb(
            Violations::new(),
            Some(FreezeChange::Unfreeze),
            &request_id,
            &customer_ids,
            &reason,
            &reseller_id,
        )?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .set_frozen(m, ids, change, reason, reseller, |results| {
                    pb::UnfreezeCustomersResponse { results }
                })
                .await?,
        ))
    }

    async fn disassociate_customer(
        &self,
        req: Request<pb::DisassociateCustomerRequest>,
    ) -> Result<Response<pb::DisassociateCustomerResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::DisassociateCustomerRequest {
            request_id,
            customer_id,
            reason,
            reseller_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let id = v.take("customer_id", CustomerId::parse(&customer_id));
        let reason = v.take("reason", validate::text(&reason, 1, 512));
        let reseller = v.take("reseller_id", reseller(&reseller_id));
        let parsed = (|| Some((request_id?, id?, reason?, reseller?)))();
        let (request_id, id, reason, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .disassociate_customer(m, id, reason, reseller)
                .await?,
        ))
    }

    async fn create_association_invite(
        &self,
        req: Request<pb::CreateAssociationInviteRequest>,
    ) -> Result<Response<pb::CreateAssociationInviteResponse>, Status> {
        self.create_invite(req).await
    }

    async fn revoke_association_invite(
        &self,
        req: Request<pb::RevokeAssociationInviteRequest>,
    ) -> Result<Response<pb::RevokeAssociationInviteResponse>, Status> {
        self.revoke_invite(req).await
    }

    async fn accept_association_invite(
        &self,
        req: Request<pb::AcceptAssociationInviteRequest>,
    ) -> Result<Response<pb::AcceptAssociationInviteResponse>, Status> {
        self.accept_invite(req).await
    }

    async fn sign_up_with_association_invite(
        &self,
        req: Request<pb::SignUpWithAssociationInviteRequest>,
    ) -> Result<Response<pb::SignUpWithAssociationInviteResponse>, Status> {
        self.sign_up_with_invite(req).await
    }

    async fn change_own_password(
        &self,
        req: Request<pb::ChangeOwnPasswordRequest>,
    ) -> Result<Response<pb::ChangeOwnPasswordResponse>, Status> {
        self.change_password(req).await
    }

    async fn set_customer_facts(
        &self,
        req: Request<pb::SetCustomerFactsRequest>,
    ) -> Result<Response<pb::SetCustomerFactsResponse>, Status> {
        self.set_facts(req).await
    }

    async fn set_customer_budget(
        &self,
        req: Request<pb::SetCustomerBudgetRequest>,
    ) -> Result<Response<pb::SetCustomerBudgetResponse>, Status> {
        self.set_budget(req).await
    }

    async fn get_customer_budget(
        &self,
        req: Request<pb::GetCustomerBudgetRequest>,
    ) -> Result<Response<pb::GetCustomerBudgetResponse>, Status> {
        self.get_budget(req).await
    }

    async fn batch_get_customer_budgets(
        &self,
        req: Request<pb::BatchGetCustomerBudgetsRequest>,
    ) -> Result<Response<pb::BatchGetCustomerBudgetsResponse>, Status> {
        self.batch_get_budgets(req).await
    }

    async fn list_budget_records(
        &self,
        req: Request<pb::ListBudgetRecordsRequest>,
    ) -> Result<Response<pb::ListBudgetRecordsResponse>, Status> {
        self.budget_records(req).await
    }

    async fn submit_individual_verification(
        &self,
        req: Request<pb::SubmitIndividualVerificationRequest>,
    ) -> Result<Response<pb::SubmitIndividualVerificationResponse>, Status> {
        self.submit_individual(req).await
    }

    async fn submit_enterprise_verification(
        &self,
        req: Request<pb::SubmitEnterpriseVerificationRequest>,
    ) -> Result<Response<pb::SubmitEnterpriseVerificationResponse>, Status> {
        self.submit_enterprise(req).await
    }

    async fn change_to_enterprise_verification(
        &self,
        req: Request<pb::ChangeToEnterpriseVerificationRequest>,
    ) -> Result<Response<pb::ChangeToEnterpriseVerificationResponse>, Status> {
        self.change_to_enterprise(req).await
    }

    async fn get_verification_review(
        &self,
        req: Request<pb::GetVerificationReviewRequest>,
    ) -> Result<Response<pb::GetVerificationReviewResponse>, Status> {
        self.verification_review(req).await
    }

    async fn review_verification(
        &self,
        req: Request<pb::ReviewVerificationRequest>,
    ) -> Result<Response<pb::ReviewVerificationResponse>, Status> {
        self.review(req).await
    }
}

/// The request id, ids, change, required reason and reseller of a batch
/// freeze or unfreeze.
type BatchVerb = (
    Uuid,
    Vec<CustomerId>,
    FreezeChange,
    String,
    Option<partner_kernel::ids::PartnerId>,
);

/// Parses a batch verb; `change` is `None` when its own field was refused
/// (already recorded in `v`), so every violation is reported together.
fn batch_verb(
    mut v: Violations,
    change: Option<FreezeChange>,
    request_id: &str,
    ids: &[String],
    reason: &str,
    reseller_id: &str,
) -> Result<BatchVerb, KernelError> {
    let request_id = v.take("request_id", validate::request_id(request_id));
    let ids = batch_ids(&mut v, "customer_ids", ids);
    let reason = v.take("reason", validate::text(reason, 1, 512));
    let reseller = v.take("reseller_id", reseller(reseller_id));
    let parsed = (|| Some((request_id?, ids?, change?, reason?, reseller?)))();
    v.finish_with(parsed)
}

fn parse_create(r: pb::CreateCustomerRequest) -> Result<(Uuid, NewCustomer), KernelError> {
    let pb::CreateCustomerRequest {
        request_id,
        xaccount_type,
        xaccount_id,
        account_name,
        email,
        mobile,
        password,
        country,
        association_type,
        reseller_id,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let xaccount_type = v.take("xaccount_type", rules::xaccount_type(&xaccount_type));
    let xaccount_id = v.take("xaccount_id", rules::xaccount_id(&xaccount_id));
    let account_name = if account_name.is_empty() {
        Some(None)
    } else {
        v.take("account_name", rules::account_name(&account_name).map(Some))
    };
    let (email, mobile) = email_or_mobile(&mut v, &email, &mobile);
    let password = if password.is_empty() {
        Some(None)
    } else {
        v.take("password", validate::new_password(&password))
            .map(|()| Some(password))
    };
    let country = v.take("country", rules::country(&country));
    let association_type = if association_type == 0 {
        Some(AssociationType::Reseller)
    } else {
        let parsed = AssociationType::from_wire(association_type);
        if parsed.is_none() {
            v.add("association_type", "CONSULTANT_SALE or RESELLER");
        }
        parsed
    };
    let reseller_id = v.take("reseller_id", reseller(&reseller_id));
    let parsed = (|| {
        Some((
            request_id?,
            NewCustomer {
                xaccount_type: xaccount_type?,
                xaccount_id: xaccount_id?,
                account_name: account_name?,
                email: email?,
                mobile: mobile?,
                password: password?,
                country: country?,
                association_type: association_type?,
                reseller_id: reseller_id?,
            },
        ))
    })();
    v.finish_with(parsed)
}

type ListArgs = (
    PageRequest,
    ListFilter,
    Option<partner_kernel::ids::PartnerId>,
);

fn parse_list(r: pb::ListCustomersRequest) -> Result<ListArgs, KernelError> {
    let pb::ListCustomersRequest {
        page_size: size,
        page_token,
        account_name_prefix,
        real_name_status,
        association_type,
        associated_after,
        associated_before,
        label,
        reseller_id,
    } = r;
    let mut v = Violations::new();
    let size = v.take("page_size", page_size(size));
    let prefix = v.take(
        "account_name_prefix",
        validate::filter(account_name_prefix, 32),
    );
    let real_name = enum_filter(
        &mut v,
        "real_name_status",
        real_name_status,
        RealNameStatus::from_wire,
    );
    let association = enum_filter(
        &mut v,
        "association_type",
        association_type,
        AssociationType::from_wire,
    );
    let after = match associated_after {
        None => Some(None),
        Some(t) => v.take("associated_after", from_proto_timestamp(&t).map(Some)),
    };
    let before = match associated_before {
        None => Some(None),
        Some(t) => v.take("associated_before", from_proto_timestamp(&t).map(Some)),
    };
    let label = v.take("label", validate::filter(label, 32));
    let reseller = v.take("reseller_id", reseller(&reseller_id));
    let parsed = (|| {
        Some((
            PageRequest {
                size: size?,
                token: page_token,
            },
            ListFilter {
                name_prefix: prefix?,
                real_name_status: real_name?,
                association_type: association?,
                associated_after: after?,
                associated_before: before?,
                label: label?,
            },
            reseller?,
        ))
    })();
    v.finish_with(parsed)
}

type UpdateArgs = (
    Uuid,
    CustomerId,
    CustomerPatch,
    Option<partner_kernel::ids::PartnerId>,
);

fn parse_update(r: pb::UpdateCustomerRequest) -> Result<UpdateArgs, KernelError> {
    let pb::UpdateCustomerRequest {
        request_id,
        customer,
        update_mask,
        reseller_id,
    } = r;
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(&request_id));
    let reseller = v.take("reseller_id", reseller(&reseller_id));
    let Some(customer) = customer else {
        v.add("customer", "required");
        return v.finish_with(None);
    };
    let id = v.take(
        "customer.customer_id",
        CustomerId::parse(&customer.customer_id),
    );
    let paths = validate::mask_paths(&mut v, update_mask);
    let mut patch = CustomerPatch::default();
    for path in &paths {
        match path.as_str() {
            "labels" => patch.labels = v.take("customer.labels", rules::labels(&customer.labels)),
            "account_manager_ids" => {
                patch.account_managers = managers(&mut v, &customer.account_manager_ids);
            }
            "contact" => {
                let c = customer.contact.clone().unwrap_or_default();
                let name = v.take("customer.contact.name", validate::text(&c.name, 0, 64));
                let email = if c.email.is_empty() {
                    Some(String::new())
                } else {
                    v.take("customer.contact.email", validate::email(&c.email))
                };
                let phone = v.take("customer.contact.phone", rules::phone(&c.phone));
                patch.contact = (|| {
                    Some(Contact {
                        name: name?,
                        email: email?,
                        phone: phone?,
                    })
                })();
            }
            _ => validate::not_updatable(&mut v, path),
        }
    }
    let parsed = (|| Some((request_id?, id?, patch, reseller?)))();
    v.finish_with(parsed)
}

/// Account manager ids: at most 10 distinct `usr_…` ids, sorted.
fn managers(v: &mut Violations, raw: &[String]) -> Option<Vec<UserId>> {
    if raw.len() > MAX_ACCOUNT_MANAGERS {
        v.add(
            "customer.account_manager_ids",
            format!("at most {MAX_ACCOUNT_MANAGERS}"),
        );
        return None;
    }
    let mut ids = Vec::with_capacity(raw.len());
    for (i, id) in raw.iter().enumerate() {
        ids.push(v.take(
            &format!("customer.account_manager_ids[{i}]"),
            UserId::parse(id),
        )?);
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}
