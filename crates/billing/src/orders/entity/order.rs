//! An order's header.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The customer's partner when the order was made.
    pub partner_id: Option<String>,
    pub customer_id: String,
    /// A [`crate::orders::model::OrderType`]'s stored name.
    pub order_type: String,
    /// A [`crate::orders::model::OrderState`]'s stored name.
    pub state: String,
    pub currency: String,
    /// Minor units.
    pub list_total: i64,
    pub discount_total: i64,
    pub final_total: i64,
    pub quote_id: Option<String>,
    pub discount_id: Option<String>,
    pub catalog_version: i64,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub payment_deadline: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub cancel_reason: String,
    /// Minor units paid with coupons.
    pub coupon_total: i64,
    /// Minor units paid from the customer's cash and credit.
    pub paid_total: i64,
    /// The payment-on-behalf agreement whose payer paid it, if any.
    pub agreement_id: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// For an unsubscribe order: why (a stored
    /// [`crate::orders::model::ReasonType`] name); the text is
    /// `cancel_reason`.
    pub reason_type: Option<String>,
    /// For an auto-renewal: the period it pays (`res_…@period end`); one
    /// order not cancelled per key.
    pub auto_renew_key: Option<String>,
    pub adjustment_reason: Option<String>,
    pub adjusted_by: Option<String>,
    pub adjusted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
