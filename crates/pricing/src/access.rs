//! Who may call each RPC of the pricing domain.

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, rule};
use partner_kernel::permission::{JobRole, Permission};

const DOMAIN: &str = "pricing";

/// Read the catalog.
pub const CATALOG_READ: Permission = Permission::partner(
    "catalog.read",
    DOMAIN,
    "Read the catalog: service types, resource types, specs and list prices, regions, units.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Ask for prices (rating changes nothing, so it is a read).
pub const PRICING_READ: Permission = Permission::partner(
    "pricing.read",
    DOMAIN,
    "Rate product lines: list prices and the discounts that apply.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// A customer asks for its own prices (with the discounts it has).
pub const SELF_PRICING_READ: Permission = Permission::customer(
    "self.pricing.read",
    DOMAIN,
    "Rate product lines for the customer itself, with its discounts.",
    true,
);

/// Read the partner's discounts and incentive policies.
pub const DISCOUNTS_READ: Permission = Permission::partner(
    "discounts.read",
    DOMAIN,
    "Read the discounts of the partner's customers and the partner's incentive policies.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Set and end discount rates for the partner's customers.
pub const DISCOUNTS_MANAGE: Permission = Permission::partner(
    "discounts.manage",
    DOMAIN,
    "Set and end discount rates for the partner's customers, within its incentive policies.",
    &[JobRole::Finance],
);

/// Read every discount and incentive policy.
pub const PLATFORM_DISCOUNTS_READ: Permission = Permission::platform(
    "platform.discounts.read",
    DOMAIN,
    "Read every discount and incentive policy.",
);

/// Make commercial contracts and promotions; manage incentive policies.
pub const PLATFORM_DISCOUNTS_MANAGE: Permission = Permission::platform(
    "platform.discounts.manage",
    DOMAIN,
    "Make and end commercial contracts and promotions; make and end incentive policies.",
);

/// Read the partner's quotes.
pub const QUOTES_READ: Permission = Permission::partner(
    "quotes.read",
    DOMAIN,
    "Read the partner's quotes.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Make quotes for the partner's customers.
pub const QUOTES_CREATE: Permission = Permission::partner(
    "quotes.create",
    DOMAIN,
    "Make quotes for the partner's customers: a rating frozen until it expires.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// A customer reads the quotes made for it.
pub const SELF_QUOTES_READ: Permission = Permission::customer(
    "self.quotes.read",
    DOMAIN,
    "Read the quotes made for the customer.",
    true,
);

/// The operator reads the catalog and its versions.
pub const PLATFORM_CATALOG_READ: Permission = Permission::platform(
    "platform.catalog.read",
    DOMAIN,
    "Read the catalog and its versions.",
);

/// The operator imports catalog versions.
pub const PLATFORM_CATALOG_MANAGE: Permission = Permission::platform(
    "platform.catalog.manage",
    DOMAIN,
    "Import catalog versions.",
);

/// Read the partner's exclusive offer links.
pub const OFFER_LINKS_READ: Permission = Permission::partner(
    "offer_links.read",
    DOMAIN,
    "Read the partner's exclusive offer links.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Make and disable exclusive offer links.
pub const OFFER_LINKS_MANAGE: Permission = Permission::partner(
    "offer_links.manage",
    DOMAIN,
    "Make and disable the partner's exclusive offer links to products.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Read the partner's software solutions.
pub const SOLUTIONS_READ: Permission = Permission::partner(
    "solutions.read",
    DOMAIN,
    "Read the partner's software solutions and where each is in its lifecycle.",
    &[JobRole::Sales, JobRole::Operations],
);

/// Write and submit software solutions.
pub const SOLUTIONS_MANAGE: Permission = Permission::partner(
    "solutions.manage",
    DOMAIN,
    "Create, edit and submit the partner's software solutions.",
    &[JobRole::Operations],
);

/// The operator reads every software solution.
pub const PLATFORM_SOLUTIONS_READ: Permission = Permission::platform(
    "platform.solutions.read",
    DOMAIN,
    "Read every partner's software solutions.",
);

/// The operator takes solutions through their lifecycle.
pub const PLATFORM_SOLUTIONS_MANAGE: Permission = Permission::platform(
    "platform.solutions.manage",
    DOMAIN,
    "Approve, verify, reject and publish software solutions, record their design and \
     configurator progress, and register published baseline solutions.",
);

pub const PERMISSIONS: &[Permission] = &[
    SOLUTIONS_READ,
    SOLUTIONS_MANAGE,
    PLATFORM_SOLUTIONS_READ,
    PLATFORM_SOLUTIONS_MANAGE,
    OFFER_LINKS_READ,
    OFFER_LINKS_MANAGE,
    PLATFORM_CATALOG_READ,
    PLATFORM_CATALOG_MANAGE,
    QUOTES_READ,
    QUOTES_CREATE,
    SELF_QUOTES_READ,
    CATALOG_READ,
    PRICING_READ,
    SELF_PRICING_READ,
    DISCOUNTS_READ,
    DISCOUNTS_MANAGE,
    PLATFORM_DISCOUNTS_READ,
    PLATFORM_DISCOUNTS_MANAGE,
];

const CATALOG_READERS: Access = Access::AnyOf(&[CATALOG_READ, PLATFORM_CATALOG_READ]);
const DISCOUNT_READERS: Access = Access::AnyOf(&[DISCOUNTS_READ, PLATFORM_DISCOUNTS_READ]);
const OPERATOR_MANAGES: Access = Access::AnyOf(&[PLATFORM_DISCOUNTS_MANAGE]);

const SOLUTION_READERS: Access = Access::AnyOf(&[SOLUTIONS_READ, PLATFORM_SOLUTIONS_READ]);
const SOLUTION_WRITERS: Access = Access::AnyOf(&[SOLUTIONS_MANAGE]);
const SOLUTION_OPERATORS: Access = Access::AnyOf(&[PLATFORM_SOLUTIONS_MANAGE]);

pub const RULES: &[Rule] = &[
    rule(
        "partner.pricing.v1.SolutionService/CreateSolution",
        SOLUTION_WRITERS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.SolutionService/UpdateSolution",
        SOLUTION_WRITERS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.SolutionService/SubmitSolution",
        SOLUTION_WRITERS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.SolutionService/GetSolution",
        SOLUTION_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.SolutionService/ListSolutions",
        SOLUTION_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.SolutionService/AdvanceSolution",
        SOLUTION_OPERATORS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.SolutionService/SetSolutionWork",
        SOLUTION_OPERATORS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.SolutionService/RegisterBaselineSolution",
        SOLUTION_OPERATORS,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.OfferLinkService/CreateOfferLink",
        Access::AnyOf(&[OFFER_LINKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.OfferLinkService/GetOfferLink",
        Access::AnyOf(&[OFFER_LINKS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.OfferLinkService/ListOfferLinks",
        Access::AnyOf(&[OFFER_LINKS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.OfferLinkService/DisableOfferLink",
        Access::AnyOf(&[OFFER_LINKS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.OfferLinkService/ResolveOfferLink",
        Access::Public,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ImportCatalog",
        Access::AnyOf(&[PLATFORM_CATALOG_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListCatalogVersions",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.QuoteService/CreateQuote",
        Access::AnyOf(&[QUOTES_CREATE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.QuoteService/GetQuote",
        Access::AnyOf(&[QUOTES_READ, SELF_QUOTES_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.QuoteService/ListQuotes",
        Access::AnyOf(&[QUOTES_READ, SELF_QUOTES_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListServiceTypes",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListResourceTypes",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListResourceSpecs",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListRegions",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListUsageFactors",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListMeasureUnits",
        CATALOG_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.RatingService/RatePeriodProducts",
        Access::AnyOf(&[PRICING_READ, SELF_PRICING_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.RatingService/RateOnDemandProducts",
        Access::AnyOf(&[PRICING_READ, SELF_PRICING_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.RatingService/RateRenewal",
        Access::AnyOf(&[PRICING_READ, SELF_PRICING_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.DiscountService/CreateDiscount",
        OPERATOR_MANAGES,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.DiscountService/SetCustomerDiscount",
        Access::AnyOf(&[DISCOUNTS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.DiscountService/EndDiscount",
        Access::AnyOf(&[DISCOUNTS_MANAGE, PLATFORM_DISCOUNTS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.DiscountService/GetDiscount",
        DISCOUNT_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.DiscountService/ListDiscounts",
        DISCOUNT_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.DiscountService/ListDiscountVersions",
        DISCOUNT_READERS,
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.DiscountService/CreateIncentivePolicy",
        OPERATOR_MANAGES,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.DiscountService/EndIncentivePolicy",
        OPERATOR_MANAGES,
        Effect::Write,
    ),
    rule(
        "partner.pricing.v1.DiscountService/ListIncentivePolicies",
        DISCOUNT_READERS,
        Effect::Read,
    ),
];

pub const ACCESS: DomainAccess = DomainAccess {
    events: &[],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
