//! One customer's hourly settlement: what it charged and from where.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_settlements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub customer_id: String,
    pub partner_id: Option<String>,
    /// It charged the usage that ended by then (an hour's boundary).
    pub settled_through: DateTimeUtc,
    pub currency: String,
    /// The charge, and the parts taken from cash, credit and arrears.
    pub amount_minor: i64,
    pub cash_minor: i64,
    pub credit_minor: i64,
    pub arrears_minor: i64,
    pub transaction_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
