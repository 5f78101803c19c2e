//! Audit records, written in the same transaction as the change they describe.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::entity::audit_record;
use crate::error::KernelError;
use crate::ids::{AuditId, PartnerId, UserId};
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

/// `actor_user_id` of a failed sign-in whose target does not exist: there is no
/// user to name, and the column is required. It can never be a real user id
/// (those carry the `usr_` prefix).
pub const ANONYMOUS_ACTOR: &str = "anonymous";

/// A refused credential check (a wrong password, an unknown access key, a
/// locked-out subject). There is no authenticated principal to record, so this
/// is written without a [`Mutation`] rather than with a made-up one.
#[derive(Debug, Clone)]
pub struct FailedCredential {
    /// The full gRPC method, e.g. `partner.iam.v1.AuthService/Login`.
    pub method: &'static str,
    /// What was presented: the username or the access key id.
    pub resource_id: String,
    /// The user the credential names, when it exists; it becomes the actor,
    /// so a partner sees attempts on its own users' accounts.
    pub target_user_id: Option<UserId>,
    /// The target's partner, when the target exists and belongs to one.
    pub partner_id: Option<PartnerId>,
    /// The refusal's ErrorInfo reason, e.g. `INVALID_CREDENTIALS`.
    pub reason: &'static str,
    /// The platform time of the attempt.
    pub now: DateTime<Utc>,
}

/// Writes the audit record of a refused credential check inside `conn`.
/// The actor is the target user when known, else [`ANONYMOUS_ACTOR`]; there
/// is no request id (the attempt is not a mutation of the caller's).
pub async fn record_failed_credential(
    conn: &impl ConnectionTrait,
    f: FailedCredential,
) -> Result<AuditId, KernelError> {
    let id = AuditId::generate();
    let actor = f
        .target_user_id
        .map_or_else(|| ANONYMOUS_ACTOR.to_owned(), |u| u.to_string());
    // Resource ids are capped at 64 in the table; usernames and key ids fit.
    let resource: String = f.resource_id.chars().take(64).collect();
    audit_record::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(f.partner_id.map(|p| p.to_string())),
        actor_user_id: Set(actor),
        actor_partner_id: Set(f.partner_id.map(|p| p.to_string())),
        acting_for_partner_id: Set(None),
        method: Set(f.method.to_owned()),
        resource_id: Set(resource),
        request_id: Set(None),
        reason: Set(Some(f.reason.to_owned())),
        before: Set(None),
        after: Set(None),
        created_at: Set(f.now),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
