//! What partners read about money: credit lines, many customers' balances
//! at once, balances as of a time, and adjustment records.

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_kernel::clock::{Clock, TestClock, to_proto_timestamp};
use partner_tests::*;
use tonic::Code;

use crate::funds::{cash_of, fund, funded};

#[tokio::test]
async fn the_operator_opens_a_credit_line_beside_the_cash() {
    let server = TestServer::start().await;
    let f = funded(&server, "creditco", 1_000).await;
    let set = |minor: i64| pb::SetPartnerCreditLimitRequest {
        request_id: new_request_id(),
        partner_id: f.partner.partner_id.clone(),
        credit_limit: Some(cny(minor)),
        reason: "annual review".into(),
    };
    let credit = ok(server
        .funds(&f.admin)
        .set_partner_credit_limit(set(50_000))
        .await)
    .balance
    .unwrap_or_default();
    assert_eq!(credit.kind, pb::AccountKind::PartnerCredit as i32);
    assert_eq!(minor_of(credit.credit_limit.as_ref()), 50_000);
    assert_eq!(minor_of(credit.available.as_ref()), 50_000);
    assert_eq!(minor_of(credit.balance.as_ref()), 0);
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    let kinds: Vec<i32> = own.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            pb::AccountKind::PartnerCash as i32,
            pb::AccountKind::PartnerCredit as i32
        ]
    );
    // Ending it needs no credit in use; partners set no limits.
    ok(server
        .funds(&f.admin)
        .set_partner_credit_limit(set(0))
        .await);
    assert_refused(
        server
            .funds(&f.master)
            .set_partner_credit_limit(set(1))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let mut negative = set(0);
    negative.credit_limit = Some(partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units: -1,
        nanos: 0,
    });
    let status = assert_refused(
        server
            .funds(&f.admin)
            .set_partner_credit_limit(negative)
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["credit_limit"]);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn many_customers_balances_come_back_one_result_per_id() {
    let server = TestServer::start().await;
    let f = funded(&server, "batchco", 10_000).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 2_500))
        .await);
    let mut request = create_customer_request(&f.partner, "batchco-consult");
    request.association_type = cu::AssociationType::ConsultantSale as i32;
    let consult = server.created_customer(&f.master, request).await;
    let unfunded = server
        .create_customer(&f.master, &f.partner, "batchco-new")
        .await;
    let other = funded(&server, "batchother", 0).await;
    let ids = vec![
        consult.customer_id.clone(),
        other.customer.customer_id.clone(),
        f.customer.customer_id.clone(),
        unfunded.customer_id.clone(),
    ];
    let results = ok(server
        .funds(&f.master)
        .batch_get_customer_balances(pb::BatchGetCustomerBalancesRequest {
            customer_ids: ids.clone(),
            reseller_id: String::new(),
        })
        .await)
    .results;
    let asked: Vec<&str> = results.iter().map(|r| r.customer_id.as_str()).collect();
    assert_eq!(asked, ids);
    assert!(results[0].consultant_sale && results[0].balances.is_empty());
    assert_eq!(results[1].error_reason, "CUSTOMER_NOT_FOUND");
    assert!(results[1].balances.is_empty());
    assert_eq!(
        cash_of(&results[2].balances, &f.customer.customer_id),
        2_500
    );
    assert!(results[3].balances.is_empty() && results[3].error_reason.is_empty());
    let repeated = server
        .funds(&f.master)
        .batch_get_customer_balances(pb::BatchGetCustomerBalancesRequest {
            customer_ids: vec![ids[2].clone(), ids[2].clone()],
            reseller_id: String::new(),
        })
        .await;
    let status = assert_refused(repeated, Code::InvalidArgument, "FIELD_VIOLATION");
    assert_eq!(violated_fields(&status), ["customer_ids[1]"]);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn balances_as_of_a_time_and_adjustment_records_tell_the_history() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = funded(&server, "historyco", 10_000).await;
    let t0 = clock.now();
    clock.advance(Duration::minutes(5));
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 3_000))
        .await);
    clock.advance(Duration::minutes(5));
    let t2 = clock.now();
    ok(server
        .funds(&f.master)
        .reclaim_from_customer(pb::ReclaimFromCustomerRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            amount: Some(cny(1_000)),
            reason: "returned".into(),
            reseller_id: String::new(),
        })
        .await);
    let at = |time: chrono::DateTime<Utc>, customer: bool| pb::GetBalanceAtRequest {
        customer_id: if customer {
            f.customer.customer_id.clone()
        } else {
            String::new()
        },
        time: Some(to_proto_timestamp(time)),
        ..Default::default()
    };
    let partner_then = ok(server.funds(&f.master).get_balance_at(at(t0, false)).await).balances;
    assert_eq!(cash_of(&partner_then, &f.partner.partner_id), 10_000);
    // Just before the reclaim: the funding only.
    let customer_then = ok(server
        .funds(&f.master)
        .get_balance_at(at(t2 - Duration::seconds(1), true))
        .await)
    .balances;
    assert_eq!(cash_of(&customer_then, &f.customer.customer_id), 3_000);
    // Before its account existed, the customer had none.
    let before = ok(server.funds(&f.master).get_balance_at(at(t0, true)).await).balances;
    assert!(before.is_empty(), "{before:?}");
    let missing = server
        .funds(&f.master)
        .get_balance_at(pb::GetBalanceAtRequest::default())
        .await;
    let status = assert_refused(missing, Code::InvalidArgument, "FIELD_VIOLATION");
    assert_eq!(violated_fields(&status), ["time"]);

    let list = |request: pb::ListAdjustRecordsRequest| {
        let mut funds = server.funds(&f.master);
        async move { ok(funds.list_adjust_records(request).await) }
    };
    let all = list(pb::ListAdjustRecordsRequest::default()).await.records;
    let types: Vec<i32> = all.iter().map(|r| r.r#type).collect();
    assert_eq!(
        types,
        [pb::AdjustType::Reclaim as i32, pb::AdjustType::Fund as i32]
    );
    assert_eq!(minor_of(all[0].amount.as_ref()), 1_000);
    assert_eq!(all[0].reason, "returned");
    assert_eq!(all[0].customer_id, f.customer.customer_id);
    assert!(all[0].actor_id.starts_with("usr_"), "{:?}", all[0]);
    let funds_only = list(pb::ListAdjustRecordsRequest {
        r#type: pb::AdjustType::Fund as i32,
        ..Default::default()
    })
    .await
    .records;
    assert_eq!(funds_only.len(), 1);
    assert_eq!(minor_of(funds_only[0].amount.as_ref()), 3_000);
    let early = list(pb::ListAdjustRecordsRequest {
        end_time: Some(to_proto_timestamp(t2)),
        ..Default::default()
    })
    .await
    .records;
    assert_eq!(early.len(), 1);
    let paged = list(pb::ListAdjustRecordsRequest {
        page_size: 1,
        ..Default::default()
    })
    .await;
    let rest = list(pb::ListAdjustRecordsRequest {
        page_size: 1,
        page_token: paged.next_page_token.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(rest.records, all[1..]);
    assert_refused(
        server
            .funds(&f.master)
            .list_adjust_records(pb::ListAdjustRecordsRequest {
                start_time: Some(to_proto_timestamp(t2)),
                end_time: Some(to_proto_timestamp(t0)),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // Another partner sees none of them.
    let other = funded(&server, "historyother", 0).await;
    let theirs = ok(server
        .funds(&other.master)
        .list_adjust_records(pb::ListAdjustRecordsRequest::default())
        .await);
    assert!(theirs.records.is_empty());
    server.assert_ledger_clean().await;
}
