//! Audit records: one per change, written by the write path in the same
//! transaction as the change ([`crate::write::commit`]); and refused sign-ins,
//! collapsed per subject and run.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QuerySelect, Set};

use crate::entity::audit_record;
use crate::error::KernelError;
use crate::ids::{AuditId, CustomerId, PartnerId, UserId};
use crate::mutation::Mutation;
use crate::write::Change;

/// Writes the audit record of `change`, made by the mutation `m`, inside
/// `conn` (the mutation's transaction).
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    change: &Change,
) -> Result<AuditId, KernelError> {
    let id = AuditId::generate();
    audit_record::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(change.partner_id.map(|p| p.to_string())),
        // A customer signed in itself has no user; one assumed by a partner
        // user is recorded with both identities.
        actor_user_id: Set(m
            .principal
            .user_id
            .map(|u| u.to_string())
            .unwrap_or_default()),
        actor_customer_id: Set(m.principal.customer_id().map(|c| c.to_string())),
        actor_partner_id: Set(m.principal.partner_id().map(|p| p.to_string())),
        acting_for_partner_id: Set(m.acting_for.map(|p| p.to_string())),
        method: Set(m.method.to_owned()),
        resource_id: Set(change.resource_id.clone()),
        request_id: Set(Some(m.request_id)),
        reason: Set(change.reason.clone()),
        before: Set(change.before.clone()),
        after: Set(change.after.clone()),
        created_at: Set(m.now),
        occurrences: Set(1),
        last_time: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// `actor_user_id` of a failed sign-in whose target does not exist: there is no
/// user to name, and the column is required. It can never be a real user id
/// (those carry the `usr_` prefix).
pub const ANONYMOUS_ACTOR: &str = "anonymous";

/// Refused credential checks (wrong passwords, unknown access keys, attempts
/// on a locked subject) on one subject. There is no authenticated principal
/// to record, so this is written without a [`Mutation`]. A subject's refusals
/// in one throttle window collapse into one record that counts them, so that
/// nobody can grow the audit trail by failing to sign in.
#[derive(Debug, Clone)]
pub struct Refusals {
    /// The full gRPC method, e.g. `partner.iam.v1.AuthService/Login`.
    pub method: &'static str,
    /// What was presented: the username or the access key id.
    pub resource_id: String,
    /// The user the credential names, when it exists; it becomes the actor,
    /// so a partner sees attempts on its own users' accounts.
    pub target_user_id: Option<UserId>,
    /// The customer the credential names, when it exists (customer sign-in).
    pub target_customer_id: Option<CustomerId>,
    /// The target's partner, when the target exists and belongs to one.
    pub partner_id: Option<PartnerId>,
    /// How many times each ErrorInfo reason was answered, e.g.
    /// `INVALID_CREDENTIALS` 5, `TOO_MANY_FAILED_ATTEMPTS` 55.
    pub counts: BTreeMap<&'static str, u32>,
    /// Anything else worth keeping (an aggregate of unknown subjects lists
    /// a sample of the names presented).
    pub detail: Option<serde_json::Value>,
    /// The platform time of the last of them.
    pub now: DateTime<Utc>,
}

impl Refusals {
    fn total(&self) -> i32 {
        let sum: u64 = self.counts.values().map(|n| u64::from(*n)).sum();
        i32::try_from(sum).unwrap_or(i32::MAX)
    }
}

/// Counts `r` into the open record `open` of its window when there is one,
/// else writes a new record; returns the record's id. The reason of a record
/// is the first refusal's; `after.refusals` counts every reason.
pub async fn record_refusals(
    conn: &impl ConnectionTrait,
    open: Option<AuditId>,
    r: Refusals,
) -> Result<AuditId, KernelError> {
    let total = r.total();
    if total == 0 {
        return Err(KernelError::Corrupt("no refusal to record".into()));
    }
    let existing = match open {
        // Locked (PostgreSQL; SQLite's single writer already serialises), so
        // two writers merging counts into one record lose none.
        Some(id) => audit_record::Entity::find_by_id(id.to_string())
            .lock_exclusive()
            .one(conn)
            .await?
            .map(|row| (id, row)),
        None => None,
    };
    if let Some((id, row)) = existing {
        let mut counts = refusal_counts(row.after.as_ref());
        for (reason, n) in &r.counts {
            *counts.entry((*reason).to_owned()).or_default() += u64::from(*n);
        }
        let mut after = row.after.clone().unwrap_or_else(|| serde_json::json!({}));
        after["refusals"] = serde_json::json!(counts);
        audit_record::ActiveModel {
            id: Set(row.id.clone()),
            after: Set(Some(after)),
            occurrences: Set(row.occurrences.saturating_add(total)),
            last_time: Set(Some(r.now)),
            ..Default::default()
        }
        .update(conn)
        .await?;
        return Ok(id);
    }
    let id = AuditId::generate();
    let actor = r
        .target_user_id
        .map_or_else(|| ANONYMOUS_ACTOR.to_owned(), |u| u.to_string());
    // Resource ids are capped at 64 in the table; usernames and key ids fit.
    let resource: String = r.resource_id.chars().take(64).collect();
    let mut after = r.detail.clone().unwrap_or_else(|| serde_json::json!({}));
    after["refusals"] = serde_json::json!(r.counts);
    audit_record::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(r.partner_id.map(|p| p.to_string())),
        actor_user_id: Set(actor),
        actor_customer_id: Set(r.target_customer_id.map(|c| c.to_string())),
        actor_partner_id: Set(r.partner_id.map(|p| p.to_string())),
        acting_for_partner_id: Set(None),
        method: Set(r.method.to_owned()),
        resource_id: Set(resource),
        request_id: Set(None),
        reason: Set(r.counts.keys().next().map(|k| (*k).to_owned())),
        before: Set(None),
        after: Set(Some(after)),
        created_at: Set(r.now),
        occurrences: Set(total),
        last_time: Set(Some(r.now)),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// The per-reason counts kept in a collapsed record.
fn refusal_counts(after: Option<&serde_json::Value>) -> BTreeMap<String, u64> {
    after
        .and_then(|a| a.get("refusals"))
        .and_then(|r| r.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// An audited sign-in that changes no business data, such as a partner
/// user starting to act as a customer: written with the sign-in's session
/// row, in its transaction.
#[derive(Debug, Clone)]
pub struct SignInRecord<'a> {
    /// Who signed in: the record names its user and, for a customer-scoped
    /// session, the customer.
    pub principal: &'a crate::principal::Principal,
    /// The customer the new session acts as, when it is customer-scoped.
    pub customer_id: Option<CustomerId>,
    /// The full gRPC method.
    pub method: &'static str,
    /// The tenant whose data the session reaches.
    pub partner_id: Option<PartnerId>,
    pub resource_id: String,
    pub reason: Option<String>,
    pub after: serde_json::Value,
    pub now: DateTime<Utc>,
}

/// Writes the audit record of a sign-in.
pub async fn record_sign_in(
    conn: &impl ConnectionTrait,
    r: SignInRecord<'_>,
) -> Result<AuditId, KernelError> {
    let id = AuditId::generate();
    audit_record::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(r.partner_id.map(|p| p.to_string())),
        actor_user_id: Set(r
            .principal
            .user_id
            .map(|u| u.to_string())
            .unwrap_or_default()),
        actor_customer_id: Set(r
            .customer_id
            .or(r.principal.customer_id())
            .map(|c| c.to_string())),
        actor_partner_id: Set(r.principal.partner_id().map(|p| p.to_string())),
        acting_for_partner_id: Set(None),
        method: Set(r.method.to_owned()),
        resource_id: Set(r.resource_id),
        request_id: Set(None),
        reason: Set(r.reason),
        before: Set(None),
        after: Set(Some(r.after)),
        created_at: Set(r.now),
        occurrences: Set(1),
        last_time: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
