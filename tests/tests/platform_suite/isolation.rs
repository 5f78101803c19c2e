//! Tenant isolation: a partner's users see another partner's partner and users
//! as if they did not exist, and change nothing.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

#[tokio::test]
async fn partner_a_gets_not_found_for_everything_of_partner_b() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_a, a_master) = server.register_partner(&admin, "alpha").await;
    let (b, b_master) = server.register_partner(&admin, "beta").await;
    let (b_user, _) = server.create_user(&b_master, "beta.user").await;

    assert_refused(
        server
            .partners(&a_master)
            .get_partner(pb::GetPartnerRequest {
                partner_id: b.partner_id.clone(),
            })
            .await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
    assert_refused(
        server
            .partners(&a_master)
            .update_partner(pb::UpdatePartnerRequest {
                request_id: new_request_id(),
                partner: Some(pb::Partner {
                    partner_id: b.partner_id.clone(),
                    display_name: "pwned".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["display_name".into()],
                }),
            })
            .await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
    for user_id in [b_user.user_id.clone(), b.master_user_id.clone()] {
        assert_refused(
            server
                .users(&a_master)
                .get_user(pb::GetUserRequest {
                    user_id: user_id.clone(),
                })
                .await,
            Code::NotFound,
            "USER_NOT_FOUND",
        );
        assert_refused(
            server
                .users(&a_master)
                .disable_user(pb::DisableUserRequest {
                    request_id: new_request_id(),
                    user_id,
                    reason: String::new(),
                })
                .await,
            Code::NotFound,
            "USER_NOT_FOUND",
        );
    }
    // A's listing holds only A's users.
    let listed = ok(server
        .users(&a_master)
        .list_users(pb::ListUsersRequest::default())
        .await);
    assert_eq!(
        listed
            .users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["alpha"]
    );

    // Nothing of B changed.
    let b_now = ok(server
        .partners(&b_master)
        .get_partner(pb::GetPartnerRequest {
            partner_id: b.partner_id.clone(),
        })
        .await);
    assert_eq!(b_now.partner.map(|p| p.display_name), Some(b.display_name));
    server.login("beta.user", USER_PASSWORD).await;
}

#[tokio::test]
async fn page_tokens_do_not_cross_tenants_or_queries() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, a_master) = server.register_partner(&admin, "alpha").await;
    let (_, b_master) = server.register_partner(&admin, "beta").await;
    server.create_user(&a_master, "alpha.one").await;
    let first = ok(server
        .users(&a_master)
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert!(!first.next_page_token.is_empty());
    let token = first.next_page_token;

    // Another tenant replaying A's token.
    assert_refused(
        server
            .users(&b_master)
            .list_users(pb::ListUsersRequest {
                page_size: 1,
                page_token: token.clone(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // The same tenant with a different filter.
    assert_refused(
        server
            .users(&a_master)
            .list_users(pb::ListUsersRequest {
                page_size: 1,
                page_token: token.clone(),
                state: pb::UserState::Disabled as i32,
                reseller_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // A tampered token.
    let mut tampered = token.clone().into_bytes();
    tampered[3] ^= 0x01;
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let status = assert_refused(
        server
            .users(&a_master)
            .list_users(pb::ListUsersRequest {
                page_size: 1,
                page_token: tampered,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["page_token"]);
    // A token of another method.
    assert_refused(
        server
            .partners(&admin)
            .list_partners(pb::ListPartnersRequest {
                page_size: 1,
                page_token: token.clone(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // The genuine token still works.
    let second = ok(server
        .users(&a_master)
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            page_token: token,
            ..Default::default()
        })
        .await);
    assert_eq!(second.users.len(), 1);
}
