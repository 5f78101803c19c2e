//! The customers service: its state and the helpers its verbs share.

use partner_accounts::Accounts;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
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
}

impl Customers {
    /// The service over `db`; `accounts` answers who tenants and users are
    /// and hashes passwords.
    pub fn new(db: Db, clock: SharedClock, pages: PageTokens, accounts: Accounts) -> Self {
        Self {
            db,
            clock,
            pages,
            accounts,
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
