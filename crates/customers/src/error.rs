//! Customers errors and their one mapping to `Status`.

use partner_accounts::AccountsError;
use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

/// What can go wrong in the customers domain.
#[derive(Debug, thiserror::Error)]
pub enum CustomersError {
    /// No such customer, or not one of the caller's.
    #[error("customer not found")]
    CustomerNotFound,
    /// The sales-platform id is not one of the caller's (or does not exist:
    /// the two look the same).
    #[error("sales platform not found")]
    SalesPlatformNotFound,
    /// The sales-platform account is mapped to another customer already.
    #[error("xaccount taken")]
    XaccountTaken,
    /// A customer uses this account name.
    #[error("account name taken")]
    AccountNameTaken,
    /// A customer uses this email address.
    #[error("email taken")]
    EmailTaken,
    /// A customer uses this mobile number.
    #[error("mobile taken")]
    MobileTaken,
    /// An account manager named is no active user of the customer's partner.
    #[error("account manager not found")]
    AccountManagerNotFound,
    /// The customer is not in a state the verb applies to.
    #[error("customer is {state}")]
    CustomerStateConflict {
        /// The customer's current state.
        state: &'static str,
    },
    /// Another domain stops the customer leaving its partner now.
    #[error("{message}")]
    LeavingRefused {
        reason: &'static str,
        message: &'static str,
    },
    /// No such verification (or none for the customer).
    #[error("verification not found")]
    VerificationNotFound,
    /// The verification is not under review.
    #[error("verification is {state}")]
    VerificationStateConflict {
        /// Its state.
        state: &'static str,
    },
    /// No such lead, or not one of the caller's.
    #[error("lead not found")]
    LeadNotFound,
    /// The lead is not in a state the verb applies to.
    #[error("lead is {state}")]
    LeadStateConflict {
        /// Its state.
        state: &'static str,
    },
    /// A dispatched lead's phone and email are the vendor's.
    #[error("lead contact is read-only")]
    LeadContactReadOnly,
    /// No such opportunity, or not one of the caller's.
    #[error("opportunity not found")]
    OpportunityNotFound,
    /// The opportunity is not in a state the verb applies to.
    #[error("opportunity is {state}")]
    OpportunityStateConflict {
        /// Its state.
        state: &'static str,
    },
    /// No such partner.
    #[error("partner not found")]
    PartnerNotFound,
    /// The customer has no budget.
    #[error("budget not set")]
    BudgetNotSet,
    /// Consumption is counted in another currency than the new budget's.
    #[error("budget currency conflict")]
    BudgetCurrencyConflict {
        /// The currency consumption is counted in.
        currency: &'static str,
    },
    /// No usable invitation has this token or id (unknown, another
    /// partner's, revoked, expired or used up: they look the same).
    #[error("invite not found")]
    InviteNotFound,
    /// Signing up needs an invitation made for one sales-platform account.
    #[error("invite not for sign-up")]
    InviteNotForSignUp,
    /// Associating the customer is refused for the reason given.
    #[error("association refused: {0}")]
    AssociationRefused(&'static str),
    /// The customer is frozen.
    #[error("customer frozen")]
    CustomerFrozen,
    /// The customer's current password is not the one given.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The customer's password is locked by failed attempts (sign-ins and
    /// password changes alike).
    #[error("too many failed attempts")]
    TooManyFailedAttempts {
        /// How long until the next attempt is checked.
        retry_after: std::time::Duration,
    },
    /// The accounts domain refused (a reseller not linked, hashing busy…).
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// A shared mechanism failed.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<crate::customers::leaving::LeavingError> for CustomersError {
    fn from(e: crate::customers::leaving::LeavingError) -> Self {
        match e {
            crate::customers::leaving::LeavingError::Refused { reason, message } => {
                Self::LeavingRefused { reason, message }
            }
            crate::customers::leaving::LeavingError::Kernel(k) => k.into(),
        }
    }
}

impl From<sea_orm::DbErr> for CustomersError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl CustomersError {
    /// The ErrorInfo reason, also used in per-item batch results.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::CustomerNotFound => "CUSTOMER_NOT_FOUND",
            Self::SalesPlatformNotFound => "SALES_PLATFORM_NOT_FOUND",
            Self::XaccountTaken => "XACCOUNT_TAKEN",
            Self::AccountNameTaken => "ACCOUNT_NAME_TAKEN",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::MobileTaken => "MOBILE_TAKEN",
            Self::AccountManagerNotFound => "ACCOUNT_MANAGER_NOT_FOUND",
            Self::CustomerStateConflict { .. } => "CUSTOMER_STATE_CONFLICT",
            Self::LeavingRefused { reason, .. } => reason,
            Self::BudgetNotSet => "BUDGET_NOT_SET",
            Self::LeadNotFound => "LEAD_NOT_FOUND",
            Self::LeadStateConflict { .. } => "LEAD_STATE_CONFLICT",
            Self::LeadContactReadOnly => "LEAD_CONTACT_READ_ONLY",
            Self::PartnerNotFound => "PARTNER_NOT_FOUND",
            Self::OpportunityNotFound => "OPPORTUNITY_NOT_FOUND",
            Self::OpportunityStateConflict { .. } => "OPPORTUNITY_STATE_CONFLICT",
            Self::VerificationNotFound => "VERIFICATION_NOT_FOUND",
            Self::VerificationStateConflict { .. } => "VERIFICATION_STATE_CONFLICT",
            Self::BudgetCurrencyConflict { .. } => "BUDGET_CURRENCY_CONFLICT",
            Self::InviteNotFound => "INVITE_NOT_FOUND",
            Self::InviteNotForSignUp => "INVITE_NOT_FOR_SIGN_UP",
            Self::AssociationRefused(reason) => reason,
            Self::CustomerFrozen => "CUSTOMER_FROZEN",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::TooManyFailedAttempts { .. } => "TOO_MANY_FAILED_ATTEMPTS",
            Self::Accounts(_) | Self::Kernel(_) => "INTERNAL",
        }
    }
}

impl From<CustomersError> for Status {
    fn from(e: CustomersError) -> Status {
        let reason = e.reason();
        let refusal = match e {
            CustomersError::CustomerNotFound => {
                Refusal::new(Code::NotFound, reason, "customer not found")
            }
            CustomersError::SalesPlatformNotFound => Refusal::new(
                Code::NotFound,
                reason,
                "no sales platform with this id belongs to the partner",
            ),
            CustomersError::XaccountTaken => Refusal::new(
                Code::AlreadyExists,
                reason,
                "this sales-platform account is mapped to another customer",
            ),
            CustomersError::AccountNameTaken => {
                Refusal::new(Code::AlreadyExists, reason, "the account name is taken")
            }
            CustomersError::EmailTaken => {
                Refusal::new(Code::AlreadyExists, reason, "the email address is taken")
            }
            CustomersError::MobileTaken => {
                Refusal::new(Code::AlreadyExists, reason, "the mobile number is taken")
            }
            CustomersError::AccountManagerNotFound => Refusal::new(
                Code::NotFound,
                reason,
                "an account manager is no active user of the customer's partner",
            ),
            CustomersError::CustomerStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                reason,
                format!("not allowed while the customer is {state}"),
            )
            .with("state", state),
            CustomersError::LeavingRefused { message, .. } => {
                Refusal::new(Code::FailedPrecondition, reason, message)
            }
            CustomersError::VerificationNotFound => {
                Refusal::new(Code::NotFound, reason, "no such verification")
            }
            CustomersError::VerificationStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                reason,
                format!("the verification is {state}, not under review"),
            )
            .with("state", state),
            CustomersError::LeadNotFound => Refusal::new(Code::NotFound, reason, "lead not found"),
            CustomersError::LeadStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                reason,
                format!("not allowed while the lead is {state}"),
            )
            .with("state", state),
            CustomersError::LeadContactReadOnly => Refusal::new(
                Code::FailedPrecondition,
                reason,
                "a dispatched lead's phone and email cannot be changed",
            ),
            CustomersError::OpportunityNotFound => {
                Refusal::new(Code::NotFound, reason, "opportunity not found")
            }
            CustomersError::OpportunityStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                reason,
                format!("not allowed while the opportunity is {state}"),
            )
            .with("state", state),
            CustomersError::PartnerNotFound => {
                Refusal::new(Code::NotFound, reason, "partner not found")
            }
            CustomersError::BudgetNotSet => {
                Refusal::new(Code::NotFound, reason, "the customer has no budget")
            }
            CustomersError::BudgetCurrencyConflict { currency } => Refusal::new(
                Code::FailedPrecondition,
                reason,
                format!("consumption is counted in {currency}; set the budget in {currency}"),
            )
            .with("currency", currency),
            CustomersError::InviteNotFound => Refusal::new(
                Code::NotFound,
                reason,
                "no usable invitation: unknown, revoked, expired or used up",
            ),
            CustomersError::InviteNotForSignUp => Refusal::new(
                Code::FailedPrecondition,
                reason,
                "signing up needs an invitation made for one sales-platform account",
            ),
            CustomersError::AssociationRefused(_) => Refusal::new(
                Code::FailedPrecondition,
                reason,
                "the customer cannot be associated with this partner",
            ),
            CustomersError::CustomerFrozen => Refusal::new(
                Code::FailedPrecondition,
                reason,
                "the customer's account is frozen",
            ),
            CustomersError::InvalidCredentials => Refusal::new(
                Code::PermissionDenied,
                reason,
                "the current password is wrong",
            ),
            CustomersError::TooManyFailedAttempts { retry_after } => Refusal::new(
                Code::ResourceExhausted,
                reason,
                "too many failed attempts; try again later",
            )
            .with("retry_after_seconds", retry_after.as_secs().to_string())
            .retry_after(retry_after),
            CustomersError::Accounts(a) => return a.into(),
            CustomersError::Kernel(k) => Refusal::from(k),
        };
        refusal.into()
    }
}
