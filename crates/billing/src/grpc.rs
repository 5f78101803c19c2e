//! The billing services' shared half: the domain service and the call
//! context (`FundsService` is in `funds::grpc`, `LedgerService` in
//! `ledger::grpc`).

use partner_kernel::mutation::Calls;

use crate::service::Billing;

/// Serves `FundsService`, `PaymentAgreementService` and `LedgerService`.
#[derive(Debug, Clone)]
pub struct BillingApi {
    billing: Billing,
    calls: Calls,
}

impl BillingApi {
    pub fn new(billing: Billing, calls: Calls) -> Self {
        Self { billing, calls }
    }

    pub(crate) fn billing(&self) -> &Billing {
        &self.billing
    }

    pub(crate) fn calls(&self) -> &Calls {
        &self.calls
    }
}
