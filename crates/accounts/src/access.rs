//! Who may call each RPC of the accounts domain, and the permissions it
//! declares. The server assembles these with every other domain's into one
//! access table at start ([`partner_kernel::access::AccessTable`]).

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, events, rule};
use partner_kernel::permission::{JobRole, Permission};

use Access::{AnyOf, Authenticated, Public};
use Effect::{Read, Write};

const DOMAIN: &str = "accounts";

/// Register new partners.
pub const PLATFORM_PARTNERS_REGISTER: Permission = Permission::platform(
    "platform.partners.register",
    DOMAIN,
    "Register new partners.",
);

/// List and read every partner.
pub const PLATFORM_PARTNERS_READ: Permission = Permission::platform(
    "platform.partners.read",
    DOMAIN,
    "List and read every partner.",
);

/// Update any partner's profile.
pub const PLATFORM_PARTNERS_UPDATE: Permission = Permission::platform(
    "platform.partners.update",
    DOMAIN,
    "Update any partner's profile.",
);

/// Suspend and reinstate partners.
pub const PLATFORM_PARTNERS_SUSPEND: Permission = Permission::platform(
    "platform.partners.suspend",
    DOMAIN,
    "Suspend and reinstate partners.",
);

/// Read every partner's audit records.
pub const PLATFORM_AUDIT_READ: Permission = Permission::platform(
    "platform.audit.read",
    DOMAIN,
    "Read every partner's audit records.",
);

/// Issue more sales-platform ids to partners.
pub const PLATFORM_SALES_PLATFORMS_ISSUE: Permission = Permission::platform(
    "platform.sales_platforms.issue",
    DOMAIN,
    "Issue more sales-platform ids (xaccount types) to partners.",
);

/// Read the caller's own partner.
pub const PARTNER_PROFILE_READ: Permission = Permission::partner(
    "partner.profile.read",
    DOMAIN,
    "Read the caller's own partner.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Update the caller's own partner.
pub const PARTNER_PROFILE_UPDATE: Permission = Permission::partner(
    "partner.profile.update",
    DOMAIN,
    "Update the caller's own partner.",
    &[],
);

/// Create sub-users.
pub const USERS_CREATE: Permission = Permission::partner(
    "users.create",
    DOMAIN,
    "Create sub-users.",
    &[JobRole::Operations],
);

/// Read and list users.
pub const USERS_READ: Permission = Permission::partner(
    "users.read",
    DOMAIN,
    "Read and list users.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Change sub-users' display names and emails.
pub const USERS_UPDATE: Permission = Permission::partner(
    "users.update",
    DOMAIN,
    "Change sub-users' display names and emails.",
    &[JobRole::Operations],
);

/// Disable and enable sub-users.
pub const USERS_DISABLE: Permission = Permission::partner(
    "users.disable",
    DOMAIN,
    "Disable and enable sub-users.",
    &[JobRole::Operations],
);

/// Delete sub-users (their sessions, access keys and roles go with them).
pub const USERS_DELETE: Permission = Permission::partner(
    "users.delete",
    DOMAIN,
    "Delete sub-users (their sessions, access keys and roles go with them).",
    &[],
);

/// Read the partner's own audit records.
pub const AUDIT_READ: Permission = Permission::partner(
    "audit.read",
    DOMAIN,
    "Read the partner's own audit records.",
    &[JobRole::Finance, JobRole::Operations],
);

/// Read roles, their permissions and their members.
pub const ROLES_READ: Permission = Permission::partner(
    "roles.read",
    DOMAIN,
    "Read roles, their permissions and their members.",
    &[JobRole::Operations],
);

/// Create, update and delete custom roles.
pub const ROLES_MANAGE: Permission = Permission::partner(
    "roles.manage",
    DOMAIN,
    "Create, update and delete custom roles.",
    &[],
);

/// Assign roles to users and take them away.
pub const ROLES_ASSIGN: Permission = Permission::partner(
    "roles.assign",
    DOMAIN,
    "Assign roles to users and take them away.",
    &[],
);

/// Read the program catalog (operator).
pub const PLATFORM_PROGRAMS_READ: Permission = Permission::platform(
    "platform.programs.read",
    DOMAIN,
    "Read the program catalog (operator).",
);

/// Invite partners to any program but RESELLER.
pub const PLATFORM_INVITATIONS_CREATE: Permission = Permission::platform(
    "platform.invitations.create",
    DOMAIN,
    "Invite partners to any program but RESELLER.",
);

/// List every invitation.
pub const PLATFORM_INVITATIONS_READ: Permission = Permission::platform(
    "platform.invitations.read",
    DOMAIN,
    "List every invitation.",
);

/// Revoke any invitation.
pub const PLATFORM_INVITATIONS_REVOKE: Permission = Permission::platform(
    "platform.invitations.revoke",
    DOMAIN,
    "Revoke any invitation.",
);

/// List any distributor's resellers.
pub const PLATFORM_RESELLERS_READ: Permission = Permission::platform(
    "platform.resellers.read",
    DOMAIN,
    "List any distributor's resellers.",
);

/// Read the program catalog.
pub const PROGRAMS_READ: Permission = Permission::partner(
    "programs.read",
    DOMAIN,
    "Read the program catalog.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Accept an invitation for the caller's partner.
pub const PROGRAMS_JOIN: Permission = Permission::partner(
    "programs.join",
    DOMAIN,
    "Accept an invitation for the caller's partner.",
    &[],
);

/// Invite resellers (distributors only).
pub const INVITATIONS_CREATE: Permission = Permission::partner(
    "invitations.create",
    DOMAIN,
    "Invite resellers (distributors only).",
    &[],
);

/// List the invitations the partner sent.
pub const INVITATIONS_READ: Permission = Permission::partner(
    "invitations.read",
    DOMAIN,
    "List the invitations the partner sent.",
    &[JobRole::Operations],
);

/// Revoke invitations the partner sent.
pub const INVITATIONS_REVOKE: Permission = Permission::partner(
    "invitations.revoke",
    DOMAIN,
    "Revoke invitations the partner sent.",
    &[],
);

/// List the partner's resellers.
pub const RESELLERS_READ: Permission = Permission::partner(
    "resellers.read",
    DOMAIN,
    "List the partner's resellers.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Suspend and restore reseller links.
pub const RESELLERS_MANAGE: Permission = Permission::partner(
    "resellers.manage",
    DOMAIN,
    "Suspend and restore reseller links.",
    &[JobRole::Operations],
);

/// Every permission the domain declares.
pub const PERMISSIONS: &[Permission] = &[
    PLATFORM_PARTNERS_REGISTER,
    PLATFORM_PARTNERS_READ,
    PLATFORM_PARTNERS_UPDATE,
    PLATFORM_PARTNERS_SUSPEND,
    PLATFORM_AUDIT_READ,
    PLATFORM_SALES_PLATFORMS_ISSUE,
    PARTNER_PROFILE_READ,
    PARTNER_PROFILE_UPDATE,
    USERS_CREATE,
    USERS_READ,
    USERS_UPDATE,
    USERS_DISABLE,
    USERS_DELETE,
    AUDIT_READ,
    ROLES_READ,
    ROLES_MANAGE,
    ROLES_ASSIGN,
    PLATFORM_PROGRAMS_READ,
    PLATFORM_INVITATIONS_CREATE,
    PLATFORM_INVITATIONS_READ,
    PLATFORM_INVITATIONS_REVOKE,
    PLATFORM_RESELLERS_READ,
    PROGRAMS_READ,
    PROGRAMS_JOIN,
    INVITATIONS_CREATE,
    INVITATIONS_READ,
    INVITATIONS_REVOKE,
    RESELLERS_READ,
    RESELLERS_MANAGE,
];

/// One rule per RPC the domain serves.
pub const RULES: &[Rule] = &[
    rule(
        "partner.accounts.v1.PartnerService/RegisterPartner",
        AnyOf(&[PLATFORM_PARTNERS_REGISTER]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/GetPartner",
        AnyOf(&[PLATFORM_PARTNERS_READ, PARTNER_PROFILE_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.PartnerService/ListPartners",
        AnyOf(&[PLATFORM_PARTNERS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.PartnerService/UpdatePartner",
        AnyOf(&[PLATFORM_PARTNERS_UPDATE, PARTNER_PROFILE_UPDATE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/SuspendPartner",
        AnyOf(&[PLATFORM_PARTNERS_SUSPEND]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/ReinstatePartner",
        AnyOf(&[PLATFORM_PARTNERS_SUSPEND]),
        Write,
    ),
    rule(
        "partner.accounts.v1.PartnerService/IssueSalesPlatformId",
        AnyOf(&[PLATFORM_SALES_PLATFORMS_ISSUE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/CreateUser",
        AnyOf(&[USERS_CREATE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/GetUser",
        AnyOf(&[USERS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.UserService/ListUsers",
        AnyOf(&[USERS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.UserService/UpdateUser",
        AnyOf(&[USERS_UPDATE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/DisableUser",
        AnyOf(&[USERS_DISABLE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/EnableUser",
        AnyOf(&[USERS_DISABLE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.UserService/DeleteUser",
        AnyOf(&[USERS_DELETE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.AuditService/ListAuditRecords",
        AnyOf(&[PLATFORM_AUDIT_READ, AUDIT_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/ListPermissions",
        Authenticated,
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/ListRoles",
        AnyOf(&[ROLES_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/GetRole",
        AnyOf(&[ROLES_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/ListRoleMembers",
        AnyOf(&[ROLES_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.RoleService/CreateRole",
        AnyOf(&[ROLES_MANAGE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/UpdateRole",
        AnyOf(&[ROLES_MANAGE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/DeleteRole",
        AnyOf(&[ROLES_MANAGE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/AssignRole",
        AnyOf(&[ROLES_ASSIGN]),
        Write,
    ),
    rule(
        "partner.accounts.v1.RoleService/UnassignRole",
        AnyOf(&[ROLES_ASSIGN]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ProgramService/ListPrograms",
        AnyOf(&[PLATFORM_PROGRAMS_READ, PROGRAMS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ProgramService/CreateInvitation",
        AnyOf(&[PLATFORM_INVITATIONS_CREATE, INVITATIONS_CREATE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ProgramService/ListInvitations",
        AnyOf(&[PLATFORM_INVITATIONS_READ, INVITATIONS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ProgramService/RevokeInvitation",
        AnyOf(&[PLATFORM_INVITATIONS_REVOKE, INVITATIONS_REVOKE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ProgramService/AcceptInvitation",
        AnyOf(&[PROGRAMS_JOIN]),
        Write,
    ),
    // The invitation token is the credential; the new partner has no account yet.
    rule(
        "partner.accounts.v1.ProgramService/SignUpWithInvitation",
        Public,
        Write,
    ),
    rule(
        "partner.accounts.v1.ResellerService/ListResellers",
        AnyOf(&[PLATFORM_RESELLERS_READ, RESELLERS_READ]),
        Read,
    ),
    rule(
        "partner.accounts.v1.ResellerService/SuspendReseller",
        AnyOf(&[RESELLERS_MANAGE]),
        Write,
    ),
    rule(
        "partner.accounts.v1.ResellerService/RestoreReseller",
        AnyOf(&[RESELLERS_MANAGE]),
        Write,
    ),
];

/// What the domain contributes to the platform's access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[
        events("partner.", PARTNER_PROFILE_READ),
        events("user.", USERS_READ),
        events("role.", ROLES_READ),
        events("invitation.", INVITATIONS_READ),
        events("program.", PROGRAMS_READ),
        events("reseller.", RESELLERS_READ),
    ],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};

/// The catalog of this domain's permissions alone, for unit tests; the
/// server's catalog holds every domain's.
#[cfg(test)]
pub(crate) fn catalog() -> partner_kernel::permission::Catalog {
    partner_kernel::permission::Catalog::new(PERMISSIONS.to_vec()).unwrap_or_else(|e| panic!("{e}"))
}
