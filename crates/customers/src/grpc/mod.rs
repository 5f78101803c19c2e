//! The tonic services of the customers domain: translate the request, let the
//! domain authorize and act, translate back.

mod budget;
mod customer;
mod invite;
mod lead;
mod opportunity;
mod parse;
mod password;
mod verification;

/// 1–100 distinct customer ids and an optional reseller, as every batch read takes them.
pub use parse::many_customers;

use partner_kernel::mutation::Calls;

use crate::service::Customers;

/// Serves `CustomerService`.
#[derive(Debug, Clone)]
pub struct CustomersApi {
    customers: Customers,
    calls: Calls,
}

impl CustomersApi {
    /// The API over `customers`; `calls` starts its mutations.
    pub fn new(customers: Customers, calls: Calls) -> Self {
        Self { customers, calls }
    }
}
