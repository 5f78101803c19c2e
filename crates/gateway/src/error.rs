//! Gateway errors and their one mapping to `Status`.

use partner_accounts::AccountsError;
use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

/// What can go wrong while signing in or checking a token.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Unknown user or wrong password (never says which).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The method is not in the access table, so no one may call it.
    #[error("unknown method")]
    UnknownMethod,
    /// No bearer token on a call that needs one.
    #[error("authentication required")]
    TokenMissing,
    /// The token is malformed, forged, of the wrong kind or for another audience.
    #[error("invalid access token")]
    TokenInvalid,
    /// The token's lifetime is over.
    #[error("access token expired")]
    TokenExpired,
    /// The session was ended by logout or by refresh-token reuse.
    #[error("session revoked")]
    SessionRevoked,
    /// The refresh token is unknown or expired.
    #[error("invalid refresh token")]
    RefreshTokenInvalid,
    /// A spent refresh token was presented again; its session is now revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// The user is disabled.
    #[error("user disabled")]
    UserDisabled,
    /// The user was deleted.
    #[error("user deleted")]
    UserDeleted,
    /// The user's partner is suspended.
    #[error("partner suspended")]
    PartnerSuspended,
    /// The user's partner is terminated.
    #[error("partner terminated")]
    PartnerTerminated,
    /// No signing key has that kid.
    #[error("signing key not found")]
    SigningKeyNotFound,
    /// The key is not in a state the verb applies to.
    #[error("signing key is {state}")]
    SigningKeyStateConflict {
        /// The key's current state.
        state: &'static str,
    },
    /// No such access key, or another partner's.
    #[error("access key not found")]
    AccessKeyNotFound,
    /// An exchange named an unknown key or gave the wrong secret (never says which).
    #[error("invalid access key")]
    AccessKeyInvalid,
    /// An exchange gave the right secret of a disabled key.
    #[error("access key disabled")]
    AccessKeyDisabled,
    /// The key is not in a state the verb applies to.
    #[error("access key is {state}")]
    AccessKeyStateConflict {
        /// The key's current state.
        state: &'static str,
    },
    /// The user already holds the most keys allowed.
    #[error("user holds {limit} access keys")]
    AccessKeyLimitReached {
        /// The cap.
        limit: u64,
    },
    /// Too many failed attempts on this username or key; refused unchecked.
    #[error("too many failed attempts")]
    TooManyFailedAttempts {
        /// How long until the next attempt is checked.
        retry_after: std::time::Duration,
    },
    /// A customer-scoped sign-in or token of a frozen customer.
    #[error("customer frozen")]
    CustomerFrozen,
    /// The customers domain failed.
    #[error(transparent)]
    Customers(#[from] partner_customers::error::CustomersError),
    /// Key material could not be produced or read.
    #[error("signing keys: {0}")]
    Keys(String),
    /// The accounts domain failed.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// A shared mechanism failed.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<sea_orm::DbErr> for GatewayError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

fn unauthenticated(reason: &'static str, message: &str) -> Refusal {
    Refusal::new(Code::Unauthenticated, reason, message)
}

impl From<GatewayError> for Status {
    fn from(e: GatewayError) -> Status {
        let refusal = match e {
            GatewayError::InvalidCredentials => {
                unauthenticated("INVALID_CREDENTIALS", "invalid username or password")
            }
            GatewayError::TokenMissing => unauthenticated(
                "AUTHENTICATION_REQUIRED",
                "a bearer access token is required",
            ),
            GatewayError::TokenInvalid => unauthenticated("TOKEN_INVALID", "invalid access token"),
            GatewayError::TokenExpired => {
                unauthenticated("TOKEN_EXPIRED", "access token expired; refresh it")
            }
            GatewayError::SessionRevoked => {
                unauthenticated("SESSION_REVOKED", "the session has ended; log in again")
            }
            GatewayError::RefreshTokenInvalid => {
                unauthenticated("REFRESH_TOKEN_INVALID", "invalid refresh token")
            }
            GatewayError::RefreshTokenReused => unauthenticated(
                "REFRESH_TOKEN_REUSED",
                "refresh token already used; the session has been revoked",
            ),
            GatewayError::UserDisabled => unauthenticated("USER_DISABLED", "the user is disabled"),
            GatewayError::UserDeleted => unauthenticated("USER_DELETED", "the user was deleted"),
            GatewayError::PartnerSuspended => Refusal::new(
                Code::PermissionDenied,
                "PARTNER_SUSPENDED",
                "the partner is suspended",
            ),
            GatewayError::PartnerTerminated => Refusal::new(
                Code::PermissionDenied,
                "PARTNER_TERMINATED",
                "the partner is terminated",
            ),
            GatewayError::SigningKeyNotFound => Refusal::new(
                Code::NotFound,
                "SIGNING_KEY_NOT_FOUND",
                "signing key not found",
            ),
            GatewayError::SigningKeyStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "SIGNING_KEY_STATE_CONFLICT",
                format!(
                    "not allowed while the key is {state}; only a VERIFY_ONLY key can be retired"
                ),
            )
            .with("state", state),
            GatewayError::AccessKeyNotFound => Refusal::new(
                Code::NotFound,
                "ACCESS_KEY_NOT_FOUND",
                "access key not found",
            ),
            GatewayError::AccessKeyInvalid => {
                unauthenticated("ACCESS_KEY_INVALID", "invalid access key id or secret")
            }
            GatewayError::AccessKeyDisabled => {
                unauthenticated("ACCESS_KEY_DISABLED", "the access key is disabled")
            }
            GatewayError::AccessKeyStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "ACCESS_KEY_STATE_CONFLICT",
                format!("not allowed while the key is {state}"),
            )
            .with("state", state),
            GatewayError::AccessKeyLimitReached { limit } => Refusal::new(
                Code::FailedPrecondition,
                "ACCESS_KEY_LIMIT_REACHED",
                format!("the user already holds {limit} access keys; delete one first"),
            )
            .with("limit", limit.to_string()),
            GatewayError::TooManyFailedAttempts { retry_after } => Refusal::new(
                Code::ResourceExhausted,
                "TOO_MANY_FAILED_ATTEMPTS",
                "too many failed attempts; try again later",
            )
            .with("retry_after_seconds", retry_after.as_secs().to_string())
            .retry_after(retry_after),
            GatewayError::CustomerFrozen => Refusal::new(
                Code::PermissionDenied,
                "CUSTOMER_FROZEN",
                "the customer's account is frozen",
            ),
            GatewayError::Customers(c) => return c.into(),
            GatewayError::Keys(detail) => Refusal::internal(&detail),
            GatewayError::Accounts(a) => return a.into(),
            GatewayError::UnknownMethod => {
                Refusal::new(Code::Unimplemented, "METHOD_NOT_FOUND", "no such method")
            }
            GatewayError::Kernel(k) => Refusal::from(k),
        };
        refusal.into()
    }
}
