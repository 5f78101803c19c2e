//! A coupon issued to a customer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub quota_id: String,
    /// The issuing partner (the quota's).
    pub partner_id: String,
    pub customer_id: String,
    /// A [`crate::coupons::model::CouponType`]'s stored name.
    pub coupon_type: String,
    /// A [`crate::coupons::model::Stored`]'s stored name: `OPEN` until it
    /// is used up, reclaimed or expired.
    pub state: String,
    pub currency: String,
    /// Minor units.
    pub face_value: i64,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    /// A JSON array of service type codes.
    pub service_types: String,
    /// A JSON array of product ids.
    pub product_ids: String,
    pub memo: String,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
