//! The tonic services of the accounts domain: translate the request, let the
//! domain authorize and act, translate back.

mod audit;
mod partner;
mod program;
mod reseller;
mod role;
mod user;

use partner_kernel::clock::SharedClock;
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::secrets::SecretKey;
use uuid::Uuid;

use crate::service::Accounts;

/// Serves `PartnerService`, `UserService`, `RoleService`, `AuditService`,
/// `ProgramService` and `ResellerService`.
#[derive(Debug, Clone)]
pub struct AccountsApi {
    accounts: Accounts,
    fingerprints: SecretKey,
}

impl AccountsApi {
    /// The API over `accounts`; `fingerprints` keys request digests for idempotency.
    pub fn new(accounts: Accounts, fingerprints: SecretKey) -> Self {
        Self {
            accounts,
            fingerprints,
        }
    }

    fn clock(&self) -> &SharedClock {
        self.accounts.clock()
    }

    fn mutation(&self, principal: Principal, method: &'static str, request_id: Uuid) -> Mutation {
        Mutation::new(principal, method, request_id, self.clock().now())
    }
}
