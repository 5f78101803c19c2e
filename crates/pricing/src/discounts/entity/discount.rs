//! A discount as its latest version. Serialised whole as the state of a
//! version and as the audit summary.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pricing_discounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub version: i64,
    /// `VENDOR_CONTRACT`, `DISTRIBUTOR_CONTRACT`, `PARTNER_SET`, `PROMOTION`.
    pub kind: String,
    pub name: String,
    pub partner_id: Option<String>,
    pub customer_id: Option<String>,
    /// Partner-set only: `partner/customer/service/resource`, unique.
    pub slot: Option<String>,
    pub service_type: Option<String>,
    pub resource_type: Option<String>,
    /// A decimal string; exactly one of it and `reduction_minor` is set.
    pub rate_off: Option<String>,
    pub reduction_minor: Option<i64>,
    /// The reduction's currency.
    pub currency: Option<String>,
    pub valid_from: DateTimeUtc,
    pub valid_until: Option<DateTimeUtc>,
    pub updated_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
