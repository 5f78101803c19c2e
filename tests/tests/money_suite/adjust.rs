//! The operator's price adjustment (609): an order waiting for payment is
//! set to a lower final total, the reduction is its discount shared over
//! its lines, it is the only discount listed and the one the order must be
//! paid with — and a payment never charges a price the order no longer has.

use partner_api::billing::v1 as pb;
use partner_tests::*;
use tonic::Code;

use crate::orders::{buyer, cash, created, lines, order, order_of, pay};

fn adjust(id: &str, minor: i64, currency: &str) -> pb::AdjustOrderPriceRequest {
    pb::AdjustOrderPriceRequest {
        request_id: new_request_id(),
        id: id.into(),
        final_total: Some(partner_api::r#type::v1::Money {
            currency_code: currency.into(),
            units: minor / 100,
            nanos: i32::try_from((minor % 100) * 10_000_000).unwrap_or(0),
        }),
        reason: "negotiated for the year".into(),
    }
}

#[tokio::test]
async fn an_adjusted_price_is_the_orders_only_discount_and_is_what_is_paid() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let f = buyer(&server, "adjustco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let made = created(&server, &f.master, order(&c, lines())).await;
    let list = minor_of(made.list_total.as_ref());

    // A partner does not adjust prices.
    assert_refused(
        server
            .orders(&f.master)
            .adjust_order_price(adjust(&made.id, list / 2, "CNY"))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // Not at or above the list total, and in the order's currency.
    for bad in [
        adjust(&made.id, list, "CNY"),
        adjust(&made.id, 1_000, "USD"),
    ] {
        let status = assert_refused(
            server.orders(&admin).adjust_order_price(bad).await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
        assert_eq!(violated_fields(&status), ["final_total"]);
    }

    // A first adjustment, then a second one that replaces it.
    ok(server
        .orders(&admin)
        .adjust_order_price(adjust(&made.id, list - 1_000, "CNY"))
        .await);
    let target = 250_001;
    let adjusted = ok(server
        .orders(&admin)
        .adjust_order_price(adjust(&made.id, target, "CNY"))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(minor_of(adjusted.final_total.as_ref()), target);
    assert_eq!(minor_of(adjusted.discount_total.as_ref()), list - target);
    let line_offs: Vec<i64> = adjusted
        .lines
        .iter()
        .map(|l| minor_of(l.discount_amount.as_ref()))
        .collect();
    assert_eq!(line_offs.iter().sum::<i64>(), list - target);
    for l in &adjusted.lines {
        assert_eq!(
            minor_of(l.final_amount.as_ref()),
            minor_of(l.list_amount.as_ref()) - minor_of(l.discount_amount.as_ref())
        );
    }
    let adjustment = adjusted.price_adjustment.clone().unwrap_or_default();
    assert_eq!(minor_of(adjustment.amount.as_ref()), list - target);
    assert_eq!(adjustment.reason, "negotiated for the year");
    assert!(adjustment.adjusted_by.starts_with("usr_"), "{adjustment:?}");
    assert!(!adjusted.discount_id.is_empty());
    assert_eq!(
        order_of(&server, &f.master, made.id.clone()).await,
        adjusted
    );

    // It is the only discount listed, and a mandatory one.
    let listed = ok(server
        .orders(&f.master)
        .list_order_discounts(pb::ListOrderDiscountsRequest {
            id: made.id.clone(),
            ..Default::default()
        })
        .await)
    .discounts;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].vendor_code, 609);
    assert!(listed[0].mandatory);
    assert_eq!(listed[0].discount_id, adjusted.discount_id);
    assert_eq!(minor_of(listed[0].final_amount.as_ref()), target);

    // Paying it with another discount is refused; with it (or none), it pays
    // the adjusted price.
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
        "PRICE_ADJUSTED",
    );
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], &adjusted.discount_id))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(minor_of(paid.paid_total.as_ref()), target);
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - target);
    // Paid, it is no longer adjusted.
    assert_refused(
        server
            .orders(&admin)
            .adjust_order_price(adjust(&made.id, 1_000, "CNY"))
            .await,
        Code::FailedPrecondition,
        "ORDER_NOT_PENDING_PAYMENT",
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn payments_racing_adjustments_charge_the_price_the_order_shows() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let f = buyer(&server, "adjustraceco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(created(&server, &f.master, order(&c, lines()[1..].to_vec())).await);
    }
    let races = orders.iter().map(|o| {
        let mut paying = server.orders(&f.master);
        let mut adjusting = server.orders(&admin);
        let payment = pay(&o.id, &[], "");
        let adjustment = adjust(&o.id, minor_of(o.list_total.as_ref()) / 2, "CNY");
        async move {
            let (paid, adjusted) = tokio::join!(
                paying.pay_order(payment),
                adjusting.adjust_order_price(adjustment)
            );
            (paid.map(|_| ()), adjusted.map(|_| ()))
        }
    });
    let outcomes = futures::future::join_all(races).await;
    let mut spent = 0;
    for (o, (paid, adjusted)) in orders.iter().zip(outcomes) {
        let now = order_of(&server, &f.master, o.id.clone()).await;
        match paid {
            Ok(()) => {
                // Whichever came first, the order shows what was charged.
                assert_eq!(now.state(), pb::OrderState::Completed);
                assert_eq!(now.paid_total, now.final_total, "{now:?}");
                spent += minor_of(now.paid_total.as_ref());
            }
            Err(e) => {
                // Only a price changed under it stops a payment.
                assert_eq!(reason_of(&e), "ORDER_CHANGED", "{e:?}");
                assert!(adjusted.is_ok());
                assert_eq!(now.state(), pb::OrderState::PendingPayment);
            }
        }
        if let Err(e) = adjusted {
            assert_eq!(reason_of(&e), "ORDER_NOT_PENDING_PAYMENT", "{e:?}");
        }
    }
    assert_eq!(cash(&server, &f.master, &c).await, 900_000 - spent);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_quotes_discount_is_not_replaced_by_an_adjustment() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let f = crate::funds::funded(&server, "adjustquoteco", 0).await;
    let (_, quote) = crate::orders::contract_quote(&server, &admin, &f).await;
    let made = created(
        &server,
        &f.master,
        pb::CreateOrderRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            quote_id: quote.id,
            ..Default::default()
        },
    )
    .await;
    assert_refused(
        server
            .orders(&admin)
            .adjust_order_price(adjust(&made.id, 1_000, "CNY"))
            .await,
        Code::FailedPrecondition,
        "ORDER_DISCOUNTED",
    );
}
