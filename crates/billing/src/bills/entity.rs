//! A fee record: one charge or refund as a bill shows it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The billing cycle, `YYYY-MM` in the billing time zone.
    pub cycle: String,
    pub customer_id: String,
    /// The customer's partner when it was charged.
    pub partner_id: Option<String>,
    pub resource_id: Option<String>,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    /// `PERIOD` or `ON_DEMAND`.
    pub charge_mode: String,
    /// `PURCHASE`, `RENEWAL`, `CHANGE`, `REFUND`, `ON_DEMAND` or
    /// `ADJUSTMENT`.
    pub bill_type: String,
    /// In minor units; a refund's are below zero.
    pub list_minor: i64,
    pub discount_minor: i64,
    pub amount_minor: i64,
    pub currency: String,
    /// The journal transaction that moved the money.
    pub transaction_id: Option<String>,
    /// The settlement or order it comes from.
    pub source_id: String,
    /// The usage it charges (on-demand).
    pub usage_start: Option<DateTimeUtc>,
    pub usage_end: Option<DateTimeUtc>,
    pub occurred_at: DateTimeUtc,
    /// An adjustment's: the cycle it corrects.
    pub adjusts_cycle: Option<String>,
    /// An adjustment's: why (the operator's reason).
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
