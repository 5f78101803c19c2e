//! Accounts errors and their one mapping to `Status`.

use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

/// What can go wrong in the accounts domain.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// No such partner, or not one the caller may see.
    #[error("partner not found")]
    PartnerNotFound,
    /// No such user, or not one the caller may see.
    #[error("user not found")]
    UserNotFound,
    /// The login name belongs to another user.
    #[error("username taken")]
    UsernameTaken,
    /// The partner is not in a state the verb applies to.
    #[error("partner is {state}")]
    PartnerStateConflict {
        /// The partner's current state.
        state: &'static str,
    },
    /// The master user cannot be disabled.
    #[error("the master user cannot be changed this way")]
    MasterUserImmutable,
    /// The user is not in a state the verb applies to.
    #[error("user is {state}")]
    UserStateConflict {
        /// The user's current state.
        state: &'static str,
    },
    /// Hashing the password failed.
    #[error("password hashing: {0}")]
    Hashing(String),
    /// A shared mechanism failed.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<sea_orm::DbErr> for AccountsError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<AccountsError> for Status {
    fn from(e: AccountsError) -> Status {
        let refusal = match e {
            AccountsError::PartnerNotFound => {
                Refusal::new(Code::NotFound, "PARTNER_NOT_FOUND", "partner not found")
            }
            AccountsError::UserNotFound => {
                Refusal::new(Code::NotFound, "USER_NOT_FOUND", "user not found")
            }
            AccountsError::UsernameTaken => Refusal::new(
                Code::AlreadyExists,
                "USERNAME_TAKEN",
                "the username is taken",
            ),
            AccountsError::PartnerStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "PARTNER_STATE_CONFLICT",
                format!("not allowed while the partner is {state}"),
            )
            .with("state", state),
            AccountsError::MasterUserImmutable => Refusal::new(
                Code::FailedPrecondition,
                "MASTER_USER_IMMUTABLE",
                "the master user cannot be disabled",
            ),
            AccountsError::UserStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "USER_STATE_CONFLICT",
                format!("not allowed while the user is {state}"),
            )
            .with("state", state),
            AccountsError::Hashing(detail) => Refusal::internal(&detail),
            AccountsError::Kernel(k) => Refusal::from(k),
        };
        refusal.into()
    }
}
