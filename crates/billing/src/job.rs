//! What the jobs act as: the platform itself, under the job's name where a
//! call's method would be, with no user and no permissions (a job calls
//! the domain's functions, not its verbs).

use chrono::{DateTime, Utc};
use partner_kernel::ids::SessionId;
use partner_kernel::mutation::Mutation;
use partner_kernel::permission::PermissionSet;
use partner_kernel::principal::{Actor, Principal};
use uuid::Uuid;

/// The platform acting on its own in the job `method` at `now`; each call
/// is a request of its own (a posting's request id is unique).
pub(crate) fn as_platform(method: &'static str, now: DateTime<Utc>) -> Mutation {
    let principal = Principal {
        user_id: None,
        session_id: SessionId::generate(),
        actor: Actor::Operator,
        permissions: PermissionSet::empty(),
    };
    Mutation::new(principal, method, Uuid::new_v4(), [0; 32], now).keyed_by(method.to_owned())
}
