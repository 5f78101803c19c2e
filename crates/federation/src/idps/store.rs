//! The `federation_identity_providers` and `federation_used_assertions` tables.

use chrono::{DateTime, Utc};
use partner_kernel::ids::PartnerId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::IdentityProvider;
use crate::entity::{identity_provider as idp, used_assertion as used};

fn active(p: &IdentityProvider) -> idp::ActiveModel {
    idp::ActiveModel {
        id: Set(p.id.clone()),
        partner_id: Set(p.partner_id.to_string()),
        xaccount_type: Set(p.xaccount_type.clone()),
        entity_id: Set(p.entity_id.clone()),
        sso_url: Set(p.sso_url.clone()),
        xaccount_attribute: Set(p.xaccount_attribute.clone()),
        first_login_policy: Set(p.first_login_policy.as_str().to_owned()),
        require_signed_assertions: Set(p.require_signed_assertions),
        certificates: Set(p.certificates_json()),
        service_urls: Set(p.service_urls_json()),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    }
}

pub async fn insert(conn: &impl ConnectionTrait, p: &IdentityProvider) -> Result<(), DbErr> {
    idp::Entity::insert(active(p))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn update(conn: &impl ConnectionTrait, p: &IdentityProvider) -> Result<(), DbErr> {
    active(p).update(conn).await?;
    Ok(())
}

pub async fn delete(conn: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    idp::Entity::delete_by_id(id.to_owned()).exec(conn).await?;
    Ok(())
}

/// One IdP of `partner`.
pub async fn of_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<idp::Model>, DbErr> {
    idp::Entity::find_by_id(id.to_owned())
        .filter(idp::Column::PartnerId.eq(partner.to_string()))
        .one(conn)
        .await
}

/// One IdP of `partner`, locked for a change where the database locks rows.
pub async fn of_partner_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<idp::Model>, DbErr> {
    idp::Entity::find_by_id(id.to_owned())
        .filter(idp::Column::PartnerId.eq(partner.to_string()))
        .lock_exclusive()
        .one(conn)
        .await
}

/// The partner's IdPs, oldest first (at most one per sales-platform id).
pub async fn list_of_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<Vec<idp::Model>, DbErr> {
    idp::Entity::find()
        .filter(idp::Column::PartnerId.eq(partner.to_string()))
        .order_by_asc(idp::Column::Id)
        .all(conn)
        .await
}

pub async fn by_id(conn: &impl ConnectionTrait, id: &str) -> Result<Option<idp::Model>, DbErr> {
    idp::Entity::find_by_id(id.to_owned()).one(conn).await
}

/// The IdP of a sales-platform id (at most one).
pub async fn by_xaccount_type(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
) -> Result<Option<idp::Model>, DbErr> {
    idp::Entity::find()
        .filter(idp::Column::XaccountType.eq(xaccount_type))
        .one(conn)
        .await
}

pub async fn by_entity_id(
    conn: &impl ConnectionTrait,
    entity_id: &str,
) -> Result<Option<idp::Model>, DbErr> {
    idp::Entity::find()
        .filter(idp::Column::EntityId.eq(entity_id))
        .one(conn)
        .await
}

/// Records that `assertion_id` was used from the IdP `entity_id`; `false`
/// when it was already (a replay). Keyed by the entity id, not the IdP's
/// row, so that deleting and registering the IdP again does not forget
/// what it used. Expired entries go with [`prune_used`].
pub async fn first_use(
    conn: &impl ConnectionTrait,
    entity_id: &str,
    assertion_id: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = used::ActiveModel {
        entity_id: Set(entity_id.to_owned()),
        assertion_id: Set(assertion_id.to_owned()),
        expires_at: Set(expires_at),
    };
    let inserted = used::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([used::Column::EntityId, used::Column::AssertionId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(inserted == 1)
}

/// Forgets the used assertions (of every IdP) that could no longer be presented.
pub async fn prune_used(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(used::Entity::delete_many()
        .filter(used::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?
        .rows_affected)
}
