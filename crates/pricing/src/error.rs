//! Pricing errors and their one mapping to `Status`.

use partner_kernel::error::{KernelError, Refusal};
use rust_decimal::Decimal;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// A line names no product of the catalog in force.
    #[error("line {line_id}: no such {what}")]
    ProductNotFound { line_id: String, what: &'static str },
    /// No catalog version is in force (none loaded).
    #[error("no catalog is in force")]
    NoCatalog,
    /// No such customer, or not the caller's.
    #[error("customer not found")]
    CustomerNotFound,
    /// No such partner.
    #[error("partner not found")]
    PartnerNotFound,
    /// No such discount, or not one the caller may see.
    #[error("discount not found")]
    DiscountNotFound,
    /// The discount's window has already closed.
    #[error("discount already ended")]
    DiscountEnded,
    /// No such quote, or not the caller's.
    #[error("quote not found")]
    QuoteNotFound,
    /// No such offer link, or not the caller's (or disabled, when resolved).
    #[error("offer link not found")]
    OfferLinkNotFound,
    /// The offer link is past its expiry.
    #[error("offer link expired")]
    OfferLinkExpired,
    /// The partner is in none of the programs the verb is for (the text
    /// names them).
    #[error("program required: {0}")]
    ProgramRequired(&'static str),
    /// No such solution, or not the caller's.
    #[error("solution not found")]
    SolutionNotFound,
    /// Only a draft or rejected solution can be edited.
    #[error("solution not editable")]
    SolutionNotEditable,
    /// The lifecycle has no step from `from` to `to`.
    #[error("no transition from {from} to {to}")]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
    },
    /// The next state needs a work track done first.
    #[error("{track} not done")]
    WorkNotDone { track: &'static str },
    /// The work track cannot change in the solution's state.
    #[error("{track} closed in {state}")]
    WorkTrackClosed {
        track: &'static str,
        state: &'static str,
    },
    /// The partner's baseline solution is already registered.
    #[error("baseline solution already registered")]
    BaselineRegistered,
    /// No such incentive policy.
    #[error("incentive policy not found")]
    PolicyNotFound,
    /// The policy's window has already closed.
    #[error("incentive policy already ended")]
    PolicyEnded,
    /// A partner-set rate above what the partner's policies allow.
    #[error("above the allowance")]
    AboveAllowance { allowance: Option<Decimal> },
    #[error(transparent)]
    Customers(#[from] partner_customers::CustomersError),
    #[error(transparent)]
    Accounts(#[from] partner_accounts::AccountsError),
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<sea_orm::DbErr> for PricingError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<partner_kernel::money::MoneyError> for PricingError {
    fn from(e: partner_kernel::money::MoneyError) -> Self {
        Self::Kernel(KernelError::Corrupt(format!("pricing arithmetic: {e}")))
    }
}

impl From<PricingError> for Status {
    fn from(e: PricingError) -> Status {
        let not_found = |reason: &'static str, what: &str| {
            Refusal::new(Code::NotFound, reason, format!("{what} not found"))
        };
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
            PricingError::CustomerNotFound => not_found("CUSTOMER_NOT_FOUND", "customer"),
            PricingError::PartnerNotFound => not_found("PARTNER_NOT_FOUND", "partner"),
            PricingError::DiscountNotFound => not_found("DISCOUNT_NOT_FOUND", "discount"),
            PricingError::PolicyNotFound => not_found("POLICY_NOT_FOUND", "incentive policy"),
            PricingError::QuoteNotFound => not_found("QUOTE_NOT_FOUND", "quote"),
            PricingError::OfferLinkNotFound => not_found("OFFER_LINK_NOT_FOUND", "offer link"),
            PricingError::OfferLinkExpired => Refusal::new(
                Code::FailedPrecondition,
                "OFFER_LINK_EXPIRED",
                "the offer link has expired",
            ),
            PricingError::ProgramRequired(text) => {
                Refusal::new(Code::FailedPrecondition, "PROGRAM_REQUIRED", text)
            }
            PricingError::SolutionNotFound => not_found("SOLUTION_NOT_FOUND", "solution"),
            PricingError::SolutionNotEditable => Refusal::new(
                Code::FailedPrecondition,
                "SOLUTION_NOT_EDITABLE",
                "only a draft or rejected solution can be edited",
            ),
            PricingError::IllegalTransition { from, to } => Refusal::new(
                Code::FailedPrecondition,
                "ILLEGAL_TRANSITION",
                format!("a solution in {from} cannot move to {to}"),
            )
            .with("from", from)
            .with("to", to),
            PricingError::WorkNotDone { track } => Refusal::new(
                Code::FailedPrecondition,
                "WORK_NOT_DONE",
                format!("{track} must be done first"),
            )
            .with("track", track),
            PricingError::WorkTrackClosed { track, state } => Refusal::new(
                Code::FailedPrecondition,
                "WORK_TRACK_CLOSED",
                format!("{track} cannot change while the solution is {state}"),
            )
            .with("track", track)
            .with("state", state),
            PricingError::BaselineRegistered => Refusal::new(
                Code::AlreadyExists,
                "BASELINE_ALREADY_REGISTERED",
                "this partner's baseline solution is already registered",
            ),
            PricingError::DiscountEnded => Refusal::new(
                Code::FailedPrecondition,
                "DISCOUNT_ENDED",
                "the discount has already ended",
            ),
            PricingError::PolicyEnded => Refusal::new(
                Code::FailedPrecondition,
                "POLICY_ENDED",
                "the incentive policy has already ended",
            ),
            PricingError::AboveAllowance { allowance } => {
                let allowance = allowance.map_or_else(|| "0".to_owned(), |a| a.to_string());
                Refusal::new(
                    Code::FailedPrecondition,
                    "DISCOUNT_ABOVE_ALLOWANCE",
                    format!(
                        "your incentive policies allow a rate off of at most {allowance} for these products"
                    ),
                )
                .with("allowance", allowance)
            }
            PricingError::Customers(e) => return e.into(),
            PricingError::Accounts(e) => return e.into(),
            PricingError::Kernel(e) => Refusal::from(e),
        };
        refusal.into()
    }
}
