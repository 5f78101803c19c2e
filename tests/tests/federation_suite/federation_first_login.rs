//! The first sign-in of an xaccount no customer is mapped to, under the
//! IdP's `CREATE_CUSTOMER` policy: the customer is created through the
//! customers domain's rules, once, and only for sign-ins that may be first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_api::iam::v1 as iam;
use partner_tests::saml_idp::{ResponseSpec, read_form, signed_response_base64};
use partner_tests::saml_world::{
    World, assert_refused_page, browser, location, login_code, post_form, world_with,
};
use partner_tests::*;
use tonic::Code;

const NEWCOMER: &str = "crm-new-1";

async fn exchange(
    w: &World,
    spec: &ResponseSpec,
) -> Result<iam::ExchangeSamlResponseResponse, tonic::Status> {
    w.server
        .federation("")
        .exchange_saml_response(iam::ExchangeSamlResponseRequest {
            saml_response: signed_response_base64(spec),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The payload of the one event of `event_type` about `resource` the partner can list.
/// Events are listed once the sequencer has numbered them, a moment after
/// their commit: the listing is read again until one is there.
async fn only_event(w: &World, resource: &str, event_type: &str) -> serde_json::Value {
    for _ in 0..500 {
        let events = ok(w
            .server
            .events(&w.master)
            .list_events(ev::ListEventsRequest {
                resource_id: resource.into(),
                event_types: vec![event_type.into()],
                ..Default::default()
            })
            .await)
        .events;
        if !events.is_empty() {
            assert_eq!(events.len(), 1, "{events:?}");
            return serde_json::from_str(&events[0].payload_json).unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no {event_type} event about {resource}");
}

fn newcomer(w: &World) -> ResponseSpec {
    ResponseSpec::new(NEWCOMER, saml_fixture_time())
        .with("email", "New.Comer@Example.com")
        .with("country", "DE")
        .with(
            "mobile",
            &format!("+49{}", &w.server.addr.port().to_string()),
        )
}

#[tokio::test]
async fn a_first_sign_in_creates_the_customer_once_through_the_customer_rules() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    let customers_before = w.server.rows("customers").await;
    let first = exchange(&w, &newcomer(&w)).await.unwrap();
    let token = first.tokens.unwrap().access_token;
    let created = ok(w
        .server
        .customers(&w.master)
        .get_customer(cu::GetCustomerRequest {
            customer_id: first.customer_id.clone(),
            ..Default::default()
        })
        .await)
    .customer
    .unwrap();
    assert_eq!(created.xaccount_type, w.xaccount_type());
    assert_eq!(created.xaccount_id, NEWCOMER);
    assert_eq!(created.email, "new.comer@example.com");
    assert_eq!(created.country, "DE");
    assert_eq!(created.partner_id, w.partner.partner_id);
    assert!(created.account_name.starts_with("cust_"));
    // Its own token works.
    ok(w.server
        .customers(&token)
        .get_customer(cu::GetCustomerRequest {
            customer_id: first.customer_id.clone(),
            ..Default::default()
        })
        .await);
    // The partner hears of it, with the IdP that vouched.
    let payload = only_event(&w, &first.customer_id, "customer.created").await;
    assert_eq!(payload["xaccount_id"], NEWCOMER, "{payload}");
    // The next sign-in finds it; nothing new is created.
    let again = exchange(&w, &newcomer(&w)).await.unwrap();
    assert_eq!(again.customer_id, first.customer_id);
    assert_eq!(w.server.rows("customers").await, customers_before + 1);
}

#[tokio::test]
async fn concurrent_first_sign_ins_make_one_customer() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    let before = w.server.rows("customers").await;
    let specs: Vec<ResponseSpec> = (0..8).map(|_| newcomer(&w)).collect();
    let results = futures::future::join_all(specs.iter().map(|s| exchange(&w, s))).await;
    let ids: std::collections::BTreeSet<String> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e:?}")).customer_id)
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(w.server.rows("customers").await, before + 1);
}

#[tokio::test]
async fn a_profile_that_breaks_the_rules_creates_nothing() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    let before = w.server.rows("customers").await;
    let at = saml_fixture_time();
    let cases = [
        (
            ResponseSpec::new(NEWCOMER, at).with("country", "DE"),
            "FIRST_LOGIN_PROFILE_INVALID",
        ),
        (
            ResponseSpec::new(NEWCOMER, at).with("email", "a@example.com"),
            "FIRST_LOGIN_PROFILE_INVALID",
        ),
        (
            ResponseSpec::new(NEWCOMER, at)
                .with("email", "not-an-email")
                .with("country", "DE"),
            "FIRST_LOGIN_PROFILE_INVALID",
        ),
        (
            ResponseSpec::new(&"x".repeat(65), at)
                .with("email", "a@example.com")
                .with("country", "DE"),
            "FIRST_LOGIN_PROFILE_INVALID",
        ),
    ];
    for (spec, reason) in cases {
        assert_refused(exchange(&w, &spec).await, Code::FailedPrecondition, reason);
    }
    // The mapped customer's email is taken: the customers domain's refusal.
    let taken = ResponseSpec::new(NEWCOMER, at)
        .with("email", &w.customer.email)
        .with("country", "DE");
    assert_refused(
        exchange(&w, &taken).await,
        Code::AlreadyExists,
        "EMAIL_TAKEN",
    );
    assert_eq!(w.server.rows("customers").await, before);
    assert_eq!(
        w.server.rows("auth_sessions").await,
        2,
        "the operator's and the master's only"
    );
}

#[tokio::test]
async fn sp_initiated_sign_ins_create_only_when_flagged_first() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    w.idp
        .sign_in_as(NEWCOMER, &[("email", "n@example.com"), ("country", "FR")]);
    let before = w.server.rows("customers").await;
    let sign_in = |first: bool| {
        let start = format!(
            "{}?xaccount_type={}&first_login={first}",
            w.url("/saml/login"),
            w.xaccount_type()
        );
        async move {
            let page = browser(true).get(&start).send().await.unwrap();
            let (action, fields) = read_form(&page.text().await.unwrap());
            post_form(&action, &fields, false).await
        }
    };
    let refused = sign_in(false).await;
    assert_refused_page(refused, 403, "XACCOUNT_NOT_MAPPED").await;
    assert_eq!(w.server.rows("customers").await, before);
    let landed = sign_in(true).await;
    assert_eq!(landed.status(), 303);
    let signed_in = w
        .exchange_code(&login_code(&location(&landed)))
        .await
        .unwrap();
    assert_eq!(w.server.rows("customers").await, before + 1);
    // Once mapped, any sign-in finds it.
    let landed = sign_in(false).await;
    assert_eq!(landed.status(), 303);
    let again = w
        .exchange_code(&login_code(&location(&landed)))
        .await
        .unwrap();
    assert_eq!(again.customer_id, signed_in.customer_id);
}

#[tokio::test]
async fn refuse_creates_nothing() {
    let w = world_with(iam::FirstLoginPolicy::Refuse).await;
    let before = w.server.rows("customers").await;
    assert_refused(
        exchange(&w, &newcomer(&w)).await,
        Code::FailedPrecondition,
        "XACCOUNT_NOT_MAPPED",
    );
    assert_eq!(w.server.rows("customers").await, before);
}

/// A customer of the world's partner mapped on a second sales platform of
/// that partner (so it has no account on the IdP's platform yet).
async fn customer_on_second_platform(w: &World) -> cu::Customer {
    let admin = w.server.admin_token().await;
    let second = ok(w
        .server
        .partners(&admin)
        .issue_sales_platform_id(partner_api::accounts::v1::IssueSalesPlatformIdRequest {
            request_id: new_request_id(),
            partner_id: w.partner.partner_id.clone(),
            sales_platform_id: String::new(),
        })
        .await)
    .sales_platform_id;
    w.server
        .created_customer(
            &w.master,
            cu::CreateCustomerRequest {
                xaccount_type: second,
                ..create_customer_request(&w.partner, "shop-77")
            },
        )
        .await
}

#[tokio::test]
async fn bind_existing_maps_the_xaccount_to_a_customer_of_the_partner() {
    let w = world_with(iam::FirstLoginPolicy::BindExisting).await;
    let existing = customer_on_second_platform(&w).await;
    let at = saml_fixture_time();
    // No customer named, or one that is not the partner's: nothing is bound.
    assert_refused(
        exchange(&w, &ResponseSpec::new(NEWCOMER, at)).await,
        Code::FailedPrecondition,
        "FIRST_LOGIN_PROFILE_INVALID",
    );
    let (globex, globex_master) = {
        let admin = w.server.admin_token().await;
        w.server.register_partner(&admin, "globex").await
    };
    let theirs = w
        .server
        .create_customer(&globex_master, &globex, "g-1")
        .await;
    let before = w.server.rows("customers").await;
    assert_refused(
        exchange(
            &w,
            &ResponseSpec::new(NEWCOMER, at).with("customer_id", &theirs.customer_id),
        )
        .await,
        Code::FailedPrecondition,
        "CUSTOMER_NOT_ASSOCIATED",
    );
    // A customer already on the IdP's platform keeps its one account there.
    assert_refused(
        exchange(
            &w,
            &ResponseSpec::new(NEWCOMER, at).with("customer_id", &w.customer.customer_id),
        )
        .await,
        Code::FailedPrecondition,
        "CUSTOMER_STATE_CONFLICT",
    );
    assert_eq!(w.server.rows("customer_xaccount_links").await, 0);
    // The partner's customer without an account there is bound and signed in.
    let bound = exchange(
        &w,
        &ResponseSpec::new(NEWCOMER, at).with("customer_id", &existing.customer_id),
    )
    .await
    .unwrap();
    assert_eq!(bound.customer_id, existing.customer_id);
    assert_eq!(w.server.rows("customers").await, before, "nothing created");
    // From now on the xaccount finds it without naming it, and it is taken.
    let again = exchange(&w, &ResponseSpec::new(NEWCOMER, at))
        .await
        .unwrap();
    assert_eq!(again.customer_id, existing.customer_id);
    assert_refused(
        w.server
            .customers(&w.master)
            .create_customer(create_customer_request(&w.partner, NEWCOMER))
            .await,
        Code::AlreadyExists,
        "XACCOUNT_TAKEN",
    );
    // The partner hears of the binding.
    let payload = only_event(&w, &existing.customer_id, "customer.xaccount_bound").await;
    assert_eq!(payload["xaccount_id"], NEWCOMER, "{payload}");
    // Concurrent first sign-ins of another xaccount naming the same customer: one binding.
    let specs: Vec<ResponseSpec> = (0..6)
        .map(|_| ResponseSpec::new("crm-new-2", at).with("customer_id", &existing.customer_id))
        .collect();
    let results = futures::future::join_all(specs.iter().map(|s| exchange(&w, s))).await;
    assert!(
        results.iter().all(|r| r.is_err()),
        "already on the platform: {results:?}"
    );
    assert_eq!(w.server.rows("customer_xaccount_links").await, 1);
}

#[tokio::test]
async fn concurrent_bindings_of_one_xaccount_bind_once() {
    let w = world_with(iam::FirstLoginPolicy::BindExisting).await;
    let existing = customer_on_second_platform(&w).await;
    let specs: Vec<ResponseSpec> = (0..6)
        .map(|_| {
            ResponseSpec::new(NEWCOMER, saml_fixture_time())
                .with("customer_id", &existing.customer_id)
        })
        .collect();
    let results = futures::future::join_all(specs.iter().map(|s| exchange(&w, s))).await;
    for r in &results {
        assert_eq!(
            r.as_ref()
                .map(|r| r.customer_id.clone())
                .unwrap_or_else(|e| panic!("{e:?}")),
            existing.customer_id
        );
    }
    assert_eq!(w.server.rows("customer_xaccount_links").await, 1);
}

#[tokio::test]
async fn only_who_may_act_as_customers_may_turn_bind_existing_on() {
    let w = world_with(iam::FirstLoginPolicy::Refuse).await;
    let admin = w.server.admin_token().await;
    let (globex, master) = w.server.register_partner(&admin, "globex").await;
    // Operations holds federation.manage, not customers.assume.
    let (_, ops) = w.server.user_with_role(&master, "ops", "OPERATIONS").await;
    // Entity ids are registered once: Globex's IdP has its own.
    let bind = |first_login_policy: iam::FirstLoginPolicy| iam::RegisterIdentityProviderRequest {
        first_login_policy: first_login_policy as i32,
        metadata_xml: saml_fixture("idp_metadata.xml").replace(
            "https://sales.example-partner.com/idp\"",
            "https://globex.example/idp\"",
        ),
        ..register_idp_request(&globex, "idp_metadata.xml")
    };
    assert_refused(
        w.server
            .federation(&ops)
            .register_identity_provider(bind(iam::FirstLoginPolicy::BindExisting))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let idp = ok(w
        .server
        .federation(&ops)
        .register_identity_provider(bind(iam::FirstLoginPolicy::CreateCustomer))
        .await)
    .identity_provider
    .unwrap();
    let to_bind = |token: &str| {
        let mut f = w.server.federation(token);
        let id = idp.id.clone();
        async move {
            f.update_identity_provider(iam::UpdateIdentityProviderRequest {
                request_id: new_request_id(),
                id,
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["first_login_policy".into()],
                }),
                first_login_policy: iam::FirstLoginPolicy::BindExisting as i32,
                ..Default::default()
            })
            .await
        }
    };
    assert_refused(
        to_bind(&ops).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    ok(to_bind(&master).await);
}

#[tokio::test]
async fn a_frozen_customer_is_not_bound() {
    let w = world_with(iam::FirstLoginPolicy::BindExisting).await;
    let existing = customer_on_second_platform(&w).await;
    ok(w.server
        .customers(&w.master)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![existing.customer_id.clone()],
            mode: cu::FreezeMode::Account as i32,
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        exchange(
            &w,
            &ResponseSpec::new(NEWCOMER, saml_fixture_time())
                .with("customer_id", &existing.customer_id),
        )
        .await,
        Code::PermissionDenied,
        "CUSTOMER_FROZEN",
    );
    assert_eq!(w.server.rows("customer_xaccount_links").await, 0);
}

#[tokio::test]
async fn a_suspended_partners_idp_creates_no_customer() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    let admin = w.server.admin_token().await;
    ok(w.server
        .partners(&admin)
        .suspend_partner(partner_api::accounts::v1::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: w.partner.partner_id.clone(),
            reason: "unpaid".into(),
        })
        .await);
    let before = w.server.rows("customers").await;
    assert_refused(
        exchange(&w, &newcomer(&w)).await,
        Code::FailedPrecondition,
        "PARTNER_INACTIVE",
    );
    assert_eq!(w.server.rows("customers").await, before);
}

#[tokio::test]
async fn a_malformed_optional_attribute_does_not_hold_up_a_sign_in() {
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    // The mapped customer: the comment makes `email` unusable, not the sign-in.
    let mapped = ResponseSpec::new(&w.customer.xaccount_id, saml_fixture_time())
        .with("email", "a<!---->@example.com");
    let signed_in = exchange(&w, &mapped).await.unwrap();
    assert_eq!(signed_in.customer_id, w.customer.customer_id);
    // A newcomer whose only identity is unusable is refused for it.
    let newcomer = ResponseSpec::new(NEWCOMER, saml_fixture_time())
        .with("email", "a<!---->@example.com")
        .with("country", "DE");
    assert_refused(
        exchange(&w, &newcomer).await,
        Code::FailedPrecondition,
        "FIRST_LOGIN_PROFILE_INVALID",
    );
}

#[tokio::test]
async fn the_idps_notification_url_hears_of_first_sign_ins() {
    use partner_tests::webhook_receiver::Receiver;
    let w = world_with(iam::FirstLoginPolicy::CreateCustomer).await;
    let receiver = Receiver::start().await;
    let idp = ok(w
        .server
        .federation(&w.master)
        .list_identity_providers(iam::ListIdentityProvidersRequest {})
        .await)
    .identity_providers
    .remove(0);
    assert_eq!(idp.notification_endpoint_id, "");
    let set_url = |url: &str| iam::UpdateIdentityProviderRequest {
        request_id: new_request_id(),
        id: idp.id.clone(),
        notification_url: url.to_owned(),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["notification_url".into()],
        }),
        ..Default::default()
    };
    let updated = ok(w
        .server
        .federation(&w.master)
        .update_identity_provider(set_url(&receiver.url))
        .await);
    let secret = updated.notification_secret.clone();
    assert!(secret.starts_with("whsec_"), "{updated:?}");
    let endpoint_id = updated.identity_provider.unwrap().notification_endpoint_id;
    assert!(endpoint_id.starts_with("whk_"));
    let endpoint = ok(w
        .server
        .webhooks(&w.master)
        .get_webhook_endpoint(ev::GetWebhookEndpointRequest {
            id: endpoint_id.clone(),
        })
        .await)
    .endpoint
    .unwrap();
    assert_eq!(endpoint.identity_provider_id, idp.id);
    assert_eq!(
        endpoint.event_types,
        vec!["customer.created", "customer.xaccount_bound"]
    );

    let first = exchange(&w, &newcomer(&w)).await.unwrap();
    let received = receiver.wait_for(1).await;
    assert!(received[0].signed_by(&secret), "{received:?}");
    let body = received[0].json();
    assert_eq!(body["type"], "customer.created");
    assert_eq!(body["data"]["resource_id"], first.customer_id.as_str());
    assert_eq!(body["data"]["resource"]["xaccount_id"], NEWCOMER);

    // A customer created otherwise (the API, not this IdP's sign-in) is not
    // announced there: once the endpoint's cursor is past its event, a test
    // event is the next thing to arrive.
    let other = w
        .server
        .create_customer(&w.master, &w.partner, "crm-api-1")
        .await;
    let other_event = loop {
        let events = ok(w
            .server
            .events(&w.master)
            .list_events(ev::ListEventsRequest {
                resource_id: other.customer_id.clone(),
                ..Default::default()
            })
            .await)
        .events;
        if let Some(e) = events.into_iter().next() {
            break e;
        }
        tokio::task::yield_now().await;
    };
    loop {
        let cursor = ok(w
            .server
            .webhooks(&w.master)
            .get_webhook_endpoint(ev::GetWebhookEndpointRequest {
                id: endpoint_id.clone(),
            })
            .await)
        .endpoint
        .unwrap()
        .cursor;
        if cursor.parse::<i64>().unwrap() >= other_event.cursor.parse::<i64>().unwrap() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ok(w.server
        .webhooks(&w.master)
        .send_test_event(ev::SendTestEventRequest {
            request_id: new_request_id(),
            endpoint_id: endpoint_id.clone(),
        })
        .await);
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].json()["type"], "webhook.test", "{received:?}");

    // Setting it takes what creating a webhook takes.
    let (idp_admin, federation_only) = w.server.create_user(&w.master, "idp-admin").await;
    let role = ok(w
        .server
        .roles(&w.master)
        .create_role(partner_api::accounts::v1::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(partner_api::accounts::v1::Role {
                display_name: "SSO admin".into(),
                permission_ids: vec!["federation.manage".into(), "federation.read".into()],
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap();
    ok(w.server
        .roles(&w.master)
        .assign_role(partner_api::accounts::v1::AssignRoleRequest {
            request_id: new_request_id(),
            role_id: role.role_id,
            user_id: idp_admin.user_id,
        })
        .await);
    assert_refused(
        w.server
            .federation(&federation_only)
            .update_identity_provider(set_url("https://crm.example.com/mine"))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    // Moving the URL keeps the endpoint and its secret.
    let moved = ok(w
        .server
        .federation(&w.master)
        .update_identity_provider(set_url("https://crm.example.com/saml-events"))
        .await);
    assert_eq!(moved.notification_secret, "");
    assert_eq!(
        moved.identity_provider.unwrap().notification_endpoint_id,
        endpoint_id
    );
    // The endpoint goes with the IdP.
    ok(w.server
        .federation(&w.master)
        .delete_identity_provider(iam::DeleteIdentityProviderRequest {
            request_id: new_request_id(),
            id: idp.id.clone(),
        })
        .await);
    assert_eq!(w.server.rows("webhook_endpoints").await, 0);
    assert_eq!(w.server.rows("webhook_deliveries").await, 0);
}

#[tokio::test]
async fn an_idp_registered_with_a_notification_url_gets_its_endpoint_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (other, master) = server.register_partner(&admin, "notified").await;
    let registered = ok(server
        .federation(&master)
        .register_identity_provider(iam::RegisterIdentityProviderRequest {
            notification_url: "https://crm.example.com/events".into(),
            ..register_idp_request(&other, "idp_metadata.xml")
        })
        .await);
    assert!(registered.notification_secret.starts_with("whsec_"));
    let idp = registered.identity_provider.unwrap();
    assert!(idp.notification_endpoint_id.starts_with("whk_"));
    let got = ok(server
        .federation(&master)
        .get_identity_provider(iam::GetIdentityProviderRequest { id: idp.id })
        .await)
    .identity_provider
    .unwrap();
    assert_eq!(got.notification_endpoint_id, idp.notification_endpoint_id);
    // A notification URL is held to the webhook rules.
    let status = assert_refused(
        server
            .federation(&master)
            .register_identity_provider(iam::RegisterIdentityProviderRequest {
                notification_url: "ftp://crm.example.com/".into(),
                ..register_idp_request(&other, "idp_metadata.xml")
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert!(format!("{status:?}").contains("notification_url"));
}
