//! The `federation_sp_keys` table.

use chrono::{DateTime, Utc};
use partner_kernel::seal::Sealer;
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use crate::entity::sp_key;
use crate::error::FederationError;

/// The slot of the key that signs AuthnRequests.
pub const SIGNING: &str = "signing";

pub fn seal_context(kid: &str) -> String {
    format!("saml_sp_key:{kid}")
}

pub async fn current(conn: &impl ConnectionTrait) -> Result<Option<sp_key::Model>, DbErr> {
    sp_key::Entity::find_by_id(SIGNING.to_owned())
        .one(conn)
        .await
}

/// Stores a key in the signing slot unless one is there already (another
/// replica was first); the caller reads the slot again either way.
pub async fn insert_if_empty(
    conn: &impl ConnectionTrait,
    kid: &str,
    pkcs8_der: &[u8],
    certificate_der: Vec<u8>,
    sealer: &Sealer,
    now: DateTime<Utc>,
) -> Result<(), FederationError> {
    let row = sp_key::ActiveModel {
        slot: Set(SIGNING.to_owned()),
        kid: Set(kid.to_owned()),
        private_key: Set(sealer.seal(pkcs8_der, &seal_context(kid))?),
        certificate_der: Set(certificate_der),
        created_at: Set(now),
    };
    sp_key::Entity::insert(row)
        .on_conflict(
            OnConflict::column(sp_key::Column::Slot)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Replaces a plain private key with its sealed form (unless another
/// replica did so first).
pub async fn reseal(
    conn: &impl ConnectionTrait,
    kid: &str,
    plain: &[u8],
    sealed: Vec<u8>,
) -> Result<(), DbErr> {
    sp_key::Entity::update_many()
        .col_expr(sp_key::Column::PrivateKey, Expr::value(sealed))
        .filter(sp_key::Column::Kid.eq(kid))
        .filter(sp_key::Column::PrivateKey.eq(plain.to_vec()))
        .exec(conn)
        .await?;
    Ok(())
}
