//! Whose balances a read may show: a customer its own; a partner's user its
//! partner's, a reseller's (for its distributor) and its customers'; the
//! operator anyone's.

use partner_customers::customers::store as customer_store;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::principal::Principal;

use crate::access::{FUNDS_READ, PLATFORM_FUNDS_READ, SELF_FUNDS_READ};
use crate::error::BillingError;
use crate::ledger::Owner;
use crate::service::Billing;

/// The owner a read names (at most one of partner and customer, checked
/// by the handler), and the reseller a distributor acts for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Named {
    pub partner: Option<PartnerId>,
    pub customer: Option<CustomerId>,
    pub reseller: Option<PartnerId>,
}

/// Whose accounts a read shows, and through which partner.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Readable {
    pub owner: Owner,
    /// A partner reading its customer: only that partner's own movements
    /// of the customer's money are its to see (not those of a partner the
    /// customer had before).
    pub through: Option<PartnerId>,
    /// Since when the customer is that partner's: what came before is not
    /// that partner's to see.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

impl Readable {
    fn all(owner: Owner) -> Self {
        Self {
            owner,
            through: None,
            since: None,
        }
    }
}

impl Billing {
    /// The owner whose accounts `p` reads; anything it may not see is
    /// `NOT_FOUND`, as if it did not exist.
    pub(crate) async fn readable_owner(
        &self,
        p: &Principal,
        named: Named,
    ) -> Result<Readable, BillingError> {
        if let Some(own) = p.customer_id() {
            p.require(SELF_FUNDS_READ)?;
            let only_itself = named.partner.is_none()
                && named.reseller.is_none()
                && named.customer.is_none_or(|c| c == own);
            return if only_itself {
                Ok(Readable::all(Owner::Customer(own)))
            } else {
                Err(BillingError::CustomerNotFound)
            };
        }
        if p.holds(&PLATFORM_FUNDS_READ) && p.partner_id().is_none() {
            return match named {
                Named {
                    customer: Some(c), ..
                } => {
                    self.customers()
                        .principal_status(c)
                        .await?
                        .ok_or(BillingError::CustomerNotFound)?;
                    Ok(Readable::all(Owner::Customer(c)))
                }
                Named {
                    partner: Some(partner),
                    ..
                } => {
                    self.accounts().partner_record(partner).await?;
                    Ok(Readable::all(Owner::Partner(partner)))
                }
                Named { .. } => Err(BillingError::OwnerRequired),
            };
        }
        let own = p.require_partner(FUNDS_READ)?;
        // A partner named other than the caller's own is a reseller it acts for.
        let reseller = match (named.partner.filter(|x| *x != own), named.reseller) {
            (Some(x), Some(r)) if x != r => return Err(BillingError::PartnerNotFound),
            (x, r) => x.or(r),
        };
        let tenant = self
            .accounts()
            .resolve_tenant(p, FUNDS_READ, reseller)
            .await?;
        match named.customer {
            Some(c) => {
                let found = customer_store::customer_of(self.db().conn(), tenant.partner_id, c)
                    .await?
                    .ok_or(BillingError::CustomerNotFound)?;
                Ok(Readable {
                    owner: Owner::Customer(c),
                    through: Some(tenant.partner_id),
                    since: found.associated_at,
                })
            }
            None => Ok(Readable::all(Owner::Partner(tenant.partner_id))),
        }
    }
}
