//! The context of one mutating call: who, which method, which request id,
//! the request's fingerprint, when. The write path ([`crate::write`]) takes
//! it, so the idempotency record, the audit records and the events of one
//! effect always agree.
//!
//! A handler starts a [`Call`] from the tonic request before taking the
//! message apart (the fingerprint covers the whole message), parses the
//! fields, and turns the call into a [`Mutation`] with the parsed request id.

use chrono::{DateTime, Utc};
use tonic::Request;
use uuid::Uuid;

use crate::access::Rule;
use crate::clock::SharedClock;
use crate::idempotency;
use crate::ids::PartnerId;
use crate::principal::Principal;
use crate::secrets::SecretKey;

/// One mutating call.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// The caller.
    pub principal: Principal,
    /// The full gRPC method, e.g. `partner.accounts.v1.PartnerService/RegisterPartner`.
    pub method: &'static str,
    /// The caller's idempotency key.
    pub request_id: Uuid,
    /// A keyed digest of the whole request: the same key with another
    /// request is `IDEMPOTENCY_KEY_REUSED`.
    pub fingerprint: [u8; 32],
    /// The platform time of the call.
    pub now: DateTime<Utc>,
    /// The reseller a distributor's user acts for, when it does. The audit
    /// record then belongs to that reseller (so it sees the change in its own
    /// trail) while naming the distributor's user as the actor.
    pub acting_for: Option<PartnerId>,
    /// Whose idempotency keys these are; the principal's user unless set.
    caller: Option<String>,
}

impl Mutation {
    /// A call of `method` by `principal` for its own partner; handlers get
    /// theirs from [`Call::mutation`].
    pub fn new(
        principal: Principal,
        method: &'static str,
        request_id: Uuid,
        fingerprint: [u8; 32],
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            principal,
            method,
            request_id,
            fingerprint,
            now,
            acting_for: None,
            caller: None,
        }
    }

    /// The owner of the idempotency key: the principal's user, unless the
    /// call was [keyed](Self::keyed_by) otherwise.
    pub fn idempotency_caller(&self) -> String {
        self.caller
            .clone()
            .unwrap_or_else(|| self.principal.actor_id())
    }

    /// Keys the call's idempotency record by `caller` instead of the
    /// principal's user: for public calls whose caller has no account yet
    /// (signing up with an invitation), `caller` is something only that caller
    /// holds, such as the invitation its secret token resolved to. At most 40
    /// characters.
    pub fn keyed_by(mut self, caller: String) -> Self {
        self.caller = Some(caller);
        self
    }
}

/// A mutating call whose request id is not parsed yet.
#[derive(Debug, Clone)]
pub struct Call {
    principal: Option<Principal>,
    method: &'static str,
    fingerprint: [u8; 32],
    now: DateTime<Utc>,
}

impl Call {
    /// The caller, for checks before the mutation (a public call has none).
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The platform time of the call.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The mutation, with the request id the handler parsed. A call that
    /// reached a handler without a principal (a wiring bug: only public RPCs
    /// pass the authentication layer without one) is refused.
    pub fn mutation(mut self, request_id: Uuid) -> Result<Mutation, tonic::Status> {
        let principal = self
            .principal
            .take()
            .ok_or_else(|| tonic::Status::unauthenticated("authentication required"))?;
        Ok(self.into_mutation(principal, request_id))
    }

    /// The mutation of a public call, acted by `principal` (the account the
    /// call itself creates).
    pub fn mutation_as(self, principal: Principal, request_id: Uuid) -> Mutation {
        self.into_mutation(principal, request_id)
    }

    fn into_mutation(self, principal: Principal, request_id: Uuid) -> Mutation {
        Mutation::new(
            principal,
            self.method,
            request_id,
            self.fingerprint,
            self.now,
        )
    }
}

/// Starts [`Call`]s: the domains' APIs hold one.
#[derive(Debug, Clone)]
pub struct Calls {
    fingerprints: SecretKey,
    clock: SharedClock,
}

impl Calls {
    /// Calls fingerprinted with `fingerprints` and timed by `clock`.
    pub fn new(fingerprints: SecretKey, clock: SharedClock) -> Self {
        Self {
            fingerprints,
            clock,
        }
    }

    /// The platform clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The call `req` makes: its principal (if any), its method (from the
    /// access rule the authentication layer matched), the fingerprint of its
    /// message, and now.
    pub fn start<T: prost::Message>(&self, req: &Request<T>) -> Result<Call, tonic::Status> {
        let rule = req
            .extensions()
            .get::<Rule>()
            .ok_or_else(|| tonic::Status::internal("no access rule on the request"))?;
        Ok(Call {
            principal: req.extensions().get::<Principal>().cloned(),
            method: rule.method,
            fingerprint: idempotency::fingerprint(&self.fingerprints, req.get_ref()),
            now: self.clock.now(),
        })
    }
}
