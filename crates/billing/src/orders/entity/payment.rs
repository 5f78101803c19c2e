//! One source that paid an order: a hold on the customer's cash, its
//! credit, or a coupon, captured when the order completes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    /// `CASH`, `CREDIT` or `COUPON`.
    pub source: String,
    pub hold_id: String,
    /// The held account's owner (`cus_…` or `cpn_…`) and kind.
    pub account_owner: String,
    pub account_kind: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// Minor units of `amount` refunded into the account since.
    pub refunded: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
