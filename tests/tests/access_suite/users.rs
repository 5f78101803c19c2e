//! A partner's sub-users through the real server.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;

#[tokio::test]
async fn master_creates_lists_gets_and_disables_users() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (alice, alice_token) = server.create_user(&master, "alice").await;
    assert!(alice.user_id.starts_with("usr_"));
    assert_eq!(alice.partner_id, partner.partner_id);
    assert!(!alice.master);
    assert_eq!(
        alice.display_name, "alice",
        "display name defaults to the username"
    );
    let (bob, _) = server.create_user(&master, "bob").await;

    let got = ok(server
        .users(&master)
        .get_user(pb::GetUserRequest {
            user_id: alice.user_id.clone(),
        })
        .await);
    assert_eq!(got.user.as_ref(), Some(&alice));

    let all = ok(server
        .users(&master)
        .list_users(pb::ListUsersRequest::default())
        .await);
    let names: Vec<_> = all.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(
        names,
        ["acme", "alice", "bob"],
        "master first, then by creation"
    );
    assert!(all.next_page_token.is_empty());

    let disabled = ok(server
        .users(&master)
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: bob.user_id.clone(),
            reason: "left the company".into(),
        })
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(disabled.state, pb::UserState::Disabled as i32);
    assert_refused(
        server.login_pair("bob", USER_PASSWORD).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );

    let active = ok(server
        .users(&master)
        .list_users(pb::ListUsersRequest {
            state: pb::UserState::Active as i32,
            ..Default::default()
        })
        .await);
    assert_eq!(active.users.len(), 2);

    // Sub-users hold no permissions until roles exist: they are signed in but refused.
    assert_refused(
        server
            .users(&alice_token)
            .list_users(pb::ListUsersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .partners(&alice_token)
            .get_partner(pb::GetPartnerRequest {
                partner_id: partner.partner_id.clone(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn disabling_a_user_refuses_its_live_token_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (carol, carol_token) = server.create_user(&master, "carol").await;
    // Before: authenticated (the refusal is about permissions, not identity)…
    assert_refused(
        server
            .users(&carol_token)
            .list_users(pb::ListUsersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    ok(server
        .users(&master)
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: carol.user_id,
            reason: String::new(),
        })
        .await);
    // …after: the same token no longer identifies anyone.
    assert_refused(
        server
            .users(&carol_token)
            .list_users(pb::ListUsersRequest::default())
            .await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
}

#[tokio::test]
async fn the_master_cannot_be_disabled_and_usernames_are_unique() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    assert_refused(
        server
            .users(&master)
            .disable_user(pb::DisableUserRequest {
                request_id: new_request_id(),
                user_id: partner.master_user_id.clone(),
                reason: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "MASTER_USER_IMMUTABLE",
    );
    server.create_user(&master, "dave").await;
    let dup = server
        .users(&master)
        .create_user(pb::CreateUserRequest {
            request_id: new_request_id(),
            username: "dave".into(),
            password: USER_PASSWORD.into(),
            ..Default::default()
        })
        .await;
    assert_refused(dup, Code::AlreadyExists, "USERNAME_TAKEN");
    // Login names are one namespace across partners and the operator.
    assert_refused(
        server
            .partners(&admin)
            .register_partner(register_request("admin"))
            .await,
        Code::AlreadyExists,
        "USERNAME_TAKEN",
    );
}

#[tokio::test]
async fn the_operator_holds_no_partner_permissions() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    assert_refused(
        server
            .users(&admin)
            .list_users(pb::ListUsersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

fn update(user_id: &str, display_name: &str, email: &str, paths: &[&str]) -> pb::UpdateUserRequest {
    pb::UpdateUserRequest {
        request_id: new_request_id(),
        user: Some(pb::User {
            user_id: user_id.into(),
            display_name: display_name.into(),
            email: email.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
    }
}

#[tokio::test]
async fn update_user_changes_only_the_masked_fields() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (alice, _) = server.create_user(&master, "alice").await;
    let users = server.users(&master);
    let updated = ok(users
        .clone()
        .update_user(update(
            &alice.user_id,
            "Alice Liddell",
            "ignored@x.example",
            &["display_name"],
        ))
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(updated.display_name, "Alice Liddell");
    assert_eq!(updated.email, "", "not in the mask");
    let updated = ok(users
        .clone()
        .update_user(update(&alice.user_id, "", "alice@acme.example", &["email"]))
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(
        (updated.display_name.as_str(), updated.email.as_str()),
        ("Alice Liddell", "alice@acme.example")
    );
    // An empty email clears it; a bad one, an empty name and an unknown path are refused.
    let cleared = ok(users
        .clone()
        .update_user(update(&alice.user_id, "", "", &["email"]))
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(cleared.email, "");
    let status = assert_refused(
        users
            .clone()
            .update_user(update(
                &alice.user_id,
                " ",
                "nope",
                &["display_name", "email", "state"],
            ))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, ["update_mask", "user.display_name", "user.email"]);
    assert_refused(
        users
            .clone()
            .update_user(update(&alice.user_id, "x", "", &[]))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
}

#[tokio::test]
async fn a_disabled_user_is_enabled_again_without_its_old_sessions() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (bob, bob_token) = server.create_user(&master, "bob").await;
    let users = server.users(&master);
    assert_refused(
        users
            .clone()
            .enable_user(pb::EnableUserRequest {
                request_id: new_request_id(),
                user_id: bob.user_id.clone(),
                reason: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "USER_STATE_CONFLICT",
    );
    ok(users
        .clone()
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: bob.user_id.clone(),
            reason: "on leave".into(),
        })
        .await);
    let enabled = ok(users
        .clone()
        .enable_user(pb::EnableUserRequest {
            request_id: new_request_id(),
            user_id: bob.user_id.clone(),
            reason: "back".into(),
        })
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(enabled.state, pb::UserState::Active as i32);
    // Disabling ended its session for good; a new login works.
    assert_refused(
        server
            .auth_as(&bob_token)
            .logout(partner_api::iam::v1::LogoutRequest {})
            .await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    server.login("bob", USER_PASSWORD).await;
}

#[tokio::test]
async fn a_deleted_user_loses_sessions_keys_and_roles_at_once_and_keeps_its_name() {
    use partner_api::iam::v1 as iam;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (carol, carol_token) = server.user_with_role(&master, "carol", "SALES").await;
    let created = ok(server
        .access_keys(&master)
        .create_access_key(iam::CreateAccessKeyRequest {
            request_id: new_request_id(),
            user_id: carol.user_id.clone(),
            description: "carol's script".into(),
        })
        .await);
    let key = created.access_key.unwrap_or_default();
    let got = ok(server
        .users(&master)
        .get_user(pb::GetUserRequest {
            user_id: carol.user_id.clone(),
        })
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(got.role_ids, ["SALES"], "users show their roles");

    let request_id = new_request_id();
    let delete = pb::DeleteUserRequest {
        request_id: request_id.clone(),
        user_id: carol.user_id.clone(),
        reason: "left".into(),
    };
    let deleted = ok(server.users(&master).delete_user(delete.clone()).await)
        .user
        .unwrap_or_default();
    assert_eq!(deleted.state, pb::UserState::Deleted as i32);
    assert!(deleted.role_ids.is_empty());
    // Idempotent: the same request answers the same.
    assert_eq!(
        ok(server.users(&master).delete_user(delete).await).user,
        Some(deleted.clone())
    );
    // Its live token, its key and its password all stop at once.
    assert_refused(
        server
            .users(&carol_token)
            .list_users(pb::ListUsersRequest::default())
            .await,
        Code::Unauthenticated,
        "USER_DELETED",
    );
    assert_refused(
        server
            .auth()
            .exchange_access_key(iam::ExchangeAccessKeyRequest {
                access_key_id: key.access_key_id.clone(),
                secret: created.secret,
            })
            .await,
        Code::Unauthenticated,
        "ACCESS_KEY_INVALID",
    );
    assert_refused(
        server.login_pair("carol", USER_PASSWORD).await,
        Code::Unauthenticated,
        "USER_DELETED",
    );
    let keys = ok(server
        .access_keys(&master)
        .list_access_keys(iam::ListAccessKeysRequest::default())
        .await)
    .access_keys;
    assert!(keys.is_empty(), "{keys:?}");
    // The name stays reserved; the user stays readable but leaves the listing.
    assert_refused(
        server
            .users(&master)
            .create_user(pb::CreateUserRequest {
                request_id: new_request_id(),
                username: "carol".into(),
                password: USER_PASSWORD.into(),
                ..Default::default()
            })
            .await,
        Code::AlreadyExists,
        "USERNAME_TAKEN",
    );
    let listed = ok(server
        .users(&master)
        .list_users(pb::ListUsersRequest::default())
        .await)
    .users;
    assert!(listed.iter().all(|u| u.user_id != carol.user_id));
    let deleted_only = ok(server
        .users(&master)
        .list_users(pb::ListUsersRequest {
            state: pb::UserState::Deleted as i32,
            ..Default::default()
        })
        .await)
    .users;
    assert_eq!(deleted_only, [deleted]);
    // Nothing brings it back, and the master is never deleted.
    assert_refused(
        server
            .users(&master)
            .enable_user(pb::EnableUserRequest {
                request_id: new_request_id(),
                user_id: carol.user_id.clone(),
                reason: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "USER_STATE_CONFLICT",
    );
    assert_refused(
        server
            .users(&master)
            .delete_user(pb::DeleteUserRequest {
                request_id: new_request_id(),
                user_id: partner.master_user_id,
                reason: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "MASTER_USER_IMMUTABLE",
    );
}
