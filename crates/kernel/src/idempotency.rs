//! Idempotency records: the request fingerprint and the record operations
//! the write path ([`crate::write::commit`]) is built from.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::Db;

use crate::entity::idempotency_record as rec;
use crate::error::KernelError;
use crate::mutation::Mutation;
use crate::secrets::SecretKey;

/// A keyed digest of the whole request. Keyed, because requests carry secrets
/// (passwords) that a plain hash in the database would expose to guessing.
pub fn fingerprint(key: &SecretKey, request: &impl prost::Message) -> [u8; 32] {
    key.mac(&[&request.encode_to_vec()])
}

/// The record of `caller`'s call `m`, if one was committed.
pub(crate) async fn find(
    conn: &impl ConnectionTrait,
    caller: &str,
    m: &Mutation,
) -> Result<Option<rec::Model>, KernelError> {
    Ok(rec::Entity::find()
        .filter(rec::Column::CallerId.eq(caller))
        .filter(rec::Column::Method.eq(m.method))
        .filter(rec::Column::RequestId.eq(m.request_id))
        .one(conn)
        .await?)
}

/// The stored response, when `fingerprint` is the stored request's.
pub(crate) fn replay<R: prost::Message + Default>(
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
pub(crate) async fn claim(
    conn: &impl ConnectionTrait,
    caller: &str,
    m: &Mutation,
) -> Result<bool, KernelError> {
    let row = rec::ActiveModel {
        caller_id: sea_orm::Set(caller.to_owned()),
        method: sea_orm::Set(m.method.to_owned()),
        request_id: sea_orm::Set(m.request_id),
        partner_id: sea_orm::Set(m.principal.partner_id().map(|p| p.to_string())),
        fingerprint: sea_orm::Set(m.fingerprint.to_vec()),
        response: sea_orm::Set(Vec::new()),
        created_at: sea_orm::Set(m.now),
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
        .exec_without_returning(conn)
        .await?;
    Ok(inserted == 1)
}

/// Stores the response of the claimed call.
pub(crate) async fn store_response(
    conn: &impl ConnectionTrait,
    caller: &str,
    m: &Mutation,
    response: &impl prost::Message,
) -> Result<(), KernelError> {
    rec::Entity::update_many()
        .col_expr(
            rec::Column::Response,
            sea_orm::sea_query::Expr::value(response.encode_to_vec()),
        )
        .filter(rec::Column::CallerId.eq(caller))
        .filter(rec::Column::Method.eq(m.method))
        .filter(rec::Column::RequestId.eq(m.request_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// How much of the oldest records one pruning statement deletes: an hour's
/// worth, so that no delete holds the write lock for long.
const PRUNE_SLICE: chrono::Duration = chrono::Duration::hours(1);

/// Deletes the records made before `before`, oldest first, an hour of them
/// per transaction; how many were deleted. A call replayed under a deleted
/// key runs as a new call, so `before` must leave keys their promised life
/// (at least 24 hours).
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, KernelError> {
    let mut deleted = 0;
    loop {
        let oldest: Option<DateTime<Utc>> = rec::Entity::find()
            .select_only()
            .column(rec::Column::CreatedAt)
            .order_by_asc(rec::Column::CreatedAt)
            .limit(1)
            .into_tuple()
            .one(db.conn())
            .await?;
        let Some(oldest) = oldest.filter(|t| *t < before) else {
            return Ok(deleted);
        };
        let until = Ord::min(before, oldest + PRUNE_SLICE);
        let tx = db.begin_write().await?;
        deleted += rec::Entity::delete_many()
            .filter(rec::Column::CreatedAt.lt(until))
            .exec(&*tx)
            .await?
            .rows_affected;
        tx.commit().await?;
    }
}
