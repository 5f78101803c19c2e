//! The real-name verification RPCs of `CustomerService`: parsing and
//! translation; the trait impl in `customer.rs` delegates here.

use partner_api::customers::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Call;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::CustomersApi;
use super::parse::{one_customer, reseller};
use crate::verification::{self, Details, DocumentType, Submission};

/// Letters, digits and `-`, 4–32: document and registration numbers.
fn number(raw: &str) -> Result<String, &'static str> {
    let ok = (4..=32).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("must be 4-32 of letters, digits and `-`")
    }
}

fn individual(v: &mut Violations, d: Option<pb::IndividualDetails>) -> Option<Details> {
    let Some(d) = d else {
        v.add("individual", "required");
        return None;
    };
    let full_name = v.take("individual.full_name", validate::text(&d.full_name, 1, 64));
    let document_type = DocumentType::from_wire(d.document_type);
    if document_type.is_none() {
        v.add("individual.document_type", "ID_CARD, PASSPORT or BANK_CARD");
    }
    let document_number = v.take("individual.document_number", number(&d.document_number));
    Some(Details::Individual {
        full_name: full_name?,
        document_type: document_type?,
        document_number: document_number?,
    })
}

fn enterprise(v: &mut Violations, d: Option<pb::EnterpriseDetails>) -> Option<Details> {
    let Some(d) = d else {
        v.add("enterprise", "required");
        return None;
    };
    let company_name = v.take(
        "enterprise.company_name",
        validate::text(&d.company_name, 1, 128),
    );
    let registration_number = v.take(
        "enterprise.registration_number",
        number(&d.registration_number),
    );
    let licence_file_ref = v.take(
        "enterprise.licence_file_ref",
        validate::text(&d.licence_file_ref, 1, 256),
    );
    Some(Details::Enterprise {
        company_name: company_name?,
        registration_number: registration_number?,
        licence_file_ref: licence_file_ref?,
    })
}

type Submit = (Uuid, CustomerId, Details, Option<PartnerId>);

fn submit(
    request_id: &str,
    customer_id: &str,
    reseller_id: &str,
    details: impl FnOnce(&mut Violations) -> Option<Details>,
) -> Result<Submit, KernelError> {
    let mut v = Violations::new();
    let request_id = v.take("request_id", validate::request_id(request_id));
    let id = v.take("customer_id", CustomerId::parse(customer_id));
    let details = details(&mut v);
    let reseller = v.take("reseller_id", reseller(reseller_id));
    let parsed = (|| Some((request_id?, id?, details?, reseller?)))();
    v.finish_with(parsed)
}

impl CustomersApi {
    /// Submits parsed details as `submission`; `respond` wraps the review in
    /// the verb's answer.
    async fn submitted<R>(
        &self,
        call: Call,
        (request_id, id, details, reseller): Submit,
        submission: Submission,
        respond: fn(pb::VerificationReview) -> R,
    ) -> Result<Response<R>, Status>
    where
        R: prost::Message + Default + Send + 'static,
    {
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .submit_verification(m, id, details, submission, reseller, respond)
                .await?,
        ))
    }

    pub(super) async fn submit_individual(
        &self,
        req: Request<pb::SubmitIndividualVerificationRequest>,
    ) -> Result<Response<pb::SubmitIndividualVerificationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let parsed = submit(&r.request_id, &r.customer_id, &r.reseller_id, |v| {
            individual(v, r.individual)
        })?;
        self.submitted(call, parsed, Submission::New, |review| {
            pb::SubmitIndividualVerificationResponse {
                review: Some(review),
            }
        })
        .await
    }

    pub(super) async fn submit_enterprise(
        &self,
        req: Request<pb::SubmitEnterpriseVerificationRequest>,
    ) -> Result<Response<pb::SubmitEnterpriseVerificationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let parsed = submit(&r.request_id, &r.customer_id, &r.reseller_id, |v| {
            enterprise(v, r.enterprise)
        })?;
        self.submitted(call, parsed, Submission::New, |review| {
            pb::SubmitEnterpriseVerificationResponse {
                review: Some(review),
            }
        })
        .await
    }

    pub(super) async fn change_to_enterprise(
        &self,
        req: Request<pb::ChangeToEnterpriseVerificationRequest>,
    ) -> Result<Response<pb::ChangeToEnterpriseVerificationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let parsed = submit(&r.request_id, &r.customer_id, &r.reseller_id, |v| {
            enterprise(v, r.enterprise)
        })?;
        self.submitted(call, parsed, Submission::ChangeToEnterprise, |review| {
            pb::ChangeToEnterpriseVerificationResponse {
                review: Some(review),
            }
        })
        .await
    }

    pub(super) async fn verification_review(
        &self,
        req: Request<pb::GetVerificationReviewRequest>,
    ) -> Result<Response<pb::GetVerificationReviewResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = one_customer(&r.customer_id, &r.reseller_id)?;
        let review = self
            .customers
            .get_verification(&principal, id, reseller)
            .await?;
        Ok(Response::new(pb::GetVerificationReviewResponse {
            review: Some(review),
        }))
    }

    pub(super) async fn review(
        &self,
        req: Request<pb::ReviewVerificationRequest>,
    ) -> Result<Response<pb::ReviewVerificationResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let min_reason = if r.approve { 0 } else { 1 };
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take(
            "verification_id",
            verification::parse_id(&r.verification_id),
        );
        let reason = v.take("reason", validate::text(&r.reason, min_reason, 512));
        let parsed = (|| Some((request_id?, id?, reason?)))();
        let (request_id, id, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .review_verification(m, id, r.approve, reason)
                .await?,
        ))
    }
}
