//! Access keys through the real server: the secret is shown once and never
//! stored, exchange yields a working token, disabling or deleting the key (or
//! the user, or suspending the partner) stops its tokens at once, and keys
//! stay in their tenant. Throttling of failed exchanges: `sign_in_throttling.rs`.

use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as pb;
use partner_tests::*;
use sea_orm::{ConnectionTrait, Statement};
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn create_request(user_id: &str) -> pb::CreateAccessKeyRequest {
    pb::CreateAccessKeyRequest {
        request_id: new_request_id(),
        user_id: user_id.into(),
        description: "billing sync".into(),
    }
}

/// Creates a key as the holder of `token`; returns it and its secret.
async fn create_key(server: &TestServer, token: &str, user_id: &str) -> (pb::AccessKey, String) {
    let created = ok(server
        .access_keys(token)
        .create_access_key(create_request(user_id))
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

/// An authenticated call any partner principal may attempt: it answers, or
/// refuses for a missing permission, only when the token itself is accepted.
async fn call(server: &TestServer, token: &str) -> Result<(), Status> {
    server
        .access_keys(token)
        .list_access_keys(pb::ListAccessKeysRequest::default())
        .await
        .map(drop)
}

async fn list(server: &TestServer, token: &str) -> Vec<pb::AccessKey> {
    ok(server
        .access_keys(token)
        .list_access_keys(pb::ListAccessKeysRequest::default())
        .await)
    .access_keys
}

fn disable_request(id: &str) -> pb::DisableAccessKeyRequest {
    pb::DisableAccessKeyRequest {
        request_id: new_request_id(),
        access_key_id: id.into(),
        reason: "rotated".into(),
    }
}

fn delete_request(id: &str) -> pb::DeleteAccessKeyRequest {
    pb::DeleteAccessKeyRequest {
        request_id: new_request_id(),
        access_key_id: id.into(),
        reason: "decommissioned".into(),
    }
}

/// Every stored byte string a secret could hide in: the key table, stored
/// idempotent responses, audit summaries and outbox payloads.
async fn stored_blobs(server: &TestServer) -> Vec<Vec<u8>> {
    let db = server.db.connect().await;
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    for (sql, column) in [
        ("SELECT secret_hash AS v FROM access_keys", "bytes"),
        ("SELECT description AS v FROM access_keys", "text"),
        ("SELECT response AS v FROM idempotency_records", "bytes"),
        ("SELECT after AS v FROM audit_records", "json"),
        ("SELECT payload AS v FROM outbox_events", "json"),
    ] {
        let rows = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        for row in rows {
            let value = match column {
                "bytes" => row.try_get::<Vec<u8>>("", "v").unwrap_or_default(),
                "text" => row
                    .try_get::<String>("", "v")
                    .unwrap_or_default()
                    .into_bytes(),
                _ => row
                    .try_get::<Option<serde_json::Value>>("", "v")
                    .ok()
                    .flatten()
                    .map(|v| v.to_string().into_bytes())
                    .unwrap_or_default(),
            };
            out.push(value);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn secret_is_shown_once_and_never_stored() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;

    let request = create_request("");
    let created = ok(server
        .access_keys(&master)
        .create_access_key(request.clone())
        .await);
    let key = created.access_key.clone().unwrap_or_default();
    assert!(key.access_key_id.starts_with("ak_"), "{key:?}");
    assert!(created.secret.starts_with("prt_sk_"), "{created:?}");
    assert!(created.secret.len() >= 7 + 43, "32 random bytes");
    assert_eq!(key.partner_id, partner.partner_id);
    assert_eq!(key.state, pb::AccessKeyState::Active as i32);
    assert_eq!(key.description, "billing sync");
    assert!(key.last_used_time.is_none());

    // A replay is the same key, without the secret (it is not stored anywhere).
    let replay = ok(server.access_keys(&master).create_access_key(request).await);
    assert_eq!(replay.access_key, created.access_key);
    assert_eq!(replay.secret, "");
    assert_eq!(list(&server, &master).await, std::slice::from_ref(&key));

    let blobs = stored_blobs(&server).await;
    assert!(!blobs.is_empty());
    assert!(
        blobs
            .iter()
            .all(|b| !contains(b, created.secret.as_bytes())),
        "the secret is stored somewhere"
    );
    // The hash is all the key table holds: 32 bytes.
    assert!(blobs.iter().any(|b| b.len() == 32));

    // The key exchanges for a token that works, and the use is recorded.
    let token = exchange(&server, &key.access_key_id, &created.secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    let seen = list(&server, &token).await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].last_used_time.is_some(), "{seen:?}");
}

#[tokio::test]
async fn disabling_a_key_refuses_its_exchange_and_its_live_tokens() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (key, secret) = create_key(&server, &master, "").await;
    let (other, other_secret) = create_key(&server, &master, "").await;
    let token = exchange(&server, &key.access_key_id, &secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    let other_token = exchange(&server, &other.access_key_id, &other_secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    call(&server, &token)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let disabled = ok(server
        .access_keys(&master)
        .disable_access_key(disable_request(&key.access_key_id))
        .await)
    .access_key
    .unwrap_or_default();
    assert_eq!(disabled.state, pb::AccessKeyState::Disabled as i32);

    assert_refused(
        call(&server, &token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        exchange(&server, &key.access_key_id, &secret).await,
        Code::Unauthenticated,
        "ACCESS_KEY_DISABLED",
    );
    // A wrong secret does not learn the key is disabled.
    assert_refused(
        exchange(&server, &key.access_key_id, "prt_sk_wrong").await,
        Code::Unauthenticated,
        "ACCESS_KEY_INVALID",
    );
    assert_refused(
        server
            .access_keys(&master)
            .disable_access_key(disable_request(&key.access_key_id))
            .await,
        Code::FailedPrecondition,
        "ACCESS_KEY_STATE_CONFLICT",
    );
    // The other key and the master's own login are untouched.
    call(&server, &other_token)
        .await
        .unwrap_or_else(|e| panic!("other key: {e:?}"));
    call(&server, &master)
        .await
        .unwrap_or_else(|e| panic!("master: {e:?}"));
}

#[tokio::test]
async fn deleting_a_key_refuses_its_exchange_and_its_live_tokens() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (key, secret) = create_key(&server, &master, "").await;
    let token = exchange(&server, &key.access_key_id, &secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    call(&server, &token)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let request = delete_request(&key.access_key_id);
    ok(server
        .access_keys(&master)
        .delete_access_key(request.clone())
        .await);
    // Idempotent: the replay answers the same, a new request finds nothing.
    ok(server.access_keys(&master).delete_access_key(request).await);
    assert_refused(
        server
            .access_keys(&master)
            .delete_access_key(delete_request(&key.access_key_id))
            .await,
        Code::NotFound,
        "ACCESS_KEY_NOT_FOUND",
    );
    assert_refused(
        call(&server, &token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        exchange(&server, &key.access_key_id, &secret).await,
        Code::Unauthenticated,
        "ACCESS_KEY_INVALID",
    );
    assert!(list(&server, &master).await.is_empty());
}

#[tokio::test]
async fn a_disabled_user_or_suspended_partner_stops_its_keys_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (alice, _) = server.create_user(&master, "alice").await;
    let (alice_key, alice_secret) = create_key(&server, &master, &alice.user_id).await;
    assert_eq!(alice_key.user_id, alice.user_id);
    let alice_token = exchange(&server, &alice_key.access_key_id, &alice_secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    // The key carries alice's permissions (none yet): authenticated, not allowed.
    assert_refused(
        call(&server, &alice_token).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    ok(server
        .users(&master)
        .disable_user(accounts::DisableUserRequest {
            request_id: new_request_id(),
            user_id: alice.user_id.clone(),
            reason: String::new(),
        })
        .await);
    assert_refused(
        call(&server, &alice_token).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
    assert_refused(
        exchange(&server, &alice_key.access_key_id, &alice_secret).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
    // No new keys for a disabled user.
    assert_refused(
        server
            .access_keys(&master)
            .create_access_key(create_request(&alice.user_id))
            .await,
        Code::FailedPrecondition,
        "USER_STATE_CONFLICT",
    );

    let (key, secret) = create_key(&server, &master, "").await;
    let token = exchange(&server, &key.access_key_id, &secret)
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    ok(server
        .partners(&admin)
        .suspend_partner(accounts::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: partner.partner_id.clone(),
            reason: "unpaid".into(),
        })
        .await);
    assert_refused(
        call(&server, &token).await,
        Code::PermissionDenied,
        "PARTNER_SUSPENDED",
    );
    assert_refused(
        exchange(&server, &key.access_key_id, &secret).await,
        Code::PermissionDenied,
        "PARTNER_SUSPENDED",
    );
}

#[tokio::test]
async fn keys_stay_in_their_tenant_and_are_capped() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, a_master) = server.register_partner(&admin, "alpha").await;
    let (_, b_master) = server.register_partner(&admin, "beta").await;
    let (b_user, _) = server.create_user(&b_master, "beta.user").await;

    assert_refused(
        server
            .access_keys(&a_master)
            .create_access_key(create_request(&b_user.user_id))
            .await,
        Code::NotFound,
        "USER_NOT_FOUND",
    );
    // The operator has no partner to hold keys in.
    assert_refused(
        server
            .access_keys(&admin)
            .create_access_key(create_request(""))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .access_keys(&admin)
            .list_access_keys(pb::ListAccessKeysRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let status = assert_refused(
        server
            .access_keys(&a_master)
            .create_access_key(pb::CreateAccessKeyRequest {
                request_id: "nope".into(),
                user_id: "usr_bad".into(),
                description: "x".repeat(300),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        violated_fields(&status),
        ["request_id", "user_id", "description"]
    );

    // Five keys per user, disabled ones included; a sixth is refused.
    let mut first = None;
    for _ in 0..5 {
        let (key, _) = create_key(&server, &b_master, &b_user.user_id).await;
        first.get_or_insert(key);
    }
    let first = first.unwrap_or_else(|| panic!("no key"));
    ok(server
        .access_keys(&b_master)
        .disable_access_key(disable_request(&first.access_key_id))
        .await);
    let status = assert_refused(
        server
            .access_keys(&b_master)
            .create_access_key(create_request(&b_user.user_id))
            .await,
        Code::FailedPrecondition,
        "ACCESS_KEY_LIMIT_REACHED",
    );
    let limit = status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get("limit").cloned());
    assert_eq!(limit.as_deref(), Some("5"));
    // Deleting one makes room.
    ok(server
        .access_keys(&b_master)
        .delete_access_key(delete_request(&first.access_key_id))
        .await);
    create_key(&server, &b_master, &b_user.user_id).await;

    // Paging walks every key once, filtered to one user.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(server
            .access_keys(&b_master)
            .list_access_keys(pb::ListAccessKeysRequest {
                page_size: 2,
                page_token: token.clone(),
                user_id: b_user.user_id.clone(),
            })
            .await);
        seen.extend(page.access_keys.into_iter().map(|k| k.access_key_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    // Alpha sees none of them.
    assert!(list(&server, &a_master).await.is_empty());
}

#[tokio::test]
async fn a_key_token_holds_its_users_permissions_as_they_change() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "keyroles").await;
    let (user, _) = server.user_with_role(&master, "key.sales", "SALES").await;
    let (key, secret) = create_key(&server, &master, &user.user_id).await;
    let token = exchange(&server, &key.access_key_id, &secret)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    // SALES reads users but creates none.
    ok(server
        .users(&token)
        .list_users(accounts::ListUsersRequest::default())
        .await);
    let create = server
        .users(&token)
        .create_user(accounts::CreateUserRequest {
            request_id: new_request_id(),
            username: "made.by.key".into(),
            password: USER_PASSWORD.into(),
            ..Default::default()
        })
        .await;
    assert_refused(create, Code::PermissionDenied, "MISSING_PERMISSION");

    // Taking the role away applies to the key's live token on its next call.
    ok(server
        .roles(&master)
        .unassign_role(accounts::UnassignRoleRequest {
            request_id: new_request_id(),
            role_id: "SALES".into(),
            user_id: user.user_id.clone(),
        })
        .await);
    assert_refused(
        server
            .users(&token)
            .list_users(accounts::ListUsersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}
