//! A payment-on-behalf agreement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// A [`super::model::AgreementType`]'s stored name.
    pub agreement_type: String,
    /// A [`super::model::AgreementState`]'s stored name.
    pub state: String,
    pub payer_partner_id: String,
    /// A customer or partner id, as the type says.
    pub payee_id: String,
    pub created_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub terminated_at: Option<DateTimeUtc>,
    pub terminated_by: Option<String>,
    pub terminate_reason: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
