//! One product line of an order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    /// The line's place in the order, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_no: i32,
    pub line_id: String,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub zone: String,
    pub size: i64,
    /// The wire name of the period unit (`PERIOD_UNIT_MONTH`, …).
    pub period_unit: String,
    pub period_count: i32,
    pub quantity: i32,
    /// The exact unit price: whole units and nanos.
    pub unit_price_units: i64,
    pub unit_price_nanos: i32,
    /// Minor units.
    pub list_amount: i64,
    pub discount_amount: i64,
    pub final_amount: i64,
    /// Why its resources could not be opened; `None` when they opened (or
    /// the order is not paid yet).
    pub failure: Option<String>,
    /// For a renewal: the resource it renews.
    pub renews_resource_id: Option<String>,
    /// Minor units of `final_amount` coupons paid, once the order completed.
    pub coupon_amount: i64,
    /// Minor units of `final_amount` the payer's cash and credit paid.
    pub paid_amount: i64,
    /// Minor units of `paid_amount` refunded since (at most all of it).
    pub refunded_amount: i64,
    /// The period it bought, once the order completed.
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    /// For an unsubscribe order: the line (order and place) and the
    /// resource it refunds, and the rule that set the refund.
    pub refunds_order_id: Option<String>,
    pub refunds_line_no: Option<i32>,
    pub refunds_resource_id: Option<String>,
    pub refund_rule: Option<String>,
    pub main_line_id: Option<String>,
    pub changes_resource_id: Option<String>,
    pub changes_from_spec: Option<String>,
    pub changes_from_size: Option<i64>,
    pub changes_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
