//! A further sales-platform account mapped to an existing customer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_xaccount_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub xaccount_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub xaccount_id: String,
    pub customer_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
