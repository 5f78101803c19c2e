//! Who may call each RPC of the customers domain, and the permissions it
//! declares.

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, events, rule};
use partner_kernel::permission::{JobRole, Permission};

use Access::{AnyOf, Public};
use Effect::{Read, Write};

const DOMAIN: &str = "customers";

/// Read and list customers, and check whether an identity is free.
pub const CUSTOMERS_READ: Permission = Permission::partner(
    "customers.read",
    DOMAIN,
    "Read and list customers; check whether an account name, email or mobile is free.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Create customers for sales-platform accounts.
pub const CUSTOMERS_CREATE: Permission = Permission::partner(
    "customers.create",
    DOMAIN,
    "Create customers for accounts of the partner's sales platforms.",
    // Operations too: it runs the account, and so keeps every permission
    // SALES has (it administers sales users; see the outranking rule).
    &[JobRole::Sales, JobRole::Operations],
);

/// Change customers' labels, account managers and contact.
pub const CUSTOMERS_UPDATE: Permission = Permission::partner(
    "customers.update",
    DOMAIN,
    "Change customers' labels, account managers and contact.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Freeze and unfreeze customers.
pub const CUSTOMERS_FREEZE: Permission = Permission::partner(
    "customers.freeze",
    DOMAIN,
    "Freeze and unfreeze customers.",
    &[JobRole::Operations],
);

/// Set customers' budgets.
pub const CUSTOMERS_BUDGET: Permission = Permission::partner(
    "customers.budget",
    DOMAIN,
    "Set customers' budgets.",
    &[JobRole::Finance],
);

/// Submit customers' real-name verifications.
pub const CUSTOMERS_VERIFY: Permission = Permission::partner(
    "customers.verify",
    DOMAIN,
    "Submit customers' real-name verifications.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Read every partner's customers' verifications.
pub const PLATFORM_CUSTOMERS_READ: Permission = Permission::platform(
    "platform.customers.read",
    DOMAIN,
    "Read every partner's customers' real-name verifications.",
);

/// Approve or reject real-name verifications.
pub const PLATFORM_CUSTOMERS_REVIEW: Permission = Permission::platform(
    "platform.customers.review",
    DOMAIN,
    "Approve or reject customers' real-name verifications.",
);

/// Read the partner's leads.
pub const LEADS_READ: Permission = Permission::partner(
    "leads.read",
    DOMAIN,
    "Read and list the partner's leads.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Create and work on the partner's leads.
pub const LEADS_MANAGE: Permission = Permission::partner(
    "leads.manage",
    DOMAIN,
    "Create, follow up, close and convert leads; request brokered calls.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Read every lead.
pub const PLATFORM_LEADS_READ: Permission = Permission::platform(
    "platform.leads.read",
    DOMAIN,
    "Read every lead, dispatched or not.",
);

/// Create leads and dispatch them to partners.
pub const PLATFORM_LEADS_MANAGE: Permission = Permission::platform(
    "platform.leads.manage",
    DOMAIN,
    "Create leads and dispatch them to partners.",
);

/// Read the partner's opportunities.
pub const OPPORTUNITIES_READ: Permission = Permission::partner(
    "opportunities.read",
    DOMAIN,
    "Read and list the partner's opportunities.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Submit opportunities and mark them won or lost.
pub const OPPORTUNITIES_MANAGE: Permission = Permission::partner(
    "opportunities.manage",
    DOMAIN,
    "Submit opportunities and mark them won or lost.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Read every opportunity and the routing table.
pub const PLATFORM_OPPORTUNITIES_READ: Permission = Permission::platform(
    "platform.opportunities.read",
    DOMAIN,
    "Read every opportunity and the region-to-office routing table.",
);

/// Accept and reject opportunities; maintain the routing table.
pub const PLATFORM_OPPORTUNITIES_MANAGE: Permission = Permission::platform(
    "platform.opportunities.manage",
    DOMAIN,
    "Accept and reject opportunities; maintain the region-to-office routing table.",
);

/// End associations with customers.
pub const CUSTOMERS_DISASSOCIATE: Permission = Permission::partner(
    "customers.disassociate",
    DOMAIN,
    "End the partner's association with a customer.",
    &[JobRole::Operations],
);

/// Make and revoke invitations to associate with the partner.
pub const CUSTOMERS_INVITE: Permission = Permission::partner(
    "customers.invite",
    DOMAIN,
    "Make and revoke invitations for customers to associate with the partner.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Set the facts about customers that refuse associating them.
pub const PLATFORM_CUSTOMERS_MANAGE: Permission = Permission::platform(
    "platform.customers.manage",
    DOMAIN,
    "Set the facts about customers that refuse associating them (another site, \
     a partner, reported, subsidy programme).",
);

/// A customer reads its own account, budget and real-name review.
pub const SELF_ACCOUNT_READ: Permission = Permission::customer(
    "self.account.read",
    DOMAIN,
    "Read the customer's own account, budget and real-name review.",
    true,
);

/// A customer submits its own real-name verification.
pub const SELF_VERIFICATION_SUBMIT: Permission = Permission::customer(
    "self.verification.submit",
    DOMAIN,
    "Submit the customer's own real-name verification (through its current partner).",
    true,
);

/// A customer changes its own password.
pub const SELF_PASSWORD_CHANGE: Permission = Permission::customer(
    "self.password.change",
    DOMAIN,
    "Change the customer's own password (the customer's own act).",
    false,
);

/// A customer accepts an invitation to associate with a partner.
pub const SELF_ASSOCIATIONS_ACCEPT: Permission = Permission::customer(
    "self.associations.accept",
    DOMAIN,
    "Accept a partner's invitation to associate (the customer's own consent).",
    false,
);

/// Every permission this domain declares.
pub const PERMISSIONS: &[Permission] = &[
    CUSTOMERS_READ,
    CUSTOMERS_CREATE,
    CUSTOMERS_UPDATE,
    CUSTOMERS_FREEZE,
    CUSTOMERS_BUDGET,
    CUSTOMERS_DISASSOCIATE,
    CUSTOMERS_VERIFY,
    PLATFORM_CUSTOMERS_READ,
    PLATFORM_CUSTOMERS_REVIEW,
    LEADS_READ,
    LEADS_MANAGE,
    PLATFORM_LEADS_READ,
    PLATFORM_LEADS_MANAGE,
    OPPORTUNITIES_READ,
    OPPORTUNITIES_MANAGE,
    PLATFORM_OPPORTUNITIES_READ,
    PLATFORM_OPPORTUNITIES_MANAGE,
    CUSTOMERS_INVITE,
    PLATFORM_CUSTOMERS_MANAGE,
    SELF_ACCOUNT_READ,
    SELF_ASSOCIATIONS_ACCEPT,
    SELF_VERIFICATION_SUBMIT,
    SELF_PASSWORD_CHANGE,
];

/// One rule per RPC the domain serves.
pub const RULES: &[Rule] = &[
    rule(
        "partner.customers.v1.CustomerService/CheckCustomerIdentity",
        AnyOf(&[CUSTOMERS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/CreateCustomer",
        AnyOf(&[CUSTOMERS_CREATE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/GetCustomer",
        AnyOf(&[CUSTOMERS_READ, SELF_ACCOUNT_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/BatchGetCustomers",
        AnyOf(&[CUSTOMERS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/ListCustomers",
        AnyOf(&[CUSTOMERS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/UpdateCustomer",
        AnyOf(&[CUSTOMERS_UPDATE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/FreezeCustomers",
        AnyOf(&[CUSTOMERS_FREEZE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/UnfreezeCustomers",
        AnyOf(&[CUSTOMERS_FREEZE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/DisassociateCustomer",
        AnyOf(&[CUSTOMERS_DISASSOCIATE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/SetCustomerBudget",
        AnyOf(&[CUSTOMERS_BUDGET]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/GetCustomerBudget",
        AnyOf(&[CUSTOMERS_READ, SELF_ACCOUNT_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/BatchGetCustomerBudgets",
        AnyOf(&[CUSTOMERS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/ListBudgetRecords",
        AnyOf(&[CUSTOMERS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/SubmitIndividualVerification",
        AnyOf(&[CUSTOMERS_VERIFY, SELF_VERIFICATION_SUBMIT]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/SubmitEnterpriseVerification",
        AnyOf(&[CUSTOMERS_VERIFY, SELF_VERIFICATION_SUBMIT]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/ChangeToEnterpriseVerification",
        AnyOf(&[CUSTOMERS_VERIFY, SELF_VERIFICATION_SUBMIT]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/GetVerificationReview",
        AnyOf(&[CUSTOMERS_READ, PLATFORM_CUSTOMERS_READ, SELF_ACCOUNT_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.CustomerService/ReviewVerification",
        AnyOf(&[PLATFORM_CUSTOMERS_REVIEW]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/CreateAssociationInvite",
        AnyOf(&[CUSTOMERS_INVITE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/RevokeAssociationInvite",
        AnyOf(&[CUSTOMERS_INVITE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/AcceptAssociationInvite",
        AnyOf(&[SELF_ASSOCIATIONS_ACCEPT]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/SignUpWithAssociationInvite",
        Public,
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/ChangeOwnPassword",
        AnyOf(&[SELF_PASSWORD_CHANGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.CustomerService/SetCustomerFacts",
        AnyOf(&[PLATFORM_CUSTOMERS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/CreateLead",
        AnyOf(&[LEADS_MANAGE, PLATFORM_LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/GetLead",
        AnyOf(&[LEADS_READ, PLATFORM_LEADS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.LeadService/ListLeads",
        AnyOf(&[LEADS_READ, PLATFORM_LEADS_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.LeadService/UpdateLead",
        AnyOf(&[LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/AddFollowUp",
        AnyOf(&[LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/CloseLead",
        AnyOf(&[LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/ConvertLead",
        AnyOf(&[LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/DispatchLead",
        AnyOf(&[PLATFORM_LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.LeadService/RequestOutboundCall",
        AnyOf(&[LEADS_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/SubmitOpportunity",
        AnyOf(&[OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/GetOpportunity",
        AnyOf(&[OPPORTUNITIES_READ, PLATFORM_OPPORTUNITIES_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.OpportunityService/ListOpportunities",
        AnyOf(&[OPPORTUNITIES_READ, PLATFORM_OPPORTUNITIES_READ]),
        Read,
    ),
    rule(
        "partner.customers.v1.OpportunityService/AcceptOpportunity",
        AnyOf(&[PLATFORM_OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/RejectOpportunity",
        AnyOf(&[PLATFORM_OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/MarkOpportunityWon",
        AnyOf(&[OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/MarkOpportunityLost",
        AnyOf(&[OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/SetRoutingRule",
        AnyOf(&[PLATFORM_OPPORTUNITIES_MANAGE]),
        Write,
    ),
    rule(
        "partner.customers.v1.OpportunityService/ListRoutingRules",
        AnyOf(&[PLATFORM_OPPORTUNITIES_READ]),
        Read,
    ),
];

/// This domain's rules and permissions, for the server's access table.
pub const ACCESS: DomainAccess = DomainAccess {
    events: &[
        events("customer.", CUSTOMERS_READ),
        events("lead.", LEADS_READ),
        events("opportunity.", OPPORTUNITIES_READ),
    ],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: [&str; 3] = [
        "partner.customers.v1.CustomerService/",
        "partner.customers.v1.LeadService/",
        "partner.customers.v1.OpportunityService/",
    ];

    #[test]
    fn every_rule_is_of_this_domains_services() {
        for r in RULES {
            assert!(
                SERVICES.iter().any(|s| r.method.starts_with(s)),
                "{}",
                r.method
            );
        }
    }
}
