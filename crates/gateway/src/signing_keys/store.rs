//! Queries on `signing_keys`, and changing which keys sign and verify: rotate
//! (a new ACTIVE key; the old one verifies only) and retire (a VERIFY_ONLY key
//! stops verifying). The same functions serve `SigningKeyService` and
//! `partner-server keys …`; callers run them in a write transaction and then
//! reload the ring. The keys are the platform's, not a tenant's.

use chrono::{DateTime, Utc};
use partner_api::iam::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::SigningKeyId;
use partner_kernel::seal::Sealer;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::signing_key;
use crate::error::GatewayError;

/// Stored key states.
pub(crate) const ACTIVE: &str = "ACTIVE";
pub(crate) const VERIFY_ONLY: &str = "VERIFY_ONLY";
pub(crate) const RETIRED: &str = "RETIRED";

/// The associated data a seed is sealed under: its row.
pub(crate) fn seal_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// Generates a new Ed25519 key and stores it as ACTIVE, its seed sealed by
/// `sealer`.
pub(crate) async fn generate(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    sealer: &Sealer,
) -> Result<signing_key::Model, GatewayError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| GatewayError::Keys(format!("no randomness: {e}")))?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let kid = SigningKeyId::generate().to_string();
    let stored_seed = sealer.seal(&seed, &seal_context(&kid))?;
    signing_key::ActiveModel {
        kid: Set(kid),
        algorithm: Set("EdDSA".to_owned()),
        private_key: Set(stored_seed),
        public_key: Set(public.to_vec()),
        state: Set(ACTIVE.to_owned()),
        created_at: Set(now),
        retired_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(GatewayError::from)
}

/// Seals every seed still stored plain (a database from before the master
/// key was configured), each conditional on the plain value so that two
/// replicas starting together agree.
pub(crate) async fn seal_plain_seeds(
    conn: &impl ConnectionTrait,
    sealer: &Sealer,
) -> Result<(), GatewayError> {
    let rows = signing_key::Entity::find().all(conn).await?;
    for row in rows
        .into_iter()
        .filter(|r| !Sealer::is_sealed(&r.private_key))
    {
        let sealed = sealer.seal(&row.private_key, &seal_context(&row.kid))?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::PrivateKey, Expr::value(sealed))
            .filter(signing_key::Column::Kid.eq(row.kid.clone()))
            .filter(signing_key::Column::PrivateKey.eq(row.private_key.clone()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Whether an ACTIVE key exists.
pub(crate) async fn active_exists(conn: &impl ConnectionTrait) -> Result<bool, GatewayError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::State.eq(ACTIVE))
        .one(conn)
        .await?
        .is_some())
}

/// The keys that verify (ACTIVE and VERIFY_ONLY), newest first.
pub(crate) async fn in_force(
    conn: &impl ConnectionTrait,
) -> Result<Vec<signing_key::Model>, GatewayError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::State.is_in([ACTIVE, VERIFY_ONLY]))
        .order_by_desc(signing_key::Column::Kid)
        .all(conn)
        .await?)
}

/// Every key, newest first.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, GatewayError> {
    Ok(signing_key::Entity::find()
        .order_by_desc(signing_key::Column::Kid)
        .all(conn)
        .await?)
}

/// Demotes the active key(s) to VERIFY_ONLY and adds a new ACTIVE key.
pub async fn rotate(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    sealer: &Sealer,
) -> Result<signing_key::Model, GatewayError> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::State, Expr::value(VERIFY_ONLY))
        .filter(signing_key::Column::State.eq(ACTIVE))
        .exec(conn)
        .await?;
    generate(conn, now, sealer).await
}

/// Retires a VERIFY_ONLY key. The active key cannot be retired (rotate first),
/// nor a retired one again.
pub async fn retire(
    conn: &impl ConnectionTrait,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<(signing_key::Model, signing_key::Model), GatewayError> {
    let before = signing_key::Entity::find_by_id(kid.to_owned())
        .one(conn)
        .await?
        .ok_or(GatewayError::SigningKeyNotFound)?;
    if before.state != VERIFY_ONLY {
        return Err(GatewayError::SigningKeyStateConflict {
            state: state_name(&before.state)?,
        });
    }
    // Conditional, so two concurrent retirements cannot both succeed.
    let changed = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::State, Expr::value(RETIRED))
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::Kid.eq(kid))
        .filter(signing_key::Column::State.eq(VERIFY_ONLY))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(GatewayError::SigningKeyStateConflict { state: "RETIRED" });
    }
    let after = signing_key::Model {
        state: RETIRED.to_owned(),
        retired_at: Some(now),
        ..before.clone()
    };
    Ok((before, after))
}

/// A stored state, read strictly: anything else is corruption.
fn state_of(stored: &str) -> Result<(&'static str, pb::SigningKeyState), GatewayError> {
    match stored {
        ACTIVE => Ok((ACTIVE, pb::SigningKeyState::Active)),
        VERIFY_ONLY => Ok((VERIFY_ONLY, pb::SigningKeyState::VerifyOnly)),
        RETIRED => Ok((RETIRED, pb::SigningKeyState::Retired)),
        other => Err(KernelError::Corrupt(format!("signing key state {other:?}")).into()),
    }
}

fn state_name(stored: &str) -> Result<&'static str, GatewayError> {
    state_of(stored).map(|(name, _)| name)
}

/// The public wire form.
pub fn to_proto(m: &signing_key::Model) -> Result<pb::SigningKey, GatewayError> {
    let (_, state) = state_of(&m.state)?;
    Ok(pb::SigningKey {
        kid: m.kid.clone(),
        algorithm: m.algorithm.clone(),
        state: state.into(),
        create_time: Some(to_proto_timestamp(m.created_at)),
        retire_time: m.retired_at.map(to_proto_timestamp),
    })
}

/// The summary kept in audit records (never the private key).
pub fn audit_summary(m: &signing_key::Model) -> serde_json::Value {
    serde_json::json!({ "kid": m.kid, "state": m.state })
}
