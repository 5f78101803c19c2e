//! An exclusive offer link.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pricing_offer_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    /// The public token in the link; unique.
    pub token: String,
    pub name: String,
    pub service_type: String,
    pub resource_type: String,
    pub spec: Option<String>,
    pub region: Option<String>,
    /// A decimal string.
    pub rate_off: Option<String>,
    pub expire_time: Option<DateTimeUtc>,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
