//! Child resources (a disk of a server): bought on a line attached to a
//! main line, opened one to each main resource, and following their main
//! resource thereafter — renewed, unsubscribed and expired with it, and
//! taking none of these alone.

use chrono::Duration;
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_tests::*;
use tonic::Code;

use crate::clocked::{advance, clock_now, expiry, resource, sandbox, time, whole_second_clock};
use crate::funds::{Funded, fund, funded};
use crate::orders::{created, lines, order, order_of, pay};

/// `n` monthly VMs, each with a 100 GB disk attached.
fn servers_with_disks(n: i32) -> Vec<pr::PeriodProductLine> {
    let mut vm = lines()[1].clone();
    vm.quantity = n;
    let disk = pr::PeriodProductLine {
        line_id: "disk".into(),
        service_type: "block_storage".into(),
        resource_type: "volume".into(),
        spec: "ssd".into(),
        region: vm.region.clone(),
        size: 100,
        period_unit: vm.period_unit,
        period_count: vm.period_count,
        quantity: n,
        main_line_id: vm.line_id.clone(),
        ..Default::default()
    };
    vec![vm, disk]
}

/// A funded customer of a new partner `name`.
async fn customer(server: &TestServer, name: &str) -> Funded {
    let f = funded(server, name, 1_000_000).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 500_000))
        .await);
    f
}

/// `lines` bought and paid by the customer of `f`.
async fn bought(server: &TestServer, f: &Funded, lines: Vec<pr::PeriodProductLine>) -> pb::Order {
    let made = created(server, &f.master, order(&f.customer.customer_id, lines)).await;
    ok(server
        .orders(&f.master)
        .pay_order(pay(&made.id, &[], ""))
        .await)
    .order
    .unwrap_or_else(|| panic!("not paid"))
}

/// A new partner `name`'s customer with one monthly VM and its disk,
/// bought and paid: the customer, the VM and the disk.
async fn server_and_disk(server: &TestServer, name: &str) -> (Funded, String, String) {
    let f = customer(server, name).await;
    let paid = bought(server, &f, servers_with_disks(1)).await;
    let (vm, disk) = (
        paid.lines[0].resource_ids[0].clone(),
        paid.lines[1].resource_ids[0].clone(),
    );
    (f, vm, disk)
}

async fn listed(server: &TestServer, token: &str, req: pb::ListResourcesRequest) -> Vec<String> {
    let mut ids: Vec<String> = ok(server.resources(token).list_resources(req).await)
        .resources
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn each_child_opens_attached_to_one_main_resource() {
    let server = TestServer::start().await;
    let f = customer(&server, "childco").await;
    let paid = bought(&server, &f, servers_with_disks(2)).await;
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(
        paid.lines[1]
            .product
            .as_ref()
            .map(|p| p.main_line_id.as_str()),
        Some("vm-month")
    );
    assert_eq!(order_of(&server, &f.master, paid.id.clone()).await, paid);
    let (vms, disks) = (&paid.lines[0].resource_ids, &paid.lines[1].resource_ids);
    let mut mains_of_disks = Vec::new();
    for d in disks {
        let disk = resource(&server, &f.master, d).await;
        assert_eq!(
            disk.expire_time,
            resource(&server, &f.master, &vms[0]).await.expire_time
        );
        mains_of_disks.push(disk.main_resource_id);
    }
    mains_of_disks.sort();
    assert_eq!(&mains_of_disks, vms, "one disk to each server");
    for vm in vms {
        assert_eq!(resource(&server, &f.master, vm).await.main_resource_id, "");
    }

    let c = f.customer.customer_id.clone();
    let by_role = |role: pb::ResourceRole| pb::ListResourcesRequest {
        customer_id: c.clone(),
        role: role as i32,
        ..Default::default()
    };
    let mut sorted_disks = disks.clone();
    sorted_disks.sort();
    assert_eq!(
        listed(&server, &f.master, by_role(pb::ResourceRole::Main)).await,
        *vms
    );
    assert_eq!(
        listed(&server, &f.master, by_role(pb::ResourceRole::Child)).await,
        sorted_disks
    );
    assert_eq!(
        listed(&server, &f.master, by_role(pb::ResourceRole::Unspecified))
            .await
            .len(),
        4
    );
    let of_first = listed(
        &server,
        &f.master,
        pb::ListResourcesRequest {
            main_resource_id: vms[0].clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(of_first.len(), 1);
    assert_eq!(
        resource(&server, &f.master, &of_first[0])
            .await
            .main_resource_id,
        vms[0]
    );
    let bad = server
        .resources(&f.master)
        .list_resources(pb::ListResourcesRequest {
            role: 9,
            main_resource_id: "disk-1".into(),
            ..Default::default()
        })
        .await;
    let status = assert_refused(bad, Code::InvalidArgument, "FIELD_VIOLATION");
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, ["main_resource_id", "role"]);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn an_attachment_names_a_matching_line_of_the_same_request() {
    let server = TestServer::start().await;
    let f = customer(&server, "attachco").await;
    let c = f.customer.customer_id.clone();
    let refused = |lines: Vec<pr::PeriodProductLine>| {
        let server = &server;
        let token = f.master.clone();
        let c = c.clone();
        async move {
            let status = assert_refused(
                server.orders(&token).create_order(order(&c, lines)).await,
                Code::InvalidArgument,
                "FIELD_VIOLATION",
            );
            violated_fields(&status)
        }
    };
    let field = ["lines[1].main_line_id"];
    let mut unknown = servers_with_disks(1);
    unknown[1].main_line_id = "nothing".into();
    assert_eq!(refused(unknown).await, field);
    let mut itself = servers_with_disks(1);
    itself[1].main_line_id = "disk".into();
    assert_eq!(refused(itself).await, field);
    let mut more = servers_with_disks(1);
    more[1].quantity = 2;
    assert_eq!(refused(more).await, field);
    let mut longer = servers_with_disks(1);
    longer[1].period_count = 2;
    assert_eq!(refused(longer).await, field);
    // One level: a line attached to a child is refused.
    let mut chain = servers_with_disks(1);
    let mut second = chain[1].clone();
    second.line_id = "disk-2".into();
    second.main_line_id = "disk".into();
    chain.push(second);
    assert_eq!(refused(chain).await, ["lines[2].main_line_id"]);
    // A quote checks the same.
    let mut unknown = servers_with_disks(1);
    unknown[1].main_line_id = "nothing".into();
    let status = assert_refused(
        server
            .quotes(&f.master)
            .create_quote(pr::CreateQuoteRequest {
                request_id: new_request_id(),
                customer_id: c.clone(),
                lines: unknown,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), field);
}

#[tokio::test]
async fn a_child_whose_main_fails_to_open_fails_with_it_and_is_charged_nothing() {
    let server = TestServer::start_on(TestDb::fresh().await, |c| {
        c.failing_specs = vec!["c6.large.2".into()];
    })
    .await;
    let f = customer(&server, "failchildco").await;
    // A disk on its own opens; the disk attached to the failing VM does not.
    let mut lines = servers_with_disks(1);
    let mut alone = lines[1].clone();
    alone.line_id = "alone".into();
    alone.main_line_id = String::new();
    lines.push(alone);
    let paid = bought(&server, &f, lines).await;
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert!(paid.lines[0].failure_reason.contains("c6.large.2"));
    assert!(
        paid.lines[1].failure_reason.contains("vm-month"),
        "{:?}",
        paid.lines[1]
    );
    assert!(paid.lines[1].resource_ids.is_empty());
    assert_eq!(paid.lines[2].resource_ids.len(), 1);
    assert_eq!(
        minor_of(paid.paid_total.as_ref()),
        minor_of(paid.lines[2].final_amount.as_ref())
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn children_renew_and_unsubscribe_with_their_main_and_never_alone() {
    let server = TestServer::start().await;
    let (f, vm, disk) = server_and_disk(&server, "followco").await;
    let renew = |ids: Vec<String>| pb::RenewResourcesRequest {
        request_id: new_request_id(),
        resource_ids: ids,
        period_unit: pr::PeriodUnit::Month as i32,
        period_count: 2,
        auto_pay: true,
        ..Default::default()
    };
    // Alone, a child takes no action.
    let refused = server
        .resources(&f.master)
        .renew_resources(renew(vec![disk.clone()]))
        .await;
    let status = assert_refused(refused, Code::FailedPrecondition, "CHILD_RESOURCE");
    assert_eq!(metadata_of(&status, "main_resource_id"), Some(vm.clone()));
    assert_refused(
        server
            .resources(&f.master)
            .set_auto_renew(pb::SetAutoRenewRequest {
                request_id: new_request_id(),
                id: disk.clone(),
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 1,
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "CHILD_RESOURCE",
    );
    assert_refused(
        server
            .resources(&f.master)
            .preview_unsubscribe(pb::PreviewUnsubscribeRequest {
                resource_ids: vec![disk.clone()],
                r#type: pb::UnsubscribeType::WithRenewals as i32,
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "CHILD_RESOURCE",
    );

    // Renewing the server renews its disk for the same period, in one order.
    let before = expiry(&server, &f.master, &vm).await;
    let preview = ok(server
        .resources(&f.master)
        .preview_renewal(pb::PreviewRenewalRequest {
            resource_ids: vec![vm.clone()],
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 2,
            ..Default::default()
        })
        .await);
    let previewed: Vec<&str> = preview
        .results
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    assert_eq!(previewed, [vm.as_str(), disk.as_str()]);
    let renewed = ok(server
        .resources(&f.master)
        .renew_resources(renew(vec![vm.clone()]))
        .await);
    assert_eq!(renewed.payment_failure, "");
    let o = renewed.order.unwrap_or_default();
    assert_eq!(o.state(), pb::OrderState::Completed);
    assert_eq!(o.list_total, preview.list_total);
    let renews: Vec<&str> = o
        .lines
        .iter()
        .map(|l| l.renews_resource_id.as_str())
        .collect();
    assert_eq!(renews, [vm.as_str(), disk.as_str()]);
    assert_eq!(
        o.lines[1].product.as_ref().map(|p| p.main_line_id.as_str()),
        Some(vm.as_str())
    );
    let after = expiry(&server, &f.master, &vm).await;
    assert!(after > before);
    assert_eq!(expiry(&server, &f.master, &disk).await, after);
    for (r, l) in previewed.iter().zip(&o.lines) {
        let p = preview.results.iter().find(|p| p.resource_id == *r);
        assert_eq!(p.and_then(|p| p.new_expire_time), l.expire_time);
    }

    // Unsubscribing the server closes its disk too, and refunds both.
    let done = ok(server
        .resources(&f.master)
        .unsubscribe_resources(pb::UnsubscribeResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![vm.clone()],
            r#type: pb::UnsubscribeType::WithRenewals as i32,
            reason_type: pb::UnsubscribeReasonType::Other as i32,
            reason: "moving".into(),
            ..Default::default()
        })
        .await);
    let results: Vec<(&str, &str)> = done
        .results
        .iter()
        .map(|r| (r.resource_id.as_str(), r.failure_reason.as_str()))
        .collect();
    assert_eq!(results, [(vm.as_str(), ""), (disk.as_str(), "")]);
    let refund = done.order.unwrap_or_default();
    let refunded: Vec<&str> = refund
        .lines
        .iter()
        .filter_map(|l| l.refund.as_ref().map(|r| r.resource_id.as_str()))
        .collect();
    assert!(refunded.contains(&disk.as_str()), "{refunded:?}");
    assert_eq!(
        resource(&server, &f.master, &disk).await.status(),
        pb::ResourceStatus::Closed
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn children_expire_with_their_main_by_its_policy() {
    let clock = whole_second_clock();
    let server = sandbox(clock).await;
    let (f, vm, disk) = server_and_disk(&server, "expirechildco").await;
    ok(server
        .resources(&f.master)
        .set_expiry_policy(pb::SetExpiryPolicyRequest {
            request_id: new_request_id(),
            id: vm.clone(),
            policy: pb::ExpiryPolicy::Freeze as i32,
            ..Default::default()
        })
        .await);
    let ends = expiry(&server, &f.master, &vm).await;
    let jobs = advance(&server, ends - clock_now(&server).await + Duration::days(1)).await;
    // One step counted: the server's; its disk moved with it.
    assert_eq!(jobs.resources_frozen, 1);
    let master = server.login("expirechildco", USER_PASSWORD).await;
    let (v, d) = (
        resource(&server, &master, &vm).await,
        resource(&server, &master, &disk).await,
    );
    assert_eq!(v.status(), pb::ResourceStatus::Frozen);
    assert_eq!(d.status(), pb::ResourceStatus::Frozen);
    assert_eq!(
        time(d.stage_end_time.as_ref()),
        time(v.stage_end_time.as_ref())
    );
    let jobs = advance(&server, Duration::days(15)).await;
    assert_eq!(jobs.resources_released, 1);
    let master = server.login("expirechildco", USER_PASSWORD).await;
    assert_eq!(
        resource(&server, &master, &disk).await.status(),
        pb::ResourceStatus::Closed
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn auto_renewing_a_main_resource_renews_its_children() {
    let clock = whole_second_clock();
    let server = sandbox(clock).await;
    let (f, vm, disk) = server_and_disk(&server, "autochildco").await;
    ok(server
        .resources(&f.master)
        .set_auto_renew(pb::SetAutoRenewRequest {
            request_id: new_request_id(),
            id: vm.clone(),
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            times: 1,
            ..Default::default()
        })
        .await);
    let ends = expiry(&server, &f.master, &vm).await;
    let jobs = advance(&server, ends - clock_now(&server).await - Duration::days(6)).await;
    assert_eq!(jobs.resources_renewed, 1);
    let master = server.login("autochildco", USER_PASSWORD).await;
    let renewed = expiry(&server, &master, &vm).await;
    assert!(renewed > ends);
    assert_eq!(expiry(&server, &master, &disk).await, renewed);
    server.assert_ledger_clean().await;
}
