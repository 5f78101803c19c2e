//! One real-name verification submission and its review.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_verifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub kind: String,
    pub state: String,
    /// JSON object: the person's or the company's details.
    pub details: String,
    pub reject_reason: Option<String>,
    pub change_to_enterprise: bool,
    pub submitted_by: String,
    pub reviewed_by: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
