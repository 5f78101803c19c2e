//! One owner's money of one kind in one currency.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// A `prt_…` or `cus_…` id, or `platform`.
    pub owner_id: String,
    /// A [`crate::ledger::Kind`]'s stored name.
    pub kind: String,
    pub currency: String,
    /// Minor units: the sum of the account's entries.
    pub balance: i64,
    /// Minor units reserved by holds.
    pub pending: i64,
    /// How far below zero a credit account may go.
    pub credit_limit: i64,
    /// The number of entries: each posting moves it by one.
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
