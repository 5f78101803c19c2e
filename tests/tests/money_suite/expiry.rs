//! Expiry policies in a sandbox: when a paid period ends, grace then
//! freeze then release; freeze at once; release at once; on to on-demand
//! charging — and renewing an expired resource brings it back. Switching
//! to on-demand now refunds the paid period by the refund matrix.

use chrono::Duration;
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_tests::*;

use crate::clocked::{advance, clock_now, expiry, resource, sandbox, time, whole_second_clock};
use crate::funds::funded;
use crate::orders::{cash, created, lines, order, pay};

/// `n` monthly VMs bought and paid for the customer of a new partner.
pub async fn bought(server: &TestServer, name: &str, n: i32) -> (crate::funds::Funded, pb::Order) {
    let f = funded(server, name, 1_000_000).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(crate::funds::fund(&f.customer, 500_000))
        .await);
    let mut vm = lines()[1..].to_vec();
    vm[0].quantity = n;
    let made = created(server, &f.master, order(&f.customer.customer_id, vm)).await;
    let paid = ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    (f, paid)
}

async fn set_policy(server: &TestServer, token: &str, id: &str, policy: pb::ExpiryPolicy) {
    let r = ok(server
        .resources(token)
        .set_expiry_policy(pb::SetExpiryPolicyRequest {
            request_id: new_request_id(),
            id: id.into(),
            policy: policy as i32,
            ..Default::default()
        })
        .await)
    .resource
    .unwrap_or_default();
    assert_eq!(r.expiry_policy(), policy);
}

#[tokio::test]
async fn each_policy_moves_an_expired_resource_through_its_stages() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, paid) = bought(&server, "expiryco", 4).await;
    let ids = paid.lines[0].resource_ids.clone();
    let grace = &ids[0];
    assert_eq!(
        resource(&server, &f.master, grace).await.expiry_policy(),
        pb::ExpiryPolicy::Grace
    );
    set_policy(&server, &f.master, &ids[1], pb::ExpiryPolicy::Freeze).await;
    set_policy(&server, &f.master, &ids[2], pb::ExpiryPolicy::Delete).await;
    set_policy(&server, &f.master, &ids[3], pb::ExpiryPolicy::ToOnDemand).await;
    let ends = expiry(&server, &f.master, grace).await;

    // A day before the end: nothing moves.
    let jobs = advance(&server, ends - clock_now(&server).await - Duration::days(1)).await;
    assert_eq!(
        (
            jobs.resources_expired,
            jobs.resources_frozen,
            jobs.resources_released
        ),
        (0, 0, 0)
    );
    // A day after: each by its policy.
    let jobs = advance(&server, Duration::days(2)).await;
    assert_eq!(
        (
            jobs.resources_expired,
            jobs.resources_frozen,
            jobs.resources_released,
            jobs.resources_to_on_demand
        ),
        (1, 1, 1, 1)
    );
    let master = server.login("expiryco", USER_PASSWORD).await;
    let r = resource(&server, &master, grace).await;
    assert_eq!(r.status(), pb::ResourceStatus::Expired);
    assert_eq!(time(r.stage_end_time.as_ref()), ends + Duration::days(15));
    let frozen = resource(&server, &master, &ids[1]).await;
    assert_eq!(frozen.status(), pb::ResourceStatus::Frozen);
    assert_eq!(
        time(frozen.stage_end_time.as_ref()),
        ends + Duration::days(15)
    );
    assert_eq!(
        resource(&server, &master, &ids[2]).await.status(),
        pb::ResourceStatus::Closed
    );
    let switched = resource(&server, &master, &ids[3]).await;
    assert_eq!(switched.status(), pb::ResourceStatus::InUse);
    assert_eq!(switched.charging_mode(), pb::ChargingMode::OnDemand);
    // The grace period ends: frozen; the frozen one's retention ends: released.
    let jobs = advance(&server, Duration::days(15)).await;
    assert_eq!((jobs.resources_frozen, jobs.resources_released), (1, 1));
    let master = server.login("expiryco", USER_PASSWORD).await;
    let r = resource(&server, &master, grace).await;
    assert_eq!(r.status(), pb::ResourceStatus::Frozen);
    assert_eq!(time(r.stage_end_time.as_ref()), ends + Duration::days(30));
    // Then its retention: released. The on-demand one runs on.
    let jobs = advance(&server, Duration::days(15)).await;
    assert_eq!(jobs.resources_released, 1);
    let master = server.login("expiryco", USER_PASSWORD).await;
    assert_eq!(
        resource(&server, &master, grace).await.status(),
        pb::ResourceStatus::Closed
    );
    assert_eq!(
        resource(&server, &master, &ids[3]).await.status(),
        pb::ResourceStatus::InUse
    );
    // Listed by status.
    let closed = ok(server
        .resources(&master)
        .list_resources(pb::ListResourcesRequest {
            status: pb::ResourceStatus::Closed as i32,
            ..Default::default()
        })
        .await)
    .resources;
    assert_eq!(closed.len(), 3);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn renewing_an_expired_resource_brings_it_back_from_its_old_expiry() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, paid) = bought(&server, "revivedco", 1).await;
    let id = paid.lines[0].resource_ids[0].clone();
    let ends = expiry(&server, &f.master, &id).await;
    let jobs = advance(&server, ends - clock_now(&server).await + Duration::days(3)).await;
    assert_eq!(jobs.resources_expired, 1);
    let master = server.login("revivedco", USER_PASSWORD).await;
    let renewed = ok(server
        .resources(&master)
        .renew_resources(pb::RenewResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![id.clone()],
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            auto_pay: true,
            ..Default::default()
        })
        .await);
    assert_eq!(renewed.payment_failure, "");
    let r = resource(&server, &master, &id).await;
    assert_eq!(r.status(), pb::ResourceStatus::InUse);
    assert!(r.stage_end_time.is_none());
    let days = (time(r.expire_time.as_ref()) - ends).num_days();
    assert!((28..=31).contains(&days), "{days}");
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn switching_to_on_demand_now_refunds_the_paid_period() {
    let clock = whole_second_clock();
    let server = sandbox(clock.clone()).await;
    let (f, paid) = bought(&server, "switchco", 1).await;
    let id = paid.lines[0].resource_ids[0].clone();
    let c = f.customer.customer_id.clone();
    let switch = |validate_only: bool| pb::SwitchToOnDemandNowRequest {
        request_id: new_request_id(),
        resource_ids: vec![id.clone()],
        validate_only,
        ..Default::default()
    };
    let before = cash(&server, &f.master, &c).await;
    let seen = ok(server
        .resources(&f.master)
        .switch_to_on_demand_now(switch(true))
        .await);
    assert!(seen.order.is_none());
    assert_eq!(
        seen.results[0].periods[0].rule(),
        pb::RefundRule::FullWithin5Days
    );
    let refund = minor_of(seen.results[0].refund_amount.as_ref());
    assert_eq!(refund, minor_of(paid.lines[0].paid_amount.as_ref()));
    assert_eq!(cash(&server, &f.master, &c).await, before);
    let done = ok(server
        .resources(&f.master)
        .switch_to_on_demand_now(switch(false))
        .await);
    assert_eq!(done.results, seen.results);
    let o = done.order.unwrap_or_default();
    assert_eq!(o.r#type(), pb::OrderType::ToOnDemand);
    assert_eq!(o.original_order_ids, vec![paid.id.clone()]);
    assert_eq!(cash(&server, &f.master, &c).await, before + refund);
    let r = resource(&server, &f.master, &id).await;
    assert_eq!(
        (r.status(), r.charging_mode()),
        (pb::ResourceStatus::InUse, pb::ChargingMode::OnDemand)
    );
    // Once on demand: not again, and no expiry policy applies.
    let again = ok(server
        .resources(&f.master)
        .switch_to_on_demand_now(switch(false))
        .await);
    assert_eq!(again.results[0].failure_reason, "ALREADY_ON_DEMAND");
    let jobs = advance(&server, Duration::days(40)).await;
    assert_eq!(jobs.resources_expired + jobs.resources_released, 0);
    server.assert_ledger_clean().await;
}
