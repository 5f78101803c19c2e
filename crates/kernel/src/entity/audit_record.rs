//! One audit record: who changed what, why, and how it looked before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The tenant whose data changed; `None` for platform-level changes.
    pub partner_id: Option<String>,
    /// The user who acted; empty for a customer signed in itself.
    pub actor_user_id: String,
    /// The customer a customer-scoped token acted as.
    pub actor_customer_id: Option<String>,
    pub actor_partner_id: Option<String>,
    /// The reseller a distributor's user acted for; `None` when acting for itself.
    pub acting_for_partner_id: Option<String>,
    pub method: String,
    pub resource_id: String,
    pub request_id: Option<Uuid>,
    pub reason: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: DateTimeUtc,
    /// How many events the record stands for: 1 for a change; refused
    /// sign-ins on one subject collapse into one record per window.
    pub occurrences: i32,
    /// When the last of them happened, for a collapsed record.
    pub last_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
