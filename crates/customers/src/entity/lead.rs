//! A lead.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: Option<String>,
    pub source: String,
    pub state: String,
    pub company_name: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
    pub description: String,
    pub customer_id: Option<String>,
    pub close_reason: Option<String>,
    pub dispatched_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
