//! The delivery worker of one server process. Every replica runs one; they
//! share the work through the database:
//! - an endpoint is served by the worker holding its lease (taken in one
//!   conditional UPDATE, renewed before each send), so one endpoint's
//!   deliveries go out one at a time, in queue order;
//! - each attempt is claimed by a compare-and-set on the delivery's attempt
//!   count, so even a worker whose lease lapsed mid-send (a stalled process)
//!   cannot make a second worker send the same attempt again;
//! - the claim schedules the retry before the send, so a worker that dies
//!   mid-send leaves a delivery that is retried later: at least once.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use partner_kernel::db::Db;
use tokio::task::JoinSet;

use super::entity::{delivery, endpoint};
use super::model::{RETRY_WINDOW_HOURS, Status, next_attempt, retry_delay};
use super::queue;
use super::sender::{Answer, Message, Sender};
use super::signature;
use super::store::{self, Outcome};
use super::{WebhookError, Webhooks};

/// How often the worker looks for due work without a signal.
pub const POLL: Duration = Duration::from_millis(500);
/// How long a lease lasts: longer than one attempt's deadline, so a live
/// worker renews it before it lapses.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Endpoints served at once by one worker: a slow endpoint holds one of
/// these, never the others.
const CONCURRENT_ENDPOINTS: usize = 16;
/// Endpoints looked at per round.
const ROUND: u64 = 64;
/// Deliveries one endpoint gets per lease before others get a turn.
const SENDS_PER_LEASE: usize = 20;
/// Batches of events one endpoint queues per lease (the rest next turn).
const QUEUE_BATCHES_PER_LEASE: usize = 10;
/// How often finished deliveries past their keeping time are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How long finished deliveries are kept for `ListDeliveries`.
pub const KEEP_FINISHED_DAYS: i64 = 30;
/// Finished deliveries deleted per statement.
const PRUNE_BATCH: u64 = 1000;

/// One process's delivery worker.
#[derive(Debug, Clone)]
pub struct Worker {
    webhooks: Webhooks,
    sender: Sender,
    /// This worker's name in leases.
    owner: String,
}

impl Worker {
    /// A worker for `webhooks`.
    pub fn new(webhooks: Webhooks) -> Result<Self, String> {
        let sender = Sender::new(webhooks.policy)?;
        Ok(Self {
            webhooks,
            sender,
            owner: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    fn db(&self) -> &Db {
        &self.webhooks.db
    }

    fn now(&self) -> DateTime<Utc> {
        self.webhooks.clock.now()
    }

    /// Serves due endpoints until the task is aborted: woken when this
    /// process numbers events, and every [`POLL`] for retries and other
    /// replicas' events. An abort mid-send leaves a claimed attempt, which
    /// is retried later.
    pub async fn run(self) {
        let mut sequenced = self.db().outbox().sequenced();
        // Dropped with this task, so aborting the worker aborts its sends.
        let mut serving: JoinSet<String> = JoinSet::new();
        let mut busy: HashSet<String> = HashSet::new();
        let mut pruned_at = tokio::time::Instant::now();
        loop {
            while let Some(done) = serving.try_join_next() {
                if let Ok(id) = done {
                    busy.remove(&id);
                }
            }
            if let Err(e) = self.round(&mut serving, &mut busy).await {
                tracing::warn!(error = %e, "webhook deliveries: will retry");
            }
            if pruned_at.elapsed() >= PRUNE_EVERY {
                pruned_at = tokio::time::Instant::now();
                self.prune().await;
            }
            tokio::select! {
                _ = sequenced.changed() => {}
                () = tokio::time::sleep(POLL) => {}
                Some(done) = serving.join_next(), if !serving.is_empty() => {
                    if let Ok(id) = done {
                        busy.remove(&id);
                    }
                }
            }
        }
    }

    /// Starts serving each endpoint with work due now that this worker is
    /// not serving already, while it has room; returns how many it started.
    async fn round(
        &self,
        serving: &mut JoinSet<String>,
        busy: &mut HashSet<String>,
    ) -> Result<usize, WebhookError> {
        let due = store::due_endpoints(self.db().conn(), self.now(), ROUND).await?;
        let mut started = 0;
        for id in due {
            if serving.len() >= CONCURRENT_ENDPOINTS {
                break;
            }
            if !busy.insert(id.clone()) {
                continue;
            }
            let worker = self.clone();
            serving.spawn(async move {
                if let Err(e) = worker.serve(&id).await {
                    tracing::warn!(endpoint = %id, error = %e, "webhook endpoint: will retry");
                }
                // Whatever happened, the lease goes back (it lapses otherwise).
                let _ = store::release(worker.db().conn(), &id, &worker.owner).await;
                id
            });
            started += 1;
        }
        Ok(started)
    }

    /// Deletes finished deliveries older than [`KEEP_FINISHED_DAYS`].
    async fn prune(&self) {
        let before = self.now() - chrono::Duration::days(KEEP_FINISHED_DAYS);
        loop {
            match store::prune_finished(self.db().conn(), before, PRUNE_BATCH).await {
                Ok(n) if n >= PRUNE_BATCH => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete old webhook deliveries; will retry");
                    return;
                }
            }
        }
    }

    /// Takes endpoint `id`'s lease, queues its new events, and sends its due
    /// deliveries in order until one fails or the turn ends.
    async fn serve(&self, id: &str) -> Result<(), WebhookError> {
        if !self.renew(id).await? {
            return Ok(());
        }
        let Some(endpoint) = store::endpoint_by_id(self.db().conn(), id).await? else {
            return Ok(());
        };
        if endpoint.disabled {
            return Ok(());
        }
        self.queue(&endpoint).await?;
        for _ in 0..SENDS_PER_LEASE {
            let Some(head) = store::head(self.db().conn(), id).await? else {
                return Ok(());
            };
            let now = self.now();
            // Later deliveries wait for the head: the order holds.
            if head.next_attempt_at > now || !self.renew(id).await? {
                return Ok(());
            }
            if now > head.created_at + chrono::Duration::hours(RETRY_WINDOW_HOURS) {
                // Its window ended while no attempt could finish (a worker
                // died mid-send): it is not sent again.
                store::give_up(
                    self.db().conn(),
                    &head,
                    "no attempt finished within 24 hours",
                )
                .await?;
                continue;
            }
            if !self.attempt(&endpoint, &head, now).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn renew(&self, id: &str) -> Result<bool, WebhookError> {
        let now = self.now();
        Ok(store::lease(self.db().conn(), id, &self.owner, now, now + LEASE).await?)
    }

    async fn queue(&self, endpoint: &endpoint::Model) -> Result<(), WebhookError> {
        let mut row = endpoint.clone();
        for _ in 0..QUEUE_BATCHES_PER_LEASE {
            if queue::queue_events(self.db(), &row, self.now()).await? == 0
                || !self.renew(&row.id).await?
            {
                break;
            }
            // Reread: the cursor moved.
            match store::endpoint_by_id(self.db().conn(), &row.id).await? {
                Some(fresh) => row = fresh,
                None => break,
            }
        }
        Ok(())
    }

    /// Makes one attempt of `d`; returns whether it succeeded (or was given
    /// up), so the next delivery may go.
    async fn attempt(
        &self,
        endpoint: &endpoint::Model,
        d: &delivery::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, WebhookError> {
        let attempt = d.attempts + 1;
        let retry_at = now + retry_delay(attempt);
        if !store::claim_attempt(self.db().conn(), d, now, retry_at).await? {
            return Ok(false);
        }
        let keys = self
            .webhooks
            .signing_secrets(endpoint, now)?
            .iter()
            .map(|secret| signature::key_of(secret))
            .collect::<Result<Vec<_>, _>>()?;
        let timestamp = now.timestamp();
        let answer = self
            .sender
            .send(Message {
                url: &endpoint.url,
                id: &d.event_id,
                timestamp,
                signature: signature::sign_all(&keys, &d.event_id, timestamp, &d.body),
                body: &d.body,
            })
            .await;
        let done = self.now();
        let outcome = outcome_of(&answer, d.created_at, attempt, done);
        let moves_on = outcome.status != Status::Pending;
        if !answer.accepted() {
            tracing::info!(
                endpoint = %endpoint.id, delivery = %d.id, attempt,
                error = %answer.error, "webhook delivery failed"
            );
        }
        store::record(self.db().conn(), &d.id, attempt, outcome).await?;
        Ok(moves_on)
    }
}

/// What attempt number `attempt` of a delivery queued at `first` ended in,
/// given its answer at `now`. The retry window starts when it was queued, so
/// a backlog behind an endpoint that was down drains (one attempt each)
/// instead of each delivery getting its own day.
fn outcome_of<'a>(
    answer: &'a Answer,
    first: DateTime<Utc>,
    attempt: i32,
    now: DateTime<Utc>,
) -> Outcome<'a> {
    let (status, next_attempt_at, delivered_at) = if answer.accepted() {
        (Status::Succeeded, now, Some(now))
    } else {
        match next_attempt(first, attempt, now) {
            Some(next) => (Status::Pending, next, None),
            None => (Status::Failed, now, None),
        }
    };
    Outcome {
        status,
        code: answer.code,
        error: &answer.error,
        excerpt: &answer.excerpt,
        next_attempt_at,
        delivered_at,
    }
}
