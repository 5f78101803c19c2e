//! Quotes through the real server: a rating frozen for a customer with its
//! chosen discount, kept as it was when prices and discounts change, expired
//! on the platform clock, readable only by its partner and its customer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::pricing::v1 as pr;
use partner_api::r#type::v1::Money;
use partner_kernel::clock::TestClock;
use partner_tests::*;
use tonic::Code;

fn cny(units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        units,
        nanos: 0,
    })
}

/// Two VMs for a year in Beijing: 3,040.00.
fn lines() -> Vec<pr::PeriodProductLine> {
    vec![pr::PeriodProductLine {
        line_id: "vm".into(),
        service_type: "compute".into(),
        resource_type: "vm".into(),
        spec: "c6.large.2".into(),
        region: "cn-north-1".into(),
        period_unit: pr::PeriodUnit::Year as i32,
        period_count: 1,
        quantity: 2,
        main_line_id: String::new(),
        ..Default::default()
    }]
}

struct World {
    server: TestServer,
    admin: String,
    master: String,
    customer: String,
    customer_login: String,
    contract: String,
}

/// A partner whose customer has a vendor contract of 10 % and the
/// partner's own 15 %.
async fn world(server: TestServer) -> World {
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "quoter").await;
    let customer = server
        .customer_with_password(&master, &partner, "quoted")
        .await;
    let mut operator = server.discounts(&admin);
    ok(operator
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: partner.partner_id.clone(),
            max_rate_off: "0.2".into(),
            ..Default::default()
        })
        .await);
    let contract = ok(operator
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::VendorContract as i32,
            name: "contract".into(),
            customer_id: customer.customer_id.clone(),
            terms: Some(pr::create_discount_request::Terms::RateOff("0.1".into())),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap()
    .id;
    set_rate(&server, &master, &customer.customer_id, "0.15").await;
    World {
        server,
        admin,
        master,
        customer: customer.customer_id,
        customer_login: customer.account_name,
        contract,
    }
}

async fn set_rate(server: &TestServer, master: &str, customer: &str, rate: &str) {
    ok(server
        .discounts(master)
        .set_customer_discount(pr::SetCustomerDiscountRequest {
            request_id: new_request_id(),
            customer_id: customer.into(),
            rate_off: rate.into(),
            ..Default::default()
        })
        .await);
}

fn request(customer: &str) -> pr::CreateQuoteRequest {
    pr::CreateQuoteRequest {
        request_id: new_request_id(),
        customer_id: customer.into(),
        lines: lines(),
        ..Default::default()
    }
}

async fn quote(
    server: &TestServer,
    token: &str,
    req: pr::CreateQuoteRequest,
) -> Result<pr::Quote, tonic::Status> {
    server
        .quotes(token)
        .create_quote(req)
        .await
        .map(|r| r.into_inner().quote.unwrap())
}

async fn get(server: &TestServer, token: &str, id: &str) -> Result<pr::Quote, tonic::Status> {
    server
        .quotes(token)
        .get_quote(pr::GetQuoteRequest { id: id.into() })
        .await
        .map(|r| r.into_inner().quote.unwrap())
}

#[tokio::test]
async fn a_quote_freezes_the_best_offer_or_the_discount_named_and_keeps_it() {
    let w = world(TestServer::start().await).await;
    let s = &w.server;
    // The best offer: the partner's 15 % (456.00 off 3,040.00).
    let q = quote(s, &w.master, request(&w.customer)).await.unwrap();
    assert_eq!(q.list_total, cny(3040));
    assert_eq!(q.discount_total, cny(456));
    assert_eq!(q.final_total, cny(2584));
    assert_eq!(q.state, pr::QuoteState::Active as i32);
    assert_eq!(q.rating.as_ref().unwrap().discount_results.len(), 2);
    let best = q.rating.as_ref().unwrap().discount_results[0].clone();
    assert_eq!(q.discount_id, best.discount_id);
    let expires = q.expire_time.unwrap().seconds - q.create_time.unwrap().seconds;
    assert_eq!(expires, 7 * 86_400);

    // The contract, named.
    let mut named = request(&w.customer);
    named.discount_id = w.contract.clone();
    let c = quote(s, &w.master, named.clone()).await.unwrap();
    assert_eq!(
        (c.discount_id.as_str(), c.final_total.clone()),
        (w.contract.as_str(), cny(2736))
    );
    // A replay is the same quote.
    assert_eq!(quote(s, &w.master, named).await.unwrap().id, c.id);
    // A discount that does not apply to this customer.
    let (other_partner, other_master) = s.register_partner(&w.admin, "elsewhere").await;
    let stranger = s
        .create_customer(&other_master, &other_partner, "stranger")
        .await;
    let foreign = ok(s
        .discounts(&w.admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::VendorContract as i32,
            name: "theirs".into(),
            customer_id: stranger.customer_id.clone(),
            terms: Some(pr::create_discount_request::Terms::RateOff("0.5".into())),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap();
    let mut wrong = request(&w.customer);
    wrong.discount_id = foreign.id;
    assert_refused(
        quote(s, &w.master, wrong).await,
        Code::NotFound,
        "DISCOUNT_NOT_FOUND",
    );

    // The partner raises its rate: new ratings change, the quote does not,
    // and a replay of the first request still answers the first quote.
    let first = pr::CreateQuoteRequest {
        request_id: new_request_id(),
        ..request(&w.customer)
    };
    let original = quote(s, &w.master, first.clone()).await.unwrap();
    set_rate(s, &w.master, &w.customer, "0.2").await;
    assert_eq!(quote(s, &w.master, first).await.unwrap(), original);
    let later = quote(s, &w.master, request(&w.customer)).await.unwrap();
    assert_eq!(later.final_total, cny(2432));
    assert_eq!(get(s, &w.master, &q.id).await.unwrap(), q);

    // Listed newest first; the customer reads those made for it.
    let listed = ok(s
        .quotes(&w.master)
        .list_quotes(pr::ListQuotesRequest {
            customer_id: w.customer.clone(),
            ..Default::default()
        })
        .await)
    .quotes;
    let ids: Vec<_> = listed.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            later.id.as_str(),
            original.id.as_str(),
            c.id.as_str(),
            q.id.as_str()
        ]
    );
    let own = s.customer_token(&w.customer_login).await;
    assert_eq!(get(s, &own, &q.id).await.unwrap(), q);
    let mine = ok(s
        .quotes(&own)
        .list_quotes(pr::ListQuotesRequest::default())
        .await)
    .quotes;
    assert_eq!(mine.len(), 4);

    // Another partner neither reads it nor quotes for this customer.
    assert_refused(
        get(s, &other_master, &q.id).await,
        Code::NotFound,
        "QUOTE_NOT_FOUND",
    );
    assert_refused(
        quote(s, &other_master, request(&w.customer)).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let theirs = ok(s
        .quotes(&other_master)
        .list_quotes(pr::ListQuotesRequest {
            customer_id: w.customer.clone(),
            ..Default::default()
        })
        .await)
    .quotes;
    assert!(theirs.is_empty());
}

#[tokio::test]
async fn a_quote_expires_on_the_platform_clock() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let w = world(TestServer::start_with_clock(clock.clone()).await).await;
    let s = &w.server;
    let mut req = request(&w.customer);
    req.expire_time = Some(prost_types::Timestamp {
        seconds: (partner_kernel::clock::Clock::now(&*clock) + Duration::days(1)).timestamp(),
        nanos: 0,
    });
    let q = quote(s, &w.master, req).await.unwrap();
    assert_eq!(q.state, pr::QuoteState::Active as i32);
    clock.advance(Duration::hours(23));
    let master = s.login("quoter", USER_PASSWORD).await;
    assert_eq!(
        get(s, &master, &q.id).await.unwrap().state,
        pr::QuoteState::Active as i32
    );
    clock.advance(Duration::hours(1));
    let master = s.login("quoter", USER_PASSWORD).await;
    let expired = get(s, &master, &q.id).await.unwrap();
    assert_eq!(expired.state, pr::QuoteState::Expired as i32);
    // Everything else is as it was.
    assert_eq!(expired.final_total, q.final_total);

    // An expiry in the past or beyond 30 days is refused.
    for days in [-1, 31] {
        let mut req = request(&w.customer);
        req.expire_time = Some(prost_types::Timestamp {
            seconds: (partner_kernel::clock::Clock::now(&*clock) + Duration::days(days))
                .timestamp(),
            nanos: 0,
        });
        let bad = quote(s, &master, req).await.unwrap_err();
        assert_eq!(violated_fields(&bad), vec!["expire_time"], "{days}");
    }
}
