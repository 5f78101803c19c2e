//! One event's trip to one endpoint: its queue position, the exact body
//! every attempt sends, and how the attempts went.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub endpoint_id: String,
    pub partner_id: String,
    /// Order within the endpoint's queue.
    pub position: i64,
    /// The `webhook-id`: the event's id, or a `msg_…` id for a test event.
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    /// A redelivery or test event.
    pub manual: bool,
    /// `PENDING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub attempts: i32,
    pub first_attempt_at: Option<DateTimeUtc>,
    pub next_attempt_at: DateTimeUtc,
    pub last_response_code: i32,
    pub last_error: String,
    pub last_response_excerpt: String,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
