//! The money domain's tests, in one binary: the ledger's funds between
//! partners and customers, coupon quotas and coupons, orders, its bounds under concurrency, its append-only
//! rows and its reconciliation. Every test ends with the operator's
//! `CheckLedger` finding nothing wrong.

mod adjust;
mod agreements;
mod auto_renew;
mod bills;
mod budget_months;
mod change;
mod children;
mod clocked;
mod coupons;
mod expiry;
mod funds;
mod ledger;
mod order_states;
mod orders;
mod records;
mod resellers;
mod settlement;
mod unsubscribe;
mod usage;
