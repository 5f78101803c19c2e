//! Making, setting, ending and reading discounts.

use chrono::{DateTime, Utc};
use partner_api::pricing::v1 as pb;
use partner_kernel::db::lock_key;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{CustomerId, DiscountId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use rust_decimal::Decimal;

use super::entity::discount;
use super::model::{self, Discount, Kind, Scope, Terms};
use super::store::{self, ListFilter};
use super::{Window, check_scope};
use crate::access::{
    DISCOUNTS_MANAGE, DISCOUNTS_READ, PLATFORM_DISCOUNTS_MANAGE, PLATFORM_DISCOUNTS_READ,
};
use crate::error::PricingError;
use crate::service::Pricing;

/// The name of a partner-set discount when none is given.
pub const PARTNER_SET_NAME: &str = "Partner discount";

/// A discount the operator makes.
#[derive(Debug)]
pub struct NewDiscount {
    /// Not `PartnerSet` (the grpc layer refuses it).
    pub kind: Kind,
    pub name: String,
    pub customer: Option<CustomerId>,
    pub partner: Option<PartnerId>,
    pub scope: Scope,
    pub terms: Terms,
    pub window: Window,
}

/// A rate a partner sets for one of its customers.
#[derive(Debug)]
pub struct CustomerRate {
    pub customer: CustomerId,
    pub scope: Scope,
    pub rate_off: Decimal,
    pub window: Window,
    pub name: Option<String>,
}

fn summary(row: &discount::Model) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or_default()
}

fn response_discount(row: &discount::Model) -> Result<pb::Discount, PricingError> {
    Ok(Discount::from_row(row)?.to_proto())
}

/// Columns of a row carrying `terms`.
fn terms_columns(terms: Terms) -> (Option<String>, Option<i64>, Option<String>) {
    match terms {
        Terms::RateOff(r) => (Some(r.to_string()), None, None),
        Terms::Reduction(m) => (None, Some(m.minor()), Some(m.currency().code().to_owned())),
    }
}

impl Pricing {
    /// The operator makes a contract or a promotion.
    pub async fn create_discount(
        &self,
        m: Mutation,
        cmd: NewDiscount,
    ) -> Result<pb::CreateDiscountResponse, PricingError> {
        m.principal.require(PLATFORM_DISCOUNTS_MANAGE)?;
        let catalog = self.in_force()?;
        check_scope(&catalog, &cmd.scope)?;
        if let Terms::Reduction(amount) = cmd.terms
            && amount.currency() != catalog.currency
        {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "reduction",
                format!("in the catalog's currency, {}", catalog.currency.code()),
            )])
            .into());
        }
        // Whose tenant the audit record belongs to: the customer's partner
        // or the distributor.
        let audit_partner = match (cmd.customer, cmd.partner) {
            (Some(c), _) => self.partner_of(c).await?,
            (None, Some(p)) => {
                self.check_partner(p).await?;
                Some(p)
            }
            (None, None) => None,
        };
        let (from, until) = cmd.window.resolve(m.now)?;
        let (rate_off, reduction_minor, currency) = terms_columns(cmd.terms);
        let row = discount::Model {
            id: DiscountId::generate().to_string(),
            version: 1,
            kind: cmd.kind.as_str().to_owned(),
            name: cmd.name,
            partner_id: cmd.partner.map(|p| p.to_string()),
            customer_id: cmd.customer.map(|c| c.to_string()),
            slot: None,
            service_type: cmd.scope.service_type,
            resource_type: cmd.scope.resource_type,
            rate_off,
            reduction_minor,
            currency,
            valid_from: from,
            valid_until: until,
            updated_by: m.principal.actor_id(),
            created_at: m.now,
            updated_at: m.now,
        };
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                store::insert(tx, &row).await?;
                let change = Change::of(audit_partner, &row.id).after(summary(&row));
                let response = pb::CreateDiscountResponse {
                    discount: Some(response_discount(&row)?),
                };
                Ok::<_, PricingError>(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_offers_after(&answer);
        answer
    }

    /// A partner sets (or changes) the rate of one of its customers on a
    /// scope, within the allowance of its incentive policies in force now.
    pub async fn set_customer_discount(
        &self,
        m: Mutation,
        cmd: CustomerRate,
    ) -> Result<pb::SetCustomerDiscountResponse, PricingError> {
        let partner = m.principal.require_partner(DISCOUNTS_MANAGE)?;
        // A replay answers as the first call did, whatever changed since.
        if let Some(stored) = write::replayed(self.db(), &m).await? {
            return Ok(stored);
        }
        if self.partner_of(cmd.customer).await? != Some(partner) {
            return Err(PricingError::CustomerNotFound);
        }
        check_scope(&*self.in_force()?, &cmd.scope)?;
        let (from, until) = cmd.window.resolve(m.now)?;
        let now = m.now;
        let actor = m.principal.actor_id();
        let slot = format!("{partner}/{}/{}", cmd.customer, cmd.scope.key());
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let policies = store::policies_of(tx, partner)
                    .await?
                    .iter()
                    .map(model::Policy::from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                let allowance = model::allowance(&policies, &cmd.scope, now);
                if allowance.is_none_or(|a| cmd.rate_off > a) {
                    return Err(PricingError::AboveAllowance { allowance });
                }
                lock_key(tx, &format!("pricing_discounts:{slot}")).await?;
                let before = store::in_slot(tx, &slot).await?;
                let (version, id, created_at) = match &before {
                    Some(b) => (b.version + 1, b.id.clone(), b.created_at),
                    None => (1, DiscountId::generate().to_string(), now),
                };
                let row = discount::Model {
                    id,
                    version,
                    kind: Kind::PartnerSet.as_str().to_owned(),
                    name: cmd.name.unwrap_or_else(|| PARTNER_SET_NAME.to_owned()),
                    partner_id: Some(partner.to_string()),
                    customer_id: Some(cmd.customer.to_string()),
                    slot: Some(slot),
                    service_type: cmd.scope.service_type,
                    resource_type: cmd.scope.resource_type,
                    rate_off: Some(cmd.rate_off.to_string()),
                    reduction_minor: None,
                    currency: None,
                    valid_from: from,
                    valid_until: until,
                    updated_by: actor,
                    created_at,
                    updated_at: now,
                };
                let mut change = Change::of(Some(partner), &row.id).after(summary(&row));
                match &before {
                    Some(b) => {
                        change = change.before(summary(b));
                        store::replace(tx, &row).await?;
                    }
                    None => store::insert(tx, &row).await?,
                }
                let response = pb::SetCustomerDiscountResponse {
                    discount: Some(response_discount(&row)?),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_offers_after(&answer);
        answer
    }

    /// Ends a discount now: the operator any, a partner those it set.
    pub async fn end_discount(
        &self,
        m: Mutation,
        id: DiscountId,
    ) -> Result<pb::EndDiscountResponse, PricingError> {
        let operator = m.principal.holds(&PLATFORM_DISCOUNTS_MANAGE);
        let partner = if operator {
            None
        } else {
            Some(m.principal.require_partner(DISCOUNTS_MANAGE)?)
        };
        let now = m.now;
        let actor = m.principal.actor_id();
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = store::by_id(tx, &id.to_string(), true)
                    .await?
                    .ok_or(PricingError::DiscountNotFound)?;
                let current = Discount::from_row(&before)?;
                if let Some(partner) = partner
                    && (current.kind != Kind::PartnerSet || current.partner_id != Some(partner))
                {
                    return Err(PricingError::DiscountNotFound);
                }
                // Ended: its window closed, or closed before it opened.
                if current
                    .valid_until
                    .is_some_and(|u| u <= now || u <= current.valid_from)
                {
                    return Err(PricingError::DiscountEnded);
                }
                let mut row = before.clone();
                row.version += 1;
                row.valid_until = Some(now.max(before.valid_from));
                // An ended partner-set discount leaves its slot, so the
                // partner can set a new one for the same scope.
                row.slot = None;
                row.updated_by = actor;
                row.updated_at = now;
                store::replace(tx, &row).await?;
                let audit_partner = match current.kind {
                    Kind::PartnerSet | Kind::DistributorContract => current.partner_id,
                    Kind::VendorContract | Kind::Promotion => partner,
                };
                let change = Change::of(audit_partner, &row.id)
                    .before(summary(&before))
                    .after(summary(&row));
                let response = pb::EndDiscountResponse {
                    discount: Some(response_discount(&row)?),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_offers_after(&answer);
        answer
    }

    /// Whether the caller may see `d`: the operator any; a partner those it
    /// set or is the distributor of, and every discount of its customers.
    async fn visible(&self, p: &Principal, d: &Discount) -> Result<bool, PricingError> {
        if p.holds(&PLATFORM_DISCOUNTS_READ) {
            return Ok(true);
        }
        let partner = p.require_partner(DISCOUNTS_READ)?;
        if d.partner_id == Some(partner) {
            return Ok(true);
        }
        // Another partner's rate stays its own, even for a customer that
        // has since moved to the caller.
        if d.kind == Kind::PartnerSet {
            return Ok(false);
        }
        Ok(match d.customer_id {
            Some(c) => self.partner_of(c).await.ok().flatten() == Some(partner),
            None => false,
        })
    }

    async fn visible_row(&self, p: &Principal, id: DiscountId) -> Result<Discount, PricingError> {
        let row = store::by_id(self.db().conn(), &id.to_string(), false)
            .await?
            .ok_or(PricingError::DiscountNotFound)?;
        let d = Discount::from_row(&row)?;
        if self.visible(p, &d).await? {
            Ok(d)
        } else {
            Err(PricingError::DiscountNotFound)
        }
    }

    /// One discount, as its latest version.
    pub async fn get_discount(
        &self,
        p: &Principal,
        id: DiscountId,
    ) -> Result<pb::Discount, PricingError> {
        Ok(self.visible_row(p, id).await?.to_proto())
    }

    /// Every version of a discount, oldest first.
    pub async fn discount_versions(
        &self,
        p: &Principal,
        id: DiscountId,
    ) -> Result<Vec<pb::Discount>, PricingError> {
        self.visible_row(p, id).await?;
        store::versions(self.db().conn(), &id.to_string())
            .await?
            .iter()
            .map(|v| {
                let row: discount::Model = serde_json::from_str(&v.state)
                    .map_err(|e| KernelError::Corrupt(format!("stored discount version: {e}")))?;
                Ok(Discount::from_row(&row)?.to_proto())
            })
            .collect()
    }

    /// A page of discounts, newest first (see the proto for who sees what).
    pub async fn list_discounts(
        &self,
        p: &Principal,
        mut filter: ListFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Discount>, PricingError> {
        let tenant = if p.holds(&PLATFORM_DISCOUNTS_READ) {
            "platform".to_owned()
        } else {
            let partner = p.require_partner(DISCOUNTS_READ)?;
            match &filter.customer {
                Some(c) => {
                    let c = CustomerId::parse(c).map_err(|_| PricingError::CustomerNotFound)?;
                    if self.partner_of(c).await? != Some(partner) {
                        return Err(PricingError::CustomerNotFound);
                    }
                    filter.partner = None;
                    filter.partner_sets_of = Some(partner.to_string());
                }
                None => filter.partner = Some(partner.to_string()),
            }
            partner.to_string()
        };
        let scope = PageScope::new("ListDiscounts", &tenant)
            .filter("customer", filter.customer.as_deref().unwrap_or(""))
            .filter("partner", filter.partner.as_deref().unwrap_or(""))
            .filter("kind", filter.kind.map_or("", Kind::as_str));
        let now: DateTime<Utc> = self.clock().now();
        let after = self.pages().decode(&scope, token, now)?;
        let rows = store::list(self.db().conn(), &filter, after.as_deref(), size + 1).await?;
        let page = self.pages().cut(rows, size, &scope, now, |r| r.id.clone());
        Ok(page.try_map(|row| Ok(Discount::from_row(&row)?.to_proto()))?)
    }
}
