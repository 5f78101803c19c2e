//! Incentive policies: the operator says how much discount rate a partner
//! may give its customers on a product scope; partners read their own.

use chrono::{DateTime, Utc};
use partner_api::pricing::v1 as pb;
use partner_kernel::ids::{IncentivePolicyId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use rust_decimal::Decimal;

use super::entity::policy;
use super::model::{Policy, Scope};
use super::{Window, check_scope, store};
use crate::access::{DISCOUNTS_READ, PLATFORM_DISCOUNTS_MANAGE, PLATFORM_DISCOUNTS_READ};
use crate::error::PricingError;
use crate::service::Pricing;

/// A policy the operator makes.
#[derive(Debug)]
pub struct NewPolicy {
    pub partner: PartnerId,
    pub scope: Scope,
    pub max_rate_off: Decimal,
    pub window: Window,
}

fn summary(p: &Policy) -> serde_json::Value {
    serde_json::json!({
        "partner_id": p.partner_id,
        "service_type": p.scope.service_type,
        "resource_type": p.scope.resource_type,
        "max_rate_off": p.max_rate_off.to_string(),
        "valid_from": p.valid_from,
        "valid_until": p.valid_until,
    })
}

impl Pricing {
    /// The operator makes an incentive policy for a partner.
    pub async fn create_policy(
        &self,
        m: Mutation,
        cmd: NewPolicy,
    ) -> Result<pb::CreateIncentivePolicyResponse, PricingError> {
        m.principal.require(PLATFORM_DISCOUNTS_MANAGE)?;
        check_scope(&*self.in_force()?, &cmd.scope)?;
        self.check_partner(cmd.partner).await?;
        let (from, until) = cmd.window.resolve(m.now)?;
        let row = policy::Model {
            id: IncentivePolicyId::generate().to_string(),
            partner_id: cmd.partner.to_string(),
            service_type: cmd.scope.service_type,
            resource_type: cmd.scope.resource_type,
            max_rate_off: cmd.max_rate_off.to_string(),
            valid_from: from,
            valid_until: until,
            created_at: m.now,
            updated_at: m.now,
        };
        let partner = cmd.partner;
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let policy = Policy::from_row(&row)?;
                store::insert_policy(tx, row).await?;
                let change = Change::of(Some(partner), &policy.id).after(summary(&policy));
                let response = pb::CreateIncentivePolicyResponse {
                    policy: Some(policy.to_proto()),
                };
                Ok::<_, PricingError>(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_offers_after(&answer);
        answer
    }

    /// The operator ends a policy now.
    pub async fn end_policy(
        &self,
        m: Mutation,
        id: IncentivePolicyId,
    ) -> Result<pb::EndIncentivePolicyResponse, PricingError> {
        m.principal.require(PLATFORM_DISCOUNTS_MANAGE)?;
        let now = m.now;
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let row = store::policy_by_id(tx, &id.to_string(), true)
                    .await?
                    .ok_or(PricingError::PolicyNotFound)?;
                let before = Policy::from_row(&row)?;
                if before.valid_until.is_some_and(|u| u <= now) {
                    return Err(PricingError::PolicyEnded);
                }
                let end = now.max(before.valid_from);
                store::end_policy(tx, &row.id, end).await?;
                let after = Policy {
                    valid_until: Some(end),
                    ..before.clone()
                };
                let partner = PartnerId::parse(&row.partner_id).ok();
                let change = Change::of(partner, &row.id)
                    .before(summary(&before))
                    .after(summary(&after));
                let response = pb::EndIncentivePolicyResponse {
                    policy: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_offers_after(&answer);
        answer
    }

    /// A partner's policies: its own for a partner, the one named for the
    /// operator; optionally covering a service type, in force at a time.
    pub async fn list_policies(
        &self,
        p: &Principal,
        partner: Option<PartnerId>,
        service_type: Option<String>,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<pb::IncentivePolicy>, PricingError> {
        let partner = if p.holds(&PLATFORM_DISCOUNTS_READ) {
            partner.ok_or_else(|| {
                partner_kernel::error::KernelError::Invalid(vec![
                    partner_kernel::error::FieldViolation::new("partner_id", "required"),
                ])
            })?
        } else {
            let own = p.require_partner(DISCOUNTS_READ)?;
            if partner.is_some_and(|named| named != own) {
                return Err(PricingError::PartnerNotFound);
            }
            own
        };
        let mut out = Vec::new();
        for row in store::policies_of(self.db().conn(), partner).await? {
            let policy = Policy::from_row(&row)?;
            let covers = service_type.as_deref().is_none_or(|s| {
                policy
                    .scope
                    .service_type
                    .as_deref()
                    .is_none_or(|own| own == s)
            });
            if covers && at.is_none_or(|at| policy.in_force(at)) {
                out.push(policy.to_proto());
            }
        }
        Ok(out)
    }
}
