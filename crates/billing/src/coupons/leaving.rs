//! A customer leaving its partner takes none of the partner's coupons with
//! it: each open coupon the partner issued it returns its rest to its quota
//! (recorded as a reclaim on disassociation), in the disassociation's own
//! transaction. Coupons already past their validity are left to the expiry
//! job, which sends their rest to breakage.

use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::Change;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use super::entity::coupon;
use super::model::{Coupon, CouponRecordType, Stored};
use super::quota_for_update;
use super::reclaim::{Destination, close_row, closed_change, post_rest};
use crate::error::BillingError;

const REASON: &str = "the customer left the partner";

/// Returns the leaving customer's open coupons from `partner` to their
/// quotas; the audit changes of the coupons closed.
pub(crate) async fn return_coupons(
    tx: &DatabaseTransaction,
    m: &Mutation,
    partner: PartnerId,
    customer: CustomerId,
) -> Result<Vec<Change>, BillingError> {
    let rows = coupon::Entity::find()
        .filter(coupon::Column::CustomerId.eq(customer.to_string()))
        .filter(coupon::Column::PartnerId.eq(partner.to_string()))
        .filter(coupon::Column::State.eq(Stored::Open.as_str()))
        .filter(coupon::Column::ValidUntil.gt(m.now))
        .order_by_asc(coupon::Column::Id)
        .all(tx)
        .await?;
    let mut closed = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut c = Coupon::from_row(row)?;
        if close_row(
            tx,
            c.id,
            Stored::Reclaimed,
            sea_orm::Condition::all(),
            m.now,
        )
        .await?
        {
            c.stored = Stored::Reclaimed;
            c.closed_at = Some(m.now);
            closed.push(c);
        }
    }
    // Quotas after coupons, in id order.
    let mut quota_ids: Vec<_> = closed.iter().map(|c| c.quota).collect();
    quota_ids.sort();
    quota_ids.dedup();
    let mut quotas = Vec::with_capacity(quota_ids.len());
    for id in quota_ids {
        quotas.push(quota_for_update(tx, id).await?);
    }
    let moved = post_rest(
        tx,
        m,
        &closed,
        Destination::Quotas(&quotas),
        CouponRecordType::ReclaimOnDisassociation,
        REASON,
    )
    .await
    .map_err(|e| {
        if matches!(e, BillingError::CouponNotReclaimable { .. }) {
            BillingError::HeldFundsOnLeaving
        } else {
            e
        }
    })?;
    Ok(closed
        .iter()
        .map(|c| {
            let rest = moved.iter().find(|(id, _)| *id == c.id).map(|(_, m)| *m);
            closed_change(c, rest, REASON)
        })
        .collect())
}
