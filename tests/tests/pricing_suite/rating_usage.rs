//! On-demand and renewal rating through the real server, against amounts
//! worked out by hand here: unit conversions, sizes, quantities, regions,
//! rounding at the 9th decimal, the discount taking most off applied per
//! line; renewals by the vendor's month and year limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::pricing::v1 as pr;
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

#[allow(clippy::too_many_arguments)]
fn usage(
    id: &str,
    product: (&str, &str, &str),
    region: &str,
    size: i64,
    factor: &str,
    value: &str,
    unit: &str,
    quantity: i32,
) -> pr::OnDemandProductLine {
    pr::OnDemandProductLine {
        line_id: id.into(),
        service_type: product.0.into(),
        resource_type: product.1.into(),
        spec: product.2.into(),
        region: region.into(),
        zone: String::new(),
        size,
        usage_factor: factor.into(),
        usage_value: value.into(),
        usage_unit: unit.into(),
        quantity,
    }
}

const VM: (&str, &str, &str) = ("compute", "vm", "c6.large.2");
const SSD: (&str, &str, &str) = ("block_storage", "volume", "ssd");
const BUCKET: (&str, &str, &str) = ("object_storage", "bucket", "standard");

/// VM: 3 days = 72 h × 0.316 × 2 = 45.504; disk: 720 h × 0.0014 × 100 GB =
/// 100.8; bucket: 2 TB = 2,048 GB × 0.000139 = 0.284672; requests in
/// Shanghai: 0.00000005 × 10K × 0.0105 = 0.000000000525 → 0.000000001.
fn uses() -> Vec<pr::OnDemandProductLine> {
    vec![
        usage("vm", VM, "cn-north-1", 0, "duration", "3", "DAY", 2),
        usage("disk", SSD, "cn-north-1", 100, "duration", "720", "HOUR", 1),
        usage("obs", BUCKET, "cn-north-1", 0, "capacity", "2", "TB", 1),
        usage(
            "req",
            BUCKET,
            "cn-east-2",
            0,
            "requests",
            "0.00000005",
            "10K",
            1,
        ),
    ]
}

async fn rate_usage(
    server: &TestServer,
    token: &str,
    lines: Vec<pr::OnDemandProductLine>,
    customer: &str,
) -> Result<pr::RateOnDemandProductsResponse, tonic::Status> {
    server
        .rating(token)
        .rate_on_demand_products(pr::RateOnDemandProductsRequest {
            lines,
            customer_id: customer.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A partner, its customer, and discounts: a vendor contract of 10 % on
/// everything, the partner's 15 % on compute, and a promotion taking 50.00
/// off every line (reductions are for period purchases only).
async fn discounted(server: &TestServer) -> (String, String) {
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "metered").await;
    let customer = server
        .create_customer(&master, &partner, "user-1")
        .await
        .customer_id;
    let mut operator = server.discounts(&admin);
    ok(operator
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: partner.partner_id.clone(),
            max_rate_off: "0.2".into(),
            ..Default::default()
        })
        .await);
    for (kind, customer_id, terms) in [
        (
            pr::DiscountKind::VendorContract,
            customer.clone(),
            pr::create_discount_request::Terms::RateOff("0.1".into()),
        ),
        (
            pr::DiscountKind::Promotion,
            String::new(),
            pr::create_discount_request::Terms::Reduction(Money {
                currency_code: "CNY".into(),
                units: 50,
                nanos: 0,
            }),
        ),
    ] {
        ok(operator
            .create_discount(pr::CreateDiscountRequest {
                request_id: new_request_id(),
                kind: kind as i32,
                name: format!("{kind:?}"),
                customer_id,
                terms: Some(terms),
                ..Default::default()
            })
            .await);
    }
    ok(server
        .discounts(&master)
        .set_customer_discount(pr::SetCustomerDiscountRequest {
            request_id: new_request_id(),
            customer_id: customer.clone(),
            scope: Some(pr::ProductScope {
                service_type: "compute".into(),
                resource_type: String::new(),
            }),
            rate_off: "0.15".into(),
            ..Default::default()
        })
        .await);
    (master, customer)
}

#[tokio::test]
async fn on_demand_use_is_priced_to_nine_decimals_with_the_best_rate_applied_per_line() {
    let server = TestServer::start().await;
    let (master, customer) = discounted(&server).await;

    // At list prices, without a customer (the promotion is a reduction: not offered).
    let listed = rate_usage(&server, &master, uses(), "").await.unwrap();
    let amounts: Vec<_> = listed
        .lines
        .iter()
        .map(|l| {
            (
                l.line_id.as_str(),
                l.list_amount.clone(),
                l.price_unit.as_str(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("vm", cny(45, 504_000_000), "HOUR"),
            ("disk", cny(100, 800_000_000), "HOUR"),
            ("obs", cny(0, 284_672_000), "GB"),
            ("req", cny(0, 1), "10K"),
        ]
    );
    assert_eq!(listed.lines[2].unit_price, cny(0, 139_000));
    assert_eq!(listed.list_total, cny(146, 588_672_001));
    assert_eq!(listed.total, listed.list_total);
    assert!(listed.lines.iter().all(|l| l.discount_results.is_empty()));

    // For the customer: the discount taking most off each line applies.
    let r = rate_usage(&server, &master, uses(), &customer)
        .await
        .unwrap();
    let vm = &r.lines[0];
    // 15 % of 45.504 is 6.8256 (the partner's), 10 % is 4.5504.
    assert_eq!(vm.discount_amount, cny(6, 825_600_000));
    assert_eq!(vm.amount, cny(38, 678_400_000));
    let kinds: Vec<_> = vm.discount_results.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![
            pr::DiscountKind::PartnerSet as i32,
            pr::DiscountKind::VendorContract as i32
        ]
    );
    assert_eq!(vm.discount_results[1].discount_amount, cny(4, 550_400_000));
    // Only the contract covers the rest: 10.08, 0.0284672, and 10 % of
    // 0.000000001 rounds to nothing.
    assert_eq!(r.lines[1].discount_amount, cny(10, 80_000_000));
    assert_eq!(r.lines[2].discount_amount, cny(0, 28_467_200));
    assert_eq!(r.lines[3].discount_amount, cny(0, 0));
    assert_eq!(r.lines[3].amount, cny(0, 1));
    assert_eq!(r.discount_total, cny(16, 934_067_200));
    assert_eq!(r.total, cny(129, 654_604_801));
}

#[tokio::test]
async fn on_demand_refusals_name_the_line_and_the_field() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "refused").await;

    // A factor the bucket is not priced by.
    let refused = assert_refused(
        rate_usage(
            &server,
            &master,
            vec![usage(
                "x",
                BUCKET,
                "cn-north-1",
                0,
                "duration",
                "1",
                "HOUR",
                1,
            )],
            "",
        )
        .await,
        Code::NotFound,
        "PRODUCT_NOT_FOUND",
    );
    assert_eq!(metadata_of(&refused, "line_id").as_deref(), Some("x"));
    assert_eq!(
        metadata_of(&refused, "missing").as_deref(),
        Some("on-demand price for that region and usage factor")
    );
    // A unit of another factor, a size on a product without one.
    let bad = rate_usage(
        &server,
        &master,
        vec![
            usage("a", BUCKET, "cn-north-1", 0, "capacity", "1", "HOUR", 1),
            usage("b", VM, "cn-north-1", 5, "duration", "1", "HOUR", 1),
        ],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        vec!["lines[0].usage_unit", "lines[1].size"]
    );
    for value in ["0", "-1", "1e3", "0.0000000001", "", "1000000000001", "1,5"] {
        let bad = rate_usage(
            &server,
            &master,
            vec![usage(
                "v",
                VM,
                "cn-north-1",
                0,
                "duration",
                value,
                "HOUR",
                1,
            )],
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(
            violated_fields(&bad),
            vec!["lines[0].usage_value"],
            "{value}"
        );
    }
}

fn renewal(unit: pr::PeriodUnit, count: i32) -> pr::RenewalLine {
    pr::RenewalLine {
        line_id: "res-1".into(),
        service_type: VM.0.into(),
        resource_type: VM.1.into(),
        spec: VM.2.into(),
        region: "cn-north-1".into(),
        size: 0,
        period_unit: unit as i32,
        period_count: count,
        quantity: 1,
    }
}

#[tokio::test]
async fn renewals_are_rated_by_the_vendors_month_and_year_limits() {
    let server = TestServer::start().await;
    let (master, customer) = discounted(&server).await;
    let renew = |line: pr::RenewalLine, customer: &str| {
        let mut rating = server.rating(&master);
        let customer = customer.to_owned();
        async move {
            rating
                .rate_renewal(pr::RateRenewalRequest {
                    lines: vec![line],
                    customer_id: customer,
                    auto_pay: false,
                })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    // Ten months: a renewal may, a purchase may not (the product sells 1 to 9).
    let r = renew(renewal(pr::PeriodUnit::Month, 10), &customer)
        .await
        .unwrap();
    assert_eq!(r.list_total, cny(1520, 0));
    let best = &r.discount_results[0];
    assert!(best.best_offer);
    // The partner's 15 % on compute beats the contract's 10 %; the
    // promotion's 50.00 is offered too.
    assert_eq!(best.kind, pr::DiscountKind::PartnerSet as i32);
    assert_eq!(best.final_total, cny(1292, 0));
    assert_eq!(r.discount_results.len(), 3);
    let bought = server
        .rating(&master)
        .rate_period_products(pr::RatePeriodProductsRequest {
            lines: vec![pr::PeriodProductLine {
                line_id: "new".into(),
                service_type: VM.0.into(),
                resource_type: VM.1.into(),
                spec: VM.2.into(),
                region: "cn-north-1".into(),
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 10,
                quantity: 1,
                main_line_id: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bought), vec!["lines[0].period_count"]);
    for (unit, count, field) in [
        (pr::PeriodUnit::Month, 12, "lines[0].period_count"),
        (pr::PeriodUnit::Year, 4, "lines[0].period_count"),
        (pr::PeriodUnit::Hour, 1, "lines[0].period_unit"),
        (pr::PeriodUnit::Month, 0, "lines[0].period_count"),
    ] {
        let bad = renew(renewal(unit, count), "").await.unwrap_err();
        assert_eq!(violated_fields(&bad), vec![field], "{unit:?} {count}");
    }
    let r = renew(renewal(pr::PeriodUnit::Year, 3), "").await.unwrap();
    assert_eq!(r.list_total, cny(4560, 0));
}
