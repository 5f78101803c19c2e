//! What the tests of resources over time share: a test clock on a whole
//! second (refunds and periods count whole seconds), a sandbox server on it,
//! moving its clock through `SandboxService`, and reading a resource.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::TestClock;
use partner_tests::*;

/// A test clock reading now, on a whole second.
pub fn whole_second_clock() -> Arc<TestClock> {
    let now = Utc::now().timestamp();
    Arc::new(TestClock::new(
        Utc.timestamp_opt(now, 0).single().unwrap_or_else(Utc::now),
    ))
}

/// A sandbox server (`PARTNER_SANDBOX=1`) on `clock`.
pub async fn sandbox(clock: Arc<TestClock>) -> TestServer {
    TestServer::start_with_clock_and(clock, |c| c.sandbox = true).await
}

/// Moves the sandbox clock of `server` on by `by` (whole seconds); what its
/// jobs did.
pub async fn advance(server: &TestServer, by: Duration) -> pb::JobRuns {
    let admin = server.admin_token().await;
    ok(server
        .sandbox(&admin)
        .advance_clock(pb::AdvanceClockRequest {
            request_id: new_request_id(),
            by: Some(prost_types::Duration {
                seconds: by.num_seconds(),
                nanos: 0,
            }),
        })
        .await)
    .jobs
    .unwrap_or_default()
}

/// The platform's now, as `server` tells it.
pub async fn clock_now(server: &TestServer) -> DateTime<Utc> {
    let admin = server.admin_token().await;
    let now = ok(server
        .sandbox(&admin)
        .get_clock(pb::GetClockRequest {})
        .await)
    .now;
    time(now.as_ref())
}

/// A wire timestamp (unset: the epoch) as a time.
pub fn time(t: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.copied().unwrap_or_default();
    Utc.timestamp_opt(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        .single()
        .unwrap_or_else(|| panic!("bad time"))
}

/// The resource `id` as `token` reads it.
pub async fn resource(server: &TestServer, token: &str, id: &str) -> pb::Resource {
    ok(server
        .resources(token)
        .get_resource(pb::GetResourceRequest {
            id: id.into(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_else(|| panic!("no resource"))
}

/// When the resource `id`'s paid period ends.
pub async fn expiry(server: &TestServer, token: &str, id: &str) -> DateTime<Utc> {
    time(resource(server, token, id).await.expire_time.as_ref())
}
