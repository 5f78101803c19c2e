//! Real-name verification: a partner submits a customer's person or company
//! details, the operator approves or rejects them. The customer's status
//! follows (`NONE → REVIEWING → VERIFIED | REJECTED`, a rejected one may
//! submit again); a verified individual may ask to become an enterprise and
//! stays a verified individual until that is approved.

pub mod model;
pub mod store;

pub use model::{Details, DocumentType, Verification, VerificationKind, VerificationState};

use partner_accounts::tenant::resolve_in;
use partner_api::customers::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};

use crate::access as perm;
use crate::customers::store as customer_store;
use crate::customers::{Customer, CustomerType, RealNameStatus};
use crate::error::CustomersError;
use crate::service::Customers;

/// How a submission relates to the customer's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// A first (or, after a rejection, another) verification.
    New,
    /// A verified individual becoming an enterprise.
    ChangeToEnterprise,
}

/// Parses a `vrf_…` id: the prefix and 32 lower-case hex digits.
pub fn parse_id(raw: &str) -> Result<String, &'static str> {
    let ok = raw.strip_prefix("vrf_").is_some_and(|b| {
        b.len() == 32
            && b.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("expected an id starting with `vrf_`")
    }
}

/// Whether `customer` may submit `details` as `submission`.
fn admissible(
    customer: &Customer,
    details: &Details,
    submission: Submission,
) -> Result<(), CustomersError> {
    let allowed = match submission {
        Submission::New => matches!(
            customer.real_name_status,
            RealNameStatus::None | RealNameStatus::Rejected
        ),
        Submission::ChangeToEnterprise => {
            customer.real_name_status == RealNameStatus::Verified
                && customer.customer_type == CustomerType::Individual
                && details.kind() == VerificationKind::Enterprise
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(CustomersError::CustomerStateConflict {
            state: customer.real_name_status.as_str(),
        })
    }
}

impl Customers {
    /// Submits `details` of a customer of the tenant for review; `respond`
    /// builds the verb's answer (which a replay returns) from the submission.
    pub async fn submit_verification<R>(
        &self,
        mut m: Mutation,
        id: CustomerId,
        details: Details,
        submission: Submission,
        reseller: Option<PartnerId>,
        respond: fn(pb::VerificationReview) -> R,
    ) -> Result<R, CustomersError>
    where
        R: prost::Message + Default + Send + 'static,
    {
        // A customer submits its own, through its current partner; a partner
        // for one of its (or its reseller's) customers.
        let own = match m.principal.customer_id() {
            Some(customer) => {
                m.principal.require(perm::SELF_VERIFICATION_SUBMIT)?;
                if customer != id || reseller.is_some() {
                    return Err(CustomersError::CustomerNotFound);
                }
                None
            }
            None => {
                let tenant = self
                    .tenant(&m.principal, perm::CUSTOMERS_VERIFY, reseller)
                    .await?;
                m.acting_for = tenant.acting_for();
                Some(m.principal.require_partner(perm::CUSTOMERS_VERIFY)?)
            }
        };
        let (now, actor) = (m.now, m.principal.actor_id());
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = match own {
                    Some(own) => resolve_in(tx, own, reseller).await?.partner_id,
                    None => customer_store::platform_customer(tx, id)
                        .await?
                        .and_then(|c| c.partner_id)
                        .ok_or(CustomersError::CustomerStateConflict {
                            state: "UNASSOCIATED",
                        })?,
                };
                let before = customer_store::customer_of_for_update(tx, partner, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                admissible(&before, &details, submission)?;
                if let Some(pending) = store::latest_of(tx, partner, id).await?
                    && pending.state == VerificationState::Reviewing
                {
                    return Err(CustomersError::CustomerStateConflict {
                        state: RealNameStatus::Reviewing.as_str(),
                    });
                }
                let verification = Verification {
                    id: format!("vrf_{}", uuid::Uuid::now_v7().simple()),
                    partner_id: partner,
                    customer_id: id,
                    details,
                    state: VerificationState::Reviewing,
                    reject_reason: None,
                    change_to_enterprise: submission == Submission::ChangeToEnterprise,
                    submitted_at: now,
                    reviewed_at: None,
                };
                store::insert(tx, &verification, actor).await?;
                let mut outcome = Outcome::new(
                    respond(verification.to_proto(false)),
                    Change::of(Some(partner), &verification.id)
                        .after(verification.audit_summary())
                        .announce("customer.verification_submitted"),
                );
                if submission == Submission::New {
                    let after = customer_store::set_real_name(
                        tx,
                        partner,
                        id,
                        RealNameStatus::Reviewing,
                        before.customer_type,
                        now,
                    )
                    .await?;
                    outcome = outcome.and(
                        Change::of(Some(partner), id)
                            .before(before.audit_summary())
                            .after(after.audit_summary()),
                    );
                }
                Ok(outcome)
            })
        })
        .await
    }

    /// The latest submission for a customer: a partner's own customer (its
    /// document numbers masked), or any for the operator (in full).
    pub async fn get_verification(
        &self,
        p: &Principal,
        id: CustomerId,
        reseller: Option<PartnerId>,
    ) -> Result<pb::VerificationReview, CustomersError> {
        let conn = self.db().conn();
        if p.is_operator() {
            p.require(perm::PLATFORM_CUSTOMERS_READ)?;
            let found = store::platform_latest_of(conn, id).await?;
            return found
                .map(|v| v.to_proto(true))
                .ok_or(CustomersError::VerificationNotFound);
        }
        if let Some(own) = self.own_account(p, id, reseller).await? {
            // Submissions are made through its current partner.
            let partner = own.partner_id.ok_or(CustomersError::VerificationNotFound)?;
            return store::latest_of(conn, partner, id)
                .await?
                .map(|v| v.to_proto(false))
                .ok_or(CustomersError::VerificationNotFound);
        }
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        // The customer first: never read through a partner it has left.
        customer_store::customer_of(conn, tenant.partner_id, id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)?;
        store::latest_of(conn, tenant.partner_id, id)
            .await?
            .map(|v| v.to_proto(false))
            .ok_or(CustomersError::VerificationNotFound)
    }

    /// Operator: approves or rejects a submission under review.
    pub async fn review_verification(
        &self,
        m: Mutation,
        id: String,
        approve: bool,
        reason: String,
    ) -> Result<pb::ReviewVerificationResponse, CustomersError> {
        m.principal.require(perm::PLATFORM_CUSTOMERS_REVIEW)?;
        let (now, reviewer) = (m.now, m.principal.user()?);
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = store::platform_by_id_for_update(tx, &id)
                    .await?
                    .ok_or(CustomersError::VerificationNotFound)?;
                if before.state != VerificationState::Reviewing {
                    return Err(CustomersError::VerificationStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let partner = before.partner_id;
                let customer =
                    customer_store::customer_of_for_update(tx, partner, before.customer_id)
                        .await?
                        .ok_or(CustomersError::CustomerNotFound)?;
                let (state, kept_reason) = if approve {
                    (VerificationState::Approved, None)
                } else {
                    (VerificationState::Rejected, Some(reason.clone()))
                };
                store::set_review(tx, partner, &id, state, kept_reason.clone(), reviewer, now)
                    .await?;
                let after = Verification {
                    state,
                    reject_reason: kept_reason,
                    reviewed_at: Some(now),
                    ..before.clone()
                };
                // The customer follows; a rejected change to enterprise
                // leaves the verified individual as it was.
                let status = match (approve, after.change_to_enterprise) {
                    (true, _) => Some((
                        RealNameStatus::Verified,
                        match after.details.kind() {
                            VerificationKind::Individual => CustomerType::Individual,
                            VerificationKind::Enterprise => CustomerType::Enterprise,
                        },
                        "customer.verified",
                    )),
                    (false, false) => Some((
                        RealNameStatus::Rejected,
                        customer.customer_type,
                        "customer.verification_rejected",
                    )),
                    (false, true) => None,
                };
                let mut outcome = Outcome::new(
                    pb::ReviewVerificationResponse {
                        review: Some(after.to_proto(true)),
                    },
                    Change::of(Some(partner), &id)
                        .reason(reason)
                        .before(before.audit_summary())
                        .after(after.audit_summary()),
                );
                if let Some((status, customer_type, event)) = status {
                    let changed = customer_store::set_real_name(
                        tx,
                        partner,
                        customer.id,
                        status,
                        customer_type,
                        now,
                    )
                    .await?;
                    outcome = outcome.and(
                        Change::of(Some(partner), customer.id)
                            .before(customer.audit_summary())
                            .after(changed.audit_summary())
                            .announce(event),
                    );
                }
                Ok(outcome)
            })
        })
        .await
    }
}
