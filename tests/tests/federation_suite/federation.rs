//! SAML federation through the real server: a partner registers its IdP, and
//! responses its IdP signed (fixtures signed by Python signxml, see
//! `crates/federation/fixtures/saml/make_fixtures.py`) sign its customers in.
//! Every refused response creates no session, customer or mapping.

use std::sync::Arc;

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::iam::v1 as iam;
use partner_kernel::clock::TestClock;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

async fn exchange(
    server: &TestServer,
    fixture: &str,
) -> Result<iam::ExchangeSamlResponseResponse, tonic::Status> {
    server
        .federation("")
        .exchange_saml_response(iam::ExchangeSamlResponseRequest {
            saml_response: saml_response(fixture),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A server at the fixtures' time, a partner (master token) with a customer
/// mapped to the fixtures' xaccount id, and the fixture IdP registered.
async fn federated() -> (
    TestServer,
    pb::Partner,
    String,
    cu::Customer,
    iam::IdentityProvider,
) {
    let server = TestServer::start_with_clock(Arc::new(TestClock::new(saml_fixture_time()))).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let customer = server.create_customer(&master, &partner, "crm-10001").await;
    let idp = server.register_fixture_idp(&master, &partner).await;
    (server, partner, master, customer, idp)
}

#[tokio::test]
async fn an_idp_signed_response_signs_the_mapped_customer_in_once() {
    let (server, _, _, customer, idp) = federated().await;
    let signed_in = exchange(&server, "assertion_signed")
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"));
    assert_eq!(signed_in.customer_id, customer.customer_id);
    assert_eq!(signed_in.identity_provider_id, idp.id);
    let token = signed_in.tokens.unwrap_or_default().access_token;
    let own = ok(server
        .customers(&token)
        .get_customer(cu::GetCustomerRequest {
            customer_id: customer.customer_id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(
        own.customer.map(|c| c.customer_id),
        Some(customer.customer_id)
    );
    // The same response again is a replay, whichever copy presents it.
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_REPLAYED",
    );
    assert_refused(
        exchange(&server, "both_signed").await,
        Code::Unauthenticated,
        "SAML_REPLAYED",
    );
    assert_eq!(
        server.rows("auth_sessions").await,
        3,
        "admin, master, customer"
    );
}

#[tokio::test]
async fn every_refused_response_creates_nothing() {
    let (server, _, _, _, _) = federated().await;
    let sessions = server.rows("auth_sessions").await;
    let cases: &[(&str, Code, &str)] = &[
        ("unsigned", Code::Unauthenticated, "SAML_UNSIGNED"),
        ("other_key", Code::Unauthenticated, "SAML_SIGNATURE_INVALID"),
        ("sha1", Code::Unauthenticated, "SAML_ALGORITHM_NOT_ALLOWED"),
        (
            "response_signed",
            Code::Unauthenticated,
            "SAML_ASSERTION_NOT_SIGNED",
        ),
        (
            "comment_in_xaccount",
            Code::Unauthenticated,
            "SAML_MARKUP_IN_IDENTITY",
        ),
        (
            "comment_in_nameid",
            Code::Unauthenticated,
            "SAML_MARKUP_IN_IDENTITY",
        ),
        ("doctype", Code::InvalidArgument, "SAML_DOCTYPE"),
        (
            "extra_assertion",
            Code::Unauthenticated,
            "SAML_ASSERTION_COUNT",
        ),
        ("duplicate_ids", Code::Unauthenticated, "SAML_DUPLICATE_IDS"),
        ("xsw1", Code::Unauthenticated, "SAML_DUPLICATE_IDS"),
        ("xsw2", Code::Unauthenticated, "SAML_DUPLICATE_IDS"),
        ("xsw3", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        ("xsw4", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        ("xsw5", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        ("xsw6", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        ("xsw7", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        ("xsw8", Code::Unauthenticated, "SAML_ASSERTION_COUNT"),
        (
            "wrong_audience",
            Code::Unauthenticated,
            "SAML_AUDIENCE_MISMATCH",
        ),
        (
            "wrong_recipient",
            Code::Unauthenticated,
            "SAML_RECIPIENT_MISMATCH",
        ),
        (
            "wrong_destination",
            Code::Unauthenticated,
            "SAML_DESTINATION_MISMATCH",
        ),
        // The Issuer picks the IdP: an unregistered one has no keys here.
        ("wrong_issuer", Code::Unauthenticated, "SAML_UNKNOWN_ISSUER"),
        (
            "status_failure",
            Code::Unauthenticated,
            "SAML_STATUS_NOT_SUCCESS",
        ),
        (
            "missing_nameid",
            Code::Unauthenticated,
            "SAML_MISSING_NAMEID",
        ),
        (
            "no_subject_confirmation",
            Code::Unauthenticated,
            "SAML_RECIPIENT_MISMATCH",
        ),
        // No AuthnRequest was made, so none can be answered.
        (
            "unknown_in_response_to",
            Code::Unauthenticated,
            "SAML_UNKNOWN_IN_RESPONSE_TO",
        ),
    ];
    for (fixture, code, reason) in cases {
        let status = assert_refused(exchange(&server, fixture).await, *code, reason);
        assert!(!status.message().is_empty(), "{fixture}");
    }
    // Not base64, truncated XML, a deflate bomb: INVALID_ARGUMENT, never a panic.
    let federation = server.federation("");
    for (raw, reason) in [
        ("not base64 at all!".to_owned(), "SAML_BAD_ENCODING"),
        (
            {
                use base64::Engine;
                let xml = saml_fixture("assertion_signed.xml");
                base64::engine::general_purpose::STANDARD.encode(&xml[..xml.len() / 2])
            },
            "SAML_MALFORMED",
        ),
        ("A".repeat(600 * 1024), "SAML_TOO_LARGE"),
    ] {
        assert_refused(
            federation
                .clone()
                .exchange_saml_response(iam::ExchangeSamlResponseRequest { saml_response: raw })
                .await,
            Code::InvalidArgument,
            reason,
        );
    }
    assert_eq!(server.rows("auth_sessions").await, sessions);
    assert_eq!(server.rows("customers").await, 1);
    // A refused response is not spent: the good one still signs in.
    assert!(exchange(&server, "assertion_signed").await.is_ok());
}

#[tokio::test]
async fn times_are_the_platform_clocks() {
    let clock = Arc::new(TestClock::new(saml_fixture_time()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    server.create_customer(&master, &partner, "crm-10001").await;
    server.register_fixture_idp(&master, &partner).await;
    clock.set(saml_fixture_time() + chrono::Duration::minutes(7));
    let master_again = server.login("acme", USER_PASSWORD).await;
    assert!(!master_again.is_empty());
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_EXPIRED",
    );
    clock.set(saml_fixture_time() - chrono::Duration::minutes(3));
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_NOT_YET_VALID",
    );
}

#[tokio::test]
async fn an_unmapped_or_foreign_xaccount_is_refused() {
    let server = TestServer::start_with_clock(Arc::new(TestClock::new(saml_fixture_time()))).await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (other, other_master) = server.register_partner(&admin, "other").await;
    // The other partner's customer has the same xaccount id on its own platform.
    server
        .create_customer(&other_master, &other, "crm-10001")
        .await;
    server.register_fixture_idp(&acme_master, &acme).await;
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::FailedPrecondition,
        "XACCOUNT_NOT_MAPPED",
    );
    assert_eq!(server.rows("customers").await, 1);
    assert_eq!(
        server.rows("auth_sessions").await,
        3,
        "admin and two masters"
    );
}

#[tokio::test]
async fn a_disassociated_customer_is_not_signed_in() {
    let (server, _, master, customer, _) = federated().await;
    ok(server
        .customers(&master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: customer.customer_id.clone(),
            reason: "moved".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::FailedPrecondition,
        "CUSTOMER_NOT_ASSOCIATED",
    );
}

#[tokio::test]
async fn registration_is_checked_and_scoped_to_the_partner() {
    let server = TestServer::start_with_clock(Arc::new(TestClock::new(saml_fixture_time()))).await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (other, other_master) = server.register_partner(&admin, "other").await;
    let federation = server.federation(&master);
    // Another partner's sales platform.
    assert_refused(
        federation
            .clone()
            .register_identity_provider(register_idp_request(&other, "idp_metadata.xml"))
            .await,
        Code::NotFound,
        "SALES_PLATFORM_NOT_FOUND",
    );
    // Metadata that is not metadata, or declares a DOCTYPE.
    for bad in [
        "<x/>",
        "<!DOCTYPE x [<!ENTITY e \"e\">]><x>&e;</x>",
        "not xml",
    ] {
        let status = assert_refused(
            federation
                .clone()
                .register_identity_provider(iam::RegisterIdentityProviderRequest {
                    metadata_xml: bad.into(),
                    ..register_idp_request(&acme, "idp_metadata.xml")
                })
                .await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
        assert_eq!(violated_fields(&status), vec!["metadata_xml"]);
    }
    let idp = server.register_fixture_idp(&master, &acme).await;
    assert_eq!(idp.entity_id, "https://sales.example-partner.com/idp");
    assert_eq!(idp.xaccount_attribute, "xaccount_id");
    assert_eq!(idp.certificates.len(), 1);
    assert!(idp.require_signed_assertions);
    // An entity id is registered once on the platform.
    assert_refused(
        server
            .federation(&other_master)
            .register_identity_provider(register_idp_request(&other, "idp_metadata.xml"))
            .await,
        Code::AlreadyExists,
        "IDP_ALREADY_REGISTERED",
    );
    // The other partner sees none of it.
    assert_refused(
        server
            .federation(&other_master)
            .get_identity_provider(iam::GetIdentityProviderRequest { id: idp.id.clone() })
            .await,
        Code::NotFound,
        "IDP_NOT_FOUND",
    );
    let listed = ok(server
        .federation(&other_master)
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await);
    assert!(listed.identity_providers.is_empty());
    let listed = ok(federation
        .clone()
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await);
    assert_eq!(listed.identity_providers, vec![idp.clone()]);
    // Deleted, its responses are refused: nobody vouches for the issuer now.
    ok(federation
        .clone()
        .delete_identity_provider(iam::DeleteIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id.clone(),
        })
        .await);
    server.create_customer(&master, &acme, "crm-10001").await;
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_UNKNOWN_ISSUER",
    );
}

#[tokio::test]
async fn certificate_rollover_accepts_both_keys_during_the_overlap_only() {
    let (server, _, master, _, idp) = federated().await;
    assert_refused(
        exchange(&server, "next_key").await,
        Code::Unauthenticated,
        "SAML_SIGNATURE_INVALID",
    );
    let update = |metadata: &str, overlap: i64| iam::UpdateIdentityProviderRequest {
        request_id: new_request_id(),
        id: idp.id.clone(),
        update_mask: Some(FieldMask {
            paths: vec!["metadata_xml".into()],
        }),
        metadata_xml: saml_fixture(metadata),
        rollover_overlap_seconds: overlap,
        ..Default::default()
    };
    let rolled = ok(server
        .federation(&master)
        .update_identity_provider(update("idp_metadata_next.xml", 3600))
        .await)
    .identity_provider
    .unwrap_or_default();
    assert_eq!(rolled.certificates.len(), 2);
    assert!(rolled.certificates[0].retire_time.is_none());
    assert!(rolled.certificates[1].retire_time.is_some());
    assert!(exchange(&server, "next_key").await.is_ok());
    assert!(exchange(&server, "assertion_signed").await.is_ok());
    // The overlap cut short: the old key stops at once.
    let done = ok(server
        .federation(&master)
        .update_identity_provider(update("idp_metadata_next.xml", 0))
        .await)
    .identity_provider
    .unwrap_or_default();
    assert_eq!(done.certificates.len(), 1);
    assert_refused(
        exchange(&server, "old_key_again").await,
        Code::Unauthenticated,
        "SAML_SIGNATURE_INVALID",
    );
    // Another entity id is another IdP.
    let mut other = update("idp_metadata.xml", 0);
    other.metadata_xml = other.metadata_xml.replace(
        "https://sales.example-partner.com/idp\"",
        "https://elsewhere.example/idp\"",
    );
    assert_refused(
        server
            .federation(&master)
            .update_identity_provider(other)
            .await,
        Code::InvalidArgument,
        "ENTITY_ID_CHANGED",
    );
}

#[tokio::test]
async fn one_response_presented_twice_at_once_signs_in_once() {
    let (server, _, _, _, _) = federated().await;
    let (a, b) = tokio::join!(
        exchange(&server, "assertion_signed"),
        exchange(&server, "assertion_signed")
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("exactly one must sign in: {other:?}"),
    };
    assert!(!won.customer_id.is_empty());
    assert_refused(Err::<(), _>(lost), Code::Unauthenticated, "SAML_REPLAYED");
}

#[tokio::test]
async fn a_used_assertion_stays_used_when_its_idp_is_registered_again() {
    let (server, partner, master, _, idp) = federated().await;
    assert!(exchange(&server, "assertion_signed").await.is_ok());
    ok(server
        .federation(&master)
        .delete_identity_provider(iam::DeleteIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id,
        })
        .await);
    server.register_fixture_idp(&master, &partner).await;
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_REPLAYED",
    );
}

#[tokio::test]
async fn replaced_certificates_stop_when_the_overlap_ends() {
    let clock = Arc::new(TestClock::new(saml_fixture_time()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    server.create_customer(&master, &partner, "crm-10001").await;
    let idp = server.register_fixture_idp(&master, &partner).await;
    ok(server
        .federation(&master)
        .update_identity_provider(iam::UpdateIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id.clone(),
            update_mask: Some(FieldMask {
                paths: vec!["metadata_xml".into()],
            }),
            metadata_xml: saml_fixture("idp_metadata_next.xml"),
            rollover_overlap_seconds: 60,
            ..Default::default()
        })
        .await);
    // Still inside the responses' five minutes, past the overlap's one.
    clock.set(saml_fixture_time() + chrono::Duration::seconds(61));
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::Unauthenticated,
        "SAML_SIGNATURE_INVALID",
    );
    assert!(exchange(&server, "next_key").await.is_ok());
    let listed = ok(server
        .federation(&master)
        .get_identity_provider(iam::GetIdentityProviderRequest { id: idp.id })
        .await)
    .identity_provider
    .unwrap_or_default();
    assert_eq!(listed.certificates.len(), 1, "the retired one is not shown");
    // An overlap without new metadata is a mistake, not silently ignored.
    let status = assert_refused(
        server
            .federation(&master)
            .update_identity_provider(iam::UpdateIdentityProviderRequest {
                request_id: new_request_id(),
                id: listed.id,
                update_mask: Some(FieldMask {
                    paths: vec!["allow_unsigned_assertions".into()],
                }),
                rollover_overlap_seconds: 60,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), vec!["rollover_overlap_seconds"]);
}

#[tokio::test]
async fn a_frozen_customer_is_not_signed_in() {
    let (server, _, master, customer, _) = federated().await;
    ok(server
        .customers(&master)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![customer.customer_id],
            mode: cu::FreezeMode::Account as i32,
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        exchange(&server, "assertion_signed").await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );
}

#[tokio::test]
async fn a_federated_sign_in_does_not_reset_the_password_throttle() {
    let server = TestServer::start_with_clock(Arc::new(TestClock::new(saml_fixture_time()))).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let customer = server
        .customer_with_password(&master, &partner, "crm-10001")
        .await;
    server.register_fixture_idp(&master, &partner).await;
    let login = |password: &str| iam::CustomerLoginRequest {
        login: customer.account_name.clone(),
        password: password.into(),
    };
    for _ in 0..4 {
        assert_refused(
            server.auth().customer_login(login("a-guess-0000")).await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
    }
    assert!(exchange(&server, "assertion_signed").await.is_ok());
    // The fifth wrong guess is still the fifth: the customer is locked.
    assert_refused(
        server.auth().customer_login(login("a-guess-0000")).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    assert_refused(
        server.auth().customer_login(login(CUSTOMER_PASSWORD)).await,
        Code::ResourceExhausted,
        "TOO_MANY_FAILED_ATTEMPTS",
    );
}

#[tokio::test]
async fn concurrent_registrations_register_one_idp() {
    let server = TestServer::start_with_clock(Arc::new(TestClock::new(saml_fixture_time()))).await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (globex, globex_master) = server.register_partner(&admin, "globex").await;
    // Many requests for one sales platform, and another partner racing for the entity id.
    let mut requests: Vec<_> = (0..8)
        .map(|_| {
            (
                master.clone(),
                register_idp_request(&acme, "idp_metadata.xml"),
            )
        })
        .collect();
    requests.push((
        globex_master.clone(),
        register_idp_request(&globex, "idp_metadata.xml"),
    ));
    let calls = requests.into_iter().map(|(token, request)| {
        let mut federation = server.federation(&token);
        async move { federation.register_identity_provider(request).await }
    });
    let mut registered = 0;
    for result in futures::future::join_all(calls).await {
        match result {
            Ok(_) => registered += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
            }
        }
    }
    assert_eq!(registered, 1);
    assert_eq!(server.rows("federation_identity_providers").await, 1);
}
