//! The resource expiry job: when a yearly/monthly resource's paid period
//! ends, its expiry policy applies —
//!
//! - `GRACE` (the default): `EXPIRED`, running on for the grace period,
//!   then `FROZEN` for the retention, then released (`CLOSED`);
//! - `FREEZE`: `FROZEN` at once for the retention, then released;
//! - `DELETE`: released at once;
//! - `TO_ON_DEMAND`: it runs on, charged on demand.
//!
//! Renewing an `EXPIRED` or `FROZEN` resource brings it back in use. Each
//! move is a conditional update from the state read (status and expiry),
//! so it happens once whichever replica gets there first, and a renewal
//! paid meanwhile wins.

use chrono::{DateTime, Duration, Utc};
use partner_kernel::db::Db;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};

use super::entity::resource;
use super::model::{ChargingMode, ExpiryPolicy, ResourceStatus};
use crate::error::BillingError;

/// How long an expired resource runs on under `GRACE`.
pub const GRACE: Duration = Duration::days(15);
/// How long a frozen resource's data is kept before it is released.
pub const RETENTION: Duration = Duration::days(15);
/// How many due resources are read at a time.
const BATCH: u64 = 500;

/// What one pass of the expiry job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expiries {
    /// Into their grace period (`EXPIRED`).
    pub expired: u64,
    /// Frozen (after the grace period, or at once).
    pub frozen: u64,
    /// Released (`CLOSED`).
    pub released: u64,
    /// Switched to on-demand charging.
    pub to_on_demand: u64,
}

/// Where a resource goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Into this status, staying until then.
    To(ResourceStatus, Option<DateTime<Utc>>),
    /// On, charged on demand.
    OnDemand,
}

/// The next step of a period resource in `status` under `policy`, at
/// `now`; `None` while it stays. Stages count from when the previous one
/// ended, not from when the job noticed, so a clock that jumped keeps the
/// schedule.
pub fn next(
    status: ResourceStatus,
    policy: ExpiryPolicy,
    expires: DateTime<Utc>,
    stage_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Step> {
    match status {
        ResourceStatus::InUse if expires <= now => Some(match policy {
            ExpiryPolicy::Grace => Step::To(ResourceStatus::Expired, Some(expires + GRACE)),
            ExpiryPolicy::Freeze => Step::To(ResourceStatus::Frozen, Some(expires + RETENTION)),
            ExpiryPolicy::Delete => Step::To(ResourceStatus::Closed, None),
            ExpiryPolicy::ToOnDemand => Step::OnDemand,
        }),
        ResourceStatus::Expired => {
            let end = stage_until.unwrap_or(expires + GRACE);
            (end <= now).then_some(Step::To(ResourceStatus::Frozen, Some(end + RETENTION)))
        }
        ResourceStatus::Frozen => {
            let end = stage_until.unwrap_or(expires + RETENTION);
            (end <= now).then_some(Step::To(ResourceStatus::Closed, None))
        }
        ResourceStatus::InUse | ResourceStatus::Closed => None,
    }
}

/// Period resources that may have a step due at `now`, after `after` in
/// id order.
async fn candidates(
    db: &Db,
    now: DateTime<Utc>,
    after: Option<&str>,
) -> Result<Vec<resource::Model>, BillingError> {
    let due = Condition::any()
        .add(
            Condition::all()
                .add(resource::Column::Status.eq(ResourceStatus::InUse.as_str()))
                .add(resource::Column::ExpiresAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(resource::Column::Status.is_in([
                    ResourceStatus::Expired.as_str(),
                    ResourceStatus::Frozen.as_str(),
                ]))
                .add(resource::Column::StageUntil.lte(now)),
        );
    // Children move with their main resource.
    let mut query = resource::Entity::find()
        .filter(resource::Column::ChargingMode.eq(ChargingMode::Period.as_str()))
        .filter(resource::Column::MainResourceId.is_null())
        .filter(due);
    if let Some(id) = after {
        query = query.filter(resource::Column::Id.gt(id));
    }
    Ok(query
        .order_by_asc(resource::Column::Id)
        .limit(BATCH)
        .all(db.conn())
        .await?)
}

/// Applies the expiry policies due at `now`; what this pass did.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<Expiries, BillingError> {
    let mut out = Expiries::default();
    let mut after: Option<String> = None;
    loop {
        let batch = candidates(db, now, after.as_deref()).await?;
        for r in &batch {
            // One resource that cannot move must not stop the others.
            if let Err(e) = step_one(db, r, now, &mut out).await {
                tracing::warn!(resource = %r.id, error = %e, "could not apply an expiry policy");
            }
        }
        match batch.last() {
            Some(last) if batch.len() as u64 == BATCH => after = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
}

/// The update that takes a resource a `step` on at `now`.
fn moving(step: Step, now: DateTime<Utc>) -> UpdateMany<resource::Entity> {
    let mut update =
        resource::Entity::update_many().col_expr(resource::Column::UpdatedAt, Expr::value(now));
    match step {
        Step::To(to, until) => {
            update = update
                .col_expr(resource::Column::Status, Expr::value(to.as_str()))
                .col_expr(resource::Column::StageUntil, Expr::value(until));
            if to == ResourceStatus::Closed {
                update = update.col_expr(resource::Column::ClosedAt, Expr::value(Some(now)));
            }
        }
        Step::OnDemand => {
            update = update.col_expr(
                resource::Column::ChargingMode,
                Expr::value(ChargingMode::OnDemand.as_str()),
            );
        }
    }
    // What stops running renews no more by itself.
    update.col_expr(
        resource::Column::AutoRenewUnit,
        Expr::value(Option::<String>::None),
    )
}

async fn step_one(
    db: &Db,
    r: &resource::Model,
    now: DateTime<Utc>,
    out: &mut Expiries,
) -> Result<(), BillingError> {
    let status = ResourceStatus::parse(&r.status)?;
    let policy = ExpiryPolicy::parse(&r.expiry_policy)?;
    let Some(step) = next(status, policy, r.expires_at, r.stage_until, now) else {
        return Ok(());
    };
    // The resource moves from the state read, and its children (on the
    // same period, by construction) move with it, in one transaction.
    let tx = db.begin_write().await?;
    let moved = moving(step, now)
        .filter(resource::Column::Id.eq(r.id.as_str()))
        .filter(resource::Column::Status.eq(r.status.as_str()))
        .filter(resource::Column::ExpiresAt.eq(r.expires_at))
        .exec(&*tx)
        .await?
        .rows_affected
        == 1;
    if moved {
        moving(step, now)
            .filter(resource::Column::MainResourceId.eq(r.id.as_str()))
            .filter(resource::Column::Status.ne(ResourceStatus::Closed.as_str()))
            .filter(resource::Column::ChargingMode.eq(ChargingMode::Period.as_str()))
            .exec(&*tx)
            .await?;
    }
    tx.commit().await?;
    if moved {
        match step {
            Step::To(ResourceStatus::Expired, _) => out.expired += 1,
            Step::To(ResourceStatus::Frozen, _) => out.frozen += 1,
            Step::To(ResourceStatus::Closed, _) => out.released += 1,
            Step::To(ResourceStatus::InUse, _) => {}
            Step::OnDemand => out.to_on_demand += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn each_policy_moves_a_resource_through_its_stages() {
        let ends = day(1);
        let before = ends - Duration::seconds(1);
        let s = |status, policy, until, now| next(status, policy, ends, until, now);
        use ExpiryPolicy::*;
        use ResourceStatus::*;
        // Nothing before the period ends.
        for p in [Grace, Freeze, Delete, ToOnDemand] {
            assert_eq!(s(InUse, p, None, before), None);
        }
        assert_eq!(
            s(InUse, Grace, None, ends),
            Some(Step::To(Expired, Some(day(16))))
        );
        assert_eq!(
            s(InUse, Freeze, None, ends),
            Some(Step::To(Frozen, Some(day(16))))
        );
        assert_eq!(s(InUse, Delete, None, ends), Some(Step::To(Closed, None)));
        assert_eq!(s(InUse, ToOnDemand, None, ends), Some(Step::OnDemand));
        // Grace, then retention, counted from the stage's end.
        assert_eq!(s(Expired, Grace, Some(day(16)), day(15)), None);
        assert_eq!(
            s(Expired, Grace, Some(day(16)), day(20)),
            Some(Step::To(Frozen, Some(day(31))))
        );
        assert_eq!(s(Frozen, Grace, Some(day(31)), day(30)), None);
        assert_eq!(
            s(Frozen, Grace, Some(day(31)), day(31)),
            Some(Step::To(Closed, None))
        );
        assert_eq!(s(Closed, Grace, None, day(31)), None);
    }
}
