//! A customer's budget.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_budgets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: String,
    pub partner_id: String,
    pub currency: String,
    pub amount_minor: i64,
    pub used_minor: i64,
    /// The month (`YYYY-MM`, billing time zone) `used_minor` counts, for a
    /// monthly budget; NULL for a one-off one, or one last written before
    /// months were kept (it counts the month it is read in).
    pub used_month: Option<String>,
    pub budget_type: String,
    pub auto_freeze: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
