//! The coupon tables. Balances are not here: they are the ledger accounts
//! the quota and the coupon own.

pub mod coupon;
pub mod coupon_record;
pub mod quota;
pub mod quota_record;
