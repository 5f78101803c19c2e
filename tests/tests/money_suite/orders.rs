//! Orders waiting for payment: priced by the rating in force or kept from a
//! quote, read by the partner and the customer only, refused for a frozen
//! customer and beyond its budget, cancelled by the buyer or when their
//! payment deadline passes — once.

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::pricing::v1 as pr;
use partner_kernel::clock::{Clock, TestClock};
use partner_kernel::db::Db;
use partner_tests::*;
use tonic::Code;

use crate::funds::funded;

/// Two VMs for a year in Beijing (3,040.00) and a 100 GB disk for a month.
fn lines() -> Vec<pr::PeriodProductLine> {
    vec![
        pr::PeriodProductLine {
            line_id: "vm".into(),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            period_unit: pr::PeriodUnit::Year as i32,
            period_count: 1,
            quantity: 2,
            ..Default::default()
        },
        pr::PeriodProductLine {
            line_id: "vm-month".into(),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            quantity: 1,
            ..Default::default()
        },
    ]
}

fn order(customer: &str, lines: Vec<pr::PeriodProductLine>) -> pb::CreateOrderRequest {
    pb::CreateOrderRequest {
        request_id: new_request_id(),
        customer_id: customer.into(),
        lines,
        ..Default::default()
    }
}

fn cancel(id: &str) -> pb::CancelOrderRequest {
    pb::CancelOrderRequest {
        request_id: new_request_id(),
        id: id.into(),
        reason: "changed my mind".into(),
        ..Default::default()
    }
}

async fn created(server: &TestServer, token: &str, req: pb::CreateOrderRequest) -> pb::Order {
    ok(server.orders(token).create_order(req).await)
        .order
        .unwrap_or_else(|| panic!("no order"))
}

#[tokio::test]
async fn an_order_is_priced_at_list_read_by_its_parties_and_cancelled_once() {
    let server = TestServer::start().await;
    let f = funded(&server, "orderco", 0).await;
    let buyer = server
        .customer_with_password(&f.master, &f.partner, "orderco-self")
        .await;
    let rated = ok(server
        .rating(&f.master)
        .rate_period_products(pr::RatePeriodProductsRequest {
            lines: lines(),
            customer_id: buyer.customer_id.clone(),
            auto_pay: false,
        })
        .await);
    let request = order(&buyer.customer_id, lines());
    let made = created(&server, &f.master, request.clone()).await;
    assert_eq!(made.state(), pb::OrderState::PendingPayment);
    assert_eq!(made.r#type(), pb::OrderType::NewPurchase);
    assert_eq!(made.partner_id, f.partner.partner_id);
    assert_eq!(made.lines.len(), 2);
    // The prices are the rating's, line by line, with no discount yet.
    for (line, rated) in made.lines.iter().zip(&rated.lines) {
        assert_eq!(line.list_amount, rated.list_amount);
        assert_eq!(line.final_amount, rated.list_amount);
        assert_eq!(line.unit_price, rated.unit_price);
    }
    assert_eq!(made.list_total, rated.list_total);
    assert_eq!(made.final_total, rated.list_total);
    assert_eq!(minor_of(made.lines[0].list_amount.as_ref()), 304_000);
    let created_at = made.create_time.unwrap_or_default().seconds;
    let deadline = made.payment_deadline.unwrap_or_default().seconds;
    assert_eq!(deadline - created_at, 24 * 3600);
    // A replay is the same order.
    let again = created(&server, &f.master, request).await;
    assert_eq!(again, made);

    // The partner and the customer read it; another partner does not.
    let me = server.customer_token(&buyer.account_name).await;
    let read = |token: String, id: String| {
        let mut client = server.orders(&token);
        async move {
            client
                .get_order(pb::GetOrderRequest {
                    id,
                    ..Default::default()
                })
                .await
        }
    };
    assert_eq!(
        ok(read(f.master.clone(), made.id.clone()).await)
            .order
            .as_ref(),
        Some(&made)
    );
    assert_eq!(
        ok(read(me.clone(), made.id.clone()).await).order.as_ref(),
        Some(&made)
    );
    let other = funded(&server, "orderother", 0).await;
    assert_refused(
        read(other.master.clone(), made.id.clone()).await,
        Code::NotFound,
        "ORDER_NOT_FOUND",
    );
    assert_refused(
        server
            .orders(&other.master)
            .create_order(order(&buyer.customer_id, lines()))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // The customer orders for itself; its list holds both, the other partner's none.
    let own = created(&server, &me, order("", lines()[1..].to_vec())).await;
    assert_eq!(own.customer_id, buyer.customer_id);
    let listed = ok(server
        .orders(&me)
        .list_orders(pb::ListOrdersRequest::default())
        .await)
    .orders;
    assert_eq!(
        listed.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        [own.id.as_str(), made.id.as_str()]
    );
    assert!(
        ok(server
            .orders(&other.master)
            .list_orders(pb::ListOrdersRequest::default())
            .await)
        .orders
        .is_empty()
    );

    // Cancelled once; then it is no longer waiting for payment.
    let gone = ok(server.orders(&me).cancel_order(cancel(&made.id)).await)
        .order
        .unwrap_or_default();
    assert_eq!(gone.state(), pb::OrderState::Cancelled);
    assert_eq!(gone.cancel_reason, "changed my mind");
    let status = assert_refused(
        server
            .orders(&f.master)
            .cancel_order(cancel(&made.id))
            .await,
        Code::FailedPrecondition,
        "ORDER_NOT_PENDING_PAYMENT",
    );
    assert_eq!(metadata_of(&status, "state").as_deref(), Some("CANCELLED"));
    let waiting = ok(server
        .orders(&f.master)
        .list_orders(pb::ListOrdersRequest {
            state: pb::OrderState::PendingPayment as i32,
            ..Default::default()
        })
        .await)
    .orders;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, own.id);

    // Lines or a quote, not both; an unknown product names its line.
    let mut both = order(&buyer.customer_id, lines());
    both.quote_id = "quo_00000000000000000000000000000000".into();
    assert_refused(
        server.orders(&f.master).create_order(both).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let mut unknown = lines();
    unknown[1].spec = "no-such-spec".into();
    let status = assert_refused(
        server
            .orders(&f.master)
            .create_order(order(&buyer.customer_id, unknown))
            .await,
        Code::NotFound,
        "PRODUCT_NOT_FOUND",
    );
    assert_eq!(metadata_of(&status, "line_id").as_deref(), Some("vm-month"));
}

#[tokio::test]
async fn an_order_from_a_quote_keeps_its_prices_and_discount() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let f = funded(&server, "quoteorder", 0).await;
    let contract = ok(server
        .discounts(&admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::VendorContract as i32,
            name: "contract".into(),
            customer_id: f.customer.customer_id.clone(),
            terms: Some(pr::create_discount_request::Terms::RateOff("0.1".into())),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap_or_default()
    .id;
    let quote = ok(server
        .quotes(&f.master)
        .create_quote(pr::CreateQuoteRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            lines: lines()[..1].to_vec(),
            discount_id: contract.clone(),
            ..Default::default()
        })
        .await)
    .quote
    .unwrap_or_default();
    let made = created(
        &server,
        &f.master,
        pb::CreateOrderRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            quote_id: quote.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(made.quote_id, quote.id);
    assert_eq!(made.discount_id, contract);
    assert_eq!(minor_of(made.list_total.as_ref()), 304_000);
    assert_eq!(minor_of(made.discount_total.as_ref()), 30_400);
    assert_eq!(minor_of(made.final_total.as_ref()), 273_600);
    assert_eq!(made.final_total, quote.final_total);
    assert_eq!(made.lines[0].product.as_ref(), quote.lines.first());
    // Another customer's quote is not found.
    let other = server
        .create_customer(&f.master, &f.partner, "quoteorder-other")
        .await;
    assert_refused(
        server
            .orders(&f.master)
            .create_order(pb::CreateOrderRequest {
                request_id: new_request_id(),
                customer_id: other.customer_id,
                quote_id: quote.id,
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "QUOTE_NOT_FOUND",
    );
}

#[tokio::test]
async fn frozen_customers_and_exhausted_budgets_buy_nothing() {
    let server = TestServer::start().await;
    let f = funded(&server, "budgetco", 0).await;
    let c = f.customer.customer_id.clone();
    // A budget of 5,000.00: one year of two VMs (3,040.00) fits, a second does not
    // while the first waits for payment, and fits again once it is cancelled.
    ok(server
        .customers(&f.master)
        .set_customer_budget(cu::SetCustomerBudgetRequest {
            request_id: new_request_id(),
            customer_id: c.clone(),
            amount: Some(cny(500_000)),
            budget_type: cu::BudgetType::Monthly as i32,
            auto_freeze: false,
            reseller_id: String::new(),
        })
        .await);
    let first = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let status = assert_refused(
        server
            .orders(&f.master)
            .create_order(order(&c, lines()[..1].to_vec()))
            .await,
        Code::FailedPrecondition,
        "BUDGET_EXCEEDED",
    );
    assert_eq!(metadata_of(&status, "left").as_deref(), Some("1960.00 CNY"));
    ok(server
        .orders(&f.master)
        .cancel_order(cancel(&first.id))
        .await);
    created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;

    ok(server
        .customers(&f.master)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![c.clone()],
            mode: cu::FreezeMode::Account as i32,
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await);
    assert_refused(
        server
            .orders(&f.master)
            .create_order(order(&c, lines()[1..].to_vec()))
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_FROZEN",
    );
}

#[tokio::test]
async fn unpaid_orders_are_cancelled_once_when_their_deadline_passes() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    // Thirty minutes to pay: well within the test tokens' hour.
    let server =
        TestServer::start_with_clock_and(clock.clone(), |c| c.order_payment_minutes = 30).await;
    let f = funded(&server, "lateco", 0).await;
    let made = created(&server, &f.master, order(&f.customer.customer_id, lines())).await;
    clock.advance(Duration::minutes(31));
    // Past its deadline it is the job's to cancel, not the buyer's.
    let status = assert_refused(
        server
            .orders(&f.master)
            .cancel_order(cancel(&made.id))
            .await,
        Code::FailedPrecondition,
        "ORDER_NOT_PENDING_PAYMENT",
    );
    assert_eq!(
        metadata_of(&status, "state").as_deref(),
        Some("PAST_DEADLINE")
    );
    let now = clock.now();
    let replica = |url: String| async move {
        let db = Db::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        partner_billing::orders::expire_due(&db, now).await
    };
    let url = server.db.url.clone();
    let (a, b) = tokio::join!(replica(url.clone()), replica(url));
    let cancelled = a.unwrap_or_else(|e| panic!("{e}")) + b.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cancelled, 1);
    let gone = ok(server
        .orders(&f.master)
        .get_order(pb::GetOrderRequest {
            id: made.id,
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(gone.state(), pb::OrderState::Cancelled);
    assert_eq!(gone.cancel_reason, "the payment deadline passed");
}
