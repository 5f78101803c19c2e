//! A login session: one family of rotated refresh tokens.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: Option<String>,
    /// The `usr_…` or `cus_…` id of who holds it.
    pub holder_id: String,
    /// The customer it is scoped to: a customer signed in itself, or a
    /// partner user acting as one.
    pub customer_id: Option<String>,
    /// `ACTIVE` or `REVOKED`.
    pub state: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// The access key exchanged for this session; `None` for password logins.
    pub access_key_id: Option<String>,
    /// The session a partner user acted as a customer from; this one ends with it.
    pub parent_session_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
