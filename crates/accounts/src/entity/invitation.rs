//! An invitation to join a program. Only the token's SHA-256 is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The inviting distributor; `None` when the operator invited.
    pub inviter_partner_id: Option<String>,
    pub inviter_user_id: String,
    pub program: String,
    pub email: String,
    /// The invited existing partner; `None` when a new partner signs up.
    pub partner_id: Option<String>,
    pub token_hash: String,
    pub state: String,
    pub expire_at: DateTimeUtc,
    pub accepted_partner_id: Option<String>,
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
