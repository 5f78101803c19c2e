//! Failed sign-in counters, per subject, shared by every replica.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_throttles")]
pub struct Model {
    /// `login:<username>` or `access_key:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// Checked attempts of the run that failed.
    pub failures: i32,
    pub window_start: DateTimeUtc,
    /// Attempts are refused unchecked until then.
    pub locked_until: Option<DateTimeUtc>,
    /// The last charged attempt; the count starts again after a quiet window.
    pub updated_at: DateTimeUtc,
    /// The audit record this run's refusals are counted in.
    pub audit_id: Option<String>,
    /// Attempts charged and not settled yet (see `signin::policy`).
    pub in_flight: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
