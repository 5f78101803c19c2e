//! Coupon quotas and coupons (`CouponService`). A quota's balance and each
//! coupon's remaining value are ledger accounts the quota and the coupon
//! own: granting moves value from the platform's promotional budget into a
//! quota, issuing from the quota into each coupon, reclaiming back, and an
//! expired coupon's rest into breakage — so M1/M2 hold for coupons as for
//! cash, and M7 (issued = used + reclaimed + expired + outstanding) is a
//! sum over the coupon's entries.
//!
//! Rows are locked in one order everywhere: customer, coupon, quota, then
//! ledger accounts (in id order), so concurrent issues, reclaims, expiries
//! and a customer leaving never wait on each other in a cycle.

pub mod entity;
mod expiry;
pub mod grpc;
mod issue;
pub(crate) mod leaving;
pub mod model;
mod quotas;
mod read;
mod reclaim;

use chrono::{DateTime, Utc};
use partner_kernel::ids::{CouponQuotaId, CouponQuotaRecordId, CouponRecordId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Set};

use crate::error::BillingError;
use crate::ledger::Kind;
use entity::{coupon_record, quota, quota_record};
use model::{Coupon, CouponRecordType, Quota, QuotaRecordType, QuotaState};

pub use expiry::expire_due;
pub use issue::{IssueCoupons, issue_in};
pub use quotas::{NewQuota, grant_in};
pub use read::{CouponFilter, RecordFilter};
pub use reclaim::reclaim_in;

/// The quota `id`, locked until the transaction ends.
async fn quota_for_update(
    conn: &impl ConnectionTrait,
    id: CouponQuotaId,
) -> Result<Quota, BillingError> {
    let row = quota::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(BillingError::QuotaNotFound)?;
    Ok(Quota::from_row(&row)?)
}

/// The quota `id`, unlocked.
async fn quota_of(conn: &impl ConnectionTrait, id: CouponQuotaId) -> Result<Quota, BillingError> {
    let row = quota::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(BillingError::QuotaNotFound)?;
    Ok(Quota::from_row(&row)?)
}

/// The quota's balance now (minor units).
async fn quota_balance(conn: &impl ConnectionTrait, q: &Quota) -> Result<i64, BillingError> {
    let id = q.id.to_string();
    Ok(model::balances(conn, Kind::CouponQuota, [id.clone()])
        .await?
        .get(&id)
        .copied()
        .unwrap_or(0))
}

/// Where value returning from a coupon goes: its quota, or the promotional
/// budget when the quota has ended (an ended quota holds nothing).
fn return_target(q: &Quota) -> (crate::ledger::Owner, Kind) {
    if q.state == QuotaState::Invalid {
        (crate::ledger::Owner::Platform, Kind::Promotion)
    } else {
        (crate::ledger::Owner::Quota(q.id), Kind::CouponQuota)
    }
}

/// One line of a quota's history.
struct QuotaEntry<'a> {
    quota: &'a Quota,
    kind: QuotaRecordType,
    amount: Money,
    counterpart: Option<CouponQuotaId>,
    transaction: String,
    reason: &'a str,
}

async fn record_quota(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    e: QuotaEntry<'_>,
) -> Result<(), BillingError> {
    quota_record::Entity::insert(quota_record::ActiveModel {
        id: Set(CouponQuotaRecordId::generate().to_string()),
        quota_id: Set(e.quota.id.to_string()),
        partner_id: Set(e.quota.partner.to_string()),
        record_type: Set(e.kind.as_str().to_owned()),
        amount: Set(e.amount.minor()),
        currency: Set(e.amount.currency().code().to_owned()),
        counterpart_quota_id: Set(e.counterpart.map(|c| c.to_string())),
        transaction_id: Set(e.transaction),
        actor: Set(m.principal.actor_id()),
        reason: Set(e.reason.to_owned()),
        created_at: Set(m.now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// One line of a coupon's history.
pub(crate) fn coupon_entry(
    c: &Coupon,
    kind: CouponRecordType,
    amount: Money,
    transaction: &str,
    actor: String,
    reason: &str,
    now: DateTime<Utc>,
) -> coupon_record::ActiveModel {
    coupon_record::ActiveModel {
        id: Set(CouponRecordId::generate().to_string()),
        coupon_id: Set(c.id.to_string()),
        quota_id: Set(c.quota.to_string()),
        partner_id: Set(c.partner.to_string()),
        customer_id: Set(c.customer.to_string()),
        record_type: Set(kind.as_str().to_owned()),
        amount: Set(amount.minor()),
        currency: Set(amount.currency().code().to_owned()),
        transaction_id: Set(transaction.to_owned()),
        actor: Set(actor),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
    }
}
