//! The request id of the call being served, readable anywhere below the
//! request-id layer without threading it through every signature: internal
//! errors put it in front of the client so a support ticket can name the log line.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` with `request_id` as the current request id.
pub async fn scope<F: Future>(request_id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(request_id, fut).await
}

/// The current request id, if the caller runs inside [`scope`].
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
