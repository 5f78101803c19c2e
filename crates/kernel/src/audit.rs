//! Audit records, written in the same transaction as the change they describe.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entity::audit_record;
use crate::error::KernelError;
use crate::ids::{AuditId, PartnerId};
use crate::mutation::Mutation;

/// What changed, beyond who and when (which come from the [`Mutation`]).
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// The tenant whose data changed; `None` for platform-level changes.
    pub partner_id: Option<PartnerId>,
    /// The id of the changed resource.
    pub resource_id: String,
    /// The caller's stated reason, if any.
    pub reason: Option<String>,
    /// A summary of the resource before the change.
    pub before: Option<serde_json::Value>,
    /// A summary of the resource after the change.
    pub after: Option<serde_json::Value>,
}

/// Writes one audit record inside `tx`.
pub async fn record(
    tx: &impl ConnectionTrait,
    m: &Mutation,
    entry: AuditEntry,
) -> Result<AuditId, KernelError> {
    let id = AuditId::generate();
    audit_record::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(entry.partner_id.map(|p| p.to_string())),
        actor_user_id: Set(m.principal.user_id.to_string()),
        actor_partner_id: Set(m.principal.partner_id().map(|p| p.to_string())),
        acting_for_partner_id: Set(m.acting_for.map(|p| p.to_string())),
        method: Set(m.method.to_owned()),
        resource_id: Set(entry.resource_id),
        request_id: Set(Some(m.request_id)),
        reason: Set(entry.reason.filter(|r| !r.is_empty())),
        before: Set(entry.before),
        after: Set(entry.after),
        created_at: Set(m.now),
    }
    .insert(tx)
    .await?;
    Ok(id)
}
