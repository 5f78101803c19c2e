//! One business operation of the ledger (append-only).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// A [`crate::ledger::Operation`]'s stored name.
    pub operation: String,
    /// The partner whose operation it was, if any.
    pub partner_id: Option<String>,
    /// The customer it concerned, if any.
    pub customer_id: Option<String>,
    /// Who asked (the idempotency caller).
    pub actor: String,
    pub method: String,
    pub request_id: String,
    pub reason: String,
    /// The amount the operation moved (minor units, above zero).
    pub amount: i64,
    pub currency: String,
    /// The transaction this one reverses.
    pub reverses: Option<String>,
    pub effective_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
