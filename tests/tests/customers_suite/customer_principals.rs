//! Customers as principals through the real server: a customer signs in with
//! its own password and reaches only its own data; a partner user acts as
//! one of its customers with a short-lived token whose audit records name
//! both; freezing and disassociating stop those tokens.

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_api::iam::v1 as iam;
use partner_tests::*;
use tonic::Code;

async fn customer_login(
    server: &TestServer,
    login: &str,
    password: &str,
) -> Result<iam::CustomerLoginResponse, tonic::Status> {
    server
        .auth()
        .customer_login(iam::CustomerLoginRequest {
            login: login.into(),
            password: password.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn access_token(r: &iam::CustomerLoginResponse) -> String {
    r.tokens.clone().unwrap_or_default().access_token
}

/// GetCustomer of `id` as the holder of `token`.
async fn read(
    server: &TestServer,
    token: &str,
    id: &str,
) -> Result<tonic::Response<cu::GetCustomerResponse>, tonic::Status> {
    server.customers(token).get_customer(get(id)).await
}

fn get(id: &str) -> cu::GetCustomerRequest {
    cu::GetCustomerRequest {
        customer_id: id.into(),
        ..Default::default()
    }
}

fn freeze(id: &str) -> cu::FreezeCustomersRequest {
    cu::FreezeCustomersRequest {
        request_id: new_request_id(),
        customer_ids: vec![id.into()],
        mode: cu::FreezeMode::Account as i32,
        reason: "unpaid".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_customer_signs_in_and_reaches_only_its_own_account() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let own = server
        .customer_with_password(&master, &acme, "shop-1")
        .await;
    let other = server.create_customer(&master, &acme, "shop-2").await;
    // Labels are the partner's notes.
    ok(server
        .customers(&master)
        .update_customer(cu::UpdateCustomerRequest {
            request_id: new_request_id(),
            customer: Some(cu::Customer {
                customer_id: own.customer_id.clone(),
                labels: vec!["vip".into()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["labels".into()],
            }),
            ..Default::default()
        })
        .await);

    // By account name and by email.
    let by_name = ok(server
        .auth()
        .customer_login(iam::CustomerLoginRequest {
            login: own.account_name.clone(),
            password: CUSTOMER_PASSWORD.into(),
        })
        .await);
    assert_eq!(by_name.customer_id, own.customer_id);
    let signed_in = customer_login(&server, &own.email, CUSTOMER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let token = access_token(&signed_in);
    // Emails are one address whatever their case.
    let shouted = customer_login(&server, &own.email.to_uppercase(), CUSTOMER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(shouted.customer_id, own.customer_id);

    let mine = ok(read(&server, &token, &own.customer_id).await)
        .customer
        .unwrap_or_default();
    assert_eq!(mine.customer_id, own.customer_id);
    assert_eq!(mine.xaccount_id, "shop-1");
    assert!(mine.labels.is_empty(), "{mine:?}");
    // Another customer of the same partner does not exist for it.
    assert_refused(
        read(&server, &token, &other.customer_id).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // Nothing of the partner's: lists, other domains, events.
    assert_refused(
        server
            .customers(&token)
            .list_customers(cu::ListCustomersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .partners(&token)
            .get_partner(pb::GetPartnerRequest {
                partner_id: acme.partner_id.clone(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .events(&token)
            .list_events(ev::ListEventsRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // Its own budget and review, through its partner.
    assert_refused(
        server
            .customers(&token)
            .get_customer_budget(cu::GetCustomerBudgetRequest {
                customer_id: own.customer_id.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "BUDGET_NOT_SET",
    );

    // Refresh keeps the customer scope; logout ends it.
    let refreshed = ok(server
        .auth()
        .refresh_token(iam::RefreshTokenRequest {
            refresh_token: signed_in.tokens.clone().unwrap_or_default().refresh_token,
        })
        .await)
    .tokens
    .unwrap_or_default();
    let token2 = refreshed.access_token;
    ok(read(&server, &token2, &own.customer_id).await);
    ok(server.auth_as(&token2).logout(iam::LogoutRequest {}).await);
    assert_refused(
        read(&server, &token2, &own.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
}

#[tokio::test]
async fn wrong_passwords_passwordless_customers_and_frozen_customers_are_refused() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let own = server
        .customer_with_password(&master, &acme, "shop-1")
        .await;
    let sso_only = server.create_customer(&master, &acme, "shop-2").await;

    assert_refused(
        customer_login(&server, &own.account_name, "not-the-password").await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    assert_refused(
        customer_login(&server, "nobody-here", CUSTOMER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    // Without a password it signs in only through its partner's SSO.
    assert_refused(
        customer_login(&server, &sso_only.email, CUSTOMER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    // A partner user's name and password are no customer's.
    assert_refused(
        customer_login(&server, "acme", USER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );

    let token = access_token(
        &customer_login(&server, &own.account_name, CUSTOMER_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    ok(server
        .customers(&master)
        .freeze_customers(freeze(&own.customer_id))
        .await);
    // Its live token stops working at once, and it cannot sign in again.
    assert_refused(
        read(&server, &token, &own.customer_id).await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );
    assert_refused(
        customer_login(&server, &own.account_name, CUSTOMER_PASSWORD).await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );
    ok(server
        .customers(&master)
        .unfreeze_customers(cu::UnfreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![own.customer_id.clone()],
            reason: "paid".into(),
            ..Default::default()
        })
        .await);
    ok(read(&server, &token, &own.customer_id).await);

    // Wrong passwords on a customer are counted in the partner's audit trail.
    let records = ok(server
        .audit(&master)
        .list_audit_records(pb::ListAuditRecordsRequest {
            method: "partner.iam.v1.AuthService/CustomerLogin".into(),
            ..Default::default()
        })
        .await)
    .audit_records;
    assert!(
        records
            .iter()
            .any(|r| r.actor_customer_id == own.customer_id && r.reason == "INVALID_CREDENTIALS"),
        "{records:?}"
    );
}

#[tokio::test]
async fn a_partner_user_acts_as_its_customer_and_both_identities_are_audited() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (globex, globex_master) = server.register_partner(&admin, "globex").await;
    let customer = server.create_customer(&master, &acme, "shop-1").await;
    let other = server.create_customer(&master, &acme, "shop-2").await;
    let foreign = server.create_customer(&globex_master, &globex, "g-1").await;
    let master_id = ok(server
        .users(&master)
        .list_users(pb::ListUsersRequest::default())
        .await)
    .users
    .into_iter()
    .find(|u| u.username == "acme")
    .unwrap_or_default()
    .user_id;

    let assume = |id: &str| iam::AssumeCustomerRequest {
        customer_id: id.into(),
        reason: "customer asked for help".into(),
    };
    // Another partner's customer does not exist for it.
    assert_refused(
        server
            .auth_as(&master)
            .assume_customer(assume(&foreign.customer_id))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // A sub-user without the permission (SALES has no customers.assume).
    let (_, sales) = server.user_with_role(&master, "sam", "SALES").await;
    assert_refused(
        server
            .auth_as(&sales)
            .assume_customer(assume(&customer.customer_id))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // The operator is no partner user.
    assert_refused(
        server
            .auth_as(&admin)
            .assume_customer(assume(&customer.customer_id))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    let assumed = ok(server
        .auth_as(&master)
        .assume_customer(assume(&customer.customer_id))
        .await);
    assert_eq!(assumed.customer_id, customer.customer_id);
    let token = assumed.access_token;
    // Reaches the customer's own account, and nothing of the partner's.
    ok(read(&server, &token, &customer.customer_id).await);
    assert_refused(
        read(&server, &token, &other.customer_id).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_refused(
        server
            .customers(&token)
            .list_customers(cu::ListCustomersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // The customer's own consent is not the partner's to give.
    assert_refused(
        server
            .customers(&token)
            .accept_association_invite(cu::AcceptAssociationInviteRequest {
                request_id: new_request_id(),
                token: "prt_ai_whatever".into(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // It acts as the customer: a real-name submission of its own.
    let submitted = ok(server
        .customers(&token)
        .submit_individual_verification(cu::SubmitIndividualVerificationRequest {
            request_id: new_request_id(),
            customer_id: customer.customer_id.clone(),
            individual: Some(cu::IndividualDetails {
                full_name: "Li Lei".into(),
                document_type: cu::IdentityDocumentType::IdCard as i32,
                document_number: "110101199003074512".into(),
            }),
            reseller_id: String::new(),
        })
        .await);
    assert!(submitted.review.is_some());

    // The partner's audit trail names the user and the customer on both
    // the assumption and the write made with it.
    let records = ok(server
        .audit(&master)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await)
    .audit_records;
    for method in [
        "partner.iam.v1.AuthService/AssumeCustomer",
        "partner.customers.v1.CustomerService/SubmitIndividualVerification",
    ] {
        let record = records
            .iter()
            .find(|r| r.method == method)
            .unwrap_or_else(|| panic!("no {method} in {records:?}"));
        assert_eq!(record.actor_user_id, master_id, "{record:?}");
        assert_eq!(record.actor_customer_id, customer.customer_id, "{record:?}");
        assert_eq!(record.partner_id, acme.partner_id, "{record:?}");
    }

    // No refresh token; logging out ends it.
    let second = ok(server
        .auth_as(&master)
        .assume_customer(assume(&customer.customer_id))
        .await)
    .access_token;
    ok(server.auth_as(&second).logout(iam::LogoutRequest {}).await);
    assert_refused(
        read(&server, &second, &customer.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    // The master's own session is untouched.
    ok(read(&server, &master, &customer.customer_id).await);

    // Freezing the customer stops the assumed token, and refuses new ones.
    ok(server
        .customers(&master)
        .freeze_customers(freeze(&customer.customer_id))
        .await);
    assert_refused(
        read(&server, &token, &customer.customer_id).await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );
    assert_refused(
        server
            .auth_as(&master)
            .assume_customer(assume(&customer.customer_id))
            .await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );

    // Once the customer leaves the partner, a token assumed before is refused.
    let before_leaving = ok(server
        .auth_as(&master)
        .assume_customer(assume(&other.customer_id))
        .await)
    .access_token;
    ok(server
        .customers(&master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: other.customer_id.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        read(&server, &before_leaving, &other.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
}

#[tokio::test]
async fn an_assumed_token_stops_when_the_user_loses_the_permission() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let customer = server.create_customer(&master, &acme, "shop-1").await;
    let role = ok(server
        .roles(&master)
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: "Support".into(),
                permission_ids: vec!["customers.assume".into()],
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_default();
    let (support, support_token) = server.user_with_role(&master, "sue", &role.role_id).await;
    let token = ok(server
        .auth_as(&support_token)
        .assume_customer(iam::AssumeCustomerRequest {
            customer_id: customer.customer_id.clone(),
            reason: String::new(),
        })
        .await)
    .access_token;
    ok(read(&server, &token, &customer.customer_id).await);
    ok(server
        .roles(&master)
        .unassign_role(pb::UnassignRoleRequest {
            request_id: new_request_id(),
            role_id: role.role_id.clone(),
            user_id: support.user_id.clone(),
        })
        .await);
    assert_refused(
        read(&server, &token, &customer.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
}

#[tokio::test]
async fn a_customer_session_ends_when_it_leaves_its_partner_or_changes_its_password() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let stays = server
        .customer_with_password(&master, &acme, "shop-1")
        .await;
    let leaves = server
        .customer_with_password(&master, &acme, "shop-2")
        .await;
    let login = |c: &cu::Customer| c.account_name.clone();

    // Leaving the partner ends the customer's sessions (a password its
    // partner set must not outlive the association).
    let token = access_token(
        &customer_login(&server, &login(&leaves), CUSTOMER_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    ok(server
        .customers(&master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: leaves.customer_id.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        read(&server, &token, &leaves.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    // Nor does the password: the partner set it, and let the customer go.
    assert_refused(
        customer_login(&server, &login(&leaves), CUSTOMER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );

    // Changing the password: the current one is required, older sessions
    // (this one too) end, the old password stops working.
    let signed_in = customer_login(&server, &login(&stays), CUSTOMER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let token = access_token(&signed_in);
    let change = |current: &str| cu::ChangeOwnPasswordRequest {
        request_id: new_request_id(),
        current_password: current.into(),
        new_password: "the-customers-own-1".into(),
    };
    assert_refused(
        server
            .customers(&token)
            .change_own_password(change("guess-1"))
            .await,
        Code::PermissionDenied,
        "INVALID_CREDENTIALS",
    );
    // Not the partner's to change, acting as the customer.
    let assumed = ok(server
        .auth_as(&master)
        .assume_customer(iam::AssumeCustomerRequest {
            customer_id: stays.customer_id.clone(),
            reason: String::new(),
        })
        .await)
    .access_token;
    assert_refused(
        server
            .customers(&assumed)
            .change_own_password(change(CUSTOMER_PASSWORD))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    ok(server
        .customers(&token)
        .change_own_password(change(CUSTOMER_PASSWORD))
        .await);
    assert_refused(
        read(&server, &token, &stays.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        server
            .auth()
            .refresh_token(iam::RefreshTokenRequest {
                refresh_token: signed_in.tokens.clone().unwrap_or_default().refresh_token,
            })
            .await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        customer_login(&server, &login(&stays), CUSTOMER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    let fresh = access_token(
        &customer_login(&server, &login(&stays), "the-customers-own-1")
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    ok(read(&server, &fresh, &stays.customer_id).await);
}

#[tokio::test]
async fn an_assumed_token_ends_with_the_session_it_was_opened_from() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, _) = server.register_partner(&admin, "acme").await;
    // A session of its own, so that logging it out leaves the others alone.
    let master = server.login("acme", USER_PASSWORD).await;
    let customer = server.create_customer(&master, &acme, "shop-1").await;
    let token = ok(server
        .auth_as(&master)
        .assume_customer(iam::AssumeCustomerRequest {
            customer_id: customer.customer_id.clone(),
            reason: String::new(),
        })
        .await)
    .access_token;
    ok(read(&server, &token, &customer.customer_id).await);
    ok(server.auth_as(&master).logout(iam::LogoutRequest {}).await);
    assert_refused(
        read(&server, &token, &customer.customer_id).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
}

#[tokio::test]
async fn wrong_passwords_on_any_of_a_customers_names_count_together() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let c = server
        .customer_with_password(&master, &acme, "shop-1")
        .await;
    for n in 0..5 {
        let login = if n % 2 == 0 {
            &c.account_name
        } else {
            &c.email
        };
        assert_refused(
            customer_login(&server, login, "not-the-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    // Five failures (three by one name, two by the other) lock the customer,
    // whichever name comes next.
    assert_refused(
        customer_login(&server, &c.account_name, CUSTOMER_PASSWORD).await,
        Code::ResourceExhausted,
        "TOO_MANY_FAILED_ATTEMPTS",
    );
}

#[tokio::test]
async fn a_session_cannot_guess_the_current_password_beyond_the_sign_in_throttle() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let c = server
        .customer_with_password(&master, &acme, "shop-1")
        .await;
    let token = access_token(
        &customer_login(&server, &c.account_name, CUSTOMER_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    let change = |current: &str| cu::ChangeOwnPasswordRequest {
        request_id: new_request_id(),
        current_password: current.into(),
        new_password: "the-customers-own-1".into(),
    };
    // Two wrong sign-ins and three wrong current passwords: one count.
    for _ in 0..2 {
        assert_refused(
            customer_login(&server, &c.account_name, "not-the-password").await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    for n in 0..3 {
        assert_refused(
            server
                .customers(&token)
                .change_own_password(change(&format!("guess-{n}")))
                .await,
            Code::PermissionDenied,
            "INVALID_CREDENTIALS",
        );
    }
    // Locked: the right password is not even checked, through either door.
    assert_refused(
        server
            .customers(&token)
            .change_own_password(change(CUSTOMER_PASSWORD))
            .await,
        Code::ResourceExhausted,
        "TOO_MANY_FAILED_ATTEMPTS",
    );
    assert_refused(
        customer_login(&server, &c.account_name, CUSTOMER_PASSWORD).await,
        Code::ResourceExhausted,
        "TOO_MANY_FAILED_ATTEMPTS",
    );
    // The session still reads, and the password is unchanged.
    ok(read(&server, &token, &c.customer_id).await);
}
