//! Brute-force resistance through the real server: `Login`s (per username)
//! and `ExchangeAccessKey`s (per key id) are charged before they are checked;
//! five are checked, then the subject locks, with RetryInfo, even for the
//! right credential — under any concurrency. Success and a quiet period reset
//! the count. Refusals collapse into one audit record per subject and run,
//! and attempts on names or keys that do not exist write nothing per attempt.
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

#[tokio::test]
async fn exchange_is_throttled_per_key_and_audited_once_per_run() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (key, secret) = create_key(&server, &master).await;
    let id = key.access_key_id.as_str();

    for _ in 0..5 {
        assert_refused(
            exchange(&server, id, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    // The fifth attempt locked the key for 2 s: even the right secret is refused.
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
    // Success cleared the count: four more failures and the right secret pass.
    for _ in 0..4 {
        assert_refused(
            exchange(&server, id, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    exchange(&server, id, &secret)
        .await
        .unwrap_or_else(|e| panic!("after four failures: {e:?}"));

    // Unknown keys lock the same way, so a lock reveals nothing.
    let unknown = "ak_0190f0e0a0b07c0d8e0f101112131415";
    for _ in 0..5 {
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

    // The partner sees each run of refusals on its key as one record: the
    // first run's six checked refusals so far (the two unchecked ones are
    // written with the next flush), the second run's four.
    let records = audit_reasons(&server, &master, EXCHANGE, id).await;
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1].occurrences, 6, "{records:?}");
    assert_eq!(records[0].occurrences, 4, "{records:?}");
    assert!(records.iter().all(|r| r.partner_id == partner.partner_id
        && r.actor_user_id == key.user_id
        && r.reason == "ACCESS_KEY_INVALID"
        && r.request_id.is_empty()));
    // Attempts on an unknown key are not written one by one.
    assert!(
        audit_reasons(&server, &admin, EXCHANGE, unknown)
            .await
            .is_empty()
    );

    // After a flush (at shutdown here) the unchecked refusals are counted in
    // their run's record, and the unknown key's in one aggregate record.
    let server = server.restart().await;
    let admin = server.admin_token().await;
    let records = audit_reasons(&server, &admin, EXCHANGE, id).await;
    assert_eq!(records[1].occurrences, 8, "{records:?}");
    let counts = refusal_counts(&records[1]);
    assert_eq!(counts.get("ACCESS_KEY_INVALID"), Some(&6.0), "{counts:?}");
    assert_eq!(
        counts.get("TOO_MANY_FAILED_ATTEMPTS"),
        Some(&2.0),
        "{counts:?}"
    );
    let aggregate = audit_reasons(&server, &admin, EXCHANGE, "(unknown)").await;
    assert_eq!(aggregate.len(), 1, "{aggregate:?}");
    assert_eq!(aggregate[0].occurrences, 6);
    assert_eq!(aggregate[0].actor_user_id, "anonymous");
    assert!(aggregate[0].partner_id.is_empty());
}

/// `after.refusals` of a collapsed record: reason → count.
fn refusal_counts(record: &accounts::AuditRecord) -> std::collections::BTreeMap<String, f64> {
    use prost_types::value::Kind;
    let refusals = record
        .after
        .as_ref()
        .and_then(|a| a.fields.get("refusals"))
        .and_then(|v| v.kind.clone());
    match refusals {
        Some(Kind::StructValue(s)) => s
            .fields
            .into_iter()
            .filter_map(|(k, v)| match v.kind {
                Some(Kind::NumberValue(n)) => Some((k, n)),
                _ => None,
            })
            .collect(),
        _ => Default::default(),
    }
}

#[tokio::test]
async fn login_is_throttled_per_username_known_or_not() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;

    for _ in 0..5 {
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

    // A quiet period starts the count again.
    for _ in 0..4 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    clock.advance(Duration::minutes(16));
    for _ in 0..4 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    server
        .login_pair("acme", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("within the free attempts: {e:?}"));

    // An unknown username locks exactly like a known one.
    for _ in 0..5 {
        assert_refused(
            server.login_pair("ghost", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert_eq!(locked_for(server.login_pair("ghost", "x").await), 2);

    // The partner's audit trail shows one record per run on its master's name.
    let token = server.login("acme", USER_PASSWORD).await;
    let records = audit_reasons(&server, &token, LOGIN, "acme").await;
    let occurrences: Vec<i32> = records.iter().map(|r| r.occurrences).collect();
    assert_eq!(occurrences, [4, 4, 5], "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r.partner_id == partner.partner_id && r.method == LOGIN)
    );
    drop(master);
}

/// Fires `n` calls of `attempt` at once; returns the refusal reasons.
async fn concurrently<F, Fut, T>(n: usize, attempt: F) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>> + Send + 'static,
    T: Send + 'static,
{
    let calls: Vec<_> = (0..n).map(|_| tokio::spawn(attempt())).collect();
    let mut reasons = Vec::new();
    for call in calls {
        match call.await {
            Ok(Ok(_)) => reasons.push("OK".to_owned()),
            Ok(Err(status)) => {
                let code = status.code();
                let reason = reason_of(&status);
                assert!(
                    matches!(
                        (code, reason.as_str()),
                        (Code::Unauthenticated, _)
                            | (Code::ResourceExhausted, "TOO_MANY_FAILED_ATTEMPTS")
                    ) && (code != Code::ResourceExhausted
                        || status.get_error_details().retry_info().is_some()),
                    "{status:?}"
                );
                reasons.push(reason);
            }
            Err(e) => panic!("task: {e}"),
        }
    }
    reasons
}

fn tally(reasons: &[String], reason: &str) -> usize {
    reasons.iter().filter(|r| *r == reason).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_concurrent_wrong_passwords_check_at_most_five() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = Arc::new(TestServer::start_with_clock(clock.clone()).await);
    let admin = server.admin_token().await;
    server.register_partner(&admin, "acme").await;

    let s = server.clone();
    let reasons = concurrently(60, move || {
        let s = s.clone();
        async move { s.login_pair("acme", "wrong-password").await }
    })
    .await;
    let checked = tally(&reasons, "INVALID_CREDENTIALS");
    assert!(checked <= 5, "{checked} checked: {reasons:?}");
    assert_eq!(tally(&reasons, "TOO_MANY_FAILED_ATTEMPTS"), 60 - checked);
    // The right password is refused until the lock ends.
    let wait = locked_for(server.login_pair("acme", USER_PASSWORD).await);
    clock.advance(Duration::seconds(
        i64::try_from(wait).unwrap_or(i64::MAX) - 1,
    ));
    locked_for(server.login_pair("acme", USER_PASSWORD).await);
    clock.advance(Duration::seconds(1));
    server
        .login_pair("acme", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("after the lock: {e:?}"));
    // One run, one record.
    let records = audit_reasons(&server, &admin, LOGIN, "acme").await;
    assert_eq!(records.len(), 1, "{records:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_concurrent_wrong_secrets_check_at_most_five() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = Arc::new(TestServer::start_with_clock(clock.clone()).await);
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (key, secret) = create_key(&server, &master).await;
    let id = key.access_key_id.clone();

    let (s, key_id) = (server.clone(), id.clone());
    let reasons = concurrently(60, move || {
        let (s, key_id) = (s.clone(), key_id.clone());
        async move { exchange(&s, &key_id, "prt_sk_guess").await }
    })
    .await;
    let checked = tally(&reasons, "ACCESS_KEY_INVALID");
    assert!(checked <= 5, "{checked} checked: {reasons:?}");
    assert_eq!(tally(&reasons, "TOO_MANY_FAILED_ATTEMPTS"), 60 - checked);
    let wait = locked_for(exchange(&server, &id, &secret).await);
    clock.advance(Duration::seconds(i64::try_from(wait).unwrap_or(i64::MAX)));
    exchange(&server, &id, &secret)
        .await
        .unwrap_or_else(|e| panic!("after the lock: {e:?}"));
}

#[tokio::test]
async fn attempts_on_names_and_keys_that_do_not_exist_write_nothing_per_attempt() {
    let server = TestServer::start().await;
    let (audit_before, throttles_before) = (
        server.rows("audit_records").await,
        server.rows("auth_throttles").await,
    );
    for i in 0..130 {
        let id = format!("ak_0190f0e0a0b07c0d8e0f1011121{i:05}");
        assert_refused(
            exchange(&server, &id, "prt_sk_guess").await,
            Code::Unauthenticated,
            "ACCESS_KEY_INVALID",
        );
    }
    for i in 0..100 {
        assert_refused(
            server
                .login_pair(&format!("nobody{i}"), "wrong-password")
                .await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert_eq!(server.rows("audit_records").await, audit_before);
    assert_eq!(server.rows("auth_throttles").await, throttles_before);
    // Written at the next flush (at shutdown here): one record per method.
    let server = server.restart().await;
    assert_eq!(server.rows("audit_records").await, audit_before + 2);
    assert_eq!(server.rows("auth_throttles").await, throttles_before);
    let admin = server.admin_token().await;
    let logins = audit_reasons(&server, &admin, LOGIN, "(unknown)").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].occurrences, 100);
}

#[tokio::test]
async fn counters_of_subjects_that_never_succeed_are_swept() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    server.register_partner(&admin, "acme").await;
    for _ in 0..3 {
        assert_refused(
            server.login_pair("acme", "wrong-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert_eq!(server.rows("auth_throttles").await, 1);
    clock.advance(Duration::minutes(16));
    // The sweep runs with every flush, the last one at shutdown.
    let db = server.db.clone();
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    let server = TestServer::start_on(db, |_| {}).await;
    assert_eq!(server.rows("auth_throttles").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_right_passwords_never_lock_the_user() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = Arc::new(TestServer::start_with_clock(clock.clone()).await);
    let admin = server.admin_token().await;
    server.register_partner(&admin, "acme").await;
    let s = server.clone();
    let reasons = concurrently(8, move || {
        let s = s.clone();
        async move { s.login_pair("acme", USER_PASSWORD).await }
    })
    .await;
    // Five are checked at once; any beyond is told to retry in a second.
    let signed_in = tally(&reasons, "OK");
    assert!(signed_in >= 5, "{reasons:?}");
    assert_eq!(tally(&reasons, "TOO_MANY_FAILED_ATTEMPTS"), 8 - signed_in);
    // Nothing was locked: the next sign-in goes through at once.
    server
        .login_pair("acme", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("after concurrent sign-ins: {e:?}"));
}
