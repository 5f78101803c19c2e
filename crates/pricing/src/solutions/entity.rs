//! A software solution.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pricing_solutions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub description: String,
    /// A [`super::model::State`]'s stored name.
    pub state: String,
    /// A [`super::model::Progress`]'s stored name.
    pub design: String,
    pub configurator: String,
    /// A [`super::model::Origin`]'s stored name.
    pub origin: String,
    pub baseline_code: Option<String>,
    pub reject_reason: Option<String>,
    /// Bumped by every change; a change applies only over the version it read.
    pub version: i64,
    /// When it entered its state (for a published one: its certification).
    pub state_time: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
