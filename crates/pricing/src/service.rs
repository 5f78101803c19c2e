//! The pricing domain service: the catalog in force, rating against it,
//! and the discounts rating offers.

use std::sync::Arc;

use partner_accounts::{Accounts, AccountsError};
use partner_customers::Customers;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::Currency;
use partner_kernel::page::PageTokens;
use partner_kernel::principal::Principal;

use crate::access::{CATALOG_READ, PLATFORM_CATALOG_READ, PRICING_READ, SELF_PRICING_READ};
use crate::catalog::{Catalogs, Version};
use crate::discounts::model::{Discount, Kind, Policy, Terms, allowance};
use crate::discounts::store;
use crate::error::PricingError;
use crate::rating::on_demand::{self, RatedUsage, UsageLine};
use crate::rating::{self, Line, Purpose, Rated};

#[derive(Debug, Clone)]
pub struct Pricing {
    db: Db,
    clock: SharedClock,
    catalogs: Catalogs,
    pages: PageTokens,
    customers: Customers,
    accounts: Accounts,
    /// Where offer links point (`{base}/offers/{token}`): the console page
    /// that shows the offer.
    offer_link_base: Arc<str>,
}

/// Who is buying, as discounts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyer {
    pub customer: CustomerId,
    /// The partner the customer is associated with.
    pub partner: Option<PartnerId>,
    /// That partner's distributor, when it is a reseller.
    pub distributor: Option<PartnerId>,
}

/// A period rating: the catalog version used, its currency, the lines, and
/// the discounts in force for the buyer.
#[derive(Debug)]
pub struct PeriodRating {
    pub catalog_version: i64,
    pub currency: Currency,
    pub lines: Vec<Rated>,
    pub discounts: Vec<Discount>,
}

impl Pricing {
    /// The service over `db`, its catalog loaded (the demo stored first on
    /// an empty database). `customers` and `accounts` say whose customers
    /// are whose.
    pub async fn load(
        db: Db,
        clock: SharedClock,
        pages: PageTokens,
        customers: Customers,
        accounts: Accounts,
    ) -> Result<Self, KernelError> {
        let catalogs = Catalogs::default();
        catalogs.load(&db, clock.now()).await?;
        Ok(Self {
            db,
            clock,
            catalogs,
            pages,
            customers,
            accounts,
            offer_link_base: Arc::from(partner_customers::service::DEFAULT_INVITE_LINK_BASE),
        })
    }

    /// Offer links point under `base` (`{base}/offers/{token}`).
    pub fn with_offer_link_base(mut self, base: &str) -> Self {
        self.offer_link_base = Arc::from(base.trim_end_matches('/'));
        self
    }

    pub(crate) fn offer_link_base(&self) -> &str {
        &self.offer_link_base
    }

    /// A partner as pricing needs it (its programs, its name, its state).
    pub(crate) async fn partner_record(
        &self,
        partner: PartnerId,
    ) -> Result<partner_accounts::partners::model::Partner, PricingError> {
        match self.accounts.partner_record(partner).await {
            Ok(p) => Ok(p),
            Err(AccountsError::PartnerNotFound) => Err(PricingError::PartnerNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Rereads the catalog versions (another replica may have imported one).
    pub async fn reload(&self) -> Result<(), KernelError> {
        self.catalogs.load(&self.db, self.clock.now()).await
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub(crate) fn pages(&self) -> &PageTokens {
        &self.pages
    }

    pub(crate) fn in_force(&self) -> Result<Arc<Version>, PricingError> {
        self.catalogs
            .in_force(self.clock.now())
            .ok_or(PricingError::NoCatalog)
    }

    /// The catalog in force, for the caller to read.
    pub fn catalog(&self, p: &Principal) -> Result<Arc<Version>, PricingError> {
        if !p.holds(&PLATFORM_CATALOG_READ) {
            p.require(CATALOG_READ)?;
        }
        self.in_force()
    }

    /// The partner a customer is associated with (`Ok(None)` when it has
    /// none); `CUSTOMER_NOT_FOUND` when there is no such customer.
    pub(crate) async fn partner_of(
        &self,
        customer: CustomerId,
    ) -> Result<Option<PartnerId>, PricingError> {
        self.customers
            .principal_status(customer)
            .await?
            .map(|s| s.partner_id)
            .ok_or(PricingError::CustomerNotFound)
    }

    /// Refuses a partner that does not exist.
    pub(crate) async fn check_partner(&self, partner: PartnerId) -> Result<(), PricingError> {
        self.partner_record(partner).await.map(|_| ())
    }

    /// The buyer a caller rates for: a customer itself (naming no one else),
    /// or one of a partner's customers. `None`: no customer named.
    async fn buyer(
        &self,
        p: &Principal,
        customer: Option<CustomerId>,
    ) -> Result<Option<Buyer>, PricingError> {
        let customer = match (p.customer_id(), customer) {
            (Some(own), None) => own,
            (Some(own), Some(named)) if own == named => own,
            (Some(_), Some(_)) => return Err(PricingError::CustomerNotFound),
            (None, None) => return Ok(None),
            (None, Some(named)) => named,
        };
        let partner = self.partner_of(customer).await?;
        if p.customer_id().is_none() && (partner.is_none() || partner != p.partner_id()) {
            return Err(PricingError::CustomerNotFound);
        }
        let distributor = match partner {
            Some(partner) => self.accounts.distributor_of(partner).await?,
            None => None,
        };
        Ok(Some(Buyer {
            customer,
            partner,
            distributor,
        }))
    }

    /// The discounts in force now that `buyer` may have (promotions only
    /// without one), in `currency`.
    async fn discounts_for(
        &self,
        buyer: Option<Buyer>,
        currency: Currency,
    ) -> Result<Vec<Discount>, PricingError> {
        let customer = buyer.map(|b| b.customer.to_string());
        let distributors: Vec<String> = buyer
            .iter()
            .flat_map(|b| [b.partner, b.distributor])
            .flatten()
            .map(|p| p.to_string())
            .collect();
        let rows = store::applicable(
            self.db.conn(),
            customer.as_deref(),
            &distributors,
            self.clock.now(),
        )
        .await?;
        let partner = buyer.and_then(|b| b.partner);
        let mut policies: Option<Vec<Policy>> = None;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut d = Discount::from_row(row)?;
            if let Terms::Reduction(m) = d.terms
                && m.currency() != currency
            {
                continue;
            }
            if d.kind == Kind::PartnerSet {
                // Only the customer's current partner's rates, and never
                // above what its policies allow now (a policy that ended or
                // shrank caps rates set under it).
                let Some(partner) = partner.filter(|p| d.partner_id == Some(*p)) else {
                    continue;
                };
                if policies.is_none() {
                    let rows = store::policies_of(self.db.conn(), partner).await?;
                    policies = Some(
                        rows.iter()
                            .map(Policy::from_row)
                            .collect::<Result<_, _>>()?,
                    );
                }
                let allowance = allowance(
                    policies.as_deref().unwrap_or_default(),
                    &d.scope,
                    self.clock.now(),
                );
                match (allowance, d.terms) {
                    (Some(a), Terms::RateOff(r)) => d.terms = Terms::RateOff(r.min(a)),
                    _ => continue,
                }
            }
            out.push(d);
        }
        Ok(out)
    }

    /// Rates period product lines (a purchase or a renewal) at list
    /// prices, with the discounts in force for the buyer.
    pub async fn rate_period(
        &self,
        p: &Principal,
        lines: &[Line],
        customer: Option<CustomerId>,
        purpose: Purpose,
    ) -> Result<PeriodRating, PricingError> {
        require_rating(p)?;
        self.rate_period_for(p, lines, customer, purpose).await
    }

    /// [`Pricing::rate_period`] for a caller whose right to ask was checked
    /// by its verb (a quote).
    pub(crate) async fn rate_period_for(
        &self,
        p: &Principal,
        lines: &[Line],
        customer: Option<CustomerId>,
        purpose: Purpose,
    ) -> Result<PeriodRating, PricingError> {
        let ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
        let violations = rating::check_lines(&ids);
        if !violations.is_empty() {
            return Err(KernelError::Invalid(violations).into());
        }
        let catalog = self.in_force()?;
        let rated = rating::rate_period(&catalog, lines, purpose)?;
        let buyer = self.buyer(p, customer).await?;
        let discounts = self.discounts_for(buyer, catalog.currency).await?;
        Ok(PeriodRating {
            catalog_version: catalog.version,
            currency: catalog.currency,
            lines: rated,
            discounts,
        })
    }
}

fn require_rating(p: &Principal) -> Result<(), KernelError> {
    if p.holds(&PRICING_READ) {
        Ok(())
    } else {
        p.require(SELF_PRICING_READ)
    }
}

/// An on-demand rating: the catalog version used, its currency, the lines,
/// and the discounts in force for the buyer.
#[derive(Debug)]
pub struct UsageRating {
    pub catalog_version: i64,
    pub currency: Currency,
    pub lines: Vec<RatedUsage>,
    pub discounts: Vec<Discount>,
}

impl Pricing {
    /// Rates on-demand lines at list prices, with the discounts in force
    /// for the buyer.
    pub async fn rate_on_demand(
        &self,
        p: &Principal,
        lines: &[UsageLine],
        customer: Option<CustomerId>,
    ) -> Result<UsageRating, PricingError> {
        require_rating(p)?;
        let ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
        let violations = rating::check_lines(&ids);
        if !violations.is_empty() {
            return Err(KernelError::Invalid(violations).into());
        }
        let catalog = self.in_force()?;
        let rated = on_demand::rate_on_demand(&catalog, lines)?;
        let buyer = self.buyer(p, customer).await?;
        let discounts = self.discounts_for(buyer, catalog.currency).await?;
        Ok(UsageRating {
            catalog_version: catalog.version,
            currency: catalog.currency,
            lines: rated,
            discounts,
        })
    }
}
