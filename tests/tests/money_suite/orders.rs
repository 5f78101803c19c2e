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
pub(crate) fn lines() -> Vec<pr::PeriodProductLine> {
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
            main_line_id: String::new(),
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
            main_line_id: String::new(),
            ..Default::default()
        },
    ]
}

pub(crate) fn order(customer: &str, lines: Vec<pr::PeriodProductLine>) -> pb::CreateOrderRequest {
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

pub(crate) async fn created(
    server: &TestServer,
    token: &str,
    req: pb::CreateOrderRequest,
) -> pb::Order {
    ok(server.orders(token).create_order(req).await)
        .order
        .unwrap_or_else(|| panic!("no order"))
}

/// A partner with 10,000.00 of cash and a RESELLER customer it funded with
/// `minor` fen.
pub(crate) async fn buyer(server: &TestServer, name: &str, minor: i64) -> crate::funds::Funded {
    let f = funded(server, name, 1_000_000).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(crate::funds::fund(&f.customer, minor))
        .await);
    f
}

/// The order `id` as `token` reads it.
pub(crate) async fn order_of(server: &TestServer, token: &str, id: impl Into<String>) -> pb::Order {
    ok(server
        .orders(token)
        .get_order(pb::GetOrderRequest {
            id: id.into(),
            ..Default::default()
        })
        .await)
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

/// A 10% vendor contract for the customer of `f`, and a quote of the
/// first line with it: the contract's id and the quote.
pub(crate) async fn contract_quote(
    server: &TestServer,
    admin: &str,
    f: &crate::funds::Funded,
) -> (String, pr::Quote) {
    let contract = ok(server
        .discounts(admin)
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
    (contract, quote)
}

#[tokio::test]
async fn an_order_from_a_quote_keeps_its_prices_and_discount() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let f = funded(&server, "quoteorder", 0).await;
    let (contract, quote) = contract_quote(&server, &admin, &f).await;
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
    let f = buyer(&server, "budgetco", 900_000).await;
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
            lift_budget_freeze: false,
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
    let second = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    // Paid, it is spent: the budget no longer holds another.
    ok(server
        .orders(&f.master)
        .pay_order(pay(&second.id, &[], ""))
        .await);
    let budget = ok(server
        .customers(&f.master)
        .get_customer_budget(cu::GetCustomerBudgetRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(minor_of(budget.used.as_ref()), 304_000);
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
    let gone = order_of(&server, &f.master, made.id).await;
    assert_eq!(gone.state(), pb::OrderState::Cancelled);
    assert_eq!(gone.cancel_reason, "the payment deadline passed");
}

pub(crate) fn pay(id: &str, coupons: &[&str], discount: &str) -> pb::PayOrderRequest {
    pb::PayOrderRequest {
        request_id: new_request_id(),
        id: id.into(),
        coupon_ids: coupons.iter().map(|c| (*c).to_owned()).collect(),
        discount_id: discount.into(),
        ..Default::default()
    }
}

/// The customer's cash, in fen.
pub async fn cash(server: &TestServer, token: &str, customer: &str) -> i64 {
    ok(server
        .funds(token)
        .get_balances(pb::GetBalancesRequest {
            customer_id: customer.into(),
            ..Default::default()
        })
        .await)
    .balances
    .iter()
    .find(|b| b.kind() == pb::AccountKind::CustomerCash)
    .map_or(0, |b| minor_of(b.balance.as_ref()))
}

/// A coupon of `minor` fen for the customer, limited to `services`.
pub(crate) async fn coupon_for(
    server: &TestServer,
    admin: &str,
    master: &str,
    partner: &str,
    customer: &str,
    minor: i64,
    services: &[&str],
) -> pb::Coupon {
    let quota = ok(server
        .coupons(admin)
        .grant_coupon_quota(pb::GrantCouponQuotaRequest {
            request_id: new_request_id(),
            partner_id: partner.into(),
            r#type: pb::CouponType::Voucher as i32,
            value: Some(cny(minor)),
            valid_until: Some(partner_kernel::clock::to_proto_timestamp(
                Utc::now() + Duration::days(30),
            )),
            ..Default::default()
        })
        .await)
    .quota
    .unwrap_or_default();
    ok(server
        .coupons(master)
        .issue_coupons(pb::IssueCouponsRequest {
            request_id: new_request_id(),
            quota_id: quota.id,
            customer_ids: vec![customer.into()],
            face_value: Some(cny(minor)),
            service_types: services.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        })
        .await)
    .results
    .into_iter()
    .next()
    .and_then(|r| r.coupon)
    .unwrap_or_else(|| panic!("no coupon"))
}

#[tokio::test]
async fn paying_takes_coupons_then_cash_all_or_nothing_and_opens_the_resources() {
    let server = TestServer::start().await;
    let f = buyer(&server, "payco", 200_000).await;
    let c = f.customer.customer_id.clone();
    let coupon = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        50_000,
        &["compute"],
    )
    .await;
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    assert_eq!(minor_of(made.final_total.as_ref()), 304_000);

    // The coupon is listed as able to pay 500.00 of it.
    let usable = ok(server
        .orders(&f.master)
        .list_order_coupons(pb::ListOrderCouponsRequest {
            id: made.id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(usable.max_coupons, 3);
    assert_eq!(usable.coupons.len(), 1);
    assert_eq!(
        usable.coupons[0].coupon.as_ref().map(|c| c.id.as_str()),
        Some(coupon.id.as_str())
    );
    assert_eq!(minor_of(usable.coupons[0].usable_amount.as_ref()), 50_000);
    // 500.00 from the coupon and 2,000.00 of cash do not cover 3,040.00: nothing moves.
    assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&made.id, &[&coupon.id], ""))
            .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    assert_eq!(cash(&server, &f.master, &c).await, 200_000);
    let still = order_of(&server, &f.master, made.id.clone()).await;
    assert_eq!(still.state(), pb::OrderState::PendingPayment);

    // With 1,000.00 more it is paid: the coupon first, then cash.
    ok(server
        .funds(&f.master)
        .transfer_to_customer(crate::funds::fund(&f.customer, 100_000))
        .await);
    let request = pay(&made.id, &[&coupon.id], "");
    let paid = ok(server.orders(&f.master).pay_order(request.clone()).await)
        .order
        .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(minor_of(paid.coupon_total.as_ref()), 50_000);
    assert_eq!(minor_of(paid.paid_total.as_ref()), 254_000);
    assert_eq!(paid.lines[0].resource_ids.len(), 2);
    assert!(paid.complete_time.is_some());
    // The answer is the order as it was written.
    assert_eq!(order_of(&server, &f.master, made.id.clone()).await, paid);
    // Its resources: the partner's and the customer's to read, a year long.
    let opened = ok(server
        .resources(&f.master)
        .list_resources(pb::ListResourcesRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .resources;
    assert_eq!(opened.len(), 2);
    let r = &opened[0];
    assert_eq!(r.status(), pb::ResourceStatus::InUse);
    assert_eq!(r.order_id, made.id);
    assert_eq!(
        (r.service_type.as_str(), r.spec.as_str()),
        ("compute", "c6.large.2")
    );
    let from = r.effective_time.unwrap_or_default().seconds;
    let to = r.expire_time.unwrap_or_default().seconds;
    assert!((365..=366).contains(&((to - from) / 86_400)), "{r:?}");
    assert!(paid.lines[0].resource_ids.contains(&r.id));
    let stranger = funded(&server, "paystranger", 0).await;
    assert_refused(
        server
            .resources(&stranger.master)
            .get_resource(pb::GetResourceRequest {
                id: r.id.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    assert_eq!(cash(&server, &f.master, &c).await, 300_000 - 254_000);
    // The coupon is spent.
    let spent = ok(server
        .coupons(&f.master)
        .list_issued_coupons(pb::ListIssuedCouponsRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .coupons;
    assert_eq!(spent[0].state(), pb::CouponState::Used);
    let records = ok(server
        .coupons(&f.master)
        .list_coupon_records(pb::ListCouponRecordsRequest {
            coupon_id: coupon.id.clone(),
            ..Default::default()
        })
        .await)
    .records;
    assert_eq!(records[0].r#type(), pb::CouponRecordType::Use);
    assert_eq!(minor_of(records[0].amount.as_ref()), 50_000);
    assert_eq!(minor_of(spent[0].balance.as_ref()), 0);
    // A replay answers the same; another payment finds it completed.
    assert_eq!(
        ok(server.orders(&f.master).pay_order(request).await)
            .order
            .as_ref(),
        Some(&paid)
    );
    let status = assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&made.id, &[], ""))
            .await,
        Code::FailedPrecondition,
        "ORDER_NOT_PENDING_PAYMENT",
    );
    assert_eq!(metadata_of(&status, "state").as_deref(), Some("COMPLETED"));
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn coupons_must_be_the_customers_usable_and_cover_something() {
    let server = TestServer::start().await;
    let f = buyer(&server, "picky", 900_000).await;
    let c = f.customer.customer_id.clone();
    let storage_only = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        1_000,
        &["storage"],
    )
    .await;
    let other = server
        .create_customer(&f.master, &f.partner, "picky-other")
        .await;
    let theirs = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &other.customer_id,
        1_000,
        &[],
    )
    .await;
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let status = assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&made.id, &[&storage_only.id], ""))
            .await,
        Code::FailedPrecondition,
        "COUPON_NOT_USABLE",
    );
    assert_eq!(
        metadata_of(&status, "coupon_id"),
        Some(storage_only.id.clone())
    );
    assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&made.id, &[&theirs.id], ""))
            .await,
        Code::NotFound,
        "COUPON_NOT_FOUND",
    );
    let status = assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&made.id, &[&theirs.id, &theirs.id], ""))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["coupon_ids[1]"]);
    assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(
                &made.id,
                &[],
                &partner_kernel::ids::DiscountId::generate().to_string(),
            ))
            .await,
        Code::FailedPrecondition,
        "DISCOUNT_NOT_APPLICABLE",
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_discount_in_force_is_taken_when_paying() {
    let server = TestServer::start().await;
    let f = buyer(&server, "discpay", 900_000).await;
    let c = f.customer.customer_id.clone();
    let contract = ok(server
        .discounts(&f.admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::VendorContract as i32,
            name: "contract".into(),
            customer_id: c.clone(),
            terms: Some(pr::create_discount_request::Terms::RateOff("0.1".into())),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap_or_default()
    .id;
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    // Listed first with what it takes off: what paying with it then takes.
    let listed = ok(server
        .orders(&f.master)
        .list_order_discounts(pb::ListOrderDiscountsRequest {
            id: made.id.clone(),
            ..Default::default()
        })
        .await)
    .discounts;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].discount_id, contract);
    assert_eq!(listed[0].vendor_code, 605);
    assert!(listed[0].best_offer);
    assert_eq!(minor_of(listed[0].discount_amount.as_ref()), 30_400);
    assert_eq!(minor_of(listed[0].final_amount.as_ref()), 273_600);
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], &contract))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(paid.discount_id, contract);
    assert_eq!(order_of(&server, &f.master, made.id.clone()).await, paid);
    assert_eq!(minor_of(paid.discount_total.as_ref()), 30_400);
    assert_eq!(minor_of(paid.final_total.as_ref()), 273_600);
    assert_eq!(minor_of(paid.paid_total.as_ref()), 273_600);
    assert_eq!(minor_of(paid.lines[0].final_amount.as_ref()), 273_600);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - 273_600);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn twenty_concurrent_payments_of_one_order_pay_it_once() {
    let server = TestServer::start().await;
    let f = buyer(&server, "raceorder", 900_000).await;
    let c = f.customer.customer_id.clone();
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let attempts = (0..20).map(|_| {
        let mut client = server.orders(&f.master);
        let request = pay(&made.id, &[], "");
        async move { client.pay_order(request).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let mut paid = 0;
    for outcome in outcomes {
        match outcome {
            Ok(_) => paid += 1,
            Err(status) => {
                assert_refused(
                    Err::<(), _>(status),
                    Code::FailedPrecondition,
                    "ORDER_NOT_PENDING_PAYMENT",
                );
            }
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - 304_000);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_leaving_customer_leaves_no_order_its_partner_could_pay() {
    let server = TestServer::start().await;
    let f = buyer(&server, "leaveorder", 900_000).await;
    let c = f.customer.customer_id.clone();
    let waiting = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    ok(server
        .customers(&f.master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: c.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await);
    let gone = order_of(&server, &f.master, waiting.id.clone()).await;
    assert_eq!(gone.state(), pb::OrderState::Cancelled);
    assert_eq!(gone.cancel_reason, "the customer left the partner");
    // The customer is no longer the partner's: nothing of it is paid.
    assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&waiting.id, &[], ""))
            .await,
        Code::NotFound,
        "ORDER_NOT_FOUND",
    );
    // An order of more than 1,000 resources is refused before anything.
    let many: Vec<pr::PeriodProductLine> = (0..11)
        .map(|i| pr::PeriodProductLine {
            line_id: format!("vm{i}"),
            quantity: 100,
            main_line_id: String::new(),
            ..lines()[1].clone()
        })
        .collect();
    let other = server
        .create_customer(&f.master, &f.partner, "leaveorder-2")
        .await;
    let status = assert_refused(
        server
            .orders(&f.master)
            .create_order(order(&other.customer_id, many))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["lines"]);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_partner_pays_its_customers_order_through_an_active_agreement() {
    let server = TestServer::start().await;
    let f = funded(&server, "payer", 1_000_000).await;
    let buyer = server
        .customer_with_password(&f.master, &f.partner, "payer-paid")
        .await;
    let c = buyer.customer_id.clone();
    let agreement = ok(server
        .payment_agreements(&f.master)
        .create_payment_agreement(pb::CreatePaymentAgreementRequest {
            request_id: new_request_id(),
            r#type: pb::PaymentAgreementType::Customer as i32,
            payee_id: c.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let mut on_behalf = pay(&made.id, &[], "");
    on_behalf.payment_agreement_id = agreement.id.clone();
    // Proposed, not yet accepted: it pays nothing.
    let status = assert_refused(
        server.orders(&f.master).pay_order(on_behalf.clone()).await,
        Code::FailedPrecondition,
        "AGREEMENT_NOT_ACTIVE",
    );
    assert_eq!(metadata_of(&status, "state").as_deref(), Some("PENDING"));
    let me = server.customer_token(&buyer.account_name).await;
    ok(server
        .payment_agreements(&me)
        .accept_payment_agreement(pb::AcceptPaymentAgreementRequest {
            request_id: new_request_id(),
            id: agreement.id.clone(),
        })
        .await);
    // Another customer's agreement does not pay this one's order.
    let other = server
        .customer_with_password(&f.master, &f.partner, "payer-other")
        .await;
    let theirs = ok(server
        .payment_agreements(&f.master)
        .create_payment_agreement(pb::CreatePaymentAgreementRequest {
            request_id: new_request_id(),
            r#type: pb::PaymentAgreementType::Customer as i32,
            payee_id: other.customer_id.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    let mut wrong = pay(&made.id, &[], "");
    wrong.payment_agreement_id = theirs.id;
    assert_refused(
        server.orders(&f.master).pay_order(wrong).await,
        Code::NotFound,
        "AGREEMENT_NOT_FOUND",
    );
    // Spending the partner's money takes funds.transfer, which Sales lacks.
    let (_, sales) = server
        .user_with_role(&f.master, "payer.sales", "SALES")
        .await;
    let mut by_sales = pay(&made.id, &[], "");
    by_sales.payment_agreement_id = agreement.id.clone();
    assert_refused(
        server.orders(&sales).pay_order(by_sales).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // Accepted: the partner's cash pays; the customer's holds nothing and pays nothing.
    on_behalf.request_id = new_request_id();
    let paid = ok(server.orders(&me).pay_order(on_behalf).await)
        .order
        .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(paid.payment_agreement_id, agreement.id);
    assert_eq!(minor_of(paid.paid_total.as_ref()), 304_000);
    assert_eq!(order_of(&server, &me, paid.id.clone()).await, paid);
    assert_eq!(cash(&server, &f.master, &c).await, 0);
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    let partner_cash = own
        .iter()
        .find(|b| b.kind() == pb::AccountKind::PartnerCash)
        .map_or(0, |b| minor_of(b.balance.as_ref()));
    assert_eq!(partner_cash, 1_000_000 - 304_000);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_line_whose_resources_fail_to_open_is_charged_nothing() {
    // The fault hook: the built-in provisioner fails every c6.large.2.
    let server = TestServer::start_on(TestDb::fresh().await, |c| {
        c.failing_specs = vec!["c6.large.2".into()];
    })
    .await;
    let f = buyer(&server, "faultco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let coupon = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        200_000,
        &["compute"],
    )
    .await;
    // Two VMs for a year (fail) and a 100 GB disk for a year (opens).
    let mut both = lines()[..1].to_vec();
    both.push(pr::PeriodProductLine {
        line_id: "disk".into(),
        service_type: "block_storage".into(),
        resource_type: "volume".into(),
        spec: "ssd".into(),
        region: "cn-north-1".into(),
        size: 100,
        period_unit: pr::PeriodUnit::Year as i32,
        period_count: 1,
        quantity: 1,
        main_line_id: String::new(),
        ..Default::default()
    });
    let made = created(&server, &f.master, order(&c, both)).await;
    let disk = minor_of(made.lines[1].final_amount.as_ref());
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[&coupon.id], ""))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    // The VMs failed: no resources, nothing charged, the coupon (which only
    // covered them) untouched; the disk opened and was paid from cash.
    assert!(paid.lines[0].resource_ids.is_empty());
    assert!(paid.lines[0].failure_reason.contains("c6.large.2"));
    assert_eq!(paid.lines[1].resource_ids.len(), 1);
    assert_eq!(paid.lines[1].failure_reason, "");
    assert_eq!(order_of(&server, &f.master, made.id.clone()).await, paid);
    assert_eq!(minor_of(paid.coupon_total.as_ref()), 0);
    assert_eq!(minor_of(paid.paid_total.as_ref()), disk);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - disk);
    let coupons = ok(server
        .coupons(&f.master)
        .list_issued_coupons(pb::ListIssuedCouponsRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .coupons;
    assert_eq!(minor_of(coupons[0].balance.as_ref()), 200_000);
    assert_eq!(coupons[0].state(), pb::CouponState::Usable);

    // A coupon for anything pays the line that opened when the one it was
    // first spent on fails: sources are charged as if only the opened
    // lines had been paid.
    let any = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        100_000,
        &[],
    )
    .await;
    let mut again = lines()[..1].to_vec();
    again.push(made.lines[1].product.clone().unwrap_or_default());
    let second = created(&server, &f.master, order(&c, again)).await;
    let before = cash(&server, &f.master, &c).await;
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&second.id, &[&any.id], ""))
        .await)
    .order
    .unwrap_or_default();
    let from_coupon = disk.min(100_000);
    assert_eq!(minor_of(paid.coupon_total.as_ref()), from_coupon);
    assert_eq!(minor_of(paid.paid_total.as_ref()), disk - from_coupon);
    assert_eq!(
        cash(&server, &f.master, &c).await,
        before - (disk - from_coupon)
    );

    // Nothing opens: nothing is paid, and the order still waits.
    let vms = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let before = cash(&server, &f.master, &c).await;
    assert_refused(
        server
            .orders(&f.master)
            .pay_order(pay(&vms.id, &[], ""))
            .await,
        Code::Unavailable,
        "RESOURCES_UNAVAILABLE",
    );
    assert_eq!(cash(&server, &f.master, &c).await, before);
    let waiting = order_of(&server, &f.master, vms.id).await;
    assert_eq!(waiting.state(), pb::OrderState::PendingPayment);
    server.assert_ledger_clean().await;
}

/// Makes every insert of a resource fail (a fault between the payment's
/// holds and its capture), on SQLite or PostgreSQL; `false` lifts it.
async fn fault(server: &TestServer, on: bool) {
    let postgres = server.db.url.starts_with("postgres");
    let statements: &[&str] = match (on, postgres) {
        (true, false) => &["CREATE TRIGGER injected_fault BEFORE INSERT ON resources \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END"],
        (true, true) => &[
            "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'injected fault'; END $$",
            "CREATE TRIGGER injected_fault BEFORE INSERT ON resources \
             FOR EACH ROW EXECUTE FUNCTION injected_fault()",
        ],
        (false, false) => &["DROP TRIGGER injected_fault"],
        (false, true) => &[
            "DROP TRIGGER injected_fault ON resources",
            "DROP FUNCTION injected_fault()",
        ],
    };
    for sql in statements {
        server
            .execute_sql(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn a_fault_between_the_legs_leaves_nothing_and_the_retry_pays_once() {
    let server = TestServer::start().await;
    let f = buyer(&server, "faultyco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let coupon = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        50_000,
        &[],
    )
    .await;
    let made = created(&server, &f.master, order(&c, lines()[..1].to_vec())).await;
    let request = pay(&made.id, &[&coupon.id], "");
    let ledger_before = server.rows("ledger_transactions").await;

    // The coupon and the cash are held, the order is PROCESSING — and the
    // resources fail to be written: everything goes back.
    fault(&server, true).await;
    let failed = server.orders(&f.master).pay_order(request.clone()).await;
    assert!(failed.is_err(), "{failed:?}");
    fault(&server, false).await;
    let still = order_of(&server, &f.master, made.id.clone()).await;
    assert_eq!(still.state(), pb::OrderState::PendingPayment);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000);
    assert_eq!(server.rows("ledger_transactions").await, ledger_before);
    assert_eq!(server.rows("ledger_holds").await, 0);
    assert_eq!(server.rows("order_payments").await, 0);
    assert_eq!(server.rows("resources").await, 0);
    server.assert_ledger_clean().await;

    // The retry with the same request id pays it, once, as a clean run would.
    let paid = ok(server.orders(&f.master).pay_order(request.clone()).await)
        .order
        .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(minor_of(paid.coupon_total.as_ref()), 50_000);
    assert_eq!(minor_of(paid.paid_total.as_ref()), 254_000);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - 254_000);
    assert_eq!(server.rows("ledger_transactions").await, ledger_before + 1);
    assert_eq!(server.rows("resources").await, 2);
    let again = ok(server.orders(&f.master).pay_order(request).await)
        .order
        .unwrap_or_default();
    assert_eq!(again, paid);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_paid_renewal_moves_the_expiry_as_its_preview_said() {
    let server = TestServer::start().await;
    let f = buyer(&server, "renewco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let bought = created(&server, &f.master, order(&c, lines()[1..].to_vec())).await;
    let bought = ok(server
        .orders(&f.master)
        .pay_order(pay(&bought.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    let id = bought.lines[0].resource_ids[0].clone();
    let before = ok(server
        .resources(&f.master)
        .get_resource(pb::GetResourceRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();

    let preview = ok(server
        .resources(&f.master)
        .preview_renewal(pb::PreviewRenewalRequest {
            resource_ids: vec![id.clone()],
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 2,
            ..Default::default()
        })
        .await);
    let until = preview.results[0]
        .new_expire_time
        .unwrap_or_default()
        .seconds;
    let from = before.expire_time.unwrap_or_default().seconds;
    assert!(
        (59..=62).contains(&((until - from) / 86_400)),
        "{preview:?}"
    );
    let total = minor_of(preview.list_total.as_ref());
    assert!(total > 0);

    let renewal = ok(server
        .resources(&f.master)
        .renew_resources(pb::RenewResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![id.clone()],
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 2,
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(renewal.r#type(), pb::OrderType::Renewal);
    assert_eq!(renewal.state(), pb::OrderState::PendingPayment);
    assert_eq!(renewal.lines[0].renews_resource_id, id);
    assert_eq!(minor_of(renewal.final_total.as_ref()), total);
    let cash_before = cash(&server, &f.master, &c).await;
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&renewal.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(cash(&server, &f.master, &c).await, cash_before - total);
    let after = ok(server
        .resources(&f.master)
        .get_resource(pb::GetResourceRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();
    // Exactly what the preview said; no new resource.
    assert_eq!(after.expire_time, preview.results[0].new_expire_time);
    assert_eq!(server.rows("resources").await, 1);

    // Another partner's resource is not found; four years is not a renewal.
    let other = funded(&server, "renewother", 0).await;
    assert_refused(
        server
            .resources(&other.master)
            .preview_renewal(pb::PreviewRenewalRequest {
                resource_ids: vec![id.clone()],
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 1,
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    assert_refused(
        server
            .resources(&f.master)
            .preview_renewal(pb::PreviewRenewalRequest {
                resource_ids: vec![id],
                period_unit: pr::PeriodUnit::Year as i32,
                period_count: 4,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    server.assert_ledger_clean().await;
}
