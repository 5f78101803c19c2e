//! One movement of a coupon quota (append-only).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_quota_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub quota_id: String,
    /// The quota's partner.
    pub partner_id: String,
    /// A [`crate::coupons::model::QuotaRecordType`]'s stored name.
    pub record_type: String,
    /// Minor units, above zero.
    pub amount: i64,
    pub currency: String,
    pub counterpart_quota_id: Option<String>,
    pub transaction_id: String,
    pub actor: String,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
