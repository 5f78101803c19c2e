//! Idempotent mutations: the same caller, method and `request_id` with the same
//! request yields the stored response and no second effect; with a different
//! request it is refused with `IDEMPOTENCY_KEY_REUSED`.
//!
//! The record is claimed *before* the effect, in the effect's transaction. A
//! concurrent duplicate therefore waits on the claim (PostgreSQL row lock, or
//! the SQLite writer lock) and then finds the committed response, instead of
//! racing the effect and tripping over its unique constraints. An effect that
//! fails rolls the claim back, so the request can be retried.

use futures::future::BoxFuture;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use crate::db::Db;
use crate::entity::idempotency_record as rec;
use crate::error::KernelError;
use crate::mutation::Mutation;
use crate::secrets::SecretKey;

/// How many times a claim that lost a race is retried before giving up.
const CLAIM_ATTEMPTS: usize = 5;

/// A keyed digest of the whole request. Keyed, because requests carry secrets
/// (passwords) that a plain hash in the database would expose to guessing.
pub fn fingerprint(key: &SecretKey, request: &impl prost::Message) -> [u8; 32] {
    key.mac(&[&request.encode_to_vec()])
}

/// Runs `effect` once per (caller, method, request id); see the module docs.
pub async fn run<R, E, F>(db: &Db, m: &Mutation, fingerprint: [u8; 32], effect: F) -> Result<R, E>
where
    R: prost::Message + Default,
    E: From<KernelError>,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<R, E>>,
{
    run_as(db, &m.principal.user_id.to_string(), m, fingerprint, effect).await
}

/// Like [`run`], keyed by `caller` instead of the principal's user. For public
/// calls whose caller has no account yet (signing up with an invitation): the
/// key is then something only that caller holds, such as the invitation its
/// secret token resolved to. `caller` is at most 40 characters.
pub async fn run_as<R, E, F>(
    db: &Db,
    caller: &str,
    m: &Mutation,
    fingerprint: [u8; 32],
    effect: F,
) -> Result<R, E>
where
    R: prost::Message + Default,
    E: From<KernelError>,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<R, E>>,
{
    let mut effect = Some(effect);
    for _ in 0..CLAIM_ATTEMPTS {
        let tx = db.begin_write().await.map_err(KernelError::from)?;
        if let Some(stored) = find(&tx, caller, m).await? {
            return replay(stored, &fingerprint).map_err(E::from);
        }
        if !claim(&tx, caller, m, &fingerprint).await? {
            // A concurrent duplicate committed first: roll back and read its answer.
            drop(tx);
            continue;
        }
        let Some(effect) = effect.take() else { break };
        let response = effect(&tx).await?;
        rec::ActiveModel {
            caller_id: Set(caller.to_owned()),
            method: Set(m.method.to_owned()),
            request_id: Set(m.request_id),
            response: Set(response.encode_to_vec()),
            ..Default::default()
        }
        .update(&*tx)
        .await
        .map_err(KernelError::from)?;
        tx.commit().await.map_err(KernelError::from)?;
        return Ok(response);
    }
    Err(E::from(KernelError::Conflict))
}

async fn find(
    tx: &DatabaseTransaction,
    caller: &str,
    m: &Mutation,
) -> Result<Option<rec::Model>, KernelError> {
    Ok(rec::Entity::find()
        .filter(rec::Column::CallerId.eq(caller))
        .filter(rec::Column::Method.eq(m.method))
        .filter(rec::Column::RequestId.eq(m.request_id))
        .one(tx)
        .await?)
}

fn replay<R: prost::Message + Default>(
    stored: rec::Model,
    fingerprint: &[u8; 32],
) -> Result<R, KernelError> {
    if stored.fingerprint.as_slice() != fingerprint.as_slice() {
        return Err(KernelError::IdempotencyKeyReused);
    }
    R::decode(stored.response.as_slice())
        .map_err(|e| KernelError::Corrupt(format!("stored response: {e}")))
}

/// Inserts the claim; false when another transaction holds the key.
async fn claim(
    tx: &DatabaseTransaction,
    caller: &str,
    m: &Mutation,
    fingerprint: &[u8; 32],
) -> Result<bool, KernelError> {
    let row = rec::ActiveModel {
        caller_id: Set(caller.to_owned()),
        method: Set(m.method.to_owned()),
        request_id: Set(m.request_id),
        partner_id: Set(m.principal.partner_id().map(|p| p.to_string())),
        fingerprint: Set(fingerprint.to_vec()),
        response: Set(Vec::new()),
        created_at: Set(m.now),
    };
    let inserted = rec::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                rec::Column::CallerId,
                rec::Column::Method,
                rec::Column::RequestId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    Ok(inserted == 1)
}
