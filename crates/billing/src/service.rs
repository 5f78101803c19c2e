//! The billing domain service: the ledger and what partners and customers
//! hold in it.

use partner_accounts::Accounts;
use partner_customers::Customers;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::page::PageTokens;
use partner_pricing::Pricing;

/// How long a new order waits for payment unless configured otherwise.
pub const DEFAULT_PAYMENT_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// How long a customer may owe for on-demand use before its on-demand
/// resources freeze, unless configured.
pub const DEFAULT_ARREARS_GRACE: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Clone)]
pub struct Billing {
    db: Db,
    clock: SharedClock,
    pages: PageTokens,
    /// Whose customers are whose, and how they are associated.
    customers: Customers,
    /// Which partners exist, and which resellers a distributor acts for.
    accounts: Accounts,
    /// What orders cost.
    pricing: Pricing,
    /// How long a new order waits for payment.
    payment_window: chrono::Duration,
    /// Opens the resources of paid orders.
    provisioner: std::sync::Arc<dyn crate::orders::provision::Provisioner>,
    /// In a sandbox: the platform clock the operator moves.
    sandbox: Option<std::sync::Arc<crate::sandbox::Sandbox>>,
    /// How long a customer may owe before its on-demand resources freeze.
    arrears_grace: chrono::Duration,
    /// The last hour's boundary this process settled in full: the next
    /// pass waits for the next boundary.
    /// Held by the pass running: a second one (the job ticker and a sandbox
    /// advance) waits, then finds the boundary settled, instead of racing
    /// the first customer by customer.
    settled_through: std::sync::Arc<futures::lock::Mutex<Option<chrono::DateTime<chrono::Utc>>>>,
}

impl Billing {
    pub fn new(
        db: Db,
        clock: SharedClock,
        pages: PageTokens,
        customers: Customers,
        accounts: Accounts,
        pricing: Pricing,
    ) -> Self {
        Self {
            db,
            clock,
            pages,
            customers,
            accounts,
            pricing,
            payment_window: DEFAULT_PAYMENT_WINDOW,
            provisioner: std::sync::Arc::new(crate::orders::provision::BuiltIn::default()),
            sandbox: None,
            arrears_grace: DEFAULT_ARREARS_GRACE,
            settled_through: std::sync::Arc::default(),
        }
    }

    /// Sets how long a customer may owe before its on-demand resources
    /// freeze.
    pub fn with_arrears_grace(mut self, grace: chrono::Duration) -> Self {
        self.arrears_grace = grace;
        self
    }

    /// Where billing cycles begin and end: the customers' months, so a
    /// monthly budget turns over with the bill.
    pub fn billing_zone(&self) -> chrono::FixedOffset {
        self.customers.billing_zone()
    }

    /// Makes this a sandbox whose platform clock is `clock` (the one the
    /// whole application reads).
    pub fn with_sandbox(mut self, clock: std::sync::Arc<crate::sandbox::Sandbox>) -> Self {
        self.sandbox = Some(clock);
        self
    }

    pub(crate) fn sandbox(&self) -> Option<&crate::sandbox::Sandbox> {
        self.sandbox.as_deref()
    }

    /// Sets what opens the resources of paid orders.
    pub fn with_provisioner(
        mut self,
        provisioner: std::sync::Arc<dyn crate::orders::provision::Provisioner>,
    ) -> Self {
        self.provisioner = provisioner;
        self
    }

    /// Sets how long a new order waits for payment.
    pub fn with_payment_window(mut self, window: chrono::Duration) -> Self {
        self.payment_window = window;
        self
    }

    /// Cancels the orders whose payment deadline passed on the platform
    /// clock (the expiry job); returns how many this pass cancelled.
    pub async fn expire_orders(&self) -> Result<u64, crate::error::BillingError> {
        crate::orders::expire_due(&self.db, self.clock.now()).await
    }

    /// Applies the expiry policies of the resources due on the platform
    /// clock (the expiry job).
    pub async fn expire_resources(
        &self,
    ) -> Result<crate::orders::expiry::Expiries, crate::error::BillingError> {
        crate::orders::expiry::expire_due(&self.db, self.clock.now()).await
    }

    /// Settles the on-demand use that ended by the last hour's boundary on
    /// the platform clock (the hourly settlement job).
    pub async fn settle_usage(
        &self,
    ) -> Result<crate::usage::settlement::Settled, crate::error::BillingError> {
        use crate::usage::settlement::{Settled, boundary, settle_due};
        let mut done = self.settled_through.lock().await;
        let now = self.clock.now();
        let through = boundary(now);
        if *done == Some(through) {
            return Ok(Settled::default());
        }
        let settled = settle_due(&self.db, self.billing_zone(), now).await?;
        *done = Some(through);
        Ok(settled)
    }

    /// Repays what customers owe from what came in, and freezes or
    /// unfreezes their on-demand resources (the arrears job).
    pub async fn settle_arrears(
        &self,
    ) -> Result<crate::arrears::Arrears, crate::error::BillingError> {
        crate::arrears::settle_due(&self.db, self.arrears_grace, self.clock.now()).await
    }

    /// Expires the holds due on the platform clock (the expiry job);
    /// returns how many this pass expired.
    pub async fn expire_holds(&self) -> Result<u64, crate::error::BillingError> {
        crate::ledger::holds::expire_due(&self.db, self.clock.now()).await
    }

    /// Expires the coupons due on the platform clock (the expiry job);
    /// returns how many this pass expired.
    pub async fn expire_coupons(&self) -> Result<u64, crate::error::BillingError> {
        crate::coupons::expire_due(&self.db, self.clock.now()).await
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

    pub(crate) fn customers(&self) -> &Customers {
        &self.customers
    }

    pub(crate) fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub(crate) fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    pub(crate) fn provisioner(&self) -> std::sync::Arc<dyn crate::orders::provision::Provisioner> {
        self.provisioner.clone()
    }

    pub(crate) fn payment_window(&self) -> chrono::Duration {
        self.payment_window
    }
}
