//! The hourly settlement: reported use charged from cash, then into
//! arrears, with the customer's discount in force when it was used; a
//! customer owing past the grace period has its on-demand resources
//! frozen, and paying brings them back; an auto-freeze budget freezes the
//! customer it is exceeded for. Fee records and the ledger agree to the
//! minor unit.

use chrono::Duration;
use partner_api::billing::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::pricing::v1 as pr;
use partner_kernel::clock::to_proto_timestamp;
use partner_tests::*;

use crate::clocked::{advance, clock_now, resource, sandbox, whole_second_clock};
use crate::expiry::bought;
use crate::funds::{Funded, balances_of_customer, fund, reclaim};
use crate::orders::cash;
use crate::usage::{VM, record, report};

/// A customer with one on-demand VM and `keep` minor units of cash: the
/// partner, its customer and the VM's id.
async fn on_demand_vm(server: &TestServer, name: &str, keep: i64) -> (Funded, String) {
    let (f, paid) = bought(server, name, 1).await;
    let vm = paid.lines[0].resource_ids[0].clone();
    ok(server
        .resources(&f.master)
        .switch_to_on_demand_now(pb::SwitchToOnDemandNowRequest {
            request_id: new_request_id(),
            resource_ids: vec![vm.clone()],
            ..Default::default()
        })
        .await);
    let c = f.customer.customer_id.clone();
    let now = cash(server, &f.master, &c).await;
    ok(server
        .funds(&f.master)
        .reclaim_from_customer(reclaim(&f.customer, now - keep))
        .await);
    assert_eq!(cash(server, &f.master, &c).await, keep);
    (f, vm)
}

/// `hours` of the VM `vm`, ending now: `hours` × 0.316 at list.
async fn use_vm(server: &TestServer, id: &str, customer: &str, vm: &str, hours: i64) {
    let now = clock_now(server).await;
    let mut r = record(
        id,
        customer,
        VM,
        0,
        "duration",
        &hours.to_string(),
        "HOUR",
        (now - Duration::hours(hours), now),
    );
    r.resource_id = vm.into();
    let answer = ok_result(report(server, new_request_id(), vec![r]).await);
    assert_eq!(answer.accepted, 1, "{answer:?}");
}

fn ok_result<T>(r: Result<T, tonic::Status>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

/// The balance of the customer's account of `kind` (0 when it has none).
async fn balance(server: &TestServer, token: &str, customer: &str, kind: pb::AccountKind) -> i64 {
    balances_of_customer(server, token, customer)
        .await
        .iter()
        .find(|b| b.kind() == kind && b.owner_id == customer)
        .map_or(0, |b| minor_of(b.balance.as_ref()))
}

/// How many rows `sql` (an update that changes nothing) matches.
pub async fn count(server: &TestServer, sql: &str) -> u64 {
    server
        .execute_sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn use_is_charged_from_cash_then_owed_frozen_past_the_grace_and_unfrozen_when_paid() {
    let server = sandbox(whole_second_clock()).await;
    let (f, vm) = on_demand_vm(&server, "settleco", 100).await;
    let c = f.customer.customer_id.clone();
    // 10 h × 0.316 = 3.16; cash holds 1.00.
    use_vm(&server, "settle-1", &c, &vm, 10).await;
    let jobs = advance(&server, Duration::hours(1)).await;
    assert_eq!(
        (jobs.usage_customers_settled, jobs.usage_records_settled),
        (1, 1)
    );
    // Tokens live on the platform clock.
    let master = server.login("settleco", USER_PASSWORD).await;
    assert_eq!(cash(&server, &master, &c).await, 0);
    let owed = pb::AccountKind::CustomerArrears;
    assert_eq!(balance(&server, &master, &c, owed).await, -216);
    // Settled once: the next hour charges nothing again.
    let jobs = advance(&server, Duration::hours(1)).await;
    assert_eq!(jobs.usage_customers_settled, 0);
    // One fee record, as the journal transaction took it.
    let fee = format!(
        "UPDATE fee_records SET cycle = cycle WHERE customer_id = '{c}' AND resource_id = '{vm}' \
         AND bill_type = 'ON_DEMAND' AND list_minor = 316 AND discount_minor = 0 \
         AND amount_minor = 316 AND transaction_id IN (SELECT id FROM ledger_transactions \
         WHERE operation = 'USAGE_CHARGE' AND amount = 316 AND customer_id = '{c}')"
    );
    assert_eq!(count(&server, &fee).await, 1);
    let in_use = |r: &pb::Resource| r.status() == pb::ResourceStatus::InUse;
    assert!(in_use(&resource(&server, &master, &vm).await));

    // The grace period (24 h) passes: the on-demand VM freezes.
    let jobs = advance(&server, Duration::hours(23)).await;
    assert_eq!(jobs.arrears_frozen, 1);
    let master = server.login("settleco", USER_PASSWORD).await;
    let r = resource(&server, &master, &vm).await;
    assert_eq!(r.status(), pb::ResourceStatus::Frozen);
    assert_eq!(r.frozen_for, "ARREARS");
    // The on-demand resources, listed by their own statuses.
    let listed = ok(server
        .resources(&master)
        .list_resources(pb::ListResourcesRequest {
            customer_id: c.clone(),
            charging_mode: pb::ChargingMode::OnDemand as i32,
            status: pb::ResourceStatus::Frozen as i32,
            ..Default::default()
        })
        .await)
    .resources;
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![vm.as_str()]
    );
    let paid_by_period = ok(server
        .resources(&master)
        .list_resources(pb::ListResourcesRequest {
            customer_id: c.clone(),
            charging_mode: pb::ChargingMode::Period as i32,
            ..Default::default()
        })
        .await)
    .resources;
    assert!(paid_by_period.is_empty(), "{paid_by_period:?}");

    // Paying what is owed brings it back.
    ok(server
        .funds(&master)
        .transfer_to_customer(fund(&f.customer, 500))
        .await);
    let jobs = advance(&server, Duration::minutes(1)).await;
    assert_eq!(jobs.arrears_cleared, 1);
    let master = server.login("settleco", USER_PASSWORD).await;
    let back = resource(&server, &master, &vm).await;
    assert!(in_use(&back));
    assert_eq!(back.frozen_for, "");
    assert_eq!(balance(&server, &master, &c, owed).await, 0);
    assert_eq!(cash(&server, &master, &c).await, 500 - 216);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn the_discount_in_force_when_used_applies_and_an_auto_freeze_budget_freezes() {
    let server = sandbox(whole_second_clock()).await;
    let (f, vm) = on_demand_vm(&server, "discountco", 10_000).await;
    let (master, c) = (f.master.clone(), f.customer.customer_id.clone());
    let admin = server.admin_token().await;
    let now = clock_now(&server).await;
    // A vendor contract for the customer since yesterday: 20 % off.
    ok(server
        .discounts(&admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::VendorContract as i32,
            name: "contract".into(),
            customer_id: c.clone(),
            terms: Some(pr::create_discount_request::Terms::RateOff("0.2".into())),
            valid_from: Some(to_proto_timestamp(now - Duration::days(1))),
            ..Default::default()
        })
        .await);
    ok(server
        .customers(&master)
        .set_customer_budget(cu::SetCustomerBudgetRequest {
            request_id: new_request_id(),
            customer_id: c.clone(),
            amount: Some(cny(200)),
            budget_type: cu::BudgetType::Monthly as i32,
            auto_freeze: true,
            reseller_id: String::new(),
            lift_budget_freeze: false,
        })
        .await);
    // 3.16 at list, 0.632 off: 2.528, charged 2.53 — over the 2.00 budget.
    use_vm(&server, "discounted-1", &c, &vm, 10).await;
    let jobs = advance(&server, Duration::hours(1)).await;
    assert_eq!(jobs.usage_customers_settled, 1);
    let master = server.login("discountco", USER_PASSWORD).await;
    assert_eq!(cash(&server, &master, &c).await, 10_000 - 253);
    let fee = format!(
        "UPDATE fee_records SET cycle = cycle WHERE customer_id = '{c}' \
         AND list_minor = 316 AND discount_minor = 63 AND amount_minor = 253"
    );
    assert_eq!(count(&server, &fee).await, 1);
    let budget = ok(server
        .customers(&master)
        .get_customer_budget(cu::GetCustomerBudgetRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(minor_of(budget.used.as_ref()), 253);
    let customer = ok(server
        .customers(&master)
        .get_customer(cu::GetCustomerRequest {
            customer_id: c.clone(),
            ..Default::default()
        })
        .await)
    .customer
    .unwrap_or_default();
    assert_eq!(customer.freeze_mode(), cu::FreezeMode::Account);

    // Raising the budget may lift the freeze it caused, with the permission
    // to unfreeze: a finance user (budgets only) may not.
    let raise = |lift: bool| cu::SetCustomerBudgetRequest {
        request_id: new_request_id(),
        customer_id: c.clone(),
        amount: Some(cny(1_000)),
        budget_type: cu::BudgetType::Monthly as i32,
        auto_freeze: true,
        reseller_id: String::new(),
        lift_budget_freeze: lift,
    };
    let (_, finance) = server.user_with_role(&master, "counter", "FINANCE").await;
    assert_refused(
        server
            .customers(&finance)
            .set_customer_budget(raise(true))
            .await,
        tonic::Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let freeze_of = |token: String| {
        let server = &server;
        let c = c.clone();
        async move {
            ok(server
                .customers(&token)
                .get_customer(cu::GetCustomerRequest {
                    customer_id: c,
                    ..Default::default()
                })
                .await)
            .customer
            .unwrap_or_default()
            .freeze_mode()
        }
    };
    assert_eq!(freeze_of(master.clone()).await, cu::FreezeMode::Account);
    let raised = ok(server
        .customers(&master)
        .set_customer_budget(raise(true))
        .await);
    assert!(raised.unfrozen);
    assert_eq!(freeze_of(master.clone()).await, cu::FreezeMode::None);
    // A freeze for another reason is not the budget's to lift.
    ok(server
        .customers(&master)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![c.clone()],
            mode: cu::FreezeMode::Account as i32,
            reason: "unpaid invoice".into(),
            ..Default::default()
        })
        .await);
    let again = ok(server
        .customers(&master)
        .set_customer_budget(raise(true))
        .await);
    assert!(!again.unfrozen);
    assert_eq!(freeze_of(master.clone()).await, cu::FreezeMode::Account);
    server.assert_ledger_clean().await;
}
