//! Auto-renew in a sandbox: the operator moves the clock and the renewal
//! job charges each period once, from 7 days before expiry, retrying daily
//! while the customer cannot pay — also with two servers racing over one
//! database (M6).

use chrono::Duration;
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_tests::*;

use crate::clocked::{advance, clock_now, expiry, sandbox, time, whole_second_clock};
use crate::funds::funded;
use crate::orders::{cash, created, lines, order, pay};

/// A partner whose customer bought a monthly VM, paid with exactly what it
/// was funded plus `spare` fen: the partner's name, the resource and the
/// purchase's price.
async fn monthly(
    server: &TestServer,
    name: &str,
    spare: i64,
) -> (crate::funds::Funded, String, i64) {
    let f = funded(server, name, 1_000_000).await;
    let made = created(
        server,
        &f.master,
        order(&f.customer.customer_id, lines()[1..].to_vec()),
    )
    .await;
    let price = minor_of(made.final_total.as_ref());
    ok(server
        .funds(&f.master)
        .transfer_to_customer(crate::funds::fund(&f.customer, price + spare))
        .await);
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    let id = paid.lines[0].resource_ids[0].clone();
    ok(server
        .resources(&f.master)
        .set_auto_renew(pb::SetAutoRenewRequest {
            request_id: new_request_id(),
            id: id.clone(),
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            times: 0,
            ..Default::default()
        })
        .await);
    (f, id, price)
}

async fn renewal_orders(server: &TestServer, token: &str, state: pb::OrderState) -> usize {
    ok(server
        .orders(token)
        .list_orders(pb::ListOrdersRequest {
            state: state as i32,
            ..Default::default()
        })
        .await)
    .orders
    .iter()
    .filter(|o| o.r#type() == pb::OrderType::Renewal)
    .count()
}

#[tokio::test]
async fn each_period_is_charged_once_from_seven_days_before_expiry() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, id, price) = monthly(&server, "autoco", 300_000).await;
    let c = f.customer.customer_id.clone();
    let first = expiry(&server, &f.master, &id).await;
    let resource = ok(server
        .resources(&f.master)
        .get_resource(pb::GetResourceRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();
    let auto = resource.auto_renew.unwrap_or_default();
    assert_eq!(auto.period_unit(), pr::PeriodUnit::Month);
    assert_eq!((auto.period_count, auto.times, auto.renewed), (1, 0, 0));

    // Eight days before expiry: not yet.
    let before = advance(
        &server,
        first - clock_now(&server).await - Duration::days(8),
    )
    .await;
    assert_eq!(before.resources_renewed, 0);
    let master = server.login("autoco", USER_PASSWORD).await;
    let cash_before = cash(&server, &master, &c).await;
    // Two days on (six before expiry): renewed once, a month on from the
    // old expiry, paid from the customer's cash.
    let crossed = advance(&server, Duration::days(2)).await;
    assert_eq!(crossed.resources_renewed, 1);
    let master = server.login("autoco", USER_PASSWORD).await;
    let second = expiry(&server, &master, &id).await;
    assert!(
        (28..=31).contains(&(second - first).num_days()),
        "{first} → {second}"
    );
    assert_eq!(
        renewal_orders(&server, &master, pb::OrderState::Completed).await,
        1
    );
    let charged = cash_before - cash(&server, &master, &c).await;
    assert!(charged > 0 && charged <= price, "{charged}");
    // Days later the same period is not charged again.
    let later = advance(&server, Duration::days(3)).await;
    assert_eq!(later.resources_renewed, 0);
    let master = server.login("autoco", USER_PASSWORD).await;
    assert_eq!(expiry(&server, &master, &id).await, second);
    assert_eq!(
        renewal_orders(&server, &master, pb::OrderState::Completed).await,
        1
    );
    // The next period renews in its turn, counting on the resource.
    let next = advance(
        &server,
        second - clock_now(&server).await - Duration::days(6),
    )
    .await;
    assert_eq!(next.resources_renewed, 1);
    let master = server.login("autoco", USER_PASSWORD).await;
    let r = ok(server
        .resources(&master)
        .get_resource(pb::GetResourceRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();
    assert_eq!(r.auto_renew.unwrap_or_default().renewed, 2);
    // Turned off, it renews no more.
    ok(server
        .resources(&master)
        .cancel_auto_renew(pb::CancelAutoRenewRequest {
            request_id: new_request_id(),
            id: id.clone(),
            ..Default::default()
        })
        .await);
    let third = expiry(&server, &master, &id).await;
    let off = advance(
        &server,
        third - clock_now(&server).await - Duration::days(3),
    )
    .await;
    assert_eq!(off.resources_renewed, 0);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_customer_that_cannot_pay_is_tried_again_a_day_later() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, id, price) = monthly(&server, "brokeco", 0).await;
    let first = expiry(&server, &f.master, &id).await;
    let jobs = advance(
        &server,
        first - clock_now(&server).await - Duration::days(6),
    )
    .await;
    // Tried at 7 days before expiry, and again each day since (the clock
    // moved a day at a time): every attempt failed.
    assert_eq!(jobs.resources_renewed, 0);
    assert!(jobs.renewals_failed >= 1, "{jobs:?}");
    let master = server.login("brokeco", USER_PASSWORD).await;
    // Each unpaid renewal is cancelled at once: nothing waits on the budget.
    assert_eq!(
        renewal_orders(&server, &master, pb::OrderState::Cancelled).await as i64,
        jobs.renewals_failed
    );
    assert_eq!(
        renewal_orders(&server, &master, pb::OrderState::PendingPayment).await,
        0
    );
    // Within the day, no new attempt.
    let soon = advance(&server, Duration::hours(12)).await;
    assert_eq!(soon.renewals_failed, 0);
    // Funded, the next day's attempt pays.
    let master = server.login("brokeco", USER_PASSWORD).await;
    ok(server
        .funds(&master)
        .transfer_to_customer(crate::funds::fund(&f.customer, price * 2))
        .await);
    let paid = advance(&server, Duration::hours(13)).await;
    assert_eq!(paid.resources_renewed, 1);
    let master = server.login("brokeco", USER_PASSWORD).await;
    assert!(expiry(&server, &master, &id).await > first);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn two_servers_crossing_the_renewal_boundary_at_once_charge_once() {
    let clock = whole_second_clock();
    let db = TestDb::fresh().await;
    let one = TestServer::start_clocked_on(db.clone(), clock.clone(), |c| c.sandbox = true).await;
    let two = TestServer::start_clocked_on(db.clone(), clock.clone(), |c| c.sandbox = true).await;
    let (f, id, _) = monthly(&one, "raceauto", 300_000).await;
    let c = f.customer.customer_id.clone();
    let first = expiry(&one, &f.master, &id).await;
    let cash_before = cash(&one, &f.master, &c).await;
    // The clock is the platform's: moved through one replica, the other
    // tells the same time.
    let to_eight = first - clock_now(&one).await - Duration::days(8);
    assert_eq!(advance(&one, to_eight).await.resources_renewed, 0);
    assert_eq!(clock_now(&two).await, clock_now(&one).await);
    // Both replicas move on from 8 days before expiry, at once (to 5 days
    // before, or further when one starts from where the other got): both
    // jobs find the period due.
    let (a, b) = tokio::join!(
        advance(&one, Duration::days(3)),
        advance(&two, Duration::days(3))
    );
    // At most one of them renewed it: each server's own 30-second job tick
    // may also come in between (under load) and renew it first. That it was
    // renewed, once, is what the orders and the cash below show.
    assert!(
        a.resources_renewed + b.resources_renewed <= 1,
        "{a:?} {b:?}"
    );
    let left = first - clock_now(&two).await;
    assert!((2..=5).contains(&left.num_days()), "{left}");
    let master = one.login("raceauto", USER_PASSWORD).await;
    // The jobs' runs are in the message: a renewal pass that failed as a
    // whole is only logged by the server (TEST_LOG=1 shows it).
    assert_eq!(
        renewal_orders(&one, &master, pb::OrderState::Completed).await,
        1,
        "{a:?} {b:?}"
    );
    let second = expiry(&one, &master, &id).await;
    assert!((28..=31).contains(&(second - first).num_days()));
    let renewal = ok(one
        .orders(&master)
        .list_orders(pb::ListOrdersRequest {
            state: pb::OrderState::Completed as i32,
            ..Default::default()
        })
        .await)
    .orders
    .into_iter()
    .find(|o| o.r#type() == pb::OrderType::Renewal)
    .unwrap_or_default();
    assert_eq!(
        cash(&one, &master, &c).await,
        cash_before - minor_of(renewal.final_total.as_ref())
    );
    // The database itself keeps a second live order off the period.
    let twice = one
        .execute_sql(
            "UPDATE orders SET auto_renew_key = (SELECT auto_renew_key FROM orders \
             WHERE order_type = 'RENEWAL' AND state = 'COMPLETED') \
             WHERE order_type = 'NEW_PURCHASE'",
        )
        .await;
    assert!(twice.is_err(), "{twice:?}");
    one.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_restarted_sandbox_keeps_its_time() {
    let clock = whole_second_clock();
    let db = TestDb::fresh().await;
    let server =
        TestServer::start_clocked_on(db.clone(), clock.clone(), |c| c.sandbox = true).await;
    let start = clock_now(&server).await;
    advance(&server, Duration::days(10)).await;
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    // Started again: the time is where the sandbox left it, not back ten
    // days (what the jobs did then would be done again).
    let again = TestServer::start_clocked_on(db, clock, |c| c.sandbox = true).await;
    assert_eq!(clock_now(&again).await, start + Duration::days(10));
    advance(&again, Duration::days(1)).await;
    assert_eq!(clock_now(&again).await, start + Duration::days(11));
}

#[tokio::test]
async fn a_retried_advance_finishes_the_first_attempts_move_instead_of_moving_again() {
    let clock = whole_second_clock();
    let server = sandbox(clock).await;
    let start = clock_now(&server).await;
    // Signed in for each call: a day's advance outlives an access token.
    let advance_as = |request_id: String, days: i64| {
        let server = &server;
        async move {
            let admin = server.admin_token().await;
            ok(server
                .sandbox(&admin)
                .advance_clock(pb::AdvanceClockRequest {
                    request_id,
                    by: Some(prost_types::Duration {
                        seconds: Duration::days(days).num_seconds(),
                        nanos: 0,
                    }),
                })
                .await)
        }
    };
    advance_as(new_request_id(), 1).await;
    // A first attempt of `retried` began at one day ahead, for two days
    // more (to three), got to two and was lost (its server stopped, or its
    // caller gave up) before it answered.
    let retried = uuid::Uuid::new_v4();
    let literal = if server.db.url.starts_with("sqlite") {
        format!("X'{}'", retried.simple())
    } else {
        format!("'{retried}'")
    };
    let three_days = Duration::days(3).num_microseconds().unwrap_or_default();
    let began = server
        .execute_sql(&format!(
            "INSERT INTO sandbox_advances (caller_id, request_id, target_micros, created_at) \
             SELECT caller_id, {literal}, {three_days}, created_at FROM sandbox_advances"
        ))
        .await;
    assert_eq!(began, Ok(1));
    let two_days = Duration::days(2).num_microseconds().unwrap_or_default();
    let got_to = server
        .execute_sql(&format!(
            "UPDATE sandbox_clocks SET offset_micros = {two_days}"
        ))
        .await;
    assert_eq!(got_to, Ok(1));
    // The retry goes on to three days ahead, not to four.
    let answer = advance_as(retried.to_string(), 2).await;
    assert_eq!(time(answer.now.as_ref()), start + Duration::days(3));
    assert_eq!(clock_now(&server).await, start + Duration::days(3));
}

#[tokio::test]
async fn renewing_with_auto_pay_pays_at_once_or_says_why_not() {
    let server = TestServer::start().await;
    let (f, id, price) = monthly(&server, "autopayco", 0).await;
    let renew = |request_id: String| pb::RenewResourcesRequest {
        request_id,
        resource_ids: vec![id.clone()],
        period_unit: pr::PeriodUnit::Month as i32,
        period_count: 1,
        auto_pay: true,
        ..Default::default()
    };
    // Nothing left to pay with: the order waits, and the answer says why.
    let broke = ok(server
        .resources(&f.master)
        .renew_resources(renew(new_request_id()))
        .await);
    let waiting = broke.order.clone().unwrap_or_default();
    assert_eq!(waiting.state(), pb::OrderState::PendingPayment);
    assert!(broke.payment_failure.contains("CUSTOMER_CASH"), "{broke:?}");
    // Funded, a new call pays at once; its replay answers the same.
    ok(server
        .funds(&f.master)
        .transfer_to_customer(crate::funds::fund(&f.customer, price * 2))
        .await);
    let key = new_request_id();
    let paid = ok(server
        .resources(&f.master)
        .renew_resources(renew(key.clone()))
        .await);
    assert_eq!(paid.payment_failure, "");
    let order = paid.order.clone().unwrap_or_default();
    assert_eq!(order.state(), pb::OrderState::Completed);
    assert_eq!(
        ok(server
            .resources(&f.master)
            .renew_resources(renew(key))
            .await),
        paid
    );
    assert_eq!(
        renewal_orders(&server, &f.master, pb::OrderState::Completed).await,
        1
    );

    // Orders listed by type and by service type.
    let listed = |order_type: pb::OrderType, service_type: &str| {
        let mut orders = server.orders(&f.master);
        let req = pb::ListOrdersRequest {
            r#type: order_type as i32,
            service_type: service_type.into(),
            ..Default::default()
        };
        async move { ok(orders.list_orders(req).await).orders }
    };
    let renewals = listed(pb::OrderType::Renewal, "").await;
    assert_eq!(renewals.len(), 2);
    assert!(
        renewals
            .iter()
            .all(|o| o.r#type() == pb::OrderType::Renewal)
    );
    assert_eq!(listed(pb::OrderType::NewPurchase, "").await.len(), 1);
    assert_eq!(listed(pb::OrderType::Unspecified, "compute").await.len(), 3);
    assert_eq!(
        listed(pb::OrderType::Unspecified, "object_storage")
            .await
            .len(),
        0
    );
    assert_eq!(listed(pb::OrderType::Renewal, "compute").await.len(), 2);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn unsubscribing_renewed_periods_stops_auto_renew_until_it_is_set_again() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, id, _) = monthly(&server, "undoauto", 300_000).await;
    let c = f.customer.customer_id.clone();
    let first = expiry(&server, &f.master, &id).await;
    let renewed = advance(
        &server,
        first - clock_now(&server).await - Duration::days(6),
    )
    .await;
    assert_eq!(renewed.resources_renewed, 1);
    let master = server.login("undoauto", USER_PASSWORD).await;
    let cash_before = cash(&server, &master, &c).await;
    // The auto-renewed month has not started: refunded in full, the
    // resource back to its first expiry, auto-renew off.
    let undone = ok(server
        .resources(&master)
        .unsubscribe_resources(pb::UnsubscribeResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![id.clone()],
            r#type: pb::UnsubscribeType::RenewalsOnly as i32,
            reason_type: pb::UnsubscribeReasonType::Other as i32,
            ..Default::default()
        })
        .await);
    let refund = minor_of(undone.results[0].refund_amount.as_ref());
    assert!(refund > 0);
    assert_eq!(cash(&server, &master, &c).await, cash_before + refund);
    assert_eq!(expiry(&server, &master, &id).await, first);
    let r = ok(server
        .resources(&master)
        .get_resource(pb::GetResourceRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();
    assert!(r.auto_renew.is_none());
    let off = advance(&server, Duration::days(1)).await;
    assert_eq!(off.resources_renewed, 0);
    // Set again, the same period renews again.
    let master = server.login("undoauto", USER_PASSWORD).await;
    ok(server
        .resources(&master)
        .set_auto_renew(pb::SetAutoRenewRequest {
            request_id: new_request_id(),
            id: id.clone(),
            period_unit: pr::PeriodUnit::Month as i32,
            ..Default::default()
        })
        .await);
    let again = advance(&server, Duration::days(1)).await;
    assert_eq!(again.resources_renewed, 1);
    let master = server.login("undoauto", USER_PASSWORD).await;
    assert!(expiry(&server, &master, &id).await > first);
    server.assert_ledger_clean().await;
}
