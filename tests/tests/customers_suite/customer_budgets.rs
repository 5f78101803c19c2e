//! Customer budgets through the real server: set (monthly or one-off, with
//! auto-freeze), read with used and remaining, batch reads with a result per
//! customer, the change records, and the refusals.

use partner_api::customers::v1 as cu;
use partner_api::r#type::v1::Money;
use partner_tests::*;
use tonic::Code;

fn cny(units: i64, nanos: i32) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        units,
        nanos,
    })
}

fn set(id: &str, amount: Option<Money>, kind: cu::BudgetType) -> cu::SetCustomerBudgetRequest {
    cu::SetCustomerBudgetRequest {
        request_id: new_request_id(),
        customer_id: id.into(),
        amount,
        budget_type: kind as i32,
        auto_freeze: true,
        reseller_id: String::new(),
        lift_budget_freeze: false,
    }
}

#[tokio::test]
async fn budgets_are_set_read_and_recorded() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let a = server.create_customer(&master, &acme, "crm-a").await;
    let b = server.create_customer(&master, &acme, "crm-b").await;

    let get = |id: &str| cu::GetCustomerBudgetRequest {
        customer_id: id.into(),
        reseller_id: String::new(),
    };
    assert_refused(
        server
            .customers(&master)
            .get_customer_budget(get(&a.customer_id))
            .await,
        Code::NotFound,
        "BUDGET_NOT_SET",
    );
    let first = ok(server
        .customers(&master)
        .set_customer_budget(set(
            &a.customer_id,
            cny(1200, 500_000_000),
            cu::BudgetType::Monthly,
        ))
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(first.amount, cny(1200, 500_000_000));
    assert_eq!(first.used, cny(0, 0));
    assert_eq!(first.remaining, cny(1200, 500_000_000));
    assert_eq!(first.budget_type, cu::BudgetType::Monthly as i32);
    assert!(first.auto_freeze);
    let changed = ok(server
        .customers(&master)
        .set_customer_budget(set(&a.customer_id, cny(300, 0), cu::BudgetType::Package))
        .await)
    .budget
    .unwrap_or_default();
    let read = ok(server
        .customers(&master)
        .get_customer_budget(get(&a.customer_id))
        .await)
    .budget
    .unwrap_or_default();
    assert_eq!(read, changed);
    assert_eq!(read.budget_type, cu::BudgetType::Package as i32);

    // Two records, oldest first, naming who set them.
    let records = ok(server
        .customers(&master)
        .list_budget_records(cu::ListBudgetRecordsRequest {
            customer_id: a.customer_id.clone(),
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert_eq!(records.records.len(), 1);
    assert_eq!(records.records[0].amount, cny(1200, 500_000_000));
    assert_eq!(records.records[0].kind, cu::BudgetRecordKind::Set as i32);
    assert!(records.records[0].actor_user_id.starts_with("usr_"));
    let rest = ok(server
        .customers(&master)
        .list_budget_records(cu::ListBudgetRecordsRequest {
            customer_id: a.customer_id.clone(),
            page_token: records.next_page_token,
            ..Default::default()
        })
        .await);
    assert_eq!(rest.records.len(), 1);
    assert_eq!(rest.records[0].amount, cny(300, 0));

    // Batch: one with a budget, one without.
    let batch = ok(server
        .customers(&master)
        .batch_get_customer_budgets(cu::BatchGetCustomerBudgetsRequest {
            customer_ids: vec![a.customer_id.clone(), b.customer_id.clone()],
            reseller_id: String::new(),
        })
        .await);
    let reasons: Vec<&str> = batch
        .results
        .iter()
        .map(|r| r.error_reason.as_str())
        .collect();
    assert_eq!(reasons, ["", "BUDGET_NOT_SET"]);

    // Refusals: finer than a fen, negative, no type, unknown currency, another partner.
    for (amount, kind) in [
        (cny(1, 5_000_000), cu::BudgetType::Monthly),
        (cny(-1, 0), cu::BudgetType::Monthly),
        (cny(1, 0), cu::BudgetType::Unspecified),
        (
            Some(Money {
                currency_code: "XTS".into(),
                units: 1,
                nanos: 0,
            }),
            cu::BudgetType::Monthly,
        ),
        (None, cu::BudgetType::Monthly),
    ] {
        assert_refused(
            server
                .customers(&master)
                .set_customer_budget(set(&a.customer_id, amount, kind))
                .await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
    }
    assert_refused(
        server
            .customers(&globex_master)
            .set_customer_budget(set(&a.customer_id, cny(1, 0), cu::BudgetType::Monthly))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // Sales users read budgets but cannot set them; finance users can.
    let (_, sales) = server.user_with_role(&master, "seller", "SALES").await;
    ok(server
        .customers(&sales)
        .get_customer_budget(get(&a.customer_id))
        .await);
    assert_refused(
        server
            .customers(&sales)
            .set_customer_budget(set(&b.customer_id, cny(5, 0), cu::BudgetType::Monthly))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let (_, finance) = server.user_with_role(&master, "counter", "FINANCE").await;
    ok(server
        .customers(&finance)
        .set_customer_budget(set(&b.customer_id, cny(5, 0), cu::BudgetType::Monthly))
        .await);
}
