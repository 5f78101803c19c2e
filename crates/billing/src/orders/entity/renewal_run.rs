//! One auto-renewal of one period of one resource: the job's lease on it,
//! its attempts, and when it was done.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_runs")]
pub struct Model {
    /// `res_…@period end` (Unix seconds): the period renewed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub resource_id: String,
    pub period_end: DateTimeUtc,
    pub attempts: i32,
    /// Not tried again before then (a failed attempt waits a day).
    pub next_attempt_at: DateTimeUtc,
    /// The job pass holding it, until `lease_until`.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// The RENEWAL order of the last attempt.
    pub order_id: Option<String>,
    pub last_error: String,
    pub done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
