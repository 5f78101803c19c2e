//! A partner's invitation to associate with it; only the token's SHA-256
//! is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "association_invites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    pub token_hash: Vec<u8>,
    pub association_type: String,
    /// With `xaccount_id`: the sales-platform account it was made for.
    pub xaccount_type: Option<String>,
    pub xaccount_id: Option<String>,
    pub max_uses: i32,
    pub uses: i32,
    pub failed_sign_ups: i32,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
