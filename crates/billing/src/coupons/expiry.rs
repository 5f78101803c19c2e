//! The coupon expiry job: an open coupon past its validity closes as
//! EXPIRED and its rest goes to the platform's breakage — exactly once,
//! also with several replicas (the conditional close lets one win).

use chrono::{DateTime, Utc};
use partner_kernel::db::Db;
use partner_kernel::ids::{CouponId, parse_stored};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::coupon;
use super::model::{Coupon, CouponRecordType, Stored};
use super::reclaim::{Destination, close_row, post_rest};
use crate::error::BillingError;

/// How many due coupons are read at a time.
const EXPIRY_BATCH: u64 = 500;
/// The job's name where a call's method would be.
const METHOD: &str = "job:CouponExpiry";
const REASON: &str = "the coupon's validity ended";

/// Expires the coupons due at `now`, each in its own write transaction;
/// returns how many this pass expired. It walks every due coupon in
/// `(valid_until, id)` order, so coupons that cannot expire yet never hide
/// the ones behind them.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<u64, BillingError> {
    let mut expired = 0;
    let mut after: Option<(DateTime<Utc>, String)> = None;
    loop {
        let mut query = coupon::Entity::find()
            .select_only()
            .column(coupon::Column::ValidUntil)
            .column(coupon::Column::Id)
            .filter(coupon::Column::State.eq(Stored::Open.as_str()))
            .filter(coupon::Column::ValidUntil.lte(now));
        if let Some((until, id)) = &after {
            query = query.filter(
                Condition::any()
                    .add(coupon::Column::ValidUntil.gt(*until))
                    .add(
                        Condition::all()
                            .add(coupon::Column::ValidUntil.eq(*until))
                            .add(coupon::Column::Id.gt(id.as_str())),
                    ),
            );
        }
        let due: Vec<(DateTime<Utc>, String)> = query
            .order_by_asc(coupon::Column::ValidUntil)
            .order_by_asc(coupon::Column::Id)
            .limit(EXPIRY_BATCH)
            .into_tuple()
            .all(db.conn())
            .await?;
        let full = due.len() as u64 == EXPIRY_BATCH;
        for (until, raw) in due {
            // One coupon that cannot expire now (held for an order, or a
            // database error) must not stop the others: tried again next pass.
            match expire_one(db, &raw, now).await {
                Ok(true) => expired += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(coupon = %raw, error = %e, "could not expire a due coupon");
                }
            }
            after = Some((until, raw));
        }
        if !full {
            return Ok(expired);
        }
    }
}

/// Expires one due coupon; `false` when it was closed first elsewhere.
async fn expire_one(db: &Db, raw: &str, now: DateTime<Utc>) -> Result<bool, BillingError> {
    let id = parse_stored(raw, CouponId::parse)?;
    let tx = db.begin_write().await?;
    let scope = sea_orm::Condition::all().add(coupon::Column::ValidUntil.lte(now));
    if !close_row(&*tx, id, Stored::Expired, scope, now).await? {
        return Ok(false);
    }
    let row = coupon::Entity::find_by_id(raw.to_owned())
        .one(&*tx)
        .await?
        .ok_or(BillingError::CouponNotFound)?;
    let c = Coupon::from_row(&row)?;
    let m = crate::job::as_platform(METHOD, now);
    post_rest(
        &*tx,
        &m,
        std::slice::from_ref(&c),
        Destination::Breakage,
        CouponRecordType::Expiry,
        REASON,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
