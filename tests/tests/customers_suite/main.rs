//! The customers domain's tests, in one binary (each test binary is linked
//! against the whole server, so fewer binaries build faster and take less
//! disk): customers, associations, verification, budgets, customer
//! principals, leads, opportunities, the event stream and webhooks.

mod customer_associations;
mod customer_budgets;
mod customer_principals;
mod customer_verification;
mod customers;
mod events;
mod leads;
mod opportunities;
mod webhooks;
