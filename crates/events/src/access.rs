//! Who may call each RPC of the event stream.

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, rule};
use partner_kernel::permission::{JobRole, Permission};

const DOMAIN: &str = "events";

/// Read and watch the partner's events.
pub const EVENTS_READ: Permission = Permission::partner(
    "events.read",
    DOMAIN,
    "Read and watch the events of the partner's data.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Every permission this domain declares.
pub const PERMISSIONS: &[Permission] = &[EVENTS_READ];

/// One rule per RPC the domain serves.
pub const RULES: &[Rule] = &[
    rule(
        "partner.events.v1.EventService/ListEvents",
        Access::AnyOf(&[EVENTS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.events.v1.EventService/WatchEvents",
        Access::AnyOf(&[EVENTS_READ]),
        Effect::Read,
    ),
];

/// This domain's rules and permissions, for the server's access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
