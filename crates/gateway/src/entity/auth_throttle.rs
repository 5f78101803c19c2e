//! Failed sign-in counters, per subject, shared by every replica.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_throttles")]
pub struct Model {
    /// `login:<username>` or `access_key:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// Failures since `window_start`.
    pub failures: i32,
    pub window_start: DateTimeUtc,
    /// Attempts are refused unchecked until then.
    pub locked_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
