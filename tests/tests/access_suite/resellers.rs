//! Distributor ↔ reseller links through the real server: made by accepting a
//! RESELLER invitation, listed, suspended and restored, and acting for a
//! reseller with `reseller_id`.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;

/// A sub-user for the reseller, created by whoever holds `token`.
fn user_in(reseller_id: &str, username: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        request_id: new_request_id(),
        username: username.into(),
        password: USER_PASSWORD.into(),
        reseller_id: reseller_id.into(),
        ..Default::default()
    }
}

fn users_of(reseller_id: &str) -> pb::ListUsersRequest {
    pb::ListUsersRequest {
        reseller_id: reseller_id.into(),
        ..Default::default()
    }
}

fn change(reseller_id: &str) -> (pb::SuspendResellerRequest, pb::RestoreResellerRequest) {
    (
        pb::SuspendResellerRequest {
            request_id: new_request_id(),
            reseller_id: reseller_id.into(),
            reason: "overdue settlement".into(),
        },
        pb::RestoreResellerRequest {
            request_id: new_request_id(),
            reseller_id: reseller_id.into(),
            reason: "settled".into(),
        },
    )
}

#[tokio::test]
async fn accepted_reseller_invitations_make_links_that_the_distributor_lists() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (dist, dist_master) = server
        .enrolled_partner(&admin, "dist", pb::Program::Distributor)
        .await;
    let (existing, _) = server.linked_reseller(&admin, &dist_master, "shop").await;
    let joined: Vec<_> = existing.programs.iter().map(|e| e.program).collect();
    assert_eq!(joined, [pb::Program::Reseller as i32]);

    // A new company signs up as a reseller with the distributor's invitation.
    let (_, token) = server
        .invite(&dist_master, pb::Program::Reseller, "")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let signed = ok(server
        .programs_public()
        .sign_up_with_invitation(pb::SignUpWithInvitationRequest {
            request_id: new_request_id(),
            token,
            business_info: Some(business_info()),
            agreement_accepted: true,
            master_username: "newshop".into(),
            master_password: USER_PASSWORD.into(),
            contact_email: "newshop@partners.example".into(),
        })
        .await)
    .partner
    .unwrap_or_default();

    let first = ok(server
        .resellers(&dist_master)
        .list_resellers(pb::ListResellersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert_eq!(first.resellers.len(), 1);
    assert!(!first.next_page_token.is_empty());
    let second = ok(server
        .resellers(&dist_master)
        .list_resellers(pb::ListResellersRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await);
    assert!(second.next_page_token.is_empty());
    let listed: Vec<_> = first.resellers.iter().chain(&second.resellers).collect();
    let ids: Vec<_> = listed.iter().map(|r| r.reseller_id.as_str()).collect();
    assert_eq!(
        ids,
        [existing.partner_id.as_str(), signed.partner_id.as_str()]
    );
    assert!(
        listed
            .iter()
            .all(|r| r.state == pb::ResellerLinkState::Active as i32
                && r.distributor_id == dist.partner_id
                && r.create_time.is_some())
    );
    assert_eq!(
        listed.first().map(|r| r.display_name.as_str()),
        Some("Partner shop")
    );

    // The operator names the distributor; without one it is a bad request.
    let by_operator = ok(server
        .resellers(&admin)
        .list_resellers(pb::ListResellersRequest {
            distributor_id: dist.partner_id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(by_operator.resellers.len(), 2);
    let status = assert_refused(
        server
            .resellers(&admin)
            .list_resellers(pb::ListResellersRequest::default())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["distributor_id"]);
    // A reseller has no resellers of its own.
    let shop_master = server.login("shop", USER_PASSWORD).await;
    let none = ok(server
        .resellers(&shop_master)
        .list_resellers(pb::ListResellersRequest::default())
        .await);
    assert!(none.resellers.is_empty());
}

#[tokio::test]
async fn a_distributor_suspends_and_restores_its_link_idempotently() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, dist) = server
        .enrolled_partner(&admin, "dist", pb::Program::Distributor)
        .await;
    let (shop, _) = server.linked_reseller(&admin, &dist, "shop").await;
    let (suspend, restore) = change(&shop.partner_id);

    let suspended = ok(server
        .resellers(&dist)
        .suspend_reseller(suspend.clone())
        .await)
    .reseller
    .unwrap_or_default();
    assert_eq!(suspended.state, pb::ResellerLinkState::Suspended as i32);
    // The same request again: the same answer, no second change.
    let replay = ok(server
        .resellers(&dist)
        .suspend_reseller(suspend.clone())
        .await)
    .reseller
    .unwrap_or_default();
    assert_eq!(replay, suspended);
    // A new request to suspend a suspended link is a state conflict.
    let (again, _) = change(&shop.partner_id);
    assert_refused(
        server.resellers(&dist).suspend_reseller(again).await,
        Code::FailedPrecondition,
        "RESELLER_STATE_CONFLICT",
    );

    let restored = ok(server.resellers(&dist).restore_reseller(restore).await)
        .reseller
        .unwrap_or_default();
    assert_eq!(restored.state, pb::ResellerLinkState::Active as i32);

    let trail = ok(server
        .audit(&dist)
        .list_audit_records(pb::ListAuditRecordsRequest {
            resource_id: shop.partner_id.clone(),
            ..Default::default()
        })
        .await);
    let methods: Vec<_> = trail
        .audit_records
        .iter()
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(
        methods,
        [
            "partner.accounts.v1.ResellerService/RestoreReseller",
            "partner.accounts.v1.ResellerService/SuspendReseller",
        ]
    );
    assert_eq!(
        trail.audit_records.last().map(|r| r.reason.as_str()),
        Some("overdue settlement")
    );

    // The operator and the reseller itself cannot touch the link.
    let shop_master = server.login("shop", USER_PASSWORD).await;
    let (suspend, _) = change(&shop.partner_id);
    assert_refused(
        server
            .resellers(&admin)
            .suspend_reseller(suspend.clone())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .resellers(&shop_master)
            .suspend_reseller(suspend)
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
}

#[tokio::test]
async fn a_distributor_acts_for_its_active_reseller_and_the_audit_says_so() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (dist, dist_master) = server
        .enrolled_partner(&admin, "dist", pb::Program::Distributor)
        .await;
    let (shop, shop_master) = server.linked_reseller(&admin, &dist_master, "shop").await;

    let created = ok(server
        .users(&dist_master)
        .create_user(user_in(&shop.partner_id, "shop.clerk"))
        .await)
    .user
    .unwrap_or_default();
    assert_eq!(
        created.partner_id, shop.partner_id,
        "created in the reseller"
    );
    server.login("shop.clerk", USER_PASSWORD).await;

    let listed = ok(server
        .users(&dist_master)
        .list_users(users_of(&shop.partner_id))
        .await);
    let names: Vec<_> = listed.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["shop", "shop.clerk"]);
    // The distributor's own list is unchanged.
    let own = ok(server
        .users(&dist_master)
        .list_users(pb::ListUsersRequest::default())
        .await);
    assert!(own.users.iter().all(|u| u.partner_id == dist.partner_id));

    // The reseller sees the change in its own trail, made by the distributor's user.
    let trail = ok(server
        .audit(&shop_master)
        .list_audit_records(pb::ListAuditRecordsRequest {
            resource_id: created.user_id.clone(),
            ..Default::default()
        })
        .await);
    let record = trail.audit_records.first().cloned().unwrap_or_default();
    assert_eq!(record.method, "partner.accounts.v1.UserService/CreateUser");
    assert_eq!(record.partner_id, shop.partner_id);
    assert_eq!(record.acting_for_partner_id, shop.partner_id);
    assert_eq!(record.actor_partner_id, dist.partner_id);
    assert_eq!(record.actor_user_id, dist.master_user_id);
    // A change for itself names no one acted for.
    let (_, _) = server.create_user(&dist_master, "dist.staff").await;
    let creations = |partner_id: &str| pb::ListAuditRecordsRequest {
        method: "partner.accounts.v1.UserService/CreateUser".into(),
        partner_id: partner_id.into(),
        ..Default::default()
    };
    // The distributor's trail holds both: its own change, and the one it made
    // for its reseller (which it can see there, though it belongs to the reseller).
    let mine = ok(server
        .audit(&dist_master)
        .list_audit_records(creations(""))
        .await)
    .audit_records;
    let acted_for: Vec<_> = mine
        .iter()
        .map(|r| r.acting_for_partner_id.as_str())
        .collect();
    assert_eq!(acted_for, ["", shop.partner_id.as_str()], "{mine:?}");
    // Naming its own id leaves the acting-for record out.
    let own_only = ok(server
        .audit(&dist_master)
        .list_audit_records(creations(&dist.partner_id))
        .await)
    .audit_records;
    assert_eq!(own_only.len(), 1, "{own_only:?}");
    assert!(own_only[0].acting_for_partner_id.is_empty());
    // The reseller's trail does not show the distributor's own changes.
    let theirs = ok(server
        .audit(&shop_master)
        .list_audit_records(creations(""))
        .await)
    .audit_records;
    assert!(
        theirs.iter().all(|r| r.partner_id == shop.partner_id),
        "{theirs:?}"
    );
}

#[tokio::test]
async fn every_reseller_the_caller_may_not_act_for_looks_the_same() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, dist) = server
        .enrolled_partner(&admin, "dist", pb::Program::Distributor)
        .await;
    let (_, rival) = server
        .enrolled_partner(&admin, "rival", pb::Program::Distributor)
        .await;
    let (shop, _) = server.linked_reseller(&admin, &dist, "shop").await;
    let (paused, _) = server.linked_reseller(&admin, &dist, "paused").await;
    let (rivals_shop, _) = server.linked_reseller(&admin, &rival, "rshop").await;
    let (_, plain) = server.register_partner(&admin, "plain").await;
    let (suspend, _) = change(&paused.partner_id);
    ok(server.resellers(&dist).suspend_reseller(suspend).await);

    let unknown = "prt_0190a5b0c1d27e3f8a9b0c1d2e3f4a5b".to_owned();
    let cases = [
        (&dist, paused.partner_id.clone(), "a suspended link"),
        (
            &dist,
            rivals_shop.partner_id.clone(),
            "another distributor's reseller",
        ),
        (&dist, unknown, "an unknown id"),
        (
            &plain,
            shop.partner_id.clone(),
            "a caller that is no distributor",
        ),
    ];
    for (i, (token, reseller, case)) in cases.into_iter().enumerate() {
        let create = server
            .users(token)
            .create_user(user_in(&reseller, &format!("probe{i}")))
            .await;
        let status = assert_refused(create, Code::NotFound, "RESELLER_NOT_FOUND");
        assert_eq!(status.message(), "reseller not found", "{case}");
        assert_refused(
            server.users(token).list_users(users_of(&reseller)).await,
            Code::NotFound,
            "RESELLER_NOT_FOUND",
        );
    }
    // Restored, the link works again.
    let (_, restore) = change(&paused.partner_id);
    ok(server.resellers(&dist).restore_reseller(restore).await);
    ok(server
        .users(&dist)
        .list_users(users_of(&paused.partner_id))
        .await);

    // A malformed id is bad input; the operator holds no partner permission.
    let status = assert_refused(
        server.users(&dist).list_users(users_of("shop")).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["reseller_id"]);
    assert_refused(
        server
            .users(&admin)
            .list_users(users_of(&shop.partner_id))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}
