//! A tier-1 distributor's link to one of its tier-2 resellers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reseller_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub distributor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub reseller_id: String,
    pub state: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
