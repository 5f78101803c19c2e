//! Who may call each RPC of the identity domain (`partner.iam.v1`), and the
//! permissions it declares. The server assembles these with every other
//! domain's into one access table at start
//! ([`partner_kernel::access::AccessTable`]).

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, events, rule};
use partner_kernel::permission::{JobRole, Permission};

use Access::{AnyOf, Authenticated, Public};
use Effect::{Read, SignIn, Write};

const DOMAIN: &str = "iam";

/// List token-signing keys.
pub const PLATFORM_SIGNING_KEYS_READ: Permission = Permission::platform(
    "platform.signing_keys.read",
    DOMAIN,
    "List token-signing keys.",
);

/// Rotate and retire token-signing keys.
pub const PLATFORM_SIGNING_KEYS_MANAGE: Permission = Permission::platform(
    "platform.signing_keys.manage",
    DOMAIN,
    "Rotate and retire token-signing keys.",
);

/// Create access keys for the partner's users.
pub const ACCESS_KEYS_CREATE: Permission = Permission::partner(
    "access_keys.create",
    DOMAIN,
    "Create access keys for the partner's users.",
    &[JobRole::Operations],
);

/// List the partner's access keys (never their secrets).
pub const ACCESS_KEYS_READ: Permission = Permission::partner(
    "access_keys.read",
    DOMAIN,
    "List the partner's access keys (never their secrets).",
    &[JobRole::Operations],
);

/// Disable access keys.
pub const ACCESS_KEYS_DISABLE: Permission = Permission::partner(
    "access_keys.disable",
    DOMAIN,
    "Disable access keys.",
    &[JobRole::Operations],
);

/// Delete access keys.
pub const ACCESS_KEYS_DELETE: Permission = Permission::partner(
    "access_keys.delete",
    DOMAIN,
    "Delete access keys.",
    &[JobRole::Operations],
);

/// Act as one of the partner's customers.
pub const CUSTOMERS_ASSUME: Permission = Permission::partner(
    "customers.assume",
    DOMAIN,
    "Act as one of the partner's customers with a short-lived token scoped to it.",
    // No job role: it reaches a customer's own data as the customer, so
    // only the master, ADMIN and roles made for it hold it.
    &[],
);

/// Every permission the domain declares.
pub const PERMISSIONS: &[Permission] = &[
    PLATFORM_SIGNING_KEYS_READ,
    PLATFORM_SIGNING_KEYS_MANAGE,
    ACCESS_KEYS_CREATE,
    ACCESS_KEYS_READ,
    ACCESS_KEYS_DISABLE,
    ACCESS_KEYS_DELETE,
    CUSTOMERS_ASSUME,
];

/// One rule per RPC the domain serves.
pub const RULES: &[Rule] = &[
    rule("partner.iam.v1.AuthService/Login", Public, SignIn),
    rule("partner.iam.v1.AuthService/RefreshToken", Public, SignIn),
    rule("partner.iam.v1.AuthService/Logout", Authenticated, SignIn),
    rule("partner.iam.v1.AuthService/GetJwks", Public, Read),
    rule(
        "partner.iam.v1.AuthService/ExchangeAccessKey",
        Public,
        SignIn,
    ),
    rule("partner.iam.v1.AuthService/CustomerLogin", Public, SignIn),
    rule(
        "partner.iam.v1.AuthService/AssumeCustomer",
        AnyOf(&[CUSTOMERS_ASSUME]),
        SignIn,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/CreateAccessKey",
        AnyOf(&[ACCESS_KEYS_CREATE]),
        Write,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/ListAccessKeys",
        AnyOf(&[ACCESS_KEYS_READ]),
        Read,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/DisableAccessKey",
        AnyOf(&[ACCESS_KEYS_DISABLE]),
        Write,
    ),
    rule(
        "partner.iam.v1.AccessKeyService/DeleteAccessKey",
        AnyOf(&[ACCESS_KEYS_DELETE]),
        Write,
    ),
    rule(
        "partner.iam.v1.SigningKeyService/ListSigningKeys",
        AnyOf(&[PLATFORM_SIGNING_KEYS_READ]),
        Read,
    ),
    rule(
        "partner.iam.v1.SigningKeyService/RotateSigningKey",
        AnyOf(&[PLATFORM_SIGNING_KEYS_MANAGE]),
        Write,
    ),
    rule(
        "partner.iam.v1.SigningKeyService/RetireSigningKey",
        AnyOf(&[PLATFORM_SIGNING_KEYS_MANAGE]),
        Write,
    ),
];

/// What the domain contributes to the platform's access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[events("access_key.", ACCESS_KEYS_READ)],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
