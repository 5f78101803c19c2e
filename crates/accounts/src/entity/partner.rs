//! A partner row. Its key is the tenant id itself.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: String,
    pub display_name: String,
    pub contact_email: String,
    pub state: String,
    pub master_user_id: String,
    pub suspend_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub in_arrears: bool,
    pub enterprise_membership: String,
    pub has_credit_account: bool,
    pub marketing_programme_v2: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
