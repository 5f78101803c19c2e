//! One version of a discount, kept for good.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pricing_discount_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub discount_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    /// The discount row as it was, as JSON.
    pub state: String,
    pub changed_by: String,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
