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

pub const PERMISSIONS: &[Permission] = &[CATALOG_READ, PRICING_READ];

pub const RULES: &[Rule] = &[
    rule(
        "partner.pricing.v1.CatalogService/ListServiceTypes",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListResourceTypes",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListResourceSpecs",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListRegions",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListUsageFactors",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.CatalogService/ListMeasureUnits",
        Access::AnyOf(&[CATALOG_READ]),
        Effect::Read,
    ),
    rule(
        "partner.pricing.v1.RatingService/RatePeriodProducts",
        Access::AnyOf(&[PRICING_READ]),
        Effect::Read,
    ),
];

pub const ACCESS: DomainAccess = DomainAccess {
    events: &[],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
