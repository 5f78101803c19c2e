//! The event outbox: events for partners' systems, written in the same
//! transaction as the change they announce ([`crate::write::commit`]), and
//! published from the table afterwards.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entity::outbox_event;
use crate::error::KernelError;
use crate::ids::EventId;
use crate::mutation::Mutation;
use crate::write::Change;

/// Appends the event of type `event_type` that announces `change`, inside
/// `conn`. Its payload is the resource's summary after the change, or before
/// it for a deletion.
pub(crate) async fn append(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    change: &Change,
    event_type: &'static str,
) -> Result<EventId, KernelError> {
    let id = EventId::generate();
    let payload = change
        .after
        .clone()
        .or_else(|| change.before.clone())
        .unwrap_or_else(|| serde_json::json!({}));
    outbox_event::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(change.partner_id.map(|p| p.to_string())),
        event_type: Set(event_type.to_owned()),
        resource_id: Set(change.resource_id.clone()),
        payload: Set(payload),
        created_at: Set(m.now),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
