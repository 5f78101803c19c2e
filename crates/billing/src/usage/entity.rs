//! A usage record as stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: String,
    /// SHA-256 of the record as reported: a retry must match it.
    pub fingerprint: Vec<u8>,
    /// The customer's partner when it was reported.
    pub partner_id: Option<String>,
    pub customer_id: String,
    pub resource_id: Option<String>,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub zone: String,
    pub size: i64,
    pub usage_factor: String,
    pub usage_value: String,
    pub usage_unit: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// A decimal to 9 places.
    pub list_amount: String,
    pub currency: String,
    pub catalog_version: i64,
    pub reported_at: DateTimeUtc,
    /// The discount that applied, if any; what it took off and what is
    /// charged (decimals to 9 places).
    pub discount_id: Option<String>,
    pub discount_amount: String,
    pub amount: String,
    /// The settlement that charged it (`None`: still to charge).
    pub settlement_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
