//! Who may call each RPC of the federation domain, and the permissions it
//! declares.

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, events, rule};
use partner_kernel::permission::{JobRole, Permission};

use Access::{AnyOf, Public};
use Effect::{Read, SignIn, Write};

const DOMAIN: &str = "federation";

/// Read the partner's identity providers.
pub const FEDERATION_READ: Permission = Permission::partner(
    "federation.read",
    DOMAIN,
    "Read the partner's SAML identity providers.",
    &[JobRole::Operations],
);

/// Register, change and remove the partner's identity providers.
pub const FEDERATION_MANAGE: Permission = Permission::partner(
    "federation.manage",
    DOMAIN,
    "Register, change (certificate rollover) and remove the partner's SAML identity providers.",
    &[JobRole::Operations],
);

/// Every permission this domain declares.
pub const PERMISSIONS: &[Permission] = &[FEDERATION_READ, FEDERATION_MANAGE];

/// One rule per RPC the domain serves.
pub const RULES: &[Rule] = &[
    rule(
        "partner.iam.v1.FederationService/RegisterIdentityProvider",
        AnyOf(&[FEDERATION_MANAGE]),
        Write,
    ),
    rule(
        "partner.iam.v1.FederationService/GetIdentityProvider",
        AnyOf(&[FEDERATION_READ]),
        Read,
    ),
    rule(
        "partner.iam.v1.FederationService/ListIdentityProviders",
        AnyOf(&[FEDERATION_READ]),
        Read,
    ),
    rule(
        "partner.iam.v1.FederationService/UpdateIdentityProvider",
        AnyOf(&[FEDERATION_MANAGE]),
        Write,
    ),
    rule(
        "partner.iam.v1.FederationService/DeleteIdentityProvider",
        AnyOf(&[FEDERATION_MANAGE]),
        Write,
    ),
    // The signed response is the credential.
    rule(
        "partner.iam.v1.FederationService/ExchangeSamlResponse",
        Public,
        SignIn,
    ),
    // Public by nature: IdPs and browsers fetch it.
    rule(
        "partner.iam.v1.FederationService/GetServiceProviderMetadata",
        Public,
        Read,
    ),
    // Starts a sign-in; the browser has no token yet.
    rule(
        "partner.iam.v1.FederationService/CreateLoginUrl",
        Public,
        SignIn,
    ),
    // The one-time code is the credential.
    rule(
        "partner.iam.v1.FederationService/ExchangeLoginCode",
        Public,
        SignIn,
    ),
];

/// The domain's declaration for the access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[events("federation.", FEDERATION_READ)],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
