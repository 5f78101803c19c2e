//! Auto-renew: `SetAutoRenew` / `CancelAutoRenew` on a resource, and the
//! renewal job. From 7 days before a resource with auto-renew expires, a
//! pass makes a RENEWAL order for the period (rated like `RenewResources`)
//! and pays it from the customer's balance as the customer itself would;
//! when it cannot (funds, budget, a frozen customer), the order is
//! cancelled and the period tried again a day later, until it expires.
//!
//! Each period is renewed at most once, also with several replicas:
//! - a pass claims a period with a lease (`renewal_runs`, keyed by
//!   resource and period end): a conditional update that one pass wins
//!   until the lease runs out;
//! - the database allows one order not cancelled per period
//!   (`ux_orders_auto_renew_key`), and an order is paid at most once;
//! - a period already paid (a pass that stopped after paying) is found by
//!   its key and only marked done.

use chrono::{DateTime, Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_kernel::ids::{CustomerId, OrderId, PartnerId, ResourceId, SessionId, parse_stored};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::{Actor, Principal};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{order, renewal_run, resource};
use super::model::{ExpiryPolicy, OrderState};
use super::{NewOrder, Payment, Source};
use crate::access::SELF_ORDERS_MANAGE;
use crate::error::BillingError;
use crate::service::Billing;

/// The job's name where a call's method would be.
const METHOD: &str = "job:AutoRenew";
/// Auto-renewal starts this long before a resource expires.
pub const RENEW_AHEAD: Duration = Duration::days(7);
/// A failed attempt is tried again this much later.
pub const RETRY_AFTER: Duration = Duration::days(1);
/// How long a pass holds a period it claimed.
const LEASE: Duration = Duration::minutes(10);
/// How many due resources are read at a time.
const BATCH: u64 = 500;
/// The longest failure kept on a period (the column holds 2,048).
const MAX_ERROR: usize = 1_000;

/// What one pass of the renewal job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Renewals {
    /// Periods renewed and paid.
    pub renewed: u64,
    /// Attempts that could not pay (tried again a day later).
    pub failed: u64,
}

/// A resource's auto-renew, as set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRenew {
    pub unit: pricing_pb::PeriodUnit,
    pub count: i32,
    /// 0: no limit.
    pub times: i32,
}

/// The key of the period that ends when `r` expires.
fn key_of(r: &resource::Model) -> String {
    format!("{}@{}", r.id, r.expires_at.timestamp())
}

/// The customer acting on its own resources, for the job: what it may do
/// is exactly what renewing and paying takes.
fn as_customer(customer: CustomerId, now: DateTime<Utc>) -> Mutation {
    let principal = Principal {
        user_id: None,
        session_id: SessionId::generate(),
        actor: Actor::Customer(customer),
        permissions: [
            SELF_ORDERS_MANAGE,
            partner_pricing::access::SELF_PRICING_READ,
        ]
        .into_iter()
        .collect(),
    };
    Mutation::new(principal, METHOD, Uuid::new_v4(), [0; 32], now).keyed_by(METHOD.to_owned())
}

/// The resources due for auto-renewal at `now`, after `after` in
/// `(expiry, id)` order.
async fn due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    after: Option<&(DateTime<Utc>, String)>,
) -> Result<Vec<resource::Model>, BillingError> {
    let mut query = resource::Entity::find()
        .filter(resource::Column::Status.eq("IN_USE"))
        .filter(resource::Column::AutoRenewUnit.is_not_null())
        .filter(resource::Column::ExpiresAt.gt(now))
        .filter(resource::Column::ExpiresAt.lte(now + RENEW_AHEAD))
        .filter(renewals_left());
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(resource::Column::ExpiresAt.gt(*at))
                .add(
                    Condition::all()
                        .add(resource::Column::ExpiresAt.eq(*at))
                        .add(resource::Column::Id.gt(id.as_str())),
                ),
        );
    }
    Ok(query
        .order_by_asc(resource::Column::ExpiresAt)
        .order_by_asc(resource::Column::Id)
        .limit(BATCH)
        .all(conn)
        .await?)
}

/// Claims the period `key` for `owner` until the lease runs out; `false`
/// when it is done, waits for its next attempt, or another pass holds it.
async fn claim(
    conn: &impl ConnectionTrait,
    r: &resource::Model,
    key: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, BillingError> {
    renewal_run::Entity::insert(renewal_run::ActiveModel {
        key: Set(key.to_owned()),
        resource_id: Set(r.id.clone()),
        period_end: Set(r.expires_at),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_owner: Set(None),
        lease_until: Set(None),
        order_id: Set(None),
        last_error: Set(String::new()),
        done_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(renewal_run::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let claimed = renewal_run::Entity::update_many()
        .col_expr(renewal_run::Column::LeaseOwner, Expr::value(Some(owner)))
        .col_expr(
            renewal_run::Column::LeaseUntil,
            Expr::value(Some(now + LEASE)),
        )
        .col_expr(
            renewal_run::Column::Attempts,
            Expr::col(renewal_run::Column::Attempts).add(1),
        )
        .filter(renewal_run::Column::Key.eq(key))
        .filter(renewal_run::Column::DoneAt.is_null())
        .filter(renewal_run::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(renewal_run::Column::LeaseUntil.is_null())
                .add(renewal_run::Column::LeaseUntil.lt(now)),
        )
        .exec(conn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Binds the payment of an auto-renewal order to its period, inside the
/// payment's transaction: the resource must still end where the period
/// ends (no other renewal moved it), have auto-renew on and renewals left;
/// the period is then marked done and counted on the resource, with the
/// payment or not at all. `RESOURCES_UNAVAILABLE` otherwise (the job then
/// cancels the order).
pub async fn settle(
    tx: &DatabaseTransaction,
    key: &str,
    order: &str,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let stale = |why: &str| BillingError::NothingOpened {
        reason: format!("auto-renewal {key}: {why}"),
    };
    let run = renewal_run::Entity::find_by_id(key.to_owned())
        .one(tx)
        .await?
        .ok_or_else(|| stale("no such period"))?;
    let counted = resource::Entity::update_many()
        .col_expr(
            resource::Column::AutoRenewed,
            Expr::col(resource::Column::AutoRenewed).add(1),
        )
        .filter(resource::Column::Id.eq(run.resource_id.as_str()))
        .filter(resource::Column::Status.eq("IN_USE"))
        .filter(resource::Column::ExpiresAt.eq(run.period_end))
        .filter(resource::Column::AutoRenewUnit.is_not_null())
        .filter(renewals_left())
        .exec(tx)
        .await?;
    if counted.rows_affected != 1 {
        return Err(stale(
            "the resource was renewed otherwise, closed, or auto-renew was turned off",
        ));
    }
    let done = renewal_run::Entity::update_many()
        .col_expr(renewal_run::Column::DoneAt, Expr::value(Some(now)))
        .col_expr(
            renewal_run::Column::OrderId,
            Expr::value(Some(order.to_owned())),
        )
        .col_expr(renewal_run::Column::LastError, Expr::value(""))
        .filter(renewal_run::Column::Key.eq(key))
        .filter(renewal_run::Column::DoneAt.is_null())
        .exec(tx)
        .await?;
    if done.rows_affected != 1 {
        return Err(stale("already renewed"));
    }
    Ok(())
}

/// Resources whose auto-renew has renewals left.
fn renewals_left() -> Condition {
    Condition::any()
        .add(resource::Column::AutoRenewTimes.eq(0))
        .add(
            Expr::col(resource::Column::AutoRenewed)
                .lt(Expr::col(resource::Column::AutoRenewTimes)),
        )
}

/// The orders' auto-renew keys of resource `id` (`{id}@…`). On SQLite, which
/// compares text bytewise and plans a `LIKE` with a bound pattern as a scan
/// (decision 184), they are the range from `{id}@` to `{id}A` ('A' follows
/// '@'), which the key's index answers; this runs inside a write transaction,
/// which would otherwise hold the one write lock for a scan of every order.
/// PostgreSQL's collation need not be bytewise, so it keeps the prefix match,
/// which its `text_pattern_ops` index answers (migration 000061).
fn keys_of(tx: &DatabaseTransaction, id: &str) -> Condition {
    let key = order::Column::AutoRenewKey;
    if tx.get_database_backend() == DbBackend::Sqlite {
        Condition::all()
            .add(key.gte(format!("{id}@")))
            .add(key.lt(format!("{id}A")))
    } else {
        // Escaped (`res_…` holds a wildcard), so the whole prefix reaches
        // the pattern index of migration 000061.
        Condition::all().add(key.like(partner_kernel::like::prefix_like(&format!("{id}@"))))
    }
}

/// Forgets the auto-renew bookkeeping of resource `id` (its unsubscribed
/// periods may be renewed again once auto-renew is set anew).
pub(crate) async fn forget(tx: &DatabaseTransaction, id: &str) -> Result<(), BillingError> {
    renewal_run::Entity::delete_many()
        .filter(renewal_run::Column::ResourceId.eq(id))
        .exec(tx)
        .await?;
    order::Entity::update_many()
        .col_expr(
            order::Column::AutoRenewKey,
            Expr::value(Option::<String>::None),
        )
        .filter(keys_of(tx, id))
        .exec(tx)
        .await?;
    Ok(())
}

impl Billing {
    /// One pass of the renewal job on the platform clock.
    pub async fn renew_due(&self) -> Result<Renewals, BillingError> {
        self.renew_due_at(self.clock().now()).await
    }

    /// One pass of the renewal job as of `now`: every resource due is
    /// tried once (one that fails does not stop the others).
    pub async fn renew_due_at(&self, now: DateTime<Utc>) -> Result<Renewals, BillingError> {
        let owner = Uuid::new_v4().to_string();
        let mut out = Renewals::default();
        let mut after = None;
        loop {
            let batch = due(self.db().conn(), now, after.as_ref()).await?;
            for r in &batch {
                // A long pass leases on the clock of each claim.
                let at = Ord::max(now, self.clock().now());
                match self.renew_one(r, &owner, at).await {
                    Ok(Some(true)) => out.renewed += 1,
                    Ok(Some(false)) => out.failed += 1,
                    Ok(None) => {}
                    Err(e) => {
                        out.failed += 1;
                        tracing::warn!(resource = %r.id, error = %e, "could not auto-renew a resource");
                    }
                }
            }
            match batch.last() {
                Some(last) if batch.len() as u64 == BATCH => {
                    after = Some((last.expires_at, last.id.clone()));
                }
                _ => return Ok(out),
            }
        }
    }

    /// Renews the period of `r` ending at its expiry, if this pass claims
    /// it: `Some(true)` renewed, `Some(false)` could not pay, `None` not
    /// this pass's.
    async fn renew_one(
        &self,
        r: &resource::Model,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, BillingError> {
        let key = key_of(r);
        let conn = self.db().conn();
        if !claim(conn, r, &key, owner, now).await? {
            return Ok(None);
        }
        let customer = parse_stored(&r.customer_id, CustomerId::parse)?;
        let live = order::Entity::find()
            .filter(order::Column::AutoRenewKey.eq(key.as_str()))
            .filter(order::Column::State.ne(OrderState::Cancelled.as_str()))
            .one(conn)
            .await?;
        let attempt = match live {
            // Paid by an earlier pass, which marked the period done with
            // the payment: nothing to do.
            Some(o) if o.state == OrderState::Completed.as_str() => return Ok(None),
            Some(o) => self.pay_renewal(customer, &o.id, now).await,
            None => self.make_renewal(r, customer, &key, now).await,
        };
        match attempt {
            // Paid: the payment marked the period done (see `settle`).
            Ok(_) => Ok(Some(true)),
            Err((order_id, why)) => {
                if let Some(id) = &order_id {
                    let reason = format!("auto-renew could not pay: {why}");
                    super::cancel::cancel_row(conn, id, &reason, Condition::all(), now).await?;
                }
                renewal_run::Entity::update_many()
                    .col_expr(
                        renewal_run::Column::NextAttemptAt,
                        Expr::value(now + RETRY_AFTER),
                    )
                    .col_expr(
                        renewal_run::Column::LastError,
                        Expr::value(why.chars().take(MAX_ERROR).collect::<String>()),
                    )
                    .col_expr(renewal_run::Column::OrderId, Expr::value(order_id))
                    .col_expr(
                        renewal_run::Column::LeaseUntil,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .filter(renewal_run::Column::Key.eq(key.as_str()))
                    .filter(renewal_run::Column::LeaseOwner.eq(owner))
                    .exec(conn)
                    .await?;
                Ok(Some(false))
            }
        }
    }

    /// Makes the RENEWAL order of the period `key` and pays it; the paid
    /// order, or the order made (if any) and why it is not paid.
    async fn make_renewal(
        &self,
        r: &resource::Model,
        customer: CustomerId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<String, (Option<String>, String)> {
        let unit = r
            .auto_renew_unit
            .as_deref()
            .and_then(pricing_pb::PeriodUnit::from_str_name)
            .ok_or((None, "auto-renew has no period unit".to_owned()))?;
        let id = parse_stored(&r.id, ResourceId::parse).map_err(|e| (None, e.to_string()))?;
        let made = self
            .create_order(
                as_customer(customer, now),
                NewOrder {
                    customer: Some(customer),
                    source: Source::Renewal {
                        resources: vec![id],
                        unit,
                        count: Ord::max(r.auto_renew_count, 1),
                        auto_renew_key: Some(key.to_owned()),
                    },
                    reseller: None,
                },
            )
            .await
            .map_err(|e| (None, e.to_string()))?;
        let order = made.order.unwrap_or_default().id;
        self.pay_renewal(customer, &order, now).await
    }

    /// Pays the renewal order `id` from the customer's balance.
    async fn pay_renewal(
        &self,
        customer: CustomerId,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, (Option<String>, String)> {
        let order = parse_stored(id, OrderId::parse).map_err(|e| (None, e.to_string()))?;
        match self
            .pay_order(
                as_customer(customer, now),
                Payment {
                    order,
                    coupons: Vec::new(),
                    discount: None,
                    reseller: None,
                    agreement: None,
                },
            )
            .await
        {
            Ok(_) => Ok(id.to_owned()),
            Err(e) => Err((Some(id.to_owned()), e.to_string())),
        }
    }

    /// Sets (`Some`) or turns off (`None`) the auto-renew of a resource in
    /// use that the caller reaches.
    pub async fn set_auto_renew(
        &self,
        m: Mutation,
        id: ResourceId,
        setting: Option<AutoRenew>,
        reseller: Option<PartnerId>,
    ) -> Result<pb::Resource, BillingError> {
        let columns = match setting {
            Some(s) => vec![
                (
                    resource::Column::AutoRenewUnit,
                    Expr::value(Some(s.unit.as_str_name().to_owned())),
                ),
                (resource::Column::AutoRenewCount, Expr::value(s.count)),
                (resource::Column::AutoRenewTimes, Expr::value(s.times)),
                (resource::Column::AutoRenewed, Expr::value(0)),
            ],
            None => vec![(
                resource::Column::AutoRenewUnit,
                Expr::value(Option::<String>::None),
            )],
        };
        self.update_resource(m, id, reseller, columns).await
    }

    /// Sets what happens to a resource in use when its paid period ends.
    pub async fn set_expiry_policy(
        &self,
        m: Mutation,
        id: ResourceId,
        policy: ExpiryPolicy,
        reseller: Option<PartnerId>,
    ) -> Result<pb::Resource, BillingError> {
        let columns = vec![(resource::Column::ExpiryPolicy, Expr::value(policy.as_str()))];
        self.update_resource(m, id, reseller, columns).await
    }
}
