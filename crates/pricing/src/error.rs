//! Pricing errors and their one mapping to `Status`.

use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// A line names no product of the catalog in force.
    #[error("line {line_id}: no such {what}")]
    ProductNotFound { line_id: String, what: &'static str },
    /// No catalog version is in force (none loaded).
    #[error("no catalog is in force")]
    NoCatalog,
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<PricingError> for Status {
    fn from(e: PricingError) -> Status {
        let refusal = match e {
            PricingError::ProductNotFound { line_id, what } => Refusal::new(
                Code::NotFound,
                "PRODUCT_NOT_FOUND",
                format!("line {line_id:.64}: no such {what} in the catalog"),
            )
            .with("line_id", line_id)
            .with("missing", what),
            PricingError::NoCatalog => Refusal::new(
                Code::FailedPrecondition,
                "NO_CATALOG",
                "no catalog version is in force",
            ),
            PricingError::Kernel(e) => Refusal::from(e),
        };
        refusal.into()
    }
}
