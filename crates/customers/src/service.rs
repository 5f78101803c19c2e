//! The customers service: its state and the helpers its verbs share.

use std::sync::Arc;

use partner_accounts::Accounts;
use partner_kernel::cache::TtlCache;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::ids::CustomerId;
use partner_kernel::page::{Page, PageScope, PageTokens};

/// A list request after parsing.
#[derive(Debug)]
pub struct PageRequest {
    pub size: u64,
    pub token: String,
}

/// The customers domain service.
#[derive(Debug, Clone)]
pub struct Customers {
    db: Db,
    clock: SharedClock,
    pages: PageTokens,
    accounts: Accounts,
    /// Answers of [`Customers::principal_status`].
    statuses: Arc<TtlCache<CustomerId, Option<crate::principals::CustomerStatus>>>,
    /// Where association invitation links point (the page that takes the token).
    invite_link_base: Arc<str>,
    /// What billing does when a customer leaves its partner.
    leaving: crate::customers::leaving::Leaving,
    /// Where months begin: billing cycles, and monthly budgets.
    billing_zone: chrono::FixedOffset,
    /// Checks a signed-in customer's current password under its sign-in
    /// throttle.
    password_guard: crate::password_guard::Guard,
    /// One customer by id (`GetCustomer`).
    pub(crate) reads: crate::customers::point_reads::CustomerReads,
}

/// [`Customers::invite_link_base`] unless configured.
pub const DEFAULT_INVITE_LINK_BASE: &str = "http://localhost:8080";

impl Customers {
    /// The service over `db`; `accounts` answers who tenants and users are
    /// and hashes passwords.
    pub fn new(db: Db, clock: SharedClock, pages: PageTokens, accounts: Accounts) -> Self {
        Self {
            reads: crate::customers::point_reads::CustomerReads::new(db.clone()),
            db,
            clock,
            pages,
            accounts,
            statuses: Arc::new(TtlCache::new(crate::principals::STATUS_TTL)),
            invite_link_base: Arc::from(DEFAULT_INVITE_LINK_BASE),
            leaving: crate::customers::leaving::Leaving::default(),
            billing_zone: partner_kernel::clock::default_billing_zone(),
            password_guard: crate::password_guard::Guard::default(),
        }
    }

    /// Months (billing cycles, monthly budgets) begin at midnight on the
    /// first in `zone`.
    pub fn with_billing_zone(mut self, zone: chrono::FixedOffset) -> Self {
        self.billing_zone = zone;
        self
    }

    /// Where months begin.
    pub fn billing_zone(&self) -> chrono::FixedOffset {
        self.billing_zone
    }

    /// The month a monthly budget counts at `at` (its first day).
    pub fn budget_month(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        crate::budgets::model::budget_month(at, self.billing_zone)
    }

    /// Where the gateway registers the check of a customer's current
    /// password.
    pub fn password_guard(&self) -> &crate::password_guard::Guard {
        &self.password_guard
    }

    /// Where another domain registers its part of a customer leaving.
    pub fn leaving(&self) -> &crate::customers::leaving::Leaving {
        &self.leaving
    }

    /// Invitation links point under `base` (`{base}/associate?token=…`).
    pub fn with_invite_link_base(mut self, base: &str) -> Self {
        self.invite_link_base = Arc::from(base.trim_end_matches('/'));
        self
    }

    pub(crate) fn invite_link_base(&self) -> &str {
        &self.invite_link_base
    }

    pub(crate) fn statuses(
        &self,
    ) -> &TtlCache<CustomerId, Option<crate::principals::CustomerStatus>> {
        &self.statuses
    }

    /// Forgets this process's cached status of `id` once a change that
    /// decides whether its tokens work (freeze, association, password) has
    /// committed; a refused call changes nothing and forgets nothing.
    pub(crate) fn forget_status<T, E>(&self, answer: &Result<T, E>, id: CustomerId) {
        if answer.is_ok() {
            self.statuses.invalidate(&id);
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub(crate) fn pages(&self) -> &PageTokens {
        &self.pages
    }

    /// The platform clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Cuts one page from `size + 1` rows and signs the token of the next.
    pub(crate) fn paginate<M>(
        &self,
        rows: Vec<M>,
        size: u64,
        scope: &PageScope,
        key: impl Fn(&M) -> String,
    ) -> Page<M> {
        self.pages.cut(rows, size, scope, self.clock.now(), key)
    }
}
