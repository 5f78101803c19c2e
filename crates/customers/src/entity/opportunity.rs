//! An opportunity shared with the vendor.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opportunities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    pub state: String,
    pub customer_name: String,
    pub customer_email: String,
    pub country: String,
    pub region: String,
    pub description: String,
    pub expected_currency: Option<String>,
    pub expected_minor: Option<i64>,
    pub routing: String,
    pub office: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
