//! Discounts (`DiscountService`): commercial contracts and promotions the
//! operator makes, rates partners set for their customers within their
//! incentive policies, every change kept as a version; and what each
//! discount makes of a rating (`apply`).

pub mod apply;
pub mod entity;
pub mod grpc;
pub mod model;
pub mod policies;
pub mod store;
pub mod verbs;

use chrono::{DateTime, Utc};
use partner_kernel::error::{FieldViolation, KernelError};

use crate::catalog::Version;
use model::Scope;

/// A validity window after parsing: `from` defaults to now.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    /// The window's start and end from `now`; the end must come after both.
    pub fn resolve(
        self,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), KernelError> {
        let from = partner_kernel::clock::to_micros(self.from.unwrap_or(now));
        let until = self.until.map(partner_kernel::clock::to_micros);
        if until.is_some_and(|u| u <= from || u <= now) {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "valid_until",
                "after valid_from and after now",
            )]));
        }
        Ok((from, until))
    }
}

/// Refuses a scope naming what the catalog in force does not sell.
pub fn check_scope(catalog: &Version, scope: &Scope) -> Result<(), KernelError> {
    let bad = |field: &str, what: &str| {
        Err(KernelError::Invalid(vec![FieldViolation::new(
            field,
            format!("no such {what} in the catalog"),
        )]))
    };
    match (&scope.service_type, &scope.resource_type) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(KernelError::Invalid(vec![FieldViolation::new(
            "scope.service_type",
            "a resource type needs its service type",
        )])),
        (Some(s), None) if !catalog.sells_service(s) => bad("scope.service_type", "service type"),
        (Some(s), Some(r)) if catalog.resource_type(s, r).is_none() => {
            bad("scope.resource_type", "resource type of that service type")
        }
        _ => Ok(()),
    }
}
