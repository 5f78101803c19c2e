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

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use partner_kernel::db::Db;

use super::entity::{delivery, endpoint};
use super::model::{Status, next_attempt, retry_delay};
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
/// Endpoints served at once by one worker.
const CONCURRENT_ENDPOINTS: usize = 8;
/// Endpoints looked at per round.
const ROUND: u64 = 64;
/// Deliveries one endpoint gets per lease before others get a turn.
const SENDS_PER_LEASE: usize = 20;

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
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "webhook deliveries: will retry");
            }
            tokio::select! {
                _ = sequenced.changed() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Serves every endpoint with work due now; returns how many it served.
    pub async fn round(&self) -> Result<usize, WebhookError> {
        let due = store::due_endpoints(self.db().conn(), self.now(), ROUND).await?;
        let served = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(CONCURRENT_ENDPOINTS, |id| async move {
                if let Err(e) = self.serve(&id).await {
                    tracing::warn!(endpoint = %id, error = %e, "webhook endpoint: will retry");
                }
                // Whatever happened, the lease goes back (it lapses otherwise).
                let _ = store::release(self.db().conn(), &id, &self.owner).await;
            })
            .await;
        Ok(served)
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
        while queue::queue_events(self.db(), &row, self.now()).await? > 0 {
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
        let key = signature::key_of(&self.webhooks.secret_of(endpoint)?)?;
        let timestamp = now.timestamp();
        let answer = self
            .sender
            .send(Message {
                url: &endpoint.url,
                id: &d.event_id,
                timestamp,
                signature: signature::sign(&key, &d.event_id, timestamp, &d.body),
                body: &d.body,
            })
            .await;
        let done = self.now();
        let first = d.first_attempt_at.unwrap_or(now);
        let outcome = outcome_of(&answer, first, attempt, done);
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

/// What attempt number `attempt` of a delivery first tried at `first` ended
/// in, given its answer at `now`.
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
