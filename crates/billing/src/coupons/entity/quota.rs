//! A partner's coupon quota.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_quotas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    /// The distributor's quota a reseller's was given from.
    pub parent_quota_id: Option<String>,
    /// A [`crate::coupons::model::CouponType`]'s stored name.
    pub coupon_type: String,
    /// A [`crate::coupons::model::QuotaState`]'s stored name.
    pub state: String,
    pub currency: String,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    /// Minor units; 0: no limit.
    pub max_face_value: i64,
    /// 0: no limit.
    pub max_per_customer: i32,
    /// A JSON array of service type codes.
    pub service_types: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
