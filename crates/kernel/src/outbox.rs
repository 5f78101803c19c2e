//! The event outbox: events for partners' systems, written in the same
//! transaction as the change, and published from the table afterwards.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entity::outbox_event;
use crate::error::KernelError;
use crate::ids::{EventId, PartnerId};
use crate::mutation::Mutation;

/// One event to publish.
#[derive(Debug, Clone)]
pub struct Event {
    /// The tenant the event is for; `None` for platform-wide events.
    pub partner_id: Option<PartnerId>,
    /// Dotted type, e.g. `partner.suspended`.
    pub event_type: &'static str,
    /// The resource the event is about.
    pub resource_id: String,
    /// Event body.
    pub payload: serde_json::Value,
}

/// Appends `event` inside `tx`.
pub async fn append(
    tx: &impl ConnectionTrait,
    m: &Mutation,
    event: Event,
) -> Result<EventId, KernelError> {
    let id = EventId::generate();
    outbox_event::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(event.partner_id.map(|p| p.to_string())),
        event_type: Set(event.event_type.to_owned()),
        resource_id: Set(event.resource_id),
        payload: Set(event.payload),
        created_at: Set(m.now),
    }
    .insert(tx)
    .await?;
    Ok(id)
}
