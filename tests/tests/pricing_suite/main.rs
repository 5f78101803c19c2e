//! The pricing domain's tests, in one binary (each test binary is linked
//! against the whole server, so fewer binaries build faster): the catalog
//! and period rating, discounts, on-demand and renewal rating, quotes,
//! catalog import, exclusive offer links and software solutions.

mod catalog_import;
mod discounts;
mod offer_links;
mod pricing;
mod quotes;
mod rating_usage;
mod solutions;
