//! SAML sign-in as a browser does it, through the real server: our metadata,
//! an SP-initiated sign-in with a real HTTP client following redirects to a
//! local IdP and posting its form to the ACS, IdP-initiated posts, and the
//! one-time login codes the ACS hands out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::customers::v1 as cu;
use partner_api::iam::v1 as iam;
use partner_kernel::clock::Clock;
use partner_tests::saml_idp::{ResponseSpec, read_form, read_redirect, signed_response_base64};
use partner_tests::saml_world::{
    XACCOUNT, assert_refused_page, browser, location, login_code, post_form, world,
};
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

#[tokio::test]
async fn our_metadata_is_served_and_names_one_stable_key() {
    let server = TestServer::start().await;
    let mut fed = server.federation("");
    // Two replicas' worth of first requests at once make one key.
    let (a, b) = tokio::join!(
        browser(false)
            .get(format!("http://{}/saml/metadata", server.addr))
            .send(),
        fed.get_service_provider_metadata(iam::GetServiceProviderMetadataRequest {}),
    );
    let a = a.unwrap();
    assert_eq!(a.status(), 200);
    assert_eq!(
        a.headers()["content-type"].to_str().unwrap(),
        "application/samlmetadata+xml"
    );
    let xml = a.text().await.unwrap();
    let b = ok(b);
    assert_eq!(xml, b.metadata_xml);
    assert_eq!(b.entity_id, "http://localhost:50051/saml/metadata");
    assert_eq!(b.acs_url, "http://localhost:50051/saml/acs");
    assert!(xml.contains(r#"entityID="http://localhost:50051/saml/metadata""#));
    assert!(xml.contains(r#"Location="http://localhost:50051/saml/acs""#));
    assert!(xml.contains(r#"AuthnRequestsSigned="true""#));
    let cert_b64: String = b
        .signing_certificate_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        xml.contains(&cert_b64),
        "the metadata carries the signing certificate"
    );
    assert_eq!(b.signing_certificate_sha256.len(), 64);
    // Other methods are refused.
    let post = browser(false)
        .post(format!("http://{}/saml/metadata", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn a_browser_signs_in_sp_initiated_and_lands_with_a_one_time_code() {
    let w = world().await;
    let service = format!("{}/orders?tab=open", w.idp.app_url());
    let start = format!(
        "{}?xaccount_type={}&service={}",
        w.url("/saml/login"),
        w.xaccount_type(),
        url::form_urlencoded::byte_serialize(service.as_bytes()).collect::<String>()
    );
    // The browser follows the 302 to the IdP, which answers with its form.
    let page = browser(true).get(&start).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.url().as_str().starts_with(&w.idp.sso_url()));
    let (action, fields) = read_form(&page.text().await.unwrap());
    let seen = w.idp.requests();
    assert_eq!(seen.len(), 1, "the IdP received one signed AuthnRequest");
    assert_eq!(seen[0].relay_state.as_deref(), Some(service.as_str()));
    assert!(
        seen[0]
            .xml
            .contains("<saml:Issuer>http://localhost:50051/saml/metadata</saml:Issuer>")
    );
    assert!(
        seen[0]
            .xml
            .contains(&format!(r#"Destination="{}""#, w.idp.sso_url()))
    );
    // The browser posts the form; the ACS sends it on to the service with a code.
    let landed = post_form(&action, &fields, true).await;
    assert_eq!(landed.status(), 200);
    let final_url = landed.url().to_string();
    assert!(
        final_url.starts_with(&format!("{}/orders?tab=open&login_code=", w.idp.app_url())),
        "{final_url}"
    );
    assert!(!final_url.contains("token"), "no token in a URL");
    assert_eq!(landed.text().await.unwrap(), "the partner's frontend");
    let code = login_code(&final_url);
    assert!(
        code.starts_with("lc_"),
        "a login code is recognisable: {code}"
    );
    let signed_in = w.exchange_code(&code).await.unwrap();
    assert_eq!(signed_in.customer_id, w.customer.customer_id);
    let token = signed_in.tokens.unwrap().access_token;
    let own = ok(w
        .server
        .customers(&token)
        .get_customer(cu::GetCustomerRequest {
            customer_id: w.customer.customer_id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(own.customer.unwrap().customer_id, w.customer.customer_id);
    // The code works once; the form posted again answers its spent request.
    assert_refused(
        w.exchange_code(&code).await,
        Code::Unauthenticated,
        "LOGIN_CODE_INVALID",
    );
    let again = post_form(&action, &fields, false).await;
    assert_refused_page(again, 401, "SAML_UNKNOWN_IN_RESPONSE_TO").await;
}

#[tokio::test]
async fn create_login_url_matches_the_redirect_and_refuses_unlisted_services() {
    let w = world().await;
    let fed = w.server.federation("");
    let made = ok(fed
        .clone()
        .create_login_url(iam::CreateLoginUrlRequest {
            xaccount_type: w.xaccount_type(),
            first_login: false,
            service: String::new(),
        })
        .await);
    let (base, query) = made.login_url.split_once('?').unwrap();
    assert_eq!(base, w.idp.sso_url());
    let seen = read_redirect(query, &w.sp_cert_pem);
    assert_eq!(seen.id, made.authn_request_id);
    // No service named: the allow-list's first entry.
    assert_eq!(seen.relay_state, Some(w.idp.app_url()));
    for bad in [
        "https://evil.example/app".to_owned(),
        format!("{}/../admin", w.idp.app_url()),
        format!("{}evil", w.idp.app_url()),
        "javascript:alert(1)".to_owned(),
    ] {
        assert_refused(
            fed.clone()
                .create_login_url(iam::CreateLoginUrlRequest {
                    xaccount_type: w.xaccount_type(),
                    first_login: false,
                    service: bad.clone(),
                })
                .await,
            Code::InvalidArgument,
            "SERVICE_URL_NOT_ALLOWED",
        );
        let page = browser(false)
            .get(format!(
                "{}?xaccount_type={}&service={}",
                w.url("/saml/login"),
                w.xaccount_type(),
                url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
            ))
            .send()
            .await
            .unwrap();
        assert_refused_page(page, 400, "SERVICE_URL_NOT_ALLOWED").await;
    }
    assert_refused(
        fed.clone()
            .create_login_url(iam::CreateLoginUrlRequest {
                xaccount_type: "NO_SUCH_TYPE".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "IDP_NOT_FOUND",
    );
    let missing = browser(false)
        .get(w.url("/saml/login"))
        .send()
        .await
        .unwrap();
    assert_refused_page(missing, 400, "LOGIN_QUERY_INVALID").await;
}

#[tokio::test]
async fn an_answer_must_match_an_outstanding_request_and_its_relay_state() {
    let w = world().await;
    let fed = w.server.federation("");
    let start = |service: String| {
        let fed = fed.clone();
        let t = w.xaccount_type();
        async move {
            ok(fed
                .clone()
                .create_login_url(iam::CreateLoginUrlRequest {
                    xaccount_type: t,
                    first_login: false,
                    service,
                })
                .await)
        }
    };
    let answer = |request_id: &str| {
        let mut spec = ResponseSpec::new(XACCOUNT, saml_fixture_time());
        spec.in_response_to = Some(request_id.to_owned());
        signed_response_base64(&spec)
    };
    // A RelayState other than the one the request carried.
    let made = start(String::new()).await;
    let r = w
        .post_acs(&[
            ("SAMLResponse", &answer(&made.authn_request_id)),
            ("RelayState", &format!("{}/elsewhere", w.idp.app_url())),
        ])
        .await;
    assert_refused_page(r, 400, "RELAY_STATE_MISMATCH").await;
    // An InResponseTo only on the unsigned Response does not count.
    let made = start(String::new()).await;
    let mut spec = ResponseSpec::new(XACCOUNT, saml_fixture_time());
    spec.in_response_to = Some(made.authn_request_id.clone());
    spec.in_response_to_signed = false;
    let r = w
        .post_acs(&[("SAMLResponse", &signed_response_base64(&spec))])
        .await;
    assert_refused_page(r, 401, "SAML_UNKNOWN_IN_RESPONSE_TO").await;
    // A request nobody made.
    let r = w
        .post_acs(&[("SAMLResponse", &answer("_never_sent"))])
        .await;
    assert_refused_page(r, 401, "SAML_UNKNOWN_IN_RESPONSE_TO").await;
    // A request that expired (10 minutes), answered by a response still valid.
    let made = start(String::new()).await;
    w.clock.advance(chrono::Duration::seconds(601));
    let mut spec = ResponseSpec::new(
        XACCOUNT,
        saml_fixture_time() + chrono::Duration::seconds(601),
    );
    spec.in_response_to = Some(made.authn_request_id.clone());
    let r = w
        .post_acs(&[("SAMLResponse", &signed_response_base64(&spec))])
        .await;
    assert_refused_page(r, 401, "SAML_UNKNOWN_IN_RESPONSE_TO").await;
    // The RPC takes answers too, once.
    let now = saml_fixture_time() + chrono::Duration::seconds(601);
    let made = start(String::new()).await;
    let mut spec = ResponseSpec::new(XACCOUNT, now);
    spec.in_response_to = Some(made.authn_request_id.clone());
    let signed_in = ok(fed
        .clone()
        .exchange_saml_response(iam::ExchangeSamlResponseRequest {
            saml_response: signed_response_base64(&spec),
        })
        .await);
    assert_eq!(signed_in.customer_id, w.customer.customer_id);
    let mut spec = ResponseSpec::new(XACCOUNT, now);
    spec.in_response_to = Some(made.authn_request_id);
    assert_refused(
        fed.clone()
            .exchange_saml_response(iam::ExchangeSamlResponseRequest {
                saml_response: signed_response_base64(&spec),
            })
            .await,
        Code::Unauthenticated,
        "SAML_UNKNOWN_IN_RESPONSE_TO",
    );
}

#[tokio::test]
async fn idp_initiated_posts_land_only_on_the_allow_list() {
    let w = &world().await;
    let post = |relay: Option<String>| {
        let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, saml_fixture_time()));
        async move {
            let mut fields = vec![("SAMLResponse", response)];
            if let Some(relay) = relay {
                fields.push(("RelayState", relay));
            }
            w.post_acs(&fields).await
        }
    };
    // No RelayState: the first allowed URL.
    let r = post(None).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with(&format!("{}?login_code=", w.idp.app_url())),
        "{to}"
    );
    assert!(w.exchange_code(&login_code(&to)).await.is_ok());
    // A RelayState on the list.
    let r = post(Some(format!("{}/billing#top", w.idp.app_url()))).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with(&format!("{}/billing?login_code=", w.idp.app_url())),
        "{to}"
    );
    assert!(to.ends_with("#top"));
    // Open redirects are refused, and no code is issued for them.
    for bad in [
        "https://evil.example/",
        "//evil.example/app",
        "http://127.0.0.1:1/app",
    ] {
        let r = post(Some(bad.to_owned())).await;
        assert_refused_page(r, 400, "SERVICE_URL_NOT_ALLOWED").await;
    }
    // Malformed forms.
    for form in [
        vec![("RelayState", "x")],
        vec![("SAMLResponse", "not base64!")],
        vec![("SAMLResponse", "PHg+"), ("SAMLResponse", "PHg+")],
    ] {
        let r = w.post_acs(&form).await;
        assert_eq!(r.status(), 400, "{form:?}");
    }
    let get = browser(false).get(w.url("/saml/acs")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    // A form larger than the cap.
    let huge = "A".repeat(200 * 1024);
    let r = w.post_acs(&[("SAMLResponse", &huge)]).await;
    assert_refused_page(r, 413, "SAML_TOO_LARGE").await;
    // A RelayState carrying a login code of its own lands without it.
    let r = post(Some(format!(
        "{}/x?login_code=planted&tab=2",
        w.idp.app_url()
    )))
    .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(!to.contains("planted"), "{to}");
    assert_eq!(
        url::Url::parse(&to)
            .unwrap()
            .query_pairs()
            .filter(|(k, _)| k == "login_code")
            .count(),
        1
    );
}

#[tokio::test]
async fn login_codes_expire_are_spent_once_and_follow_the_customer() {
    let w = world().await;
    let issue = || async {
        let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, w.clock.now()));
        let r = w.post_acs(&[("SAMLResponse", &response)]).await;
        assert_eq!(r.status(), 303);
        login_code(&location(&r))
    };
    // 60 seconds.
    let code = issue().await;
    w.clock.advance(chrono::Duration::seconds(61));
    assert_refused(
        w.exchange_code(&code).await,
        Code::Unauthenticated,
        "LOGIN_CODE_INVALID",
    );
    // Ten exchanges of one code at once: one session.
    let code = issue().await;
    let results = futures::future::join_all((0..10).map(|_| w.exchange_code(&code))).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    // A guessed code, and hostile ones.
    for bad in ["AAAA", "", &"x".repeat(129)] {
        let r = w.exchange_code(bad).await;
        assert!(r.is_err(), "{bad}");
    }
    // A customer disassociated between the ACS and the exchange.
    let code = issue().await;
    ok(w.server
        .customers(&w.master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: w.customer.customer_id.clone(),
            reason: "moved".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        w.exchange_code(&code).await,
        Code::FailedPrecondition,
        "CUSTOMER_NOT_ASSOCIATED",
    );
}

#[tokio::test]
async fn the_allow_list_is_validated_and_can_be_replaced() {
    let w = world().await;
    let list = ok(w
        .server
        .federation(&w.master)
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await);
    let idp = &list.identity_providers[0];
    assert_eq!(idp.service_urls, vec![w.idp.app_url()]);
    let set_urls = |service_urls: Vec<String>| {
        let mut federation = w.server.federation(&w.master);
        let id = idp.id.clone();
        async move {
            federation
                .update_identity_provider(iam::UpdateIdentityProviderRequest {
                    request_id: new_request_id(),
                    id,
                    update_mask: Some(FieldMask {
                        paths: vec!["service_urls".into()],
                    }),
                    service_urls,
                    ..Default::default()
                })
                .await
        }
    };
    for bad in [
        vec!["http://app.example/".to_owned()],
        vec!["https://app.example/?x=1".to_owned()],
        vec!["https://a.example/".to_owned(); 11],
    ] {
        assert_refused(
            set_urls(bad).await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
    }
    let updated = ok(set_urls(vec!["https://Console.Example:443/app".into()]).await);
    assert_eq!(
        updated.identity_provider.unwrap().service_urls,
        vec!["https://console.example/app"]
    );
    // The old frontend is no longer a landing place.
    let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, saml_fixture_time()));
    let r = w
        .post_acs(&[
            ("SAMLResponse", &response),
            ("RelayState", &w.idp.app_url()),
        ])
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_public_url_that_cannot_be_an_entity_id_stops_the_start() {
    let db = TestDb::fresh().await;
    for bad in ["partners.example.com", "https://partners.example.com/?x=1"] {
        let mut config = test_config(&db);
        config.public_url = bad.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let started =
            partner_server::run(config, listener, std::time::Duration::ZERO, async {}).await;
        let error = started.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("public URL"), "{bad}: {error}");
    }
}

#[tokio::test]
async fn without_an_allow_list_a_sign_in_has_nowhere_to_land() {
    let w = world().await;
    let idp = ok(w
        .server
        .federation(&w.master)
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await)
    .identity_providers
    .remove(0);
    ok(w.server
        .federation(&w.master)
        .update_identity_provider(iam::UpdateIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id,
            update_mask: Some(FieldMask {
                paths: vec!["service_urls".into()],
            }),
            ..Default::default()
        })
        .await);
    let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, saml_fixture_time()));
    let r = w.post_acs(&[("SAMLResponse", response.as_str())]).await;
    assert_refused_page(r, 403, "NO_SERVICE_URL").await;
    assert_refused(
        w.server
            .federation("")
            .create_login_url(iam::CreateLoginUrlRequest {
                xaccount_type: w.xaccount_type(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "NO_SERVICE_URL",
    );
    assert_eq!(w.server.rows("federation_login_codes").await, 0);
}

#[tokio::test]
async fn a_frozen_customer_gets_no_code_and_a_deleted_idp_voids_its_codes() {
    let w = world().await;
    let post = || async {
        let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, saml_fixture_time()));
        w.post_acs(&[("SAMLResponse", response.as_str())]).await
    };
    // A code issued, then its IdP deleted: the code no longer signs in.
    let code = login_code(&location(&post().await));
    let idp = ok(w
        .server
        .federation(&w.master)
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await)
    .identity_providers
    .remove(0);
    ok(w.server
        .federation(&w.master)
        .delete_identity_provider(iam::DeleteIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id,
        })
        .await);
    assert_refused(
        w.exchange_code(&code).await,
        Code::Unauthenticated,
        "LOGIN_CODE_INVALID",
    );
    // Registered again, it signs in; a frozen customer gets no code at all.
    ok(w.server
        .federation(&w.master)
        .register_identity_provider(iam::RegisterIdentityProviderRequest {
            metadata_xml: w.idp.metadata(),
            service_urls: vec![w.idp.app_url()],
            ..register_idp_request(&w.partner, "idp_metadata.xml")
        })
        .await);
    ok(w.server
        .customers(&w.master)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![w.customer.customer_id.clone()],
            mode: cu::FreezeMode::Account as i32,
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await);
    let codes = w.server.rows("federation_login_codes").await;
    assert_refused_page(post().await, 403, "CUSTOMER_FROZEN").await;
    assert_eq!(w.server.rows("federation_login_codes").await, codes);
}

#[tokio::test]
async fn expired_saml_state_is_pruned_by_the_servers_job() {
    let w = &world().await;
    // A used assertion and a login code.
    let response = signed_response_base64(&ResponseSpec::new(XACCOUNT, saml_fixture_time()));
    let r = w.post_acs(&[("SAMLResponse", response.as_str())]).await;
    assert_eq!(r.status(), 303);
    let rows = || async {
        w.server.rows("federation_used_assertions").await
            + w.server.rows("federation_login_codes").await
    };
    assert_eq!(rows().await, 2);
    // The job's sweep, as another replica of the same database runs it.
    let prune_at = |at: chrono::DateTime<chrono::Utc>| async move {
        let config = test_config(&w.server.db);
        let db = partner_server::app::connect_and_migrate(&config)
            .await
            .unwrap();
        let clock = std::sync::Arc::new(partner_kernel::clock::TestClock::new(at));
        let app = partner_server::app::build_with_clock(&config, db, clock)
            .await
            .unwrap();
        app.federation.prune_expired().await.unwrap()
    };
    assert_eq!(
        prune_at(saml_fixture_time()).await,
        0,
        "nothing has expired"
    );
    assert_eq!(rows().await, 2);
    assert_eq!(
        prune_at(saml_fixture_time() + chrono::Duration::hours(1)).await,
        2
    );
    assert_eq!(rows().await, 0);
}

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_saml_slots_waits_its_turn() {
    // One slot: sixteen browsers starting at once are signed one after the
    // other, none refused.
    let w = partner_tests::saml_world::world_configured(iam::FirstLoginPolicy::Refuse, |c| {
        c.saml_concurrency = 1;
    })
    .await;
    let start = format!(
        "{}?xaccount_type={}",
        w.url("/saml/login"),
        w.xaccount_type()
    );
    let client = browser(false);
    let answers = futures::future::join_all((0..16).map(|_| client.get(&start).send())).await;
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 302);
        assert!(location(&answer).starts_with(&w.idp.sso_url()));
    }
}
