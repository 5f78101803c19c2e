//! Who may call each RPC of the event stream and of webhooks.

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

/// See the partner's webhook endpoints and their deliveries.
pub const WEBHOOKS_READ: Permission = Permission::partner(
    "webhooks.read",
    DOMAIN,
    "See the partner's webhook endpoints and how their deliveries went.",
    &[JobRole::Operations],
);

/// Create, change and remove webhook endpoints; send test events and redeliver events.
pub const WEBHOOKS_MANAGE: Permission = Permission::partner(
    "webhooks.manage",
    DOMAIN,
    "Create, change and remove webhook endpoints, send test events and redeliver events.",
    &[JobRole::Operations],
);

/// Every permission this domain declares.
pub const PERMISSIONS: &[Permission] = &[EVENTS_READ, WEBHOOKS_READ, WEBHOOKS_MANAGE];

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
    rule(
        "partner.events.v1.WebhookService/CreateWebhookEndpoint",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.events.v1.WebhookService/GetWebhookEndpoint",
        Access::AnyOf(&[WEBHOOKS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.events.v1.WebhookService/ListWebhookEndpoints",
        Access::AnyOf(&[WEBHOOKS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.events.v1.WebhookService/UpdateWebhookEndpoint",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.events.v1.WebhookService/RotateWebhookSecret",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.events.v1.WebhookService/DeleteWebhookEndpoint",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.events.v1.WebhookService/SendTestEvent",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.events.v1.WebhookService/ListDeliveries",
        Access::AnyOf(&[WEBHOOKS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.events.v1.WebhookService/RedeliverEvent",
        Access::AnyOf(&[WEBHOOKS_MANAGE]),
        Effect::Write,
    ),
];

/// This domain's rules and permissions, for the server's access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
