//! The context of one mutating call: who, which method, which request id, when.
//! Idempotency, audit and outbox writers all take it, so the three records of
//! one effect always agree.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::PartnerId;
use crate::principal::Principal;

/// One mutating call.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// The caller.
    pub principal: Principal,
    /// The full gRPC method, e.g. `partner.accounts.v1.PartnerService/RegisterPartner`.
    pub method: &'static str,
    /// The caller's idempotency key.
    pub request_id: Uuid,
    /// The platform time of the call.
    pub now: DateTime<Utc>,
    /// The reseller a distributor's user acts for, when it does. The audit
    /// record then belongs to that reseller (so it sees the change in its own
    /// trail) while naming the distributor's user as the actor.
    pub acting_for: Option<PartnerId>,
}

impl Mutation {
    /// A call of `method` by `principal` for its own partner; a caller acting
    /// for a reseller sets [`Mutation::acting_for`] afterwards.
    pub fn new(
        principal: Principal,
        method: &'static str,
        request_id: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            principal,
            method,
            request_id,
            now,
            acting_for: None,
        }
    }
}
