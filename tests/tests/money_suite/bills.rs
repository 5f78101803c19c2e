//! Bills over a simulated month and a half on the sandbox clock: a
//! purchase, a switch to on-demand (a refund), daily on-demand use settled
//! hourly, an auto-renewal and an unsubscribe. Monthly bills, their fee
//! records, the CSV export and the ledger agree to the minor unit; a
//! distributor's bill covers its resellers' customers.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use futures::StreamExt;
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pr;
use partner_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

use crate::clocked::{advance, clock_now, sandbox, whole_second_clock};
use crate::expiry::bought;
use crate::orders::cash;
use crate::settlement::count;
use crate::usage::{VM, record, report};

/// The billing cycle (UTC+8) a time falls in.
fn cycle_of(t: DateTime<Utc>) -> String {
    let utc8 = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| panic!("a zone"));
    t.with_timezone(&utc8).format("%Y-%m").to_string()
}

async fn customer_bill(server: &TestServer, token: &str, c: &str, cycle: &str) -> pb::Bill {
    ok(server
        .bills(token)
        .get_customer_bill(pb::GetCustomerBillRequest {
            customer_id: c.into(),
            cycle: cycle.into(),
            ..Default::default()
        })
        .await)
    .bill
    .unwrap_or_default()
}

fn total(bill: &pb::Bill) -> i64 {
    bill.totals
        .iter()
        .map(|t| minor_of(t.amount.as_ref()))
        .sum()
}

/// Every fee record of `cycle` the caller reaches, page after page.
async fn fee_records(server: &TestServer, token: &str, c: &str, cycle: &str) -> Vec<pb::FeeRecord> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = ok(server
            .bills(token)
            .list_fee_records(pb::ListFeeRecordsRequest {
                cycle: cycle.into(),
                customer_id: c.into(),
                page_size: 7,
                page_token,
                ..Default::default()
            })
            .await);
        out.extend(page.fee_records);
        if page.next_page_token.is_empty() {
            return out;
        }
        page_token = page.next_page_token;
    }
}

/// The export of `cycle` as lines of fields (a naive split: the values
/// here hold no commas).
async fn exported(server: &TestServer, token: &str, c: &str, cycle: &str) -> Vec<Vec<String>> {
    let mut stream = ok(server
        .bills(token)
        .export_bill(pb::ExportBillRequest {
            cycle: cycle.into(),
            customer_id: c.into(),
            ..Default::default()
        })
        .await);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap_or_else(|e| panic!("{e:?}")).chunk);
    }
    String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{e}"))
        .split_terminator("\r\n")
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// Unsubscribes `resource` with its renewals (refunding what is unused).
async fn unsubscribe(server: &TestServer, token: &str, resource: &str) {
    ok(server
        .resources(token)
        .unsubscribe_resources(pb::UnsubscribeResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![resource.to_owned()],
            r#type: pb::UnsubscribeType::WithRenewals as i32,
            reason_type: pb::UnsubscribeReasonType::Other as i32,
            reason: "done".into(),
            ..Default::default()
        })
        .await);
}

/// Minor units of a plain decimal amount with two places.
fn minor_of_text(raw: &str) -> i64 {
    let (units, cents) = raw.split_once('.').unwrap_or((raw, "00"));
    let sign = if units.starts_with('-') { -1 } else { 1 };
    let units: i64 = units
        .trim_start_matches('-')
        .parse()
        .unwrap_or_else(|_| panic!("{raw}"));
    let cents: i64 = cents.parse().unwrap_or_else(|_| panic!("{raw}"));
    sign * (units * 100 + cents)
}

#[tokio::test]
async fn a_simulated_month_reconciles_bills_fee_records_exports_and_the_ledger() {
    let server = sandbox(whole_second_clock()).await;
    let start = clock_now(&server).await;
    // 5,000.00 funded; two monthly VMs bought.
    let (f, paid) = bought(&server, "billco", 2).await;
    let c = f.customer.customer_id.clone();
    let (kept, switched) = (
        paid.lines[0].resource_ids[0].clone(),
        paid.lines[0].resource_ids[1].clone(),
    );
    ok(server
        .resources(&f.master)
        .set_auto_renew(pb::SetAutoRenewRequest {
            request_id: new_request_id(),
            id: kept.clone(),
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            times: 0,
            ..Default::default()
        })
        .await);
    // The second one runs on demand from now: its month is refunded.
    ok(server
        .resources(&f.master)
        .switch_to_on_demand_now(pb::SwitchToOnDemandNowRequest {
            request_id: new_request_id(),
            resource_ids: vec![switched.clone()],
            ..Default::default()
        })
        .await);
    // 40 days of use: a day of the on-demand VM and 2 TB of a bucket each
    // day, reported as the day ends, then settled.
    for day in 0..40 {
        let now = clock_now(&server).await;
        let mut vm = record(
            &format!("vm-day-{day}"),
            &c,
            VM,
            0,
            "duration",
            "24",
            "HOUR",
            (now - Duration::hours(24), now),
        );
        vm.resource_id = switched.clone();
        let bucket = record(
            &format!("obs-day-{day}"),
            &c,
            ("object_storage", "bucket", "standard"),
            0,
            "capacity",
            "2",
            "TB",
            (now - Duration::hours(24), now),
        );
        let answer = report(&server, new_request_id(), vec![vm, bucket])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(answer.accepted, 2, "{answer:?}");
        let jobs = advance(&server, Duration::days(1)).await;
        assert_eq!(jobs.usage_records_settled, 2, "day {day}: {jobs:?}");
    }
    let master = server.login("billco", USER_PASSWORD).await;
    // The kept VM renewed once; now it is unsubscribed (its renewal refunded).
    unsubscribe(&server, &master, &kept).await;
    let end = clock_now(&server).await;

    // Every journal transaction of the customer's money has its fee
    // records, and they add up to it exactly.
    let missing = format!(
        "UPDATE fee_records SET cycle = cycle WHERE EXISTS (SELECT 1 FROM ledger_transactions t \
         WHERE t.customer_id = '{c}' AND t.operation IN ('ORDER_PAYMENT', 'ORDER_REFUND', \
         'USAGE_CHARGE') AND NOT EXISTS (SELECT 1 FROM fee_records f WHERE f.transaction_id = t.id))"
    );
    assert_eq!(count(&server, &missing).await, 0);
    let mismatched = "UPDATE fee_records SET cycle = cycle WHERE transaction_id IN \
         (SELECT t.id FROM ledger_transactions t JOIN (SELECT transaction_id, \
         SUM(amount_minor) AS s FROM fee_records GROUP BY transaction_id) f \
         ON f.transaction_id = t.id WHERE ABS(f.s) <> t.amount)";
    assert_eq!(count(&server, mismatched).await, 0);

    // The cycles the simulation crossed.
    let cycles: BTreeSet<String> = (0..=45)
        .map(|d| cycle_of(start + Duration::days(d)))
        .filter(|cy| *cy <= cycle_of(end))
        .collect();
    assert!(cycles.len() >= 2, "{cycles:?}");
    let mut billed = 0;
    let mut types = BTreeSet::new();
    for cycle in &cycles {
        let bill = customer_bill(&server, &master, &c, cycle).await;
        let fees = fee_records(&server, &master, &c, cycle).await;
        let fee_sum: i64 = fees.iter().map(|x| minor_of(x.amount.as_ref())).sum();
        assert_eq!(total(&bill), fee_sum, "{cycle}");
        // Each line is list − discount.
        for l in &bill.lines {
            assert_eq!(
                minor_of(l.list_amount.as_ref()) - minor_of(l.discount_amount.as_ref()),
                minor_of(l.amount.as_ref()),
                "{l:?}"
            );
            types.insert(l.bill_type().as_str_name().to_owned());
        }
        let csv = exported(&server, &master, &c, cycle).await;
        assert_eq!(csv[0][0], "fee_id");
        let amount_col = csv[0]
            .iter()
            .position(|h| h == "amount")
            .unwrap_or_else(|| panic!("no amount column"));
        assert_eq!(csv.len() - 1, fees.len(), "{cycle}");
        let csv_sum: i64 = csv[1..].iter().map(|l| minor_of_text(&l[amount_col])).sum();
        assert_eq!(csv_sum, fee_sum, "{cycle}");
        let partner_bill = ok(server
            .bills(&master)
            .get_partner_bill(pb::GetPartnerBillRequest {
                cycle: cycle.clone(),
                ..Default::default()
            })
            .await)
        .bill
        .unwrap_or_default();
        assert_eq!(partner_bill.totals, bill.totals, "{cycle}");
        billed += fee_sum;
    }
    // Filtered by bill type, the fee records are that type's, and add up to
    // its lines.
    let on_demand = ok(server
        .bills(&master)
        .list_fee_records(pb::ListFeeRecordsRequest {
            cycle: cycle_of(end),
            customer_id: c.clone(),
            bill_type: pb::BillType::OnDemand as i32,
            page_size: 500,
            ..Default::default()
        })
        .await)
    .fee_records;
    assert!(!on_demand.is_empty());
    assert!(
        on_demand
            .iter()
            .all(|x| x.bill_type() == pb::BillType::OnDemand)
    );
    let in_bill: i64 = customer_bill(&server, &master, &c, &cycle_of(end))
        .await
        .lines
        .iter()
        .filter(|l| l.bill_type() == pb::BillType::OnDemand)
        .map(|l| minor_of(l.amount.as_ref()))
        .sum();
    assert_eq!(
        on_demand
            .iter()
            .map(|x| minor_of(x.amount.as_ref()))
            .sum::<i64>(),
        in_bill
    );
    for expected in [
        "BILL_TYPE_PURCHASE",
        "BILL_TYPE_REFUND",
        "BILL_TYPE_ON_DEMAND",
        "BILL_TYPE_RENEWAL",
    ] {
        assert!(types.contains(expected), "{expected} in {types:?}");
    }
    // What the bills total is what left the customer's money: funded
    // 5,000.00, nothing owed, no coupons.
    let left = cash(&server, &master, &c).await;
    assert_eq!(billed, 500_000 - left);

    // Usage details: the month's records, each settled.
    let first = cycles.iter().next().cloned().unwrap_or_default();
    let details = ok(server
        .bills(&master)
        .list_usage_details(pb::ListUsageDetailsRequest {
            customer_id: c.clone(),
            resource_id: switched.clone(),
            cycle: first.clone(),
            page_size: 500,
            ..Default::default()
        })
        .await);
    assert!(!details.usage_details.is_empty());
    assert!(
        details
            .usage_details
            .iter()
            .all(|d| d.settlement_id.starts_with("stl_") && d.resource_id == switched)
    );
    // The first month ended and all its use is charged: closed.
    assert!(customer_bill(&server, &master, &c, &first).await.closed);
    assert!(
        !customer_bill(&server, &master, &c, &cycle_of(end))
            .await
            .closed
    );
    server.assert_ledger_clean().await;
    adjustments(&server, &master, (&c, &switched), (&first, &cycle_of(end))).await;

    // Another partner reads none of it; a bad cycle is refused.
    let admin = server.admin_token().await;
    let (_, other) = server.register_partner(&admin, "billother").await;
    assert_refused(
        server
            .bills(&other)
            .get_customer_bill(pb::GetCustomerBillRequest {
                customer_id: c.clone(),
                cycle: first.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let theirs = ok(server
        .bills(&other)
        .get_partner_bill(pb::GetPartnerBillRequest {
            cycle: first.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(theirs.customers, 0);
    for bad in ["2026-13", "26-01", "2026-1"] {
        assert_refused(
            server
                .bills(&master)
                .get_customer_bill(pb::GetCustomerBillRequest {
                    customer_id: c.clone(),
                    cycle: bad.into(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
    }
}

#[tokio::test]
async fn a_distributors_bill_covers_its_resellers_customers_and_a_customer_reads_its_own() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, d_master) = server
        .enrolled_partner(
            &admin,
            "distbillco",
            partner_api::accounts::v1::Program::Distributor,
        )
        .await;
    let (reseller, r_master) = server.linked_reseller(&admin, &d_master, "resbillco").await;
    server.top_up(&admin, &reseller.partner_id, 1_000_000).await;
    let customer = server
        .customer_with_password(&r_master, &reseller, "resbillco-buyer")
        .await;
    ok(server
        .funds(&r_master)
        .transfer_to_customer(crate::funds::fund(&customer, 500_000))
        .await);
    let made = crate::orders::created(
        &server,
        &r_master,
        crate::orders::order(&customer.customer_id, crate::orders::lines()[1..].to_vec()),
    )
    .await;
    let paid = ok(server
        .orders(&r_master)
        .pay_order(crate::orders::pay(&made.id, &[], ""))
        .await)
    .order
    .unwrap_or_default();
    let charged = minor_of(paid.final_total.as_ref());
    let cycle = cycle_of(Utc::now());
    let bill_of = |token: String, reseller_id: String| {
        let server = &server;
        let cycle = cycle.clone();
        async move {
            ok(server
                .bills(&token)
                .get_partner_bill(pb::GetPartnerBillRequest { cycle, reseller_id })
                .await)
        }
    };
    let own = bill_of(r_master.clone(), String::new()).await;
    let whole = bill_of(d_master.clone(), String::new()).await;
    let one = bill_of(d_master.clone(), reseller.partner_id.clone()).await;
    for b in [&own, &whole, &one] {
        assert_eq!(b.customers, 1);
        assert_eq!(
            total(b.bill.as_ref().unwrap_or(&pb::Bill::default())),
            charged
        );
    }
    // The purchase, per resource: the one VM of the line.
    let lines = &own.bill.unwrap_or_default().lines;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].bill_type(), pb::BillType::Purchase);
    assert_eq!(lines[0].charge_mode(), pb::ChargingMode::Period);
    assert_eq!(lines[0].fee_records, 1);
    // The distributor reaches the customer's bill through its reseller.
    let through = ok(server
        .bills(&d_master)
        .get_customer_bill(pb::GetCustomerBillRequest {
            customer_id: customer.customer_id.clone(),
            cycle: cycle.clone(),
            reseller_id: reseller.partner_id.clone(),
        })
        .await)
    .bill
    .unwrap_or_default();
    assert_eq!(total(&through), charged);
    // A suspended link reaches nothing of the reseller's any more.
    ok(server
        .resellers(&d_master)
        .suspend_reseller(partner_api::accounts::v1::SuspendResellerRequest {
            request_id: new_request_id(),
            reseller_id: reseller.partner_id.clone(),
            reason: "audit".into(),
        })
        .await);
    let after = bill_of(d_master.clone(), String::new()).await;
    assert_eq!(after.customers, 0);
    assert!(after.bill.unwrap_or_default().totals.is_empty());
    // The customer reads its own bill and fee records, and no partner's.
    let own_token = server.customer_token(&customer.account_name).await;
    let mine = customer_bill(&server, &own_token, "", &cycle).await;
    assert_eq!(mine.totals, through.totals);
    let fees = fee_records(&server, &own_token, "", &cycle).await;
    assert_eq!(fees.len(), 1);
    assert!(fees[0].transaction_id.starts_with("ltx_"), "{:?}", fees[0]);
    assert_eq!(fees[0].resource_id, paid.lines[0].resource_ids[0]);
    assert_refused(
        server
            .bills(&own_token)
            .get_partner_bill(pb::GetPartnerBillRequest {
                cycle: cycle.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

fn adjustment(
    customer: &str,
    cycle: &str,
    resource: &str,
    credit: bool,
    minor: i64,
) -> pb::AdjustBillRequest {
    pb::AdjustBillRequest {
        request_id: new_request_id(),
        customer_id: customer.into(),
        cycle: cycle.into(),
        resource_id: resource.into(),
        r#type: if credit {
            pb::AdjustmentType::Credit
        } else {
            pb::AdjustmentType::Charge
        } as i32,
        amount: Some(cny(minor)),
        reason: "metering correction".into(),
        ..Default::default()
    }
}

/// The operator corrects the closed cycle `first` of customer `c` (whose
/// resource is `vm`): the adjustments land in the open cycle `open`, the
/// closed bill does not change, the money moves, and a credit never
/// returns more than the cycle billed.
async fn adjustments(
    server: &TestServer,
    master: &str,
    (c, vm): (&str, &str),
    (first, open): (&str, &str),
) {
    let admin = server.admin_token().await;
    let closed_before = customer_bill(server, master, c, first).await;
    let open_before = total(&customer_bill(server, master, c, open).await);
    let cash_before = cash(server, master, c).await;
    let billed = total(&closed_before);
    assert!(billed > 1_000, "{closed_before:?}");

    // A credit of 10.00 for the VM: into the customer's cash, on the open
    // cycle's bill as an ADJUSTMENT of the closed one.
    let credit = adjustment(c, first, vm, true, 1_000);
    let fee = ok(server.bills(&admin).adjust_bill(credit.clone()).await)
        .fee_record
        .unwrap_or_default();
    assert_eq!(
        (
            fee.cycle.as_str(),
            fee.adjusts_cycle.as_str(),
            fee.bill_type()
        ),
        (open, first, pb::BillType::Adjustment)
    );
    assert_eq!(minor_of(fee.amount.as_ref()), -1_000);
    assert_eq!(
        (fee.resource_id.as_str(), fee.service_type.as_str()),
        (vm, "compute")
    );
    assert_eq!(fee.charge_mode(), pb::ChargingMode::OnDemand);
    assert_eq!(fee.reason, "metering correction");
    assert!(fee.transaction_id.starts_with("ltx_"), "{fee:?}");
    assert_eq!(cash(server, master, c).await, cash_before + 1_000);
    // A replay answers the same record and moves nothing again.
    let again = ok(server.bills(&admin).adjust_bill(credit).await)
        .fee_record
        .unwrap_or_default();
    assert_eq!(again.id, fee.id);
    assert_eq!(cash(server, master, c).await, cash_before + 1_000);

    // At most what the cycle billed, net of that credit.
    let creditable = billed - 1_000;
    let refused = server
        .bills(&admin)
        .adjust_bill(adjustment(c, first, vm, true, creditable + 1))
        .await;
    assert_refused(refused, Code::FailedPrecondition, "ADJUSTMENT_ABOVE_BILLED");
    // A charge of 2.50 without a resource, on a bill line of its own.
    let mut charge = adjustment(c, first, "", false, 250);
    charge.service_type = "object_storage".into();
    charge.charge_mode = pb::ChargingMode::OnDemand as i32;
    ok(server.bills(&admin).adjust_bill(charge).await);
    assert_eq!(cash(server, master, c).await, cash_before + 1_000 - 250);
    // A charge raises what can be credited back, to the minor unit: what
    // the cycle billed net, but no more than the customer ever paid net
    // (funded 5,000.00, no coupons: what left its cash).
    let paid = 500_000 - cash(server, master, c).await;
    let expected = (creditable + 250).min(paid);
    let refused = assert_refused(
        server
            .bills(&admin)
            .adjust_bill(adjustment(c, first, vm, true, expected + 1))
            .await,
        Code::FailedPrecondition,
        "ADJUSTMENT_ABOVE_BILLED",
    );
    let info = refused
        .get_error_details()
        .error_info()
        .cloned()
        .unwrap_or_else(|| panic!("no ErrorInfo: {refused:?}"));
    assert_eq!(
        info.metadata.get("creditable").map(String::as_str),
        Some(format!("{}.{:02} CNY", expected / 100, expected % 100).as_str())
    );

    // The closed bill is as it was; the open one carries the adjustments.
    assert_eq!(customer_bill(server, master, c, first).await, closed_before);
    let open_bill = customer_bill(server, master, c, open).await;
    let adjusted: i64 = open_bill
        .lines
        .iter()
        .filter(|l| l.bill_type() == pb::BillType::Adjustment)
        .map(|l| minor_of(l.amount.as_ref()))
        .sum();
    assert_eq!(adjusted, -750);
    assert_eq!(total(&open_bill), open_before - 750);
    let fees = fee_records(server, master, c, open).await;
    assert_eq!(
        fees.iter()
            .filter(|f| f.bill_type() == pb::BillType::Adjustment)
            .count(),
        2
    );
    assert_eq!(
        fees.iter()
            .map(|f| minor_of(f.amount.as_ref()))
            .sum::<i64>(),
        total(&open_bill)
    );
    assert_eq!(cash(server, master, c).await, cash_before + 750);
    // The export shows what each adjustment corrects, and why.
    let csv = exported(server, master, c, open).await;
    let col = |name: &str| {
        csv[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (kind, corrects, why) = (col("bill_type"), col("adjusts_cycle"), col("reason"));
    let rows: Vec<_> = csv[1..]
        .iter()
        .filter(|l| l[kind] == "ADJUSTMENT")
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|l| l[corrects] == first && l[why] == "metering correction")
    );
    // Each adjustment's transaction is exactly its fee record.
    let mismatched = "UPDATE fee_records SET cycle = cycle WHERE bill_type = 'ADJUSTMENT' AND \
         NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = fee_records.transaction_id \
         AND t.operation = 'BILL_ADJUSTMENT' AND t.amount = ABS(fee_records.amount_minor))";
    assert_eq!(count(server, mismatched).await, 0);
    server.assert_ledger_clean().await;

    // Refused: a cycle not begun, a partner, another customer's resource,
    // a resource with a service type.
    assert_refused(
        server
            .bills(&admin)
            .adjust_bill(adjustment(c, "2099-01", vm, false, 100))
            .await,
        Code::FailedPrecondition,
        "CYCLE_NOT_STARTED",
    );
    assert_refused(
        server
            .bills(master)
            .adjust_bill(adjustment(c, first, vm, false, 100))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let (other, _) = bought(server, "billadj", 1).await;
    assert_refused(
        server
            .bills(&admin)
            .adjust_bill(adjustment(
                &other.customer.customer_id,
                first,
                vm,
                false,
                100,
            ))
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    let mut both = adjustment(c, first, vm, false, 100);
    both.service_type = "compute".into();
    assert_refused(
        server.bills(&admin).adjust_bill(both).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
}

#[tokio::test]
async fn concurrent_credits_of_one_cycle_never_return_more_than_it_billed() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (f, paid) = bought(&server, "adjrace", 1).await;
    let c = f.customer.customer_id.clone();
    let vm = paid.lines[0].resource_ids[0].clone();
    let cycle = cycle_of(Utc::now());
    let billed = total(&customer_bill(&server, &f.master, &c, &cycle).await);
    let cash_before = cash(&server, &f.master, &c).await;
    // Ten credits of a quarter each: four fit.
    let quarter = billed / 4;
    let attempts = (0..10).map(|_| {
        let mut client = server.bills(&admin);
        let request = adjustment(&c, &cycle, &vm, true, quarter);
        async move { client.adjust_bill(request).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let mut credited = 0;
    for outcome in outcomes {
        match outcome {
            Ok(_) => credited += quarter,
            Err(e) => assert_eq!(reason_of(&e), "ADJUSTMENT_ABOVE_BILLED", "{e:?}"),
        }
    }
    assert_eq!(credited, 4 * quarter);
    assert_eq!(cash(&server, &f.master, &c).await, cash_before + credited);
    server.assert_ledger_clean().await;
}

/// The customer's balance of one account kind, in minor units.
async fn balance_of(server: &TestServer, token: &str, c: &str, kind: pb::AccountKind) -> i64 {
    ok(server
        .funds(token)
        .get_balances(pb::GetBalancesRequest {
            customer_id: c.into(),
            ..Default::default()
        })
        .await)
    .balances
    .iter()
    .find(|b| b.kind() == kind)
    .map(|b| minor_of(b.balance.as_ref()))
    .unwrap_or(0)
}

#[tokio::test]
async fn a_charge_nothing_pays_is_owed_and_a_credit_pays_the_debt_before_the_cash() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    // A customer with no money at all.
    let f = crate::funds::funded(&server, "adjdebt", 0).await;
    let c = f.customer.customer_id.clone();
    let cycle = cycle_of(Utc::now());
    let mut charge = adjustment(&c, &cycle, "", false, 500);
    charge.service_type = "compute".into();
    charge.charge_mode = pb::ChargingMode::OnDemand as i32;
    let fee = ok(server.bills(&admin).adjust_bill(charge.clone()).await)
        .fee_record
        .unwrap_or_default();
    // Filed under the partner that has the customer.
    assert_eq!(fee.partner_id, f.partner.partner_id);
    let arrears = pb::AccountKind::CustomerArrears;
    assert_eq!(balance_of(&server, &f.master, &c, arrears).await, -500);
    // Crediting 3.00 back pays 3.00 of the debt; cash stays empty.
    let mut back = charge.clone();
    back.request_id = new_request_id();
    back.r#type = pb::AdjustmentType::Credit as i32;
    back.amount = Some(cny(300));
    ok(server.bills(&admin).adjust_bill(back.clone()).await);
    assert_eq!(balance_of(&server, &f.master, &c, arrears).await, -200);
    assert_eq!(cash(&server, &f.master, &c).await, 0);
    // What is left of the charge is all that can be credited.
    back.request_id = new_request_id();
    back.amount = Some(cny(201));
    assert_refused(
        server.bills(&admin).adjust_bill(back.clone()).await,
        Code::FailedPrecondition,
        "ADJUSTMENT_ABOVE_BILLED",
    );
    back.request_id = new_request_id();
    back.amount = Some(cny(200));
    ok(server.bills(&admin).adjust_bill(back).await);
    assert_eq!(balance_of(&server, &f.master, &c, arrears).await, 0);
    assert_eq!(cash(&server, &f.master, &c).await, 0);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_purchase_refunded_in_a_later_cycle_is_not_credited_again() {
    let server = sandbox(whole_second_clock()).await;
    let (f, paid) = bought(&server, "adjrefund", 1).await;
    let c = f.customer.customer_id.clone();
    let vm = paid.lines[0].resource_ids[0].clone();
    let bought_in = cycle_of(clock_now(&server).await);
    let billed = total(&customer_bill(&server, &f.master, &c, &bought_in).await);
    assert!(billed > 0);
    // Into the next cycle, the VM's month still running; unsubscribed
    // there, its unused part is refunded on that cycle's bill.
    while cycle_of(clock_now(&server).await) == bought_in {
        advance(&server, Duration::days(1)).await;
    }
    let master = server.login("adjrefund", USER_PASSWORD).await;
    let admin = server.admin_token().await;
    let cash_before = cash(&server, &master, &c).await;
    unsubscribe(&server, &master, &vm).await;
    let refunded = cash(&server, &master, &c).await - cash_before;
    assert!(refunded > 0);
    // The bought cycle still shows the whole purchase, but only what the
    // customer kept paying is credited back.
    assert_eq!(
        total(&customer_bill(&server, &master, &c, &bought_in).await),
        billed
    );
    let refused = assert_refused(
        server
            .bills(&admin)
            .adjust_bill(adjustment(&c, &bought_in, &vm, true, billed))
            .await,
        Code::FailedPrecondition,
        "ADJUSTMENT_ABOVE_BILLED",
    );
    let creditable = billed - refunded;
    let info = refused
        .get_error_details()
        .error_info()
        .cloned()
        .unwrap_or_else(|| panic!("no ErrorInfo: {refused:?}"));
    assert_eq!(
        info.metadata.get("creditable").map(String::as_str),
        Some(format!("{}.{:02} CNY", creditable / 100, creditable % 100).as_str())
    );
    ok(server
        .bills(&admin)
        .adjust_bill(adjustment(&c, &bought_in, &vm, true, creditable))
        .await);
    // Everything it paid came back: what it was funded with.
    assert_eq!(cash(&server, &master, &c).await, cash_before + billed);
    server.assert_ledger_clean().await;
}
