//! Changing a resource's spec or size for the rest of its paid time: a
//! CHANGE order priced as one period's list price difference for the whole
//! days left out of 30 (a month), paid like any order, changing the
//! resource only if it is still as it was priced — and refunded with the
//! resource when it is unsubscribed.

use chrono::{DateTime, Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_kernel::clock::Clock;
use partner_tests::*;
use tonic::Code;

use crate::clocked::{resource, time, whole_second_clock};
use crate::orders::{buyer, cash, created, lines, order, pay};

fn preview(id: &str, spec: &str, size: i64) -> pb::PreviewChangeRequest {
    pb::PreviewChangeRequest {
        resource_id: id.into(),
        spec: spec.into(),
        size,
        ..Default::default()
    }
}

fn change(id: &str, spec: &str, auto_pay: bool) -> pb::ChangeResourceRequest {
    pb::ChangeResourceRequest {
        request_id: new_request_id(),
        resource_id: id.into(),
        spec: spec.into(),
        auto_pay,
        ..Default::default()
    }
}

/// Renewing the resource `id` for `months`.
fn renewal(id: &str, months: i32, auto_pay: bool) -> pb::RenewResourcesRequest {
    pb::RenewResourcesRequest {
        request_id: new_request_id(),
        resource_ids: vec![id.into()],
        period_unit: pr::PeriodUnit::Month as i32,
        period_count: months,
        auto_pay,
        ..Default::default()
    }
}

/// One monthly c6.large.2 VM bought and paid for the customer of `f`.
async fn monthly_vm(server: &TestServer, f: &crate::funds::Funded) -> pb::Order {
    let made = created(
        server,
        &f.master,
        order(&f.customer.customer_id, lines()[1..].to_vec()),
    )
    .await;
    ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], ""))
        .await)
    .order
    .unwrap_or_default()
}

/// Paying the order `id` opens and changes nothing, so nothing is paid.
async fn opens_nothing(server: &TestServer, token: &str, id: &str) {
    assert_refused(
        server.orders(token).pay_order(pay(id, &[], "")).await,
        Code::Unavailable,
        "RESOURCES_UNAVAILABLE",
    );
}

/// Whole days from `now` to `until`, a part counting whole.
fn days_left(now: DateTime<Utc>, until: DateTime<Utc>) -> i64 {
    ((until - now).num_seconds() + 86_399) / 86_400
}

#[tokio::test]
async fn an_upgrade_costs_the_difference_for_the_days_left_and_changes_the_resource() {
    let clock = whole_second_clock();
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = buyer(&server, "changeco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let bought = monthly_vm(&server, &f).await;
    let id = bought.lines[0].resource_ids[0].clone();
    clock.advance(Duration::days(10) + Duration::hours(5));
    // Tokens expire on this clock: sign in again.
    let master = server.login("changeco", USER_PASSWORD).await;

    let p = ok(server
        .resources(&master)
        .preview_change(preview(&id, "c6.xlarge.2", 0))
        .await);
    let expires = time(p.expire_time.as_ref());
    let left = days_left(clock.now(), expires);
    assert_eq!((p.units_left, p.units_per_period), (left, 30));
    let before = minor_of(p.period_price_before.as_ref());
    let after = minor_of(p.period_price_after.as_ref());
    assert_eq!(before, minor_of(bought.lines[0].list_amount.as_ref()));
    assert!(after > before);
    // Half-up: (after − before) × left / 30.
    let expected = ((after - before) * left + 15) / 30;
    assert_eq!(minor_of(p.list_amount.as_ref()), expected);

    let done = ok(server
        .resources(&master)
        .change_resource(change(&id, "c6.xlarge.2", true))
        .await);
    assert_eq!(done.payment_failure, "");
    let o = done.order.unwrap_or_default();
    assert_eq!(o.r#type(), pb::OrderType::Change);
    assert_eq!(o.state(), pb::OrderState::Completed);
    assert_eq!(o.lines[0].changes_resource_id, id);
    assert_eq!(minor_of(o.lines[0].list_amount.as_ref()), expected);
    assert_eq!(minor_of(o.paid_total.as_ref()), expected);
    assert_eq!(time(o.lines[0].effective_time.as_ref()), clock.now());
    assert_eq!(time(o.lines[0].expire_time.as_ref()), expires);
    let r = resource(&server, &master, &id).await;
    assert_eq!(r.spec, "c6.xlarge.2");
    assert_eq!(time(r.expire_time.as_ref()), expires);
    assert_eq!(
        cash(&server, &master, &c).await,
        900_000 - minor_of(bought.paid_total.as_ref()) - expected
    );
    // Renewing now costs the new spec's price.
    let renewal = ok(server
        .resources(&master)
        .preview_renewal(pb::PreviewRenewalRequest {
            resource_ids: vec![id.clone()],
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            ..Default::default()
        })
        .await);
    assert_eq!(minor_of(renewal.list_total.as_ref()), after);
    // Unsubscribing refunds what the purchase and the change each paid
    // for the time left.
    let refund = ok(server
        .resources(&master)
        .preview_unsubscribe(pb::PreviewUnsubscribeRequest {
            resource_ids: vec![id.clone()],
            r#type: pb::UnsubscribeType::WithRenewals as i32,
            ..Default::default()
        })
        .await);
    let periods: Vec<&str> = refund.results[0]
        .periods
        .iter()
        .map(|p| p.order_id.as_str())
        .collect();
    assert_eq!(periods, [bought.id.as_str(), o.id.as_str()]);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn only_upgrades_of_main_resources_in_use_are_sold() {
    let server = TestServer::start().await;
    let f = buyer(&server, "nochangeco", 900_000).await;
    let bought = monthly_vm(&server, &f).await;
    let id = bought.lines[0].resource_ids[0].clone();
    let refused = |req: pb::PreviewChangeRequest| {
        let mut client = server.resources(&f.master);
        async move { client.preview_change(req).await }
    };
    assert_refused(
        refused(preview(&id, "s6.small.1", 0)).await,
        Code::FailedPrecondition,
        "NOT_AN_UPGRADE",
    );
    assert_refused(
        refused(preview(&id, "no-such-spec", 0)).await,
        Code::NotFound,
        "PRODUCT_NOT_FOUND",
    );
    for same in [preview(&id, "c6.large.2", 0), preview(&id, "", 0)] {
        let status = assert_refused(
            refused(same).await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
        assert_eq!(violated_fields(&status), ["spec"]);
    }
    // A change order is paid without a discount.
    let waiting = ok(server
        .resources(&f.master)
        .change_resource(change(&id, "c6.xlarge.2", false))
        .await)
    .order
    .unwrap_or_default();
    assert_eq!(waiting.state(), pb::OrderState::PendingPayment);
    let listed = ok(server
        .orders(&f.master)
        .list_order_discounts(pb::ListOrderDiscountsRequest {
            id: waiting.id.clone(),
            ..Default::default()
        })
        .await);
    assert!(listed.discounts.is_empty());
    // A closed resource is not changed.
    ok(server
        .resources(&f.master)
        .unsubscribe_resources(pb::UnsubscribeResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![id.clone()],
            r#type: pb::UnsubscribeType::WithRenewals as i32,
            reason_type: pb::UnsubscribeReasonType::Other as i32,
            ..Default::default()
        })
        .await);
    assert_refused(
        refused(preview(&id, "c6.xlarge.2", 0)).await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    // … and the change ordered before it closed opens nothing.
    opens_nothing(&server, &f.master, &waiting.id).await;
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_change_priced_before_a_renewal_changes_nothing_after_it() {
    let server = TestServer::start().await;
    let f = buyer(&server, "stalechangeco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let bought = monthly_vm(&server, &f).await;
    let id = bought.lines[0].resource_ids[0].clone();
    let waiting = ok(server
        .resources(&f.master)
        .change_resource(change(&id, "c6.xlarge.2", false))
        .await)
    .order
    .unwrap_or_default();
    let renewed = ok(server
        .resources(&f.master)
        .renew_resources(renewal(&id, 1, true))
        .await);
    assert_eq!(renewed.payment_failure, "");
    let before = cash(&server, &f.master, &c).await;
    // Priced for fewer days than it would now cover: refused, nothing paid.
    opens_nothing(&server, &f.master, &waiting.id).await;
    assert_eq!(cash(&server, &f.master, &c).await, before);
    assert_eq!(resource(&server, &f.master, &id).await.spec, "c6.large.2");
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_renewal_priced_before_a_change_is_not_paid_at_the_old_price_after_it() {
    let server = TestServer::start().await;
    let f = buyer(&server, "renewthenchangeco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let bought = monthly_vm(&server, &f).await;
    let id = bought.lines[0].resource_ids[0].clone();
    // A renewal for three months at the small flavour's price, left waiting …
    let waiting = ok(server
        .resources(&f.master)
        .renew_resources(renewal(&id, 3, false))
        .await)
    .order
    .unwrap_or_default();
    // … then the resource is upgraded for the rest of its month.
    let changed = ok(server
        .resources(&f.master)
        .change_resource(change(&id, "c6.xlarge.2", true))
        .await);
    assert_eq!(changed.payment_failure, "");
    let before = cash(&server, &f.master, &c).await;
    let expires = time(resource(&server, &f.master, &id).await.expire_time.as_ref());
    opens_nothing(&server, &f.master, &waiting.id).await;
    assert_eq!(cash(&server, &f.master, &c).await, before);
    assert_eq!(
        time(resource(&server, &f.master, &id).await.expire_time.as_ref()),
        expires
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn renewals_alone_are_not_refunded_under_a_change_that_paid_for_them() {
    let server = TestServer::start().await;
    let f = buyer(&server, "changedrenewalsco", 900_000).await;
    let bought = monthly_vm(&server, &f).await;
    let id = bought.lines[0].resource_ids[0].clone();
    ok(server
        .resources(&f.master)
        .renew_resources(renewal(&id, 1, true))
        .await);
    // The change pays the difference until the renewed expiry.
    ok(server
        .resources(&f.master)
        .change_resource(change(&id, "c6.xlarge.2", true))
        .await);
    let p = ok(server
        .resources(&f.master)
        .preview_unsubscribe(pb::PreviewUnsubscribeRequest {
            resource_ids: vec![id.clone()],
            r#type: pb::UnsubscribeType::RenewalsOnly as i32,
            ..Default::default()
        })
        .await);
    assert_eq!(p.results[0].failure_reason, "CHANGE_SPANS_RENEWALS");
    // With the resource, everything is refunded.
    let all = ok(server
        .resources(&f.master)
        .preview_unsubscribe(pb::PreviewUnsubscribeRequest {
            resource_ids: vec![id],
            r#type: pb::UnsubscribeType::WithRenewals as i32,
            ..Default::default()
        })
        .await);
    assert_eq!(all.results[0].failure_reason, "");
    assert_eq!(all.results[0].periods.len(), 3);
}
