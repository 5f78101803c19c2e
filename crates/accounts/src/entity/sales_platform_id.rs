//! A sales-platform id (`xaccount_type`) issued to a partner.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_platform_ids")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sales_platform_id: String,
    pub partner_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
