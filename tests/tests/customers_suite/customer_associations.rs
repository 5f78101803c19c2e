//! Association by invitation through the real server: a partner makes an
//! invitation (token, link, QR payload); a customer signed in itself accepts
//! it, with each of the five refusals; a newcomer signs up with an invitation
//! made for its sales-platform account; single-use invitations are used once
//! under concurrency; revoked and expired ones are refused.

use std::sync::Arc;

use chrono::Utc;
use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_kernel::clock::TestClock;
use partner_tests::*;
use tonic::Code;

fn invite_request(max_uses: i32) -> cu::CreateAssociationInviteRequest {
    cu::CreateAssociationInviteRequest {
        request_id: new_request_id(),
        max_uses,
        ..Default::default()
    }
}

async fn invite(server: &TestServer, master: &str, max_uses: i32) -> String {
    ok(server
        .customers(master)
        .create_association_invite(invite_request(max_uses))
        .await)
    .token
}

async fn accept(
    server: &TestServer,
    customer_token: &str,
    invite_token: &str,
) -> Result<cu::AcceptAssociationInviteResponse, tonic::Status> {
    server
        .customers(customer_token)
        .accept_association_invite(cu::AcceptAssociationInviteRequest {
            request_id: new_request_id(),
            token: invite_token.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_customer_accepts_an_invitation_and_joins_the_partner() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (globex, globex_master) = server.register_partner(&admin, "globex").await;
    let (customer, token) = server.free_customer(&acme_master, &acme, "shop-1").await;

    let request = invite_request(5);
    let made = ok(server
        .customers(&globex_master)
        .create_association_invite(request.clone())
        .await);
    let invite = made.invite.clone().unwrap_or_default();
    assert!(made.token.starts_with("prt_ai_"), "{made:?}");
    assert_eq!(
        made.link,
        format!("https://console.test/associate?token={}", made.token)
    );
    assert_eq!(made.qr_payload, made.link);
    assert_eq!((invite.max_uses, invite.uses), (5, 0));
    assert_eq!(
        invite.association_type,
        cu::AssociationType::Reseller as i32
    );
    // A replay answers the invitation without its secret.
    let replay = ok(server
        .customers(&globex_master)
        .create_association_invite(request)
        .await);
    assert_eq!(replay.invite, made.invite);
    assert!(replay.token.is_empty() && replay.link.is_empty());

    let accepted = accept(&server, &token, &made.token)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(accepted.customer_id, customer);
    assert_eq!(accepted.partner_id, globex.partner_id);
    // The new partner has it; the old one does not.
    let read = ok(server
        .customers(&globex_master)
        .get_customer(cu::GetCustomerRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await)
    .customer
    .unwrap_or_default();
    assert_eq!(read.partner_id, globex.partner_id);
    assert_refused(
        server
            .customers(&acme_master)
            .get_customer(cu::GetCustomerRequest {
                customer_id: customer.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // The partner hears of it; the customer's acceptance is in its audit trail.
    let mut seen = false;
    for _ in 0..200 {
        let events = ok(server
            .events(&globex_master)
            .list_events(ev::ListEventsRequest {
                event_types: vec!["customer.associated".into()],
                ..Default::default()
            })
            .await)
        .events;
        if let Some(e) = events.first() {
            assert_eq!(e.resource_id, customer);
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "customer.associated was announced");
    let records = ok(server
        .audit(&globex_master)
        .list_audit_records(pb::ListAuditRecordsRequest {
            method: "partner.customers.v1.CustomerService/AcceptAssociationInvite".into(),
            ..Default::default()
        })
        .await)
    .audit_records;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].actor_customer_id, customer);
    assert!(records[0].actor_user_id.is_empty());

    // Joining a partner ends the sessions opened without it: sign in again.
    assert_refused(
        accept(&server, &token, &made.token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    let email = format!("shop-1.{}@customers.example", &acme.partner_id[26..]);
    let token = server.customer_token_with(&email, OWN_PASSWORD).await;
    // Now associated: the invitation (and any other) is refused.
    assert_refused(
        accept(&server, &token, &made.token).await,
        Code::FailedPrecondition,
        "ALREADY_ASSOCIATED",
    );
}

#[tokio::test]
async fn each_fact_refuses_the_association_with_its_own_reason() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let token = invite(&server, &globex_master, 100).await;
    let facts = [
        (
            cu::CustomerFacts {
                registered_on_other_site: true,
                ..Default::default()
            },
            "REGISTERED_ON_OTHER_SITE",
        ),
        (
            cu::CustomerFacts {
                is_partner: true,
                ..Default::default()
            },
            "CUSTOMER_IS_PARTNER",
        ),
        (
            cu::CustomerFacts {
                reported: true,
                ..Default::default()
            },
            "CUSTOMER_REPORTED",
        ),
        (
            cu::CustomerFacts {
                in_subsidy_program: true,
                ..Default::default()
            },
            "IN_SUBSIDY_PROGRAM",
        ),
    ];
    for (i, (fact, reason)) in facts.into_iter().enumerate() {
        let (customer, customer_token) = server
            .free_customer(&acme_master, &acme, &format!("shop-{i}"))
            .await;
        // Only the operator sets facts.
        let set = cu::SetCustomerFactsRequest {
            request_id: new_request_id(),
            customer_id: customer.clone(),
            facts: Some(fact),
        };
        assert_refused(
            server
                .customers(&acme_master)
                .set_customer_facts(set.clone())
                .await,
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        );
        ok(server.customers(&admin).set_customer_facts(set).await);
        assert_refused(
            accept(&server, &customer_token, &token).await,
            Code::FailedPrecondition,
            reason,
        );
        // Cleared, it is admitted.
        ok(server
            .customers(&admin)
            .set_customer_facts(cu::SetCustomerFactsRequest {
                request_id: new_request_id(),
                customer_id: customer.clone(),
                facts: Some(cu::CustomerFacts::default()),
            })
            .await);
        accept(&server, &customer_token, &token)
            .await
            .unwrap_or_else(|e| panic!("{reason} cleared: {e:?}"));
    }
    assert_refused(
        server
            .customers(&admin)
            .set_customer_facts(cu::SetCustomerFactsRequest {
                request_id: new_request_id(),
                customer_id: "cus_0190a0b0c0d07e0f8000000000000000".into(),
                facts: Some(cu::CustomerFacts::default()),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
}

#[tokio::test]
async fn a_single_use_invitation_is_used_once_under_concurrency() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let token = invite(&server, &globex_master, 1).await;
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(
            server
                .free_customer(&acme_master, &acme, &format!("c-{i}"))
                .await,
        );
    }
    let attempts = customers
        .iter()
        .map(|(_, customer_token)| accept(&server, customer_token, &token));
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in results.into_iter().filter(Result::is_err) {
        assert_refused(r, Code::NotFound, "INVITE_NOT_FOUND");
    }
}

#[tokio::test]
async fn revoked_expired_and_unknown_invitations_are_refused() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let (_, shop_token) = server.free_customer(&acme_master, &acme, "shop-1").await;

    let made = ok(server
        .customers(&globex_master)
        .create_association_invite(invite_request(10))
        .await);
    let id = made.invite.unwrap_or_default().invite_id;
    // Another partner cannot revoke it.
    assert_refused(
        server
            .customers(&acme_master)
            .revoke_association_invite(cu::RevokeAssociationInviteRequest {
                request_id: new_request_id(),
                invite_id: id.clone(),
            })
            .await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
    let revoke = || cu::RevokeAssociationInviteRequest {
        request_id: new_request_id(),
        invite_id: id.clone(),
    };
    let revoked = ok(server
        .customers(&globex_master)
        .revoke_association_invite(revoke())
        .await)
    .invite
    .unwrap_or_default();
    assert!(revoked.revoke_time.is_some());
    // Revoked once: a second revocation keeps the first time, answered and stored.
    let stored_revocation = || async {
        use sea_orm::ConnectionTrait;
        let conn = server.db.connect().await;
        let row = conn
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                conn.get_database_backend(),
                match conn.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        "SELECT revoked_at FROM association_invites WHERE id = $1"
                    }
                    _ => "SELECT revoked_at FROM association_invites WHERE id = ?",
                },
                [id.clone().into()],
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no invite"));
        row.try_get::<Option<chrono::DateTime<Utc>>>("", "revoked_at")
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let first = stored_revocation().await;
    assert!(first.is_some());
    clock.advance(chrono::Duration::minutes(1));
    let again = ok(server
        .customers(&globex_master)
        .revoke_association_invite(revoke())
        .await)
    .invite
    .unwrap_or_default();
    assert_eq!(again.revoke_time, revoked.revoke_time);
    assert_eq!(stored_revocation().await, first);
    assert_refused(
        accept(&server, &shop_token, &made.token).await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
    assert_refused(
        accept(&server, &shop_token, "prt_ai_nothing-like-it").await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );

    let hour = ok(server
        .customers(&globex_master)
        .create_association_invite(cu::CreateAssociationInviteRequest {
            valid_hours: 1,
            ..invite_request(1)
        })
        .await)
    .token;
    server.free_customer(&acme_master, &acme, "shop-2").await;
    clock.advance(chrono::Duration::minutes(61));
    // Every token issued an hour ago is spent; the customer signs in again
    // (by the email `create_customer_request` gave it).
    let email = format!("shop-2.{}@customers.example", &acme.partner_id[26..]);
    let fresh = server.customer_token_with(&email, OWN_PASSWORD).await;
    assert_refused(
        accept(&server, &fresh, &hour).await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
}

#[tokio::test]
async fn concurrent_refused_sign_ups_cannot_pass_the_cap_together() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let taken = server.create_customer(&master, &acme, "crm-taken").await;
    let token = ok(server
        .customers(&master)
        .create_association_invite(cu::CreateAssociationInviteRequest {
            xaccount_type: acme.sales_platform_ids[0].clone(),
            xaccount_id: "crm-1".into(),
            ..invite_request(1)
        })
        .await)
    .token;
    let attempts = (0..30).map(|_| {
        let mut public =
            partner_api::customers::v1::customer_service_client::CustomerServiceClient::new(
                server.channel.clone(),
            );
        let request = cu::SignUpWithAssociationInviteRequest {
            request_id: new_request_id(),
            token: token.clone(),
            email: taken.email.clone(),
            password: CUSTOMER_PASSWORD.into(),
            country: "CN".into(),
            ..Default::default()
        };
        async move { public.sign_up_with_association_invite(request).await }
    });
    let results = futures::future::join_all(attempts).await;
    let told = results
        .iter()
        .filter(|r| matches!(r, Err(s) if reason_of(s) == "EMAIL_TAKEN"))
        .count();
    let spent = results
        .iter()
        .filter(|r| matches!(r, Err(s) if reason_of(s) == "INVITE_NOT_FOUND"))
        .count();
    assert_eq!((told, spent), (10, 20), "{results:?}");
}

#[tokio::test]
async fn a_newcomer_signs_up_with_an_invitation_for_its_account() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (globex, _) = server.register_partner(&admin, "globex").await;
    let platform = acme.sales_platform_ids[0].clone();
    let for_account = |platform: &str, account: &str| cu::CreateAssociationInviteRequest {
        xaccount_type: platform.into(),
        xaccount_id: account.into(),
        ..invite_request(1)
    };
    // Only the partner's own platforms, single-use, an account not taken.
    assert_refused(
        server
            .customers(&master)
            .create_association_invite(for_account(&globex.sales_platform_ids[0], "crm-1"))
            .await,
        Code::NotFound,
        "SALES_PLATFORM_NOT_FOUND",
    );
    let status = assert_refused(
        server
            .customers(&master)
            .create_association_invite(cu::CreateAssociationInviteRequest {
                max_uses: 3,
                ..for_account(&platform, "crm-1")
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["max_uses"]);
    server.create_customer(&master, &acme, "crm-taken").await;
    assert_refused(
        server
            .customers(&master)
            .create_association_invite(for_account(&platform, "crm-taken"))
            .await,
        Code::AlreadyExists,
        "XACCOUNT_TAKEN",
    );

    let token = ok(server
        .customers(&master)
        .create_association_invite(for_account(&platform, "crm-1"))
        .await)
    .token;
    let sign_up = cu::SignUpWithAssociationInviteRequest {
        request_id: new_request_id(),
        token: token.clone(),
        account_name: "new_shop".into(),
        email: "owner@new-shop.example".into(),
        password: CUSTOMER_PASSWORD.into(),
        country: "CN".into(),
        ..Default::default()
    };
    let public = || {
        partner_api::customers::v1::customer_service_client::CustomerServiceClient::new(
            server.channel.clone(),
        )
    };
    let signed_up = ok(public()
        .sign_up_with_association_invite(sign_up.clone())
        .await);
    assert_eq!(signed_up.account_name, "new_shop");
    assert_eq!(signed_up.partner_id, acme.partner_id);
    // The replay answers the same; another request finds the invitation used.
    assert_eq!(
        ok(public()
            .sign_up_with_association_invite(sign_up.clone())
            .await),
        signed_up
    );
    assert_refused(
        public()
            .sign_up_with_association_invite(cu::SignUpWithAssociationInviteRequest {
                request_id: new_request_id(),
                account_name: "other_shop".into(),
                email: "other@new-shop.example".into(),
                ..sign_up.clone()
            })
            .await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
    // Mapped to the account, associated with the partner, and it signs in.
    let customer = ok(server
        .customers(&master)
        .get_customer(cu::GetCustomerRequest {
            customer_id: signed_up.customer_id.clone(),
            ..Default::default()
        })
        .await)
    .customer
    .unwrap_or_default();
    assert_eq!(
        (
            customer.xaccount_type.as_str(),
            customer.xaccount_id.as_str()
        ),
        (platform.as_str(), "crm-1")
    );
    assert!(customer.has_password);
    let own = server.customer_token("owner@new-shop.example").await;
    ok(server
        .customers(&own)
        .get_customer(cu::GetCustomerRequest {
            customer_id: signed_up.customer_id.clone(),
            ..Default::default()
        })
        .await);

    // An invitation for no account cannot sign anyone up.
    let open = invite(&server, &master, 1).await;
    assert_refused(
        public()
            .sign_up_with_association_invite(cu::SignUpWithAssociationInviteRequest {
                request_id: new_request_id(),
                token: open,
                account_name: "third_shop".into(),
                email: "third@new-shop.example".into(),
                ..sign_up.clone()
            })
            .await,
        Code::FailedPrecondition,
        "INVITE_NOT_FOR_SIGN_UP",
    );
    // An invitation for one account admits no other existing customer.
    let for_crm2 = ok(server
        .customers(&master)
        .create_association_invite(for_account(&platform, "crm-2"))
        .await)
    .token;
    let (_, stranger) = server.free_customer(&master, &acme, "crm-3").await;
    assert_refused(
        accept(&server, &stranger, &for_crm2).await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
}

#[tokio::test]
async fn a_suspended_partners_invitations_are_dead() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (globex, globex_master) = server.register_partner(&admin, "globex").await;
    let (_, customer_token) = server.free_customer(&acme_master, &acme, "shop-1").await;
    let token = invite(&server, &globex_master, 10).await;
    ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: globex.partner_id.clone(),
            reason: "unpaid".into(),
        })
        .await);
    assert_refused(
        accept(&server, &customer_token, &token).await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
}

#[tokio::test]
async fn refused_sign_ups_spend_the_invitation_after_ten() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let taken = server.create_customer(&master, &acme, "crm-taken").await;
    let token = ok(server
        .customers(&master)
        .create_association_invite(cu::CreateAssociationInviteRequest {
            xaccount_type: acme.sales_platform_ids[0].clone(),
            xaccount_id: "crm-1".into(),
            ..invite_request(1)
        })
        .await)
    .token;
    let mut public =
        partner_api::customers::v1::customer_service_client::CustomerServiceClient::new(
            server.channel.clone(),
        );
    let sign_up = |email: &str| cu::SignUpWithAssociationInviteRequest {
        request_id: new_request_id(),
        token: token.clone(),
        email: email.into(),
        password: CUSTOMER_PASSWORD.into(),
        country: "CN".into(),
        ..Default::default()
    };
    // Each refusal says whether an email is taken: ten are allowed.
    for _ in 0..10 {
        assert_refused(
            public
                .sign_up_with_association_invite(sign_up(&taken.email))
                .await,
            Code::AlreadyExists,
            "EMAIL_TAKEN",
        );
    }
    assert_refused(
        public
            .sign_up_with_association_invite(sign_up("free@new-shop.example"))
            .await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
}
