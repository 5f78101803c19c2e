//! The one write path. Every mutation of every domain runs through
//! [`commit`]: one transaction claims the request id, runs the effect,
//! records an audit entry for each resource the effect changed and the event
//! each change announces, stores the response, and commits — all or nothing.
//!
//! A verb reads parse → authorize → `commit(db, &m, |tx| …)`; the effect
//! returns an [`Outcome`]: the response and the [`Change`]s it made.
//!
//! Idempotency: the same caller, method and `request_id` with the same
//! request yields the stored response and no second effect; with a different
//! request it is refused with `IDEMPOTENCY_KEY_REUSED`. The record is claimed
//! *before* the effect, in the effect's transaction, so a concurrent duplicate
//! waits on the claim (PostgreSQL row lock, or the SQLite writer lock) and
//! then finds the committed response instead of racing the effect. An effect
//! that fails rolls the claim back, so the request can be retried.

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;

use crate::audit;
use crate::db::Db;
use crate::error::KernelError;
use crate::idempotency;
use crate::ids::PartnerId;
use crate::mutation::Mutation;
use crate::outbox;

/// How many times a claim that lost a race is retried before giving up.
const CLAIM_ATTEMPTS: usize = 5;

/// One resource a mutation changed: always audited, and published as an
/// event when the change [announces](Change::announce) one.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The tenant whose data changed; `None` for platform-level changes.
    pub partner_id: Option<PartnerId>,
    /// The id of the changed resource.
    pub resource_id: String,
    /// The caller's stated reason, if any.
    pub reason: Option<String>,
    /// A summary of the resource before the change; `None` for creations.
    pub before: Option<serde_json::Value>,
    /// A summary of the resource after the change; `None` for deletions.
    pub after: Option<serde_json::Value>,
    /// The event type to publish, e.g. `user.created`.
    pub event: Option<&'static str>,
}

impl Change {
    /// A change to `resource_id` of `partner_id`.
    pub fn of(partner_id: Option<PartnerId>, resource_id: impl ToString) -> Self {
        Self {
            partner_id,
            resource_id: resource_id.to_string(),
            ..Self::default()
        }
    }

    /// The resource as it was.
    pub fn before(mut self, summary: serde_json::Value) -> Self {
        self.before = Some(summary);
        self
    }

    /// The resource as it is now.
    pub fn after(mut self, summary: serde_json::Value) -> Self {
        self.after = Some(summary);
        self
    }

    /// Why the caller made it; an empty reason is none.
    pub fn reason(mut self, reason: String) -> Self {
        self.reason = Some(reason).filter(|r| !r.is_empty());
        self
    }

    /// Publishes the change as an event of `event_type`, whose payload is the
    /// resource's summary after the change (before it, for a deletion).
    pub fn announce(mut self, event_type: &'static str) -> Self {
        self.event = Some(event_type);
        self
    }
}

/// What an effect did: its response and the resources it changed (at least
/// one: every write leaves an audit record).
#[derive(Debug)]
pub struct Outcome<R> {
    response: R,
    changes: Vec<Change>,
}

impl<R> Outcome<R> {
    /// The response of an effect that made `change`.
    pub fn new(response: R, change: Change) -> Self {
        Self {
            response,
            changes: vec![change],
        }
    }

    /// The response of a batch effect that made `changes`, one per item
    /// it changed; a batch in which every item was refused changes nothing
    /// and leaves no audit record (its response says why, item by item).
    pub fn batch(response: R, changes: Vec<Change>) -> Self {
        Self { response, changes }
    }

    /// One more resource the effect changed.
    pub fn and(mut self, change: Change) -> Self {
        self.changes.push(change);
        self
    }
}

/// Runs the mutation `m`; see the module docs.
pub async fn commit<R, E, F>(db: &Db, m: &Mutation, effect: F) -> Result<R, E>
where
    R: prost::Message + Default,
    E: From<KernelError>,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<Outcome<R>, E>>,
{
    let caller = m.idempotency_caller();
    let mut effect = Some(effect);
    for _ in 0..CLAIM_ATTEMPTS {
        let tx = db.begin_write().await.map_err(KernelError::from)?;
        let attempt = async {
            // Claimed first, looked up only when taken: a new call (nearly
            // every call) costs one statement here, not two. A claim taken
            // by a transaction still open waits for it (PostgreSQL) or
            // cannot happen (SQLite's single writer), so a taken key's
            // record is committed and visible to the lookup — unless that
            // transaction rolled back, and then the claim is tried again.
            if !idempotency::claim(&*tx, &caller, m).await? {
                return match idempotency::find(&*tx, &caller, m).await? {
                    Some(stored) => idempotency::replay(stored, &m.fingerprint)
                        .map(Some)
                        .map_err(E::from),
                    None => Ok(None),
                };
            }
            let Some(effect) = effect.take() else {
                return Err(E::from(KernelError::Conflict));
            };
            let Outcome { response, changes } = effect(&tx).await?;
            let announced = record_changes(&tx, m, &changes).await?;
            idempotency::store_response(&*tx, &caller, m, &response).await?;
            tx.commit().await.map_err(KernelError::from)?;
            if announced {
                db.outbox().written();
            }
            Ok(Some(response))
        };
        if let Some(response) = db.writing(attempt).await? {
            return Ok(response);
        }
    }
    Err(E::from(KernelError::Conflict))
}

/// Records `changes` in `tx`: an audit entry each, and the events they
/// announce; whether any was announced (then, once `tx` committed, tell
/// the outbox: `db.outbox().written()`). [`commit`] does this for calls; a
/// job, which has no caller to answer, does it itself.
pub async fn record_changes(
    tx: &DatabaseTransaction,
    m: &Mutation,
    changes: &[Change],
) -> Result<bool, KernelError> {
    let mut announced = false;
    for change in changes {
        audit::record(tx, m, change).await?;
        if let Some(event_type) = change.event {
            outbox::append(tx, m, change, event_type).await?;
            announced = true;
        }
    }
    Ok(announced)
}

/// The stored response of an earlier identical call, if there is one (a
/// different request under the same key is `IDEMPOTENCY_KEY_REUSED`). A verb
/// asks before expensive work (hashing a password), so that a replay costs
/// nothing; [`commit`] still decides under its claim.
pub async fn replayed<R: prost::Message + Default>(
    db: &Db,
    m: &Mutation,
) -> Result<Option<R>, KernelError> {
    match idempotency::find(db.conn(), &m.idempotency_caller(), m).await? {
        Some(stored) => idempotency::replay(stored, &m.fingerprint).map(Some),
        None => Ok(None),
    }
}
