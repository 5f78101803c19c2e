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
