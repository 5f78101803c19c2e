//! The pricing domain service: the catalog in force, and rating against it.

use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::principal::Principal;

use crate::access::{CATALOG_READ, PRICING_READ};
use crate::catalog::{Catalogs, Version};
use crate::error::PricingError;
use crate::rating::{self, Line, Rated};

#[derive(Debug, Clone)]
pub struct Pricing {
    db: Db,
    clock: SharedClock,
    catalogs: Catalogs,
}

impl Pricing {
    /// The service over `db`, its catalog loaded (the demo stored first on
    /// an empty database).
    pub async fn load(db: Db, clock: SharedClock) -> Result<Self, KernelError> {
        let catalogs = Catalogs::default();
        catalogs.load(&db, clock.now()).await?;
        Ok(Self {
            db,
            clock,
            catalogs,
        })
    }

    /// Rereads the catalog versions (another replica may have imported one).
    pub async fn reload(&self) -> Result<(), KernelError> {
        self.catalogs.load(&self.db, self.clock.now()).await
    }

    fn in_force(&self) -> Result<std::sync::Arc<Version>, PricingError> {
        self.catalogs
            .in_force(self.clock.now())
            .ok_or(PricingError::NoCatalog)
    }

    /// The catalog in force, for the caller to read.
    pub fn catalog(&self, p: &Principal) -> Result<std::sync::Arc<Version>, PricingError> {
        p.require(CATALOG_READ)?;
        self.in_force()
    }

    /// Rates period product lines at list prices.
    pub fn rate_period(
        &self,
        p: &Principal,
        lines: &[Line],
    ) -> Result<(i64, partner_kernel::money::Currency, Vec<Rated>), PricingError> {
        p.require(PRICING_READ)?;
        let violations = rating::check_lines(lines);
        if !violations.is_empty() {
            return Err(KernelError::Invalid(violations).into());
        }
        let catalog = self.in_force()?;
        let rated = rating::rate_period(&catalog, lines)?;
        Ok((catalog.version, catalog.currency, rated))
    }
}
