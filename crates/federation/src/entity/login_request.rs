//! An AuthnRequest the platform sent and no response has answered yet.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_login_requests")]
pub struct Model {
    /// The AuthnRequest's ID, which the response's `InResponseTo` repeats.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub idp_id: String,
    /// Where the browser lands after the sign-in (on the IdP's allow-list).
    pub service_url: String,
    pub first_login: bool,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
