//! Webhooks (`partner.events.v1.WebhookService`): the outbox pushed to
//! partners' endpoints. Each endpoint keeps a cursor in the partner's
//! events; a worker holding the endpoint's lease queues the events after it
//! that the endpoint receives as deliveries (in order, each with a queue
//! position), then sends them one at a time, oldest first, signed the
//! Standard Webhooks way. See docs/webhooks.md.

pub mod endpoints;
pub mod entity;
pub mod error;
pub mod grpc;
pub mod model;
pub mod queue;
pub mod sender;
pub mod signature;
pub mod store;
pub mod target;
pub mod worker;

use std::sync::Arc;

use partner_kernel::access::AccessTable;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::page::PageTokens;
use partner_kernel::seal::Sealer;

pub use error::WebhookError;
pub use target::TargetPolicy;

/// The webhook domain: endpoints, deliveries, and what they need.
#[derive(Debug, Clone)]
pub struct Webhooks {
    db: Db,
    clock: SharedClock,
    sealer: Sealer,
    access: Arc<AccessTable>,
    pages: PageTokens,
    policy: TargetPolicy,
}

impl Webhooks {
    pub fn new(
        db: Db,
        clock: SharedClock,
        sealer: Sealer,
        access: Arc<AccessTable>,
        pages: PageTokens,
        policy: TargetPolicy,
    ) -> Self {
        Self {
            db,
            clock,
            sealer,
            access,
            pages,
            policy,
        }
    }

    /// Where endpoints may point.
    pub fn policy(&self) -> TargetPolicy {
        self.policy
    }
}
