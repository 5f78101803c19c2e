//! What a resource's on-demand use has cost so far in a cycle, at 9
//! decimals.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_accruals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cycle: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    /// The partner, and the resource or the product (`FeeKey::text`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub fee_key: String,
    pub list_accrued: String,
    pub amount_accrued: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
