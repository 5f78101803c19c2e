//! Usage reported by the cloud services: rated per record at the list
//! prices worked out by hand (as in the pricing suite), refused per record
//! with its reason, and counted once however a batch is retried.

use chrono::{DateTime, Duration, TimeZone, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::{TestClock, to_proto_timestamp};
use partner_tests::*;
use std::sync::Arc;
use tonic::Code;

use crate::funds::funded;

/// Mid-March 2027: the open cycle (UTC+8) began 2027-02-28T16:00Z.
fn march() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 15, 4, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("a date"))
}

async fn server_in_march() -> TestServer {
    TestServer::start_with_clock(Arc::new(TestClock::new(march()))).await
}

#[allow(clippy::too_many_arguments)]
pub fn record(
    id: &str,
    customer: &str,
    product: (&str, &str, &str),
    size: i64,
    factor: &str,
    value: &str,
    unit: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> pb::UsageRecord {
    pb::UsageRecord {
        record_id: id.into(),
        customer_id: customer.into(),
        resource_id: String::new(),
        service_type: product.0.into(),
        resource_type: product.1.into(),
        spec: product.2.into(),
        region: "cn-north-1".into(),
        zone: String::new(),
        size,
        usage_factor: factor.into(),
        usage_value: value.into(),
        usage_unit: unit.into(),
        start_time: Some(to_proto_timestamp(start)),
        end_time: Some(to_proto_timestamp(end)),
    }
}

pub const VM: (&str, &str, &str) = ("compute", "vm", "c6.large.2");
const SSD: (&str, &str, &str) = ("block_storage", "volume", "ssd");
const BUCKET: (&str, &str, &str) = ("object_storage", "bucket", "standard");

/// Earlier today.
fn today() -> (DateTime<Utc>, DateTime<Utc>) {
    (march() - Duration::hours(3), march() - Duration::hours(1))
}

/// A VM for 3 days: 72 h × 0.316 = 22.752; 100 GB of disk for 720 h:
/// 720 × 0.0014 × 100 = 100.8; 2 TB of bucket: 2,048 GB × 0.000139 =
/// 0.284672.
fn batch(customer: &str) -> Vec<pb::UsageRecord> {
    vec![
        record("vm-1", customer, VM, 0, "duration", "3", "DAY", today()),
        record(
            "disk-1",
            customer,
            SSD,
            100,
            "duration",
            "720",
            "HOUR",
            today(),
        ),
        record("obs-1", customer, BUCKET, 0, "capacity", "2", "TB", today()),
    ]
}

/// `n` records of an hour of a VM.
fn hours_of_a_vm(customer: &str, n: usize) -> Vec<pb::UsageRecord> {
    (0..n)
        .map(|i| {
            record(
                &format!("r{i}"),
                customer,
                VM,
                0,
                "duration",
                "1",
                "HOUR",
                today(),
            )
        })
        .collect()
}

/// Fifty records: the batch, and hours of a VM.
fn fifty(customer: &str) -> Vec<pb::UsageRecord> {
    let mut records = batch(customer);
    records.extend(hours_of_a_vm(customer, 47));
    records
}

pub async fn report(
    server: &TestServer,
    request_id: String,
    records: Vec<pb::UsageRecord>,
) -> Result<pb::ReportUsageResponse, tonic::Status> {
    let admin = server.admin_token().await;
    report_as(server, &admin, request_id, records).await
}

async fn report_as(
    server: &TestServer,
    token: &str,
    request_id: String,
    records: Vec<pb::UsageRecord>,
) -> Result<pb::ReportUsageResponse, tonic::Status> {
    server
        .usage(token)
        .report_usage(pb::ReportUsageRequest {
            request_id,
            records,
        })
        .await
        .map(tonic::Response::into_inner)
}

fn statuses(r: &pb::ReportUsageResponse) -> Vec<(String, pb::UsageRecordStatus, String)> {
    r.results
        .iter()
        .map(|x| (x.record_id.clone(), x.status(), x.reason.clone()))
        .collect()
}

/// How many usage records are stored.
async fn stored(server: &TestServer) -> u64 {
    // An update that changes nothing counts the rows.
    server
        .execute_sql("UPDATE usage_records SET size = size")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn each_record_is_rated_at_the_list_prices_in_force_or_refused_with_its_reason() {
    let server = server_in_march().await;
    let f = funded(&server, "usageco", 0).await;
    let c = f.customer.customer_id.clone();
    let feb_28_utc8 = |h: u32| {
        Utc.with_ymd_and_hms(2027, 2, 28, h, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("a date"))
    };
    let unknown = partner_kernel::ids::CustomerId::generate().to_string();
    let mut records = batch(&c);
    records.extend([
        // Ends 2027-03-01 00:30 in UTC+8: in the open cycle.
        record(
            "vm-edge",
            &c,
            VM,
            0,
            "duration",
            "1",
            "HOUR",
            (feb_28_utc8(15), feb_28_utc8(16) + Duration::minutes(30)),
        ),
        // Ends 2027-02-28 23:00 in UTC+8: last cycle, closed.
        record(
            "vm-late",
            &c,
            VM,
            0,
            "duration",
            "1",
            "HOUR",
            (feb_28_utc8(14), feb_28_utc8(15)),
        ),
        record(
            "ghost",
            &c,
            ("compute", "vm", "nope"),
            0,
            "duration",
            "1",
            "HOUR",
            today(),
        ),
        record("bad-unit", &c, VM, 0, "duration", "1", "PARSEC", today()),
        record("nobody", &unknown, VM, 0, "duration", "1", "HOUR", today()),
        record(
            "backwards",
            &c,
            VM,
            0,
            "duration",
            "1",
            "HOUR",
            (today().1, today().0),
        ),
        record("zero", &c, VM, 0, "duration", "0", "HOUR", today()),
        record("bad id!", &c, VM, 0, "duration", "1", "HOUR", today()),
        record(
            "too-long",
            &c,
            VM,
            0,
            "duration",
            "1",
            "HOUR",
            (today().1 - Duration::days(32), today().1),
        ),
    ]);
    let answer = ok_result(report(&server, new_request_id(), records).await);
    let amounts: Vec<(String, String, String)> = answer
        .results
        .iter()
        .filter(|r| r.status() == pb::UsageRecordStatus::Accepted)
        .map(|r| {
            (
                r.record_id.clone(),
                r.list_amount.clone(),
                r.currency.clone(),
            )
        })
        .collect();
    let cny = |id: &str, amount: &str| (id.to_owned(), amount.to_owned(), "CNY".to_owned());
    assert_eq!(
        amounts,
        vec![
            cny("vm-1", "22.752"),
            cny("disk-1", "100.8"),
            cny("obs-1", "0.284672"),
            cny("vm-edge", "0.316"),
        ]
    );
    let refused: Vec<(String, String, String)> = answer
        .results
        .iter()
        .filter(|r| r.status() == pb::UsageRecordStatus::Rejected)
        .map(|r| (r.record_id.clone(), r.reason.clone(), r.field.clone()))
        .collect();
    let no =
        |id: &str, reason: &str, field: &str| (id.to_owned(), reason.to_owned(), field.to_owned());
    assert_eq!(
        refused,
        vec![
            no("vm-late", "CYCLE_CLOSED", ""),
            no("ghost", "PRODUCT_NOT_FOUND", ""),
            no("bad-unit", "FIELD_VIOLATION", "usage_unit"),
            no("nobody", "CUSTOMER_NOT_FOUND", ""),
            no("backwards", "FIELD_VIOLATION", "end_time"),
            no("zero", "FIELD_VIOLATION", "usage_value"),
            no("bad id!", "FIELD_VIOLATION", "record_id"),
            no("too-long", "FIELD_VIOLATION", "start_time"),
        ]
    );
    assert_eq!(
        (answer.accepted, answer.duplicates, answer.rejected),
        (4, 0, 8)
    );
    assert_eq!(stored(&server).await, 4);
}

fn ok_result<T>(r: Result<T, tonic::Status>) -> T {
    r.unwrap_or_else(|s| panic!("call failed: {s:?}"))
}

#[tokio::test]
async fn a_retried_batch_counts_nothing_twice_and_a_reused_id_is_refused() {
    let server = server_in_march().await;
    let f = funded(&server, "retryusage", 0).await;
    let c = f.customer.customer_id.clone();
    let first_id = new_request_id();
    let first = ok_result(report(&server, first_id.clone(), batch(&c)).await);
    assert_eq!(first.accepted, 3);
    // The same call again: the same answer.
    let replay = ok_result(report(&server, first_id, batch(&c)).await);
    assert_eq!(replay, first);
    // The same records in a new call, one changed, one new.
    let mut again = batch(&c);
    again[1].usage_value = "721".into();
    again.push(record("vm-2", &c, VM, 0, "duration", "1", "HOUR", today()));
    let second = ok_result(report(&server, new_request_id(), again).await);
    use pb::UsageRecordStatus::{Accepted, Duplicate, Rejected};
    assert_eq!(
        statuses(&second),
        vec![
            ("vm-1".into(), Duplicate, String::new()),
            ("disk-1".into(), Rejected, "RECORD_ID_REUSED".into()),
            ("obs-1".into(), Duplicate, String::new()),
            ("vm-2".into(), Accepted, String::new()),
        ]
    );
    // A duplicate answers what the record was rated at.
    assert_eq!(second.results[0].list_amount, "22.752");
    // The same value written otherwise is the same content.
    let mut same = batch(&c);
    same[0].usage_value = "3.000".into();
    let third = ok_result(report(&server, new_request_id(), same).await);
    assert_eq!(third.duplicates, 3, "{third:?}");
    assert_eq!(stored(&server).await, 4);
}

#[tokio::test]
async fn late_usage_is_taken_for_3_hours_after_its_cycle_and_a_stored_record_stays_a_duplicate() {
    // 2027-03-31 23:58 in UTC+8.
    let end_of_march = Utc
        .with_ymd_and_hms(2027, 3, 31, 15, 58, 0)
        .single()
        .unwrap_or_else(|| panic!("a date"));
    let clock = Arc::new(TestClock::new(end_of_march));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = funded(&server, "lateusage", 0).await;
    let c = f.customer.customer_id.clone();
    let minute = (end_of_march - Duration::minutes(1), end_of_march);
    let vm = || {
        vec![record(
            "vm-late-retry",
            &c,
            VM,
            0,
            "duration",
            "1",
            "MINUTE",
            minute,
        )]
    };
    let first = ok_result(report(&server, new_request_id(), vm()).await);
    assert_eq!(first.accepted, 1, "{first:?}");
    // Its answer was lost; the retry comes after midnight, in April.
    clock.advance(Duration::minutes(3));
    let retry = ok_result(report(&server, new_request_id(), vm()).await);
    assert_eq!(
        statuses(&retry),
        vec![(
            "vm-late-retry".into(),
            pb::UsageRecordStatus::Duplicate,
            String::new()
        )]
    );
    // New usage of March is still taken within the late-usage grace (3 h
    // after the cycle ended) …
    let late = |id: &str| {
        let mut r = vm();
        r[0].record_id = id.into();
        r
    };
    let taken = ok_result(report(&server, new_request_id(), late("vm-late-new")).await);
    assert_eq!(taken.accepted, 1, "{taken:?}");
    // … and refused after it; a stored record is still a duplicate.
    clock.advance(Duration::hours(3));
    let refused = ok_result(report(&server, new_request_id(), late("vm-later")).await);
    assert_eq!(refused.results[0].reason, "CYCLE_CLOSED");
    let again = ok_result(report(&server, new_request_id(), vm()).await);
    assert_eq!(again.duplicates, 1, "{again:?}");
}

#[tokio::test]
async fn concurrent_retries_of_one_batch_store_each_record_once() {
    let server = server_in_march().await;
    let f = funded(&server, "raceusage", 0).await;
    let c = f.customer.customer_id.clone();
    let admin = server.admin_token().await;
    // Half of them send the records in the other order: inserted in id
    // order, two batches never wait on each other in a cycle.
    let calls = (0..10).map(|n| {
        let mut records = fifty(&c);
        if n % 2 == 1 {
            records.reverse();
        }
        report_as(&server, &admin, new_request_id(), records)
    });
    let answers = futures::future::join_all(calls).await;
    let mut accepted = 0;
    for a in answers {
        let a = ok_result(a);
        assert_eq!(a.rejected, 0, "{a:?}");
        assert_eq!(a.accepted + a.duplicates, 50);
        accepted += a.accepted;
    }
    assert_eq!(accepted, 50);
    assert_eq!(stored(&server).await, 50);
}

#[tokio::test]
async fn a_batch_is_one_to_a_thousand_distinct_records_reported_by_the_platform() {
    let server = server_in_march().await;
    let f = funded(&server, "batchusage", 0).await;
    let c = f.customer.customer_id.clone();
    let code = |r: Result<pb::ReportUsageResponse, tonic::Status>| r.err().map(|s| s.code());
    assert_eq!(
        code(report(&server, new_request_id(), Vec::new()).await),
        Some(Code::InvalidArgument)
    );
    let many: Vec<pb::UsageRecord> = hours_of_a_vm(&c, 1001);
    assert_eq!(
        code(report(&server, new_request_id(), many).await),
        Some(Code::InvalidArgument)
    );
    let mut twice = batch(&c);
    twice.push(twice[0].clone());
    assert_eq!(
        code(report(&server, new_request_id(), twice).await),
        Some(Code::InvalidArgument)
    );
    // A thousand is a batch.
    let thousand: Vec<pb::UsageRecord> = hours_of_a_vm(&c, 1000);
    assert_eq!(
        ok_result(report(&server, new_request_id(), thousand).await).accepted,
        1000
    );
    // Partners do not report usage.
    let denied = report_as(&server, &f.master, new_request_id(), batch(&c)).await;
    assert_eq!(code(denied), Some(Code::PermissionDenied));
}

#[tokio::test]
async fn usage_reported_after_its_discount_ended_still_gets_the_discount_in_force_when_it_started()
{
    let clock = Arc::new(TestClock::new(march() - Duration::hours(4)));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = funded(&server, "endedco", 0).await;
    let c = f.customer.customer_id.clone();
    let admin = server.admin_token().await;
    // 20 % off for the customer, until 2 hours before "now" (march()).
    let contract = ok(server
        .discounts(&admin)
        .create_discount(partner_api::pricing::v1::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: partner_api::pricing::v1::DiscountKind::VendorContract as i32,
            name: "ending contract".into(),
            customer_id: c.clone(),
            terms: Some(
                partner_api::pricing::v1::create_discount_request::Terms::RateOff("0.2".into()),
            ),
            valid_from: Some(to_proto_timestamp(march() - Duration::days(10))),
            valid_until: Some(to_proto_timestamp(march() - Duration::hours(2))),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap_or_default();
    // Reported at march(), after the contract ended: two hours of a VM
    // that began while it was in force, and one that began after.
    clock.set(march());
    let answer = began_before_and_after(&server, &c).await;
    let during = &answer.results[0];
    assert_eq!(during.discount_id, contract.id, "{during:?}");
    // 2 h at 0.316/h = 0.632, 20 % off.
    assert_eq!(
        (during.list_amount.as_str(), during.discount_amount.as_str()),
        ("0.632", "0.1264"),
        "{during:?}"
    );
    let after = &answer.results[1];
    assert_eq!(after.discount_id, "", "{after:?}");
}

#[tokio::test]
async fn a_batch_of_many_customers_rates_each_with_its_own_discounts() {
    use partner_api::accounts::v1 as ac;
    use partner_api::pricing::v1 as pr;
    let server = server_in_march().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "batchdist", ac::Program::Distributor)
        .await;
    let (reseller, r_master) = server.linked_reseller(&admin, &d_master, "batchres").await;
    let direct = server
        .create_customer(&d_master, &distributor, "batch-direct")
        .await;
    let contracted = server
        .create_customer(&r_master, &reseller, "batch-contract")
        .await;
    let rated = server
        .create_customer(&r_master, &reseller, "batch-rated")
        .await;
    let plain = server
        .create_customer(&r_master, &reseller, "batch-plain")
        .await;
    let create = |kind: pr::DiscountKind, customer: &str, partner: &str, rate: &str| {
        pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: kind as i32,
            name: format!("{kind:?}"),
            customer_id: customer.into(),
            partner_id: partner.into(),
            terms: Some(pr::create_discount_request::Terms::RateOff(rate.into())),
            valid_from: Some(to_proto_timestamp(march() - Duration::days(1))),
            ..Default::default()
        }
    };
    // A vendor contract for one customer (30 %); a distributor contract
    // (10 %) for every customer of the distributor and its reseller; the
    // reseller's own rate for one of its customers (25 %, within its 40 %
    // policy).
    let vendor = ok(server
        .discounts(&admin)
        .create_discount(create(
            pr::DiscountKind::VendorContract,
            &contracted.customer_id,
            "",
            "0.3",
        ))
        .await)
    .discount
    .unwrap_or_default();
    let distributor_contract = ok(server
        .discounts(&admin)
        .create_discount(create(
            pr::DiscountKind::DistributorContract,
            "",
            &distributor.partner_id,
            "0.1",
        ))
        .await)
    .discount
    .unwrap_or_default();
    ok(server
        .discounts(&admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: reseller.partner_id.clone(),
            max_rate_off: "0.4".into(),
            valid_from: Some(to_proto_timestamp(march() - Duration::days(2))),
            ..Default::default()
        })
        .await);
    let own = ok(server
        .discounts(&r_master)
        .set_customer_discount(pr::SetCustomerDiscountRequest {
            request_id: new_request_id(),
            customer_id: rated.customer_id.clone(),
            rate_off: "0.25".into(),
            valid_from: Some(to_proto_timestamp(march() - Duration::days(1))),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap_or_default();
    // One batch, the customers interleaved.
    let customers = [&direct, &contracted, &rated, &plain];
    let records: Vec<pb::UsageRecord> = (0..8)
        .map(|i| {
            let c = customers[i % 4];
            record(
                &format!("mixed-{i}"),
                &c.customer_id,
                VM,
                0,
                "duration",
                "1",
                "HOUR",
                today(),
            )
        })
        .collect();
    let answer = report(&server, new_request_id(), records)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(answer.accepted, 8, "{answer:?}");
    // 0.316 an hour, the best discount of each customer taken off.
    let expected = [
        (distributor_contract.id.as_str(), "0.0316"),
        (vendor.id.as_str(), "0.0948"),
        (own.id.as_str(), "0.079"),
        (distributor_contract.id.as_str(), "0.0316"),
    ];
    for (i, r) in answer.results.iter().enumerate() {
        let (id, off) = expected[i % 4];
        assert_eq!(
            (r.discount_id.as_str(), r.discount_amount.as_str()),
            (id, off),
            "record {i}: {r:?}"
        );
    }
}

#[tokio::test]
async fn usage_reported_after_its_partner_rate_changed_gets_the_rate_set_when_it_started() {
    use partner_api::pricing::v1 as pr;
    let clock = Arc::new(TestClock::new(march() - Duration::days(1)));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = funded(&server, "ratechangeco", 0).await;
    let c = f.customer.customer_id.clone();
    let admin = server.admin_token().await;
    ok(server
        .discounts(&admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: f.partner.partner_id.clone(),
            max_rate_off: "0.4".into(),
            valid_from: Some(to_proto_timestamp(march() - Duration::days(2))),
            ..Default::default()
        })
        .await);
    let set = |rate: &str| pr::SetCustomerDiscountRequest {
        request_id: new_request_id(),
        customer_id: c.clone(),
        rate_off: rate.into(),
        ..Default::default()
    };
    // 25 % from a day before; changed to 5 % two hours before "now", after
    // the usage began (three hours before).
    let first = ok(server
        .discounts(&f.master)
        .set_customer_discount(set("0.25"))
        .await)
    .discount
    .unwrap_or_default();
    clock.set(march() - Duration::hours(2));
    let master = server.login("ratechangeco", USER_PASSWORD).await;
    let second = ok(server
        .discounts(&master)
        .set_customer_discount(set("0.05"))
        .await)
    .discount
    .unwrap_or_default();
    assert_eq!((first.id.as_str(), second.version), (second.id.as_str(), 2));
    clock.set(march());
    let answer = began_before_and_after(&server, &c).await;
    // 2 h at 0.316/h = 0.632 at the 25 % in force when it began; an hour
    // begun after the change at 5 %.
    let before = &answer.results[0];
    assert_eq!(
        (before.discount_id.as_str(), before.discount_amount.as_str()),
        (first.id.as_str(), "0.158"),
        "{before:?}"
    );
    let after = &answer.results[1];
    assert_eq!(after.discount_amount, "0.0158", "{after:?}");
}

/// Reports, at march(), two hours of a VM that began three hours before
/// and an hour that began ninety minutes before: the answer, in that order.
async fn began_before_and_after(server: &TestServer, c: &str) -> pb::ReportUsageResponse {
    let late = (
        march() - Duration::minutes(90),
        march() - Duration::minutes(30),
    );
    report(
        server,
        new_request_id(),
        vec![
            record("before", c, VM, 0, "duration", "2", "HOUR", today()),
            record("after", c, VM, 0, "duration", "1", "HOUR", late),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"))
}
