//! The tonic services of the accounts domain: translate the request, let the
//! domain authorize and act, translate back.

mod audit;
mod partner;
mod program;
mod reseller;
mod role;
mod user;

use partner_kernel::mutation::Calls;

use crate::service::Accounts;

/// Serves `PartnerService`, `UserService`, `RoleService`, `AuditService`,
/// `ProgramService` and `ResellerService`.
#[derive(Debug, Clone)]
pub struct AccountsApi {
    accounts: Accounts,
    calls: Calls,
}

impl AccountsApi {
    /// The API over `accounts`; `calls` starts its mutations.
    pub fn new(accounts: Accounts, calls: Calls) -> Self {
        Self { accounts, calls }
    }
}
