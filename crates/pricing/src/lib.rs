//! Pricing (`partner.pricing.v1`): the versioned catalog (with a demo that
//! loads on first start), period rating with one result per discount, and
//! the discounts themselves, quotes, exclusive offer links and software
//! solutions. No float anywhere:
//! prices are `rust_decimal`, amounts `Money` in minor units.

pub mod access;
pub mod catalog;
pub mod discounts;
pub mod error;
pub mod grpc;
pub mod offers;
mod paging;
pub mod quotes;
pub mod rating;
pub mod service;
pub mod solutions;
pub mod wire;

pub use error::PricingError;
pub use service::Pricing;
