//! Unsubscribing resources: a full refund within 5 days of the purchase,
//! the unused part pro rata after, renewed periods alone, each period once
//! even under concurrent calls — and a preview that says exactly what the
//! action then does. The cells of the refund matrix are unit-tested in
//! `partner_billing::orders::refund`; here they run end to end.

use chrono::{DateTime, Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_kernel::clock::Clock;
use partner_tests::*;
use tonic::Code;

use crate::clocked::{resource, time, whole_second_clock};
use crate::funds::funded;
use crate::orders::{buyer, cash, coupon_for, created, lines, order, order_of, pay};

fn preview(ids: &[&str], kind: pb::UnsubscribeType) -> pb::PreviewUnsubscribeRequest {
    pb::PreviewUnsubscribeRequest {
        resource_ids: ids.iter().map(|i| (*i).to_owned()).collect(),
        r#type: kind as i32,
        ..Default::default()
    }
}

fn unsubscribe(ids: &[&str], kind: pb::UnsubscribeType) -> pb::UnsubscribeResourcesRequest {
    pb::UnsubscribeResourcesRequest {
        request_id: new_request_id(),
        resource_ids: ids.iter().map(|i| (*i).to_owned()).collect(),
        r#type: kind as i32,
        reason_type: pb::UnsubscribeReasonType::DoesNotMeetNeeds as i32,
        reason: "moving to a larger flavour".into(),
        ..Default::default()
    }
}

/// Buys `lines` for the customer of `f` and pays with `coupons`: the paid
/// order.
async fn bought(
    server: &TestServer,
    f: &crate::funds::Funded,
    lines: Vec<pr::PeriodProductLine>,
    coupons: &[&str],
) -> pb::Order {
    let made = created(server, &f.master, order(&f.customer.customer_id, lines)).await;
    ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, coupons, ""))
        .await)
    .order
    .unwrap_or_else(|| panic!("not paid"))
}

/// The refund matrix's running-period cell, by hand: the unused part at
/// list price rounded down, less the discount and coupons, within what
/// balance paid.
fn pro_rata(line: &pb::OrderLine, now: DateTime<Utc>) -> i64 {
    let (starts, ends) = (
        time(line.effective_time.as_ref()),
        time(line.expire_time.as_ref()),
    );
    let total = i128::from((ends - starts).num_seconds());
    let left = i128::from((ends - now).num_seconds());
    let list = i128::from(minor_of(line.list_amount.as_ref()));
    let off = i128::from(minor_of(line.discount_amount.as_ref()))
        + i128::from(minor_of(line.coupon_amount.as_ref()));
    let paid = i128::from(minor_of(line.paid_amount.as_ref()));
    i64::try_from((list * left / total - off).clamp(0, paid)).unwrap_or(0)
}

#[tokio::test]
async fn within_five_days_everything_balance_paid_returns_and_the_resource_closes() {
    let clock = whole_second_clock();
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = buyer(&server, "unsubco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let coupon = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        10_000,
        &["compute"],
    )
    .await;
    // Two yearly VMs: the coupon pays 100.00, cash the rest.
    let paid = bought(&server, &f, lines()[..1].to_vec(), &[&coupon.id]).await;
    let line = &paid.lines[0];
    let (list, coupon_part, cash_part) = (
        minor_of(line.list_amount.as_ref()),
        minor_of(line.coupon_amount.as_ref()),
        minor_of(line.paid_amount.as_ref()),
    );
    assert_eq!(coupon_part, 10_000);
    assert_eq!(cash_part, list - 10_000);
    assert_eq!(time(line.effective_time.as_ref()), clock.now());
    let ids: Vec<&str> = line.resource_ids.iter().map(String::as_str).collect();
    assert_eq!(ids.len(), 2);
    clock.advance(Duration::days(4));
    let f = crate::funds::Funded {
        master: server.login("unsubco", USER_PASSWORD).await,
        ..f
    };

    let cash_before = cash(&server, &f.master, &c).await;
    let seen = ok(server
        .resources(&f.master)
        .preview_unsubscribe(preview(&ids[..1], pb::UnsubscribeType::WithRenewals))
        .await);
    let result = &seen.results[0];
    assert_eq!(result.failure_reason, "");
    assert_eq!(result.periods.len(), 1);
    assert_eq!(result.periods[0].rule(), pb::RefundRule::FullWithin5Days);
    // The first of two resources carries half of what cash paid (rounded
    // up for the first), the coupon's half is consumed.
    let share = cash_part / 2 + cash_part % 2;
    assert_eq!(minor_of(result.refund_amount.as_ref()), share);
    assert_eq!(minor_of(seen.refund_total.as_ref()), share);
    assert_eq!(result.status_after(), pb::ResourceStatus::Closed);
    // Reading changes nothing.
    assert_eq!(cash(&server, &f.master, &c).await, cash_before);

    let req = unsubscribe(&ids[..1], pb::UnsubscribeType::WithRenewals);
    let done = ok(server
        .resources(&f.master)
        .unsubscribe_resources(req.clone())
        .await);
    assert_eq!(done.results, seen.results, "the preview said exactly this");
    let refund = done.order.clone().unwrap_or_else(|| panic!("no order"));
    assert_eq!(refund.r#type(), pb::OrderType::Unsubscribe);
    assert_eq!(refund.state(), pb::OrderState::Completed);
    assert_eq!(refund.original_order_ids, vec![paid.id.clone()]);
    assert_eq!(
        refund.unsubscribe_reason_type(),
        pb::UnsubscribeReasonType::DoesNotMeetNeeds
    );
    assert_eq!(refund.cancel_reason, "moving to a larger flavour");
    assert_eq!(minor_of(refund.refund_total.as_ref()), share);
    let refunds = refund.lines[0].refund.clone().unwrap_or_default();
    assert_eq!(refunds.original_order_id, paid.id);
    assert_eq!(refunds.resource_id, ids[0]);
    assert_eq!(cash(&server, &f.master, &c).await, cash_before + share);
    let closed = resource(&server, &f.master, ids[0]).await;
    assert_eq!(closed.status(), pb::ResourceStatus::Closed);
    assert_eq!(
        closed.close_time.map(|t| t.seconds),
        Some(clock.now().timestamp())
    );
    // The other resource of the line runs on.
    assert_eq!(
        resource(&server, &f.master, ids[1]).await.status(),
        pb::ResourceStatus::InUse
    );
    // The original line shows what it had refunded.
    let original = order_of(&server, &f.master, paid.id.clone()).await;
    assert_eq!(minor_of(original.lines[0].refunded_amount.as_ref()), share);

    // A replay answers the same; unsubscribing again refunds nothing.
    let again = ok(server.resources(&f.master).unsubscribe_resources(req).await);
    assert_eq!(again, done);
    let twice = ok(server
        .resources(&f.master)
        .unsubscribe_resources(unsubscribe(&ids[..1], pb::UnsubscribeType::WithRenewals))
        .await);
    assert!(twice.order.is_none());
    assert_eq!(twice.results[0].failure_reason, "RESOURCE_CLOSED");
    assert_eq!(cash(&server, &f.master, &c).await, cash_before + share);

    // Another partner reaches none of it.
    let other = funded(&server, "unsubother", 0).await;
    assert_refused(
        server
            .resources(&other.master)
            .unsubscribe_resources(unsubscribe(&ids[1..], pb::UnsubscribeType::WithRenewals))
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    assert_refused(
        server
            .resources(&other.master)
            .preview_unsubscribe(preview(&ids[1..], pb::UnsubscribeType::WithRenewals))
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn after_five_days_a_running_period_returns_its_unused_part_less_coupons() {
    let clock = whole_second_clock();
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = buyer(&server, "prorataco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let coupon = coupon_for(
        &server,
        &f.admin,
        &f.master,
        &f.partner.partner_id,
        &c,
        20_000,
        &["compute"],
    )
    .await;
    let mut one = lines()[..1].to_vec();
    one[0].quantity = 1;
    let paid = bought(&server, &f, one, &[&coupon.id]).await;
    let line = paid.lines[0].clone();
    let id = line.resource_ids[0].clone();
    // 73 days and a bit into the year.
    clock.advance(Duration::days(73) + Duration::seconds(4_321));
    let master = server.login("prorataco", USER_PASSWORD).await;
    let expected = pro_rata(&line, clock.now());
    assert!(expected > 0 && expected < minor_of(line.paid_amount.as_ref()));

    let seen = ok(server
        .resources(&master)
        .preview_unsubscribe(preview(&[&id], pb::UnsubscribeType::WithRenewals))
        .await);
    assert_eq!(seen.results[0].periods[0].rule(), pb::RefundRule::ProRata);
    assert_eq!(minor_of(seen.refund_total.as_ref()), expected);
    let cash_before = cash(&server, &master, &c).await;
    let done = ok(server
        .resources(&master)
        .unsubscribe_resources(unsubscribe(&[&id], pb::UnsubscribeType::WithRenewals))
        .await);
    assert_eq!(done.results, seen.results);
    assert_eq!(cash(&server, &master, &c).await, cash_before + expected);
    assert_eq!(
        resource(&server, &master, &id).await.status(),
        pb::ResourceStatus::Closed
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn renewed_periods_alone_are_refunded_in_full_and_the_resource_runs_on() {
    let clock = whole_second_clock();
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = buyer(&server, "renewedco", 900_000).await;
    let c = f.customer.customer_id.clone();
    let paid = bought(&server, &f, lines()[1..].to_vec(), &[]).await;
    let bought_line = paid.lines[0].clone();
    let id = bought_line.resource_ids[0].clone();
    let first_end = resource(&server, &f.master, &id).await.expire_time;
    // Past the five days, renew two months.
    clock.advance(Duration::days(10));
    let master = server.login("renewedco", USER_PASSWORD).await;
    let renewal = ok(server
        .resources(&master)
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
    let renewal = ok(server
        .orders(&master)
        .pay_order(pay(&renewal.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    let renewed = minor_of(renewal.lines[0].paid_amount.as_ref());
    assert!(renewed > 0);
    assert_eq!(renewal.lines[0].effective_time, first_end);

    let cash_before = cash(&server, &master, &c).await;
    let seen = ok(server
        .resources(&master)
        .preview_unsubscribe(preview(&[&id], pb::UnsubscribeType::RenewalsOnly))
        .await);
    let result = &seen.results[0];
    assert_eq!(result.periods.len(), 1);
    assert_eq!(result.periods[0].order_id, renewal.id);
    assert_eq!(result.periods[0].rule(), pb::RefundRule::NotStarted);
    assert_eq!(minor_of(result.refund_amount.as_ref()), renewed);
    assert_eq!(result.status_after(), pb::ResourceStatus::InUse);
    assert_eq!(result.expire_time_after, first_end);
    let done = ok(server
        .resources(&master)
        .unsubscribe_resources(unsubscribe(&[&id], pb::UnsubscribeType::RenewalsOnly))
        .await);
    assert_eq!(done.results, seen.results);
    assert_eq!(cash(&server, &master, &c).await, cash_before + renewed);
    let after = resource(&server, &master, &id).await;
    assert_eq!(after.status(), pb::ResourceStatus::InUse);
    assert_eq!(after.expire_time, first_end);

    // Nothing renewed is left to refund.
    let none = ok(server
        .resources(&master)
        .preview_unsubscribe(preview(&[&id], pb::UnsubscribeType::RenewalsOnly))
        .await);
    assert_eq!(none.results[0].failure_reason, "NO_RENEWALS_TO_REFUND");
    // The whole resource now: only its running purchase period, pro rata
    // (the refunded renewal is not refunded twice).
    let whole = ok(server
        .resources(&master)
        .unsubscribe_resources(unsubscribe(&[&id], pb::UnsubscribeType::WithRenewals))
        .await);
    let periods = &whole.results[0].periods;
    assert_eq!(periods.len(), 1);
    assert_eq!(periods[0].order_id, paid.id);
    assert_eq!(periods[0].rule(), pb::RefundRule::ProRata);
    assert_eq!(
        minor_of(periods[0].refund_amount.as_ref()),
        pro_rata(&bought_line, clock.now())
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn concurrent_unsubscribes_of_one_resource_refund_it_once() {
    let clock = whole_second_clock();
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = buyer(&server, "raceunsub", 900_000).await;
    let c = f.customer.customer_id.clone();
    let paid = bought(&server, &f, lines()[1..].to_vec(), &[]).await;
    let id = paid.lines[0].resource_ids[0].clone();
    let cash_before = cash(&server, &f.master, &c).await;
    let calls = (0..8).map(|_| {
        let mut client = server.resources(&f.master);
        let req = unsubscribe(&[&id], pb::UnsubscribeType::WithRenewals);
        async move { client.unsubscribe_resources(req).await }
    });
    let answers = futures::future::join_all(calls).await;
    let mut refunded = 0;
    for a in answers {
        match a {
            Ok(r) => {
                if r.into_inner().order.is_some() {
                    refunded += 1;
                }
            }
            // A conflict the caller retries is fine; a second refund is not.
            Err(s) => assert_eq!(s.code(), Code::Aborted, "{s:?}"),
        }
    }
    assert_eq!(refunded, 1);
    let full = minor_of(paid.lines[0].paid_amount.as_ref());
    assert_eq!(cash(&server, &f.master, &c).await, cash_before + full);
    server.assert_ledger_clean().await;
}
