//! Turning refusals into `tonic::Status`.
//!
//! Every error that leaves the platform carries an `ErrorInfo {reason, domain,
//! metadata}`; bad input also carries `BadRequest` field violations. Each crate
//! owns one exhaustive `From<ItsError> for Status` built from [`Refusal`]; the
//! kernel's own errors are mapped here.

use sea_orm::DbErr;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::request_context::current_request_id;

/// The `ErrorInfo.domain` of every error the platform returns.
pub const ERROR_DOMAIN: &str = "partner-platform";

/// One problem with one request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field path, as in the proto (`partner.display_name`).
    pub field: String,
    /// What is wrong, for a person.
    pub description: String,
}

/// Violations reported in one answer; the rest are summed up in one more.
/// Errors travel in trailers, and an answer listing 5,000 violations (one
/// per item of a hostile repeated field) would not fit in any header limit.
pub const MAX_VIOLATIONS: usize = 20;
/// Characters kept of a field path or description (they may quote input).
const MAX_VIOLATION_TEXT: usize = 200;
/// Characters kept of an error message.
const MAX_MESSAGE: usize = 1024;

/// `s` cut to at most `max` characters.
fn capped(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
        s.push('…');
    }
    s
}

impl FieldViolation {
    /// A violation of `field`; both texts are capped, since they may quote
    /// what the client sent.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: capped(field.into(), MAX_VIOLATION_TEXT),
            description: capped(description.into(), MAX_VIOLATION_TEXT),
        }
    }
}

/// A refusal on its way to becoming a `Status`.
#[derive(Debug, Clone)]
pub struct Refusal {
    code: Code,
    reason: &'static str,
    message: String,
    metadata: Vec<(String, String)>,
    violations: Vec<FieldViolation>,
    retry_after: Option<std::time::Duration>,
}

impl Refusal {
    /// A refusal with gRPC `code`, ErrorInfo `reason` and a message for people.
    pub fn new(code: Code, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            metadata: Vec::new(),
            violations: Vec::new(),
            retry_after: None,
        }
    }

    /// `INVALID_ARGUMENT`, reason `FIELD_VIOLATION`, with the violations
    /// listed (at most [`MAX_VIOLATIONS`], and a count of the rest).
    pub fn invalid(mut violations: Vec<FieldViolation>) -> Self {
        let message = match violations.as_slice() {
            [one] => format!("invalid {}: {}", one.field, one.description),
            many => format!("{} invalid fields", many.len()),
        };
        if violations.len() > MAX_VIOLATIONS {
            let rest = violations.len() - MAX_VIOLATIONS;
            violations.truncate(MAX_VIOLATIONS);
            violations.push(FieldViolation::new("…", format!("{rest} more violations")));
        }
        Self {
            violations,
            ..Self::new(Code::InvalidArgument, "FIELD_VIOLATION", message)
        }
    }

    /// An internal failure. The detail is logged here, once, inside the request's
    /// span; the client sees only "internal error" and the request id.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(Code::Internal, "INTERNAL", "internal error")
    }

    /// The database is unreachable or overloaded; the client may retry.
    pub fn unavailable(detail: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %detail, "database unavailable");
        Self::new(
            Code::Unavailable,
            "DATABASE_UNAVAILABLE",
            "service temporarily unavailable",
        )
    }

    /// Adds a `google.rpc.RetryInfo` saying when trying again may succeed.
    pub fn retry_after(mut self, delay: std::time::Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// Adds an ErrorInfo metadata entry.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.metadata.push((key.to_owned(), value.into()));
        self
    }
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        let mut metadata: std::collections::HashMap<String, String> =
            r.metadata.into_iter().collect();
        if let Some(id) = current_request_id() {
            metadata.insert("request_id".to_owned(), id);
        }
        let mut details = ErrorDetails::with_error_info(r.reason, ERROR_DOMAIN, metadata);
        for v in r.violations {
            details.add_bad_request_violation(v.field, v.description);
        }
        if let Some(delay) = r.retry_after {
            details.set_retry_info(Some(delay));
        }
        Status::with_error_details(r.code, capped(r.message, MAX_MESSAGE), details)
    }
}

/// Errors of the kernel's own mechanisms.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The request is malformed.
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// A page token was tampered with, expired, or belongs to another query or tenant.
    #[error("invalid page token")]
    PageTokenInvalid,
    /// The request id was used before with a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// The caller lacks a permission.
    #[error("missing permission {0}")]
    MissingPermission(&'static str),
    /// A concurrent change won; the caller should read again and retry.
    #[error("concurrent modification")]
    Conflict,
    /// A stored value could not be read back (corruption or a bug).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// True for database errors that mean "unreachable", not "your query is wrong".
fn is_unavailable(e: &DbErr) -> bool {
    matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
}

impl From<KernelError> for Refusal {
    fn from(e: KernelError) -> Refusal {
        match e {
            KernelError::Invalid(v) => Refusal::invalid(v),
            KernelError::PageTokenInvalid => Refusal::invalid(vec![FieldViolation::new(
                "page_token",
                "not a page token of this query; start again without one",
            )])
            .with("cause", "PAGE_TOKEN_INVALID"),
            KernelError::IdempotencyKeyReused => Refusal::new(
                Code::FailedPrecondition,
                "IDEMPOTENCY_KEY_REUSED",
                "request_id was already used with a different request",
            ),
            KernelError::MissingPermission(p) => Refusal::new(
                Code::PermissionDenied,
                "MISSING_PERMISSION",
                format!("the caller lacks permission {p}"),
            )
            .with("permission", p),
            KernelError::Conflict => Refusal::new(
                Code::Aborted,
                "CONCURRENT_MODIFICATION",
                "a concurrent change won; read again and retry",
            ),
            KernelError::Corrupt(detail) => Refusal::internal(&detail),
            KernelError::Database(db) if is_unavailable(&db) => Refusal::unavailable(&db),
            KernelError::Database(db) => Refusal::internal(&db),
        }
    }
}

impl From<KernelError> for Status {
    fn from(e: KernelError) -> Status {
        Refusal::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: &Status) -> (String, std::collections::HashMap<String, String>) {
        let details = status.get_error_details();
        let info = details
            .error_info()
            .cloned()
            .unwrap_or_else(|| panic!("no ErrorInfo"));
        assert_eq!(info.domain, ERROR_DOMAIN);
        (info.reason, info.metadata)
    }

    #[test]
    fn every_kernel_error_has_error_info() {
        let cases = [
            (
                KernelError::Invalid(vec![FieldViolation::new("a", "b")]),
                Code::InvalidArgument,
                "FIELD_VIOLATION",
            ),
            (
                KernelError::PageTokenInvalid,
                Code::InvalidArgument,
                "FIELD_VIOLATION",
            ),
            (
                KernelError::IdempotencyKeyReused,
                Code::FailedPrecondition,
                "IDEMPOTENCY_KEY_REUSED",
            ),
            (
                KernelError::MissingPermission("x.y"),
                Code::PermissionDenied,
                "MISSING_PERMISSION",
            ),
            (
                KernelError::Conflict,
                Code::Aborted,
                "CONCURRENT_MODIFICATION",
            ),
            (
                KernelError::Corrupt("bad".into()),
                Code::Internal,
                "INTERNAL",
            ),
            (
                KernelError::Database(DbErr::Custom("boom".into())),
                Code::Internal,
                "INTERNAL",
            ),
        ];
        for (err, code, reason) in cases {
            let status = Status::from(err);
            assert_eq!(status.code(), code);
            assert_eq!(info(&status).0, reason);
        }
    }

    #[test]
    fn internal_errors_hide_detail_and_show_request_id() {
        let status = tokio::runtime::Builder::new_current_thread()
            .build()
            .map(|rt| {
                rt.block_on(crate::request_context::scope("req-1".into(), async {
                    Status::from(KernelError::Database(DbErr::Custom("secret detail".into())))
                }))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status.message(), "internal error");
        assert_eq!(
            info(&status).1.get("request_id").map(String::as_str),
            Some("req-1")
        );
    }

    #[test]
    fn a_flood_of_violations_is_reported_in_a_bounded_answer() {
        let many = (0..5_000)
            .map(|i| FieldViolation::new(format!("ids[{i}]"), "x".repeat(70_000)))
            .collect();
        let status = Status::from(KernelError::Invalid(many));
        let details = status.get_error_details();
        let listed = details
            .bad_request()
            .map(|b| b.field_violations.clone())
            .unwrap_or_default();
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert!(listed.iter().all(|v| v.description.chars().count() <= 201));
        assert_eq!(listed[MAX_VIOLATIONS].description, "4980 more violations");
        assert!(
            status.details().len() < 16 * 1024,
            "{}",
            status.details().len()
        );
    }

    #[test]
    fn field_violations_travel_in_bad_request() {
        let status = Status::from(KernelError::Invalid(vec![
            FieldViolation::new("display_name", "must not be empty"),
            FieldViolation::new("contact_email", "not an email address"),
        ]));
        let details = status.get_error_details();
        let fields: Vec<_> = details
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["display_name", "contact_email"]);
    }
}
