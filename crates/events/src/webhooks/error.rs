//! Webhook errors and their one mapping to `Status`.

use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

/// What can go wrong with webhooks.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such endpoint, or another partner's.
    #[error("webhook endpoint not found")]
    EndpointNotFound,
    /// No such event of the partner, or one the endpoint does not receive.
    #[error("event not found")]
    EventNotFound,
    /// The partner has the most endpoints it may have.
    #[error("at most {limit} webhook endpoints per partner")]
    EndpointLimit { limit: u64 },
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<sea_orm::DbErr> for WebhookError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<WebhookError> for Status {
    fn from(e: WebhookError) -> Status {
        let refusal = match e {
            WebhookError::EndpointNotFound => Refusal::new(
                Code::NotFound,
                "WEBHOOK_ENDPOINT_NOT_FOUND",
                "webhook endpoint not found",
            ),
            WebhookError::EventNotFound => Refusal::new(
                Code::NotFound,
                "EVENT_NOT_FOUND",
                "no such event of the partner of a type this endpoint receives",
            ),
            WebhookError::EndpointLimit { limit } => Refusal::new(
                Code::ResourceExhausted,
                "WEBHOOK_ENDPOINT_LIMIT",
                format!("at most {limit} webhook endpoints per partner; delete one"),
            )
            .with("limit", limit.to_string()),
            WebhookError::Kernel(e) => Refusal::from(e),
        };
        refusal.into()
    }
}
