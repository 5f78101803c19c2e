//! A customer's cloud account, its mapping and its association.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: Option<String>,
    pub xaccount_type: String,
    pub xaccount_id: String,
    pub account_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub country: String,
    pub password_hash: Option<String>,
    pub association_type: String,
    pub associated_at: Option<DateTimeUtc>,
    pub real_name_status: String,
    pub customer_type: String,
    pub freeze_mode: String,
    pub freeze_reason: Option<String>,
    pub level: String,
    /// JSON array of strings, sorted.
    pub labels: String,
    /// JSON array of `usr_…` ids, sorted.
    pub account_managers: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub registered_on_other_site: bool,
    pub reported: bool,
    pub in_subsidy_program: bool,
    pub is_partner: bool,
    /// When the customer last changed its password: its older sessions end.
    pub password_changed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
