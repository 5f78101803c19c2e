//! Pricing (`partner.pricing.v1`): the versioned catalog (with a demo that
//! loads on first start) and period rating at list prices. No float anywhere:
//! prices are `rust_decimal`, amounts `Money` in minor units.

pub mod access;
pub mod catalog;
pub mod error;
pub mod grpc;
pub mod rating;
pub mod service;

pub use error::PricingError;
pub use service::Pricing;
