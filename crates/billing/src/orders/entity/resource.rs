//! A resource an order opened.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub order_id: String,
    pub line_no: i32,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub zone: String,
    pub size: i64,
    /// The wire name of the period unit it is bought by.
    pub period_unit: String,
    /// `IN_USE`, `EXPIRED` (in grace), `FROZEN` (retained) or `CLOSED`.
    pub status: String,
    /// The day of the month its periods end on (1–31), kept so a resource
    /// bought on the 31st returns to the 31st after shorter months.
    pub anchor_day: i32,
    pub effective_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When it was unsubscribed (status `CLOSED`).
    pub closed_at: Option<DateTimeUtc>,
    /// Auto-renew: the period unit's wire name (`None`: off), how many
    /// units each renewal buys, how many renewals at most (0: no limit),
    /// and how many it made.
    pub auto_renew_unit: Option<String>,
    pub auto_renew_count: i32,
    pub auto_renew_times: i32,
    pub auto_renewed: i32,
    /// What happens when its paid period ends: `GRACE`, `TO_ON_DEMAND`,
    /// `DELETE` or `FREEZE`.
    pub expiry_policy: String,
    /// `PERIOD` (yearly/monthly) or `ON_DEMAND` (switched).
    pub charging_mode: String,
    /// Until when it stays in its stage: the end of the grace period
    /// (`EXPIRED`) or of the retention (`FROZEN`).
    pub stage_until: Option<DateTimeUtc>,
    pub main_resource_id: Option<String>,
    /// Why it is `FROZEN` when its period did not end: `ARREARS` (its
    /// customer owes for on-demand use past the grace period).
    pub frozen_for: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
