//! The billing services' shared half: the domain service and the call
//! context (`FundsService` is in `funds::grpc`, `LedgerService` in
//! `ledger::grpc`).

use partner_kernel::ids::PartnerId;
use partner_kernel::mutation::Calls;
use partner_kernel::validate::{Violations, optional_id};
use tonic::Status;

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

/// The `id` a read names and the reseller a distributor reads it for: the
/// two fields of every single-item read of orders and resources.
pub(crate) fn id_for_reseller<T, E: std::fmt::Display>(
    id: &str,
    parse: fn(&str) -> Result<T, E>,
    reseller: &str,
) -> Result<(T, Option<PartnerId>), Status> {
    let mut v = Violations::new();
    let id = v.take("id", parse(id));
    let reseller = optional_id(&mut v, "reseller_id", reseller, PartnerId::parse);
    Ok(v.finish_with(id.zip(reseller))?)
}
