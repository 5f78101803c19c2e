//! The ledger's tables.

pub mod ledger_account;
pub mod ledger_entry;
pub mod ledger_hold;
pub mod ledger_transaction;
