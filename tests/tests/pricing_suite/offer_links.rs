//! Exclusive offer links through the real server: solution providers and
//! distributors link to a product with an optional discount within their
//! allowance; anyone resolves a link to the partner it attributes orders
//! to, until it is disabled or expires.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::accounts::v1 as accounts;
use partner_api::pricing::v1 as pr;
use partner_kernel::clock::{Clock, TestClock};
use partner_tests::*;
use tonic::Code;

fn vm_in_beijing() -> Option<pr::OfferProduct> {
    Some(pr::OfferProduct {
        service_type: "compute".into(),
        resource_type: "vm".into(),
        spec: "c6.large.2".into(),
        region: "cn-north-1".into(),
    })
}

fn link_request(rate: &str, expire: Option<chrono::DateTime<Utc>>) -> pr::CreateOfferLinkRequest {
    pr::CreateOfferLinkRequest {
        request_id: new_request_id(),
        name: "Spring offer".into(),
        product: vm_in_beijing(),
        rate_off: rate.into(),
        expire_time: expire.map(|t| prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        }),
    }
}

async fn resolve(
    server: &TestServer,
    token: &str,
) -> Result<pr::ResolveOfferLinkResponse, tonic::Status> {
    server
        .offer_links_anonymous()
        .resolve_offer_link(pr::ResolveOfferLinkRequest {
            token: token.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_solution_providers_link_resolves_to_it_until_disabled_or_expired() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (sp, sp_master) = server
        .enrolled_partner(&admin, "provider", accounts::Program::SolutionProvider)
        .await;
    ok(server
        .discounts(&admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: sp.partner_id.clone(),
            scope: Some(pr::ProductScope {
                service_type: "compute".into(),
                resource_type: String::new(),
            }),
            max_rate_off: "0.1".into(),
            ..Default::default()
        })
        .await);
    let mut links = server.offer_links(&sp_master);
    // Above the allowance, and a product the catalog does not sell.
    assert_refused(
        links.create_offer_link(link_request("0.2", None)).await,
        Code::FailedPrecondition,
        "DISCOUNT_ABOVE_ALLOWANCE",
    );
    let mut unknown = link_request("", None);
    unknown.product.as_mut().unwrap().spec = "nope".into();
    let bad = links.create_offer_link(unknown).await.unwrap_err();
    assert_eq!(violated_fields(&bad), vec!["product.spec"]);

    let expire = clock.now() + Duration::days(1);
    let link = ok(links
        .create_offer_link(link_request("0.1", Some(expire)))
        .await)
    .link
    .unwrap();
    assert!(
        link.url.starts_with("https://console.test/offers/ofr_"),
        "{link:?}"
    );
    assert!(link.url.ends_with(&link.token));
    assert_eq!(link.state, pr::OfferLinkState::Active as i32);

    // Anyone resolves it, without a token.
    let resolved = resolve(&server, &link.token).await.unwrap();
    assert_eq!(resolved.partner_id, sp.partner_id);
    assert_eq!(resolved.partner_name, sp.display_name);
    assert_eq!(resolved.product, vm_in_beijing());
    assert_eq!(resolved.rate_off, "0.1");
    assert_refused(
        resolve(&server, "ofr_unknownunknownunknownunknownunknownunknown1").await,
        Code::NotFound,
        "OFFER_LINK_NOT_FOUND",
    );
    let bad = resolve(&server, "not a token").await.unwrap_err();
    assert_eq!(violated_fields(&bad), vec!["token"]);

    // Past its expiry it no longer resolves.
    clock.advance(Duration::days(1));
    assert_refused(
        resolve(&server, &link.token).await,
        Code::FailedPrecondition,
        "OFFER_LINK_EXPIRED",
    );

    // A link without expiry, disabled: it resolves no more.
    let sp_master = server.login("provider", USER_PASSWORD).await;
    let mut links = server.offer_links(&sp_master);
    let open = ok(links.create_offer_link(link_request("", None)).await)
        .link
        .unwrap();
    assert!(resolve(&server, &open.token).await.is_ok());
    let disabled = ok(links
        .disable_offer_link(pr::DisableOfferLinkRequest {
            request_id: new_request_id(),
            id: open.id.clone(),
        })
        .await)
    .link
    .unwrap();
    assert_eq!(disabled.state, pr::OfferLinkState::Disabled as i32);
    assert_refused(
        resolve(&server, &open.token).await,
        Code::NotFound,
        "OFFER_LINK_NOT_FOUND",
    );
    let listed = ok(links
        .list_offer_links(pr::ListOfferLinksRequest::default())
        .await)
    .links;
    let states: Vec<_> = listed.iter().map(|l| (l.id.as_str(), l.state)).collect();
    assert_eq!(
        states,
        vec![
            (open.id.as_str(), pr::OfferLinkState::Disabled as i32),
            (link.id.as_str(), pr::OfferLinkState::Expired as i32)
        ]
    );
}

#[tokio::test]
async fn only_solution_providers_and_distributors_make_links_and_only_their_own_are_seen() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, plain) = server.register_partner(&admin, "plain").await;
    assert_refused(
        server
            .offer_links(&plain)
            .create_offer_link(link_request("", None))
            .await,
        Code::FailedPrecondition,
        "PROGRAM_REQUIRED",
    );
    let (dist, dist_master) = server
        .enrolled_partner(&admin, "dist", accounts::Program::Distributor)
        .await;
    let link = ok(server
        .offer_links(&dist_master)
        .create_offer_link(link_request("", None))
        .await)
    .link
    .unwrap();
    assert_eq!(
        resolve(&server, &link.token).await.unwrap().partner_id,
        dist.partner_id
    );
    assert_refused(
        server
            .offer_links(&plain)
            .get_offer_link(pr::GetOfferLinkRequest {
                id: link.id.clone(),
            })
            .await,
        Code::NotFound,
        "OFFER_LINK_NOT_FOUND",
    );
    assert_refused(
        server
            .offer_links(&plain)
            .disable_offer_link(pr::DisableOfferLinkRequest {
                request_id: new_request_id(),
                id: link.id.clone(),
            })
            .await,
        Code::NotFound,
        "OFFER_LINK_NOT_FOUND",
    );
    assert!(
        ok(server
            .offer_links(&plain)
            .list_offer_links(pr::ListOfferLinksRequest::default())
            .await)
        .links
        .is_empty()
    );
    // A suspended partner's links attribute nothing.
    ok(server
        .partners(&admin)
        .suspend_partner(accounts::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: dist.partner_id.clone(),
            reason: "audit".into(),
        })
        .await);
    assert_refused(
        resolve(&server, &link.token).await,
        Code::NotFound,
        "OFFER_LINK_NOT_FOUND",
    );
}
