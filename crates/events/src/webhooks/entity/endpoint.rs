//! A partner's webhook endpoint, with its place in the partner's events and
//! the lease a delivery worker holds on it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    /// Set for an identity provider's notification endpoint.
    pub identity_provider_id: Option<String>,
    pub url: String,
    pub description: String,
    /// JSON array of event types; empty: every type in `readable`.
    pub event_types: String,
    /// JSON array of the event-type prefixes its creator could read.
    pub readable: String,
    /// The signing key, sealed under the master key when there is one.
    pub secret: Vec<u8>,
    /// The secret rotated out, sealed like `secret`, still signing until
    /// `previous_secret_expires_at`.
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub disabled: bool,
    /// The position of the last event queued (or passed over) for it.
    pub cursor: i64,
    /// The queue position the next delivery takes.
    pub next_position: i64,
    /// The worker delivering to it, until `leased_until`.
    pub lease_owner: Option<String>,
    pub leased_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
