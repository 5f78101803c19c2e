//! The pricing domain service: the catalog in force, rating against it,
//! and the discounts rating offers.

use std::collections::HashMap;
use std::sync::Arc;

mod buyers;

use partner_accounts::{Accounts, AccountsError};
use partner_customers::Customers;
use partner_kernel::cache::TtlCache;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, DiscountId, PartnerId};
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
    /// Buyers' discounts, by customer (`None`: no customer).
    offered: Arc<TtlCache<Option<CustomerId>, Offered>>,
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

/// A buyer's discounts as read together: those not ended (their windows
/// are checked at each use) and its partner's policies (they cap its rates).
#[derive(Debug, Clone)]
pub(crate) struct Offered {
    pub(crate) buyer: Option<Buyer>,
    pub(crate) discounts: Arc<Vec<Discount>>,
    pub(crate) policies: Arc<Vec<Policy>>,
    /// The versions of those discounts changed since they were made, by
    /// discount id: what each said when (usage is rated as of its start).
    pub(crate) earlier: Arc<History>,
}

/// Versions of discounts, by discount id: when each was written, and what
/// it said, oldest first.
pub(crate) type History = HashMap<DiscountId, Vec<(chrono::DateTime<chrono::Utc>, Discount)>>;

/// The versions of those of `discounts` that were ever changed.
pub(crate) async fn history_of(db: &Db, discounts: &[Discount]) -> Result<History, PricingError> {
    let changed: Vec<String> = discounts
        .iter()
        .filter(|d| d.version > 1)
        .map(|d| d.id.to_string())
        .collect();
    let mut out = History::new();
    for v in store::versions_of(db.conn(), &changed).await? {
        let version = Discount::from_state(&v.state)?;
        out.entry(version.id)
            .or_default()
            .push((v.changed_at, version));
    }
    Ok(out)
}

/// `d` as it stood at `at`: its version written last by then (for a time
/// before it was made, its first version, whose window decides).
fn as_of<'a>(
    earlier: &'a History,
    d: &'a Discount,
    at: chrono::DateTime<chrono::Utc>,
) -> &'a Discount {
    let Some(versions) = earlier.get(&d.id) else {
        return d;
    };
    versions
        .iter()
        .rev()
        .find(|(written, _)| *written <= at)
        .or(versions.first())
        .map_or(d, |(_, v)| v)
}

/// How long [`Offered`] answers are trusted: changes made through another
/// replica are offered here within this time.
const OFFERED_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// How long before now reported usage may have started: a record ends in
/// the open billing cycle (or the one before, within its late grace) and
/// spans at most 31 days, so two months and a day.
pub const USAGE_LOOKBACK: chrono::Duration = chrono::Duration::days(63);

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
            offered: Arc::new(TtlCache::new(OFFERED_TTL)),
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

    /// The customer a caller rates for: a customer itself (naming no one
    /// else), or the one a partner names. `None`: no customer named.
    fn named_customer(
        p: &Principal,
        customer: Option<CustomerId>,
    ) -> Result<Option<CustomerId>, PricingError> {
        match (p.customer_id(), customer) {
            (Some(own), None) => Ok(Some(own)),
            (Some(own), Some(named)) if own == named => Ok(Some(own)),
            (Some(_), Some(_)) => Err(PricingError::CustomerNotFound),
            (None, named) => Ok(named),
        }
    }

    /// What rating needs to know about `customer`'s discounts (those in
    /// force now or in the last [`USAGE_LOOKBACK`]), from the
    /// cache (2 s; this process's discount and policy changes clear it).
    async fn offered(&self, customer: Option<CustomerId>) -> Result<Offered, PricingError> {
        let ticket = match self.offered.lookup(&customer) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let buyer = match customer {
            Some(customer) => {
                let partner = self.partner_of(customer).await?;
                let distributor = match partner {
                    Some(partner) => self.accounts.distributor_of(partner).await?,
                    None => None,
                };
                Some(Buyer {
                    customer,
                    partner,
                    distributor,
                })
            }
            None => None,
        };
        let distributors: Vec<String> = buyer
            .iter()
            .flat_map(|b| [b.partner, b.distributor])
            .flatten()
            .map(|p| p.to_string())
            .collect();
        // Usage is rated with the discounts in force when it started, and
        // may be reported long after: those ended since are kept too (each
        // window is checked at its time of use).
        let rows = store::not_ended(
            self.db.conn(),
            &customer
                .map(|c| c.to_string())
                .into_iter()
                .collect::<Vec<_>>(),
            &distributors,
            self.clock.now() - USAGE_LOOKBACK,
        )
        .await?;
        let discounts = rows
            .iter()
            .map(Discount::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let policies = match buyer.and_then(|b| b.partner) {
            Some(partner) => store::policies_of(self.db.conn(), partner)
                .await?
                .iter()
                .map(Policy::from_row)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let earlier = history_of(&self.db, &discounts).await?;
        let offered = Offered {
            buyer,
            discounts: Arc::new(discounts),
            policies: Arc::new(policies),
            earlier: Arc::new(earlier),
        };
        self.offered.put(ticket, customer, offered.clone());
        Ok(offered)
    }

    /// Forgets what [`Pricing::offered`] cached once a discount or policy
    /// change committed; a refused one changes nothing and forgets nothing.
    pub(crate) fn forget_offers_after<T, E>(&self, answer: &Result<T, E>) {
        if answer.is_ok() {
            self.offered.invalidate_all();
        }
    }

    /// The discounts in force now that the customer the caller names may
    /// have (promotions only without one), in `currency`. A partner names
    /// only its own customers.
    async fn discounts_for(
        &self,
        p: &Principal,
        customer: Option<CustomerId>,
        currency: Currency,
        acting: Option<PartnerId>,
    ) -> Result<Vec<Discount>, PricingError> {
        let customer = Self::named_customer(p, customer)?;
        let offered = self.offered(customer).await?;
        let partner = offered.buyer.and_then(|b| b.partner);
        if p.customer_id().is_none()
            && customer.is_some()
            && (partner.is_none() || partner != acting.or(p.partner_id()))
        {
            return Err(PricingError::CustomerNotFound);
        }
        Ok(in_force_for(&offered, currency, self.clock.now()))
    }

    /// The discounts that apply at `at` to `customer`'s usage, in
    /// `currency` (its partner's rates capped by the policies in force
    /// then): what the usage the cloud services report is rated with. An
    /// unknown customer has none.
    pub async fn usage_discounts_at(
        &self,
        customer: CustomerId,
        currency: Currency,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Discount>, PricingError> {
        match self.offered(Some(customer)).await {
            Ok(offered) => Ok(in_force_for(&offered, currency, at)),
            Err(PricingError::CustomerNotFound) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
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
        self.rate_period_for(p, lines, customer, purpose, None)
            .await
    }

    /// [`Pricing::rate_period`] for a partner caller acting for `acting`
    /// (a reseller it was resolved to act for by the caller's domain): the
    /// customer must be `acting`'s, not the caller's own.
    pub async fn rate_period_acting(
        &self,
        p: &Principal,
        lines: &[Line],
        customer: Option<CustomerId>,
        purpose: Purpose,
        acting: Option<PartnerId>,
    ) -> Result<PeriodRating, PricingError> {
        require_rating(p)?;
        self.rate_period_for(p, lines, customer, purpose, acting)
            .await
    }

    /// [`Pricing::rate_period`] for a caller whose right to ask was checked
    /// by its verb (a quote).
    pub(crate) async fn rate_period_for(
        &self,
        p: &Principal,
        lines: &[Line],
        customer: Option<CustomerId>,
        purpose: Purpose,
        acting: Option<PartnerId>,
    ) -> Result<PeriodRating, PricingError> {
        let ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
        let violations = rating::check_lines(&ids);
        if !violations.is_empty() {
            return Err(KernelError::Invalid(violations).into());
        }
        let catalog = self.in_force()?;
        let rated = rating::rate_period(&catalog, lines, purpose)?;
        let discounts = self
            .discounts_for(p, customer, catalog.currency, acting)
            .await?;
        Ok(PeriodRating {
            catalog_version: catalog.version,
            currency: catalog.currency,
            lines: rated,
            discounts,
        })
    }
}

/// Of a buyer's discounts, those in force at `at` in `currency`; a
/// partner-set rate only from the customer's current partner, and never
/// above what its policies allowed then (a policy that ended or shrank caps
/// rates set under it).
fn in_force_for(
    offered: &Offered,
    currency: Currency,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<Discount> {
    let partner = offered.buyer.and_then(|b| b.partner);
    let mut out = Vec::with_capacity(offered.discounts.len());
    for d in offered.discounts.iter() {
        let d = as_of(&offered.earlier, d, at);
        if !d.in_force(at) {
            continue;
        }
        if let Terms::Reduction(m) = d.terms
            && m.currency() != currency
        {
            continue;
        }
        let mut d = d.clone();
        if d.kind == Kind::PartnerSet {
            if partner.is_none() || d.partner_id != partner {
                continue;
            }
            match (allowance(&offered.policies, &d.scope, at), d.terms) {
                (Some(a), Terms::RateOff(r)) => d.terms = Terms::RateOff(r.min(a)),
                _ => continue,
            }
        }
        out.push(d);
    }
    out
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
        let discounts = self
            .discounts_for(p, customer, catalog.currency, None)
            .await?;
        Ok(UsageRating {
            catalog_version: catalog.version,
            currency: catalog.currency,
            lines: rated,
            discounts,
        })
    }
}

/// A usage line rated at list prices: the catalog version, its currency and
/// the rated line.
#[derive(Debug)]
pub struct RatedAt {
    pub catalog_version: i64,
    pub currency: Currency,
    pub line: RatedUsage,
}

impl Pricing {
    /// Rates one on-demand line at the list prices of the catalog in force
    /// at `at` — usage the platform's cloud services report, rated for when
    /// it was used; no caller's permission or discount applies here.
    pub fn rate_usage_at(
        &self,
        line: &UsageLine,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<RatedAt, PricingError> {
        let catalog = self.catalogs.in_force(at).ok_or(PricingError::NoCatalog)?;
        let mut rated = on_demand::rate_on_demand(&catalog, std::slice::from_ref(line))?;
        let line = rated
            .pop()
            .ok_or_else(|| KernelError::Corrupt("a rating without its line".into()))?;
        Ok(RatedAt {
            catalog_version: catalog.version,
            currency: catalog.currency,
            line,
        })
    }
}
