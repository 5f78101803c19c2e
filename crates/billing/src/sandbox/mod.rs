//! The sandbox clock (`SandboxService`): in sandbox mode the operator moves
//! the platform clock forward and the jobs run for the time crossed — a
//! day at a time, each job once per step, as the replicas' ticks would
//! have — so a partner can try renewals, expiry and refunds in minutes.
//! The offset is kept in the database ([`store`]): a restarted server keeps
//! the sandbox's time, and every replica moves to it (at its next job tick,
//! and whenever it is asked the time).

pub mod grpc;
pub mod store;

use std::sync::Arc;

use chrono::Duration;
use partner_api::billing::v1 as pb;
use partner_kernel::clock::{SandboxClock, to_proto_timestamp};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};

use crate::access::PLATFORM_SANDBOX_MANAGE;
use crate::error::BillingError;
use crate::service::Billing;

/// The longest single advance.
pub const MAX_ADVANCE: Duration = Duration::days(366);
/// The jobs run at least once per this much time crossed.
const STEP: Duration = Duration::days(1);

/// A sandbox's clock, and the lock that lets one advance run at a time.
#[derive(Debug)]
pub struct Sandbox {
    clock: Arc<SandboxClock>,
    advancing: futures::lock::Mutex<()>,
}

impl Sandbox {
    pub fn new(clock: Arc<SandboxClock>) -> Self {
        Self {
            clock,
            advancing: futures::lock::Mutex::new(()),
        }
    }

    /// Moves the clock to the stored offset, if that is ahead.
    pub async fn sync(&self, conn: &impl sea_orm::ConnectionTrait) -> Result<(), BillingError> {
        self.clock.raise_to(store::stored(conn).await?);
        Ok(())
    }
}

fn proto_duration(d: Duration) -> prost_types::Duration {
    let micros = d.num_microseconds().unwrap_or(0);
    prost_types::Duration {
        seconds: micros / 1_000_000,
        nanos: i32::try_from((micros % 1_000_000) * 1_000).unwrap_or(0),
    }
}

impl Billing {
    /// Moves the sandbox clock to where another replica moved it.
    pub async fn sync_sandbox_clock(&self) -> Result<(), BillingError> {
        match self.sandbox() {
            Some(s) => s.sync(self.db().conn()).await,
            None => Ok(()),
        }
    }

    pub async fn get_clock(&self) -> Result<pb::GetClockResponse, BillingError> {
        self.sync_sandbox_clock().await?;
        Ok(pb::GetClockResponse {
            now: Some(to_proto_timestamp(self.clock().now())),
            offset: Some(proto_duration(
                self.sandbox()
                    .map_or(Duration::zero(), |s| s.clock.offset()),
            )),
            sandbox: self.sandbox().is_some(),
        })
    }

    /// Moves the sandbox clock forward by `by`, a step of at most a day at
    /// a time, running every job after each step.
    pub async fn advance_clock(
        &self,
        m: Mutation,
        by: Duration,
    ) -> Result<pb::AdvanceClockResponse, BillingError> {
        m.principal.require(PLATFORM_SANDBOX_MANAGE)?;
        let sandbox = self.sandbox().ok_or(BillingError::SandboxDisabled)?;
        // One advance at a time, a replay included: it answers what the
        // first did and moves nothing.
        let _one_at_a_time = sandbox.advancing.lock().await;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        sandbox.sync(self.db().conn()).await?;
        let from = self.clock().now();
        // Where this advance goes is fixed when it first starts: a retry
        // after a lost answer or a crash, here or through another replica,
        // goes on to the same point rather than moving the clock again.
        let target = store::target_of(
            self.db().conn(),
            (&m.idempotency_caller(), m.request_id),
            sandbox.clock.offset() + by,
            from,
        )
        .await?;
        let mut jobs = pb::JobRuns::default();
        // A step at a time; another replica's advance may carry the clock
        // further meanwhile, and then this one has less to do.
        loop {
            let offset = sandbox.clock.offset();
            if offset >= target {
                break;
            }
            let next = Ord::min(offset + STEP, target);
            // Stored before the clock moves and the jobs run: what they do
            // at the new time is never done again at an earlier one after a
            // restart, and no replica is ahead of what is stored.
            let stored = store::raise(self.db(), next, self.clock().now()).await?;
            sandbox.clock.raise_to(stored);
            self.run_jobs(&mut jobs).await;
        }
        let now = self.clock().now();
        let answer = pb::AdvanceClockResponse {
            now: Some(to_proto_timestamp(now)),
            jobs: Some(jobs),
        };
        let summary = serde_json::json!({
            "from": from,
            "to": now,
            "renewed": jobs.resources_renewed,
            "orders_expired": jobs.orders_expired,
        });
        let mut m = m;
        m.now = now;
        write::commit(self.db(), &m, move |_tx| {
            Box::pin(async move {
                Ok::<_, BillingError>(Outcome::new(
                    answer,
                    Change::of(None, "platform-clock").after(summary),
                ))
            })
        })
        .await
    }

    /// Every job once, on the platform clock now. A job that fails is
    /// reported and the others run (as on the replicas' ticks): the clock
    /// has moved either way.
    async fn run_jobs(&self, jobs: &mut pb::JobRuns) {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let warn = |job: &str, e: &BillingError| {
            tracing::warn!(job, error = %e, "a job failed while the sandbox clock moved");
        };
        match self.expire_holds().await {
            Ok(n) => jobs.holds_expired += count(n),
            Err(e) => warn("holds", &e),
        }
        match self.expire_coupons().await {
            Ok(n) => jobs.coupons_expired += count(n),
            Err(e) => warn("coupons", &e),
        }
        match self.expire_orders().await {
            Ok(n) => jobs.orders_expired += count(n),
            Err(e) => warn("orders", &e),
        }
        match self.renew_due().await {
            Ok(r) => {
                jobs.resources_renewed += count(r.renewed);
                jobs.renewals_failed += count(r.failed);
            }
            Err(e) => warn("renewals", &e),
        }
        // After the renewals: what they renewed does not expire.
        match self.expire_resources().await {
            Ok(x) => {
                jobs.resources_expired += count(x.expired);
                jobs.resources_frozen += count(x.frozen);
                jobs.resources_released += count(x.released);
                jobs.resources_to_on_demand += count(x.to_on_demand);
            }
            Err(e) => warn("expiry", &e),
        }
        // Then what was used is charged, and what is owed repaid or frozen.
        match self.settle_usage().await {
            Ok(s) => {
                jobs.usage_customers_settled += count(s.customers);
                jobs.usage_records_settled += count(s.records);
            }
            Err(e) => warn("settlement", &e),
        }
        match self.settle_arrears().await {
            Ok(a) => {
                jobs.arrears_cleared += count(a.cleared);
                jobs.arrears_frozen += count(a.frozen);
            }
            Err(e) => warn("arrears", &e),
        }
    }
}
