//! Brute-force resistance through the real server: failed `Login`s (per
//! username) and `ExchangeAccessKey`s (per key id) lock the subject after five
//! free failures, with RetryInfo, even for the right credential; success and
//! the end of the window reset the count; every refused attempt is audited.
//! Time moves on a test clock, never by sleeping.

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as pb;
use partner_kernel::clock::TestClock;
use partner_tests::*;
use tonic::{Code, Status};
use tonic_types::StatusExt;

const EXCHANGE: &str = "partner.iam.v1.AuthService/ExchangeAccessKey";
const LOGIN: &str = "partner.iam.v1.AuthService/Login";

/// Creates a key for the holder of `token`; returns it and its secret.
async fn create_key(server: &TestServer, token: &str) -> (pb::AccessKey, String) {
    let created = ok(server
        .access_keys(token)
        .create_access_key(pb::CreateAccessKeyRequest {
            request_id: new_request_id(),
            user_id: String::new(),
            description: String::new(),
        })
        .await);
    let key = created.access_key.unwrap_or_else(|| panic!("no key"));
    (key, created.secret)
}

async fn exchange(server: &TestServer, id: &str, secret: &str) -> Result<String, Status> {
    server
        .auth()
        .exchange_access_key(pb::ExchangeAccessKeyRequest {
            access_key_id: id.into(),
            secret: secret.into(),
        })
        .await
        .map(|r| r.into_inner().access_token)
}

/// The RetryInfo delay of a TOO_MANY_FAILED_ATTEMPTS refusal, in seconds.
#[track_caller]
fn locked_for<T: std::fmt::Debug>(result: Result<T, Status>) -> u64 {
    let status = assert_refused(result, Code::ResourceExhausted, "TOO_MANY_FAILED_ATTEMPTS");
    status
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
        .map(|d| d.as_secs())
        .unwrap_or_else(|| panic!("no RetryInfo: {status:?}"))
}

async fn audit_reasons(
    server: &TestServer,
    token: &str,
    method: &str,
    resource: &str,
) -> Vec<accounts::AuditRecord> {
    ok(server
        .audit(token)
        .list_audit_records(accounts::ListAuditRecordsRequest {
            method: method.into(),
            resource_id: resource.into(),
            page_size: 500,
            ..Default::default()
        })
        .await)
    .audit_records
}

fn count(records: &[accounts::AuditRecord], reason: &str) -> usize {
    records.iter().filter(|r| r.reason == reason).count()
}

#[tokio::test]
async fn exchange_is_throttled_per_key_and_audited() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (key, secret) = create_key(&server, &master).await;
    let id = key.access_key_id.as_str();

    for _ in 0..6 {
        assert_refused(
            exchange(&server, id, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    // The sixth failure locked the key for 2 s: even the right secret is refused.
    assert_eq!(locked_for(exchange(&server, id, &secret).await), 2);
    clock.advance(Duration::seconds(3));
    // Another failure doubles the lock.
    assert_refused(
        exchange(&server, id, "prt_sk_guess").await,
        Code::Unauthenticated,
        "ACCESS_KEY_INVALID",
    );
    assert_eq!(locked_for(exchange(&server, id, &secret).await), 4);
    clock.advance(Duration::seconds(5));
    exchange(&server, id, &secret)
        .await
        .unwrap_or_else(|e| panic!("after the lock: {e:?}"));
    // Success cleared the count: five more failures are free again.
    for _ in 0..5 {
        assert_refused(
            exchange(&server, id, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    exchange(&server, id, &secret)
        .await
        .unwrap_or_else(|e| panic!("after five free failures: {e:?}"));

    // Unknown keys are counted the same way, so a lock reveals nothing.
    let unknown = "ak_0190f0e0a0b07c0d8e0f101112131415";
    for _ in 0..6 {
        assert_refused(
            exchange(&server, unknown, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    assert_eq!(
        locked_for(exchange(&server, unknown, "prt_sk_guess").await),
        2
    );

    // The partner sees every refused attempt on its key.
    let records = audit_reasons(&server, &master, EXCHANGE, id).await;
    assert_eq!(count(&records, "ACCESS_KEY_INVALID"), 12, "{records:?}");
    assert_eq!(
        count(&records, "TOO_MANY_FAILED_ATTEMPTS"),
        2,
        "{records:?}"
    );
    assert!(records.iter().all(|r| r.partner_id == partner.partner_id
        && r.actor_user_id == key.user_id
        && r.request_id.is_empty()));
    // Attempts on an unknown key are the operator's to see, by an anonymous actor.
    let unknown_records = audit_reasons(&server, &admin, EXCHANGE, unknown).await;
    assert_eq!(unknown_records.len(), 7);
    assert!(
        unknown_records
            .iter()
            .all(|r| r.actor_user_id == "anonymous" && r.partner_id.is_empty())
    );
}

#[tokio::test]
async fn login_is_throttled_per_username_known_or_not() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;

    for _ in 0..6 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert_eq!(
        locked_for(server.login_pair("acme", USER_PASSWORD).await),
        2
    );
    // Other usernames are not affected.
    server.admin_token().await;
    clock.advance(Duration::seconds(2));
    server
        .login_pair("acme", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("after the lock: {e:?}"));

    // Failures spread beyond the window never lock.
    for _ in 0..5 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    clock.advance(Duration::minutes(16));
    for _ in 0..5 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    server
        .login_pair("acme", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("within the free failures: {e:?}"));

    // An unknown username locks exactly like a known one.
    for _ in 0..6 {
        assert_refused(
            server.login_pair("ghost", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert_eq!(locked_for(server.login_pair("ghost", "x").await), 2);

    // The partner's audit trail shows the attempts on its master's name.
    let token = server.login("acme", USER_PASSWORD).await;
    let records = audit_reasons(&server, &token, LOGIN, "acme").await;
    assert_eq!(count(&records, "INVALID_CREDENTIALS"), 16, "{records:?}");
    assert_eq!(
        count(&records, "TOO_MANY_FAILED_ATTEMPTS"),
        1,
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .all(|r| r.partner_id == partner.partner_id && r.method == LOGIN)
    );
    drop(master);
}
