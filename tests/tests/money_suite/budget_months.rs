//! A monthly budget counts each month of the billing time zone apart; a
//! one-off budget counts everything until it is set again.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use partner_api::customers::v1 as cu;
use partner_kernel::clock::TestClock;
use partner_tests::*;
use tonic::Code;

use crate::orders::{buyer, created, lines, order, pay};

fn budget(customer: &str, kind: cu::BudgetType) -> cu::SetCustomerBudgetRequest {
    cu::SetCustomerBudgetRequest {
        request_id: new_request_id(),
        customer_id: customer.into(),
        amount: Some(cny(500_000)),
        budget_type: kind as i32,
        auto_freeze: false,
        reseller_id: String::new(),
        lift_budget_freeze: false,
    }
}

async fn budget_of(server: &TestServer, token: &str, customer: &str) -> cu::CustomerBudget {
    ok(server
        .customers(token)
        .get_customer_budget(cu::GetCustomerBudgetRequest {
            customer_id: customer.into(),
            ..Default::default()
        })
        .await)
    .budget
    .unwrap_or_default()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_monthly_budget_starts_again_on_the_first_in_the_billing_zone() {
    // 23:30 on 31 January in UTC+8, the default billing zone (15:30 in UTC).
    let clock = Arc::new(TestClock::new(at("2030-01-31T15:30:00Z")));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let monthly = buyer(&server, "monthco", 1_000_000).await;
    let once = buyer(&server, "onceco", 900_000).await;
    let (m, o) = (
        monthly.customer.customer_id.clone(),
        once.customer.customer_id.clone(),
    );
    ok(server
        .customers(&monthly.master)
        .set_customer_budget(budget(&m, cu::BudgetType::Monthly))
        .await);
    ok(server
        .customers(&once.master)
        .set_customer_budget(budget(&o, cu::BudgetType::Package))
        .await);
    // Each spends 3,040.00 of its 5,000.00; a second such order does not fit.
    for (token, customer) in [(&monthly.master, &m), (&once.master, &o)] {
        let first = created(&server, token, order(customer, lines()[..1].to_vec())).await;
        ok(server
            .orders(token)
            .pay_order(pay(&first.id, &[], ""))
            .await);
        assert_refused(
            server
                .orders(token)
                .create_order(order(customer, lines()[..1].to_vec()))
                .await,
            Code::FailedPrecondition,
            "BUDGET_EXCEEDED",
        );
    }
    let january = budget_of(&server, &monthly.master, &m).await;
    assert_eq!(minor_of(january.used.as_ref()), 304_000);
    assert_eq!(january.used_month, "2030-01");
    assert_eq!(budget_of(&server, &once.master, &o).await.used_month, "");

    // 00:10 on 1 February in UTC+8, still 31 January in UTC.
    clock.advance(Duration::minutes(40));
    let february = budget_of(&server, &monthly.master, &m).await;
    assert_eq!(minor_of(february.used.as_ref()), 0);
    assert_eq!(minor_of(february.remaining.as_ref()), 500_000);
    assert_eq!(february.used_month, "2030-02");
    let batch = ok(server
        .customers(&monthly.master)
        .batch_get_customer_budgets(cu::BatchGetCustomerBudgetsRequest {
            customer_ids: vec![m.clone()],
            reseller_id: String::new(),
        })
        .await);
    assert_eq!(
        batch.results.first().and_then(|r| r.budget.clone()),
        Some(february)
    );
    // The new month holds an order again, and counts only its own.
    let second = created(&server, &monthly.master, order(&m, lines()[..1].to_vec())).await;
    ok(server
        .orders(&monthly.master)
        .pay_order(pay(&second.id, &[], ""))
        .await);
    let after = budget_of(&server, &monthly.master, &m).await;
    assert_eq!(minor_of(after.used.as_ref()), 304_000);
    assert_eq!(after.used_month, "2030-02");

    // The one-off budget still counts January's spending.
    let package = budget_of(&server, &once.master, &o).await;
    assert_eq!(minor_of(package.used.as_ref()), 304_000);
    assert_refused(
        server
            .orders(&once.master)
            .create_order(order(&o, lines()[..1].to_vec()))
            .await,
        Code::FailedPrecondition,
        "BUDGET_EXCEEDED",
    );
    // Turned into a one-off budget, the count starts afresh; a new amount
    // alone keeps it.
    let once_now = ok(server
        .customers(&monthly.master)
        .set_customer_budget(budget(&m, cu::BudgetType::Package))
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(minor_of(once_now.used.as_ref()), 0);
    assert_eq!(once_now.used_month, "");
    let paid_again = created(&server, &monthly.master, order(&m, lines()[..1].to_vec())).await;
    ok(server
        .orders(&monthly.master)
        .pay_order(pay(&paid_again.id, &[], ""))
        .await);
    let mut more = budget(&m, cu::BudgetType::Package);
    more.amount = Some(cny(900_000));
    let raised = ok(server
        .customers(&monthly.master)
        .set_customer_budget(more)
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(minor_of(raised.used.as_ref()), 304_000);
    server.assert_ledger_clean().await;
}
